#pragma once
/// StreamConsumer's implementation (see stream_consumer.hpp). Include it only in the .cpp that
/// instantiates the engine (`template class StreamConsumer<Message, Receipt>;`): it pulls in the
/// Asio timers and coroutine machinery.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <map>

#include "observability/metrics.hpp"
#include "workers/stream_consumer.hpp"

namespace joopang::workers {

template <class Message, class Receipt>
struct StreamConsumer<Message, Receipt>::Impl {
    using Clock = std::chrono::steady_clock;
    template <class T>
    using awaitable = boost::asio::awaitable<T>;

    /// One stream as one lane sees it.
    struct StreamState {
        bool prepared = false;
        Clock::time_point retry_at{};
        Clock::time_point claim_at{};
        /// This lane's consumer may hold delivered, unacknowledged entries: set by every read
        /// that delivered (or may have delivered) entries, cleared by a pending read that found
        /// none. An idle lane then polls with one read, not two (see DrainOnce).
        bool may_have_pending = true;
        Clock::time_point last_pending_read{};
        /// When this lane last found work in the stream (or first saw it), and when it reads
        /// the stream next while the stream is quiet (see StreamConsumerSettings::quiet_after).
        Clock::time_point last_work{};
        Clock::time_point next_visit{};
    };
    /// One drain loop: its consumer name, per-stream progress, handler back-off, and (for all but
    /// the first) the timer that ends its wait for work early.
    struct Lane {
        explicit Lane(boost::asio::any_io_executor ex) : wake(ex) {}
        std::string consumer;
        std::map<std::int64_t, StreamState> streams;
        int unavailable = 0;  // consecutive kUnavailable outcomes of the handler
        bool helper = false;
        boost::asio::steady_timer wake;
    };

    Impl(boost::asio::any_io_executor ex,
         StreamGroup<Message, Receipt>& g,
         StreamHandler<Message, Receipt>& h,
         StreamConsumerSettings s)
        : executor(std::move(ex)), group(g), handler(h), settings(std::move(s)) {}

    boost::asio::any_io_executor executor;
    StreamGroup<Message, Receipt>& group;
    StreamHandler<Message, Receipt>& handler;
    StreamConsumerSettings settings;
    std::vector<std::unique_ptr<Lane>> lanes;
    std::atomic<bool> stopping{false};
    std::atomic<int> running_lanes{0};
    std::promise<void> done;
    bool started = false;

    static awaitable<void> Sleep(std::chrono::milliseconds d) {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
        co_await timer.async_wait(boost::asio::use_awaitable);
    }

    void WakeHelpers() {
        for (auto& lane : lanes)
            if (lane->helper) lane->wake.cancel();
    }

    /// A helper lane's idle wait: until WakeHelpers() or `longest`, whichever comes first.
    awaitable<void> WaitForWork(Lane& lane, std::chrono::milliseconds longest) {
        lane.wake.expires_after(longest);
        co_await lane.wake.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }

    /// How often a lane re-reads its pending entries at the least (see DrainOnce).
    std::chrono::milliseconds PendingRefresh() const {
        auto refresh = std::chrono::milliseconds(500);
        if (settings.forget_consumers_after.count() > 0)
            refresh = std::min(refresh, settings.forget_consumers_after / 4);
        return std::max(refresh, std::chrono::milliseconds(1));
    }

    awaitable<void> Loop(Lane& lane, bool first_lane) {
        auto last_streams = Clock::time_point{};
        auto last_stats = Clock::time_point{};
        auto last_forget = Clock::now();
        std::vector<std::int64_t> keys;
        int list_failures = 0;
        auto idle_wait = settings.idle_poll;
        while (!stopping) {
            auto now = Clock::now();
            bool worked = false;
            bool crashed = false;
            // The whole pass is guarded: the first lane alone reads quiet streams, so it must
            // not die of an exception in its bookkeeping either.
            try {
                // A new stream's first messages wait for the next refresh of the list.
                if (now - last_streams > settings.streams_refresh) {
                    auto k = co_await group.Streams();
                    if (k) {
                        keys = std::move(*k);
                        last_streams = now;
                        list_failures = 0;
                    } else {
                        // Usually Redis is still connecting at start-up: retry soon, warn only
                        // later.
                        if (++list_failures > 20)
                            spdlog::warn("{}: cannot list streams: {}", settings.name,
                                         k.error().message);
                        co_await Sleep(std::chrono::milliseconds(50));
                        continue;
                    }
                }
                if (first_lane && now - last_stats > settings.stats_interval) {
                    co_await PublishStats();
                    last_stats = now;
                }
                // One lane per process also tidies the group, a quarter of the idle limit apart (at
                // most once a second; 0 = never).
                const auto forget = settings.forget_consumers_after;
                if (first_lane && forget.count() > 0 &&
                    now - last_forget >
                        std::max<Clock::duration>(forget / 4, std::chrono::seconds(1))) {
                    co_await ForgetIdleConsumers(keys);
                    last_forget = now;
                }
                for (std::int64_t key : keys) {
                    if (stopping) break;
                    worked |= co_await Visit(lane, key);
                }
            } catch (const std::exception& e) {
                // A bug or resource exhaustion: log, back off, keep draining (nothing is lost:
                // the messages wait in the stream).
                spdlog::error("{}: {}; continuing after a pause", settings.name, e.what());
                crashed = true;
            }
            if (crashed) {
                co_await Sleep(std::chrono::milliseconds(1000));
                continue;
            }
            if (worked) {
                WakeHelpers();  // more may be coming: all lanes drain
                idle_wait = settings.idle_poll;
            }
            if (lane.unavailable > 0) {
                // The handler's store is down: back off (doubling up to 5 s); messages wait.
                auto delay = std::min<std::chrono::milliseconds>(
                    settings.retry_delay * (1 << std::min(lane.unavailable - 1, 6)),
                    std::chrono::milliseconds(5000));
                co_await Sleep(delay);
            } else if (!worked && lane.helper) {
                // A helper waits for the first lane to find work, but reads at least as often as
                // the pending-read refresh: its retries come due, and a live lane must not look
                // dead to the tidy-up of idle consumers or to Reclaim (see DrainOnce).
                co_await WaitForWork(lane, PendingRefresh());
            } else if (!worked) {
                // The first lane polls every idle_poll while work comes and goes, backing off to
                // idle_poll_max once there has been none for a while: each poll wakes this thread
                // twice (timer, reply), and each wake-up is CPU taken from the request path
                // when both share a core.
                co_await Sleep(idle_wait);
                idle_wait =
                    std::min(idle_wait * 2, std::max(settings.idle_poll_max, settings.idle_poll));
            }
        }
    }

    /// Drains `key` once unless it is quiet and not yet due; keeps its quiet state.
    awaitable<bool> Visit(Lane& lane, std::int64_t key) {
        auto now = Clock::now();
        StreamState fresh;
        fresh.last_work = now;  // a stream first seen now starts busy
        StreamState& state = lane.streams.try_emplace(key, fresh).first->second;
        if (now < state.next_visit) co_return false;
        const bool worked = co_await DrainOnce(lane, key, state);
        now = Clock::now();
        if (worked) {
            // Every lane drains it again from its next pass.
            for (auto& l : lanes) {
                StreamState& s = l->streams.try_emplace(key, fresh).first->second;
                s.last_work = now;
                s.next_visit = {};
            }
        } else if (settings.quiet_after.count() > 0 && !state.may_have_pending &&
                   now - state.last_work >= settings.quiet_after) {
            state.next_visit = lane.helper ? Clock::time_point::max() : now + settings.quiet_poll;
        }
        co_return worked;
    }

    awaitable<bool> DrainOnce(Lane& lane, std::int64_t key, StreamState& state) {
        if (!state.prepared) {
            if (auto st = co_await handler.Prepare(key); !st) {
                if (st.error().code == ErrorCode::kUnavailable) ++lane.unavailable;
                co_return false;
            }
            lane.unavailable = 0;  // the handler's store answered
            if (auto st = co_await group.EnsureGroup(key); !st) co_return false;
            state.prepared = true;
        }
        bool worked = false;
        auto now = Clock::now();
        // The pending read is skipped while nothing can be pending, except every so often: on
        // Redis 7.0 a `>` read that finds nothing leaves the consumer's idle time in XINFO
        // CONSUMERS growing, and a live lane must not look dead to ForgetIdleConsumers (of any
        // process).
        if (now >= state.retry_at &&
            (state.may_have_pending || now - state.last_pending_read >= PendingRefresh())) {
            state.last_pending_read = now;
            auto pending = co_await group.ReadPending(key, lane.consumer, settings.batch);
            if (pending && pending->empty()) state.may_have_pending = false;
            if (pending && !pending->empty()) {
                worked = true;
                co_await Handle(lane, key, state, std::move(*pending));
            }
        }
        if (lane.unavailable > 0) co_return worked;
        if (now >= state.claim_at) {
            state.claim_at = now + settings.claim_idle / 2;
            auto claimed = co_await group.Reclaim(key, lane.consumer, settings.claim_idle.count(),
                                                  settings.batch);
            if (!claimed || !claimed->empty()) state.may_have_pending = true;
            if (claimed && !claimed->empty()) {
                spdlog::info("{}: reclaimed {} messages of {} idle for over {} ms", settings.name,
                             claimed->size(), group.StreamName(key), settings.claim_idle.count());
                worked = true;
                co_await Handle(lane, key, state, std::move(*claimed));
            }
        }
        auto fresh = co_await group.ReadNew(key, lane.consumer, settings.batch);
        // A failed read may have delivered entries whose reply was lost.
        if (!fresh || !fresh->empty()) state.may_have_pending = true;
        if (fresh && !fresh->empty()) {
            worked = true;
            co_await Handle(lane, key, state, std::move(*fresh));
        }
        co_return worked;
    }

    /// The ids of the entries that carry `messages`, each once (an entry's are delivered together).
    static std::vector<std::string> EntryIdsOf(const std::vector<Message>& messages) {
        std::vector<std::string> ids;
        for (const auto& m : messages)
            if (ids.empty() || ids.back() != m.entry_id) ids.push_back(m.entry_id);
        return ids;
    }

    obs::Counter& DeadLettered(std::int64_t key) {
        return obs::Registry::Global().GetCounter("joopang_stream_dead_lettered_total",
                                                  "Messages (and malformed entries) dead-lettered",
                                                  {{"stream", group.StreamName(key)}});
    }
    void CountDeadLetter(std::int64_t key) { DeadLettered(key).Add(); }

    /// Records the receipts of what was handled and acknowledges the settled entries.
    awaitable<void> Complete(Lane& lane,
                             std::int64_t key,
                             const std::vector<std::string>& entry_ids,
                             const std::vector<Message>& handled,
                             const std::vector<Receipt>& receipts) {
        if (auto st = co_await group.Complete(key, entry_ids, receipts, handled); !st) {
            // Handled but not acknowledged: the entries come back, and are no-ops then.
            spdlog::warn("{}: acknowledging failed: {}", settings.name, st.error().message);
        }
        lane.unavailable = 0;
        if (!handled.empty()) handler.Completed(key, handled.size());
        if (!handled.empty()) {
            obs::Registry::Global()
                .GetCounter("joopang_stream_handled_total", "Messages handled and acknowledged",
                            {{"stream", group.StreamName(key)}})
                .Add(handled.size());
            DeadLettered(key);  // shown (at 0) from the stream's first handled message on
        }
    }

    awaitable<void> Handle(Lane& lane,
                           std::int64_t key,
                           StreamState& state,
                           std::vector<Message> messages) {
        std::vector<Message> good;
        for (auto& m : messages) {
            if (m.malformed) {
                spdlog::error("{}: entry {} of {} is malformed; dead-lettered", settings.name,
                              m.entry_id, group.StreamName(key));
                const Status st = co_await group.DeadLetter(key, m, "malformed entry");
                if (st) CountDeadLetter(key);
            } else {
                good.push_back(std::move(m));
            }
        }
        if (good.empty()) co_return;
        auto receipts = co_await handler.Handle(key, good);
        if (receipts) {
            co_await Complete(lane, key, EntryIdsOf(good), good, *receipts);
            co_return;
        }
        auto unavailable = [&](const Error& error) {
            if (lane.unavailable++ == 0)
                spdlog::warn("{}: unavailable, backing off: {}", settings.name, error.message);
        };
        if (receipts.error().code == ErrorCode::kUnavailable) {
            unavailable(receipts.error());
            co_return;
        }
        // A message that cannot be handled: handle each alone, so that the others land now. An
        // entry is acknowledged once none of its messages waits for a retry (a message that was
        // handled is a no-op when its entry comes back).
        std::vector<Message> landed;
        std::vector<Receipt> landed_receipts;
        std::vector<std::string> waiting;  // entries holding a message to retry
        for (auto& m : good) {
            std::vector<Message> one{m};
            auto r = co_await handler.Handle(key, one);
            if (r && r->size() == 1) {
                landed_receipts.push_back(std::move(r->front()));
                landed.push_back(m);
                continue;
            }
            const Error error = r ? Error::Internal("no receipt returned") : r.error();
            if (error.code == ErrorCode::kUnavailable) {
                unavailable(error);
                co_return;
            }
            auto failures = co_await group.RecordFailure(key, m);
            const std::int64_t n = failures ? *failures : 1;
            if (n >= settings.max_deliveries) {
                spdlog::error("{}: a message of entry {} of {} failed {} times ({}); dead-lettered",
                              settings.name, m.entry_id, group.StreamName(key), n, error.message);
                auto st = co_await group.DeadLetter(key, m, error.message);
                if (st) {
                    CountDeadLetter(key);
                    continue;
                }
                spdlog::warn("{}: dead-lettering failed, retrying: {}", settings.name,
                             st.error().message);
                state.retry_at = Clock::now() + settings.retry_delay;
            } else {
                auto delay = settings.retry_delay * (1 << std::min<std::int64_t>(n - 1, 6));
                state.retry_at = Clock::now() + delay;
                spdlog::warn("{}: a message of entry {} of {} failed ({}); retry {} in {} ms",
                             settings.name, m.entry_id, group.StreamName(key), error.message, n,
                             delay.count());
            }
            waiting.push_back(m.entry_id);
        }
        std::vector<std::string> settled;
        for (auto& id : EntryIdsOf(good))
            if (std::find(waiting.begin(), waiting.end(), id) == waiting.end())
                settled.push_back(std::move(id));
        co_await Complete(lane, key, settled, landed, landed_receipts);
    }

    awaitable<void> ForgetIdleConsumers(const std::vector<std::int64_t>& keys) {
        for (std::int64_t key : keys) {
            if (stopping) co_return;
            auto n =
                co_await group.ForgetIdleConsumers(key, settings.forget_consumers_after.count());
            if (n && *n > 0)
                spdlog::info(
                    "{}: removed {} idle consumer(s) of {} (nothing pending, no read for {} ms)",
                    settings.name, *n, group.StreamName(key),
                    settings.forget_consumers_after.count());
        }
    }

    awaitable<void> PublishStats() {
        auto stats = co_await group.Stats();
        if (!stats) co_return;
        auto& r = obs::Registry::Global();
        for (const auto& s : *stats) {
            obs::Labels l{{"stream", s.name}};
            r.GetGauge("joopang_stream_length", "Entries in the stream", l).Set(s.length);
            r.GetGauge("joopang_stream_pending", "Entries delivered, not acknowledged", l)
                .Set(s.pending);
            r.GetGauge("joopang_stream_lag", "Entries not yet delivered to the group", l)
                .Set(s.lag);
            r.GetGauge("joopang_stream_oldest_pending_age_seconds",
                       "Age of the oldest pending entry", l)
                .Set(s.oldest_pending_age_ms / 1000.0);
            r.GetSampledCounter(
                 "joopang_stream_deliveries_retried_total",
                 "Deliveries retried (reclaimed or failed), as the stream counts them", l)
                .Set(s.deliveries_retried);
            r.GetGauge("joopang_stream_dead_letters", "Entries in the dead-letter stream", l)
                .Set(s.dead_letter_length);
        }
    }
};

template <class Message, class Receipt>
StreamConsumer<Message, Receipt>::StreamConsumer(boost::asio::any_io_executor executor,
                                                 StreamGroup<Message, Receipt>& group,
                                                 StreamHandler<Message, Receipt>& handler,
                                                 StreamConsumerSettings settings)
    : impl_(std::make_unique<Impl>(std::move(executor), group, handler, std::move(settings))) {}

template <class Message, class Receipt>
StreamConsumer<Message, Receipt>::~StreamConsumer() {
    Stop();
}

template <class Message, class Receipt>
void StreamConsumer<Message, Receipt>::Start() {
    auto& s = *impl_;
    s.started = true;
    const int lanes = std::max(1, s.settings.lanes);
    s.running_lanes = lanes;
    for (int i = 0; i < lanes; ++i) {
        auto lane = std::make_unique<typename Impl::Lane>(s.executor);
        lane->consumer =
            lanes == 1 ? s.settings.consumer : s.settings.consumer + "/" + std::to_string(i);
        lane->helper = i > 0;
        s.lanes.push_back(std::move(lane));
    }
    for (int i = 0; i < lanes; ++i) {
        boost::asio::co_spawn(s.executor, s.Loop(*s.lanes[i], i == 0), [&s](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    spdlog::error("{}: a lane stopped on an exception: {}", s.settings.name,
                                  ex.what());
                }
            }
            if (--s.running_lanes == 0) s.done.set_value();
        });
    }
}

template <class Message, class Receipt>
void StreamConsumer<Message, Receipt>::Stop() {
    auto& s = *impl_;
    if (!s.started || s.stopping.exchange(true)) return;
    // Waits for the wake-up too, not only for the lanes: it must not run after `s` is gone.
    std::promise<void> woken;
    boost::asio::post(s.executor, [&s, &woken] {
        s.WakeHelpers();
        woken.set_value();
    });
    woken.get_future().wait();
    s.done.get_future().wait();
}

}  // namespace joopang::workers
