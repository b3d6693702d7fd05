#include "http/error_response.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "observability/logging.hpp"

using namespace joopang;

TEST(JsonEscape, EscapesQuotesControlsAndKeepsValidUtf8) {
    EXPECT_EQ(obs::JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
    EXPECT_EQ(obs::JsonEscape("주문 ✓ 😀"), "주문 ✓ 😀");
}

TEST(JsonEscape, LongTextIsEscapedByteForByteAsShortText) {
    // Plain text is skipped 8 bytes at a time: every byte value, at every place of a longer text,
    // must come out as it does alone (where the byte-by-byte path handles it).
    const std::string plain(21, 'a');
    for (int b = 0; b < 256; ++b) {
        const std::string one(1, static_cast<char>(b));
        for (std::size_t at = 0; at < plain.size(); ++at) {
            std::string text = plain;
            text[at] = static_cast<char>(b);
            EXPECT_EQ(obs::JsonEscape(text),
                      plain.substr(0, at) + obs::JsonEscape(one) + plain.substr(at + 1))
                << "byte " << b << " at " << at;
        }
    }
    const std::string utf8 = "/api/v1/쿠폰/\"주문\" ✓ 😀 done";
    EXPECT_EQ(obs::JsonEscape(utf8), "/api/v1/쿠폰/\\\"주문\\\" ✓ 😀 done");
}

TEST(JsonEscape, ReplacesInvalidUtf8SoTheJsonStaysValid) {
    EXPECT_EQ(obs::JsonEscape("x\xFFy"), "x\\ufffdy");
    EXPECT_EQ(obs::JsonEscape("\xC0\xAF"), "\\ufffd\\ufffd");  // overlong '/'
    EXPECT_EQ(obs::JsonEscape("\xE2\x82"), "\\ufffd\\ufffd");  // truncated
}

TEST(ErrorResponse, RendersTheTableStatusAndAParsableBody) {
    Error e = Error::Validation("items[0].quantity", "quantity must be \"positive\"");
    auto res = http::ErrorResponse(e, "/api/v1/orders/\xFF");
    EXPECT_EQ(res.status, 400);
    auto body = boost::json::parse(res.body).as_object();
    EXPECT_EQ(body.at("code").as_string(), "VALIDATION_FAILED");
    EXPECT_EQ(body.at("field").as_string(), "items[0].quantity");
    EXPECT_EQ(body.at("message").as_string(), "quantity must be \"positive\"");
    EXPECT_EQ(body.at("path").as_string(), "/api/v1/orders/\xEF\xBF\xBD");
    EXPECT_TRUE(body.contains("timestamp"));
}

TEST(ErrorResponse, SetsRetryAfterForRateLimits) {
    Error e{ErrorCode::kRateLimited, "slow down", "", 2};
    auto res = http::ErrorResponse(e, "/x");
    EXPECT_EQ(res.status, 429);
    ASSERT_EQ(res.headers.size(), 1u);
    EXPECT_EQ(res.headers[0].first, "Retry-After");
    EXPECT_EQ(res.headers[0].second, "2");
}
