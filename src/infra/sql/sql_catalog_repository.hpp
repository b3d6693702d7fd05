#pragma once
#include "app/ports/catalog_repository.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

class SqlCatalogRepository final : public CatalogRepository {
  public:
    explicit SqlCatalogRepository(Db& db) : db_(db) {}
    Result<Category> CreateCategory(const std::string& name,
                                    std::optional<std::int64_t> parent_id) override;
    Result<std::vector<Category>> ListCategories() override;
    Result<Product> CreateProduct(const NewProduct& product) override;
    Result<Product> UpdateProduct(std::int64_t id, const ProductUpdate& update) override;
    Result<Product> FindProduct(std::int64_t id) override;
    Result<Page<Product>> ListProducts(const ProductQuery& query) override;
    Status AddViews(EpochMs at,
                    const std::vector<std::pair<std::int64_t, std::int64_t>>& views) override;

    static constexpr EpochMs kViewMinuteMs = 60'000;
    /// How long per-minute views are kept: the longest ranking window, with a day's margin.
    static constexpr EpochMs kViewKeepMs = 8LL * 24 * 3600 * 1000;

  private:
    Db& db_;
};

}  // namespace joopang::sql
