#pragma once
/// Coalesces calls of one Redis script: the calls one I/O thread makes in one turn of its event
/// loop for one group go to Redis as one call of a script that decides each of them in order,
/// atomically, and answers an array with one element per call. Most of what a short script costs
/// is the call itself — on the service's side (encoding, parsing, resuming) and on Redis's
/// (EVALSHA's set-up) — so a batch of calls costs little more than one.
///
/// A group is a batch's first key (e.g. one coupon template's, or the waiting line's): its script
/// gets the group's leading keys and arguments once, then each call's own. No call waits for a
/// batch to fill: a batch goes as soon as the calls already received have been read, or when it
/// holds `max_batch` — unless `max_in_flight` batches of its thread and group are at Redis
/// already: then it goes as soon as one of them is answered, with every call that joined it
/// meanwhile (the same policy as CouponIssueBatcher, whose figures chose it).

#include <cstddef>
#include <memory>

#include "infra/redis/client.hpp"
#include "infra/redis/script.hpp"

namespace joopang::redis {

class ScriptBatcher {
  public:
    static constexpr std::size_t kDefaultMaxBatch = 128;
    static constexpr std::size_t kDefaultMaxInFlight = 2;

    ScriptBatcher(std::shared_ptr<Client> client,
                  Script script,
                  std::size_t max_batch = kDefaultMaxBatch,
                  std::size_t max_in_flight = kDefaultMaxInFlight);
    ~ScriptBatcher();
    ScriptBatcher(const ScriptBatcher&) = delete;
    ScriptBatcher& operator=(const ScriptBatcher&) = delete;

    /// One call: `keys` and `args` are appended to the open batch of the calling thread and
    /// group (`head_keys[0]`), which `head_keys` and `head_args` lead when this call opens it.
    /// Answers this call's element of the script's reply, or the error every call of the batch
    /// gets when the script fails or answers fewer elements than calls.
    Awaitable<Result<Reply>> Call(Args head_keys, Args head_args, Args keys, Args args);

    struct State;  // shared with the batches in flight (public for the .cpp's helpers)

  private:
    std::shared_ptr<State> state_;
};

}  // namespace joopang::redis
