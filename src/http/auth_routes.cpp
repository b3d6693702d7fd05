#include "http/auth_routes.hpp"

#include "http/handler_support.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

HttpResponse TokenResponse(int status, const SignedToken& t) {
    HttpResponse r = JsonResponse(status, {{"accessToken", t.token},
                                           {"tokenType", "Bearer"},
                                           {"expiresAt", FormatRfc3339(t.claims.expires_at)},
                                           {"userId", t.claims.user_id}});
    // A token is a credential: no cache may keep it.
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

}  // namespace

void RegisterAuthRoutes(Router& router, AuthService& auth) {
    router.Add(
        "POST", "/api/v1/auth/login",
        [&auth](RequestContext& ctx) -> awaitable<HttpResponse> {
            JP_TRY(body, ParseJsonObject(ctx.request().body));
            JsonFields f(body);
            JP_TRY(email, f.Text("email"));
            JP_TRY(password, f.FreeText("password"));
            if (email.empty() || email.size() > 254)
                co_return ErrorResponse(
                    Error::Validation("email", "email must be 1..254 characters"), ctx.path());
            if (password.size() > 200)
                co_return ErrorResponse(
                    Error::Validation("password", "password is longer than 200"), ctx.path());
            auto r = co_await auth.Login(std::move(email), std::move(password));
            if (!r) co_return ErrorResponse(r.error(), ctx.path());
            co_return TokenResponse(200, *r);
        },
        {.summary = "Sign in: an access token for an email and password"});

    router.Add(
        "POST", "/api/v1/auth/logout",
        [&auth](RequestContext& ctx) -> awaitable<HttpResponse> {
            const Caller& caller = ctx.caller();
            if (caller.token_id.empty())
                co_return ErrorResponse(
                    Error::Validation("Authorization", "only an access token can be logged out"),
                    ctx.path());
            AccessClaims claims;
            claims.user_id = caller.user_id;
            claims.token_id = caller.token_id;
            claims.expires_at = caller.token_expires_at;
            auto st = co_await auth.Logout(claims);
            if (!st) co_return ErrorResponse(st.error(), ctx.path());
            HttpResponse r;
            r.status = 204;
            co_return r;
        },
        {.access = Access::kUser,
         .summary = "Sign out: the access token is refused on every instance"});

    router.Add("POST", "/api/v1/admin/users/{id}/tokens",
               [&auth](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathId(0, "id"));
                   auto r = co_await auth.Mint(id);
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   co_return TokenResponse(201, *r);
               },
               {.access = Access::kAdmin, .summary = "Mint an access token for a user (admin)"});
}

}  // namespace joopang::http
