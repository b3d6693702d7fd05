#pragma once
/// PostgreSQL backend of the Db interface (production).
///
/// Statements keep the portable `?` placeholders and are rewritten to `$1..$n` once per connection
/// (a `?` inside a quoted literal, a quoted identifier, a dollar-quoted string or a comment is left
/// alone; the jsonb `?` operators cannot be used — write `jsonb_exists(…)` instead). Each text is
/// prepared once per connection (PQprepare, then PQexecPrepared; pgbench on this machine: 28k vs
/// 18.6k point selects/s against parse-and-plan-every-time) with every parameter sent as text and
/// every column returned as text. If a schema change invalidates a prepared statement (0A000,
/// "cached plan must not change result type"), it is prepared again and Run retries fn.
///
/// Transactions (kRead, kWrite) are plain `BEGIN … COMMIT` at READ COMMITTED: atomicity comes from
/// conditional statements such as `UPDATE … SET stock = stock - ? WHERE id = ? AND stock >= ?`.
///
/// Retry policy of Run:
/// * 40001 / 40P01 (serialization failure, deadlock): fn runs again, up to max_attempts, after a
///   short jittered backoff.
/// * A lost connection (broken socket, SQLSTATE 08xxx, 57P01..57P03) before COMMIT: the server
///   rolled the transaction back, so the connection is dropped and fn runs again on a fresh one
///   with growing backoff for at most retry_window; then Run fails with
///   `Error::Unavailable("database unavailable: …")`.
/// * A connection lost *during* COMMIT: whether the transaction committed is unknown, so fn is not
///   run again; Run returns kUnavailable ("… outcome unknown …") and the caller must treat the
///   write as possibly applied (e.g. reconcile through an idempotency key).
/// * kNone (autocommit): every statement commits by itself, so a retry after a lost connection may
///   repeat statements that already committed; use kWrite for writes that must not repeat.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Tuning knobs of PostgresDb; the defaults suit the server.
struct PostgresOptions {
    /// Connections at most (opened lazily); callers beyond that block until one is returned.
    int pool_size = 8;
    /// libpq connect_timeout in seconds (libpq treats values below 2 as 2).
    int connect_timeout_s = 3;
    /// Attempts of fn when it fails with a serialization failure or a deadlock.
    int max_attempts = 8;
    /// How long Run keeps retrying a lost connection before giving up with kUnavailable.
    std::chrono::milliseconds retry_window{5000};
    /// Ping gives up after this long (waiting for a connection plus the round trip).
    std::chrono::milliseconds ping_timeout{2000};
};

/// A statement after `?` → `$n` rewriting.
struct RewrittenSql {
    std::string text;
    int param_count = 0;
    /// More than one statement (text after a top-level `;`): only allowed without parameters,
    /// and then sent with PQexec (rows and `affected` are those of the last statement).
    bool multi_statement = false;
};

/// Rewrites the `?` placeholders of `sql` to `$1..$n`, leaving alone `?` inside '…' / E'…'
/// literals, "…" identifiers, $tag$…$tag$ strings, -- and /* */ comments. Pure; thread-safe.
RewrittenSql RewritePlaceholders(std::string_view sql);

class PgConnection;

/// Db on libpq. Thread-safe; Run and Ping block (pool, network, server). Do not call Run from
/// inside fn of another Run: the pool may already be exhausted by the caller itself. The
/// PostgresDb must outlive every Run call. `affected` counts rows changed by INSERT / UPDATE /
/// DELETE / MERGE (0 for SELECT, as on SQLite).
class PostgresDb final : public Db {
  public:
    /// `conninfo` is anything libpq accepts: a `postgresql://` URI or `key=value` pairs. No
    /// connection is opened here: the first Run (or Ping) connects.
    PostgresDb(std::string conninfo, PostgresOptions options);
    PostgresDb(std::string conninfo, int pool_size);
    ~PostgresDb() override;

    PostgresDb(const PostgresDb&) = delete;
    PostgresDb& operator=(const PostgresDb&) = delete;

    Dialect dialect() const override { return Dialect::kPostgres; }
    Status Run(TxMode mode, const std::function<Status(Connection&)>& fn) override;
    /// `SELECT 1` on a pooled connection, bounded by options.ping_timeout on the client side.
    Status Ping() override;

  private:
    enum class Outcome { kDone, kRetryConflict, kRetryLost };

    /// Lends a healthy idle connection, or connects a new one while under pool_size, or waits
    /// (until `deadline` when given). A connect failure comes back as kUnavailable.
    Result<std::unique_ptr<PgConnection>> Acquire(
        std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);
    /// Returns a connection to the pool, or drops it when broken or not idle.
    void Release(std::unique_ptr<PgConnection> conn);
    Status RunOnce(PgConnection& conn,
                   TxMode mode,
                   const std::function<Status(Connection&)>& fn,
                   Outcome* outcome);

    std::string conninfo_;
    PostgresOptions options_;

    std::mutex pool_mutex_;
    std::condition_variable pool_cv_;
    std::vector<std::unique_ptr<PgConnection>> idle_;
    int open_count_ = 0;
};

}  // namespace joopang::sql
