#pragma once
/// A RESP2 reply as a plain value: nil, status, error, integer, bulk string or array.
/// A Redis error reply (`-ERR …`, `-WRONGTYPE …`) is a Reply of type kError, never a
/// joopang::Error: only transport problems (connection lost, timeout, cancellation) become an
/// Error.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace joopang::redis {

/// One command's arguments, each sent as a bulk string (never formatted into a command line).
using Args = std::vector<std::string>;

/// Builds Args from strings, string views and literals: `MakeArgs("SET", key, value)`.
/// Inside a coroutine prefer it to a braced list: GCC 12 rejects `co_await c.Command({"GET", k})`
/// ("array used as initializer"), while `co_await c.Command(MakeArgs("GET", k))` compiles.
template <class... Parts>
Args MakeArgs(Parts&&... parts) {
    Args args;
    args.reserve(sizeof...(parts));
    (args.emplace_back(std::forward<Parts>(parts)), ...);
    return args;
}

struct Reply {
    enum class Type : std::uint8_t { kNil, kStatus, kError, kInteger, kBulk, kArray };

    Type type = Type::kNil;
    /// Text of a status, error or bulk reply; empty otherwise.
    std::string str;
    /// Value of an integer reply; 0 otherwise.
    long long integer = 0;
    /// Elements of an array reply; empty otherwise.
    std::vector<Reply> elements;

    static Reply Nil() { return Reply{}; }
    static Reply Status(std::string s) { return Reply{Type::kStatus, std::move(s), 0, {}}; }
    static Reply Err(std::string s) { return Reply{Type::kError, std::move(s), 0, {}}; }
    static Reply Integer(long long v) { return Reply{Type::kInteger, {}, v, {}}; }
    static Reply Bulk(std::string s) { return Reply{Type::kBulk, std::move(s), 0, {}}; }
    static Reply Array(std::vector<Reply> e) { return Reply{Type::kArray, {}, 0, std::move(e)}; }

    bool IsNil() const { return type == Type::kNil; }
    bool IsStatus() const { return type == Type::kStatus; }
    bool IsError() const { return type == Type::kError; }
    bool IsInteger() const { return type == Type::kInteger; }
    bool IsBulk() const { return type == Type::kBulk; }
    bool IsArray() const { return type == Type::kArray; }
    /// Bulk or status: a reply that carries text a caller can use as a value.
    bool IsString() const { return type == Type::kBulk || type == Type::kStatus; }

    /// For an error reply, its first word ("WRONGTYPE", "MOVED", "NOSCRIPT"); empty otherwise.
    std::string_view ErrorCode() const;
    /// True if this is an error reply whose first word is `code`.
    bool IsErrorCode(std::string_view code) const { return IsError() && ErrorCode() == code; }

    /// A readable rendering for logs and test failures, e.g. `[1, "a", nil, (error) ERR x]`.
    std::string ToString() const;

    friend bool operator==(const Reply&, const Reply&) = default;
};

}  // namespace joopang::redis
