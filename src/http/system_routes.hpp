#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "common/error.hpp"
#include "http/router.hpp"

namespace joopang::obs {
class Registry;
}

namespace joopang::http {

/// How /readyz checks its dependencies.
struct ReadinessProbes {
    std::function<Status()> database;                       // blocking
    std::function<boost::asio::awaitable<Status>()> redis;  // async
};

/// /healthz, /readyz, /metrics and /openapi.json (generated from `router`'s routes).
void RegisterSystemRoutes(Router& router, ReadinessProbes probes, obs::Registry& metrics);

}  // namespace joopang::http
