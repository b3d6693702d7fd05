#pragma once
/// LoginThrottle on Redis: a counter per subject, `auth:login-attempts:<sha-256 of the subject>`
/// (no email in key names), counted and checked in one script (lua/login_attempt.lua) and
/// deleted on success.

#include <memory>

#include "app/ports/login_throttle.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisLoginThrottle final : public LoginThrottle {
  public:
    explicit RedisLoginThrottle(std::shared_ptr<Client> client) : client_(std::move(client)) {}

    Awaitable<Result<Verdict>> Attempt(const std::string& subject,
                                       int max_attempts,
                                       std::int64_t window_ms) override;
    Awaitable<Status> Succeeded(const std::string& subject) override;

    static std::string KeyOf(const std::string& subject);

  private:
    std::shared_ptr<Client> client_;
};

}  // namespace joopang::redis
