#pragma once
/// joopang's Redis client: one interface for a single server and for a Redis Cluster.
///
/// Threads and executors: every member function may be called from coroutines running on any
/// thread or executor, concurrently. Internally each connection serialises its work on its own
/// strand (or, with ClientOptions::single_threaded_executor, on the client's one-thread executor
/// itself); a call resumes its caller on the caller's own executor.
///
/// Pipelining is automatic: commands issued concurrently (from any number of coroutines) share one
/// connection per node and go out together in one write; replies are matched in order.
///
/// Results: `Result<Reply>` is an Error (code kUnavailable) when the command could not complete
/// — not connected, connection lost while in flight, timed out, cancelled — and a Reply
/// otherwise. A Redis error reply (`-ERR`, `-WRONGTYPE`, …) is a successful Result holding a Reply
/// of type kError, so each command of a batch has its own outcome. Commands whose keys hash to
/// several cluster slots are refused before sending with kInternal.
///
/// Cancellation: each awaitable honours per-operation cancellation (e.g. `co_await (client.Command
/// (…) || timer.async_wait(…))`, or a bound cancellation slot). A cancelled call completes at once
/// with kUnavailable "cancelled"; if it was already written, its reply is swallowed when it comes,
/// so the connection stays in sync. A cancelled or timed-out command may still have executed.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "infra/redis/options.hpp"
#include "infra/redis/reply.hpp"
#include "infra/redis/script.hpp"

namespace joopang::redis {

template <class T>
using Awaitable = boost::asio::awaitable<T>;

class Client {
  public:
    virtual ~Client() = default;

    /// Sends one command; `args[0]` is the command name, every element goes as a bulk string.
    /// Precondition: `args` is not empty. Cluster: routed by the command's keys (see
    /// command_keys.hpp), following MOVED/ASK.
    virtual Awaitable<Result<Reply>> Command(Args args, CallOptions opts = {}) = 0;

    /// Sends several commands at once and returns one Reply per command, in order. On a single
    /// server they are written back to back in one pipeline (not a transaction). In a cluster they
    /// are grouped per node and redirected commands are retried individually; a batch holding a
    /// cross-slot command is refused whole (kInternal) before anything is sent. An Error means
    /// the batch as a whole could not complete.
    virtual Awaitable<Result<std::vector<Reply>>> Batch(std::vector<Args> commands,
                                                        CallOptions opts = {}) = 0;

    /// Runs a blocking command (XREADGROUP … BLOCK, BLPOP, …) on a dedicated connection, never on
    /// the shared one. Give `opts.timeout` larger than the command's own block time.
    virtual Awaitable<Result<Reply>> BlockingCommand(Args args, CallOptions opts = {}) = 0;

    /// Keys or arguments of Eval(): a braced list of strings, or Args. It only views them:
    /// Eval() encodes them before it returns, so temporaries are fine.
    class ArgList {
      public:
        ArgList() = default;
        ArgList(std::initializer_list<std::string_view> list) : list_(list) {}
        ArgList(const Args& args) : args_(&args) {}
        std::size_t size() const { return args_ ? args_->size() : list_.size(); }
        std::string_view operator[](std::size_t i) const {
            return args_ ? std::string_view((*args_)[i]) : list_.begin()[i];
        }

      private:
        std::initializer_list<std::string_view> list_;
        const Args* args_ = nullptr;
    };

    /// Runs `script` with EVALSHA; on NOSCRIPT loads it (SCRIPT LOAD on the node owning the
    /// keys) and retries. In a cluster all `keys` must share a slot (use a {hash tag}). The call
    /// is encoded once, straight from `keys` and `args`, before this returns (it is on the
    /// coupon-issue hot path: no Args are built).
    Awaitable<Result<Reply>> Eval(const Script& script,
                                  ArgList keys,
                                  ArgList args,
                                  CallOptions opts = {});

    /// The script's reply, and how many replicas had its writes when WAIT answered.
    struct DurableReply {
        Reply reply;
        std::int64_t replicas = 0;
    };
    /// Eval(), then `WAIT replicas timeout` in the same write on the same connection, so the
    /// count covers the script's own writes (a WAIT sent later could go out on a reconnected
    /// socket and count nothing of ours). Never sent twice: a script refused as not executed
    /// (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, LOADING) is returned as its error reply, with 0
    /// replicas, for the caller to answer "try again"; NOSCRIPT loads the script and sends the
    /// pair once more. The connection is blocked until WAIT answers (at most `timeout`).
    Awaitable<Result<DurableReply>> EvalThenWait(const Script& script,
                                                 ArgList keys,
                                                 ArgList args,
                                                 int replicas,
                                                 std::chrono::milliseconds timeout);

    /// SCRIPT LOAD on every master, e.g. at start-up. Optional: Eval() loads on demand.
    virtual Awaitable<Status> LoadScript(const Script& script, CallOptions opts = {}) = 0;

    /// PING (every master in a cluster); Error unless each answered PONG. For readiness probes.
    virtual Awaitable<Status> Ping(CallOptions opts = {}) = 0;

    /// True when the connection (every master's, in a cluster) is up. Cheap, any thread.
    virtual bool IsConnected() const = 0;

    /// Closes all connections: calls in flight fail with kUnavailable, later calls fail at once.
    /// Idempotent; also done by the destructor.
    virtual void Close() = 0;

    /// "redis 127.0.0.1:6379" / "redis cluster (3 masters)", for logs.
    virtual std::string Describe() const = 0;

  protected:
    friend class PerThreadClient;  // forwards the calls below to its member clients

    /// Runs a keyless command on the node that serves `slot` (any node when -1). Used to
    /// SCRIPT LOAD where a script's keys live.
    virtual Awaitable<Result<Reply>> CommandOnSlotNode(Args args, int slot, CallOptions opts) = 0;
    /// Sends one encoded command to the node serving `slot` (any node when -1), with the same
    /// retries and redirections as Command(). `payload` must stay valid until the call completes.
    virtual Awaitable<Result<Reply>> SendEncoded(std::string_view payload,
                                                 int slot,
                                                 CallOptions opts) = 0;
    /// Sends `count` encoded commands in one write to the node serving `slot` and returns their
    /// replies, with no retry and no redirection (the caller decides what a refusal means).
    virtual Awaitable<Result<std::vector<Reply>>> SendPipeline(std::string_view payload,
                                                               std::size_t count,
                                                               int slot,
                                                               CallOptions opts) = 0;
    /// True when commands are routed by key slot (a cluster): Eval() then computes its slot and
    /// refuses keys that hash to different slots.
    virtual bool RoutesBySlot() const = 0;

  private:
    Awaitable<Result<Reply>> RunEval(
        const Script& script, std::string payload, std::size_t argc, int slot, CallOptions opts);
};

/// Creates a client for `options.url` (a cluster for redis-cluster://). With `wait_connected`
/// (the default) it returns only once connected (for a cluster: once the slot map is known),
/// or an Error (kUnavailable, or kValidationFailed for a bad URL). Call from any coroutine;
/// `executor` runs the client's I/O.
Awaitable<Result<std::shared_ptr<Client>>> Connect(boost::asio::any_io_executor executor,
                                                   ClientOptions options);
/// Connect() with default options and `url`.
Awaitable<Result<std::shared_ptr<Client>>> Connect(boost::asio::any_io_executor executor,
                                                   std::string url);

}  // namespace joopang::redis
