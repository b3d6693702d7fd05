#include "infra/redis/redis_lease.hpp"

#include "infra/redis/script.hpp"

namespace joopang::redis {
namespace {
const Script kRelease("lease-release", R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
}  // namespace

Awaitable<bool> TryLease(Client& client,
                         const std::string& name,
                         const std::string& token,
                         std::chrono::milliseconds ttl) {
    auto r = co_await client.Command(
        MakeArgs("SET", "lease:" + name, token, "NX", "PX", std::to_string(ttl.count())));
    co_return r && r->IsStatus();
}

Awaitable<void> ReleaseLease(Client& client, const std::string& name, const std::string& token) {
    std::vector<std::string> keys(1, "lease:" + name);
    std::vector<std::string> args(1, token);
    co_await client.Eval(kRelease, keys, args);
}

}  // namespace joopang::redis
