#pragma once
/// Wire representations of domain values (SPEC §3).

#include <boost/json/value.hpp>

#include "app/shop_types.hpp"
#include "domain/cart.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/user.hpp"
#include "http/http_types.hpp"

namespace joopang {
struct IssueOutcome;
}

namespace joopang::http {

boost::json::value ToJson(const User& u);
boost::json::value ToJson(const Category& c);
boost::json::value ToJson(const Product& p);
boost::json::value ToJson(const Order& o);
boost::json::value ToJson(const Payment& p);
boost::json::value ToJson(const StockCheck& s);
boost::json::value ToJson(const Cart& cart);
/// "10.00" for 1000 hundredths of a percent.
std::string PercentString(std::int64_t bp);

template <class T>
boost::json::value PageToJson(const Page<T>& page) {
    boost::json::array items;
    for (const auto& i : page.items) items.push_back(ToJson(i));
    return {{"items", std::move(items)},
            {"page", page.page},
            {"size", page.size},
            {"total", page.total}};
}

HttpResponse JsonResponse(int status, const boost::json::value& body);

/// The 202 of a won issue request (SPEC §4): {requestId, templateId, userId, status: "RESERVED",
/// position, remainingQuantity, estimatedPersistMs}, written straight into the body like the
/// error bodies: the first answers of a drop are these, and building a JSON object for each cost
/// an allocation per key.
HttpResponse ReservedIssueResponse(std::int64_t template_id,
                                   std::int64_t user_id,
                                   const IssueOutcome& outcome);

}  // namespace joopang::http
