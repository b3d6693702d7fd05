// The JSON input layer on arbitrary bytes: ParseJsonObject (with the duplicate-key check) and
// every typed accessor never crash; the hot path's CompactSingleIdBody reads exactly what the
// full parser reads whenever it answers.
#include <cstdlib>

#include "http/json_duplicate_keys.hpp"
#include "http/json_input.hpp"

using namespace joopang::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    (void)FindDuplicateKey(body, 32);
    auto obj = ParseJsonObject(body);
    if (auto compact = CompactSingleIdBody(body, "userId")) {
        if (!obj) std::abort();  // a compact body is valid JSON
        auto id = JsonFields(*obj).Id("userId");
        if (!id || *id != *compact) std::abort();
    }
    if (!obj) return 0;
    JsonFields f(*obj);
    for (const auto& [key, value] : *obj) {
        std::string_view k(key.data(), key.size());
        (void)f.Id(k);
        (void)f.OptId(k);
        (void)f.Int(k, -5, 5);
        (void)f.Text(k);
        (void)f.FreeText(k);
        (void)f.MoneyField(k);
        (void)f.OptMoney(k);
        if (auto a = f.Array(k)) {
            for (const auto& item : **a)
                if (item.is_object()) (void)JsonFields(item.get_object(), "x.").Id("id");
        }
    }
    return 0;
}
