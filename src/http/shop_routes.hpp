#pragma once
#include "app/shop_service.hpp"
#include "http/router.hpp"

namespace joopang::http {

/// Registers SPEC §3: users and wallets, categories and products, orders and payments.
void RegisterUserRoutes(Router& router, ShopService& shop);
void RegisterCatalogRoutes(Router& router, ShopService& shop);
void RegisterOrderRoutes(Router& router, ShopService& shop);

}  // namespace joopang::http
