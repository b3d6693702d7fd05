#include "app/outbox_relay.hpp"

namespace joopang {

boost::asio::awaitable<Result<std::int64_t>> OutboxRelay::Drain() {
    std::int64_t relayed = 0;
    for (;;) {
        auto events = co_await pool_.Run([&] { return outbox_.FetchUnsent(batch_); });
        if (!events) co_return events.error();
        if (events->empty()) break;
        auto appended = co_await log_.Append(*events);
        if (!appended) co_return appended.error();
        std::vector<std::int64_t> ids;
        ids.reserve(events->size());
        for (const auto& e : *events) ids.push_back(e.id);
        const EpochMs at = now_();
        auto marked = co_await pool_.Run([&] { return outbox_.MarkSent(ids, at); });
        if (!marked) co_return marked.error();
        relayed += static_cast<std::int64_t>(events->size());
        if (static_cast<int>(events->size()) < batch_) break;
    }
    co_return relayed;
}

}  // namespace joopang
