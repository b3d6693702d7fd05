#pragma once
/// RESP2 request encoding: every argument is sent as a bulk string (`*N\r\n$len\r\narg\r\n…`), so
/// values containing spaces, CR/LF or binary bytes need no escaping and nothing is ever formatted.

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace joopang::redis {

/// Appends one command (an array of bulk strings) to `out`. Precondition: `args` is not empty.
void AppendCommand(std::string& out, std::span<const std::string> args);
/// Same, for arguments that are already views (e.g. literals).
void AppendCommand(std::string& out, std::initializer_list<std::string_view> args);

/// The pieces of a command, for encoders that build one without an Args: `*n` then n bulks.
void AppendArrayHeader(std::string& out, std::size_t n);
void AppendBulk(std::string& out, std::string_view arg);

/// The encoding of one command as a new string.
std::string EncodeCommand(std::span<const std::string> args);

}  // namespace joopang::redis
