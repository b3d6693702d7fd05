#include "http/handler_support.hpp"
#include "http/shop_routes.hpp"

namespace joopang::http {
using boost::asio::awaitable;

void RegisterUserRoutes(Router& router, ShopService& shop) {
    router.Add("POST", "/api/v1/users",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   NewUser in;
                   JP_TRY(email, f.Text("email"));
                   JP_TRY(password, f.FreeText("password"));
                   JP_TRY(first, f.OptText("firstName"));
                   JP_TRY(last, f.OptText("lastName"));
                   JP_TRY(balance, f.OptMoney("balance"));
                   in.email = std::move(email);
                   in.password = std::move(password);
                   in.first_name = first.value_or("");
                   in.last_name = last.value_or("");
                   in.balance = balance.value_or(Money());
                   auto r = co_await ctx.Db([&] { return shop.CreateUser(in); });
                   co_return Reply(ctx, r, 201);
               },
               {.idempotent = true, .summary = "Create a user with a wallet"});

    router.Add("GET", "/api/v1/users/{id}",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathUser(0));
                   auto r = co_await ctx.Db([&] { return shop.GetUser(id); });
                   co_return Reply(ctx, r);
               },
               {.access = Access::kUser, .summary = "Read a user (the user itself)"});

    router.Add("POST", "/api/v1/users/{id}/balance/charge",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathUser(0));
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JP_TRY(amount, JsonFields(body).MoneyField("amount"));
                   auto r = co_await ctx.Db([&] { return shop.ChargeBalance(id, amount); });
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   co_return JsonResponse(200, {{"userId", id}, {"balance", r->ToString()}});
               },
               {.access = Access::kUser,
                .idempotent = true,
                .summary = "Add money to a user's wallet (the user itself)"});
}

}  // namespace joopang::http
