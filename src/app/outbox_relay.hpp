#pragma once
/// Moves outbox events to the event log, in order, at least once: read a batch of unsent rows,
/// append them, mark them sent. A crash between the append and the mark sends the batch again,
/// which consumers absorb (they apply each outbox id once). Run by one instance at a time (a
/// leased job), which is what keeps the order.

#include <boost/asio/awaitable.hpp>

#include "app/ports/outbox.hpp"
#include "common/blocking_pool.hpp"

namespace joopang {

class OutboxRelay {
  public:
    OutboxRelay(OutboxRepository& outbox,
                EventLog& log,
                BlockingPool& pool,
                int batch = 500,
                std::function<EpochMs()> now = NowMs)
        : outbox_(outbox), log_(log), pool_(pool), batch_(batch), now_(std::move(now)) {}

    /// Relays until the outbox is empty (or an error); returns how many events it relayed.
    boost::asio::awaitable<Result<std::int64_t>> Drain();

  private:
    OutboxRepository& outbox_;
    EventLog& log_;
    BlockingPool& pool_;
    int batch_;
    std::function<EpochMs()> now_;
};

}  // namespace joopang
