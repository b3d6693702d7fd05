#include "domain/user.hpp"

namespace joopang {

std::string User::FullName() const {
    if (first_name.empty()) return last_name;
    if (last_name.empty()) return first_name;
    return first_name + " " + last_name;
}

bool IsValidEmail(const std::string& email) {
    if (email.size() < 3 || email.size() > 254) return false;
    auto at = email.find('@');
    if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos)
        return false;
    auto dot = email.find('.', at + 2);
    if (dot == std::string::npos || dot + 1 >= email.size()) return false;
    for (unsigned char c : email)
        if (c <= ' ' || c == 0x7f) return false;
    return email.back() != '.';
}

std::string NormalizeEmail(std::string email) {
    for (char& c : email)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return email;
}

}  // namespace joopang
