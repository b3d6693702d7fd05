#pragma once
#include "app/auth_service.hpp"
#include "http/router.hpp"

namespace joopang::http {

/// SPEC §2 signed-in users: login, logout, and the admin's token minting.
void RegisterAuthRoutes(Router& router, AuthService& auth);

}  // namespace joopang::http
