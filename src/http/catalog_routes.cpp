#include "http/handler_support.hpp"
#include "http/shop_routes.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

/// discountRate as a percent: "10.00", 10, or 10.5 (hundredths of a percent at most).
Result<std::optional<std::int64_t>> DiscountRate(const JsonFields& f) {
    auto m = f.OptMoney("discountRate");
    if (!m) return m.error();
    if (!*m) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{(*m)->cents()};
}

Result<NewItem> ParseNewItem(const json::value& v, const std::string& prefix) {
    if (!v.is_object()) return Error::Validation(prefix, prefix + " must be an object");
    JsonFields f(v.get_object(), prefix + ".");
    NewItem item;
    auto name = f.Text("name");
    if (!name) return name.error();
    auto code = f.Text("code");
    if (!code) return code.error();
    auto price = f.MoneyField("unitPrice");
    if (!price) return price.error();
    auto stock = f.Int("stock", 0, kMaxStock);
    if (!stock) return stock.error();
    return NewItem{*name, *code, *price, *stock};
}

Result<ItemUpdate> ParseItemUpdate(const json::value& v, const std::string& prefix) {
    if (!v.is_object()) return Error::Validation(prefix, prefix + " must be an object");
    JsonFields f(v.get_object(), prefix + ".");
    ItemUpdate u;
    auto id = f.OptId("id");
    if (!id) return id.error();
    auto name = f.OptText("name");
    if (!name) return name.error();
    auto code = f.OptText("code");
    if (!code) return code.error();
    auto price = f.OptMoney("unitPrice");
    if (!price) return price.error();
    auto stock = f.OptInt("stock", 0, kMaxStock);
    if (!stock) return stock.error();
    u.id = *id;
    u.name = *name;
    u.code = *code;
    u.unit_price = *price;
    u.stock = *stock;
    return u;
}

}  // namespace

void RegisterCatalogRoutes(Router& router, ShopService& shop, CatalogReader& reader) {
    router.Add("POST", "/api/v1/categories",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   JP_TRY(name, f.Text("name"));
                   JP_TRY(parent, f.OptId("parentId"));
                   auto r = co_await ctx.Db([&] { return shop.CreateCategory(name, parent); });
                   co_return Reply(ctx, r, 201);
               },
               {.access = Access::kAdmin, .summary = "Create a category (admin)"});

    router.Add("GET", "/api/v1/categories",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   auto r = co_await ctx.Db([&] { return shop.ListCategories(); });
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   json::array items;
                   for (const auto& c : *r) items.push_back(ToJson(c));
                   co_return JsonResponse(200, {{"items", std::move(items)}});
               },
               {.summary = "List categories"});

    router.Add("POST", "/api/v1/products",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   NewProduct p;
                   JP_TRY(name, f.Text("name"));
                   JP_TRY(code, f.Text("code"));
                   JP_TRY(description, f.OptFreeText("description"));
                   JP_TRY(price, f.MoneyField("price"));
                   JP_TRY(rate, DiscountRate(f));
                   JP_TRY(category, f.OptId("categoryId"));
                   JP_TRY(items, f.Array("items"));
                   p.name = std::move(name);
                   p.code = std::move(code);
                   p.description = description.value_or("");
                   p.price = price;
                   p.discount_rate_bp = rate.value_or(0);
                   p.category_id = category;
                   for (std::size_t i = 0; i < items->size(); ++i) {
                       JP_TRY(item, ParseNewItem((*items)[i], "items[" + std::to_string(i) + "]"));
                       p.items.push_back(std::move(item));
                   }
                   auto r = co_await ctx.Db([&] { return shop.CreateProduct(p); });
                   co_return Reply(ctx, r, 201);
               },
               {.access = Access::kAdmin,
                .idempotent = true,
                .summary = "Create a product with items (admin)"});

    router.Add(
        "PUT", "/api/v1/products/{id}",
        [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
            JP_TRY(id, ctx.PathId(0, "id"));
            JP_TRY(body, ParseJsonObject(ctx.request().body));
            JsonFields f(body);
            ProductUpdate u;
            JP_TRY(version, f.Int("version", 0, INT64_MAX));
            JP_TRY(name, f.OptText("name"));
            JP_TRY(description, f.OptFreeText("description"));
            JP_TRY(price, f.OptMoney("price"));
            JP_TRY(rate, DiscountRate(f));
            u.version = version;
            u.name = std::move(name);
            u.description = std::move(description);
            u.price = price;
            u.discount_rate_bp = rate;
            if (f.IsNull("categoryId")) {
                u.category_id = std::optional<std::int64_t>{};
            } else if (f.Has("categoryId")) {
                JP_TRY(category, f.OptId("categoryId"));
                u.category_id = category;
            }
            if (f.Has("items") && !f.IsNull("items")) {
                JP_TRY(items, f.Array("items"));
                for (std::size_t i = 0; i < items->size(); ++i) {
                    JP_TRY(item, ParseItemUpdate((*items)[i], "items[" + std::to_string(i) + "]"));
                    u.items.push_back(std::move(item));
                }
            }
            auto r = co_await ctx.Db([&] { return shop.UpdateProduct(id, u); });
            co_return Reply(ctx, r);
        },
        {.access = Access::kAdmin, .summary = "Update a product, guarded by its version (admin)"});

    router.Add("GET", "/api/v1/products/{id}",
               [&reader](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathId(0, "id"));
                   if (auto hit = reader.CachedProduct(id)) co_return Reply(ctx, *hit);
                   auto r = co_await ctx.Db([&] { return reader.LoadProduct(id); });
                   co_return Reply(ctx, r);
               },
               {.summary = "Read a product (counts a view)"});

    router.Add("GET", "/api/v1/products",
               [&reader](RequestContext& ctx) -> awaitable<HttpResponse> {
                   ProductQuery q;
                   if (auto c = ctx.Query("categoryId"); c && !c->empty()) {
                       JP_TRY(category, ParseQueryInt(*c, "categoryId", 1, INT64_MAX));
                       q.category_id = category;
                   }
                   if (auto s = ctx.Query("sort"); s && !s->empty()) {
                       auto sort = ParseProductSort(*s);
                       if (!sort)
                           co_return ErrorResponse(
                               Error::Validation("sort",
                                                 "sort must be NEWEST, SALES, PRICE_ASC or "
                                                 "PRICE_DESC"),
                               ctx.path());
                       q.sort = *sort;
                   }
                   if (auto p = ctx.Query("page")) {
                       JP_TRY(page, ParseQueryInt(*p, "page", 0, 1'000'000));
                       q.page = page;
                   }
                   if (auto s = ctx.Query("size")) {
                       JP_TRY(size, ParseQueryInt(*s, "size", 1, 100));
                       q.size = size;
                   }
                   if (auto hit = reader.CachedList(q))
                       co_return JsonResponse(200, PageToJson(**hit));
                   auto r = co_await ctx.Db([&] { return reader.LoadList(q); });
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   co_return JsonResponse(200, PageToJson(*r));
               },
               {.summary = "List products (categoryId, sort, page, size)"});

    router.Add("GET", "/api/v1/products/{id}/stock",
               [&shop](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathId(0, "id"));
                   std::int64_t quantity = 1;
                   if (auto q = ctx.Query("quantity")) {
                       JP_TRY(n, ParseQueryInt(*q, "quantity", 1, kMaxQuantity));
                       quantity = n;
                   }
                   auto r = co_await ctx.Db([&] { return shop.CheckStock(id, quantity); });
                   co_return Reply(ctx, r);
               },
               {.summary = "Check whether a quantity is in stock"});
}

}  // namespace joopang::http
