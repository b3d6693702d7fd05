#include "infra/redis/redis_login_throttle.hpp"

#include <openssl/evp.h>

#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/script.hpp"

namespace joopang::redis {
namespace {

const Script kAttempt("login-attempt", std::string(lua::kLoginAttempt));

}  // namespace

std::string RedisLoginThrottle::KeyOf(const std::string& subject) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(subject.data(), subject.size(), digest, &len, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string key = "auth:login-attempts:";
    for (unsigned i = 0; i < 16 && i < len; ++i) {
        key += kHex[digest[i] >> 4];
        key += kHex[digest[i] & 15];
    }
    return key;
}

Awaitable<Result<LoginThrottle::Verdict>> RedisLoginThrottle::Attempt(const std::string& subject,
                                                                      int max_attempts,
                                                                      std::int64_t window_ms) {
    // Args, not braced lists: GCC 12 rejects those inside co_await (client.hpp).
    Args keys{KeyOf(subject)};
    Args args{std::to_string(max_attempts), std::to_string(window_ms)};
    auto reply = co_await client_->Eval(kAttempt, keys, args);
    if (!reply) co_return reply.error();
    if (!reply->IsArray() || reply->elements.size() != 2 || !reply->elements[0].IsInteger() ||
        !reply->elements[1].IsInteger())
        co_return Error::Unavailable("login-attempt script answered " + reply->ToString());
    co_return Verdict{reply->elements[0].integer == 1, reply->elements[1].integer};
}

Awaitable<Status> RedisLoginThrottle::Succeeded(const std::string& subject) {
    auto reply = co_await client_->Command(MakeArgs("DEL", KeyOf(subject)));
    if (!reply) co_return reply.error();
    co_return Status{};
}

}  // namespace joopang::redis
