#pragma once
#include <string_view>

#include "common/error.hpp"
#include "http/http_types.hpp"

namespace joopang::http {

/// The one place that turns an Error into an HTTP response: status from the error table, body
/// `{"code","message","timestamp","path"[,"field"]}`, `Retry-After` for 429/503.
HttpResponse ErrorResponse(const Error& error, std::string_view path);

}  // namespace joopang::http
