// A win confirmed on a replica, against a real master and replica: Client::EvalThenWait counts the
// replicas that have the script's writes (its WAIT travels in the same write), loads a flushed
// script, and reports 0 when no replica takes the writes in time; a gate that requires a replica
// then answers such a win "unavailable, outcome unknown" instead of "reserved".
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "domain/coupon_template.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/redis_coupon_gate.hpp"
#include "infra/redis/script.hpp"
#include "redis_test_support.hpp"

namespace joopang::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FreePort;
using testing::RedisServer;
using testing::Require;
using testing::Shell;
using testing::TempDir;

const Script kIncr("test-incr", "return redis.call('INCR', KEYS[1])");

class DurableIssueTest : public ::testing::Test {
  protected:
    void SetUp() override {
        master_ = std::make_unique<RedisServer>(FreePort(), dir_.path() / "master");
        master_->Start();
        replica_ = std::make_unique<RedisServer>(
            FreePort(), dir_.path() / "replica",
            std::vector<std::string>{"--replicaof", "127.0.0.1", std::to_string(master_->port())});
        replica_->Start();
        WaitReplicaOnline();
    }

    /// Until the master lists its replica online (a first sync waits a few seconds).
    void WaitReplicaOnline() {
        const std::string info =
            "redis-cli -p " + std::to_string(master_->port()) + " info replication";
        for (int i = 0; i < 300; ++i) {
            if (Shell(info).find("state=online") != std::string::npos) return;
            std::this_thread::sleep_for(50ms);
        }
        throw std::runtime_error("the replica did not come online");
    }

    std::string OnReplica(const std::string& args) {
        return Shell("redis-cli -p " + std::to_string(replica_->port()) + " " + args);
    }

    TempDir dir_;
    std::unique_ptr<RedisServer> master_;
    std::unique_ptr<RedisServer> replica_;
};

TEST_F(DurableIssueTest, EvalThenWaitCountsTheReplicaThatHasTheScriptsWrites) {
    testing::RunCoroutine([&](asio::io_context& io) -> asio::awaitable<void> {
        auto c = co_await Connect(io.get_executor(), master_->Url());
        Require(c.has_value(), "connect");
        auto& client = **c;
        const Args keys{"durable:k"};  // named: GCC 12 and braced lists inside co_await
        const Args no_args;
        auto first = co_await client.EvalThenWait(kIncr, keys, no_args, 1, 2000ms);
        Require(first.has_value(), "first call");
        Require(first->reply.IsInteger() && first->reply.integer == 1, first->reply.ToString());
        Require(first->replicas == 1, "replicas " + std::to_string(first->replicas));
        // Confirmed means on the replica already, not only sent to it.
        Require(OnReplica("get durable:k").find('1') != std::string::npos, "not on the replica");

        // A flushed script is loaded again, and the pair sent once more.
        auto flushed = co_await client.Command(MakeArgs("SCRIPT", "FLUSH"));
        Require(flushed.has_value(), "SCRIPT FLUSH");
        auto again = co_await client.EvalThenWait(kIncr, keys, no_args, 1, 2000ms);
        Require(again.has_value(), "after SCRIPT FLUSH");
        Require(again->reply.IsInteger() && again->reply.integer == 2, again->reply.ToString());
        Require(again->replicas == 1, "replicas after reload");
        (*c)->Close();
    });
}

TEST_F(DurableIssueTest, AWinNoReplicaConfirmsIsNotAnsweredAsAWin) {
    testing::RunCoroutine([&](asio::io_context& io) -> asio::awaitable<void> {
        auto c = co_await Connect(io.get_executor(), master_->Url());
        Require(c.has_value(), "connect");
        CouponGateSettings settings;
        settings.rate_limit_per_second = 0;
        settings.wait_replicas = 1;
        // Generous: a loaded CI machine can take well over 200 ms to have the replica ack.
        settings.wait_timeout = 2000ms;
        RedisCouponGate gate(*c, settings);
        CouponTemplate t;
        t.id = 7;
        t.title = "durable";
        t.total_quantity = 10;
        auto published = co_await gate.Publish(t, 0);
        Require(published.has_value(), "publish");

        auto confirmed = co_await gate.TryIssue(7, 1);
        Require(confirmed.has_value(), "a win the replica has: " +
                                           (confirmed ? std::string() : confirmed.error().message));
        Require(confirmed->kind == IssueDecision::Kind::kReserved,
                "a win the replica has is answered reserved");

        // The replica stops taking the master's writes: the next win is decided on the master,
        // but not confirmed — unavailable, its outcome unknown.
        OnReplica("replicaof no one");
        const auto started = std::chrono::steady_clock::now();
        auto unconfirmed = co_await gate.TryIssue(7, 2);
        Require(!unconfirmed, "an unconfirmed win answered as a win");
        Require(unconfirmed.error().code == ErrorCode::kUnavailable, unconfirmed.error().message);
        Require(unconfirmed.error().outcome_unknown, "outcome_unknown not set");
        Require(std::chrono::steady_clock::now() - started >= 1500ms, "WAIT did not wait");
        // Asked again, the user learns the truth: the master kept the win.
        auto asked_again = co_await gate.TryIssue(7, 2);
        Require(asked_again && asked_again->kind == IssueDecision::Kind::kAlreadyIssued,
                "asked again: already issued");
        (*c)->Close();
    });
}

}  // namespace
}  // namespace joopang::redis
