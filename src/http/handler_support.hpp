#pragma once
/// Shared pieces of route handlers.

#include <boost/asio/awaitable.hpp>

#include "http/error_response.hpp"
#include "http/json_input.hpp"
#include "http/json_output.hpp"
#include "http/request_context.hpp"
#include "http/router.hpp"

/// Unwraps a Result into `var`, or answers the request with its error.
#define JP_TRY(var, expr)                                                                          \
    auto var##_result = (expr);                                                                    \
    if (!var##_result) co_return ::joopang::http::ErrorResponse(var##_result.error(), ctx.path()); \
    auto var = std::move(*var##_result)

namespace joopang::http {

/// Answers `status` with ToJson(value) or the error.
template <class T>
HttpResponse Reply(RequestContext& ctx, Result<T>& r, int status = 200) {
    if (!r) return ErrorResponse(r.error(), ctx.path());
    return JsonResponse(status, ToJson(*r));
}

}  // namespace joopang::http
