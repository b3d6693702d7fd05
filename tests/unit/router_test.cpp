#include "http/router.hpp"

#include <gtest/gtest.h>

using namespace joopang::http;

namespace {
RouteHandler Noop() { return {}; }
}  // namespace

TEST(Router, MatchesLiteralsAndCapturesParameters) {
    Router r;
    r.Add("GET", "/api/v1/orders/{id}", Noop(), {});
    r.Add("POST", "/api/v1/orders/{id}/payment", Noop(), {});
    auto m = r.Find("POST", "/api/v1/orders/42/payment");
    ASSERT_EQ(m.outcome, Router::Outcome::kFound);
    EXPECT_EQ(m.route->pattern, "/api/v1/orders/{id}/payment");
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params.at(0), "42");
    EXPECT_THROW(m.params.at(1), std::out_of_range);
    EXPECT_EQ(r.Find("GET", "/api/v1/orders/42/").outcome, Router::Outcome::kFound);
}

TEST(Router, WrongMethodListsTheAllowedOnes) {
    Router r;
    r.Add("GET", "/api/v1/categories", Noop(), {});
    r.Add("POST", "/api/v1/categories", Noop(), {});
    auto m = r.Find("DELETE", "/api/v1/categories");
    EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
    EXPECT_EQ(m.allowed, "GET, POST");
}

TEST(Router, UnknownPathsAreNotFound) {
    Router r;
    r.Add("GET", "/api/v1/users/{id}", Noop(), {});
    EXPECT_EQ(r.Find("GET", "/api/v1/users").outcome, Router::Outcome::kNotFound);
    EXPECT_EQ(r.Find("GET", "/api/v1/users/1/x").outcome, Router::Outcome::kNotFound);
}

TEST(Router, RoutesOfEveryLengthAreFoundWhateverTheOrderTheyWereAddedIn) {
    Router r;
    r.Add("GET", "/a/{x}/c", Noop(), {});
    r.Add("GET", "/", Noop(), {});
    r.Add("GET", "/a", Noop(), {});
    r.Add("POST", "/a/{x}/c", Noop(), {});
    r.Add("GET", "/a/{x}", Noop(), {});
    for (std::string path : {"/", "/a", "/a/1", "/a/1/c"}) {
        auto m = r.Find("GET", path);
        ASSERT_EQ(m.outcome, Router::Outcome::kFound) << path;
        EXPECT_EQ(m.route->pattern, path == "/" || path == "/a" ? path
                                    : path == "/a/1"            ? "/a/{x}"
                                                                : "/a/{x}/c");
    }
    auto m = r.Find("PUT", "/a/1/c");
    EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
    EXPECT_EQ(m.allowed, "GET, POST");
    EXPECT_EQ(r.Find("GET", "/b/1/c").outcome, Router::Outcome::kNotFound);
}
