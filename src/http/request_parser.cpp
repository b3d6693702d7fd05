#include "http/request_parser.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>

#include "http/plain_request.hpp"

namespace joopang::http {
namespace bhttp = boost::beast::http;

RequestParser::RequestParser(HttpRequest& request, std::string& target)
    : request_(request), target_(target) {
    ResetRequest(request_, target_);
}

RequestParser::~RequestParser() {
    if (budget_ && taken_) budget_->Give(taken_);
}

bool RequestParser::TakeBudget(std::size_t n) {
    if (!budget_) return true;
    if (!budget_->Take(n)) {
        over_budget_ = true;
        return false;
    }
    taken_ += n;
    return true;
}

void RequestParser::on_request_impl(
    bhttp::verb, string_view method, string_view target, int version, error_code&) {
    StoreRequestLine(request_, target_, {method.data(), method.size()},
                     {target.data(), target.size()});
    version_ = version;
}

void RequestParser::on_field_impl(bhttp::field name,
                                  string_view name_string,
                                  string_view value,
                                  error_code&) {
    if (name == bhttp::field::expect && boost::beast::iequals(value, "100-continue"))
        expects_continue_ = true;
    if (name == bhttp::field::host) has_host_ = true;
    if (name == bhttp::field::transfer_encoding) has_transfer_encoding_ = true;
    if (name == bhttp::field::content_length) has_content_length_ = true;
    request_.AddHeader({name_string.data(), name_string.size()}, {value.data(), value.size()});
}

void RequestParser::on_header_impl(error_code& ec) {
    // RFC 9112 §6.1, §6.3, §3.2: a body is framed by chunked as the final coding or by
    // Content-Length, never both and never by a coding the server cannot undo — any other reading
    // lets the body's bytes run as a second request (request smuggling). Chunked is an HTTP/1.1
    // coding; an HTTP/1.1 request names its Host.
    if (has_transfer_encoding_) {
        if (version_ < 11)
            framing_error_ = "Transfer-Encoding in an HTTP/1.0 request";
        else if (!chunked())
            framing_error_ = "Transfer-Encoding must end with chunked";
        else if (has_content_length_)
            framing_error_ = "both Transfer-Encoding and Content-Length";
        if (!framing_error_.empty()) {
            ec = bhttp::error::bad_transfer_encoding;
            return;
        }
    }
    if (version_ >= 11 && !has_host_) {
        framing_error_ = "an HTTP/1.1 request without Host";
        ec = bhttp::error::bad_field;
    }
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) {
    // The body limit was checked by basic_parser before this is called. Bytes are taken from the
    // budget as they arrive, not for the declared length: headers alone must not hold any of it
    // (a few dozen connections declaring 1 MiB and sending nothing would otherwise shut every
    // body out). For the same reason the string grows as bytes come.
    if (length)
        request_.body.reserve(std::min<std::size_t>(static_cast<std::size_t>(*length), 64 << 10));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code& ec) {
    if (!TakeBudget(body.size())) {
        ec = bhttp::error::body_limit;
        return 0;
    }
    request_.body.append(body.data(), body.size());
    return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
    return on_body_impl(body, ec);
}

}  // namespace joopang::http
