#pragma once
/// Catalog changes, from the use cases that make them to every instance's catalog cache. A use
/// case calls Changed() after its transaction commits (product created or updated, stock taken by
/// an order or a checkout, given back by a cancel or an expiry): this instance's cache drops the
/// products at once, and the change is published to the shared CatalogChangeLog by the next
/// Sync(). Sync(), a job on every instance, also applies the changes the others published.
/// Nothing here is the only copy of anything: a change that is never published (a crash, Redis
/// down) leaves other instances' entries to age out within the cache's max age.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "app/catalog_listener.hpp"
#include "app/catalog_reader.hpp"
#include "app/ports/catalog_change_log.hpp"

namespace joopang {

class CatalogChanges final : public CatalogListener {
  public:
    CatalogChanges(CatalogReader& reader, CatalogChangeLog& log) : reader_(reader), log_(log) {}

    void Changed(CatalogChange kind, const std::vector<std::int64_t>& product_ids) override;

    /// Publishes what changed here since the last call, then applies what the others published.
    /// The first call only finds the log's end (this instance's cache starts empty).
    /// Runs on one job at a time (it keeps the cursor).
    boost::asio::awaitable<Status> Sync();

  private:
    /// Changes of one kind not yet published.
    struct Pending {
        std::vector<std::int64_t> ids;
        bool all = false;
        void Add(const std::vector<std::int64_t>& product_ids);
    };
    boost::asio::awaitable<Status> Publish(CatalogChange kind, Pending pending);

    CatalogReader& reader_;
    CatalogChangeLog& log_;
    std::mutex mu_;
    Pending products_, stock_;  // changed here, not yet published
    std::string cursor_;  // the last entry applied (empty: not found yet; own entries apply too)
};

}  // namespace joopang
