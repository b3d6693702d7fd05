#include "http/error_response.hpp"

#include <boost/json.hpp>

#include "common/clock.hpp"

namespace joopang::http {

HttpResponse ErrorResponse(const Error& error, std::string_view path) {
    boost::json::object body;
    body["code"] = WireCode(error.code);
    body["message"] = error.message.empty() ? std::string(WireCode(error.code)) : error.message;
    body["timestamp"] = FormatRfc3339(NowMs());
    body["path"] = path;
    if (!error.field.empty()) body["field"] = error.field;
    HttpResponse res;
    res.status = HttpStatus(error.code);
    res.body = boost::json::serialize(body);
    res.outcome_unknown = error.outcome_unknown;
    if (error.retry_after_s > 0)
        res.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
    return res;
}

}  // namespace joopang::http
