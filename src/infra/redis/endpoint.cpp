#include "infra/redis/endpoint.hpp"

#include <charconv>

#include "infra/redis/numbers.hpp"

namespace joopang::redis {

namespace {

Error Invalid(std::string_view url, std::string_view why) {
    return Error::Validation("redis_url",
                             "invalid redis URL '" + std::string(url) + "': " + std::string(why));
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool PercentDecode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return false;
        const int hi = HexValue(in[i + 1]);
        const int lo = HexValue(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return true;
}

bool ParseInt(std::string_view s, int& out) {
    auto v = ParseInteger<int>(s);
    if (v) out = *v;
    return v.has_value();
}

// "host", "host:port", "[v6]", "[v6]:port".
bool ParseHost(std::string_view s, bool port_required, Endpoint& ep) {
    std::string_view host = s;
    std::string_view port;
    if (!s.empty() && s.front() == '[') {
        const auto close = s.find(']');
        if (close == std::string_view::npos) return false;
        host = s.substr(1, close - 1);
        std::string_view rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return false;
            port = rest.substr(1);
        }
    } else {
        const auto colon = s.rfind(':');
        if (colon != std::string_view::npos) {
            host = s.substr(0, colon);
            port = s.substr(colon + 1);
            if (port.empty()) return false;
        }
    }
    if (host.empty()) return false;
    if (port.empty()) {
        if (port_required) return false;
    } else {
        int p = 0;
        if (!ParseInt(port, p) || p <= 0 || p > 65535) return false;
        ep.port = static_cast<std::uint16_t>(p);
    }
    ep.host = std::string(host);
    return true;
}

// "user:password" or ":password" or "password-less user".
bool ParseUserInfo(std::string_view s, Endpoint& ep) {
    const auto colon = s.find(':');
    if (colon == std::string_view::npos) return PercentDecode(s, ep.username);
    return PercentDecode(s.substr(0, colon), ep.username) &&
           PercentDecode(s.substr(colon + 1), ep.password);
}

bool ParseQuery(std::string_view q, Endpoint& ep, std::string& why) {
    while (!q.empty()) {
        const auto amp = q.find('&');
        std::string_view kv = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (kv.empty()) continue;
        const auto eq = kv.find('=');
        std::string_view key = kv.substr(0, eq);
        std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1);
        if (key == "db") {
            if (!ParseInt(value, ep.db) || ep.db < 0) {
                why = "db must be a non-negative integer";
                return false;
            }
        } else if (key == "password") {
            if (!PercentDecode(value, ep.password)) {
                why = "bad percent-encoding in password";
                return false;
            }
        } else if (key == "user" || key == "username") {
            if (!PercentDecode(value, ep.username)) {
                why = "bad percent-encoding in user";
                return false;
            }
        } else {
            why = "unknown parameter '" + std::string(key) + "'";
            return false;
        }
    }
    return true;
}

}  // namespace

std::string Endpoint::Name() const {
    if (kind == Kind::kUnix) return "unix:" + path;
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

Result<Endpoint> ParseHostPort(std::string_view host_port) {
    Endpoint ep;
    if (!ParseHost(host_port, true, ep)) {
        return Error::Validation("redis_url", "invalid host:port '" + std::string(host_port) + "'");
    }
    return ep;
}

Result<RedisUrl> ParseRedisUrl(std::string_view url) {
    RedisUrl out;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return Invalid(url, "missing scheme");
    const std::string_view scheme = url.substr(0, scheme_end);
    std::string_view rest = url.substr(scheme_end + 3);

    std::string_view query;
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }

    Endpoint base;
    std::string why;
    if (scheme == "unix") {
        base.kind = Endpoint::Kind::kUnix;
        if (rest.empty() || rest.front() != '/') return Invalid(url, "unix path must be absolute");
        base.path = std::string(rest);
        if (!ParseQuery(query, base, why)) return Invalid(url, why);
        out.endpoints.push_back(std::move(base));
        return out;
    }
    if (scheme != "redis" && scheme != "redis-cluster") {
        return Invalid(url, "scheme must be redis, redis-cluster or unix");
    }
    out.cluster = scheme == "redis-cluster";

    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        if (!ParseUserInfo(rest.substr(0, at), base)) {
            return Invalid(url, "bad percent-encoding in credentials");
        }
        rest = rest.substr(at + 1);
    }
    std::string_view hosts = rest;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        hosts = rest.substr(0, slash);
        std::string_view db = rest.substr(slash + 1);
        if (!db.empty() && (!ParseInt(db, base.db) || base.db < 0)) {
            return Invalid(url, "database must be a non-negative integer");
        }
    }
    if (!ParseQuery(query, base, why)) return Invalid(url, why);
    if (hosts.empty()) return Invalid(url, "missing host");

    while (!hosts.empty()) {
        const auto comma = hosts.find(',');
        std::string_view one = hosts.substr(0, comma);
        hosts = comma == std::string_view::npos ? std::string_view{} : hosts.substr(comma + 1);
        Endpoint ep = base;
        if (!ParseHost(one, false, ep)) return Invalid(url, "bad host '" + std::string(one) + "'");
        out.endpoints.push_back(std::move(ep));
    }
    if (!out.cluster && out.endpoints.size() != 1) {
        return Invalid(url, "several hosts need the redis-cluster scheme");
    }
    if (out.cluster && base.db != 0) return Invalid(url, "a cluster has only database 0");
    return out;
}

}  // namespace joopang::redis
