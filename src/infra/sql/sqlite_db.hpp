#pragma once
/// SQLite backend of the Db interface (embedded default).
///
/// One file, many connections: every connection runs in WAL mode with synchronous=NORMAL,
/// foreign_keys=ON and a busy timeout. SQLite has a single writer, so `Run(kWrite)` also takes an
/// in-process writer lock before `BEGIN IMMEDIATE`: writers of this process queue on a mutex
/// instead of polling the file lock through SQLite's busy handler (other processes are still
/// handled by the busy timeout and the retry loop).

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Tuning knobs of SqliteDb; the defaults suit the server.
struct SqliteOptions {
    /// Connections at most; callers beyond that block until one is returned. ":memory:" uses 1.
    int pool_size = 4;
    /// How long SQLite itself waits for a lock held by another connection before SQLITE_BUSY.
    std::chrono::milliseconds busy_timeout{5000};
    /// Attempts of fn in Run when it fails with a conflict (SQLITE_BUSY / SQLITE_LOCKED).
    int max_attempts = 10;
    /// Prepared statements kept per connection; the cache is cleared when it grows past this.
    std::size_t statement_cache_size = 256;
};

class SqliteConnection;

/// Db on libsqlite3. Thread-safe; Run and Ping block (on the pool, on SQLite locks, on disk I/O).
/// Do not call Run from inside fn of another Run on the same thread: the pool or the writer lock
/// may already be exhausted by the caller itself. The SqliteDb must outlive every Run call.
///
/// Retry policy: a statement that fails with SQLITE_BUSY / SQLITE_LOCKED (after the busy timeout,
/// or at once for a deferred kRead transaction whose snapshot went stale before it wrote) marks
/// the attempt as a conflict; Run rolls back and runs fn again, up to options.max_attempts, with a
/// jittered backoff of 0.5–50 ms. Conflicts that outlast the attempts come back as kUnavailable
/// ("database busy: …"). `affected` is sqlite3_changes of the statement (0 for SELECT and DDL).
class SqliteDb final : public Db {
  public:
    /// Opens (creating the file and its parent directory if needed) and checks one connection, so
    /// that a bad path fails here rather than on the first request.
    static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, SqliteOptions options);
    static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, int pool_size) {
        SqliteOptions options;
        options.pool_size = pool_size;
        return Open(path, options);
    }
    ~SqliteDb() override;

    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;

    Dialect dialect() const override { return Dialect::kSqlite; }
    Status Run(TxMode mode, const std::function<Status(Connection&)>& fn) override;
    Status Ping() override;

    const std::string& path() const { return path_; }

  private:
    SqliteDb(std::string path, SqliteOptions options);

    /// Lends an idle connection, opens a new one while under pool_size, or waits.
    Result<std::unique_ptr<SqliteConnection>> Acquire();
    void Release(std::unique_ptr<SqliteConnection> conn);
    /// Runs fn once; sets *retry when the failure was a transient conflict.
    Status RunOnce(SqliteConnection& conn,
                   TxMode mode,
                   const std::function<Status(Connection&)>& fn,
                   bool* retry);

    std::string path_;
    SqliteOptions options_;

    std::mutex pool_mutex_;
    std::condition_variable pool_cv_;
    std::vector<std::unique_ptr<SqliteConnection>> idle_;
    int open_count_ = 0;

    /// Held for the whole of a kWrite transaction (see the file comment).
    std::mutex writer_mutex_;
};

}  // namespace joopang::sql
