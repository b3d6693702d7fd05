#include "http/error_response.hpp"

#include "common/clock.hpp"
#include "observability/logging.hpp"

namespace joopang::http {

HttpResponse ErrorResponse(const Error& error, std::string_view path) {
    // Written directly rather than through a JSON object tree: in a coupon drop most answers are
    // 409/410 errors, so this is a hot path.
    std::string_view code = WireCode(error.code);
    HttpResponse res;
    res.status = HttpStatus(error.code);
    std::string& b = res.body;
    b.reserve(160 + error.message.size() + path.size());
    b += "{\"code\":\"";
    b += code;
    b += "\",\"message\":\"";
    obs::AppendJsonEscaped(b, error.message.empty() ? code : std::string_view(error.message));
    b += "\",\"timestamp\":\"";
    AppendRfc3339(b, NowMs());
    b += "\",\"path\":\"";
    obs::AppendJsonEscaped(b, path);
    b += '"';
    if (!error.field.empty()) {
        b += ",\"field\":\"";
        obs::AppendJsonEscaped(b, error.field);
        b += '"';
    }
    b += '}';
    res.outcome_unknown = error.outcome_unknown;
    if (error.retry_after_s > 0)
        res.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
    return res;
}

}  // namespace joopang::http
