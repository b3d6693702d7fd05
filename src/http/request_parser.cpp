#include "http/request_parser.hpp"

#include <boost/beast/core/string.hpp>

#include "http/percent_decode.hpp"

namespace joopang::http {
namespace bhttp = boost::beast::http;

namespace {
constexpr std::size_t kKeptBodyCapacity = 64 * 1024;
}  // namespace

RequestParser::RequestParser(HttpRequest& request, std::string& target)
    : request_(request), target_(target) {
    request_.method.clear();
    request_.path.clear();
    request_.query.clear();
    request_.headers.clear();
    request_.body.clear();
    request_.remote.clear();
    target_.clear();
    // A large body's buffer is not kept for the rest of the connection's life.
    if (request_.body.capacity() > kKeptBodyCapacity) std::string().swap(request_.body);
}

void RequestParser::on_request_impl(
    bhttp::verb, string_view method, string_view target, int version, error_code&) {
    request_.headers.reserve(8);  // one allocation for a typical request's headers
    request_.method.assign(method.data(), method.size());
    target_.assign(target.data(), target.size());
    std::string_view t(target.data(), target.size());
    auto q = t.find('?');
    PercentDecodeInto(request_.path, t.substr(0, q));
    if (q != std::string_view::npos) request_.query.assign(t.substr(q + 1));
    version_ = version;
}

void RequestParser::on_field_impl(bhttp::field name,
                                  string_view name_string,
                                  string_view value,
                                  error_code&) {
    if (name == bhttp::field::expect && boost::beast::iequals(value, "100-continue"))
        expects_continue_ = true;
    std::string lower(name_string.data(), name_string.size());
    for (auto& ch : lower)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    request_.headers.emplace_back(std::move(lower), std::string(value.data(), value.size()));
}

void RequestParser::on_header_impl(error_code&) {}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) {
    // The body limit was checked by basic_parser before this is called.
    if (length) request_.body.reserve(static_cast<std::size_t>(*length));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code&) {
    request_.body.append(body.data(), body.size());
    return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code&) {
    request_.body.append(body.data(), body.size());
    return body.size();
}

}  // namespace joopang::http
