#include "app/shop_service.hpp"

#include <set>

#include "app/password_hasher.hpp"

namespace joopang {
namespace {

Status CheckText(const std::string& field,
                 const std::string& value,
                 bool required,
                 std::size_t max = kMaxTextLength) {
    if (required && value.empty()) return Error::Validation(field, field + " must not be empty");
    if (value.size() > max)
        return Error::Validation(field, field + " is longer than " + std::to_string(max));
    return {};
}

Status CheckPrice(const std::string& field, Money m) {
    if (m.IsNegative()) return Error::Validation(field, field + " must not be negative");
    return {};
}

Status CheckRate(const std::string& field, std::int64_t bp) {
    if (bp < 0 || bp > 10000) return Error::Validation(field, field + " must be within 0..100");
    return {};
}

Status CheckPaging(std::int64_t page, std::int64_t size) {
    if (page < 0) return Error::Validation("page", "page must be >= 0");
    if (size < 1 || size > 100) return Error::Validation("size", "size must be within 1..100");
    return {};
}

}  // namespace

Result<User> ShopService::CreateUser(const NewUser& in) {
    if (!IsValidEmail(in.email)) return Error::Validation("email", "email is not a valid address");
    if (in.password.size() < 4 || in.password.size() > 200)
        return Error::Validation("password", "password must be 4..200 characters");
    if (auto s = CheckText("firstName", in.first_name, false, 100); !s) return s.error();
    if (auto s = CheckText("lastName", in.last_name, false, 100); !s) return s.error();
    if (auto s = CheckPrice("balance", in.balance); !s) return s.error();
    User user;
    user.email = NormalizeEmail(in.email);
    user.first_name = in.first_name;
    user.last_name = in.last_name;
    user.balance = in.balance;
    user.created_at = now_();
    return users_.Create(user, HashPassword(in.password));
}

Result<User> ShopService::GetUser(std::int64_t id) { return users_.Find(id); }

Result<Money> ShopService::ChargeBalance(std::int64_t user_id, Money amount) {
    if (amount.IsNegative() || amount.IsZero())
        return Error::Validation("amount", "amount must be greater than 0");
    return users_.Charge(user_id, amount);
}

Result<Category> ShopService::CreateCategory(const std::string& name,
                                             std::optional<std::int64_t> parent) {
    if (auto s = CheckText("name", name, true, 200); !s) return s.error();
    return catalog_.CreateCategory(name, parent);
}

Result<std::vector<Category>> ShopService::ListCategories() { return catalog_.ListCategories(); }

Result<Product> ShopService::CreateProduct(const NewProduct& in) {
    if (auto s = CheckText("name", in.name, true, 200); !s) return s.error();
    if (auto s = CheckText("code", in.code, true, 100); !s) return s.error();
    if (auto s = CheckText("description", in.description, false, 10000); !s) return s.error();
    if (auto s = CheckPrice("price", in.price); !s) return s.error();
    if (auto s = CheckRate("discountRate", in.discount_rate_bp); !s) return s.error();
    if (in.items.empty()) return Error::Validation("items", "a product needs at least one item");
    if (in.items.size() > kMaxOrderLines)
        return Error::Validation("items", "at most 100 items per product");
    std::set<std::string> codes;
    for (std::size_t i = 0; i < in.items.size(); ++i) {
        const auto& item = in.items[i];
        std::string f = "items[" + std::to_string(i) + "]";
        if (auto s = CheckText(f + ".name", item.name, true, 200); !s) return s.error();
        if (auto s = CheckText(f + ".code", item.code, true, 100); !s) return s.error();
        if (auto s = CheckPrice(f + ".unitPrice", item.unit_price); !s) return s.error();
        if (item.stock < 0 || item.stock > kMaxStock)
            return Error::Validation(f + ".stock", "stock must be within 0..1000000000");
        if (!codes.insert(item.code).second)
            return Error::Validation(f + ".code", "item codes must be unique within a product");
    }
    auto created = catalog_.CreateProduct(in);
    if (created) Notify(CatalogChange::kProducts, {created->id});  // a cached "not found"
    return created;
}

Result<Product> ShopService::UpdateProduct(std::int64_t id, const ProductUpdate& u) {
    if (u.version < 0) return Error::Validation("version", "version must be >= 0");
    if (u.name)
        if (auto s = CheckText("name", *u.name, true, 200); !s) return s.error();
    if (u.description)
        if (auto s = CheckText("description", *u.description, false, 10000); !s) return s.error();
    if (u.price)
        if (auto s = CheckPrice("price", *u.price); !s) return s.error();
    if (u.discount_rate_bp)
        if (auto s = CheckRate("discountRate", *u.discount_rate_bp); !s) return s.error();
    for (std::size_t i = 0; i < u.items.size(); ++i) {
        const auto& item = u.items[i];
        std::string f = "items[" + std::to_string(i) + "]";
        if (item.unit_price)
            if (auto s = CheckPrice(f + ".unitPrice", *item.unit_price); !s) return s.error();
        if (item.stock && (*item.stock < 0 || *item.stock > kMaxStock))
            return Error::Validation(f + ".stock", "stock must be within 0..1000000000");
        if (!item.id && (!item.name || !item.code || !item.unit_price || !item.stock))
            return Error::Validation(f, "a new item needs name, code, unitPrice and stock");
    }
    auto updated = catalog_.UpdateProduct(id, u);
    if (updated) Notify(CatalogChange::kProducts, {id});
    return updated;
}

Result<Page<Product>> ShopService::ListProducts(const ProductQuery& q) {
    if (auto s = CheckPaging(q.page, q.size); !s) return s.error();
    return catalog_.ListProducts(q);
}

Result<StockCheck> ShopService::CheckStock(std::int64_t product_id, std::int64_t quantity) {
    if (quantity < 1 || quantity > kMaxQuantity)
        return Error::Validation("quantity", "quantity must be within 1..1000000");
    auto product = catalog_.FindProduct(product_id);
    if (!product) return product.error();
    StockCheck out;
    out.product_id = product_id;
    out.current_stock = product->TotalStock();
    out.requested = quantity;
    out.available = out.current_stock >= quantity;
    return out;
}

Status ShopService::CheckOrderDetails(const std::string& recipient_name, const std::string& memo) {
    if (auto s = CheckText("recipientName", recipient_name, true, 200); !s) return s;
    return CheckText("memo", memo, false);
}

Result<Order> ShopService::PlaceOrder(const PlaceOrderRequest& r) {
    if (r.user_id <= 0) return Error::Validation("userId", "userId must be a positive id");
    if (auto s = CheckOrderDetails(r.recipient_name, r.memo); !s) return s.error();
    if (r.items.empty()) return Error::Validation("items", "an order needs at least one item");
    if (r.items.size() > kMaxOrderLines)
        return Error::Validation("items", "at most 100 lines per order");
    std::set<std::int64_t> seen;
    for (std::size_t i = 0; i < r.items.size(); ++i) {
        std::string f = "items[" + std::to_string(i) + "]";
        if (r.items[i].product_item_id <= 0)
            return Error::Validation(f + ".productItemId", "productItemId must be a positive id");
        if (r.items[i].quantity < 1 || r.items[i].quantity > kMaxQuantity)
            return Error::Validation(f + ".quantity", "quantity must be within 1..1000000");
        if (!seen.insert(r.items[i].product_item_id).second)
            return Error::Validation(f + ".productItemId", "each item may appear only once");
    }
    const EpochMs now = now_();
    auto placed = orders_.Place(r, now, now + settings_.order_ttl_ms);
    if (placed) Notify(CatalogChange::kStock, ProductsOf(*placed));
    return placed;
}

Result<Order> ShopService::GetOrder(std::int64_t order_id, std::optional<std::int64_t> user_id) {
    auto order = orders_.Find(order_id);
    if (order && user_id && order->user_id != *user_id)
        return Error{ErrorCode::kForbidden, "the order belongs to another user"};
    return order;
}

Result<Page<Order>> ShopService::ListOrders(std::int64_t user_id,
                                            std::int64_t page,
                                            std::int64_t size) {
    if (auto s = CheckPaging(page, size); !s) return s.error();
    if (auto user = users_.Find(user_id); !user) return user.error();
    return orders_.ListByUser(user_id, page, size);
}

Result<Payment> ShopService::Pay(std::int64_t order_id, std::int64_t user_id) {
    return orders_.Pay(order_id, user_id, now_());
}

Result<Order> ShopService::Cancel(std::int64_t order_id, std::int64_t user_id) {
    auto canceled = orders_.Cancel(order_id, user_id, now_());
    if (canceled) Notify(CatalogChange::kStock, ProductsOf(*canceled));
    return canceled;
}

void ShopService::Notify(CatalogChange kind, const std::vector<std::int64_t>& product_ids) {
    if (listener_) listener_->Changed(kind, product_ids);
}

}  // namespace joopang
