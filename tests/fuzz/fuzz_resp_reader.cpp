// The RESP reader (hiredis underneath) on arbitrary bytes in arbitrary pieces: never crashes, and
// the replies do not depend on how the bytes were split.
#include <cstdlib>
#include <vector>

#include "infra/redis/resp_reader.hpp"

using joopang::redis::Reply;
using joopang::redis::RespReader;

namespace {

/// The replies in `bytes` fed in pieces of `step` (0: whole), and whether the stream broke.
std::pair<std::vector<Reply>, bool> ReadAll(std::string_view bytes, std::size_t step) {
    RespReader reader;
    std::vector<Reply> out;
    std::size_t at = 0;
    while (at < bytes.size()) {
        std::size_t n = step == 0 ? bytes.size() : std::min(step, bytes.size() - at);
        if (!reader.Feed(bytes.substr(at, n))) return {out, true};
        at += n;
        for (;;) {
            Reply r;
            auto next = reader.Pop(r);
            if (next == RespReader::Next::kProtocolError) return {out, true};
            if (next == RespReader::Next::kIncomplete) break;
            out.push_back(std::move(r));
            if (out.size() > 10000) return {out, false};
        }
    }
    return {out, false};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::size_t step = 1 + data[0] % 8;
    std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto whole = ReadAll(bytes, 0);
    auto pieces = ReadAll(bytes, step);
    if (!whole.second && !pieces.second && whole.first != pieces.first) std::abort();
    return 0;
}
