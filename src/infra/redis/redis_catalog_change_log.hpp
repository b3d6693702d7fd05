#pragma once
/// CatalogChangeLog on Redis: the stream `catalog:changes`, one entry per published batch (fields
/// `kind`: `products` or `stock`; `ids`: product ids separated by commas, or `*` for all). Every
/// instance reads it with XRANGE from its last id — no subscription to keep alive. XADD trims the
/// stream to about kKeep entries on the way: a follower that far behind has had its entries age out
/// of its cache.

#include <memory>

#include "app/ports/catalog_change_log.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisCatalogChangeLog final : public CatalogChangeLog {
  public:
    explicit RedisCatalogChangeLog(std::shared_ptr<Client> client) : client_(std::move(client)) {}

    Awaitable<Status> Publish(const CatalogChangeEntry& change) override;
    Awaitable<Result<std::vector<CatalogChangeEntry>>> ReadAfter(std::string& cursor,
                                                                 int limit) override;

    static constexpr const char* kKey = "catalog:changes";
    static constexpr int kKeep = 10'000;

  private:
    std::shared_ptr<Client> client_;
};

}  // namespace joopang::redis
