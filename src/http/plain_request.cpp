#include "http/plain_request.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/ascii.hpp"
#include "http/percent_decode.hpp"

namespace joopang::http {
namespace {

/// RFC 9110 tchar: the characters of a method or a field name.
constexpr std::array<bool, 256> kTchar = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

unsigned char Byte(char c) { return static_cast<unsigned char>(c); }

/// Printable ASCII: the only target characters the fast path takes.
bool Visible(char c) { return Byte(c) > 0x20 && Byte(c) < 0x7f; }

/// A field value character the fast path takes: printable ASCII, space or tab.
bool ValueChar(char c) { return (Byte(c) >= 0x20 && Byte(c) < 0x7f) || c == '\t'; }

/// Moves `p` over the bytes in [lo, 0x7e] eight at a time, stopping before `stop` and before the
/// first word holding any other byte (the caller's byte loop takes it from there). The classic
/// SWAR tests: a byte below `lo` (lo <= 0x80) or above 0x7e sets its high bit in the result.
const char* SkipPrintable(const char* p, const char* stop, unsigned char lo) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    while (stop - p >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        const std::uint64_t below = (w - kOnes * lo) & ~w;
        const std::uint64_t above = (w + kOnes) | w;  // 0x7f..0xff
        if ((below | above) & kHigh) break;
        p += 8;
    }
    return p;
}

/// The other fields that change how a message is framed or answered.
bool LeftToBeast(std::string_view name) {
    for (std::string_view field : {"transfer-encoding", "expect", "upgrade", "proxy-connection"})
        if (AsciiIEquals(name, field)) return true;
    return false;
}

}  // namespace

void ResetRequest(HttpRequest& request, std::string& target) {
    // A large body's buffer is not kept for the rest of the connection's life.
    constexpr std::size_t kKeptBodyCapacity = 64 * 1024;
    request.method.clear();
    request.path.clear();
    request.query.clear();
    request.ClearHeaders();
    request.body.clear();
    request.remote.clear();
    target.clear();
    if (request.body.capacity() > kKeptBodyCapacity) std::string().swap(request.body);
}

void StoreRequestLine(HttpRequest& request,
                      std::string& target,
                      std::string_view method,
                      std::string_view raw_target) {
    request.method.assign(method);
    target.assign(raw_target);
    auto q = raw_target.find('?');
    PercentDecodeInto(request.path, raw_target.substr(0, q));
    if (q != std::string_view::npos) request.query.assign(raw_target.substr(q + 1));
}

std::optional<PlainRequest> ParsePlainRequest(std::string_view input,
                                              std::size_t header_limit,
                                              std::uint64_t body_limit,
                                              HttpRequest& request,
                                              std::string& target) {
    // One pass, line by line. Each line is found with memchr and must end with CRLF; its '\r' then
    // stops every scan inside the line (it is neither a token, a target nor a value character),
    // so the scans need no bounds checks. The header must end well inside the limit, so that
    // Beast's own accounting of the limit can never disagree.
    const char* const begin = input.data();
    const char* const end = begin + std::min(input.size(), header_limit / 2);
    // The '\r' of the CRLF ending the line that starts at `from`; null if the line is not whole
    // within `end` or ends with a bare LF.
    auto line_end = [end](const char* from) -> const char* {
        if (from >= end) return nullptr;
        const auto* lf = static_cast<const char*>(std::memchr(from, '\n', end - from));
        if (lf == nullptr || lf == from || lf[-1] != '\r') return nullptr;
        return lf - 1;
    };

    // request-line = method SP origin-form SP HTTP-version CRLF
    const char* cr = line_end(begin);
    if (cr == nullptr) return std::nullopt;
    const char* p = begin;
    while (kTchar[Byte(*p)]) ++p;
    if (p == begin || *p != ' ') return std::nullopt;
    const std::string_view method(begin, static_cast<std::size_t>(p - begin));
    const char* const target_begin = ++p;
    if (*p != '/') return std::nullopt;
    p = SkipPrintable(p, cr, 0x21);
    while (Visible(*p)) ++p;
    if (*p != ' ') return std::nullopt;
    const std::string_view raw_target(target_begin, static_cast<std::size_t>(p - target_begin));
    ++p;
    if (cr - p != 8 || std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '1' && p[7] != '0'))
        return std::nullopt;
    const int version = p[7] == '1' ? 11 : 10;

    ResetRequest(request, target);
    StoreRequestLine(request, target, method, raw_target);
    std::optional<std::uint64_t> content_length;
    bool host = false;
    enum class Connection { kUnset, kClose, kKeepAlive } connection = Connection::kUnset;
    for (;;) {
        p = cr + 2;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') break;  // the empty line
        // field-line = field-name ":" OWS field-value OWS CRLF (no obs-fold: a line starting
        // with a space has an empty name and is declined)
        cr = line_end(p);
        if (cr == nullptr) return std::nullopt;
        const char* const name_begin = p;
        while (kTchar[Byte(*p)]) ++p;
        if (p == name_begin || *p != ':') return std::nullopt;
        const std::string_view name(name_begin, static_cast<std::size_t>(p - name_begin));
        ++p;
        while (*p == ' ' || *p == '\t') ++p;
        const char* const value_begin = p;
        p = SkipPrintable(p, cr, 0x20);
        while (ValueChar(*p)) ++p;
        if (p != cr) return std::nullopt;  // a control or non-ASCII byte in the value
        while (p > value_begin && (p[-1] == ' ' || p[-1] == '\t')) --p;
        const std::string_view value(value_begin, static_cast<std::size_t>(p - value_begin));

        // The fields that change how the message is framed or answered are left to Beast,
        // except a single plain Content-Length and a single plain Connection.
        if (AsciiIEquals(name, "content-length")) {
            if (content_length || value.empty() || value.size() > 18) return std::nullopt;
            std::uint64_t n = 0;
            for (char c : value) {
                if (c < '0' || c > '9') return std::nullopt;
                n = n * 10 + static_cast<std::uint64_t>(c - '0');
            }
            content_length = n;
        } else if (AsciiIEquals(name, "connection")) {
            if (connection != Connection::kUnset) return std::nullopt;
            if (AsciiIEquals(value, "close"))
                connection = Connection::kClose;
            else if (AsciiIEquals(value, "keep-alive"))
                connection = Connection::kKeepAlive;
            else
                return std::nullopt;
        } else if (LeftToBeast(name)) {
            return std::nullopt;
        } else if (AsciiIEquals(name, "host")) {
            host = true;
        }
        request.AddHeader(name, value);
    }

    if (version == 11 && !host) return std::nullopt;  // Beast refuses it (RequestParser)
    const auto header_size = static_cast<std::size_t>(p + 2 - begin);
    std::size_t consumed = header_size;
    if (content_length) {
        if (*content_length >= body_limit) return std::nullopt;                 // Beast answers 413
        if (input.size() - header_size < *content_length) return std::nullopt;  // not whole yet
        const auto body_size = static_cast<std::size_t>(*content_length);
        request.body.assign(input.substr(header_size, body_size));
        consumed += body_size;
    }
    PlainRequest out;
    out.consumed = consumed;
    out.version = version;
    out.keep_alive =
        version == 11 ? connection != Connection::kClose : connection == Connection::kKeepAlive;
    return out;
}

}  // namespace joopang::http
