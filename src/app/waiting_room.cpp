#include "app/waiting_room.hpp"

#include "app/random_bytes.hpp"

namespace joopang {

WaitingRoom::WaitingRoom(WaitingLine& line, QueueSettings defaults)
    : line_(line), defaults_(defaults) {
    last_.settings = defaults;
}

std::string WaitingRoom::NewToken() {
    unsigned char raw[16];
    RandomBytes(raw, sizeof raw);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(32);
    for (unsigned char b : raw) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

bool WaitingRoom::LooksLikeToken(std::string_view text) {
    if (text.size() != 32) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::int64_t WaitingRoom::EstimateWaitMs(std::int64_t position, const QueueStats& stats) {
    if (position <= 1) return 0;
    double per_second = static_cast<double>(stats.settings.admit_per_second);
    if (stats.admitted_last_minute > 0 && stats.history_seconds > 0)
        per_second = static_cast<double>(stats.admitted_last_minute) /
                     static_cast<double>(stats.history_seconds);
    if (per_second <= 0) per_second = 1;
    return static_cast<std::int64_t>(static_cast<double>(position - 1) * 1000.0 / per_second);
}

QueueView WaitingRoom::View(QueueTicket ticket) {
    QueueStats stats;
    {
        std::lock_guard lock(mu_);
        stats = last_;
    }
    QueueView v{std::move(ticket), 0};
    if (v.ticket.state == QueueState::kWaiting)
        v.estimated_wait_ms = EstimateWaitMs(v.ticket.position, stats);
    return v;
}

boost::asio::awaitable<Result<QueueView>> WaitingRoom::Join(std::int64_t user_id) {
    const std::string fresh = NewToken();
    auto ticket = co_await line_.Join(user_id, fresh);
    if (!ticket) co_return ticket.error();
    co_return View(std::move(*ticket));
}

boost::asio::awaitable<Result<QueueView>> WaitingRoom::Read(const std::string& token,
                                                            std::int64_t user_id) {
    if (!LooksLikeToken(token)) co_return Error{ErrorCode::kTokenNotFound, "no such queue token"};
    auto found = co_await line_.Read(token, user_id);
    if (!found) co_return found.error();
    switch (found->first) {
        case TokenLookup::kUnknown:
            co_return Error{ErrorCode::kTokenNotFound,
                            "no such queue token (it may have run out: join again)"};
        case TokenLookup::kOthers:
            co_return Error{ErrorCode::kForbidden, "this queue token belongs to another user"};
        case TokenLookup::kFound:
            break;
    }
    co_return View(std::move(found->second));
}

boost::asio::awaitable<Status> WaitingRoom::Leave(const std::string& token, std::int64_t user_id) {
    if (!LooksLikeToken(token)) co_return Error{ErrorCode::kTokenNotFound, "no such queue token"};
    auto left = co_await line_.Leave(token, user_id);
    if (!left) co_return left.error();
    if (*left == TokenLookup::kUnknown)
        co_return Error{ErrorCode::kTokenNotFound, "no such queue token"};
    if (*left == TokenLookup::kOthers)
        co_return Error{ErrorCode::kForbidden, "this queue token belongs to another user"};
    co_return Status{};
}

boost::asio::awaitable<Status> WaitingRoom::CheckActive(std::optional<std::string_view> token,
                                                        std::int64_t user_id) {
    if (!token || token->empty())
        co_return Error{ErrorCode::kQueueTokenRequired,
                        "this route needs an active waiting-room token: X-Queue-Token"};
    const std::string t(*token);
    if (!LooksLikeToken(t))
        co_return Error{ErrorCode::kQueueTokenRequired, "X-Queue-Token is not a queue token"};
    auto ok = co_await line_.Use(t, user_id);
    if (!ok) co_return ok.error();
    if (!*ok)
        co_return Error{ErrorCode::kQueueTokenRequired,
                        "X-Queue-Token is not an active token of yours (still waiting, run out, "
                        "or another user's)"};
    co_return Status{};
}

boost::asio::awaitable<Status> WaitingRoom::Release(std::int64_t user_id) {
    co_return co_await line_.Release(user_id);
}

boost::asio::awaitable<Result<QueueStats>> WaitingRoom::AdmitStep() {
    auto stats = co_await line_.Admit(defaults_, false);
    if (!stats) co_return stats.error();
    std::lock_guard lock(mu_);
    last_ = *stats;
    co_return *stats;
}

boost::asio::awaitable<Result<std::int64_t>> WaitingRoom::SweepStep(std::int64_t chunk,
                                                                    int max_calls) {
    std::int64_t dropped = 0;
    for (int i = 0; i < max_calls; ++i) {
        auto n = co_await line_.Sweep(chunk);
        if (!n) co_return n.error();
        dropped += *n;
        if (*n < chunk) break;
    }
    co_return dropped;
}

boost::asio::awaitable<Result<QueueStats>> WaitingRoom::Stats() {
    co_return co_await line_.Admit(defaults_, true);
}

boost::asio::awaitable<Result<QueueStats>> WaitingRoom::Configure(
    std::optional<std::int64_t> admit_per_second,
    std::optional<std::int64_t> max_active,
    std::optional<bool> paused) {
    auto st = co_await line_.Configure(admit_per_second, max_active, paused);
    if (!st) co_return st.error();
    co_return co_await line_.Admit(defaults_, true);
}

}  // namespace joopang
