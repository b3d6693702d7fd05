#pragma once
/// WaitingLine on Redis: one script per operation (lua/queue_*.lua, each after
/// lua/queue_common.lua, which lists the keys), all under the hash tag {queue}, all on Redis's
/// clock. Joins, the sale's opening rush, are batched: those one I/O thread receives in one turn
/// of its event loop go as one call of the join script (ScriptBatcher).

#include <memory>

#include "app/ports/waiting_line.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/script_batcher.hpp"

namespace joopang::redis {

class RedisWaitingLine final : public WaitingLine {
  public:
    RedisWaitingLine(std::shared_ptr<Client> client, QueueTtls ttls);
    ~RedisWaitingLine() override;

    Awaitable<Result<QueueTicket>> Join(std::int64_t user_id,
                                        const std::string& fresh_token) override;
    Awaitable<Result<std::pair<TokenLookup, QueueTicket>>> Read(const std::string& token,
                                                                std::int64_t user_id) override;
    Awaitable<Result<TokenLookup>> Leave(const std::string& token, std::int64_t user_id) override;
    Awaitable<Result<bool>> Use(const std::string& token, std::int64_t user_id) override;
    Awaitable<Status> Release(std::int64_t user_id) override;
    Awaitable<Result<QueueStats>> Admit(const QueueSettings& defaults, bool read_only) override;
    Awaitable<Result<std::int64_t>> Sweep(std::int64_t max) override;
    Awaitable<Status> Configure(std::optional<std::int64_t> admit_per_second,
                                std::optional<std::int64_t> max_active,
                                std::optional<bool> paused) override;

    /// Most tokens one admission step moves.
    static constexpr int kAdmitChunk = 500;

  private:
    std::shared_ptr<Client> client_;
    QueueTtls ttls_;
    ScriptBatcher joins_;  // the joins one I/O thread receives in one turn: one script call
};

}  // namespace joopang::redis
