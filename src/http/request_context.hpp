#pragma once
/// What a route handler sees: the request, its path captures, query access, and the way to run
/// blocking work while accounting its time for the Server-Timing header.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/blocking_pool.hpp"
#include "common/error.hpp"
#include "common/request_timing.hpp"
#include "http/caller.hpp"
#include "http/http_types.hpp"

namespace joopang::http {

class RequestContext {
  public:
    RequestContext(HttpRequest& request, const PathParams& params, joopang::BlockingPool& pool)
        : request_(request), params_(params), pool_(pool) {}

    HttpRequest& request() { return request_; }
    const std::string& path() const { return request_.path; }

    /// The matched route's path captures, in order.
    const PathParams& params() const { return params_; }
    /// Path capture i as a positive id; VALIDATION_FAILED naming `name` otherwise.
    Result<std::int64_t> PathId(std::size_t i, std::string_view name) const;
    /// Decoded query parameter, if present.
    std::optional<std::string> Query(std::string_view name) const;

    /// Who sent the request (set by the API before the handler runs).
    const Caller& caller() const { return caller_; }
    void set_caller(Caller caller) { caller_ = std::move(caller); }
    /// The `{id}` of a `/users/{id}/…` path (capture i), which a user may only name as itself:
    /// FORBIDDEN for another user's id. The admin acts for any.
    Result<std::int64_t> PathUser(std::size_t i) const;
    /// The user a request acts for, given the `userId` it named (body or query, optional): a user
    /// acts as itself (FORBIDDEN when it named another); the admin acts for the named user, which
    /// it must name (VALIDATION_FAILED otherwise).
    /// The answer is remembered as acted_for().
    Result<std::int64_t> ActingUser(std::optional<std::int64_t> named);
    /// The user the last successful ActingUser() named: whose data the request changed, whoever
    /// sent it (the user itself or the admin).
    std::optional<std::int64_t> acted_for() const { return acted_for_; }
    /// FORBIDDEN unless the caller may see `owner`'s data (the owner itself, or the admin).
    Status CheckOwner(std::int64_t owner) const;

    /// Runs blocking database work on the blocking pool; its time counts as "db".
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&>> Db(F f) {
        return pool_.Run(std::move(f), &timing_.db_ns);
    }

    RequestTiming& timing() { return timing_; }
    std::int64_t db_ns() const { return timing_.db_ns; }
    std::int64_t redis_ns() const { return timing_.redis_ns; }

  private:
    HttpRequest& request_;
    PathParams params_;  // views into request_.path
    joopang::BlockingPool& pool_;
    RequestTiming timing_;
    Caller caller_;
    std::optional<std::int64_t> acted_for_;
};

}  // namespace joopang::http
