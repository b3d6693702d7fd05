#pragma once
/// Leases for work that must run on one instance at a time: whoever holds a lease's name runs,
/// the others skip. A lease expires by itself, so a holder that dies frees it.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

namespace joopang {

class LeaseStore {
  public:
    virtual ~LeaseStore() = default;
    /// Takes `name` for `ttl` if nobody holds it, or extends it for `ttl` if `token` holds it.
    /// True when `token` holds it afterwards; false when another holds it or the store cannot be
    /// reached (skipping a run is safe, running twice is what a lease prevents).
    virtual boost::asio::awaitable<bool> Hold(const std::string& name,
                                              const std::string& token,
                                              std::chrono::milliseconds ttl) = 0;
    /// Gives `name` back if `token` still holds it.
    virtual boost::asio::awaitable<void> Release(const std::string& name,
                                                 const std::string& token) = 0;
};

}  // namespace joopang
