// The single-server client against a real redis-server started by the test.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <future>
#include <thread>

#include "infra/redis/client.hpp"
#include "infra/redis/per_thread_client.hpp"
#include "infra/redis/streams.hpp"
#include "redis_test_support.hpp"

namespace joopang::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using testing::FreePort;
using testing::RedisServer;
using testing::TempDir;

asio::awaitable<void> SleepFor(std::chrono::milliseconds d) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex);
    t.expires_after(d);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

struct CallerTally {
    int correct = 0, wrong = 0, failed = 0;
};

/// `n` coroutines at once, coroutine i on `executor_of(i)`, each doing SET, GET and ECHO of its
/// own key and value through `c`; counts whose replies were all its own.
CallerTally SetGetEchoFromMany(Client& c,
                               int n,
                               const std::string& prefix,
                               const std::function<asio::any_io_executor(int)>& executor_of) {
    std::atomic<int> correct{0}, wrong{0}, failed{0};
    std::vector<std::future<void>> done;
    done.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        done.push_back(asio::co_spawn(
            executor_of(i),
            [&, i]() -> asio::awaitable<void> {
                const std::string key = prefix + std::to_string(i);
                const std::string value = "value-" + std::to_string(i);
                auto set = co_await c.Command(MakeArgs("SET", key, value));
                auto get = co_await c.Command(MakeArgs("GET", key));
                auto echo = co_await c.Command(MakeArgs("ECHO", value));
                if (!set || !get || !echo) {
                    ++failed;
                } else if (*set == Reply::Status("OK") && *get == Reply::Bulk(value) &&
                           *echo == Reply::Bulk(value)) {
                    ++correct;
                } else {
                    ++wrong;
                }
            },
            asio::use_future));
    }
    for (auto& f : done) f.get();
    return {correct.load(), wrong.load(), failed.load()};
}

class RedisClientTest : public testing::OneServerTest<Client> {
  protected:
    std::shared_ptr<Client> MakeClient(ClientOptions options) {
        auto c = Run(Connect(io_.get_executor(), std::move(options)));
        if (!c) throw std::runtime_error("connect failed: " + c.error().message);
        clients_.push_back(*c);
        return *c;
    }
    std::shared_ptr<Client> MakeClient(const std::string& url) {
        ClientOptions o;
        o.url = url;
        return MakeClient(o);
    }

    Reply Must(std::shared_ptr<Client> c, Args args) {
        auto r = Run(c->Command(std::move(args)));
        if (!r) throw std::runtime_error("command failed: " + r.error().message);
        return *r;
    }
};

TEST_F(RedisClientTest, ReplyTypesAndPerCommandResults) {
    auto c = MakeClient(server_->Url());
    EXPECT_TRUE(c->IsConnected());
    EXPECT_TRUE(Run(c->Ping()));
    EXPECT_EQ(Must(c, {"SET", "basic:k", "v a\r\nl"}), Reply::Status("OK"));
    EXPECT_EQ(Must(c, {"GET", "basic:k"}), Reply::Bulk("v a\r\nl"));
    EXPECT_TRUE(Must(c, {"GET", "basic:missing"}).IsNil());
    EXPECT_EQ(Must(c, {"INCRBY", "basic:n", "5"}), Reply::Integer(5));
    Must(c, {"DEL", "basic:l"});
    Must(c, {"RPUSH", "basic:l", "a", "b"});
    EXPECT_EQ(Must(c, {"LRANGE", "basic:l", "0", "-1"}),
              Reply::Array({Reply::Bulk("a"), Reply::Bulk("b")}));

    auto batch = Run(c->Batch({{"SET", "basic:s", "x"},
                               {"INCR", "basic:s"},
                               {"GET", "basic:s"},
                               {"LPUSH", "basic:s", "a"}}));
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->size(), 4u);
    EXPECT_EQ((*batch)[0], Reply::Status("OK"));
    EXPECT_TRUE((*batch)[1].IsError());  // not an integer: only this command fails
    EXPECT_EQ((*batch)[2], Reply::Bulk("x"));
    EXPECT_TRUE((*batch)[3].IsErrorCode("WRONGTYPE"));
}

TEST_F(RedisClientTest, ConnectErrors) {
    auto bad = Run(Connect(io_.get_executor(), std::string("redis://h:notaport")));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kValidationFailed);

    const int closed_port = FreePort();
    const auto t0 = std::chrono::steady_clock::now();
    auto refused =
        Run(Connect(io_.get_executor(), "redis://127.0.0.1:" + std::to_string(closed_port)));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(refused.error().message.find("127.0.0.1"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST_F(RedisClientTest, TenThousandConcurrentCommandsEachGetTheirOwnReply) {
    auto c = MakeClient(server_->Url());
    // Half on the io_context directly, half on strands: callers on any executor.
    auto tally = SetGetEchoFromMany(*c, 10000, "many:", [&](int i) {
        return i % 2 == 0 ? asio::any_io_executor(io_.get_executor())
                          : asio::any_io_executor(asio::make_strand(io_));
    });
    EXPECT_EQ(tally.correct, 10000);
    EXPECT_EQ(tally.wrong, 0);
    EXPECT_EQ(tally.failed, 0);
}

// joopang's own set-up: the client runs on an io_context that exactly one thread runs, so its
// connections skip the strand and callers on that thread are resumed inline. Callers on other
// threads must still be served correctly, and a cancelled or timed-out call must not shift
// later replies.
TEST_F(RedisClientTest, SingleThreadedExecutorServesCallersOnAndOffItsThread) {
    asio::io_context single(1);
    auto single_work = asio::make_work_guard(single);
    std::thread single_thread([&] { single.run(); });
    ClientOptions o;
    o.url = server_->Url();
    o.single_threaded_executor = true;
    auto connected =
        asio::co_spawn(single, Connect(single.get_executor(), o), asio::use_future).get();
    ASSERT_TRUE(connected) << connected.error().message;
    auto c = *connected;
    auto admin = MakeClient(server_->Url());

    // Two thirds on the client's own thread, the rest on the fixture's two other threads.
    auto tally = SetGetEchoFromMany(*c, 6000, "single:", [&](int i) {
        return i % 3 != 0 ? asio::any_io_executor(single.get_executor())
                          : asio::any_io_executor(io_.get_executor());
    });
    EXPECT_EQ(tally.correct, 6000);
    EXPECT_EQ(tally.wrong, 0);
    EXPECT_EQ(tally.failed, 0);

    // Cancelled and timed-out calls on the client's own thread leave the connection in step.
    EXPECT_EQ(Must(admin, {"CLIENT", "PAUSE", "300", "ALL"}), Reply::Status("OK"));
    auto on_single = [&](auto make) {
        return asio::co_spawn(single, make(), asio::use_future).get();
    };
    auto cancelled = on_single([&]() -> asio::awaitable<std::size_t> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(30ms);
        auto r = co_await (c->Command(MakeArgs("ECHO", "cancelled")) ||
                           t.async_wait(asio::use_awaitable));
        co_return r.index();
    });
    EXPECT_EQ(cancelled, 1u);
    CallOptions short_timeout;
    short_timeout.timeout = 50ms;
    auto timed_out = on_single([&]() -> asio::awaitable<Result<Reply>> {
        co_return co_await c->Command(MakeArgs("ECHO", "late"), short_timeout);
    });
    EXPECT_FALSE(timed_out);
    auto fresh = on_single([&]() -> asio::awaitable<Result<Reply>> {
        CallOptions patient;
        patient.timeout = 3s;
        co_return co_await c->Command(MakeArgs("ECHO", "fresh"), patient);
    });
    ASSERT_TRUE(fresh) << fresh.error().message;
    EXPECT_EQ(*fresh, Reply::Bulk("fresh"));

    c->Close();
    single_work.reset();
    single_thread.join();
}

// joopang serve with several I/O threads: one client per thread, each call served by the client
// of the thread it runs on (its own connection), and threads that are not reactors use the first.
TEST_F(RedisClientTest, PerThreadClientUsesTheCallingThreadsOwnConnection) {
    constexpr int kThreads = 2;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    std::vector<std::shared_ptr<Client>> members;
    for (int i = 0; i < kThreads; ++i) {
        contexts.push_back(std::make_unique<asio::io_context>(1));
        work.push_back(asio::make_work_guard(*contexts.back()));
        threads.emplace_back([&ctx = *contexts.back(), i] {
            PerThreadClient::BindThisThread(static_cast<std::size_t>(i));
            ctx.run();
        });
        ClientOptions o;
        o.url = server_->Url();
        o.single_threaded_executor = true;
        auto c = asio::co_spawn(*contexts.back(), Connect(contexts.back()->get_executor(), o),
                                asio::use_future)
                     .get();
        ASSERT_TRUE(c) << c.error().message;
        members.push_back(*c);
    }
    auto client = std::make_shared<PerThreadClient>(members);
    auto client_id_on = [&](asio::io_context& ctx) {
        auto r = asio::co_spawn(
                     ctx,
                     [&]() -> asio::awaitable<Result<Reply>> {
                         co_return co_await client->Command(MakeArgs("CLIENT", "ID"));
                     },
                     asio::use_future)
                     .get();
        if (!r || !r->IsInteger()) throw std::runtime_error("CLIENT ID failed");
        return r->integer;
    };
    auto member_id = [&](int i) {
        auto r = asio::co_spawn(*contexts[i], members[i]->Command(MakeArgs("CLIENT", "ID")),
                                asio::use_future)
                     .get();
        if (!r || !r->IsInteger()) throw std::runtime_error("CLIENT ID failed");
        return r->integer;
    };
    EXPECT_EQ(client_id_on(*contexts[0]), member_id(0));
    EXPECT_EQ(client_id_on(*contexts[1]), member_id(1));
    EXPECT_NE(member_id(0), member_id(1));
    EXPECT_EQ(client_id_on(io_), member_id(0));  // not a reactor thread: the first client

    // Concurrent traffic from every thread, each reply to its own caller.
    std::atomic<int> correct{0}, wrong{0};
    std::vector<std::future<void>> done;
    for (int i = 0; i < 3000; ++i) {
        asio::io_context& ctx = i % 3 == 2 ? io_ : *contexts[static_cast<std::size_t>(i % 2)];
        done.push_back(asio::co_spawn(
            ctx,
            [&, i]() -> asio::awaitable<void> {
                const std::string value = "per-thread-" + std::to_string(i);
                auto r = co_await client->Command(MakeArgs("ECHO", value));
                (r && *r == Reply::Bulk(value)) ? ++correct : ++wrong;
            },
            asio::use_future));
    }
    for (auto& f : done) f.get();
    EXPECT_EQ(correct.load(), 3000);
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_TRUE(client->IsConnected());
    EXPECT_TRUE(asio::co_spawn(*contexts[1], client->Ping(), asio::use_future).get());

    client->Close();
    work.clear();
    for (auto& t : threads) t.join();
}

TEST_F(RedisClientTest, TimeoutAndCancellationNeverDesynchronise) {
    auto c = MakeClient(server_->Url());
    auto admin = MakeClient(server_->Url());
    // Hold every client's commands for 400 ms.
    EXPECT_EQ(Must(admin, {"CLIENT", "PAUSE", "400", "ALL"}), Reply::Status("OK"));

    CallOptions short_timeout;
    short_timeout.timeout = 50ms;
    auto timed_out = Run(c->Command({"ECHO", "late"}, short_timeout));
    ASSERT_FALSE(timed_out);
    EXPECT_EQ(timed_out.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(timed_out.error().message.find("timed out"), std::string::npos);

    auto cancelled = Run([&]() -> asio::awaitable<std::size_t> {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer t(ex);
        t.expires_after(30ms);
        auto r = co_await (c->Command(MakeArgs("ECHO", "cancelled")) ||
                           t.async_wait(asio::use_awaitable));
        co_return r.index();
    }());
    EXPECT_EQ(cancelled, 1u);  // the timer won; the command was cancelled

    CallOptions patient;
    patient.timeout = 3s;
    auto fresh = Run(c->Command({"ECHO", "fresh"}, patient));
    ASSERT_TRUE(fresh) << fresh.error().message;
    EXPECT_EQ(*fresh, Reply::Bulk("fresh"));  // not "late", not "cancelled"
    EXPECT_EQ(Must(c, {"ECHO", "again"}), Reply::Bulk("again"));
}

TEST_F(RedisClientTest, ServerKilledAndRestartedMidTraffic) {
    TempDir dir;
    RedisServer server(FreePort(), dir.path());
    server.Start();
    ClientOptions o;
    o.url = server.Url();
    o.command_timeout = 500ms;
    o.reconnect_backoff_min = 20ms;
    o.reconnect_backoff_max = 200ms;
    auto c = MakeClient(o);

    std::atomic<bool> stop{false}, restarted{false};
    std::atomic<int> ok{0}, ok_after_restart{0}, wrong{0}, errors{0}, bad_errors{0};
    std::atomic<long> slowest_ms{0};
    std::vector<std::future<void>> workers;
    for (int w = 0; w < 32; ++w) {
        workers.push_back(asio::co_spawn(
            io_,
            [&, w]() -> asio::awaitable<void> {
                for (long seq = 0; !stop; ++seq) {
                    const std::string token = std::to_string(w) + ":" + std::to_string(seq);
                    const auto t0 = std::chrono::steady_clock::now();
                    auto r = co_await c->Command(MakeArgs("ECHO", token));
                    const long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t0)
                                        .count();
                    long prev = slowest_ms.load();
                    while (ms > prev && !slowest_ms.compare_exchange_weak(prev, ms)) {
                    }
                    if (r) {
                        if (*r != Reply::Bulk(token)) ++wrong;
                        ++ok;
                        if (restarted) ++ok_after_restart;
                    } else {
                        ++errors;
                        if (r.error().code != ErrorCode::kUnavailable) ++bad_errors;
                        co_await SleepFor(5ms);
                    }
                }
            },
            asio::use_future));
    }
    std::this_thread::sleep_for(400ms);
    EXPECT_GT(ok.load(), 100);
    server.Kill();
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(c->IsConnected());  // readiness follows the connection
    server.Start();
    restarted = true;
    for (int i = 0; i < 500 && ok_after_restart < 1000; ++i) std::this_thread::sleep_for(10ms);
    stop = true;
    for (auto& f : workers) f.get();

    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(bad_errors.load(), 0);
    EXPECT_GT(errors.load(), 0);
    EXPECT_GE(ok_after_restart.load(), 1000);
    EXPECT_LT(slowest_ms.load(), 1000);  // nothing hangs: the timeout is 500 ms
    EXPECT_TRUE(c->IsConnected());
    EXPECT_TRUE(Run(c->Ping()));
}

TEST_F(RedisClientTest, ScriptFlushMidTrafficIsTransparent) {
    auto c = MakeClient(server_->Url());
    static const Script kIncr("incr_and_get",
                              "redis.call('INCR', KEYS[1]) return redis.call('GET', KEYS[1])");
    Must(c, {"DEL", "script:ctr"});
    ASSERT_TRUE(Run(c->LoadScript(kIncr)));
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0}, flushes{0};
    std::vector<std::future<void>> workers;
    for (int w = 0; w < 16; ++w) {
        workers.push_back(asio::co_spawn(
            io_,
            [&]() -> asio::awaitable<void> {
                while (!stop) {
                    auto r = co_await c->Eval(kIncr, MakeArgs("script:ctr"), {});
                    if (r && r->IsBulk()) {
                        ++ok;
                    } else {
                        ++failed;
                    }
                }
            },
            asio::use_future));
    }
    auto flusher = asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
            while (!stop) {
                co_await SleepFor(20ms);
                auto r = co_await c->Command(MakeArgs("SCRIPT", "FLUSH"));
                if (r && r->IsStatus()) ++flushes;
            }
        },
        asio::use_future);
    std::this_thread::sleep_for(1500ms);
    stop = true;
    for (auto& f : workers) f.get();
    flusher.get();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_GT(flushes.load(), 10);
    EXPECT_GT(ok.load(), 1000);
    EXPECT_EQ(Must(c, {"GET", "script:ctr"}), Reply::Bulk(std::to_string(ok.load())));
}

TEST_F(RedisClientTest, EvalPassesKeysAndArgsExactlyAndSurvivesScriptFlush) {
    auto c = MakeClient(server_->Url());
    static const Script kEcho("echo_keys_and_args", R"(
        local out = {}
        for _, k in ipairs(KEYS) do out[#out + 1] = k end
        for _, a in ipairs(ARGV) do out[#out + 1] = a end
        return out)");
    const Reply expected =
        Reply::Array({Reply::Bulk("{p}:a"), Reply::Bulk("{p}:b"), Reply::Bulk("{p}:c"),
                      Reply::Bulk("x"), Reply::Bulk("y z\r\n")});
    auto r = Run(c->Eval(kEcho, MakeArgs("{p}:a", "{p}:b", "{p}:c"), MakeArgs("x", "y z\r\n")));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, expected) << r->ToString();

    Must(c, {"SCRIPT", "FLUSH"});  // the server forgot it: loaded again, transparently
    r = Run(c->Eval(kEcho, MakeArgs("{p}:a", "{p}:b", "{p}:c"), MakeArgs("x", "y z\r\n")));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, expected) << r->ToString();
}

TEST_F(RedisClientTest, BusyScriptIsRetriedUntilItEnds) {
    auto runner = MakeClient(server_->Url());
    auto other = MakeClient(server_->Url());
    Must(other, {"CONFIG", "SET", "busy-reply-threshold", "50"});
    static const Script kSpin("spin_400ms", R"(
        local t = redis.call('TIME')
        local start = tonumber(t[1]) * 1000000 + tonumber(t[2])
        while true do
            local n = redis.call('TIME')
            if tonumber(n[1]) * 1000000 + tonumber(n[2]) - start > 400000 then break end
        end
        return 1)");
    CallOptions slow;
    slow.timeout = 5s;
    auto spin = asio::co_spawn(io_, runner->Eval(kSpin, {}, {}, slow), asio::use_future);
    std::this_thread::sleep_for(150ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = Run(other->Command({"ECHO", "after-busy"}, slow));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, Reply::Bulk("after-busy"));  // BUSY was retried, not returned
    EXPECT_GT(std::chrono::steady_clock::now() - t0, 100ms);
    auto s = spin.get();
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, Reply::Integer(1));
    Must(other, {"CONFIG", "SET", "busy-reply-threshold", "5000"});
}

TEST_F(RedisClientTest, Streams) {
    auto c = MakeClient(server_->Url());
    Must(c, {"DEL", "ev:s"});
    auto created = Run(CreateGroup(*c, "ev:s", "g", "0"));
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_TRUE(*created);
    auto again = Run(CreateGroup(*c, "ev:s", "g", "0"));
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);  // BUSYGROUP tolerated

    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i) {
        auto id = Run(XAdd(*c, "ev:s", {{"user", std::to_string(i)}, {"status", "issued"}}));
        ASSERT_TRUE(id) << id.error().message;
        ids.push_back(*id);
    }
    XAddOptions capped;
    capped.no_mkstream = true;
    auto none = Run(XAdd(*c, "ev:missing", {{"a", "b"}}, capped));
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());

    XReadGroupOptions read;
    read.group = "g";
    read.consumer = "c1";
    read.count = 100;
    read.block = 100ms;
    auto got = Run(XReadGroup(*c, read, {{"ev:s", ">"}}));
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].stream, "ev:s");
    ASSERT_EQ((*got)[0].entries.size(), 10u);
    EXPECT_EQ((*got)[0].entries[3].id, ids[3]);
    EXPECT_EQ((*got)[0].entries[3].fields, (StreamFields{{"user", "3"}, {"status", "issued"}}));

    auto pending = Run(XPendingSummary(*c, "ev:s", "g"));
    ASSERT_TRUE(pending);
    EXPECT_EQ(pending->count, 10);
    EXPECT_EQ(pending->min_id, ids.front());
    ASSERT_EQ(pending->consumers.size(), 1u);
    EXPECT_EQ(pending->consumers[0].first, "c1");

    auto acked = Run(XAck(*c, "ev:s", "g", {ids[0], ids[1], ids[2], ids[3], ids[4]}));
    ASSERT_TRUE(acked);
    EXPECT_EQ(*acked, 5);

    auto claimed = Run(XAutoClaim(*c, "ev:s", "g", "c2", 0ms));
    ASSERT_TRUE(claimed) << claimed.error().message;
    EXPECT_EQ(claimed->entries.size(), 5u);
    EXPECT_EQ(claimed->entries.front().id, ids[5]);

    auto info = Run(XInfoStream(*c, "ev:s"));
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->length, 10);
    EXPECT_EQ(info->groups, 1);
    EXPECT_EQ(info->last_generated_id, ids.back());
    ASSERT_TRUE(info->first_entry);
    EXPECT_EQ(info->first_entry->id, ids.front());

    auto groups = Run(XInfoGroups(*c, "ev:s"));
    ASSERT_TRUE(groups);
    ASSERT_EQ(groups->size(), 1u);
    EXPECT_EQ((*groups)[0].name, "g");
    EXPECT_EQ((*groups)[0].pending, 5);
    EXPECT_EQ((*groups)[0].consumers, 2);

    // Errors from Redis become Errors in the typed helpers.
    auto nogroup = Run(XPendingSummary(*c, "ev:s", "nope"));
    ASSERT_FALSE(nogroup);
    EXPECT_NE(nogroup.error().message.find("NOGROUP"), std::string::npos);
}

TEST_F(RedisClientTest, BlockingReadsUseADedicatedConnection) {
    auto c = MakeClient(server_->Url());
    Must(c, {"DEL", "ev:b"});
    ASSERT_TRUE(Run(CreateGroup(*c, "ev:b", "g")));
    XReadGroupOptions read;
    read.group = "g";
    read.consumer = "c";
    read.block = 700ms;

    // Nothing to read: the blocking read times out empty, while the shared connection stays fast.
    const auto t0 = std::chrono::steady_clock::now();
    auto blocked = asio::co_spawn(io_, XReadGroup(*c, read, {{"ev:b", ">"}}), asio::use_future);
    std::this_thread::sleep_for(50ms);
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(Run(c->Ping()));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
    auto empty = blocked.get();
    ASSERT_TRUE(empty) << empty.error().message;
    EXPECT_TRUE(empty->empty());
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 650ms);

    // A blocked read is woken by XADD.
    read.block = 5000ms;
    auto woken = asio::co_spawn(io_, XReadGroup(*c, read, {{"ev:b", ">"}}), asio::use_future);
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(Run(XAdd(*c, "ev:b", {{"k", "v"}})));
    auto got = woken.get();
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].entries.at(0).fields, (StreamFields{{"k", "v"}}));
}

TEST_F(RedisClientTest, UnixSocketDatabaseAndPassword) {
    TempDir dir;
    const std::string sock = (dir.path() / "r.sock").string();
    RedisServer server(
        FreePort(), dir.path(),
        {"--unixsocket", sock, "--unixsocketperm", "700", "--requirepass", "s3cret"});
    server.Start();
    auto viaUnix = MakeClient("unix://" + sock + "?db=2&password=s3cret");
    EXPECT_EQ(Must(viaUnix, {"SET", "u:k", "from-unix"}), Reply::Status("OK"));
    auto viaTcp = MakeClient("redis://:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/2");
    EXPECT_EQ(Must(viaTcp, {"GET", "u:k"}), Reply::Bulk("from-unix"));
    auto db0 = MakeClient("redis://:s3cret@127.0.0.1:" + std::to_string(server.port()));
    EXPECT_TRUE(Must(db0, {"GET", "u:k"}).IsNil());

    auto wrong = Run(
        Connect(io_.get_executor(), "redis://:nope@127.0.0.1:" + std::to_string(server.port())));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(wrong.error().message.find("WRONGPASS"), std::string::npos) << wrong.error().message;
}

TEST_F(RedisClientTest, CloseFailsLaterCalls) {
    auto c = MakeClient(server_->Url());
    c->Close();
    std::this_thread::sleep_for(20ms);
    auto r = Run(c->Command({"PING"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_FALSE(c->IsConnected());
}

}  // namespace
}  // namespace joopang::redis
