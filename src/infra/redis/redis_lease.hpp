#pragma once
/// LeaseStore on Redis: a lease is the key `lease:<name>` holding its holder's token, with the
/// lease's expiry as the key's TTL (lua/lease_hold.lua, lua/lease_release.lua).

#include <memory>

#include "app/ports/lease_store.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisLeaseStore final : public LeaseStore {
  public:
    explicit RedisLeaseStore(std::shared_ptr<Client> client) : client_(std::move(client)) {}

    Awaitable<bool> Hold(const std::string& name,
                         const std::string& token,
                         std::chrono::milliseconds ttl) override;
    Awaitable<void> Release(const std::string& name, const std::string& token) override;

  private:
    std::shared_ptr<Client> client_;
};

}  // namespace joopang::redis
