#include "infra/redis/connection.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <random>
#include <span>
#include <unordered_map>

#include "infra/redis/multiplexer.hpp"
#include "infra/redis/resp_reader.hpp"
#include "infra/redis/resp_writer.hpp"

namespace joopang::redis {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using Signature = void(Result<std::vector<Reply>>);

namespace {
constexpr auto kTimeoutTick = std::chrono::milliseconds(5);
constexpr std::size_t kReadBufferSize = 64 * 1024;

// What a request sends: either pre-encoded bytes or commands encoded on the strand. Both views
// point into the awaiting caller's frame, which outlives the request.
struct Payload {
    std::string_view encoded;
    std::span<const Args> commands;
    std::size_t reply_count = 0;
};
}  // namespace

struct Connection::Impl : std::enable_shared_from_this<Impl> {
    // Execute() is always awaited, so the handler type is known and needs no type erasure.
    using Handler = asio::async_result<asio::use_awaitable_t<>, Signature>::handler_type;
    struct Waiter {
        Handler handler;
        asio::any_io_executor executor;  // the caller's: the handler runs there
        asio::cancellation_slot slot;
    };

    Impl(asio::any_io_executor executor, ConnectionOptions options)
        : single_threaded(options.single_threaded_executor),
          strand(single_threaded ? executor : asio::make_strand(executor)),
          opts(std::move(options)),
          name(opts.endpoint.Name()),
          socket(strand),
          wake(strand),
          backoff_timer(strand),
          read_buffer(kReadBufferSize) {}

    // ---- state; everything below `strand` is touched only on the strand ----
    /// The executor's io_context is run by one thread: `strand` is that executor itself, and a
    /// caller on it is served without a post either way (see ConnectionOptions).
    const bool single_threaded;
    /// Serialises the connection's work: a strand, or the single-threaded executor itself.
    asio::any_io_executor strand;
    const ConnectionOptions opts;
    const std::string name;
    std::atomic<bool> connected{false};
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<int> failed_attempts{0};
    std::mutex error_mutex;
    std::string last_error = "not connected yet";

    asio::generic::stream_protocol::socket socket;
    asio::steady_timer wake;  // the writer sleeps on it; cancel() wakes it
    asio::steady_timer backoff_timer;
    bool writer_idle = false;
    bool ticker_running = false;
    bool closed = false;
    std::string disconnect_reason;
    Multiplexer mux;
    std::unordered_map<std::uint64_t, Waiter> waiters;
    std::vector<Multiplexer::Completion> spare_completions;  // reused by Deliver()
    std::vector<char> read_buffer;

    void SetLastError(std::string e) {
        std::lock_guard lock(error_mutex);
        last_error = std::move(e);
    }
    std::string LastError() {
        std::lock_guard lock(error_mutex);
        return last_error;
    }

    // ---- requests ----

    // Caller's thread: the handler's slot is assigned before the request is posted, so a
    // cancellation can only reach the strand after the request did.
    static void Initiate(std::shared_ptr<Impl> self,
                         Handler handler,
                         const Payload& payload,
                         Clock::time_point deadline) {
        Impl& me = *self;
        const std::uint64_t id = me.next_id.fetch_add(1, std::memory_order_relaxed);
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) {
            slot.assign([weak = std::weak_ptr<Impl>(self), id](asio::cancellation_type) {
                if (auto self = weak.lock()) {
                    asio::post(self->strand, [self, id] {
                        if (self->mux.Cancel(id, Error::Unavailable("redis call cancelled"))) {
                            self->Deliver();
                        }
                    });
                }
            });
        }
        asio::any_io_executor executor = asio::get_associated_executor(handler, me.strand);
        const bool caller_on_connection = me.OnConnectionThread(executor);
        Waiter waiter{std::move(handler), std::move(executor), slot};
        if (caller_on_connection) {
            // Already on the connection's only thread: hand the request over directly.
            me.Enqueue(id, std::move(waiter), payload, deadline);
            return;
        }
        asio::post(me.strand, [self = std::move(self), id, waiter = std::move(waiter), payload,
                               deadline]() mutable {
            self->Enqueue(id, std::move(waiter), payload, deadline);
        });
    }

    void Enqueue(std::uint64_t id,
                 Waiter waiter,
                 const Payload& payload,
                 Clock::time_point deadline) {
        if (closed) {
            Complete(std::move(waiter), Error::Unavailable("redis client closed"));
            return;
        }
        if (!connected.load(std::memory_order_relaxed)) {
            Complete(std::move(waiter),
                     Error::Unavailable("not connected to redis " + name + ": " + LastError()));
            return;
        }
        waiters.emplace(id, std::move(waiter));
        if (payload.commands.empty()) {
            mux.Add(id, payload.encoded, payload.reply_count, deadline);
        } else {
            mux.Add(id, payload.commands, deadline);
        }
        if (writer_idle) wake.cancel();
        if (!ticker_running) {
            ticker_running = true;
            asio::co_spawn(strand, Ticker(shared_from_this()), asio::detached);
        }
    }

    void Complete(Waiter waiter, Result<std::vector<Reply>> result) {
        auto executor = waiter.executor;
        asio::post(executor, [waiter = std::move(waiter), result = std::move(result)]() mutable {
            if (waiter.slot.is_connected()) waiter.slot.clear();
            std::move(waiter.handler)(std::move(result));
        });
    }

    /// True when `executor` is this connection's own single-threaded executor, so whoever holds
    /// it runs on the connection's thread right now.
    bool OnConnectionThread(const asio::any_io_executor& executor) const {
        return single_threaded && executor == strand;
    }

    // Hands every completion the multiplexer produced to its waiter. A waiter on the connection's
    // own thread is resumed here and now (it runs until its next suspension, typically the
    // response write and the next read); others get a post to their executor. Never called from
    // inside Initiate(), so a caller is never resumed from within its own co_await's initiation.
    void Deliver() {
        // A local batch: a resumed caller may start new requests (and so reach the multiplexer)
        // before this loop ends.
        std::vector<Multiplexer::Completion> batch = std::move(spare_completions);
        mux.TakeCompleted(batch);
        for (auto& c : batch) {
            auto it = waiters.find(c.id);
            if (it == waiters.end()) continue;
            Waiter w = std::move(it->second);
            waiters.erase(it);
            if (OnConnectionThread(w.executor)) {
                if (w.slot.is_connected()) w.slot.clear();
                std::move(w.handler)(std::move(c.result));
            } else {
                Complete(std::move(w), std::move(c.result));
            }
        }
        batch.clear();
        spare_completions = std::move(batch);
    }

    // Ends requests past their deadline; runs while requests are live.
    static asio::awaitable<void> Ticker(std::shared_ptr<Impl> self) {
        asio::steady_timer timer(self->strand);
        while (self->mux.LiveCount() > 0) {
            timer.expires_after(kTimeoutTick);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            self->mux.Expire(Clock::now(),
                             Error::Unavailable("redis command timed out on " + self->name));
            self->Deliver();
        }
        self->ticker_running = false;
    }

    // ---- connection life cycle ----

    static asio::awaitable<void> Run(std::shared_ptr<Impl> self) {
        auto backoff = self->opts.backoff_min;
        std::mt19937 rng(std::random_device{}());
        while (!self->closed) {
            Status st = co_await self->ConnectWithTimeout();
            if (self->closed) break;
            if (!st) {
                self->SetLastError(st.error().message);
                self->failed_attempts.fetch_add(1);
                self->socket.close();
                if (!self->opts.reconnect) break;
                std::uniform_real_distribution<double> jitter(0.8, 1.2);
                self->backoff_timer.expires_after(
                    std::chrono::duration_cast<Clock::duration>(backoff * jitter(rng)));
                co_await self->backoff_timer.async_wait(asio::as_tuple(asio::use_awaitable));
                backoff = std::min(backoff * 2, self->opts.backoff_max);
                continue;
            }
            backoff = self->opts.backoff_min;
            self->disconnect_reason.clear();
            self->connected.store(true, std::memory_order_release);
            try {
                co_await (self->ReadLoop() || self->WriteLoop());
            } catch (const std::exception& e) {
                if (self->disconnect_reason.empty()) self->disconnect_reason = e.what();
            }
            self->connected.store(false, std::memory_order_release);
            boost::system::error_code ignored;
            self->socket.close(ignored);
            std::string reason = self->closed ? "redis client closed"
                                              : "connection to redis " + self->name +
                                                    " lost: " + self->disconnect_reason;
            self->SetLastError(reason);
            self->mux.FailAll(Error::Unavailable(reason));
            self->Deliver();
            if (!self->opts.reconnect) break;
        }
        self->closed = true;
        self->connected.store(false, std::memory_order_release);
        self->mux.FailAll(Error::Unavailable("redis client closed"));
        self->Deliver();
    }

    asio::awaitable<Status> ConnectWithTimeout() {
        asio::steady_timer timer(strand);
        timer.expires_after(opts.connect_timeout);
        try {
            auto result = co_await (ConnectAndHandshake() || timer.async_wait(asio::use_awaitable));
            if (result.index() == 0) co_return std::get<0>(std::move(result));
            co_return Error::Unavailable("connecting to redis " + name + " timed out after " +
                                         std::to_string(opts.connect_timeout.count()) + " ms");
        } catch (const std::exception& e) {
            co_return Error::Unavailable("connecting to redis " + name + " failed: " + e.what());
        }
    }

    asio::awaitable<Status> ConnectAndHandshake() {
        boost::system::error_code ec;
        socket.close(ec);
        if (opts.endpoint.kind == Endpoint::Kind::kUnix) {
            asio::local::stream_protocol::endpoint ep(opts.endpoint.path);
            std::tie(ec) = co_await socket.async_connect(
                asio::generic::stream_protocol::endpoint(ep), asio::as_tuple(asio::use_awaitable));
        } else {
            asio::ip::tcp::resolver resolver(strand);
            auto [rec, results] = co_await resolver.async_resolve(
                opts.endpoint.host, std::to_string(opts.endpoint.port),
                asio::as_tuple(asio::use_awaitable));
            if (rec) {
                co_return Error::Unavailable("cannot resolve redis host " + opts.endpoint.host +
                                             ": " + rec.message());
            }
            ec = asio::error::host_not_found;
            for (const auto& entry : results) {
                socket.close(ec);
                std::tie(ec) = co_await socket.async_connect(
                    asio::generic::stream_protocol::endpoint(entry.endpoint()),
                    asio::as_tuple(asio::use_awaitable));
                if (!ec) break;
            }
            if (!ec) socket.set_option(asio::ip::tcp::no_delay(true), ec);
        }
        if (ec)
            co_return Error::Unavailable("cannot connect to redis " + name + ": " + ec.message());
        co_return co_await Handshake();
    }

    // AUTH, SELECT and CLIENT SETNAME, before the connection is offered to callers.
    asio::awaitable<Status> Handshake() {
        std::string payload;
        std::size_t n = 0;
        const Endpoint& ep = opts.endpoint;
        if (!ep.password.empty()) {
            if (ep.username.empty()) {
                AppendCommand(payload, {"AUTH", ep.password});
            } else {
                AppendCommand(payload, {"AUTH", ep.username, ep.password});
            }
            ++n;
        }
        if (ep.db != 0) {
            AppendCommand(payload, {"SELECT", std::to_string(ep.db)});
            ++n;
        }
        if (!opts.client_name.empty()) {
            AppendCommand(payload, {"CLIENT", "SETNAME", opts.client_name});
            ++n;
        }
        if (n == 0) co_return Status{};
        auto [wec, written] = co_await asio::async_write(socket, asio::buffer(payload),
                                                         asio::as_tuple(asio::use_awaitable));
        if (wec)
            co_return Error::Unavailable("redis handshake with " + name + ": " + wec.message());
        RespReader reader;
        std::size_t got = 0;
        while (got < n) {
            Reply reply;
            auto next = reader.Pop(reply);
            if (next == RespReader::Next::kProtocolError) {
                co_return Error::Unavailable("redis handshake with " + name + ": " +
                                             reader.ErrorMessage());
            }
            if (next == RespReader::Next::kReply) {
                ++got;
                if (reply.IsError()) {
                    co_return Error::Unavailable("redis handshake with " + name +
                                                 " refused: " + reply.str);
                }
                continue;
            }
            auto [rec, read] = co_await socket.async_read_some(asio::buffer(read_buffer),
                                                               asio::as_tuple(asio::use_awaitable));
            if (rec)
                co_return Error::Unavailable("redis handshake with " + name + ": " + rec.message());
            reader.Feed({read_buffer.data(), read});
        }
        co_return Status{};
    }

    asio::awaitable<void> ReadLoop() {
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(read_buffer),
                                                           asio::as_tuple(asio::use_awaitable));
            if (ec) {
                disconnect_reason =
                    ec == asio::error::eof ? "server closed the connection" : ec.message();
                co_return;
            }
            Status st = mux.Feed({read_buffer.data(), n});
            Deliver();
            if (!st) {
                disconnect_reason = st.error().message;
                co_return;
            }
        }
    }

    asio::awaitable<void> WriteLoop() {
        for (;;) {
            while (mux.HasWaiting()) {
                std::string_view bytes = mux.PrepareWrite();
                auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes),
                                                          asio::as_tuple(asio::use_awaitable));
                if (ec) {
                    disconnect_reason = "write failed: " + ec.message();
                    co_return;
                }
            }
            if (closed) co_return;
            writer_idle = true;
            wake.expires_at(asio::steady_timer::time_point::max());
            co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
            writer_idle = false;
            auto cs = co_await asio::this_coro::cancellation_state;
            if (closed || cs.cancelled() != asio::cancellation_type::none) co_return;
        }
    }

    void DoClose() {
        if (closed) return;
        closed = true;
        boost::system::error_code ignored;
        socket.close(ignored);
        wake.cancel();
        backoff_timer.cancel();
        mux.FailAll(Error::Unavailable("redis client closed"));
        Deliver();
    }
};

std::shared_ptr<Connection> Connection::Start(asio::any_io_executor executor,
                                              ConnectionOptions options) {
    auto impl = std::make_shared<Impl>(std::move(executor), std::move(options));
    asio::co_spawn(impl->strand, Impl::Run(impl), asio::detached);
    return std::shared_ptr<Connection>(new Connection(std::move(impl)));
}

Connection::Connection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Connection::~Connection() { Close(); }

void Connection::Close() {
    asio::post(impl_->strand, [impl = impl_] { impl->DoClose(); });
}

bool Connection::IsConnected() const { return impl_->connected.load(std::memory_order_acquire); }

const Endpoint& Connection::endpoint() const { return impl_->opts.endpoint; }

const std::string& Connection::name() const { return impl_->name; }

namespace {
// The initiation of Execute(), as a named type: it is stored in the awaitable until the caller
// suspends, then called with the caller's completion handler.
struct ExecuteInitiation {
    std::shared_ptr<Connection::Impl> impl;
    Payload payload;
    Connection::Clock::time_point deadline;

    void operator()(Connection::Impl::Handler handler) {
        Connection::Impl::Initiate(std::move(impl), std::move(handler), payload, deadline);
    }
};
}  // namespace

asio::awaitable<Result<std::vector<Reply>>> Connection::Execute(std::string_view payload,
                                                                std::size_t reply_count,
                                                                Clock::time_point deadline) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, Signature>(
        ExecuteInitiation{impl_, Payload{payload, {}, reply_count}, deadline}, asio::use_awaitable);
}

asio::awaitable<Result<std::vector<Reply>>> Connection::Execute(std::span<const Args> commands,
                                                                Clock::time_point deadline) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, Signature>(
        ExecuteInitiation{impl_, Payload{{}, commands, commands.size()}, deadline},
        asio::use_awaitable);
}

asio::awaitable<Status> Connection::WaitConnected(std::chrono::milliseconds timeout,
                                                  bool fail_on_first_error) {
    const auto deadline = Clock::now() + timeout;
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);
    for (;;) {
        if (IsConnected()) co_return Status{};
        if (fail_on_first_error && impl_->failed_attempts.load() > 0) break;
        if (Clock::now() >= deadline) break;
        timer.expires_after(std::chrono::milliseconds(2));
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return Error::Unavailable("cannot connect to redis " + impl_->name + ": " +
                                 impl_->LastError());
}

}  // namespace joopang::redis
