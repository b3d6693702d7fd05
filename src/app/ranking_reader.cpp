#include "app/ranking_reader.hpp"

#include <algorithm>
#include <unordered_map>

namespace joopang {
namespace {

/// The answer with its first `limit` items only (copying no more than those).
RankingAnswer FirstOf(const RankingAnswer& answer, std::size_t limit) {
    RankingAnswer out{answer.generated_at, answer.from_database, {}};
    const auto n = std::min(limit, answer.items.size());
    out.items.assign(answer.items.begin(), answer.items.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
}

}  // namespace

RankingReader::RankingReader(RankingBoard& board,
                             RankingHistory& history,
                             BlockingPool& pool,
                             RankingWeights weights,
                             Settings settings,
                             std::function<EpochMs()> now)
    : board_(board),
      history_(history),
      pool_(pool),
      weights_(weights),
      settings_(settings),
      now_(std::move(now)),
      breaker_(settings.failures_to_open, settings.open_ms) {}

template <class F>
Result<RankingAnswer> RankingReader::Reused(const Key& key, EpochMs now, F compute) {
    {
        std::lock_guard lock(answers_mu_);
        auto it = answers_.find(key);
        if (it != answers_.end() && now - it->second.generated_at < settings_.database_answer_ms)
            return it->second;
    }
    auto answer = compute();
    if (!answer) return answer;
    std::lock_guard lock(answers_mu_);
    // Old answers go first; the map stays as small as the rankings read in the last moment.
    std::erase_if(answers_, [&](const auto& kv) {
        return now - kv.second.generated_at >= settings_.database_answer_ms;
    });
    answers_[key] = *answer;
    return answer;
}

boost::asio::awaitable<Result<RankingAnswer>> RankingReader::Read(const RankingQuery& query) {
    Key key{std::string(query.window.name), static_cast<int>(query.metric), query.category_id};
    {
        std::lock_guard lock(published_mu_);
        auto it = published_.find(key);
        if (it != published_.end() && now_() - it->second.read_at < settings_.published_answer_ms)
            co_return FirstOf(it->second.answer, query.limit);
    }
    if (breaker_.Allow(now_())) {
        auto published = co_await board_.Read(query.window, query.metric, query.category_id);
        if (published) {
            breaker_.RecordSuccess();
            if (*published) {
                RankingAnswer answer{(*published)->generated_at, false,
                                     std::move((*published)->items)};
                const EpochMs read_at = now_();
                std::lock_guard lock(published_mu_);
                std::erase_if(published_, [&](const auto& kv) {
                    return read_at - kv.second.read_at >= settings_.published_answer_ms;
                });
                published_[key] = {read_at, answer};
                co_return FirstOf(answer, query.limit);
            }
        } else {
            breaker_.RecordFailure(now_());
        }
    }
    const EpochMs now = now_();
    auto computed =
        co_await pool_.Run([&] { return Reused(key, now, [&] { return Compute(query, now); }); });
    if (!computed) co_return computed.error();
    co_return FirstOf(*computed, query.limit);
}

boost::asio::awaitable<Result<RankingAnswer>> RankingReader::TopSellers(int days,
                                                                        std::size_t limit) {
    const EpochMs now = now_();
    auto answer = co_await pool_.Run([&] {
        return Reused(Key{"top", days, static_cast<std::int64_t>(limit)}, now,
                      [&]() -> Result<RankingAnswer> {
                          auto top = history_.TopSellers(now - days * 86'400'000LL, limit);
                          if (!top) return top.error();
                          return RankingAnswer{now, true, std::move(*top)};
                      });
    });
    co_return answer;
}

Result<RankingAnswer> RankingReader::Compute(const RankingQuery& query, EpochMs now) {
    const auto& w = query.window;
    auto buckets = history_.Buckets(w, w.LowestBucket(now) * w.bucket_ms, query.category_id);
    if (!buckets) return buckets.error();
    auto top = TopByMetric(SumWindow(w, *buckets, now, weights_), query.metric, settings_.top);
    std::vector<std::int64_t> ids;
    ids.reserve(top.size());
    for (const auto& t : top) ids.push_back(t.product_id);
    auto names = history_.Names(ids);
    if (!names) return names.error();
    std::unordered_map<std::int64_t, std::string> by_id(names->begin(), names->end());
    for (auto& t : top) t.name = by_id[t.product_id];
    return RankingAnswer{now, true, std::move(top)};
}

}  // namespace joopang
