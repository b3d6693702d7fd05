// What the scenarios of joopang-bench create through the API before they load it: categories,
// products with one item each, and users with a balance and an access token.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "joopang_bench_runner.hpp"

namespace joopang::bench {

/// A product created by the setup.
struct BenchProduct {
    std::int64_t id = 0;
    std::int64_t item_id = 0;
};

/// Users created by the setup, with the access token the admin minted for each.
struct BenchUsers {
    std::vector<std::int64_t> ids;
    std::vector<std::string> tokens;
};

/// A tag unique to this run (milliseconds since the epoch), for product codes and emails.
std::string RunTag();
/// False (with a message naming `scenario`) when no admin token was given, which creating
/// products needs.
bool HasAdminToken(const Env& env, const char* scenario);
/// A short description of an answer for error messages.
std::string Describe(const HttpResult& r);

/// A category named `name`; nullopt (error printed) on failure.
boost::asio::awaitable<std::optional<std::int64_t>> CreateCategory(Env& env, std::string name);
/// `n` products of one item each at `price` with `stock`, in `category_id` unless 0, over
/// `connections` connections; nullopt (error printed) if any failed.
boost::asio::awaitable<std::optional<std::vector<BenchProduct>>> CreateProducts(
    Env& env,
    int n,
    std::string price,
    std::int64_t stock,
    std::int64_t category_id,
    std::string run,
    int connections);
/// `n` users with `balance`, each signed in with a token the admin minted; nullopt (error
/// printed) if any failed.
boost::asio::awaitable<std::optional<BenchUsers>> CreateUsers(
    Env& env, int n, std::string balance, std::string run, int connections);

}  // namespace joopang::bench
