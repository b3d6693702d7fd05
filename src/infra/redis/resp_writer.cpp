#include "infra/redis/resp_writer.hpp"

#include <charconv>

namespace joopang::redis {

namespace {

// `*n` or `$n` and CRLF, built on the stack and appended at once (this runs for every argument
// of every command).
void AppendHeader(std::string& out, char marker, std::size_t n) {
    char line[24];
    line[0] = marker;
    auto [end, ec] = std::to_chars(line + 1, line + sizeof line - 2, n);
    *end++ = '\r';
    *end++ = '\n';
    out.append(line, static_cast<std::size_t>(end - line));
}

}  // namespace

void AppendArrayHeader(std::string& out, std::size_t n) { AppendHeader(out, '*', n); }

void AppendBulk(std::string& out, std::string_view arg) {
    AppendHeader(out, '$', arg.size());
    out.append(arg.data(), arg.size());
    out.append("\r\n", 2);
}

void AppendCommand(std::string& out, std::span<const std::string> args) {
    std::size_t size = 16;
    for (const auto& a : args) size += a.size() + 16;
    out.reserve(out.size() + size);
    AppendHeader(out, '*', args.size());
    for (const auto& a : args) AppendBulk(out, a);
}

void AppendCommand(std::string& out, std::initializer_list<std::string_view> args) {
    AppendHeader(out, '*', args.size());
    for (auto a : args) AppendBulk(out, a);
}

std::string EncodeCommand(std::span<const std::string> args) {
    std::string out;
    AppendCommand(out, args);
    return out;
}

}  // namespace joopang::redis
