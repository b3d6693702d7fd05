#include "http/response_writer.hpp"

#include <boost/beast/http/status.hpp>
#include <ostream>  // beast/http/status.hpp needs it and does not include it
#include <string_view>

#include "common/decimal.hpp"

namespace joopang::http {
namespace {

bool SafeHeaderText(std::string_view s) {
    // A plain loop: find_first_of("\r\n") calls memchr on the set once per character, and
    // this runs over every header of every response.
    for (char c : s)
        if (c == '\r' || c == '\n') return false;
    return true;
}

/// Statuses that never carry a body (RFC 9110 §6.4.1).
bool Bodyless(int status) {
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

}  // namespace

void AppendMs(std::string& out, std::int64_t ns) {
    // Integer arithmetic: this runs three times per response.
    if (ns < 0) ns = 0;
    std::int64_t us = ns / 1000;
    AppendDecimal(out, us / 1000);
    int frac = static_cast<int>(us % 1000);
    char f[4] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                 static_cast<char>('0' + frac % 10)};
    out.append(f, 4);
}

void SerializeResponse(const HttpResponse& response, ResponseFraming framing, std::string& out) {
    auto reason = boost::beast::http::obsolete_reason(
        static_cast<boost::beast::http::status>(response.status));
    out.reserve(out.size() + 160 + response.body.size());
    out += framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    AppendDecimal(out, response.status);
    out += ' ';
    out.append(reason.data(), reason.size());
    out += "\r\nServer: joopang\r\n";
    if (!Bodyless(response.status)) {
        out += "Content-Type: ";
        out += response.content_type;
        out += "\r\nContent-Length: ";
        AppendDecimal(out, static_cast<std::int64_t>(response.body.size()));
        out += "\r\n";
    }
    for (const auto& [name, value] : response.headers) {
        if (!SafeHeaderText(name) || !SafeHeaderText(value)) continue;
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (const auto& t = response.timing) {
        out += "Server-Timing: db;dur=";
        AppendMs(out, t->db_ns);
        out += ", redis;dur=";
        AppendMs(out, t->redis_ns);
        out += ", total;dur=";
        AppendMs(out, t->total_ns);
        out += "\r\n";
    }
    if (!framing.keep_alive && framing.version >= 11) out += "Connection: close\r\n";
    if (framing.keep_alive && framing.version == 10) out += "Connection: keep-alive\r\n";
    out += "\r\n";
    if (!framing.head && !Bodyless(response.status)) out += response.body;
}

}  // namespace joopang::http
