#pragma once
/// The admin bearer token: the configured one, else <data-dir>/admin-token, created with 192
/// random bits (owner-only permissions) on first start.

#include <string>

namespace joopang {

std::string ResolveAdminToken(const std::string& configured, const std::string& data_dir);

}  // namespace joopang
