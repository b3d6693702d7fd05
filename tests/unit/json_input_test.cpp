#include "http/json_input.hpp"

#include <gtest/gtest.h>

using namespace joopang;
using namespace joopang::http;

namespace {
Error FieldError(const char* body, const char* key) {
    auto obj = ParseJsonObject(body);
    EXPECT_TRUE(obj) << body;
    auto r = JsonFields(*obj).Id(key);
    EXPECT_FALSE(r) << body;
    return r.error();
}
}  // namespace

TEST(JsonInput, MalformedOrNonObjectBodiesAreValidationErrors) {
    for (const char* bad : {"", "{", "[1]", "42", "{\"a\":}", "nul"}) {
        auto r = ParseJsonObject(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::kValidationFailed);
        EXPECT_EQ(r.error().field, "body");
    }
}

TEST(JsonInput, IdsMustBePositive64BitIntegers) {
    EXPECT_EQ(FieldError(R"({})", "userId").field, "userId");
    EXPECT_EQ(FieldError(R"({"userId":"7"})", "userId").field, "userId");
    EXPECT_EQ(FieldError(R"({"userId":-1})", "userId").field, "userId");
    EXPECT_EQ(FieldError(R"({"userId":0})", "userId").field, "userId");
    EXPECT_EQ(FieldError(R"({"userId":1.5})", "userId").field, "userId");
    EXPECT_EQ(FieldError(R"({"userId":9223372036854775808})", "userId").field, "userId");
    EXPECT_EQ(FieldError(R"({"userId":99999999999999999999})", "userId").field, "userId");
    auto ok = ParseJsonObject(R"({"userId":9223372036854775807})");
    EXPECT_EQ(*JsonFields(*ok).Id("userId"), INT64_MAX);
}

TEST(JsonInput, MoneyAcceptsDecimalStringsAndNumbersWithTwoDecimals) {
    auto obj = ParseJsonObject(R"({"a":"12.50","b":12.5,"c":7,"d":"1.234","e":1.234,"f":true})");
    JsonFields f(*obj);
    EXPECT_EQ(f.MoneyField("a")->cents(), 1250);
    EXPECT_EQ(f.MoneyField("b")->cents(), 1250);
    EXPECT_EQ(f.MoneyField("c")->cents(), 700);
    EXPECT_FALSE(f.MoneyField("d"));
    EXPECT_FALSE(f.MoneyField("e"));
    EXPECT_FALSE(f.MoneyField("f"));
    EXPECT_EQ(f.MoneyField("missing").error().field, "missing");
}

TEST(JsonInput, NestedFieldsAreNamedByPath) {
    auto obj = ParseJsonObject(R"({"quantity":0})");
    JsonFields f(*obj, "items[3].");
    auto r = f.Int("quantity", 1, 10);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "items[3].quantity");
}

TEST(JsonInput, QueryIntegersAreRangeChecked) {
    EXPECT_EQ(*ParseQueryInt("20", "size", 1, 100), 20);
    EXPECT_FALSE(ParseQueryInt("0", "size", 1, 100));
    EXPECT_FALSE(ParseQueryInt("abc", "size", 1, 100));
    EXPECT_FALSE(ParseQueryInt("", "size", 1, 100));
    EXPECT_FALSE(ParseQueryInt("99999999999999999999", "size", 1, 100));
}

TEST(JsonInput, CompactSingleIdBodyAgreesWithTheFullParser) {
    // Taken by the fast path: the same id the full parser gives.
    for (const char* body :
         {R"({"userId":1})", R"({"userId":42})", R"({"userId":999999999999999999})",
          R"({"userId":100000000000000000})"}) {
        auto fast = CompactSingleIdBody(body, "userId");
        ASSERT_TRUE(fast) << body;
        auto obj = ParseJsonObject(body);
        ASSERT_TRUE(obj) << body;
        auto full = JsonFields(*obj).Id("userId");
        ASSERT_TRUE(full) << body;
        EXPECT_EQ(*fast, *full) << body;
    }
    // Left to the full parser, whatever it makes of them (valid, invalid, or out of range).
    for (const char* body : {"",
                             "{}",
                             R"({"userId":})",
                             R"({"userId":0})",
                             R"({"userId":-1})",
                             R"({"userId":01})",
                             R"({"userId":1.0})",
                             R"({"userId":1e3})",
                             R"({"userId":"1"})",
                             R"({"userId": 1})",
                             R"({ "userId":1})",
                             R"({"userId":1 })",
                             R"({"userId":1}x)",
                             R"({"userId":1,"x":2})",
                             R"({"userid":1})",
                             R"({"userIdx":1})",
                             R"({"user\u0049d":1})",
                             R"({"userId":1)",
                             R"({"userId":1000000000000000000})",
                             R"({"userId":9223372036854775808})",
                             R"({"userId":null})",
                             R"(["userId",1])"}) {
        EXPECT_FALSE(CompactSingleIdBody(body, "userId")) << body;
    }
}

TEST(JsonInput, DuplicateKeysAreRefusedNamingTheKey) {
    for (const auto& [body, key] : std::vector<std::pair<std::string, std::string>>{
             {R"({"userId":1,"userId":2})", "userId"},
             {R"({"a":1,"\u0061":2})", "a"},  // the same key, escaped
             {R"({"items":[{"quantity":1,"quantity":1}]})", "quantity"},
             {R"({"o":{"x":1},"p":{"x":1},"o":2})", "o"}}) {
        auto r = ParseJsonObject(body);
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error().code, ErrorCode::kValidationFailed);
        EXPECT_EQ(r.error().field, key) << body;
        EXPECT_NE(r.error().message.find("duplicate"), std::string::npos);
    }
    // The same key in sibling objects is no duplicate.
    EXPECT_TRUE(ParseJsonObject(R"({"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":1}]})"));
}

TEST(JsonInput, ManyKeysAreCheckedWithoutQuadraticCost) {
    std::string body = "{";
    for (int i = 0; i < 50000; ++i) body += "\"k" + std::to_string(i) + "\":1,";
    body += "\"k17\":2}";
    auto r = ParseJsonObject(body);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "k17");
}

TEST(JsonInput, ControlCharactersAreRefusedInNamesAndOnlyLineBreaksAndTabsInFreeText) {
    auto obj = ParseJsonObject(
        R"({"name":"a\u0000b","title":"x\ny","plain":"Hong Gildong","memo":"line 1\r\n\tline 2","bad":"a\u001bb","del":"a\u007fb"})");
    ASSERT_TRUE(obj);
    JsonFields f(*obj);
    for (const char* key : {"name", "title", "bad", "del"}) {
        auto r = f.Text(key);
        ASSERT_FALSE(r) << key;
        EXPECT_EQ(r.error().field, key);
        EXPECT_NE(r.error().message.find("control"), std::string::npos);
    }
    EXPECT_EQ(*f.Text("plain"), "Hong Gildong");
    EXPECT_EQ(*f.FreeText("memo"), "line 1\r\n\tline 2");
    EXPECT_FALSE(f.FreeText("name"));  // NUL is never text
    EXPECT_FALSE(f.OptFreeText("bad"));
    EXPECT_TRUE(f.OptText("absent"));
}

TEST(JsonInput, UnicodeControlsAndDirectionOverridesAreRefusedInNames) {
    // U+0085 (C1), U+2028 (line separator), U+202E (right-to-left override), U+2066 (isolate).
    auto obj = ParseJsonObject(
        R"({"c1":"a\u0085b","ls":"a\u2028b","rlo":"evil\u202Etxt.exe","iso":"a\u2066b","ok":"Hong \u00e9\u4e2d"})");
    ASSERT_TRUE(obj);
    JsonFields f(*obj);
    for (const char* key : {"c1", "ls", "rlo", "iso"}) EXPECT_FALSE(f.Text(key)) << key;
    EXPECT_TRUE(f.Text("ok"));
    EXPECT_FALSE(f.FreeText("c1"));  // C1 controls are never text
    EXPECT_TRUE(f.FreeText("ls"));   // a line separator may be in a memo
}

TEST(JsonInput, ADuplicateKeyIsNamedWithoutCuttingACharacterInHalf) {
    std::string key(63, 'k');
    key += "\u00e9";  // a two-byte character across byte 64
    auto r = ParseJsonObject("{\"" + key + "\":1,\"" + key + "\":2}");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, std::string(63, 'k'));
}
