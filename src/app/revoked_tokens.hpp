#pragma once
/// The tokens this instance refuses although their signature is good: the ones logged out,
/// each kept until its own expiry (after which the signature check refuses it anyway). Filled
/// from the shared revocation log (every instance's logouts) and by this instance's own logouts.
/// Thread-safe: the request path reads it on every signed-in request, the follower job writes.

#include <atomic>
#include <cstddef>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"

namespace joopang {

class RevokedTokens {
  public:
    void Add(const std::string& token_id, EpochMs expires_at);
    bool Contains(std::string_view token_id) const;
    /// Forgets tokens expired at `now`.
    void Prune(EpochMs now);
    std::size_t size() const;

  private:
    mutable std::shared_mutex mu_;
    std::unordered_map<std::string, EpochMs> tokens_;
    /// Lets Contains skip the lock while nothing was ever revoked (the usual state).
    std::atomic<bool> empty_{true};
};

}  // namespace joopang
