#include "infra/sql/sqlite_db.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <random>
#include <thread>
#include <unordered_map>

namespace joopang::sql {

namespace {

bool IsBlank(const char* p) {
    // Whitespace and `;` only (a trailing `;` leaves such a tail after the last statement).
    for (; p != nullptr && *p != '\0'; ++p) {
        if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') return false;
    }
    return true;
}

/// Sleeps a random time in [0, min(cap, base * 2^(attempt-1))] ("full jitter").
void Backoff(int attempt, std::chrono::microseconds base, std::chrono::microseconds cap) {
    thread_local std::minstd_rand rng(
        std::random_device{}() ^
        static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id())));
    auto limit = base * (std::int64_t{1} << std::min(attempt - 1, 16));
    limit = std::min(limit, cap);
    std::uniform_int_distribution<std::int64_t> dist(limit.count() / 4, limit.count());
    std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
}

}  // namespace

/// One sqlite3 handle (opened with SQLITE_OPEN_NOMUTEX: the pool lends it to one thread at a time)
/// with its prepared-statement cache.
class SqliteConnection final : public Connection {
  public:
    static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                          const SqliteOptions& options) {
        sqlite3* db = nullptr;
        int rc = sqlite3_open_v2(
            path.c_str(), &db,
            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
            nullptr);
        std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db, options));
        if (rc != SQLITE_OK) {
            return Error::Unavailable("cannot open sqlite database '" + path +
                                      "': " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
        }
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
        // temp_store=MEMORY: statement journals (kept when a transaction runs several writing
        // statements, as the persister's chunked INSERTs do) stay in memory instead of spilling
        // to temporary files; chunks of 128 rows drained 5-10 % slower without it.
        for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                                   "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"}) {
            char* msg = nullptr;
            rc = sqlite3_exec(db, pragma, nullptr, nullptr, &msg);
            if (rc != SQLITE_OK) {
                std::string text = msg ? msg : sqlite3_errstr(rc);
                sqlite3_free(msg);
                return Error::Unavailable("sqlite " + std::string(pragma) + " failed: " + text);
            }
        }
        return conn;
    }

    ~SqliteConnection() override {
        ClearCache();
        sqlite3_close_v2(db_);
    }

    using Connection::Exec;
    Result<QueryResult> Exec(std::string_view sql, std::span<const Value> params) override {
        failure_ = FailureKind::kNone;
        sqlite3_stmt* stmt = nullptr;
        std::string key(sql);
        if (auto it = cache_.find(key); it != cache_.end()) {
            stmt = it->second;
        } else {
            const char* tail = nullptr;
            int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                        SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
            if (rc != SQLITE_OK) return Fail(rc);
            if (stmt == nullptr) return QueryResult{};  // empty text or a comment only
            if (!IsBlank(tail)) {
                sqlite3_finalize(stmt);
                return ExecScript(key, params);
            }
            if (cache_.size() >= cache_limit_) ClearCache();
            cache_.emplace(std::move(key), stmt);
        }
        QueryResult out;
        int rc = Step(stmt, params, &out);
        if (rc != SQLITE_OK) return Fail(rc);
        return out;
    }

    FailureKind last_failure() const override { return failure_; }
    Dialect dialect() const override { return Dialect::kSqlite; }

    /// Starts a Run attempt: forgets conflicts seen by the previous one.
    void BeginAttempt() { saw_conflict_ = false; }
    /// Whether any statement of this attempt failed with a conflict.
    bool saw_conflict() const { return saw_conflict_; }

    /// Rolls back a transaction left open (by a failed fn or a failed COMMIT).
    void RollbackIfOpen() {
        if (sqlite3_get_autocommit(db_) == 0)
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }

  private:
    SqliteConnection(sqlite3* db, const SqliteOptions& options)
        : db_(db), cache_limit_(std::max<std::size_t>(1, options.statement_cache_size)) {}

    void ClearCache() {
        for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
        cache_.clear();
    }

    /// Binds params, steps to the end collecting rows, resets. Returns SQLITE_OK or the error.
    int Step(sqlite3_stmt* stmt, std::span<const Value> params, QueryResult* out) {
        int expected = sqlite3_bind_parameter_count(stmt);
        if (expected != static_cast<int>(params.size())) {
            bind_error_ = "statement expects " + std::to_string(expected) + " parameters, got " +
                          std::to_string(params.size());
            return SQLITE_RANGE;
        }
        int rc = SQLITE_OK;
        for (std::size_t i = 0; i < params.size() && rc == SQLITE_OK; ++i) {
            int idx = static_cast<int>(i) + 1;
            const Value& v = params[i];
            if (std::holds_alternative<std::monostate>(v)) {
                rc = sqlite3_bind_null(stmt, idx);
            } else if (auto* n = std::get_if<std::int64_t>(&v)) {
                rc = sqlite3_bind_int64(stmt, idx, *n);
            } else if (auto* d = std::get_if<double>(&v)) {
                rc = sqlite3_bind_double(stmt, idx, *d);
            } else {
                const auto& s = std::get<std::string>(v);
                // SQLITE_STATIC: params outlive the statement's use (bindings are cleared below).
                rc = sqlite3_bind_text64(stmt, idx, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
            }
        }
        sqlite3_int64 changes_before = sqlite3_total_changes64(db_);
        while (rc == SQLITE_OK) {
            int s = sqlite3_step(stmt);
            if (s == SQLITE_DONE) break;
            if (s != SQLITE_ROW) {
                rc = s;
                break;
            }
            int n = sqlite3_column_count(stmt);
            std::vector<std::optional<std::string>> cols;
            cols.reserve(n);
            for (int c = 0; c < n; ++c) {
                if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
                    cols.emplace_back(std::nullopt);
                    continue;
                }
                const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
                int len = sqlite3_column_bytes(stmt, c);
                cols.emplace_back(text ? std::string(text, len) : std::string());
            }
            out->rows.emplace_back(std::move(cols));
        }
        if (rc == SQLITE_OK) {
            // sqlite3_changes keeps the count of the last completed INSERT/UPDATE/DELETE, which is
            // stale after a SELECT or DDL; only trust it when this statement changed something.
            out->affected =
                sqlite3_total_changes64(db_) != changes_before ? sqlite3_changes64(db_) : 0;
        }
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return rc;
    }

    /// Several statements in one text (migrations): run them in order, uncached; rows and
    /// `affected` are those of the last statement. Parameters are not allowed here.
    Result<QueryResult> ExecScript(const std::string& sql, std::span<const Value> params) {
        if (!params.empty()) {
            failure_ = FailureKind::kOther;
            return Error::Internal("sqlite: parameters are not supported with several statements");
        }
        QueryResult out;
        const char* p = sql.c_str();
        while (!IsBlank(p)) {
            sqlite3_stmt* stmt = nullptr;
            const char* tail = nullptr;
            int rc = sqlite3_prepare_v2(db_, p, -1, &stmt, &tail);
            if (rc != SQLITE_OK) return Fail(rc);
            p = tail;
            if (stmt == nullptr) continue;
            out = QueryResult{};
            rc = Step(stmt, {}, &out);
            sqlite3_finalize(stmt);
            if (rc != SQLITE_OK) return Fail(rc);
        }
        return out;
    }

    /// Maps a SQLite result code to an Error and sets failure_.
    Error Fail(int rc) {
        std::string msg;
        if (!bind_error_.empty()) {
            msg = std::move(bind_error_);
            bind_error_.clear();
        } else {
            msg = sqlite3_errmsg(db_);
        }
        switch (rc & 0xff) {
            case SQLITE_BUSY:
            case SQLITE_LOCKED:
                failure_ = FailureKind::kConflict;
                saw_conflict_ = true;
                return Error::Unavailable("database busy: " + msg);
            case SQLITE_CONSTRAINT:
                if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
                    failure_ = FailureKind::kUniqueViolation;
                } else {
                    failure_ = FailureKind::kOther;
                }
                return Error::Internal("sqlite: " + msg);
            case SQLITE_IOERR:
            case SQLITE_FULL:
            case SQLITE_CANTOPEN:
            case SQLITE_NOMEM:
            case SQLITE_CORRUPT:
            case SQLITE_NOTADB:
            case SQLITE_READONLY:
            case SQLITE_PROTOCOL:
                failure_ = FailureKind::kOther;
                return Error::Unavailable("sqlite I/O error: " + msg);
            default:
                failure_ = FailureKind::kOther;
                return Error::Internal("sqlite: " + msg);
        }
    }

    sqlite3* db_;
    std::size_t cache_limit_;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
    FailureKind failure_ = FailureKind::kNone;
    bool saw_conflict_ = false;
    std::string bind_error_;
};

SqliteDb::SqliteDb(std::string path, SqliteOptions options)
    : path_(std::move(path)), options_(options) {
    if (path_ == ":memory:" || options_.pool_size < 1) options_.pool_size = 1;
    options_.max_attempts = std::max(1, options_.max_attempts);
}

SqliteDb::~SqliteDb() = default;

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, SqliteOptions options) {
    if (path.empty()) return Error::Internal("sqlite: empty database path");
    if (path != ":memory:" && path.rfind("file:", 0) != 0) {
        std::filesystem::path parent = std::filesystem::path(path).parent_path();
        if (!parent.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(parent, ec);
            if (ec) {
                return Error::Unavailable("cannot create directory '" + parent.string() +
                                          "': " + ec.message());
            }
        }
    }
    std::unique_ptr<SqliteDb> db(new SqliteDb(path, options));
    auto conn = db->Acquire();
    if (!conn) return conn.error();
    db->Release(std::move(*conn));
    return db;
}

Result<std::unique_ptr<SqliteConnection>> SqliteDb::Acquire() {
    std::unique_lock lock(pool_mutex_);
    pool_cv_.wait(lock, [&] { return !idle_.empty() || open_count_ < options_.pool_size; });
    if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
    }
    ++open_count_;
    lock.unlock();
    auto conn = SqliteConnection::Open(path_, options_);
    if (!conn) {
        lock.lock();
        --open_count_;
        pool_cv_.notify_one();
        return conn.error();
    }
    return std::move(*conn);
}

void SqliteDb::Release(std::unique_ptr<SqliteConnection> conn) {
    {
        std::lock_guard lock(pool_mutex_);
        idle_.push_back(std::move(conn));
    }
    pool_cv_.notify_one();
}

Status SqliteDb::RunOnce(SqliteConnection& conn,
                         TxMode mode,
                         const std::function<Status(Connection&)>& fn,
                         bool* retry) {
    conn.BeginAttempt();
    std::unique_lock<std::mutex> writer;
    if (mode == TxMode::kWrite) writer = std::unique_lock(writer_mutex_);
    if (mode != TxMode::kNone) {
        auto begin = conn.Exec(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN", {});
        if (!begin) {
            *retry = conn.last_failure() == FailureKind::kConflict;
            conn.RollbackIfOpen();
            return begin.error();
        }
    }
    Status st = fn(conn);
    if (st && mode != TxMode::kNone) {
        auto commit = conn.Exec("COMMIT", {});
        if (!commit) {
            // A failed COMMIT leaves the transaction open (SQLITE_BUSY) or already rolled back;
            // either way nothing was written, so fn may run again.
            *retry = conn.last_failure() == FailureKind::kConflict;
            conn.RollbackIfOpen();
            return commit.error();
        }
        return st;
    }
    if (!st) *retry = conn.saw_conflict();
    // Also closes a transaction that fn opened by hand in kNone mode, so the pool stays clean.
    conn.RollbackIfOpen();
    return st;
}

Status SqliteDb::Run(TxMode mode, const std::function<Status(Connection&)>& fn) {
    for (int attempt = 1;; ++attempt) {
        auto conn = Acquire();
        if (!conn) return conn.error();
        bool retry = false;
        Status st = RunOnce(**conn, mode, fn, &retry);
        Release(std::move(*conn));
        if (st || !retry || attempt >= options_.max_attempts) return st;
        Backoff(attempt, std::chrono::microseconds(500), std::chrono::milliseconds(50));
    }
}

Status SqliteDb::Ping() {
    return Run(TxMode::kNone, [](Connection& c) -> Status {
        auto r = c.Exec("SELECT 1", {});
        if (!r) return r.error();
        return {};
    });
}

}  // namespace joopang::sql
