#pragma once
#include "app/catalog_reader.hpp"
#include "app/shop_service.hpp"
#include "http/router.hpp"

namespace joopang::http {

/// Registers SPEC §3: users and wallets, categories and products, orders and payments.
void RegisterUserRoutes(Router& router, ShopService& shop);
/// Product reads and the first list pages are answered by `reader` (cached).
void RegisterCatalogRoutes(Router& router, ShopService& shop, CatalogReader& reader);
void RegisterOrderRoutes(Router& router, ShopService& shop);

}  // namespace joopang::http
