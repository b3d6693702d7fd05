#pragma once
/// The one database interface: SQLite (embedded default) and PostgreSQL (production) implement it,
/// and every repository is written once against it.
///
/// Design: statements are written with `?` placeholders (PostgreSQL rewrites them to $1..$n);
/// values travel as text so that both backends return rows the same way; each call that touches the
/// database runs inside `Run` on a pooled connection, which is blocking — call it from a blocking
/// thread pool, never from an I/O thread. Transient conflicts (SQLITE_BUSY, PostgreSQL 40001/40P01)
/// and a lost connection are retried by `Run` itself, so repositories only see real outcomes.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.hpp"

namespace joopang::sql {

enum class Dialect { kSqlite, kPostgres };

/// A bound parameter: NULL, integer, real or text.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;

/// One result row; every column arrives as text (or NULL) and is converted on access.
class Row {
  public:
    explicit Row(std::vector<std::optional<std::string>> cols) : cols_(std::move(cols)) {}
    bool IsNull(std::size_t i) const { return !cols_.at(i).has_value(); }
    /// Integer value of column i (0 when NULL or not a number).
    std::int64_t Int(std::size_t i) const;
    std::optional<std::int64_t> OptInt(std::size_t i) const;
    double Real(std::size_t i) const;
    const std::string& Text(std::size_t i) const;
    std::optional<std::string> OptText(std::size_t i) const { return cols_.at(i); }
    std::size_t size() const { return cols_.size(); }

  private:
    std::vector<std::optional<std::string>> cols_;
};

struct QueryResult {
    std::vector<Row> rows;
    /// Rows changed by INSERT/UPDATE/DELETE.
    std::int64_t affected = 0;
};

/// What kind of failure the last Exec on a connection hit; Run uses it to decide on a retry.
enum class FailureKind { kNone, kConflict, kConnectionLost, kUniqueViolation, kOther };

/// A connection lent by Db::Run for the duration of one callback. Not thread-safe.
class Connection {
  public:
    virtual ~Connection() = default;
    /// Runs one statement. Errors come back as kUnavailable (connection) or kInternal (SQL).
    virtual Result<QueryResult> Exec(std::string_view sql, std::span<const Value> params = {}) = 0;
    Result<QueryResult> Exec(std::string_view sql, std::initializer_list<Value> params) {
        return Exec(sql, std::span<const Value>(params.begin(), params.size()));
    }
    virtual FailureKind last_failure() const = 0;
    virtual Dialect dialect() const = 0;
};

/// kWrite takes the write lock at BEGIN on SQLite (BEGIN IMMEDIATE), so a read-then-write
/// transaction never fails half-way on an upgrade; kNone runs statements in autocommit.
enum class TxMode { kNone, kRead, kWrite };

class Db {
  public:
    virtual ~Db() = default;
    virtual Dialect dialect() const = 0;

    /// Runs fn on a pooled connection inside a transaction of `mode`: commits when fn succeeds,
    /// rolls back when it fails. If fn failed because of a transient conflict or a lost
    /// connection, fn is run again (bounded attempts with backoff), so fn must be repeatable.
    /// Blocking; thread-safe.
    virtual Status Run(TxMode mode, const std::function<Status(Connection&)>& fn) = 0;

    /// Run with a value.
    template <class T, class F>
    Result<T> Transact(TxMode mode, F&& fn) {
        std::optional<T> out;
        Status st = Run(mode, [&](Connection& c) -> Status {
            Result<T> r = fn(c);
            if (!r) return r.error();
            out.emplace(std::move(*r));
            return {};
        });
        if (!st) return st.error();
        return std::move(*out);
    }

    /// Cheap liveness probe for /readyz.
    virtual Status Ping() = 0;
};

/// Opens the database named by `url`: "sqlite:///abs/path.db", "sqlite://relative.db", a plain
/// file path, or "postgresql://…" / "postgres://…". `pool_size` connections at most.
Result<std::unique_ptr<Db>> OpenDb(const std::string& url, int pool_size);

}  // namespace joopang::sql
