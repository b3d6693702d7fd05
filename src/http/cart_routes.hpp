#pragma once
#include "app/cart_service.hpp"
#include "http/router.hpp"

namespace joopang::http {

/// Registers the cart of SPEC §3: read, set and remove lines, check out (one order for every
/// line). Only the cart's owner, or the admin token.
void RegisterCartRoutes(Router& router, CartService& carts);

}  // namespace joopang::http
