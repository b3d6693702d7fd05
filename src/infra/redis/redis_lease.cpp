#include "infra/redis/redis_lease.hpp"

#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/script.hpp"

namespace joopang::redis {
namespace {

const Script kHold("lease-hold", std::string(lua::kLeaseHold));
const Script kRelease("lease-release", std::string(lua::kLeaseRelease));

std::string LeaseKey(const std::string& name) { return "lease:" + name; }

}  // namespace

Awaitable<bool> RedisLeaseStore::Hold(const std::string& name,
                                      const std::string& token,
                                      std::chrono::milliseconds ttl) {
    std::vector<std::string> keys{LeaseKey(name)};
    std::vector<std::string> args{token, std::to_string(std::max<long>(1, ttl.count()))};
    auto r = co_await client_->Eval(kHold, keys, args);
    co_return r && r->IsInteger() && r->integer == 1;
}

Awaitable<void> RedisLeaseStore::Release(const std::string& name, const std::string& token) {
    std::vector<std::string> keys{LeaseKey(name)};
    std::vector<std::string> args{token};
    co_await client_->Eval(kRelease, keys, args);
}

}  // namespace joopang::redis
