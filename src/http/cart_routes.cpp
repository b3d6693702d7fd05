#include "http/cart_routes.hpp"

#include "http/handler_support.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

json::value CartJson(const Cart& cart) {
    json::array items;
    for (const auto& l : cart.lines) {
        items.push_back({{"productItemId", l.product_item_id},
                         {"productId", l.product_id},
                         {"productName", l.product_name},
                         {"itemName", l.item_name},
                         {"unitPrice", l.unit_price.ToString()},
                         {"quantity", l.quantity},
                         {"subtotal", l.subtotal.ToString()},
                         {"available", l.available},
                         {"availableStock", l.available_stock}});
    }
    return {{"userId", cart.user_id},
            {"items", std::move(items)},
            {"totalQuantity", cart.total_quantity},
            {"totalAmount", cart.total_amount.ToString()},
            {"allAvailable", cart.all_available}};
}

HttpResponse CartReply(RequestContext& ctx, const Result<Cart>& r) {
    if (!r) return ErrorResponse(r.error(), ctx.path());
    return JsonResponse(200, CartJson(*r));
}

}  // namespace

void RegisterCartRoutes(Router& router, CartService& carts) {
    router.Add(
        "GET", "/api/v1/users/{id}/cart",
        [&carts](RequestContext& ctx) -> awaitable<HttpResponse> {
            JP_TRY(user, ctx.PathUser(0));
            auto r = co_await ctx.Db([&] { return carts.Read(user); });
            co_return CartReply(ctx, r);
        },
        {.access = Access::kUser, .summary = "Read a cart, with prices and stock as they are now"});

    router.Add("PUT", "/api/v1/users/{id}/cart/items",
               [&carts](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(user, ctx.PathUser(0));
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   JP_TRY(named, f.OptId("userId"));
                   if (named && *named != user)
                       co_return ErrorResponse(
                           Error{ErrorCode::kForbidden, "userId is not the cart's owner"},
                           ctx.path());
                   JP_TRY(item, f.Id("productItemId"));
                   JP_TRY(quantity, f.Int("quantity", 0, kMaxCartLineQuantity));
                   auto r = co_await ctx.Db([&] { return carts.SetLine(user, item, quantity); });
                   co_return CartReply(ctx, r);
               },
               {.access = Access::kUser, .summary = "Set a cart line's quantity (0 removes it)"});

    router.Add("DELETE", "/api/v1/users/{id}/cart/items/{itemId}",
               [&carts](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(user, ctx.PathUser(0));
                   JP_TRY(item, ctx.PathId(1, "productItemId"));
                   auto r = co_await ctx.Db([&] { return carts.RemoveLine(user, item); });
                   co_return CartReply(ctx, r);
               },
               {.access = Access::kUser, .summary = "Remove a cart line"});

    router.Add("POST", "/api/v1/users/{id}/cart/checkout",
               [&carts](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(user, ctx.PathUser(0));
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   JP_TRY(named, f.OptId("userId"));
                   if (named && *named != user)
                       co_return ErrorResponse(
                           Error{ErrorCode::kForbidden, "userId is not the cart's owner"},
                           ctx.path());
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
