// The request fast path (http/plain_request.hpp) against Beast's parser: whatever the fast path
// accepts, Beast must accept with the same request, length, version and keep-alive; what it
// declines goes to Beast. Checked on hand-picked requests and on many generated and mutated ones.
#include "http/plain_request.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "http/request_parser.hpp"

namespace joopang::http {
namespace {

constexpr std::size_t kHeaderLimit = 16 << 10;
constexpr std::uint64_t kBodyLimit = 1 << 20;

struct Parsed {
    HttpRequest request;
    std::string target;
    std::size_t consumed = 0;
    int version = 0;
    bool keep_alive = false;
};

/// Beast's reading of the front of `raw` (all of it in one buffer, as the server feeds it).
std::optional<Parsed> BeastParse(const std::string& raw) {
    Parsed out;
    RequestParser p(out.request, out.target);
    p.header_limit(static_cast<std::uint32_t>(kHeaderLimit));
    p.body_limit(kBodyLimit);
    p.eager(true);
    boost::beast::error_code ec;
    out.consumed = p.put(boost::asio::buffer(raw), ec);
    if (ec || !p.is_done()) return std::nullopt;
    out.version = p.version();
    out.keep_alive = p.keep_alive();
    return out;
}

std::optional<Parsed> FastParse(const std::string& raw) {
    Parsed out;
    auto r = ParsePlainRequest(raw, kHeaderLimit, kBodyLimit, out.request, out.target);
    if (!r) return std::nullopt;
    out.consumed = r->consumed;
    out.version = r->version;
    out.keep_alive = r->keep_alive;
    return out;
}

/// The fast path's answer for `raw` is Beast's, or it declined. Returns whether it accepted.
bool AgreesWithBeast(const std::string& raw) {
    auto fast = FastParse(raw);
    if (!fast) return false;
    auto beast = BeastParse(raw);
    EXPECT_TRUE(beast.has_value())
        << "accepted what Beast refuses: " << testing::PrintToString(raw);
    if (!beast) return true;
    EXPECT_EQ(fast->consumed, beast->consumed) << testing::PrintToString(raw);
    EXPECT_EQ(fast->version, beast->version) << testing::PrintToString(raw);
    EXPECT_EQ(fast->keep_alive, beast->keep_alive) << testing::PrintToString(raw);
    EXPECT_EQ(fast->target, beast->target) << testing::PrintToString(raw);
    EXPECT_EQ(fast->request.method, beast->request.method);
    EXPECT_EQ(fast->request.path, beast->request.path);
    EXPECT_EQ(fast->request.query, beast->request.query);
    EXPECT_EQ(fast->request.body, beast->request.body) << testing::PrintToString(raw);
    EXPECT_TRUE(std::ranges::equal(fast->request.Headers(), beast->request.Headers()))
        << testing::PrintToString(raw);
    return true;
}

const std::string kIssue =
    "POST /api/v1/coupon-templates/7/issue HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
    "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"userId\":42}";

TEST(PlainRequest, ParsesTheUsualRequestsLikeBeast) {
    for (const std::string& raw : {
             kIssue,
             kIssue + "GET / HTTP/1.1\r\nHost: a\r\n\r\n",  // a pipelined request stays buffered
             std::string("GET /api/v1/products/1?x=%20y&z HTTP/1.1\r\nHost: a\r\n\r\n"),
             std::string("GET /a%7Bb%7D HTTP/1.0\r\n\r\n"),
             std::string("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
             std::string("GET / HTTP/1.1\r\nHOST: a\r\nconnection: close\r\n\r\n"),
             std::string("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
             std::string("POST /x HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Pad: \t a b \t\r\n"
                         "Content-Length: 00003\r\n\r\nabcdef"),
             std::string("PATCH /x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t0k3n\r\n"
                         "Idempotency-Key: "
                         "k!#$%&'*+-.^_`|~\r\n\r\n"),
         }) {
        EXPECT_TRUE(AgreesWithBeast(raw)) << "declined " << testing::PrintToString(raw);
    }
    auto fast = FastParse(kIssue);
    ASSERT_TRUE(fast);
    EXPECT_EQ(fast->request.body, "{\"userId\":42}");
    EXPECT_EQ(fast->request.Header("content-type").value_or(""), "application/json");
    EXPECT_EQ(fast->consumed, kIssue.size());
}

TEST(PlainRequest, LeavesEverythingUnusualToBeast) {
    for (const std::string& raw : {
             std::string("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"),  // body not whole
             std::string("GET / HTTP/1.1\r\n\r\n"),                           // no Host
             std::string("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),    // no Host
             std::string("GET / HTTP/1.1\r\nHost: a\r\n"),                    // header not whole
             std::string("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
             std::string("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nab"),
             std::string("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
             std::string("POST /x HTTP/1.1\r\nContent-Length: 1 1\r\n\r\nab"),
             std::string("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
             std::string("POST /x HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n"),  // the limit
             std::string("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na"),
             std::string("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
             std::string("GET / HTTP/1.1\r\nConnection: close, te\r\n\r\n"),
             std::string("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"),  // obs-fold
             std::string("GET / HTTP/1.1\r\nX : a\r\n\r\n"),
             std::string("GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n"),
             std::string("GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n"),
             std::string("GET /\xc3\xa9 HTTP/1.1\r\n\r\n"),
             std::string("GET http://a/ HTTP/1.1\r\n\r\n"),
             std::string("GET * HTTP/1.1\r\n\r\n"),
             std::string("GET  / HTTP/1.1\r\n\r\n"),
             std::string("GET / HTTP/2.0\r\n\r\n"),
             std::string("GET / http/1.1\r\n\r\n"),
             std::string("\r\nGET / HTTP/1.1\r\n\r\n"),
             std::string("GET / HTTP/1.1\r\n") + "X: " + std::string(9000, 'a') + "\r\n\r\n",
         }) {
        EXPECT_FALSE(FastParse(raw).has_value()) << testing::PrintToString(raw);
    }
}

/// Every byte value at every position of a long target and a long field value: the fast path
/// scans these eight bytes at a time, and must still stop at any byte Beast treats differently.
TEST(PlainRequest, AgreesWithBeastOnEveryByteInTargetsAndValues) {
    const std::string target = "/api/v1/coupon-templates/123/issue?user=42&x=y";
    const std::string value = "application/json; charset=utf-8 and more words";
    int accepted = 0;
    for (std::size_t at = 0; at < target.size(); ++at) {
        for (int b = 0; b < 256; ++b) {
            std::string t = target;
            t[at] = static_cast<char>(b);
            if (AgreesWithBeast("GET " + t + " HTTP/1.1\r\nHost: a\r\n\r\n")) ++accepted;
        }
    }
    for (std::size_t at = 0; at < value.size(); ++at) {
        for (int b = 0; b < 256; ++b) {
            std::string v = value;
            v[at] = static_cast<char>(b);
            if (AgreesWithBeast("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + v + "\r\n\r\n"))
                ++accepted;
        }
    }
    if (testing::Test::HasFailure()) return;
    // Printable ASCII (and space or tab in a value) is taken; the rest goes to Beast.
    EXPECT_GT(accepted, 6000);
}

/// Requests built from parts, some valid, some not, then mutated byte by byte: the fast path
/// must never accept what Beast refuses or read anything differently.
TEST(PlainRequest, AgreesWithBeastOnGeneratedAndMutatedRequests) {
    std::mt19937 rng(20261122);
    auto pick = [&rng](const std::vector<std::string>& v) -> const std::string& {
        return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
    };
    const std::vector<std::string> methods = {"GET", "POST", "PATCH", "DELETE", "HEAD", "M-1", ""};
    const std::vector<std::string> targets = {"/",        "/api/v1/coupon-templates/1/issue",
                                              "/a?b=c&d", "/%41%zz%",
                                              "/a b",     "/a\x7f",
                                              "/\x80",    "*",
                                              "/a?#frag"};
    const std::vector<std::string> versions = {"HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/11",
                                               "HTTP/1.1 "};
    const std::vector<std::string> fields = {"Host: a",
                                             "Content-Type: application/json",
                                             "X-Empty:",
                                             "X-Space:   v  ",
                                             "x-tab:\tv\t",
                                             "Connection: close",
                                             "Connection: keep-alive",
                                             "Connection: Keep-Alive",
                                             "Connection: x",
                                             "Content-Length: 3",
                                             "Content-Length: 0",
                                             "Content-Length: 03",
                                             "content-length: 3",
                                             "Content-Length:3 ",
                                             "Content-Length: +3",
                                             "Content-Length: 3,3",
                                             "Transfer-Encoding: chunked",
                                             "Expect: 100-continue",
                                             "Proxy-Connection: close",
                                             "Bad Name: v",
                                             "Bad\"Name: v",
                                             ": v",
                                             "X: \x01",
                                             "X: a\x7f",
                                             "Authorization: Bearer abc"};
    const std::vector<std::string> bodies = {"", "abc", "abcdef", "{\"userId\":1}"};
    const std::string specials = std::string(" \t:\r\n\0\x7f\x80/?%,;\"0aZ-", 19);

    int accepted = 0;
    for (int n = 0; n < 200000; ++n) {
        std::string raw = pick(methods) + " " + pick(targets) + " " + pick(versions) + "\r\n";
        raw += "Host: h\r\n";  // an HTTP/1.1 request without one is refused (RFC 9112)
        const int field_count = std::uniform_int_distribution<int>(0, 4)(rng);
        for (int f = 0; f < field_count; ++f) raw += pick(fields) + "\r\n";
        raw += "\r\n" + pick(bodies);
        const int mutations = std::uniform_int_distribution<int>(0, 3)(rng);
        for (int m = 0; m < mutations && !raw.empty(); ++m) {
            const std::size_t at =
                std::uniform_int_distribution<std::size_t>(0, raw.size() - 1)(rng);
            const char c =
                specials[std::uniform_int_distribution<std::size_t>(0, specials.size() - 1)(rng)];
            switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
                case 0:
                    raw[at] = c;
                    break;
                case 1:
                    raw.insert(raw.begin() + static_cast<std::ptrdiff_t>(at), c);
                    break;
                default:
                    raw.erase(at, 1);
                    break;
            }
        }
        if (AgreesWithBeast(raw)) ++accepted;
        if (testing::Test::HasFailure()) break;  // the first disagreement is enough to read
    }
    // The generator must exercise the fast path itself, not only its declines.
    EXPECT_GT(accepted, 5000);
}

}  // namespace
}  // namespace joopang::http
