// The server's own HTTP framing: the request parser that fills HttpRequest from Beast's parser,
// and the response serializer.
#include <gtest/gtest.h>

#include <string>

#include "http/request_parser.hpp"
#include "http/response_writer.hpp"

namespace joopang::http {
namespace {

/// Feeds `raw` to a parser in pieces of `step` bytes, as a socket would deliver them.
boost::beast::error_code Parse(RequestParser& p, const std::string& raw, std::size_t step) {
    boost::beast::error_code ec;
    std::string pending;
    std::size_t fed = 0;
    while (!p.is_done()) {
        if (fed < raw.size()) {
            std::size_t n = std::min(step, raw.size() - fed);
            pending.append(raw, fed, n);
            fed += n;
        } else if (pending.empty()) {
            break;
        }
        std::size_t used = p.put(boost::asio::buffer(pending), ec);
        if (ec == boost::beast::http::error::need_more) ec = {};
        if (ec) return ec;
        pending.erase(0, used);
    }
    return ec;
}

TEST(RequestParser, FillsTheRequestWithLowerCasedHeadersAtEverySplit) {
    const std::string raw =
        "POST /api/v1/coupon-templates/%7B7%7D/issue?x=1&y=%20 HTTP/1.1\r\n"
        "Host: a\r\nContent-Type: application/json\r\nIdempotency-Key: K-1\r\n"
        "Content-Length: 13\r\n\r\n{\"userId\":42}";
    for (std::size_t step : {std::size_t{1}, std::size_t{7}, raw.size()}) {
        RequestParser p;
        ASSERT_FALSE(Parse(p, raw, step)) << "step " << step;
        ASSERT_TRUE(p.is_done());
        auto& r = p.request();
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.path, "/api/v1/coupon-templates/{7}/issue");
        EXPECT_EQ(r.query, "x=1&y=%20");
        EXPECT_EQ(r.body, "{\"userId\":42}");
        EXPECT_EQ(r.Header("idempotency-key").value_or(""), "K-1");
        EXPECT_EQ(r.Header("content-type").value_or(""), "application/json");
        EXPECT_TRUE(p.keep_alive());
        EXPECT_EQ(p.version(), 11);
    }
}

TEST(RequestParser, RefusesBodiesFramedAnyOtherWayThanRfc9112Allows) {
    // Each would let a body's bytes run as a second request on the connection if read as empty.
    const std::pair<std::string, std::string> refused[] = {
        {"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
         "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n",
         "Transfer-Encoding must end with chunked"},
        {"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nGET / HTTP/1.1\r\n\r\n",
         "Transfer-Encoding must end with chunked"},
        {"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
         "Transfer-Encoding must end with chunked"},
        {"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
         "Transfer-Encoding: identity\r\n\r\n",
         ""},  // Beast refuses a coding after chunked itself
        {"POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         "Transfer-Encoding in an HTTP/1.0 request"},
        {"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
         "0\r\n\r\n",
         ""},  // Beast refuses it itself, or we do
        {"GET / HTTP/1.1\r\n\r\n", "an HTTP/1.1 request without Host"},
    };
    for (const auto& [raw, why] : refused) {
        RequestParser p;
        EXPECT_TRUE(Parse(p, raw, raw.size())) << "accepted " << testing::PrintToString(raw);
        if (!why.empty()) {
            EXPECT_EQ(p.framing_error(), why) << testing::PrintToString(raw);
        }
    }
    // What stays accepted: chunked last (in any case), and HTTP/1.0 without Host.
    for (const std::string& raw : {
             std::string("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n"
                         "0\r\n\r\n"),
             std::string("GET / HTTP/1.0\r\n\r\n"),
         }) {
        RequestParser p;
        EXPECT_FALSE(Parse(p, raw, raw.size())) << testing::PrintToString(raw);
        EXPECT_TRUE(p.framing_error().empty());
    }
}

TEST(RequestParser, ReusedStorageKeepsNothingOfTheRequestBefore) {
    HttpRequest request;
    std::string target;
    {
        RequestParser first(request, target);
        ASSERT_FALSE(Parse(first,
                           "POST /a%20b?q=1 HTTP/1.1\r\nHost: h\r\nX-One: 1\r\nX-Two: 2\r\n"
                           "Content-Length: 5\r\n\r\nhello",
                           7));
        ASSERT_TRUE(first.is_done());
        EXPECT_EQ(request.path, "/a b");
        EXPECT_EQ(target, "/a%20b?q=1");
        request.remote = "10.0.0.1";
    }
    RequestParser second(request, target);
    ASSERT_FALSE(Parse(second, "GET /c HTTP/1.1\r\nHost: other\r\n\r\n", 3));
    ASSERT_TRUE(second.is_done());
    EXPECT_EQ(&second.request(), &request);
    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(request.path, "/c");
    EXPECT_EQ(target, "/c");
    EXPECT_EQ(request.query, "");
    EXPECT_EQ(request.body, "");
    EXPECT_EQ(request.remote, "");
    ASSERT_EQ(request.Headers().size(), 1u);
    EXPECT_EQ(request.Header("host").value_or(""), "other");
    EXPECT_FALSE(request.Header("x-one"));
    // a large body's buffer is not carried on to the next request
    request.body.assign(1 << 20, 'x');
    RequestParser third(request, target);
    EXPECT_LE(request.body.capacity(), std::size_t{64 * 1024});
}

TEST(RequestParser, JoinsChunkedBodiesAndSeesExpectContinue) {
    const std::string raw =
        "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
    RequestParser p;
    ASSERT_FALSE(Parse(p, raw, 5));
    EXPECT_TRUE(p.expects_continue());
    EXPECT_EQ(p.request().body, "abcdefg");
}

TEST(RequestParser, EnforcesTheBodyLimitAndConnectionClose) {
    RequestParser limited;
    limited.body_limit(4);
    EXPECT_EQ(Parse(limited, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 64),
              boost::beast::http::error::body_limit);

    RequestParser closing;
    ASSERT_FALSE(Parse(closing, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 64));
    EXPECT_FALSE(closing.keep_alive());
    RequestParser old;
    ASSERT_FALSE(Parse(old, "GET / HTTP/1.0\r\n\r\n", 64));
    EXPECT_FALSE(old.keep_alive());
    EXPECT_EQ(old.version(), 10);
}

TEST(ResponseWriter, WritesStatusHeadersLengthAndBody) {
    HttpResponse r;
    r.status = 410;
    r.body = "{\"code\":\"COUPON_SOLD_OUT\"}";
    r.headers.emplace_back("Retry-After", "1");
    std::string out;
    SerializeResponse(r, {11, true, false}, out);
    EXPECT_EQ(out,
              "HTTP/1.1 410 Gone\r\nServer: joopang\r\nContent-Type: application/json\r\n"
              "Content-Length: 26\r\nRetry-After: 1\r\n\r\n{\"code\":\"COUPON_SOLD_OUT\"}");
}

TEST(ResponseWriter, CloseHeadAndHttp10Framing) {
    HttpResponse r;
    r.body = "hello";
    std::string closing;
    SerializeResponse(r, {11, false, false}, closing);
    EXPECT_NE(closing.find("\r\nConnection: close\r\n"), std::string::npos);

    std::string head;
    SerializeResponse(r, {11, true, true}, head);
    EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos);
    EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");  // no body after the header

    std::string old;
    SerializeResponse(r, {10, true, false}, old);
    EXPECT_EQ(old.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
    EXPECT_NE(old.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(ResponseWriter, DropsHeadersThatWouldSplitTheResponse) {
    HttpResponse r;
    r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: b");
    r.headers.emplace_back("X-Fine", "ok");
    std::string out;
    SerializeResponse(r, {11, true, false}, out);
    EXPECT_EQ(out.find("Set-Cookie"), std::string::npos);
    EXPECT_NE(out.find("X-Fine: ok\r\n"), std::string::npos);
}

}  // namespace
}  // namespace joopang::http
