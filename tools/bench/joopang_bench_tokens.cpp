#include "joopang_bench_tokens.hpp"

#include "app/access_token.hpp"

namespace joopang::bench {

BenchTokens::BenchTokens(std::string secret, std::int64_t ttl_s)
    : codec_(std::make_unique<AccessTokenCodec>(std::move(secret))), ttl_s_(ttl_s) {}

BenchTokens::~BenchTokens() = default;

std::string BenchTokens::For(std::uint64_t user) const {
    AccessClaims c;
    c.user_id = static_cast<std::int64_t>(user);
    c.token_id = "bench-" + std::to_string(user);
    c.issued_at = NowMs() / 1000 * 1000;
    c.expires_at = c.issued_at + ttl_s_ * 1000;
    return codec_->Sign(c);
}

}  // namespace joopang::bench
