#pragma once
/// A relayed order event as the ranking updater applies it: a paid order adds its lines to the
/// rankings at the time of the sale, a canceled paid order takes them back from that same time.
/// A batch of product views takes the same shape (lines with views only).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"

namespace joopang {

struct RankingLine {
    std::int64_t product_id = 0;
    std::int64_t category_id = 0;  // 0: none
    std::int64_t quantity = 0;
    std::int64_t amount_cents = 0;
    std::int64_t views = 0;
};

struct RankingEvent {
    std::string entry_id;  // the stream entry (StreamGroup's message contract)
    bool malformed = false;
    std::int64_t outbox_id = 0;  // what makes applying an order event twice count once
    std::string view_batch;      // the same for a batch of views (instead of an outbox id)
    int sign = 1;                // +1 paid, -1 canceled
    EpochMs at = 0;              // when the sale happened
    std::vector<RankingLine> lines;
};

/// What applying one event leaves behind (nothing to record: the store keeps the applied ids).
struct RankingApplied {};

/// The event of an outbox row (`order-paid` / `order-canceled` and its JSON payload), or nullopt
/// when it is not one the rankings understand.
std::optional<RankingEvent> ParseOrderEvent(std::int64_t outbox_id,
                                            std::string_view topic,
                                            std::string_view payload);

}  // namespace joopang
