#include "http/json_output.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

#include "app/coupon_service.hpp"

using namespace joopang;
namespace json = boost::json;

TEST(ReservedIssueResponse, IsTheSpecObjectInItsOrder) {
    // Written by hand rather than through a JSON object: it must be exactly what serializing the
    // object of SPEC §4 gives, for small and extreme values alike.
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    for (auto [request, tmpl, user, position, remaining, eta] :
         {std::array<std::int64_t, 6>{1, 2, 3, 4, 5, 6},
          std::array<std::int64_t, 6>{big, big, big, big, 0, 0},
          std::array<std::int64_t, 6>{1795322051817000, 7, 49999, 10000, 0, 250}}) {
        IssueOutcome outcome{request, position, remaining, eta};
        const http::HttpResponse r = http::ReservedIssueResponse(tmpl, user, outcome);
        EXPECT_EQ(r.status, 202);
        EXPECT_EQ(r.content_type, "application/json");
        const json::object expected{{"requestId", request},     {"templateId", tmpl},
                                    {"userId", user},           {"status", "RESERVED"},
                                    {"position", position},     {"remainingQuantity", remaining},
                                    {"estimatedPersistMs", eta}};
        EXPECT_EQ(r.body, json::serialize(expected));
        EXPECT_EQ(json::parse(r.body), json::value(expected));
    }
}
