#pragma once
/// A lease for jobs that must run on one instance at a time: `SET key token NX PX ttl` to take
/// it, a compare-and-delete script to give it back (only the holder can release it).

#include <chrono>
#include <string>

#include "infra/redis/client.hpp"

namespace joopang::redis {

/// True when this caller now holds `name` for `ttl`.
Awaitable<bool> TryLease(Client& client,
                         const std::string& name,
                         const std::string& token,
                         std::chrono::milliseconds ttl);
/// Releases `name` if `token` still holds it.
Awaitable<void> ReleaseLease(Client& client, const std::string& name, const std::string& token);

}  // namespace joopang::redis
