#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace joopang {

/// A logged-out token: refused until it would have expired anyway.
struct Revocation {
    std::string token_id;
    EpochMs expires_at = 0;
};

/// The log of logouts that every instance follows, so that a token revoked on one is refused by
/// all within a poll period; it keeps each entry at least until the longest token lifetime has
/// passed, so that an instance that starts later still learns of every revoked live token.
class RevocationLog {
  public:
    virtual ~RevocationLog() = default;
    virtual boost::asio::awaitable<Status> Publish(const Revocation& revocation) = 0;
    /// The entries after `cursor` (empty: from the oldest kept), oldest first, at most `limit`;
    /// moves `cursor` past them.
    virtual boost::asio::awaitable<Result<std::vector<Revocation>>> ReadAfter(std::string& cursor,
                                                                              int limit) = 0;
};

}  // namespace joopang
