#pragma once
/// Typed, validating access to a JSON request body. Every failure is a VALIDATION_FAILED error
/// naming the field by its JSON path ("items[2].quantity"), so the HTTP layer can answer 400.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/money.hpp"

namespace joopang::http {

/// Parses `body` as a JSON object (400 when malformed, not an object, or empty), allocating from
/// `storage` (the default heap, or e.g. a monotonic_resource over a local buffer on hot paths).
Result<boost::json::object> ParseJsonObject(std::string_view body,
                                            boost::json::storage_ptr storage = {});

/// ParseJsonObject, except that an empty body is an empty object (a POST whose fields are all
/// optional, such as a payment by the signed-in owner).
Result<boost::json::object> ParseOptionalJsonObject(std::string_view body,
                                                    boost::json::storage_ptr storage = {});

class JsonFields {
  public:
    /// `prefix` is prepended to field names in errors ("items[0].").
    JsonFields(const boost::json::object& obj, std::string prefix = "")
        : obj_(obj), prefix_(std::move(prefix)) {}

    /// A positive 64-bit id.
    Result<std::int64_t> Id(std::string_view key) const;
    Result<std::optional<std::int64_t>> OptId(std::string_view key) const;
    /// An integer within [min, max].
    Result<std::int64_t> Int(std::string_view key, std::int64_t min, std::int64_t max) const;
    Result<std::optional<std::int64_t>> OptInt(std::string_view key,
                                               std::int64_t min,
                                               std::int64_t max) const;
    /// A string on one line — a name, title, code, email: no control characters (U+0000..U+001F,
    /// U+007F), which would otherwise be stored and shown to others.
    Result<std::string> Text(std::string_view key) const;
    Result<std::optional<std::string>> OptText(std::string_view key) const;
    /// Free text — a description, a memo, a password: tabs and line breaks allowed, other control
    /// characters not.
    Result<std::string> FreeText(std::string_view key) const;
    Result<std::optional<std::string>> OptFreeText(std::string_view key) const;
    /// Money as "12.50" or a JSON number with at most two decimals.
    Result<Money> MoneyField(std::string_view key) const;
    Result<std::optional<Money>> OptMoney(std::string_view key) const;
    /// A nested array (required).
    Result<const boost::json::array*> Array(std::string_view key) const;
    bool Has(std::string_view key) const;
    /// True when the key is present with JSON null.
    bool IsNull(std::string_view key) const;

    std::string Name(std::string_view key) const { return prefix_ + std::string(key); }

  private:
    const boost::json::value* Get(std::string_view key) const;
    Result<std::string> CheckedText(std::string_view key, bool multiline) const;
    const boost::json::object& obj_;
    std::string prefix_;
};

/// The id in a body that is exactly `{"<key>":<n>}` — no whitespace, n written as a plain positive
/// integer of at most 18 digits (no sign, leading zero, fraction or exponent) — else nullopt.
/// Such a body means the same through ParseJsonObject + JsonFields::Id; this only skips building
/// a JSON object on a hot path (a coupon drop's issue requests). Anything else, valid or not,
/// gets nullopt and goes through the full parser, which gives the answer and the errors.
std::optional<std::int64_t> CompactSingleIdBody(std::string_view body, std::string_view key);

/// Parses a money value from a JSON value (string or number) for `field`.
Result<Money> MoneyFromJson(const boost::json::value& v, const std::string& field);
/// Parses a query-string integer for `field` within [min, max].
Result<std::int64_t> ParseQueryInt(std::string_view text,
                                   const std::string& field,
                                   std::int64_t min,
                                   std::int64_t max);

}  // namespace joopang::http
