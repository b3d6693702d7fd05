#include "workers/coupon_persister.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "observability/metrics.hpp"

namespace joopang::workers {
namespace asio = boost::asio;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

namespace {

awaitable<void> Sleep(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::use_awaitable);
}

obs::Labels TemplateLabel(std::int64_t t) { return {{"template", std::to_string(t)}}; }

}  // namespace

struct CouponPersister::Wake {
    explicit Wake(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
};

CouponPersister::Lane::Lane() = default;
CouponPersister::Lane::~Lane() = default;

CouponPersister::CouponPersister(asio::any_io_executor executor,
                                 CouponIssueQueue& queue,
                                 CouponRepository& repo,
                                 BlockingPool& pool,
                                 PersisterSettings settings)
    : executor_(executor),
      queue_(queue),
      repo_(repo),
      pool_(pool),
      settings_(std::move(settings)) {}

CouponPersister::~CouponPersister() { Stop(); }

void CouponPersister::Start() {
    started_ = true;
    const int lanes = std::max(1, settings_.lanes);
    running_lanes_ = lanes;
    for (int i = 0; i < lanes; ++i) {
        auto lane = std::make_unique<Lane>();
        lane->consumer =
            lanes == 1 ? settings_.consumer : settings_.consumer + "/" + std::to_string(i);
        if (i > 0) lane->wake = std::make_unique<Wake>(executor_);
        lanes_.push_back(std::move(lane));
    }
    for (int i = 0; i < lanes; ++i) {
        asio::co_spawn(executor_, Loop(*lanes_[i], i == 0), [this](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    spdlog::error("coupon persister lane stopped on an exception: {}", ex.what());
                }
            }
            if (--running_lanes_ == 0) done_.set_value();
        });
    }
}

void CouponPersister::Stop() {
    if (!started_ || stopping_.exchange(true)) return;
    asio::post(executor_, [this] { WakeHelpers(); });
    done_.get_future().wait();
}

void CouponPersister::WakeHelpers() {
    for (auto& lane : lanes_)
        if (lane->wake) lane->wake->timer.cancel();
}

awaitable<void> CouponPersister::WaitForWork(Lane& lane, std::chrono::milliseconds longest) {
    lane.wake->timer.expires_after(longest);
    // Cancelled (woken) or expired: either way the lane looks for work again.
    co_await lane.wake->timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

awaitable<void> CouponPersister::Loop(Lane& lane, bool publishes_stats) {
    auto last_templates = Clock::time_point{};
    auto last_stats = Clock::time_point{};
    auto last_forget = Clock::now();
    std::vector<std::int64_t> templates;
    int list_failures = 0;
    auto idle_wait = settings_.idle_poll;
    while (!stopping_) {
        auto now = Clock::now();
        // The template list (one SMEMBERS) is re-read every 100 ms: a new drop's first winners
        // wait for the next refresh before persisting (16-30 ms; docs/benchmarks.md §3).
        if (now - last_templates > std::chrono::milliseconds(100)) {
            auto t = co_await queue_.Templates();
            if (t) {
                templates = std::move(*t);
                last_templates = now;
                list_failures = 0;
            } else {
                // Usually Redis is still connecting at start-up: retry soon, warn only later.
                if (++list_failures > 20)
                    spdlog::warn("coupon persister: cannot list templates: {}", t.error().message);
                co_await Sleep(std::chrono::milliseconds(50));
                continue;
            }
        }
        if (publishes_stats && now - last_stats > settings_.stats_interval) {
            co_await PublishStats();
            last_stats = now;
        }
        // One lane per process also tidies the group, a quarter of the idle limit apart (at
        // most once a second; 0 = never).
        const auto forget = settings_.forget_consumers_after;
        if (publishes_stats && forget.count() > 0 &&
            now - last_forget > std::max<Clock::duration>(forget / 4, std::chrono::seconds(1))) {
            co_await ForgetIdleConsumers(templates);
            last_forget = now;
        }
        bool worked = false;
        bool crashed = false;
        try {
            for (std::int64_t t : templates) {
                if (stopping_) break;
                worked |= co_await DrainOnce(lane, t, lane.streams[t]);
            }
        } catch (const std::exception& e) {
            // A bug or resource exhaustion: log, back off, keep draining (winners must land).
            spdlog::error("coupon persister: {}; continuing after a pause", e.what());
            crashed = true;
        }
        if (crashed) {
            co_await Sleep(std::chrono::milliseconds(1000));
            continue;
        }
        if (worked) {
            WakeHelpers();  // more may be coming: all lanes drain
            idle_wait = settings_.idle_poll;
        }
        if (lane.db_failures > 0) {
            // The database is down: back off (doubling up to 5 s); entries wait in Redis.
            auto delay = std::min<std::chrono::milliseconds>(
                settings_.retry_delay * (1 << std::min(lane.db_failures - 1, 6)),
                std::chrono::milliseconds(5000));
            co_await Sleep(delay);
        } else if (!worked && lane.wake) {
            // A helper waits for the first lane to find work, but reads at least as often as
            // the pending-read refresh: its retries come due, and a live lane must not look dead
            // to the tidy-up of idle consumers or to Reclaim (see DrainOnce).
            co_await WaitForWork(lane, PendingRefresh());
        } else if (!worked) {
            // The first lane polls every idle_poll while work comes and goes, backing off to
            // idle_poll_max once there has been none for a while: each poll wakes this thread
            // twice (timer, reply), and on the service's own core every wake-up is taken from
            // the request path (docs/benchmarks.md §2, "The persister on the service's core").
            co_await Sleep(idle_wait);
            idle_wait =
                std::min(idle_wait * 2, std::max(settings_.idle_poll_max, settings_.idle_poll));
        }
    }
}

std::chrono::milliseconds CouponPersister::PendingRefresh() const {
    auto refresh = std::chrono::milliseconds(500);
    if (settings_.forget_consumers_after.count() > 0)
        refresh = std::min(refresh, settings_.forget_consumers_after / 4);
    return std::max(refresh, std::chrono::milliseconds(1));
}

awaitable<bool> CouponPersister::DrainOnce(Lane& lane, std::int64_t t, StreamState& state) {
    if (!state.ready) {
        auto tmpl = co_await pool_.Run([&] { return repo_.FindTemplate(t); });
        if (!tmpl) {
            if (tmpl.error().code == ErrorCode::kUnavailable) ++lane.db_failures;
            co_return false;
        }
        if (auto st = co_await queue_.EnsureGroup(t); !st) co_return false;
        state.tmpl = std::move(*tmpl);
        state.ready = true;
    }
    bool worked = false;
    auto now = Clock::now();
    // The pending read is skipped while nothing can be pending, except every so often: on Redis
    // 7.0 a `>` read that finds nothing leaves the consumer's idle time in XINFO CONSUMERS
    // growing, and a live lane must not look dead to ForgetIdleConsumers (of any process).
    const auto refresh = PendingRefresh();
    if (now >= state.retry_at &&
        (state.may_have_pending || now - state.last_pending_read >= refresh)) {
        state.last_pending_read = now;
        auto pending = co_await queue_.ReadPending(t, lane.consumer, settings_.batch);
        if (pending && pending->empty()) state.may_have_pending = false;
        if (pending && !pending->empty()) {
            worked = true;
            co_await Persist(lane, t, state, std::move(*pending));
        }
    }
    if (lane.db_failures > 0) co_return worked;
    if (now >= state.claim_at) {
        state.claim_at = now + settings_.claim_idle / 2;
        auto claimed = co_await queue_.Reclaim(t, lane.consumer, settings_.claim_idle.count(),
                                               settings_.batch);
        if (!claimed || !claimed->empty()) state.may_have_pending = true;
        if (claimed && !claimed->empty()) {
            spdlog::info(
                "coupon persister: reclaimed {} entries of template {} idle for over "
                "{} ms",
                claimed->size(), t, settings_.claim_idle.count());
            worked = true;
            co_await Persist(lane, t, state, std::move(*claimed));
        }
    }
    auto fresh = co_await queue_.ReadNew(t, lane.consumer, settings_.batch);
    // A failed read may have delivered entries whose reply was lost.
    if (!fresh || !fresh->empty()) state.may_have_pending = true;
    if (fresh && !fresh->empty()) {
        worked = true;
        co_await Persist(lane, t, state, std::move(*fresh));
    }
    co_return worked;
}

namespace {

/// The ids of the entries that carry `wins`, each once (an entry's wins are delivered together).
std::vector<std::string> EntryIdsOf(const std::vector<IssueEntry>& wins) {
    std::vector<std::string> ids;
    for (const auto& w : wins)
        if (ids.empty() || ids.back() != w.entry_id) ids.push_back(w.entry_id);
    return ids;
}

void CountDeadLetter(const std::string& stream) {
    obs::Registry::Global()
        .GetCounter("joopang_stream_dead_lettered_total",
                    "Wins (and malformed entries) dead-lettered", {{"stream", stream}})
        .Add();
}

}  // namespace

awaitable<void> CouponPersister::Complete(Lane& lane,
                                          std::int64_t t,
                                          const std::vector<std::string>& entry_ids,
                                          const std::vector<IssueEntry>& landed,
                                          const std::vector<PersistedCoupon>& persisted) {
    if (auto st = co_await queue_.Complete(t, entry_ids, persisted, landed); !st) {
        // Committed but not acknowledged: the entries come back and are no-ops then.
        spdlog::warn("coupon persister: acknowledging failed: {}", st.error().message);
    }
    lane.db_failures = 0;
    if (!landed.empty())
        obs::Registry::Global()
            .GetCounter("joopang_coupons_persisted_total", "Coupons written to the database",
                        TemplateLabel(t))
            .Add(landed.size());
}

awaitable<CouponPersister::Outcome> CouponPersister::Persist(Lane& lane,
                                                             std::int64_t t,
                                                             StreamState& state,
                                                             std::vector<IssueEntry> wins) {
    std::vector<IssueEntry> good;
    for (auto& w : wins) {
        if (w.malformed) {
            spdlog::error("coupon persister: entry {} of template {} is malformed; dead-lettered",
                          w.entry_id, t);
            auto st = co_await queue_.DeadLetter(t, w, "malformed entry");
            if (st) CountDeadLetter(queue_.StreamName(t));
        } else {
            good.push_back(std::move(w));
        }
    }
    if (good.empty()) co_return Outcome::kDone;
    std::vector<IssuedCoupon> coupons;
    coupons.reserve(good.size());
    for (const auto& w : good) coupons.push_back(w.coupon);
    auto start = Clock::now();
    auto persisted = co_await pool_.Run([&] { return repo_.PersistBatch(*state.tmpl, coupons); });
    if (persisted) {
        co_await Complete(lane, t, EntryIdsOf(good), good, *persisted);
        obs::Registry::Global()
            .GetHistogram("joopang_coupon_persist_batch_seconds", "Coupon batch write duration")
            .ObserveNs(
                std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
        co_return Outcome::kDone;
    }
    auto database_down = [&](const Error& error) {
        if (lane.db_failures++ == 0)
            spdlog::warn("coupon persister: database unavailable, backing off: {}", error.message);
        return Outcome::kDatabaseDown;
    };
    if (persisted.error().code == ErrorCode::kUnavailable)
        co_return database_down(persisted.error());
    // A win that cannot be written: write each win alone, so that the others land now. An entry
    // carries several wins; it is acknowledged once none of them waits for a retry (a win that
    // landed is a no-op when its entry comes back).
    std::vector<IssueEntry> landed;
    std::vector<PersistedCoupon> landed_ids;
    std::vector<std::string> waiting;  // entries holding a win to retry
    for (auto& w : good) {
        coupons.assign(1, w.coupon);
        auto one = co_await pool_.Run([&] { return repo_.PersistBatch(*state.tmpl, coupons); });
        if (one && one->size() == 1) {
            landed_ids.push_back(one->front());
            landed.push_back(w);
            continue;
        }
        const Error error = one ? Error::Internal("no coupon id returned") : one.error();
        if (error.code == ErrorCode::kUnavailable) co_return database_down(error);
        auto failures = co_await queue_.RecordFailure(t, w);
        const std::int64_t n = failures ? *failures : 1;
        if (n >= settings_.max_deliveries) {
            spdlog::error(
                "coupon persister: request {} (entry {}) of template {} failed {} times ({}); "
                "dead-lettered",
                w.coupon.request_id, w.entry_id, t, n, error.message);
            auto st = co_await queue_.DeadLetter(t, w, error.message);
            if (st) {
                CountDeadLetter(queue_.StreamName(t));
                continue;
            }
            spdlog::warn("coupon persister: dead-lettering failed, retrying: {}",
                         st.error().message);
            state.retry_at = Clock::now() + settings_.retry_delay;
        } else {
            auto delay = settings_.retry_delay * (1 << std::min<std::int64_t>(n - 1, 6));
            state.retry_at = Clock::now() + delay;
            spdlog::warn(
                "coupon persister: request {} (entry {}) of template {} failed ({}); retry {} in "
                "{} ms",
                w.coupon.request_id, w.entry_id, t, error.message, n, delay.count());
        }
        waiting.push_back(w.entry_id);
    }
    std::vector<std::string> settled;
    for (auto& id : EntryIdsOf(good))
        if (std::find(waiting.begin(), waiting.end(), id) == waiting.end())
            settled.push_back(std::move(id));
    co_await Complete(lane, t, settled, landed, landed_ids);
    co_return Outcome::kEntryFailed;
}

awaitable<void> CouponPersister::ForgetIdleConsumers(const std::vector<std::int64_t>& templates) {
    for (std::int64_t t : templates) {
        if (stopping_) co_return;
        auto n = co_await queue_.ForgetIdleConsumers(t, settings_.forget_consumers_after.count());
        if (n && *n > 0) {
            spdlog::info(
                "coupon persister: removed {} idle consumer(s) of template {} (nothing "
                "pending, no read for {} ms)",
                *n, t, settings_.forget_consumers_after.count());
        }
    }
}

awaitable<void> CouponPersister::PublishStats() {
    auto stats = co_await queue_.Stats();
    if (!stats) co_return;
    auto& r = obs::Registry::Global();
    for (const auto& s : *stats) {
        obs::Labels l{{"stream", s.name}};
        r.GetGauge("joopang_stream_length", "Entries in the stream", l).Set(s.length);
        r.GetGauge("joopang_stream_pending", "Entries delivered, not acknowledged", l)
            .Set(s.pending);
        r.GetGauge("joopang_stream_lag", "Entries not yet delivered to the group", l).Set(s.lag);
        r.GetGauge("joopang_stream_oldest_pending_age_seconds", "Age of the oldest pending entry",
                   l)
            .Set(s.oldest_pending_age_ms / 1000.0);
        r.GetGauge("joopang_stream_deliveries_retried", "Entries redelivered (reclaimed)", l)
            .Set(s.deliveries_retried);
        r.GetGauge("joopang_stream_dead_letters", "Entries in the dead-letter stream", l)
            .Set(s.dead_letter_length);
    }
}

}  // namespace joopang::workers
