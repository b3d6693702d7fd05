#include "http/cart_routes.hpp"

#include "http/handler_support.hpp"

namespace joopang::http {
using boost::asio::awaitable;

namespace {

/// The cart's owner: the path's {id} (the caller itself, or anyone for the admin token); a
/// "userId" in the body, if given, must name the same user.
Result<std::int64_t> CartOwner(RequestContext& ctx, const JsonFields& body) {
    auto user = ctx.PathUser(0);
    if (!user) return user;
    auto named = body.OptId("userId");
    if (!named) return named.error();
    if (*named && **named != *user)
        return Error{ErrorCode::kForbidden, "userId is not the cart's owner", "userId"};
    return user;
}

}  // namespace

void RegisterCartRoutes(Router& router, CartService& carts) {
    router.Add(
        "GET", "/api/v1/users/{id}/cart",
        [&carts](RequestContext& ctx) -> awaitable<HttpResponse> {
            JP_TRY(user, ctx.PathUser(0));
            auto r = co_await ctx.Db([&] { return carts.Read(user); });
            co_return Reply(ctx, r);
        },
        {.access = Access::kUser, .summary = "Read a cart, with prices and stock as they are now"});

    router.Add("PUT", "/api/v1/users/{id}/cart/items",
               [&carts](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   JP_TRY(user, CartOwner(ctx, f));
                   JP_TRY(item, f.Id("productItemId"));
                   JP_TRY(quantity, f.Int("quantity", 0, kMaxCartLineQuantity));
                   auto r = co_await ctx.Db([&] { return carts.SetLine(user, item, quantity); });
                   co_return Reply(ctx, r);
               },
               {.access = Access::kUser, .summary = "Set a cart line's quantity (0 removes it)"});

    router.Add("DELETE", "/api/v1/users/{id}/cart/items/{itemId}",
               [&carts](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(user, ctx.PathUser(0));
                   JP_TRY(item, ctx.PathId(1, "productItemId"));
                   auto r = co_await ctx.Db([&] { return carts.RemoveLine(user, item); });
                   co_return Reply(ctx, r);
               },
               {.access = Access::kUser, .summary = "Remove a cart line"});

    router.Add("POST", "/api/v1/users/{id}/cart/checkout",
               [&carts](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   JP_TRY(user, CartOwner(ctx, f));
                   JP_TRY(recipient, f.Text("recipientName"));
                   JP_TRY(coupon, f.OptId("couponId"));
                   JP_TRY(memo, f.OptFreeText("memo"));
                   CheckoutRequest req{user, std::move(recipient), coupon, memo.value_or("")};
                   auto r = co_await ctx.Db([&] { return carts.Checkout(req); });
                   co_return Reply(ctx, r, 201);
               },
               {.access = Access::kUser,
                .idempotent = true,
                .summary = "Order every cart line as one order (all or nothing)"});
}

}  // namespace joopang::http
