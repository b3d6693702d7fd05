#pragma once
#include <cstdint>
#include <string>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace joopang {

/// A stored response for an Idempotency-Key.
struct StoredResponse {
    int status = 0;
    std::string body;
};

/// Claims and records Idempotency-Key outcomes so that a retried POST replays the first answer.
/// Shared by all service instances (lives in the database). Blocking; thread-safe.
class IdempotencyStore {
  public:
    enum class ClaimOutcome { kClaimed, kReplay, kInFlight, kMismatch };
    struct Claim {
        ClaimOutcome outcome = ClaimOutcome::kClaimed;
        StoredResponse response;  // for kReplay
    };
    virtual ~IdempotencyStore() = default;
    /// Claims (scope, key) for a request whose body hashes to `fingerprint`, or reports the
    /// stored response / an in-flight claim / a different body. Claims older than `ttl_ms`
    /// are forgotten.
    virtual Result<Claim> Begin(const std::string& scope,
                                const std::string& key,
                                const std::string& fingerprint,
                                EpochMs now,
                                EpochMs ttl_ms) = 0;
    /// Records the response of a claimed key.
    virtual Status Complete(const std::string& scope,
                            const std::string& key,
                            const StoredResponse& response) = 0;
    /// Drops a claim whose request failed without a definite answer (so a retry runs again).
    virtual Status Abandon(const std::string& scope, const std::string& key) = 0;
};

}  // namespace joopang
