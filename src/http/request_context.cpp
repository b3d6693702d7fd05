#include "http/request_context.hpp"

#include "http/json_input.hpp"
#include "http/percent_decode.hpp"

namespace joopang::http {

Result<std::int64_t> RequestContext::PathId(std::size_t i, std::string_view name) const {
    return ParseQueryInt(params_.at(i), std::string(name), 1, INT64_MAX);
}

Result<std::int64_t> RequestContext::PathUser(std::size_t i) const {
    auto id = PathId(i, "id");
    if (!id) return id;
    if (auto st = CheckOwner(*id); !st) return st.error();
    return id;
}

Result<std::int64_t> RequestContext::ActingUser(std::optional<std::int64_t> named) {
    if (caller_.is_user()) {
        if (named && *named != caller_.user_id)
            return Error{ErrorCode::kForbidden, "userId must be the signed-in user", "userId"};
        return *(acted_for_ = caller_.user_id);
    }
    if (caller_.is_admin() && named) return *(acted_for_ = *named);
    if (caller_.is_admin())
        return Error::Validation("userId", "userId is required when acting with the admin token");
    return Error{ErrorCode::kUnauthorized, "a signed-in user is required"};
}

Status RequestContext::CheckOwner(std::int64_t owner) const {
    if (caller_.is_admin() || (caller_.is_user() && caller_.user_id == owner)) return {};
    if (!caller_.is_user()) return Error{ErrorCode::kUnauthorized, "a signed-in user is required"};
    return Error{ErrorCode::kForbidden, "this belongs to another user"};
}

std::optional<std::string> RequestContext::Query(std::string_view name) const {
    std::string_view q = request_.query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        auto eq = pair.find('=');
        std::string key = PercentDecode(pair.substr(0, eq), true);
        if (key == name)
            return eq == std::string_view::npos ? std::string()
                                                : PercentDecode(pair.substr(eq + 1), true);
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

}  // namespace joopang::http
