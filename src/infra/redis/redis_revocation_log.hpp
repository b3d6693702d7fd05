#pragma once
/// RevocationLog on Redis: the stream `auth:revocations`, one entry per logout (fields `jti`,
/// `exp`). Every instance reads it with XRANGE from its last id, so a logout reaches all of them
/// without a subscription to keep alive, and a restarted instance reads everything kept. XADD
/// trims entries older than `keep` (the longest token lifetime) on the way, by stream id (MINID):
/// what is trimmed names only tokens that have expired anyway.

#include <chrono>
#include <memory>

#include "app/ports/revocation_log.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisRevocationLog final : public RevocationLog {
  public:
    RedisRevocationLog(std::shared_ptr<Client> client, std::chrono::milliseconds keep)
        : client_(std::move(client)), keep_(keep) {}

    Awaitable<Status> Publish(const Revocation& revocation) override;
    Awaitable<Result<std::vector<Revocation>>> ReadAfter(std::string& cursor, int limit) override;

    static constexpr const char* kKey = "auth:revocations";

  private:
    std::shared_ptr<Client> client_;
    std::chrono::milliseconds keep_;
};

}  // namespace joopang::redis
