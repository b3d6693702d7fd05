#pragma once
#include <string>

namespace joopang {

/// Salted PBKDF2-HMAC-SHA256 password hashes: "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>".
/// CPU-heavy by design; call from a blocking thread.
std::string HashPassword(const std::string& password);
bool VerifyPassword(const std::string& password, const std::string& encoded);

}  // namespace joopang
