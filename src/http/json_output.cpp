#include "http/json_output.hpp"

#include <boost/json/serialize.hpp>

#include "app/coupon_service.hpp"
#include "common/clock.hpp"
#include "common/decimal.hpp"

namespace joopang::http {
namespace json = boost::json;

namespace {
json::value OptTime(const std::optional<EpochMs>& t) {
    return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}
}  // namespace

std::string PercentString(std::int64_t bp) { return Money::FromCents(bp).ToString(); }

json::value ToJson(const User& u) {
    return {{"id", u.id},
            {"email", u.email},
            {"firstName", u.first_name},
            {"lastName", u.last_name},
            {"fullName", u.FullName()},
            {"balance", u.balance.ToString()},
            {"createdAt", FormatRfc3339(u.created_at)}};
}

json::value ToJson(const Category& c) {
    return {{"id", c.id},
            {"name", c.name},
            {"parentId", c.parent_id ? json::value(*c.parent_id) : json::value(nullptr)}};
}

json::value ToJson(const Product& p) {
    json::array items;
    for (const auto& i : p.items) {
        items.push_back({{"id", i.id},
                         {"name", i.name},
                         {"code", i.code},
                         {"unitPrice", i.unit_price.ToString()},
                         {"stock", i.stock},
                         {"status", ToString(i.status())}});
    }
    return {{"id", p.id},
            {"name", p.name},
            {"code", p.code},
            {"description", p.description},
            {"price", p.price.ToString()},
            {"discountRate", PercentString(p.discount_rate_bp)},
            {"categoryId", p.category_id ? json::value(*p.category_id) : json::value(nullptr)},
            {"version", p.version},
            {"viewCount", p.view_count},
            {"salesCount", p.sales_count},
            {"totalStock", p.TotalStock()},
            {"createdAt", FormatRfc3339(p.created_at)},
            {"items", std::move(items)}};
}

json::value ToJson(const Order& o) {
    json::array items;
    for (const auto& l : o.lines) {
        items.push_back({{"productItemId", l.product_item_id},
                         {"productId", l.product_id},
                         {"productName", l.product_name},
                         {"quantity", l.quantity},
                         {"unitPrice", l.unit_price.ToString()},
                         {"subtotal", l.subtotal.ToString()}});
    }
    return {{"orderId", o.id},
            {"id", o.id},
            {"userId", o.user_id},
            {"recipientName", o.recipient_name},
            {"memo", o.memo},
            {"status", ToString(o.status)},
            {"items", std::move(items)},
            {"totalAmount", o.total_amount.ToString()},
            {"discountAmount", o.discount_amount.ToString()},
            {"payableAmount", o.payable_amount.ToString()},
            {"couponId", o.coupon_id ? json::value(*o.coupon_id) : json::value(nullptr)},
            {"orderedAt", FormatRfc3339(o.ordered_at)},
            {"expiresAt", FormatRfc3339(o.expires_at)},
            {"paidAt", OptTime(o.paid_at)},
            {"canceledAt", OptTime(o.canceled_at)}};
}

json::value ToJson(const Payment& p) {
    return {{"orderId", p.order_id},
            {"status", "PAID"},
            {"paidAmount", p.paid_amount.ToString()},
            {"remainingBalance", p.remaining_balance.ToString()},
            {"paidAt", FormatRfc3339(p.paid_at)}};
}

json::value ToJson(const StockCheck& s) {
    return {{"productId", s.product_id},
            {"available", s.available},
            {"currentStock", s.current_stock},
            {"requested", s.requested}};
}

json::value ToJson(const Cart& cart) {
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

HttpResponse ReservedIssueResponse(std::int64_t template_id,
                                   std::int64_t user_id,
                                   const IssueOutcome& outcome) {
    HttpResponse r;
    r.status = 202;
    std::string& b = r.body;
    b.reserve(200);
    b += "{\"requestId\":";
    AppendDecimal(b, outcome.request_id);
    b += ",\"templateId\":";
    AppendDecimal(b, template_id);
    b += ",\"userId\":";
    AppendDecimal(b, user_id);
    b += ",\"status\":\"RESERVED\",\"position\":";
    AppendDecimal(b, outcome.position);
    b += ",\"remainingQuantity\":";
    AppendDecimal(b, outcome.remaining);
    b += ",\"estimatedPersistMs\":";
    AppendDecimal(b, outcome.estimated_persist_ms);
    b += '}';
    return r;
}

HttpResponse JsonResponse(int status, const json::value& body) {
    HttpResponse r;
    r.status = status;
    r.body = json::serialize(body);
    return r;
}

}  // namespace joopang::http
