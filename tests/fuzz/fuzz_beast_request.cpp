// The Beast fallback (RequestParser, with joopang's RFC 9112 framing rules) on arbitrary bytes,
// fed whole and in small pieces: never crashes, and the split does not change the outcome.
#include <cstdlib>

#include "http_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::size_t step = 1 + data[0] % 16;
    std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto whole = joopang::fuzz::BeastParse(raw);
    auto pieces = joopang::fuzz::BeastParse(raw, step);
    if (whole.has_value() != pieces.has_value()) std::abort();
    if (whole && (whole->consumed != pieces->consumed ||
                  whole->request.body != pieces->request.body || whole->target != pieces->target))
        std::abort();
    return 0;
}
