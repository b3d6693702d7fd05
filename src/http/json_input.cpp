#include "http/json_input.hpp"

#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>

#include "http/json_duplicate_keys.hpp"

namespace joopang::http {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxJsonDepth = 32;

/// At most `max` bytes of `s`, cut at a UTF-8 character boundary.
std::string Utf8Prefix(std::string_view s, std::size_t max) {
    if (s.size() <= max) return std::string(s);
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return std::string(s.substr(0, n));
}

}  // namespace

std::optional<std::int64_t> CompactSingleIdBody(std::string_view body, std::string_view key) {
    // {"  key  ":  digits  }
    if (body.size() < key.size() + 6 || body[0] != '{' || body[1] != '"' ||
        body.compare(2, key.size(), key) != 0 || body.compare(2 + key.size(), 2, "\":") != 0 ||
        body.back() != '}')
        return std::nullopt;
    std::string_view digits = body.substr(key.size() + 4, body.size() - key.size() - 5);
    if (digits.empty() || digits.size() > 18 || digits[0] < '1' || digits[0] > '9')
        return std::nullopt;
    std::int64_t v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');  // at most 18 digits: no overflow
    }
    return v;
}

Result<json::object> ParseJsonObject(std::string_view body, json::storage_ptr storage) {
    if (body.empty()) return Error::Validation("body", "a JSON object body is required");
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = kMaxJsonDepth;
    json::value v = json::parse(body, ec, std::move(storage), opts);
    if (ec) return Error::Validation("body", "malformed JSON: " + ec.message());
    // Parsed, so well formed: now the one thing the parser lets through.
    if (auto key = FindDuplicateKey(body, kMaxJsonDepth)) {
        std::string shown = Utf8Prefix(*key, 64);
        return Error::Validation(shown, "duplicate key \"" + shown + "\" in the JSON body");
    }
    if (!v.is_object()) return Error::Validation("body", "the body must be a JSON object");
    return std::move(v.as_object());
}

Result<json::object> ParseOptionalJsonObject(std::string_view body, json::storage_ptr storage) {
    if (body.empty()) return json::object(std::move(storage));
    return ParseJsonObject(body, std::move(storage));
}

const json::value* JsonFields::Get(std::string_view key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

bool JsonFields::Has(std::string_view key) const { return obj_.contains(key); }
bool JsonFields::IsNull(std::string_view key) const {
    auto it = obj_.find(key);
    return it != obj_.end() && it->value().is_null();
}

static Result<std::int64_t> IntFromJson(const json::value& v,
                                        const std::string& field,
                                        std::int64_t min,
                                        std::int64_t max) {
    std::int64_t n = 0;
    if (v.is_int64()) {
        n = v.get_int64();
    } else if (v.is_uint64()) {
        return Error::Validation(field, field + " is out of range");
    } else if (v.is_double()) {
        double d = v.get_double();
        if (!std::isfinite(d) || std::fabs(d) >= 9.2e18)
            return Error::Validation(field, field + " is out of range");
        return Error::Validation(field, field + " must be an integer");
    } else {
        return Error::Validation(field, field + " must be an integer");
    }
    if (n < min || n > max)
        return Error::Validation(
            field, field + " must be within " + std::to_string(min) + ".." + std::to_string(max));
    return n;
}

Result<std::int64_t> JsonFields::Int(std::string_view key,
                                     std::int64_t min,
                                     std::int64_t max) const {
    const auto* v = Get(key);
    if (!v) return Error::Validation(Name(key), Name(key) + " is required");
    return IntFromJson(*v, Name(key), min, max);
}

Result<std::optional<std::int64_t>> JsonFields::OptInt(std::string_view key,
                                                       std::int64_t min,
                                                       std::int64_t max) const {
    const auto* v = Get(key);
    if (!v) return std::optional<std::int64_t>{};
    auto r = IntFromJson(*v, Name(key), min, max);
    if (!r) return r.error();
    return std::optional<std::int64_t>{*r};
}

Result<std::int64_t> JsonFields::Id(std::string_view key) const {
    const auto* v = Get(key);
    if (!v) return Error::Validation(Name(key), Name(key) + " is required");
    auto r = IntFromJson(*v, Name(key), 1, INT64_MAX);
    if (!r && (v->is_int64() && v->get_int64() <= 0))
        return Error::Validation(Name(key), Name(key) + " must be a positive id");
    return r;
}

Result<std::optional<std::int64_t>> JsonFields::OptId(std::string_view key) const {
    if (!Get(key)) return std::optional<std::int64_t>{};
    auto r = Id(key);
    if (!r) return r.error();
    return std::optional<std::int64_t>{*r};
}

namespace {

/// The first character of `text` that is not allowed, as "U+XXXX": C0 controls and DEL (except
/// tab and line breaks in free text), C1 controls, and in single-line text also the Unicode line
/// and paragraph separators and the bidirectional overrides and isolates, which would make a name
/// display as something else.
std::optional<std::string> ForbiddenControl(std::string_view text, bool multiline) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    auto code = [](unsigned cp) {
        std::string out = "U+";
        for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 15];
        return out;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) {
            if (multiline && (c == '\t' || c == '\n' || c == '\r')) continue;
            return code(c);
        }
        if (c == 0xC2 && i + 1 < text.size()) {  // U+0080..U+009F: C1 controls
            const auto c2 = static_cast<unsigned char>(text[i + 1]);
            if (c2 >= 0x80 && c2 <= 0x9F) return code(c2);
        }
        if (!multiline && c == 0xE2 && i + 2 < text.size()) {
            const unsigned cp = ((c & 0x0Fu) << 12) |
                                ((static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6) |
                                (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
            if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
                (cp >= 0x2066 && cp <= 0x2069))
                return code(cp);
        }
    }
    return std::nullopt;
}

}  // namespace

Result<std::string> JsonFields::CheckedText(std::string_view key, bool multiline) const {
    const auto* v = Get(key);
    if (!v) return Error::Validation(Name(key), Name(key) + " is required");
    if (!v->is_string()) return Error::Validation(Name(key), Name(key) + " must be a string");
    std::string_view text = v->get_string();
    if (auto code = ForbiddenControl(text, multiline)) {
        return Error::Validation(
            Name(key), Name(key) + " must not contain control characters (found " + *code + ")");
    }
    return std::string(text);
}

Result<std::string> JsonFields::Text(std::string_view key) const { return CheckedText(key, false); }

Result<std::optional<std::string>> JsonFields::OptText(std::string_view key) const {
    if (!Get(key)) return std::optional<std::string>{};
    auto r = CheckedText(key, false);
    if (!r) return r.error();
    return std::optional<std::string>{std::move(*r)};
}

Result<std::string> JsonFields::FreeText(std::string_view key) const {
    return CheckedText(key, true);
}

Result<std::optional<std::string>> JsonFields::OptFreeText(std::string_view key) const {
    if (!Get(key)) return std::optional<std::string>{};
    auto r = CheckedText(key, true);
    if (!r) return r.error();
    return std::optional<std::string>{std::move(*r)};
}

Result<Money> MoneyFromJson(const json::value& v, const std::string& field) {
    if (v.is_string()) {
        auto m = Money::Parse(v.get_string());
        if (!m)
            return Error::Validation(field, field +
                                                " must be a decimal amount with at most two "
                                                "decimals, like \"12.50\"");
        return *m;
    }
    if (v.is_int64()) {
        std::int64_t n = v.get_int64();
        if (n > Money::kMaxCents / 100 || n < -Money::kMaxCents / 100)
            return Error::Validation(field, field + " is out of range");
        return Money::FromCents(n * 100);
    }
    if (v.is_double()) {
        double d = v.get_double() * 100.0;
        if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(Money::kMaxCents))
            return Error::Validation(field, field + " is out of range");
        double r = std::round(d);
        if (std::fabs(d - r) > 1e-6)
            return Error::Validation(field, field + " has more than two decimals");
        return Money::FromCents(static_cast<std::int64_t>(r));
    }
    if (v.is_uint64()) return Error::Validation(field, field + " is out of range");
    return Error::Validation(field, field + " must be a decimal string or a number");
}

Result<Money> JsonFields::MoneyField(std::string_view key) const {
    const auto* v = Get(key);
    if (!v) return Error::Validation(Name(key), Name(key) + " is required");
    return MoneyFromJson(*v, Name(key));
}

Result<std::optional<Money>> JsonFields::OptMoney(std::string_view key) const {
    const auto* v = Get(key);
    if (!v) return std::optional<Money>{};
    auto r = MoneyFromJson(*v, Name(key));
    if (!r) return r.error();
    return std::optional<Money>{*r};
}

Result<const json::array*> JsonFields::Array(std::string_view key) const {
    const auto* v = Get(key);
    if (!v) return Error::Validation(Name(key), Name(key) + " is required");
    if (!v->is_array()) return Error::Validation(Name(key), Name(key) + " must be an array");
    return &v->get_array();
}

Result<std::int64_t> ParseQueryInt(std::string_view text,
                                   const std::string& field,
                                   std::int64_t min,
                                   std::int64_t max) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range)
        return Error::Validation(field, field + " is out of range");
    if (ec != std::errc() || p != text.data() + text.size() || text.empty())
        return Error::Validation(field, field + " must be an integer");
    if (v < min || v > max)
        return Error::Validation(
            field, field + " must be within " + std::to_string(min) + ".." + std::to_string(max));
    return v;
}

}  // namespace joopang::http
