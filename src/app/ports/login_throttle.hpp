#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace joopang {

/// Counts sign-in attempts per subject (an email) across all instances, in a fixed window that
/// starts with the first attempt not followed by a success.
class LoginThrottle {
  public:
    struct Verdict {
        bool allowed = true;
        /// When refused: how long until the window ends.
        std::int64_t retry_after_ms = 0;
    };
    virtual ~LoginThrottle() = default;
    /// Counts one attempt; refused when `subject` already had `max_attempts` in its window.
    /// Atomic: concurrent attempts are counted one by one, so at most `max_attempts` pass.
    virtual boost::asio::awaitable<Result<Verdict>> Attempt(const std::string& subject,
                                                            int max_attempts,
                                                            std::int64_t window_ms) = 0;
    /// A successful sign-in: the subject's count starts over.
    virtual boost::asio::awaitable<Status> Succeeded(const std::string& subject) = 0;
};

}  // namespace joopang
