#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/shop_types.hpp"
#include "common/error.hpp"
#include "domain/product.hpp"

namespace joopang {

/// Categories and products with their items. Blocking; thread-safe.
class CatalogRepository {
  public:
    virtual ~CatalogRepository() = default;
    /// CATEGORY_NOT_FOUND if the parent does not exist.
    virtual Result<Category> CreateCategory(const std::string& name,
                                            std::optional<std::int64_t> parent_id) = 0;
    virtual Result<std::vector<Category>> ListCategories() = 0;
    /// CODE_TAKEN on a duplicate product or item code; CATEGORY_NOT_FOUND.
    virtual Result<Product> CreateProduct(const NewProduct& product) = 0;
    /// VERSION_CONFLICT when `update.version` is not the stored version; bumps the version.
    virtual Result<Product> UpdateProduct(std::int64_t id, const ProductUpdate& update) = 0;
    /// PRODUCT_NOT_FOUND if absent.
    virtual Result<Product> FindProduct(std::int64_t id) = 0;
    virtual Result<Page<Product>> ListProducts(const ProductQuery& query) = 0;
    /// Adds counted views to products and to their views of the minute of `at` (batched flush of
    /// the view counter).
    virtual Status AddViews(EpochMs at,
                            const std::vector<std::pair<std::int64_t, std::int64_t>>& views) = 0;
};

}  // namespace joopang
