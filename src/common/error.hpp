#pragma once
/// Errors that cross layers. The code, its wire string and HTTP status come from error_codes.def;
/// nothing else in the project maps errors to statuses.

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace joopang {

enum class ErrorCode {
#define X(name, wire, status) name,
#include "common/error_codes.def"
#undef X
};

/// The wire string of a code, e.g. "OUT_OF_STOCK".
std::string_view WireCode(ErrorCode code);
/// The HTTP status a code is answered with.
int HttpStatus(ErrorCode code);

/// An expected failure: a code from the table, a human message and, for validation errors, the
/// offending field (a JSON path such as "items[2].quantity").
struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;
    std::string field;
    /// Seconds a client should wait before retrying (429/503); 0 = not set.
    int retry_after_s = 0;
    /// The failed operation may nevertheless have been applied (e.g. a connection lost during
    /// COMMIT): a retry must not run it again blindly.
    bool outcome_unknown = false;

    static Error Validation(std::string field, std::string message) {
        return Error{ErrorCode::kValidationFailed, std::move(message), std::move(field)};
    }
    static Error Unavailable(std::string message, int retry_after_s = 1) {
        return Error{ErrorCode::kUnavailable, std::move(message), {}, retry_after_s};
    }
    static Error Internal(std::string message) {
        return Error{ErrorCode::kInternal, std::move(message), {}};
    }
};

/// Called by boost::system::result::value() on an error: this is a bug in the caller, so it throws.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

/// Result<void>: success is `{}`.
using Status = boost::system::result<void, Error>;

}  // namespace joopang
