#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "app/catalog_listener.hpp"
#include "common/error.hpp"

namespace joopang {

/// One published change: its kind and the products (empty: all of them).
struct CatalogChangeEntry {
    CatalogChange kind = CatalogChange::kProducts;
    std::vector<std::int64_t> product_ids;
};

/// The log of catalog changes that every instance follows, so that a product changed through one
/// instance is dropped from every instance's cache within a poll period. Entries are kept a
/// bounded time; a follower that falls further behind only loses cache freshness, which the
/// cache's max age bounds anyway.
class CatalogChangeLog {
  public:
    virtual ~CatalogChangeLog() = default;
    virtual boost::asio::awaitable<Status> Publish(const CatalogChangeEntry& change) = 0;
    /// The entries after `cursor`, oldest first, at most `limit`; moves `cursor` past them. An
    /// empty `cursor` is moved to the log's end, and nothing is returned.
    virtual boost::asio::awaitable<Result<std::vector<CatalogChangeEntry>>> ReadAfter(
        std::string& cursor, int limit) = 0;
};

}  // namespace joopang
