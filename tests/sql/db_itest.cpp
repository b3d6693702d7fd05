/// Integration tests of the Db backends: the same suite runs on SQLite (a temp file per test) and
/// on PostgreSQL (a database created for this run on the server named by JOOPANG_TEST_PG_URL; the
/// PostgreSQL instances are skipped when it is unset).

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "infra/sql/db.hpp"
#include "infra/sql/migrations.hpp"
#include "infra/sql/postgres_db.hpp"
#include "infra/sql/sql_coupon_repository.hpp"
#include "infra/sql/sqlite_db.hpp"

namespace joopang::sql {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

enum class Backend { kSqlite, kPostgres };

std::string BackendName(const testing::TestParamInfo<Backend>& info) {
    return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

/// `url` with its database name replaced by `dbname`.
std::string WithDatabase(const std::string& url, const std::string& dbname) {
    std::size_t query = url.find('?');
    std::string base = url.substr(0, query);
    std::string rest = query == std::string::npos ? "" : url.substr(query);
    std::size_t scheme_end = base.find("://");
    std::size_t slash = base.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    if (slash != std::string::npos) base.resize(slash);
    return base + "/" + dbname + rest;
}

Status ExecStatus(Connection& c, std::string_view sql, std::vector<Value> params = {}) {
    auto r = c.Exec(sql, std::span<const Value>(params));
    if (!r) return r.error();
    return {};
}

/// The PostgreSQL database of this test run: created on first use, dropped at exit.
class PgDatabase : public testing::Environment {
  public:
    static PgDatabase* instance;

    /// URL of the per-run database, or nullopt when JOOPANG_TEST_PG_URL is unset.
    std::optional<std::string> Url() {
        if (url_ || !server_url_) return url_;
        name_ = "db_itest_" + std::to_string(::getpid());
        auto admin = OpenDb(*server_url_, 1);
        if (!admin) {
            ADD_FAILURE() << "cannot open " << *server_url_ << ": " << admin.error().message;
            return std::nullopt;
        }
        Status st = (*admin)->Run(TxMode::kNone, [&](Connection& c) -> Status {
            if (auto s = ExecStatus(c, "DROP DATABASE IF EXISTS " + name_); !s) return s;
            return ExecStatus(c, "CREATE DATABASE " + name_);
        });
        if (!st) {
            ADD_FAILURE() << "cannot create " << name_ << ": " << st.error().message;
            return std::nullopt;
        }
        url_ = WithDatabase(*server_url_, name_);
        return url_;
    }

    const std::optional<std::string>& server_url() const { return server_url_; }

    void SetUp() override {
        if (const char* env = std::getenv("JOOPANG_TEST_PG_URL"); env && *env) server_url_ = env;
    }

    void TearDown() override {
        if (!url_) return;
        auto admin = OpenDb(*server_url_, 1);
        if (!admin) return;
        Status st = (*admin)->Run(TxMode::kNone, [&](Connection& c) {
            return ExecStatus(c, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        });
        EXPECT_TRUE(st) << st.error().message;
    }

  private:
    std::optional<std::string> server_url_;
    std::optional<std::string> url_;
    std::string name_;
};

PgDatabase* PgDatabase::instance =
    static_cast<PgDatabase*>(testing::AddGlobalTestEnvironment(new PgDatabase));

class DbTest : public testing::TestWithParam<Backend> {
  protected:
    void SetUp() override {
        if (GetParam() == Backend::kSqlite) {
            const auto* info = testing::UnitTest::GetInstance()->current_test_info();
            std::string leaf = "db_itest_" + std::to_string(::getpid()) + "_" + info->name();
            for (char& ch : leaf) {
                if (ch == '/') ch = '_';
            }
            dir_ = fs::temp_directory_path() / leaf;
            fs::remove_all(dir_);
            // A nested, not yet existing directory: SqliteDb must create it.
            path_ = (dir_ / "nested" / "test.db").string();
            url_ = "sqlite://" + path_;
        } else {
            auto url = PgDatabase::instance->Url();
            if (!url) {
                GTEST_SKIP() << "JOOPANG_TEST_PG_URL is not set: PostgreSQL backend not tested";
            }
            url_ = *url;
        }
        db_ = Open(8);
        ASSERT_NE(db_, nullptr);
        if (pg()) {
            // Tables of earlier tests in this run (several statements, no parameters).
            ASSERT_TRUE(
                Exec("DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS stock;\n"
                     "DROP TABLE IF EXISTS counter; DROP TABLE IF EXISTS q;"));
        }
    }

    void TearDown() override {
        db_.reset();
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    bool pg() const { return GetParam() == Backend::kPostgres; }

    std::unique_ptr<Db> Open(int pool_size) {
        auto db = OpenDb(url_, pool_size);
        EXPECT_TRUE(db) << db.error().message;
        return db ? std::move(*db) : nullptr;
    }

    /// One statement in autocommit on db_.
    Result<QueryResult> Exec(std::string_view sql, std::vector<Value> params = {}) {
        return db_->Transact<QueryResult>(TxMode::kNone, [&](Connection& c) {
            return c.Exec(sql, std::span<const Value>(params));
        });
    }

    void CreateItems() {
        auto r =
            Exec(pg() ? "CREATE TABLE items(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY "
                        "KEY, name TEXT NOT NULL UNIQUE, qty BIGINT, price DOUBLE PRECISION, "
                        "note TEXT)"
                      : "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                        "qty INTEGER, price REAL, note TEXT)");
        ASSERT_TRUE(r) << r.error().message;
    }

    void CreateStock(std::int64_t stock) {
        auto r = Exec("CREATE TABLE stock(id BIGINT PRIMARY KEY, stock BIGINT NOT NULL)");
        ASSERT_TRUE(r) << r.error().message;
        r = Exec("INSERT INTO stock(id, stock) VALUES (1, ?)", {stock});
        ASSERT_TRUE(r) << r.error().message;
    }

    std::int64_t ScalarInt(std::string_view sql, std::vector<Value> params = {}) {
        auto r = Exec(sql, std::move(params));
        EXPECT_TRUE(r) << r.error().message;
        if (!r || r->rows.empty()) return -1;
        return r->rows[0].Int(0);
    }

    fs::path dir_;
    std::string path_;
    std::string url_;
    std::unique_ptr<Db> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends,
                         DbTest,
                         testing::Values(Backend::kSqlite, Backend::kPostgres),
                         BackendName);

TEST_P(DbTest, ReportsDialectAndPings) {
    EXPECT_EQ(db_->dialect(), pg() ? Dialect::kPostgres : Dialect::kSqlite);
    Status st = db_->Ping();
    EXPECT_TRUE(st) << st.error().message;
    if (!pg()) {
        EXPECT_TRUE(fs::exists(path_));
    }
}

TEST_P(DbTest, RoundTripsTextNumbersAndNull) {
    CreateItems();
    struct Case {
        std::string name;
        std::int64_t qty;
        double price;
        std::optional<std::string> note;
    };
    const std::vector<Case> cases = {
        {"plain", 1, 0.1, "a note"},
        {"O'Brien said \"hi\" -- no comment ? /* nor this */ ;", -7, 1e-300, std::nullopt},
        {"한글 ✓ 😀 ünïcödé", std::numeric_limits<std::int64_t>::max(), 12345.678, ""},
        {"line\nbreak\ttab\\backslash", std::numeric_limits<std::int64_t>::min(), -0.5, "x'y"},
    };
    for (const auto& c : cases) {
        Value note = c.note ? Value(*c.note) : Value(std::monostate{});
        auto r = Exec("INSERT INTO items(name, qty, price, note) VALUES (?, ?, ?, ?)",
                      {c.name, c.qty, c.price, note});
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->affected, 1);
    }
    for (const auto& c : cases) {
        auto r = Exec("SELECT name, qty, price, note FROM items WHERE name = ?", {c.name});
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_EQ(r->rows.size(), 1u) << c.name;
        const Row& row = r->rows[0];
        ASSERT_EQ(row.size(), 4u);
        EXPECT_EQ(row.Text(0), c.name);
        EXPECT_EQ(row.Int(1), c.qty);
        EXPECT_DOUBLE_EQ(row.Real(2), c.price);
        EXPECT_EQ(row.OptText(3), c.note);
        EXPECT_EQ(row.IsNull(3), !c.note.has_value());
    }
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM items WHERE note IS NULL"), 1);
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM items WHERE note = ?", {std::string()}), 1);
    // A NULL parameter compares as NULL.
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM items WHERE note = ?", {std::monostate{}}), 0);
}

TEST_P(DbTest, LeavesQuestionMarksInLiteralsIdentifiersAndComments) {
    auto r =
        Exec("SELECT '?', ?, 'it''s ?' -- trailing ? comment\n , ? + 1", {"x", std::int64_t{41}});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ(r->rows[0].Text(0), "?");
    EXPECT_EQ(r->rows[0].Text(1), "x");
    EXPECT_EQ(r->rows[0].Text(2), "it's ?");
    EXPECT_EQ(r->rows[0].Int(3), 42);

    ASSERT_TRUE(Exec("CREATE TABLE q(\"a?b\" TEXT)"));
    ASSERT_TRUE(Exec("INSERT INTO q(\"a?b\") VALUES (?) /* ? */", {"v?"}));
    r = Exec("SELECT \"a?b\" FROM q WHERE \"a?b\" = ?", {"v?"});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ(r->rows[0].Text(0), "v?");
}

TEST_P(DbTest, RejectsWrongParameterCount) {
    auto r = Exec("SELECT ?, ?", {std::int64_t{1}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
}

TEST_P(DbTest, RunsSeveralStatementsWithoutParameters) {
    ASSERT_TRUE(
        Exec("CREATE TABLE counter(id BIGINT PRIMARY KEY, n BIGINT NOT NULL);\n"
             "-- a comment between statements\n"
             "INSERT INTO counter(id, n) VALUES (1, 5);"));
    EXPECT_EQ(ScalarInt("SELECT n FROM counter WHERE id = 1"), 5);
}

TEST_P(DbTest, CachedStatementsSurviveSchemaChanges) {
    db_ = Open(1);  // one connection: the second SELECT reuses the cached statement
    ASSERT_TRUE(Exec("CREATE TABLE q(a BIGINT)"));
    ASSERT_TRUE(Exec("INSERT INTO q(a) VALUES (?)", {std::int64_t{7}}));
    auto r = Exec("SELECT * FROM q");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->rows.at(0).size(), 1u);
    ASSERT_TRUE(Exec("ALTER TABLE q ADD COLUMN b TEXT DEFAULT 'x'"));
    int calls = 0;
    r = db_->Transact<QueryResult>(TxMode::kRead, [&](Connection& c) {
        ++calls;
        return c.Exec("SELECT * FROM q", {});
    });
    ASSERT_TRUE(r) << r.error().message;
    // PostgreSQL rejects the stale prepared statement once (0A000); Run re-prepares and retries.
    EXPECT_EQ(calls, pg() ? 2 : 1);
    ASSERT_EQ(r->rows.at(0).size(), 2u);
    EXPECT_EQ(r->rows[0].Int(0), 7);
    EXPECT_EQ(r->rows[0].Text(1), "x");
}

TEST_P(DbTest, ReturnsGeneratedIdsAndAffectedCounts) {
    CreateItems();
    auto a =
        Exec("INSERT INTO items(name, qty) VALUES (?, ?) RETURNING id", {"a", std::int64_t{1}});
    auto b =
        Exec("INSERT INTO items(name, qty) VALUES (?, ?) RETURNING id", {"b", std::int64_t{2}});
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_TRUE(b) << b.error().message;
    ASSERT_EQ(a->rows.size(), 1u);
    ASSERT_EQ(b->rows.size(), 1u);
    EXPECT_GT(a->rows[0].Int(0), 0);
    EXPECT_GT(b->rows[0].Int(0), a->rows[0].Int(0));
    EXPECT_EQ(a->affected, 1);

    auto two = Exec("INSERT INTO items(name, qty) VALUES (?, ?), (?, ?) RETURNING id, name",
                    {"c", std::int64_t{3}, "d", std::int64_t{4}});
    ASSERT_TRUE(two) << two.error().message;
    EXPECT_EQ(two->rows.size(), 2u);
    EXPECT_EQ(two->affected, 2);

    auto upd = Exec("UPDATE items SET qty = qty + 10 WHERE qty >= ?", {std::int64_t{2}});
    ASSERT_TRUE(upd) << upd.error().message;
    EXPECT_EQ(upd->affected, 3);
    auto none = Exec("UPDATE items SET qty = 0 WHERE name = ?", {"missing"});
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_EQ(none->affected, 0);
    auto sel = Exec("SELECT id FROM items");
    ASSERT_TRUE(sel) << sel.error().message;
    EXPECT_EQ(sel->rows.size(), 4u);
    EXPECT_EQ(sel->affected, 0);  // rows changed, not rows returned
    auto del = Exec("DELETE FROM items WHERE name IN (?, ?)", {"a", "b"});
    ASSERT_TRUE(del) << del.error().message;
    EXPECT_EQ(del->affected, 2);
}

TEST_P(DbTest, RollsBackWhenFnFails) {
    CreateItems();
    int calls = 0;
    Status st = db_->Run(TxMode::kWrite, [&](Connection& c) -> Status {
        ++calls;
        if (auto s = ExecStatus(c, "INSERT INTO items(name) VALUES (?)", {"doomed"}); !s) return s;
        return Error::Validation("field", "business rule says no");
    });
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kValidationFailed);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM items"), 0);

    // A failing statement inside the transaction rolls back the earlier ones too.
    st = db_->Run(TxMode::kWrite, [&](Connection& c) -> Status {
        if (auto s = ExecStatus(c, "INSERT INTO items(name) VALUES (?)", {"doomed"}); !s) return s;
        return ExecStatus(c, "INSERT INTO no_such_table VALUES (1)");
    });
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kInternal);
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM items"), 0);

    // And a successful one commits.
    st = db_->Run(TxMode::kWrite, [&](Connection& c) {
        return ExecStatus(c, "INSERT INTO items(name) VALUES (?)", {"kept"});
    });
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM items"), 1);
}

TEST_P(DbTest, ReportsUniqueViolationWithoutRetrying) {
    CreateItems();
    ASSERT_TRUE(Exec("INSERT INTO items(name) VALUES (?)", {"dup"}));
    int calls = 0;
    FailureKind kind = FailureKind::kNone;
    Status st = db_->Run(TxMode::kWrite, [&](Connection& c) -> Status {
        ++calls;
        Status s = ExecStatus(c, "INSERT INTO items(name) VALUES (?)", {"dup"});
        kind = c.last_failure();
        return s;
    });
    ASSERT_FALSE(st);
    EXPECT_EQ(kind, FailureKind::kUniqueViolation);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM items"), 1);

    // A primary key clash is a unique violation too.
    auto id = ScalarInt("SELECT id FROM items");
    st = db_->Run(TxMode::kNone, [&](Connection& c) -> Status {
        Status s = ExecStatus(c, "INSERT INTO items(id, name) VALUES (?, ?)", {id, "other"});
        kind = c.last_failure();
        return s;
    });
    ASSERT_FALSE(st);
    EXPECT_EQ(kind, FailureKind::kUniqueViolation);
}

TEST_P(DbTest, ConcurrentConditionalDecrementsNeverOversell) {
    CreateStock(50);
    constexpr int kThreads = 16;
    constexpr int kTriesPerThread = 8;
    std::atomic<int> sold{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kTriesPerThread; ++i) {
                Status st = db_->Run(TxMode::kWrite, [&](Connection& c) -> Status {
                    auto r = c.Exec(
                        "UPDATE stock SET stock = stock - 1 WHERE id = 1 AND stock >= 1", {});
                    if (!r) return r.error();
                    if (r->affected == 1) sold.fetch_add(1);
                    return {};
                });
                if (!st) errors.fetch_add(1);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(sold.load(), 50);
    EXPECT_EQ(ScalarInt("SELECT stock FROM stock WHERE id = 1"), 0);
}

/// Read-then-write increments in deferred (kRead) transactions: on SQLite a writer whose snapshot
/// is stale gets SQLITE_BUSY(_SNAPSHOT), and Run must retry it.
TEST_P(DbTest, SqliteRetriesWriteConflicts) {
    if (pg()) GTEST_SKIP() << "SQLite-only (PostgreSQL at READ COMMITTED does not conflict here)";
    ASSERT_TRUE(Exec("CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"));
    ASSERT_TRUE(Exec("INSERT INTO counter(id, n) VALUES (1, 0)"));
    constexpr int kThreads = 4;
    constexpr int kPerThread = 15;

    auto hammer = [&](Db& db, std::atomic<int>& calls, std::atomic<int>& failures) {
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < kPerThread; ++i) {
                    Status st = db.Run(TxMode::kRead, [&](Connection& c) -> Status {
                        calls.fetch_add(1);
                        auto r = c.Exec("SELECT n FROM counter WHERE id = 1", {});
                        if (!r) return r.error();
                        std::int64_t n = r->rows.at(0).Int(0);
                        std::this_thread::sleep_for(300us);
                        return ExecStatus(c, "UPDATE counter SET n = ? WHERE id = 1", {n + 1});
                    });
                    if (!st) {
                        EXPECT_EQ(st.error().code, ErrorCode::kUnavailable) << st.error().message;
                        failures.fetch_add(1);
                    }
                }
            });
        }
        for (auto& th : threads) th.join();
    };

    // Without retries the conflicts surface (and are never lost updates).
    SqliteOptions no_retry;
    no_retry.pool_size = kThreads;
    no_retry.max_attempts = 1;
    auto single = SqliteDb::Open(path_, no_retry);
    ASSERT_TRUE(single) << single.error().message;
    std::atomic<int> calls{0}, failures{0};
    hammer(**single, calls, failures);
    EXPECT_GT(failures.load(), 0) << "expected write conflicts with 4 writers";
    std::int64_t after_first = ScalarInt("SELECT n FROM counter WHERE id = 1");
    EXPECT_EQ(after_first, kThreads * kPerThread - failures.load());

    // With the default policy every increment lands.
    std::atomic<int> calls2{0}, failures2{0};
    hammer(*db_, calls2, failures2);
    EXPECT_EQ(failures2.load(), 0);
    EXPECT_GT(calls2.load(), kThreads * kPerThread) << "expected at least one retry";
    std::printf("without retries: %d of %d failed; with retries fn ran %d times\n", failures.load(),
                kThreads * kPerThread, calls2.load());
    EXPECT_EQ(ScalarInt("SELECT n FROM counter WHERE id = 1"), after_first + kThreads * kPerThread);
}

/// Two Db objects on one file behave like two processes: kWrite waits on the file lock.
TEST_P(DbTest, SqliteSharesTheFileBetweenInstances) {
    if (pg()) GTEST_SKIP() << "SQLite-only";
    CreateStock(0);
    auto other = Open(4);
    ASSERT_NE(other, nullptr);
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        Db* db = t % 2 == 0 ? db_.get() : other.get();
        threads.emplace_back([&, db] {
            for (int i = 0; i < 25; ++i) {
                Status st = db->Run(TxMode::kWrite, [](Connection& c) {
                    return ExecStatus(c, "UPDATE stock SET stock = stock + 1 WHERE id = 1");
                });
                if (!st) errors.fetch_add(1);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(ScalarInt("SELECT stock FROM stock WHERE id = 1"), 100);
}

/// Under SERIALIZABLE, concurrent read-modify-write fails with 40001, which Run retries.
TEST_P(DbTest, PostgresRetriesSerializationFailures) {
    if (!pg()) GTEST_SKIP() << "PostgreSQL-only";
    ASSERT_TRUE(Exec("CREATE TABLE counter(id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"));
    ASSERT_TRUE(Exec("INSERT INTO counter(id, n) VALUES (1, 0)"));
    constexpr int kThreads = 3;
    constexpr int kPerThread = 10;
    std::atomic<int> calls{0}, failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kPerThread; ++i) {
                Status st = db_->Run(TxMode::kWrite, [&](Connection& c) -> Status {
                    calls.fetch_add(1);
                    if (auto s = ExecStatus(c, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
                        !s) {
                        return s;
                    }
                    auto r = c.Exec("SELECT n FROM counter WHERE id = 1", {});
                    if (!r) return r.error();
                    std::int64_t n = r->rows.at(0).Int(0);
                    std::this_thread::sleep_for(500us);
                    return ExecStatus(c, "UPDATE counter SET n = ? WHERE id = 1", {n + 1});
                });
                if (!st) failures.fetch_add(1);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(ScalarInt("SELECT n FROM counter WHERE id = 1"), kThreads * kPerThread);
    EXPECT_GE(calls.load(), kThreads * kPerThread);
    std::printf("fn ran %d times for %d increments\n", calls.load(), kThreads * kPerThread);
}

/// Terminates the backend with process id `pid` from a separate connection and waits for it.
void TerminateBackend(const std::string& url, std::int64_t pid) {
    auto admin = OpenDb(url, 1);
    ASSERT_TRUE(admin) << admin.error().message;
    auto r = (*admin)->Transact<QueryResult>(TxMode::kNone, [&](Connection& c) {
        return c.Exec("SELECT pg_terminate_backend(?, 5000)", {pid});
    });
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ(r->rows[0].Text(0), "t");
}

TEST_P(DbTest, PostgresReconnectsAfterIdleBackendIsTerminated) {
    if (!pg()) GTEST_SKIP() << "PostgreSQL-only";
    db_ = Open(1);  // one connection, so the next Run must get the terminated one back
    std::int64_t pid = ScalarInt("SELECT pg_backend_pid()");
    ASSERT_GT(pid, 0);
    TerminateBackend(url_, pid);
    std::int64_t pid2 = ScalarInt("SELECT pg_backend_pid()");
    EXPECT_GT(pid2, 0);
    EXPECT_NE(pid2, pid);
    Status st = db_->Ping();
    EXPECT_TRUE(st) << st.error().message;
}

TEST_P(DbTest, PostgresRetriesTransactionWhoseConnectionDied) {
    if (!pg()) GTEST_SKIP() << "PostgreSQL-only";
    CreateItems();
    db_ = Open(1);
    int calls = 0;
    FailureKind seen = FailureKind::kNone;
    Status st = db_->Run(TxMode::kWrite, [&](Connection& c) -> Status {
        ++calls;
        if (auto s = ExecStatus(c, "INSERT INTO items(name) VALUES (?)", {"once"}); !s) return s;
        if (calls == 1) {
            auto pid = c.Exec("SELECT pg_backend_pid()", {});
            if (!pid) return pid.error();
            TerminateBackend(url_, pid->rows.at(0).Int(0));
            Status s = ExecStatus(c, "SELECT 1");
            seen = c.last_failure();
            return s;
        }
        return {};
    });
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(seen, FailureKind::kConnectionLost);
    // The first attempt's insert died with its transaction.
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM items WHERE name = ?", {"once"}), 1);
}

TEST(PostgresDbTest, GivesUpWithUnavailableWhenServerIsDown) {
    PostgresOptions options;
    options.pool_size = 2;
    options.retry_window = 600ms;
    options.ping_timeout = 1000ms;
    // Port 1 on loopback: nothing listens, so every connect is refused at once.
    PostgresDb db("postgresql://postgres@127.0.0.1:1/postgres", options);
    auto start = std::chrono::steady_clock::now();
    int calls = 0;
    Status st = db.Run(TxMode::kWrite, [&](Connection&) -> Status {
        ++calls;
        return {};
    });
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(st.error().message.rfind("database unavailable", 0), 0u) << st.error().message;
    EXPECT_EQ(calls, 0);
    EXPECT_LT(elapsed, 5s);
    Status ping = db.Ping();
    ASSERT_FALSE(ping);
    EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);
}

TEST(PostgresDbTest, RewritesPlaceholdersOutsideQuotesAndComments) {
    auto rw = RewritePlaceholders(
        "SELECT ?, '?', 'it''s ?', E'\\'?', \"?\", $$?$$, $t$ ? $t$ -- ?\n"
        ", /* ? /* ? */ ? */ ? WHERE a = ?");
    EXPECT_EQ(rw.text,
              "SELECT $1, '?', 'it''s ?', E'\\'?', \"?\", $$?$$, $t$ ? $t$ -- ?\n"
              ", /* ? /* ? */ ? */ $2 WHERE a = $3");
    EXPECT_EQ(rw.param_count, 3);
    EXPECT_FALSE(rw.multi_statement);
    EXPECT_FALSE(RewritePlaceholders("SELECT 1;  \n").multi_statement);
    EXPECT_FALSE(RewritePlaceholders("SELECT ';x'").multi_statement);
    EXPECT_TRUE(RewritePlaceholders("SELECT 1; SELECT 2").multi_statement);
    EXPECT_EQ(RewritePlaceholders("SELECT $1::int").param_count, 0);
}

// The persister's database write (SqlCouponRepository::PersistBatch): a batch of any size lands
// whole and once (SQLite takes it in chunked multi-row INSERTs, PostgreSQL in one unnest), and a
// redelivered batch is a no-op that still reports each request's coupon.
class CouponPersistTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        auto migrated = Migrate(*db_);
        ASSERT_TRUE(migrated) << migrated.error().message;
        repo_ = std::make_unique<SqlCouponRepository>(*db_);
    }
    void TearDown() override {
        repo_.reset();
        DbTest::TearDown();
    }

    CouponTemplate Template(std::int64_t quantity) {
        CouponTemplate t;
        t.title = "persist";
        t.terms.type = CouponType::kAmount;
        t.terms.value = Money::FromCents(100000);
        t.total_quantity = quantity;
        auto created = repo_->CreateTemplate(t);
        EXPECT_TRUE(created) << created.error().message;
        return created ? *created : t;
    }

    /// Winners first..last (user = position = i, request id 1,000,000 + i), one coupon each.
    static std::vector<IssuedCoupon> Winners(const CouponTemplate& t, int first, int last) {
        std::vector<IssuedCoupon> out;
        for (int i = first; i <= last; ++i)
            out.push_back({t.id, i, 1, i, 1000000 + i, 1'700'000'000'000 + i});
        return out;
    }

    /// Checks that every request got one coupon, all distinct, and returns request → coupon.
    static std::map<std::int64_t, std::int64_t> ByRequest(const std::vector<IssuedCoupon>& sent,
                                                          const std::vector<PersistedCoupon>& got) {
        EXPECT_EQ(got.size(), sent.size());
        std::map<std::int64_t, std::int64_t> out;
        std::set<std::int64_t> coupons;
        for (std::size_t i = 0; i < std::min(sent.size(), got.size()); ++i) {
            EXPECT_EQ(got[i].request_id, sent[i].request_id) << "answers in the order sent";
            out[got[i].request_id] = got[i].coupon_id;
            coupons.insert(got[i].coupon_id);
        }
        EXPECT_EQ(coupons.size(), sent.size()) << "a coupon per request";
        return out;
    }

    void ExpectCounts(std::int64_t template_id, std::int64_t n) {
        auto rows = repo_->CountRows(template_id);
        ASSERT_TRUE(rows) << rows.error().message;
        EXPECT_EQ(rows->rows, n) << "rows";
        EXPECT_EQ(rows->counter, n) << "the counter, read with the rows";
        auto issued = repo_->CountIssued(template_id);
        ASSERT_TRUE(issued) << issued.error().message;
        EXPECT_EQ(*issued, n) << "issued_count: the rows inserted, not the rows sent";
    }

    std::unique_ptr<SqlCouponRepository> repo_;
};

INSTANTIATE_TEST_SUITE_P(Backends,
                         CouponPersistTest,
                         testing::Values(Backend::kSqlite, Backend::kPostgres),
                         BackendName);

TEST_P(CouponPersistTest, BatchesOfEverySizeLandWholeAndOnce) {
    // Sizes around SQLite's chunk sizes (128, 64, ... 1 rows a statement), a smaller batch after
    // a larger one, and the persister's largest batch and beyond.
    for (int n : {1, 2, 3, 127, 128, 129, 255, 300, 257, 2000, 2049}) {
        SCOPED_TRACE("batch of " + std::to_string(n));
        const CouponTemplate t = Template(n);
        const auto sent = Winners(t, 1, n);
        auto got = repo_->PersistBatch(t, sent);
        ASSERT_TRUE(got) << got.error().message;
        ByRequest(sent, *got);
        ExpectCounts(t.id, n);
    }
}

TEST_P(CouponPersistTest, ARedeliveredBatchKeepsItsCouponsAndCountsOnlyNewRows) {
    const CouponTemplate t = Template(1000);
    const auto first = Winners(t, 1, 300);
    auto once = repo_->PersistBatch(t, first);
    ASSERT_TRUE(once) << once.error().message;
    const auto before = ByRequest(first, *once);

    // The same 300 again (a redelivery after a lost acknowledgement), with 100 new ones.
    const auto again = Winners(t, 1, 400);
    auto twice = repo_->PersistBatch(t, again);
    ASSERT_TRUE(twice) << twice.error().message;
    const auto after = ByRequest(again, *twice);
    for (const auto& [request, coupon] : before) EXPECT_EQ(after.at(request), coupon);
    ExpectCounts(t.id, 400);
}

TEST(OpenDbTest, AcceptsSqliteUrlsAndPlainPaths) {
    fs::path dir = fs::temp_directory_path() / ("db_itest_open_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    for (const std::string& url :
         {"sqlite://" + (dir / "a" / "abs.db").string(), (dir / "b" / "plain.db").string()}) {
        auto db = OpenDb(url, 2);
        ASSERT_TRUE(db) << url << ": " << db.error().message;
        EXPECT_EQ((*db)->dialect(), Dialect::kSqlite);
        EXPECT_TRUE((*db)->Ping());
    }
    EXPECT_TRUE(fs::exists(dir / "a" / "abs.db"));
    EXPECT_TRUE(fs::exists(dir / "b" / "plain.db"));
    // WAL mode is persistent in the file.
    auto db = OpenDb((dir / "b" / "plain.db").string(), 1);
    ASSERT_TRUE(db);
    auto mode = (*db)->Transact<QueryResult>(
        TxMode::kNone, [](Connection& c) { return c.Exec("PRAGMA journal_mode", {}); });
    ASSERT_TRUE(mode);
    EXPECT_EQ(mode->rows.at(0).Text(0), "wal");
    db->reset();
    fs::remove_all(dir);
}

}  // namespace
}  // namespace joopang::sql

namespace joopang::sql {
namespace {

// Migration 2 folds emails to lower case where that makes no two accounts equal, leaves the ones
// that would collide as they are, and reports them.
TEST_P(DbTest, EmailMigrationFoldsCaseAndReportsCollisions) {
    if (pg()) {
        // The PostgreSQL database is shared by the tests of this run: start from no schema.
        ASSERT_TRUE(Exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"));
    }
    auto v1 = Migrate(*db_, nullptr, 1);
    ASSERT_TRUE(v1) << v1.error().message;
    for (const char* email : {"Alice@Example.COM", "BOB@example.com", "bob@EXAMPLE.com",
                              "carol@example.com", "Émile@example.com"}) {
        auto r = Exec(
            "INSERT INTO users(email, password_hash, balance, created_at) VALUES (?, 'x', 0, 0)",
            {std::string(email)});
        ASSERT_TRUE(r) << r.error().message;
    }
    std::vector<std::string> notices;
    auto v2 = Migrate(*db_, &notices);
    ASSERT_TRUE(v2) << v2.error().message;
    auto emails = Exec("SELECT email FROM users ORDER BY id");
    ASSERT_TRUE(emails);
    std::vector<std::string> got;
    for (const auto& row : emails->rows) got.push_back(row.Text(0));
    // Only ASCII letters fold (as NormalizeEmail does), on both dialects.
    EXPECT_EQ(got,
              (std::vector<std::string>{"alice@example.com", "BOB@example.com", "bob@EXAMPLE.com",
                                        "carol@example.com", "Émile@example.com"}));
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_NE(notices[0].find("bob@example.com (2 accounts)"), std::string::npos) << notices[0];
    // Applied once: a second run changes and reports nothing.
    notices.clear();
    ASSERT_TRUE(Migrate(*db_, &notices));
    EXPECT_TRUE(notices.empty());
    if (pg()) ASSERT_TRUE(Exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"));
}

TEST_P(DbTest, InstancesStartingTogetherMigrateTheDatabaseOnce) {
    if (pg()) {
        ASSERT_TRUE(Exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"));
    }
    constexpr int kInstances = 8;
    std::vector<std::unique_ptr<Db>> dbs;
    for (int i = 0; i < kInstances; ++i) dbs.push_back(Open(1));
    std::atomic<int> ready{0};
    std::vector<Status> results(kInstances);
    std::vector<std::thread> threads;
    for (int i = 0; i < kInstances; ++i)
        threads.emplace_back([&, i] {
            ++ready;
            while (ready < kInstances) std::this_thread::yield();  // all start at once
            results[i] = Migrate(*dbs[i]);
        });
    for (auto& t : threads) t.join();
    for (const auto& r : results) EXPECT_TRUE(r) << r.error().message;
    // Every migration recorded, versions 1..N (one that failed in one instance is missing).
    EXPECT_GT(ScalarInt("SELECT COUNT(*) FROM schema_migrations"), 0);
    EXPECT_EQ(ScalarInt("SELECT COUNT(*) FROM schema_migrations"),
              ScalarInt("SELECT MAX(version) FROM schema_migrations"));
    dbs.clear();
    if (pg()) {
        ASSERT_TRUE(Exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"));
    }
}

}  // namespace
}  // namespace joopang::sql
