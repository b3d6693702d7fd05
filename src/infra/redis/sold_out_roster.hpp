#pragma once
/// The roster of a sold-out template (see SoldOutMemo): every user whose count of coupons has
/// reached the per-user limit, read from Redis in bounded steps — for a limit of 1 the bits of
/// `coupon:{T}:won`, then the counts of `coupon:{T}:users` (which win over a bit).

#include <cstddef>
#include <cstdint>
#include <memory>

#include "infra/redis/client.hpp"
#include "infra/redis/sold_out_memo.hpp"

namespace joopang::redis {

/// The roster of template `t` as of `generation` (its `restores` count, read before and after the
/// scan: no count changes while a sold-out template's generation stays), or nothing when the
/// generation moved or the roster would hold more than `max_users`.
Awaitable<Result<std::shared_ptr<const SoldOutMemo::Roster>>> ReadSoldOutRoster(
    Client& client, std::int64_t t, std::int64_t generation, std::size_t max_users);

}  // namespace joopang::redis
