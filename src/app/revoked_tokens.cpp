#include "app/revoked_tokens.hpp"

#include <mutex>

namespace joopang {

void RevokedTokens::Add(const std::string& token_id, EpochMs expires_at) {
    std::unique_lock lock(mu_);
    auto [it, inserted] = tokens_.try_emplace(token_id, expires_at);
    if (!inserted && it->second < expires_at) it->second = expires_at;
    empty_.store(false, std::memory_order_release);
}

bool RevokedTokens::Contains(std::string_view token_id) const {
    if (empty_.load(std::memory_order_acquire)) return false;
    std::shared_lock lock(mu_);
    return tokens_.find(std::string(token_id)) != tokens_.end();
}

void RevokedTokens::Prune(EpochMs now) {
    std::unique_lock lock(mu_);
    std::erase_if(tokens_, [now](const auto& entry) { return entry.second <= now; });
    empty_.store(tokens_.empty(), std::memory_order_release);
}

std::size_t RevokedTokens::size() const {
    std::shared_lock lock(mu_);
    return tokens_.size();
}

}  // namespace joopang
