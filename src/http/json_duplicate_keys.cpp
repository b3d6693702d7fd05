#include "http/json_duplicate_keys.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <unordered_set>
#include <vector>

namespace joopang::http {
namespace json = boost::json;
namespace {

/// A basic_parser handler that builds nothing: it keeps the keys of each open object.
struct KeyCollector {
    static constexpr std::size_t max_array_size = -1;
    static constexpr std::size_t max_object_size = -1;
    static constexpr std::size_t max_string_size = -1;
    static constexpr std::size_t max_key_size = -1;

    std::vector<std::unordered_set<std::string>> open;  // one per object being read
    std::string key;                                    // the key being read, in parts
    std::optional<std::string> duplicate;

    using ec_t = boost::system::error_code;
    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_array_begin(ec_t&) { return true; }
    bool on_array_end(std::size_t, ec_t&) { return true; }
    bool on_object_begin(ec_t&) {
        open.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, ec_t&) {
        open.pop_back();
        return true;
    }
    bool on_string_part(json::string_view, std::size_t, ec_t&) { return true; }
    bool on_string(json::string_view, std::size_t, ec_t&) { return true; }
    bool on_key_part(json::string_view s, std::size_t, ec_t&) {
        key.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, ec_t& ec) {
        key.append(s.data(), s.size());
        bool fresh = open.back().insert(key).second;
        if (!fresh) {
            duplicate = key;
            ec = json::error::syntax;  // stops the parse; the caller reads `duplicate`
            return false;
        }
        key.clear();
        return true;
    }
    bool on_number_part(json::string_view, ec_t&) { return true; }
    bool on_int64(std::int64_t, json::string_view, ec_t&) { return true; }
    bool on_uint64(std::uint64_t, json::string_view, ec_t&) { return true; }
    bool on_double(double, json::string_view, ec_t&) { return true; }
    bool on_bool(bool, ec_t&) { return true; }
    bool on_null(ec_t&) { return true; }
    bool on_comment_part(json::string_view, ec_t&) { return true; }
    bool on_comment(json::string_view, ec_t&) { return true; }
};

}  // namespace

std::optional<std::string> FindDuplicateKey(std::string_view text, std::size_t max_depth) {
    json::parse_options opts;
    opts.max_depth = max_depth;
    json::basic_parser<KeyCollector> parser(opts);
    boost::system::error_code ec;
    parser.write_some(false, text.data(), text.size(), ec);
    return parser.handler().duplicate;
}

}  // namespace joopang::http
