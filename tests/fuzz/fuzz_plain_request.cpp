// The request fast path on arbitrary bytes: never crashes, never reads past its input, and what
// it accepts is a whole request no longer than the input.
#include <cstdlib>

#include "http_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view raw(reinterpret_cast<const char*>(data), size);
    auto fast = joopang::fuzz::FastParse(raw);
    if (fast && (fast->consumed == 0 || fast->consumed > size)) std::abort();
    return 0;
}
