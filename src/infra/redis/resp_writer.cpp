#include "infra/redis/resp_writer.hpp"

#include <charconv>

namespace joopang::redis {

namespace {

void AppendHeader(std::string& out, char marker, std::size_t n) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    out += marker;
    out.append(digits, end);
    out += "\r\n";
}

void AppendBulk(std::string& out, std::string_view arg) {
    AppendHeader(out, '$', arg.size());
    out += arg;
    out += "\r\n";
}

}  // namespace

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
