#include "http/percent_decode.hpp"

namespace joopang::http {

std::string PercentDecode(std::string_view s, bool plus_is_space) {
    std::string out;
    PercentDecodeInto(out, s, plus_is_space);
    return out;
}

void PercentDecodeInto(std::string& out, std::string_view s, bool plus_is_space) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    // Most paths and queries have nothing to decode: copy them whole.
    if (s.find('%') == std::string_view::npos &&
        (!plus_is_space || s.find('+') == std::string_view::npos)) {
        out.assign(s);
        return;
    }
    out.clear();
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (plus_is_space && s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
}

}  // namespace joopang::http
