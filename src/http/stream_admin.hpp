#pragma once
/// What the admin API needs of a family of streams (coupon issue streams, the order-event
/// stream): their figures, and moving a stream's dead letters back. Built from any StreamGroup.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "app/ports/stream_group.hpp"

namespace joopang::http {

struct StreamAdmin {
    std::function<boost::asio::awaitable<Result<std::vector<StreamStats>>>()> stats;
    /// NOT_FOUND when the stream is not one of this family's.
    std::function<boost::asio::awaitable<Result<std::int64_t>>(std::string stream)> replay;
};

template <class Message, class Receipt>
StreamAdmin AdminOf(StreamGroup<Message, Receipt>& group) {
    return {[&group]() -> boost::asio::awaitable<Result<std::vector<StreamStats>>> {
                auto stats = co_await group.Stats();
                co_return stats;
            },
            [&group](std::string stream) -> boost::asio::awaitable<Result<std::int64_t>> {
                auto replayed = co_await group.Replay(stream);
                co_return replayed;
            }};
}

/// Every family's stream figures, in the families' order.
inline boost::asio::awaitable<Result<std::vector<StreamStats>>> AllStreamStats(
    const std::vector<StreamAdmin>& families) {
    std::vector<StreamStats> all;
    for (const auto& family : families) {
        auto stats = co_await family.stats();
        if (!stats) co_return stats.error();
        all.insert(all.end(), stats->begin(), stats->end());
    }
    co_return all;
}

}  // namespace joopang::http
