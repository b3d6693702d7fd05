// The cluster client against a real 3-master Redis Cluster started by the test.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "infra/redis/client.hpp"
#include "infra/redis/cluster_slots.hpp"
#include "infra/redis/coupon_codec.hpp"
#include "infra/redis/coupon_keys.hpp"
#include "infra/redis/crc16.hpp"
#include "infra/redis/redis_coupon_gate.hpp"
#include "infra/redis/redis_coupon_issue_queue.hpp"
#include "infra/redis/streams.hpp"
#include "redis_test_support.hpp"

namespace joopang::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FreePort;
using testing::RedisServer;
using testing::Shell;
using testing::TempDir;

constexpr int kMasters = 3;

class RedisClusterTest : public testing::IoThreadsTest<Client> {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        std::string create = "redis-cli --cluster create";
        for (int i = 0; i < kMasters; ++i) {
            const int port = FreePort(true);
            const auto node_dir = dir_->path() / ("node" + std::to_string(i));
            servers_[i] = new RedisServer(
                port, node_dir,
                {"--cluster-enabled", "yes", "--cluster-config-file",
                 (node_dir / "nodes.conf").string(), "--cluster-node-timeout", "5000"});
            servers_[i]->Start();
            create += " 127.0.0.1:" + std::to_string(port);
        }
        Shell(create + " --cluster-yes >" + (dir_->path() / "create.log").string() + " 2>&1");
        for (int i = 0; i < kMasters; ++i) {
            const std::string info =
                "redis-cli -p " + std::to_string(servers_[i]->port()) + " cluster info";
            bool ok = false;
            for (int attempt = 0; attempt < 200 && !ok; ++attempt) {
                ok = Shell(info).find("cluster_state:ok") != std::string::npos;
                if (!ok) std::this_thread::sleep_for(50ms);
            }
            if (!ok) throw std::runtime_error("cluster did not reach cluster_state:ok");
        }
    }
    static void TearDownTestSuite() {
        for (auto*& s : servers_) {
            delete s;
            s = nullptr;
        }
        delete dir_;
    }

    std::shared_ptr<Client> MakeClient(const std::string& url) {
        ClientOptions o;
        o.url = url;
        auto c = Run(Connect(io_.get_executor(), o));
        if (!c) throw std::runtime_error("connect failed: " + c.error().message);
        clients_.push_back(*c);
        return *c;
    }
    std::shared_ptr<Client> ClusterClient() {
        // Two of the three nodes as seeds; the third is learnt from the slot map.
        return MakeClient("redis-cluster://127.0.0.1:" + std::to_string(servers_[0]->port()) +
                          ",127.0.0.1:" + std::to_string(servers_[1]->port()));
    }
    std::shared_ptr<Client> NodeClient(int i) { return MakeClient(servers_[i]->Url()); }
    Reply Must(std::shared_ptr<Client> c, Args args) {
        auto r = Run(c->Command(std::move(args)));
        if (!r) throw std::runtime_error("command failed: " + r.error().message);
        return *r;
    }
    int NodeIndexByPort(int port) {
        for (int i = 0; i < kMasters; ++i) {
            if (servers_[i]->port() == port) return i;
        }
        return -1;
    }

    static inline TempDir* dir_ = nullptr;
    static inline std::array<RedisServer*, kMasters> servers_{};
};

TEST_F(RedisClusterTest, KeysSpreadOverAllMastersAreWrittenAndReadBack) {
    std::array<std::shared_ptr<Client>, kMasters> nodes;
    for (int i = 0; i < kMasters; ++i) {
        nodes[i] = NodeClient(i);
        Must(nodes[i], {"FLUSHALL"});
    }
    auto c = ClusterClient();
    EXPECT_TRUE(c->IsConnected());
    EXPECT_TRUE(Run(c->Ping()));
    EXPECT_EQ(c->Describe(), "redis cluster (3 masters)");

    constexpr int kKeys = 3000;
    std::atomic<int> correct{0};
    std::vector<std::future<void>> done;
    for (int w = 0; w < 100; ++w) {
        done.push_back(asio::co_spawn(
            io_,
            [&, w]() -> asio::awaitable<void> {
                for (int i = w; i < kKeys; i += 100) {
                    const std::string key = "spread:" + std::to_string(i);
                    auto set = co_await c->Command(MakeArgs("SET", key, std::to_string(i)));
                    auto get = co_await c->Command(MakeArgs("GET", key));
                    if (set && get && *get == Reply::Bulk(std::to_string(i))) ++correct;
                }
            },
            asio::use_future));
    }
    for (auto& f : done) f.get();
    EXPECT_EQ(correct.load(), kKeys);
    long long total = 0;
    for (int i = 0; i < kMasters; ++i) {
        const auto size = Must(nodes[i], {"DBSIZE"}).integer;
        EXPECT_GT(size, kKeys / 5) << "node " << i;
        total += size;
    }
    EXPECT_EQ(total, kKeys);

    // A batch spanning every node comes back in order.
    std::vector<Args> batch;
    for (int i = 0; i < 60; ++i) batch.push_back({"GET", "spread:" + std::to_string(i)});
    auto replies = Run(c->Batch(batch));
    ASSERT_TRUE(replies) << replies.error().message;
    for (int i = 0; i < 60; ++i) EXPECT_EQ((*replies)[i], Reply::Bulk(std::to_string(i)));
}

TEST_F(RedisClusterTest, CrossSlotCommandsAreRefusedBeforeSending) {
    auto c = ClusterClient();
    ASSERT_NE(KeySlot("a"), KeySlot("b"));
    auto r = Run(c->Command({"MGET", "a", "b"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
    EXPECT_NE(r.error().message.find("different slots"), std::string::npos);
    auto batch = Run(c->Batch({{"GET", "a"}, {"DEL", "a", "b"}}));
    ASSERT_FALSE(batch);
    EXPECT_EQ(batch.error().code, ErrorCode::kInternal);

    EXPECT_EQ(Must(c, {"MSET", "{t}a", "1", "{t}b", "2"}), Reply::Status("OK"));
    EXPECT_EQ(Must(c, {"MGET", "{t}a", "{t}b"}),
              Reply::Array({Reply::Bulk("1"), Reply::Bulk("2")}));
}

TEST_F(RedisClusterTest, ScriptsRunOnTheNodeOwningTheirKeys) {
    auto c = ClusterClient();
    static const Script kSwap("set_pair", R"(
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('SET', KEYS[2], ARGV[2])
        return redis.call('MGET', KEYS[1], KEYS[2]))");
    ASSERT_TRUE(Run(c->LoadScript(kSwap)));
    // Hash tags chosen to land on different masters.
    std::vector<std::string> tags;
    std::vector<std::string> seen_owner;
    for (int i = 0; tags.size() < 6 && i < 1000; ++i) tags.push_back("tag" + std::to_string(i));
    for (int round = 0; round < 2; ++round) {
        for (const auto& tag : tags) {
            const std::string k1 = "{" + tag + "}:a", k2 = "{" + tag + "}:b";
            auto r = Run(c->Eval(kSwap, {k1, k2}, {"x" + tag, "y" + tag}));
            ASSERT_TRUE(r) << r.error().message;
            EXPECT_EQ(*r, Reply::Array({Reply::Bulk("x" + tag), Reply::Bulk("y" + tag)}))
                << r->ToString();
        }
        // Flush every node's script cache: the next round reloads where needed.
        for (int i = 0; i < kMasters; ++i) Must(NodeClient(i), {"SCRIPT", "FLUSH"});
    }
    auto cross = Run(c->Eval(kSwap, {"{p}a", "{q}b"}, {"1", "2"}));
    ASSERT_FALSE(cross);
    EXPECT_EQ(cross.error().code, ErrorCode::kInternal);
}

TEST_F(RedisClusterTest, StreamsAndBlockingReadsAreRouted) {
    auto c = ClusterClient();
    Must(c, {"DEL", "{ev}:s"});
    ASSERT_TRUE(Run(CreateGroup(*c, "{ev}:s", "g")));
    XReadGroupOptions read;
    read.group = "g";
    read.consumer = "c";
    read.block = 2000ms;
    auto woken = asio::co_spawn(io_, XReadGroup(*c, read, {{"{ev}:s", ">"}}), asio::use_future);
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(Run(XAdd(*c, "{ev}:s", {{"k", "v"}})));
    auto got = woken.get();
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].entries.at(0).fields, (StreamFields{{"k", "v"}}));
}

TEST_F(RedisClusterTest, SlotMigratedWhileTrafficRuns) {
    auto c = ClusterClient();
    std::array<std::shared_ptr<Client>, kMasters> nodes;
    std::array<std::string, kMasters> ids;
    for (int i = 0; i < kMasters; ++i) {
        nodes[i] = NodeClient(i);
        ids[i] = Must(nodes[i], {"CLUSTER", "MYID"}).str;
    }
    const int slot = KeySlot("mig");
    auto ranges = ParseClusterSlots(Must(nodes[0], {"CLUSTER", "SLOTS"}), Endpoint{});
    ASSERT_TRUE(ranges);
    int src = -1;
    for (const auto& r : *ranges) {
        if (r.first <= slot && slot <= r.last) src = NodeIndexByPort(r.master.port);
    }
    ASSERT_GE(src, 0);
    const int dst = (src + 1) % kMasters;

    constexpr int kKeys = 20;
    std::array<std::atomic<long>, kKeys> increments{};
    for (auto& n : increments) n = 0;
    for (int k = 0; k < kKeys; ++k) Must(c, {"DEL", "{mig}:" + std::to_string(k)});
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::string first_failure;
    std::mutex failure_mutex;
    std::vector<std::future<void>> workers;
    for (int w = 0; w < 8; ++w) {
        workers.push_back(asio::co_spawn(
            io_,
            [&, w]() -> asio::awaitable<void> {
                CallOptions opts;
                opts.timeout = 5s;
                for (long n = w; !stop; ++n) {
                    const int k = static_cast<int>(n % kKeys);
                    auto r =
                        co_await c->Command(MakeArgs("INCR", "{mig}:" + std::to_string(k)), opts);
                    if (r && r->IsInteger()) {
                        ++increments[k];
                    } else {
                        if (failures++ == 0) {
                            std::lock_guard lock(failure_mutex);
                            first_failure = r ? r->ToString() : r.error().message;
                        }
                    }
                }
            },
            asio::use_future));
    }
    std::this_thread::sleep_for(300ms);
    const std::string slot_s = std::to_string(slot);
    EXPECT_EQ(Must(nodes[dst], {"CLUSTER", "SETSLOT", slot_s, "IMPORTING", ids[src]}),
              Reply::Status("OK"));
    EXPECT_EQ(Must(nodes[src], {"CLUSTER", "SETSLOT", slot_s, "MIGRATING", ids[dst]}),
              Reply::Status("OK"));
    int migrated = 0;
    for (int round = 0; round < 100; ++round) {
        auto keys = Must(nodes[src], {"CLUSTER", "GETKEYSINSLOT", slot_s, "4"});
        if (keys.elements.empty()) break;
        Args migrate{"MIGRATE", "127.0.0.1", std::to_string(servers_[dst]->port()), "", "0",
                     "5000",    "KEYS"};
        for (const auto& k : keys.elements) migrate.push_back(k.str);
        auto r = Must(nodes[src], migrate);
        EXPECT_FALSE(r.IsError()) << r.ToString();
        migrated += static_cast<int>(keys.elements.size());
        std::this_thread::sleep_for(30ms);  // traffic meanwhile: ASK for moved keys
    }
    EXPECT_EQ(migrated, kKeys);
    for (int i : {dst, src, (dst + 1) % kMasters}) {
        EXPECT_EQ(Must(nodes[i], {"CLUSTER", "SETSLOT", slot_s, "NODE", ids[dst]}),
                  Reply::Status("OK"));
    }
    std::this_thread::sleep_for(300ms);  // traffic after: MOVED, then the new map
    stop = true;
    for (auto& f : workers) f.get();

    EXPECT_EQ(failures.load(), 0) << first_failure;
    long total = 0;
    for (int k = 0; k < kKeys; ++k) {
        const std::string key = "{mig}:" + std::to_string(k);
        EXPECT_EQ(Must(c, {"GET", key}), Reply::Bulk(std::to_string(increments[k].load()))) << key;
        total += increments[k];
    }
    EXPECT_GT(total, 1000);
    EXPECT_EQ(Must(nodes[dst], {"CLUSTER", "COUNTKEYSINSLOT", slot_s}), Reply::Integer(kKeys));
    EXPECT_EQ(Must(nodes[src], {"CLUSTER", "COUNTKEYSINSLOT", slot_s}), Reply::Integer(0));
}

TEST_F(RedisClusterTest, CouponIssueBatchesRunOnEachTemplatesMasterWithTheirRateLimitKeys) {
    auto cluster = ClusterClient();
    RedisCouponGate store(cluster, CouponGateSettings{5});
    // Templates whose hash tags fall in different thirds of the slots (redis-cli gives each
    // master one third), so the batches go to different masters.
    std::vector<std::int64_t> templates;
    std::set<int> thirds;
    for (std::int64_t t = 1; thirds.size() < kMasters && t < 100; ++t) {
        const int slot = KeySlot(coupon_keys::Meta(t));
        if (thirds.insert(slot * kMasters / kClusterSlots).second) templates.push_back(t);
    }
    ASSERT_EQ(templates.size(), static_cast<std::size_t>(kMasters));
    for (std::int64_t t : templates) {
        CouponTemplate tmpl;
        tmpl.id = t;
        tmpl.title = "cluster";
        tmpl.total_quantity = 2;
        ASSERT_TRUE(Run(store.Publish(tmpl, 0)));
    }
    // Per template: users 1..6 once, and user 9 seven times (5 per second are allowed), all
    // at once from both I/O threads, so they go in batches.
    std::vector<std::pair<std::int64_t, std::future<Result<IssueDecision>>>> calls;
    for (std::int64_t t : templates) {
        for (std::int64_t u = 1; u <= 6; ++u)
            calls.emplace_back(t, asio::co_spawn(io_, store.TryIssue(t, u), asio::use_future));
        for (int i = 0; i < 7; ++i)
            calls.emplace_back(t, asio::co_spawn(io_, store.TryIssue(t, 9), asio::use_future));
    }
    std::map<std::int64_t, std::map<IssueDecision::Kind, int>> seen;
    for (auto& [t, f] : calls) {
        auto d = f.get();
        ASSERT_TRUE(d) << d.error().message;
        ++seen[t][d->kind];
    }
    for (std::int64_t t : templates) {
        EXPECT_EQ(seen[t][IssueDecision::Kind::kReserved], 2) << t;
        EXPECT_EQ(seen[t][IssueDecision::Kind::kRateLimited], 2) << t;
        EXPECT_EQ(Must(cluster, MakeArgs("GET", coupon_keys::Seq(t))).str, "2") << t;
        EXPECT_GE(Must(cluster, MakeArgs("XLEN", coupon_keys::Stream(t))).integer, 1) << t;
        EXPECT_EQ(Must(cluster, MakeArgs("GET", coupon_keys::Stock(t))).str, "0") << t;
    }
}

}  // namespace
}  // namespace joopang::redis
