#include "infra/sql/sql_catalog_repository.hpp"

#include <algorithm>
#include <map>

#include "infra/sql/sql_util.hpp"

namespace joopang::sql {
namespace {

constexpr const char* kProductColumns =
    "id, name, code, description, price, discount_rate_bp, category_id, version, view_count, "
    "sales_count, created_at";

Product ToProduct(const Row& r) {
    Product p;
    p.id = r.Int(0);
    p.name = r.Text(1);
    p.code = r.Text(2);
    p.description = r.Text(3);
    p.price = Money::FromCents(r.Int(4));
    p.discount_rate_bp = r.Int(5);
    p.category_id = r.OptInt(6);
    p.version = r.Int(7);
    p.view_count = r.Int(8);
    p.sales_count = r.Int(9);
    p.created_at = r.Int(10);
    return p;
}

/// Loads the items of `products` (one query) and attaches them in id order.
Status AttachItems(Connection& c, std::vector<Product>& products) {
    if (products.empty()) return {};
    std::vector<Value> ids;
    std::map<std::int64_t, Product*> by_id;
    for (auto& p : products) {
        ids.emplace_back(p.id);
        by_id[p.id] = &p;
    }
    auto r = c.Exec(
        "SELECT id, product_id, name, code, unit_price, stock, active FROM product_items "
        "WHERE product_id IN (" +
            Placeholders(ids.size()) + ") ORDER BY id",
        ids);
    if (!r) return r.error();
    for (const auto& row : r->rows) {
        ProductItem item;
        item.id = row.Int(0);
        item.product_id = row.Int(1);
        item.name = row.Text(2);
        item.code = row.Text(3);
        item.unit_price = Money::FromCents(row.Int(4));
        item.stock = row.Int(5);
        item.active = row.Int(6) != 0;
        by_id[item.product_id]->items.push_back(std::move(item));
    }
    return {};
}

Result<Product> LoadProduct(Connection& c, std::int64_t id) {
    auto r = c.Exec(std::string("SELECT ") + kProductColumns + " FROM products WHERE id = ?", {id});
    if (!r) return r.error();
    if (r->rows.empty())
        return Error{ErrorCode::kProductNotFound, "product " + std::to_string(id) + " not found"};
    std::vector<Product> one{ToProduct(r->rows[0])};
    if (auto st = AttachItems(c, one); !st) return st.error();
    return std::move(one[0]);
}

Status CheckCategory(Connection& c, std::optional<std::int64_t> id, const char* field) {
    if (!id) return {};
    auto r = c.Exec("SELECT 1 FROM categories WHERE id = ?", {*id});
    if (!r) return r.error();
    if (r->rows.empty())
        return Error{ErrorCode::kCategoryNotFound, "category " + std::to_string(*id) + " not found",
                     field};
    return {};
}

Status InsertItem(Connection& c, std::int64_t product_id, const NewItem& item) {
    auto r = c.Exec(
        "INSERT INTO product_items(product_id, name, code, unit_price, stock) VALUES (?, ?, ?, ?, "
        "?) ON CONFLICT DO NOTHING RETURNING id",
        {product_id, item.name, item.code, item.unit_price.cents(), item.stock});
    if (!r) return r.error();
    if (r->rows.empty())
        return Error{ErrorCode::kCodeTaken, "item code '" + item.code + "' is taken", "items"};
    return {};
}

}  // namespace

Result<Category> SqlCatalogRepository::CreateCategory(const std::string& name,
                                                      std::optional<std::int64_t> parent_id) {
    return db_.Transact<Category>(TxMode::kWrite, [&](Connection& c) -> Result<Category> {
        if (auto st = CheckCategory(c, parent_id, "parentId"); !st) return st.error();
        auto r = c.Exec("INSERT INTO categories(name, parent_id) VALUES (?, ?) RETURNING id",
                        {name, OptValue(parent_id)});
        if (!r) return r.error();
        return Category{r->rows.at(0).Int(0), name, parent_id};
    });
}

Result<std::vector<Category>> SqlCatalogRepository::ListCategories() {
    using Out = std::vector<Category>;
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        auto r = c.Exec("SELECT id, name, parent_id FROM categories ORDER BY id");
        if (!r) return r.error();
        Out out;
        for (const auto& row : r->rows) out.push_back({row.Int(0), row.Text(1), row.OptInt(2)});
        return out;
    });
}

Result<Product> SqlCatalogRepository::CreateProduct(const NewProduct& p) {
    return db_.Transact<Product>(TxMode::kWrite, [&](Connection& c) -> Result<Product> {
        if (auto st = CheckCategory(c, p.category_id, "categoryId"); !st) return st.error();
        auto r = c.Exec(
            "INSERT INTO products(name, code, description, price, discount_rate_bp, category_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            {p.name, p.code, p.description, p.price.cents(), p.discount_rate_bp,
             OptValue(p.category_id), NowMs()});
        if (!r) return r.error();
        if (r->rows.empty())
            return Error{ErrorCode::kCodeTaken, "product code '" + p.code + "' is taken", "code"};
        std::int64_t id = r->rows[0].Int(0);
        for (const auto& item : p.items)
            if (auto st = InsertItem(c, id, item); !st) return st.error();
        return LoadProduct(c, id);
    });
}

Result<Product> SqlCatalogRepository::UpdateProduct(std::int64_t id, const ProductUpdate& u) {
    return db_.Transact<Product>(TxMode::kWrite, [&](Connection& c) -> Result<Product> {
        if (u.category_id && *u.category_id)
            if (auto st = CheckCategory(c, **u.category_id, "categoryId"); !st) return st.error();
        auto opt_text = [](const std::optional<std::string>& v) {
            return v ? Value{*v} : Value{std::monostate{}};
        };
        auto opt_money = [](const std::optional<Money>& v) {
            return v ? Value{v->cents()} : Value{std::monostate{}};
        };
        bool set_category = u.category_id.has_value();
        Value category = set_category ? OptValue(*u.category_id) : Value{std::monostate{}};
        auto r = c.Exec(
            "UPDATE products SET name = COALESCE(?, name), description = COALESCE(?, "
            "description), price = COALESCE(?, price), discount_rate_bp = COALESCE(?, "
            "discount_rate_bp), category_id = CASE WHEN ? = 1 THEN ? ELSE category_id END, "
            "version = version + 1 WHERE id = ? AND version = ?",
            {opt_text(u.name), opt_text(u.description), opt_money(u.price),
             OptValue(u.discount_rate_bp), std::int64_t{set_category ? 1 : 0}, category, id,
             u.version});
        if (!r) return r.error();
        if (r->affected == 0) {
            auto exists = c.Exec("SELECT version FROM products WHERE id = ?", {id});
            if (!exists) return exists.error();
            if (exists->rows.empty())
                return Error{ErrorCode::kProductNotFound,
                             "product " + std::to_string(id) + " not found"};
            return Error{ErrorCode::kVersionConflict,
                         "product was changed: version is " + exists->rows[0].Text(0) + ", not " +
                             std::to_string(u.version),
                         "version"};
        }
        for (std::size_t i = 0; i < u.items.size(); ++i) {
            const auto& item = u.items[i];
            if (!item.id) {
                NewItem n{*item.name, *item.code, *item.unit_price, *item.stock};
                if (auto st = InsertItem(c, id, n); !st) return st.error();
                continue;
            }
            auto ur = c.Exec(
                "UPDATE product_items SET name = COALESCE(?, name), code = COALESCE(?, code), "
                "unit_price = COALESCE(?, unit_price), stock = COALESCE(?, stock) "
                "WHERE id = ? AND product_id = ?",
                {opt_text(item.name), opt_text(item.code), opt_money(item.unit_price),
                 OptValue(item.stock), *item.id, id});
            if (!ur) return ur.error();
            if (ur->affected == 0)
                return Error{ErrorCode::kItemNotFound,
                             "item " + std::to_string(*item.id) + " is not part of product " +
                                 std::to_string(id),
                             "items[" + std::to_string(i) + "].id"};
        }
        return LoadProduct(c, id);
    });
}

Result<Product> SqlCatalogRepository::FindProduct(std::int64_t id) {
    return db_.Transact<Product>(
        TxMode::kRead, [&](Connection& c) -> Result<Product> { return LoadProduct(c, id); });
}

Result<Page<Product>> SqlCatalogRepository::ListProducts(const ProductQuery& q) {
    using Out = Page<Product>;
    return db_.Transact<Out>(TxMode::kRead, [&](Connection& c) -> Result<Out> {
        std::string where;
        std::vector<Value> params;
        if (q.category_id) {
            where = " WHERE category_id = ?";
            params.emplace_back(*q.category_id);
        }
        auto count = c.Exec("SELECT COUNT(*) FROM products" + where, params);
        if (!count) return count.error();
        const char* order = "id DESC";
        switch (q.sort) {
            case ProductSort::kNewest:
                order = "id DESC";
                break;
            case ProductSort::kSales:
                order = "sales_count DESC, id DESC";
                break;
            case ProductSort::kPriceAsc:
                order = "price ASC, id ASC";
                break;
            case ProductSort::kPriceDesc:
                order = "price DESC, id DESC";
                break;
        }
        params.emplace_back(q.size);
        params.emplace_back(q.page * q.size);
        auto r = c.Exec(std::string("SELECT ") + kProductColumns + " FROM products" + where +
                            " ORDER BY " + order + " LIMIT ? OFFSET ?",
                        params);
        if (!r) return r.error();
        Out out;
        out.page = q.page;
        out.size = q.size;
        out.total = count->rows.at(0).Int(0);
        for (const auto& row : r->rows) out.items.push_back(ToProduct(row));
        if (auto st = AttachItems(c, out.items); !st) return st.error();
        return out;
    });
}

Status SqlCatalogRepository::AddViews(
    EpochMs at, const std::vector<std::pair<std::int64_t, std::int64_t>>& views) {
    if (views.empty()) return {};
    auto sorted = views;
    std::sort(sorted.begin(), sorted.end());  // one lock order across instances
    const EpochMs minute = at - at % kViewMinuteMs;
    return db_.Run(TxMode::kWrite, [&](Connection& c) -> Status {
        for (auto [id, n] : sorted) {
            auto r =
                c.Exec("UPDATE products SET view_count = view_count + ? WHERE id = ?", {n, id});
            if (!r) return r.error();
            r = c.Exec(
                "INSERT INTO product_views(product_id, minute, views) VALUES (?, ?, ?) "
                "ON CONFLICT (product_id, minute) DO UPDATE "
                "SET views = product_views.views + excluded.views",
                {id, minute, n});
            if (!r) return r.error();
        }
        // Older than any ranking window: no longer read.
        auto r = c.Exec("DELETE FROM product_views WHERE minute < ?", {minute - kViewKeepMs});
        if (!r) return r.error();
        return {};
    });
}

}  // namespace joopang::sql
