#include "http/handler_support.hpp"
#include "http/shop_routes.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

void RegisterOrderRoutes(Router& router, ShopService& shop) {
    router.Add("POST", "/api/v1/orders",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   PlaceOrderRequest req;
                   JP_TRY(named, f.OptId("userId"));
                   JP_TRY(user, ctx.ActingUser(named));
                   JP_TRY(recipient, f.Text("recipientName"));
                   JP_TRY(coupon, f.OptId("couponId"));
                   JP_TRY(memo, f.OptFreeText("memo"));
                   JP_TRY(items, f.Array("items"));
                   req.user_id = user;
                   req.recipient_name = std::move(recipient);
                   req.coupon_id = coupon;
                   req.memo = memo.value_or("");
                   for (std::size_t i = 0; i < items->size(); ++i) {
                       std::string prefix = "items[" + std::to_string(i) + "]";
                       const auto& v = (*items)[i];
                       if (!v.is_object())
                           co_return ErrorResponse(
                               Error::Validation(prefix, prefix + " must be an object"),
                               ctx.path());
                       JsonFields line(v.get_object(), prefix + ".");
                       JP_TRY(item, line.Id("productItemId"));
                       JP_TRY(quantity, line.Int("quantity", 1, kMaxQuantity));
                       req.items.push_back({item, quantity});
                   }
                   auto r = co_await ctx.Db([&] { return shop.PlaceOrder(req); });
                   co_return Reply(ctx, r, 201);
               },
               {.access = Access::kUser,
                .idempotent = true,
                .summary = "Place an order (reserves stock)"});

    router.Add("GET", "/api/v1/orders/{id}",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathId(0, "id"));
                   std::optional<std::int64_t> named;
                   if (auto u = ctx.Query("userId")) {
                       JP_TRY(uid, ParseQueryInt(*u, "userId", 1, INT64_MAX));
                       named = uid;
                   }
                   // A user sees its own orders only; the admin any (or, naming a user, that
                   // user's).
                   std::optional<std::int64_t> owner = named;
                   if (!ctx.caller().is_admin()) {
                       JP_TRY(user, ctx.ActingUser(named));
                       owner = user;
                   }
                   auto r = co_await ctx.Db([&] { return shop.GetOrder(id, owner); });
                   co_return Reply(ctx, r);
               },
               {.access = Access::kUser, .summary = "Read an order (its owner)"});

    router.Add("GET", "/api/v1/users/{id}/orders",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathUser(0));
                   std::int64_t page = 0, size = 20;
                   if (auto p = ctx.Query("page")) {
                       JP_TRY(n, ParseQueryInt(*p, "page", 0, 1'000'000));
                       page = n;
                   }
                   if (auto s = ctx.Query("size")) {
                       JP_TRY(n, ParseQueryInt(*s, "size", 1, 100));
                       size = n;
                   }
                   auto r = co_await ctx.Db([&] { return shop.ListOrders(id, page, size); });
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   co_return JsonResponse(200, PageToJson(*r));
               },
               {.access = Access::kUser, .summary = "List a user's orders, newest first"});

    router.Add("POST", "/api/v1/orders/{id}/payment",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathId(0, "id"));
                   JP_TRY(body, ParseOptionalJsonObject(ctx.request().body));
                   JP_TRY(named, JsonFields(body).OptId("userId"));
                   JP_TRY(user, ctx.ActingUser(named));
                   auto r = co_await ctx.Db([&] { return shop.Pay(id, user); });
                   co_return Reply(ctx, r);
               },
               {.access = Access::kUser,
                .idempotent = true,
                .summary = "Pay a PENDING order from the wallet"});

    router.Add("POST", "/api/v1/orders/{id}/cancel",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathId(0, "id"));
                   JP_TRY(body, ParseOptionalJsonObject(ctx.request().body));
                   JP_TRY(named, JsonFields(body).OptId("userId"));
                   JP_TRY(user, ctx.ActingUser(named));
                   auto r = co_await ctx.Db([&] { return shop.Cancel(id, user); });
                   co_return Reply(ctx, r);
               },
               {.access = Access::kUser,
                .idempotent = true,
                .summary = "Cancel an order (refunds a paid one)"});
}

}  // namespace joopang::http
