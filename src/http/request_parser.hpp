#pragma once
/// An HTTP/1.1 request parser that fills an HttpRequest directly: Beast's basic_parser does the
/// parsing (limits, chunked bodies, keep-alive rules); this class only stores what it reports,
/// with lower-cased header names, so no intermediate Beast message or field list is built.
/// Included by the server and its tests only (it pulls in Beast).

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>
#include <ostream>  // basic_parser.hpp needs it and does not include it
#include <string>
#include <utility>

#include "http/body_budget.hpp"
#include "http/http_types.hpp"

namespace joopang::http {

class RequestParser : public boost::beast::http::basic_parser<true> {
  public:
    /// Parses into storage of its own.
    RequestParser() : request_(own_request_), target_(own_target_) {}
    /// Parses into `request` and `target`, emptied first but keeping their capacity: a
    /// connection reuses them from one request to the next (a Beast parser is single-use), which
    /// saves the allocations of the header list, the target and the path on every request.
    RequestParser(HttpRequest& request, std::string& target);
    /// Gives back what the body took from the budget.
    ~RequestParser() override;

    /// Counts the body's bytes against `budget` (which must outlive the parser) as they arrive:
    /// a byte that does not fit fails the parse with error::body_limit and over_budget() set.
    void set_budget(BodyBudget* budget) { budget_ = budget; }
    bool over_budget() const { return over_budget_; }
    /// Hands what the body took to the caller, who gives it back once the body is freed (after
    /// the response): the parser then gives nothing back itself.
    std::size_t ReleaseBudget() { return std::exchange(taken_, 0); }

    /// The request parsed so far; complete once is_done().
    HttpRequest& request() { return request_; }
    /// The raw request target (path and query, not decoded), available after the header.
    const std::string& target() const { return target_; }
    int version() const { return version_; }
    bool expects_continue() const { return expects_continue_; }
    /// Why the header was refused under the framing rules of RFC 9112 that Beast does not apply
    /// itself (the parse then fails with error::bad_transfer_encoding or bad_field); empty if not.
    const std::string& framing_error() const { return framing_error_; }

  private:
    using error_code = boost::beast::error_code;
    using string_view = boost::beast::string_view;

    void on_request_impl(boost::beast::http::verb,
                         string_view method,
                         string_view target,
                         int version,
                         error_code&) override;
    void on_response_impl(int, string_view, int, error_code&) override {}
    void on_field_impl(boost::beast::http::field name,
                       string_view name_string,
                       string_view value,
                       error_code&) override;
    void on_header_impl(error_code&) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override;
    std::size_t on_body_impl(string_view body, error_code&) override;
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override;
    void on_finish_impl(error_code&) override {}

    HttpRequest own_request_;
    std::string own_target_;
    HttpRequest& request_;
    std::string& target_;
    int version_ = 11;
    bool expects_continue_ = false;
    bool has_host_ = false;
    bool has_transfer_encoding_ = false;
    bool has_content_length_ = false;
    std::string framing_error_;
    BodyBudget* budget_ = nullptr;
    std::size_t taken_ = 0;  // from budget_
    bool over_budget_ = false;

    /// Takes `n` more body bytes from the budget; false (and over_budget_) when they do not fit.
    bool TakeBudget(std::size_t n);
};

}  // namespace joopang::http
