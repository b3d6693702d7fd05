#pragma once
/// Where Redis lives, parsed from a URL:
///   redis://host:port                       redis://:password@host:port/db
///   redis://user:password@host:port/db      rediss is not supported (no TLS)
///   unix:///path/to.sock?db=N&password=…    (also `user=…`)
///   redis-cluster://h1:p1,h2:p2             (seeds; optional `:password@` before the first)
/// Hosts may be names, IPv4 or bracketed IPv6 (`[::1]:6379`); the port defaults to 6379.
/// User and password are percent-decoded.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace joopang::redis {

struct Endpoint {
    enum class Kind { kTcp, kUnix };
    Kind kind = Kind::kTcp;
    std::string host = "127.0.0.1";  // kTcp
    std::uint16_t port = 6379;       // kTcp
    std::string path;                // kUnix
    std::string username;            // AUTH username (empty: default user)
    std::string password;            // empty: no AUTH
    int db = 0;                      // SELECT db (0: no SELECT); must be 0 in a cluster

    /// "host:port" or "unix:/path", for messages and as a node's name. Never shows the password.
    std::string Name() const;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct RedisUrl {
    bool cluster = false;
    /// One endpoint for a single server; the seed nodes of a cluster.
    std::vector<Endpoint> endpoints;
};

/// Parses a URL of one of the forms above. Error (kValidationFailed) names what is wrong.
Result<RedisUrl> ParseRedisUrl(std::string_view url);

/// Parses "host:port" (as in MOVED replies); the port is mandatory.
Result<Endpoint> ParseHostPort(std::string_view host_port);

}  // namespace joopang::redis
