// The two HTTP parsers on the same bytes: whatever the fast path accepts, Beast must accept as
// the same request (length, version, keep-alive, target, method, path, query, headers, body).
// The fast path may decline anything (Beast then decides alone), but never disagree.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "http_parse.hpp"

namespace {

[[noreturn]] void Disagree(const char* what) {
    std::fprintf(stderr, "the HTTP parsers disagree: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view raw(reinterpret_cast<const char*>(data), size);
    auto fast = joopang::fuzz::FastParse(raw);
    if (!fast) return 0;
    auto beast = joopang::fuzz::BeastParse(raw);
    if (!beast) Disagree("the fast path accepted what Beast refuses");
    if (fast->consumed != beast->consumed) Disagree("length");
    if (fast->version != beast->version) Disagree("version");
    if (fast->keep_alive != beast->keep_alive) Disagree("keep-alive");
    if (fast->target != beast->target) Disagree("target");
    if (fast->request.method != beast->request.method) Disagree("method");
    if (fast->request.path != beast->request.path) Disagree("path");
    if (fast->request.query != beast->request.query) Disagree("query");
    if (fast->request.body != beast->request.body) Disagree("body");
    if (!std::ranges::equal(fast->request.Headers(), beast->request.Headers())) Disagree("headers");
    return 0;
}
