#include "infra/redis/reply.hpp"

namespace joopang::redis {

std::string_view Reply::ErrorCode() const {
    if (type != Type::kError) return {};
    std::string_view s = str;
    return s.substr(0, s.find(' '));
}

namespace {

void Render(const Reply& r, std::string& out) {
    switch (r.type) {
        case Reply::Type::kNil:
            out += "nil";
            break;
        case Reply::Type::kStatus:
            out += r.str;
            break;
        case Reply::Type::kError:
            out += "(error) ";
            out += r.str;
            break;
        case Reply::Type::kInteger:
            out += std::to_string(r.integer);
            break;
        case Reply::Type::kBulk:
            out += '"';
            out += r.str;
            out += '"';
            break;
        case Reply::Type::kArray:
            out += '[';
            for (std::size_t i = 0; i < r.elements.size(); ++i) {
                if (i != 0) out += ", ";
                Render(r.elements[i], out);
            }
            out += ']';
            break;
    }
}

}  // namespace

std::string Reply::ToString() const {
    std::string out;
    Render(*this, out);
    return out;
}

}  // namespace joopang::redis
