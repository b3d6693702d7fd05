#include "infra/sql/postgres_db.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <unordered_map>

namespace joopang::sql {

namespace {

using Clock = std::chrono::steady_clock;

/// Sleeps a random time in [limit/4, limit], limit = min(cap, base * 2^(attempt-1)).
void Backoff(int attempt, std::chrono::microseconds base, std::chrono::microseconds cap) {
    thread_local std::minstd_rand rng(
        std::random_device{}() ^
        static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id())));
    auto limit = std::min(base * (std::int64_t{1} << std::min(attempt - 1, 16)), cap);
    std::uniform_int_distribution<std::int64_t> dist(limit.count() / 4, limit.count());
    std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
}

bool IsIdentChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
}

std::string TrimMessage(const char* msg) {
    std::string s = msg ? msg : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s.empty() ? "unknown error" : s;
}

}  // namespace

RewrittenSql RewritePlaceholders(std::string_view sql) {
    RewrittenSql out;
    out.text.reserve(sql.size() + 8);
    bool after_semicolon = false;
    auto statement_char = [&] {
        if (after_semicolon) out.multi_statement = true;
    };
    std::size_t i = 0;
    const std::size_t n = sql.size();
    while (i < n) {
        char c = sql[i];
        if (c == '\'') {
            statement_char();
            // E'…' strings treat backslash as an escape; standard strings only double the quote.
            bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                           (i < 2 || !IsIdentChar(sql[i - 2]));
            out.text += c;
            ++i;
            while (i < n) {
                char d = sql[i];
                out.text += d;
                ++i;
                if (escapes && d == '\\' && i < n) {
                    out.text += sql[i];
                    ++i;
                } else if (d == '\'') {
                    if (i < n && sql[i] == '\'') {
                        out.text += sql[i];
                        ++i;
                    } else {
                        break;
                    }
                }
            }
        } else if (c == '"') {
            statement_char();
            std::size_t end = sql.find('"', i + 1);
            end = end == std::string_view::npos ? n : end + 1;
            out.text.append(sql.substr(i, end - i));
            i = end;
        } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            std::size_t end = sql.find('\n', i);
            end = end == std::string_view::npos ? n : end;
            out.text.append(sql.substr(i, end - i));
            i = end;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            // Block comments nest in PostgreSQL.
            std::size_t j = i + 2;
            int depth = 1;
            while (j < n && depth > 0) {
                if (sql[j] == '/' && j + 1 < n && sql[j + 1] == '*') {
                    ++depth;
                    j += 2;
                } else if (sql[j] == '*' && j + 1 < n && sql[j + 1] == '/') {
                    --depth;
                    j += 2;
                } else {
                    ++j;
                }
            }
            out.text.append(sql.substr(i, j - i));
            i = j;
        } else if (c == '$' && (i == 0 || !IsIdentChar(sql[i - 1]))) {
            // Dollar quoting: $$…$$ or $tag$…$tag$ ($1 is a parameter, not a tag).
            std::size_t j = i + 1;
            if (j < n && !std::isdigit(static_cast<unsigned char>(sql[j]))) {
                while (j < n && IsIdentChar(sql[j])) ++j;
            }
            if (j < n && sql[j] == '$') {
                statement_char();
                std::string_view tag = sql.substr(i, j - i + 1);
                std::size_t close = sql.find(tag, j + 1);
                std::size_t end = close == std::string_view::npos ? n : close + tag.size();
                out.text.append(sql.substr(i, end - i));
                i = end;
            } else {
                statement_char();
                out.text += c;
                ++i;
            }
        } else if (c == '?') {
            statement_char();
            out.text += '$';
            out.text += std::to_string(++out.param_count);
            ++i;
        } else {
            if (c == ';') {
                after_semicolon = true;
            } else if (!std::isspace(static_cast<unsigned char>(c))) {
                statement_char();
            }
            out.text += c;
            ++i;
        }
    }
    return out;
}

/// One libpq connection with its rewrite cache. Lent to one thread at a time by the pool.
class PgConnection final : public Connection {
  public:
    static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                         const PostgresOptions& options) {
        std::string timeout = std::to_string(std::max(2, options.connect_timeout_s));
        // Defaults first, the caller's conninfo last: later keywords win, so the URL can override.
        const char* keys[] = {"connect_timeout",  "application_name", "client_encoding",
                              "keepalives",       "keepalives_idle",  "keepalives_interval",
                              "keepalives_count", "dbname",           nullptr};
        const char* values[] = {timeout.c_str(),  "joopang", "UTF8", "1", "30", "10", "3",
                                conninfo.c_str(), nullptr};
        PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
        std::unique_ptr<PgConnection> conn(new PgConnection(raw));
        if (raw == nullptr) return Error::Unavailable("database unavailable: out of memory");
        if (PQstatus(raw) != CONNECTION_OK) {
            return Error::Unavailable("database unavailable: " + TrimMessage(PQerrorMessage(raw)));
        }
        PQsetNoticeProcessor(
            raw, [](void*, const char*) {}, nullptr);
        return conn;
    }

    ~PgConnection() override {
        if (conn_ != nullptr) PQfinish(conn_);
    }

    using Connection::Exec;
    Result<QueryResult> Exec(std::string_view sql, std::span<const Value> params) override {
        failure_ = FailureKind::kNone;
        Statement& st = Lookup(sql);
        const RewrittenSql& rw = st.rewritten;
        if (rw.param_count != static_cast<int>(params.size())) {
            failure_ = FailureKind::kOther;
            return Error::Internal("postgres: statement expects " + std::to_string(rw.param_count) +
                                   " parameters, got " + std::to_string(params.size()));
        }
        if (params.empty() && rw.multi_statement) return Consume(PQexec(conn_, rw.text.c_str()));
        FormatParams(params);
        const int n = static_cast<int>(params.size());
        if (st.name.empty()) {
            // Past the cache limit: the unnamed statement (parsed and planned every time).
            return Consume(PQexecParams(conn_, rw.text.c_str(), n, nullptr, param_ptrs_.data(),
                                        nullptr, nullptr, 0));
        }
        const bool was_prepared = st.prepared;
        if (!st.prepared) {
            PGresult* res = PQprepare(conn_, st.name.c_str(), rw.text.c_str(), n, nullptr);
            if (res == nullptr || PQresultStatus(res) != PGRES_COMMAND_OK) return Consume(res);
            PQclear(res);
            st.prepared = true;
        }
        PGresult* res =
            PQexecPrepared(conn_, st.name.c_str(), n, param_ptrs_.data(), nullptr, nullptr, 0);
        const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
        if (was_prepared && state != nullptr && std::strcmp(state, "0A000") == 0) {
            // "cached plan must not change result type": the schema changed under a statement
            // prepared earlier. Prepare it again under a new name next time, and let Run retry fn.
            // (The old server-side statement lingers until the connection closes.)
            st.name = NextName();
            st.prepared = false;
            std::string msg = TrimMessage(PQresultErrorMessage(res));
            PQclear(res);
            failure_ = FailureKind::kConflict;
            saw_conflict_ = true;
            return Error::Unavailable("database busy: " + msg);
        }
        return Consume(res);
    }

    FailureKind last_failure() const override { return failure_; }
    Dialect dialect() const override { return Dialect::kPostgres; }

    void BeginAttempt() {
        saw_conflict_ = false;
        saw_lost_ = false;
    }
    bool saw_conflict() const { return saw_conflict_; }
    /// Whether the connection is known to be unusable (it must then be dropped, not pooled).
    bool broken() const { return saw_lost_ || PQstatus(conn_) != CONNECTION_OK; }
    PGTransactionStatusType tx_status() const { return PQtransactionStatus(conn_); }

    /// Cheap check before lending an idle connection: it must be idle and its socket must have
    /// nothing to read (a terminated backend sends a FATAL message and closes the socket).
    bool LooksHealthy() const {
        if (PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE) {
            return false;
        }
        pollfd pfd{PQsocket(conn_), POLLIN, 0};
        return pfd.fd >= 0 && poll(&pfd, 1, 0) == 0;
    }

    /// `SELECT 1` that gives up at `deadline` (the socket is polled, never blocked on).
    Status PingUntil(Clock::time_point deadline) {
        if (PQsendQuery(conn_, "SELECT 1") == 0) {
            saw_lost_ = true;
            return Error::Unavailable("database unavailable: " +
                                      TrimMessage(PQerrorMessage(conn_)));
        }
        while (PQisBusy(conn_)) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            pollfd pfd{PQsocket(conn_), POLLIN, 0};
            if (left.count() <= 0 || poll(&pfd, 1, static_cast<int>(left.count())) == 0) {
                saw_lost_ = true;  // a reply may still arrive: never reuse this connection
                return Error::Unavailable("database unavailable: ping timed out");
            }
            if (PQconsumeInput(conn_) == 0) {
                saw_lost_ = true;
                return Error::Unavailable("database unavailable: " +
                                          TrimMessage(PQerrorMessage(conn_)));
            }
        }
        bool ok = false;
        std::string error;
        while (PGresult* res = PQgetResult(conn_)) {
            if (PQresultStatus(res) == PGRES_TUPLES_OK) {
                ok = true;
            } else {
                error = TrimMessage(PQresultErrorMessage(res));
            }
            PQclear(res);
        }
        if (ok) return {};
        if (PQstatus(conn_) != CONNECTION_OK) saw_lost_ = true;
        return Error::Unavailable("database unavailable: " + error);
    }

  private:
    explicit PgConnection(PGconn* conn) : conn_(conn) {}

    /// The cache entry of a statement text: its rewritten form and, while the cache has room, the
    /// name of its server-side prepared statement (prepared on first use).
    struct Statement {
        RewrittenSql rewritten;
        std::string name;
        bool prepared = false;
    };

    Statement& Lookup(std::string_view sql) {
        std::string key(sql);
        auto it = statements_.find(key);
        if (it != statements_.end()) return it->second;
        Statement st{RewritePlaceholders(sql), {}, false};
        if (statements_.size() < kStatementCacheLimit && !st.rewritten.multi_statement) {
            st.name = NextName();
        }
        if (statements_.size() >= kRewriteCacheLimit) {
            // Only reached with unbounded dynamic SQL: forget the unprepared entries.
            std::erase_if(statements_, [](const auto& kv) { return kv.second.name.empty(); });
        }
        return statements_.emplace(std::move(key), std::move(st)).first->second;
    }

    std::string NextName() { return "jp" + std::to_string(++statement_counter_); }

    void FormatParams(std::span<const Value> params) {
        param_text_.resize(params.size());
        param_ptrs_.assign(params.size(), nullptr);
        for (std::size_t i = 0; i < params.size(); ++i) {
            const Value& v = params[i];
            std::string& s = param_text_[i];
            if (std::holds_alternative<std::monostate>(v)) continue;
            if (auto* n = std::get_if<std::int64_t>(&v)) {
                char buf[24];
                auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *n);
                s.assign(buf, end);
            } else if (auto* d = std::get_if<double>(&v)) {
                if (std::isnan(*d)) {
                    s = "NaN";
                } else if (std::isinf(*d)) {
                    s = *d > 0 ? "Infinity" : "-Infinity";
                } else {
                    char buf[32];
                    int len = std::snprintf(buf, sizeof buf, "%.17g", *d);
                    s.assign(buf, static_cast<std::size_t>(len));
                }
            } else {
                s = std::get<std::string>(v);
            }
            param_ptrs_[i] = s.c_str();
        }
    }

    /// Turns a PGresult into rows or an Error (setting failure_), and frees it.
    Result<QueryResult> Consume(PGresult* res) {
        if (res == nullptr) {
            std::string msg = TrimMessage(PQerrorMessage(conn_));
            if (PQstatus(conn_) != CONNECTION_OK) {
                failure_ = FailureKind::kConnectionLost;
                saw_lost_ = true;
                return Error::Unavailable("database unavailable: " + msg);
            }
            failure_ = FailureKind::kOther;
            return Error::Internal("postgres: " + msg);
        }
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK ||
            status == PGRES_EMPTY_QUERY || status == PGRES_SINGLE_TUPLE) {
            QueryResult out;
            int rows = PQntuples(res);
            int cols = PQnfields(res);
            out.rows.reserve(rows);
            for (int r = 0; r < rows; ++r) {
                std::vector<std::optional<std::string>> row;
                row.reserve(cols);
                for (int c = 0; c < cols; ++c) {
                    if (PQgetisnull(res, r, c)) {
                        row.emplace_back(std::nullopt);
                    } else {
                        row.emplace_back(
                            std::string(PQgetvalue(res, r, c),
                                        static_cast<std::size_t>(PQgetlength(res, r, c))));
                    }
                }
                out.rows.emplace_back(std::move(row));
            }
            // Like SQLite: `affected` counts rows changed, not rows a SELECT returned.
            std::string_view tag = PQcmdStatus(res);
            const char* tuples = PQcmdTuples(res);
            bool changes = tag.starts_with("INSERT") || tag.starts_with("UPDATE") ||
                           tag.starts_with("DELETE") || tag.starts_with("MERGE");
            if (changes && tuples != nullptr && *tuples != '\0') {
                std::from_chars(tuples, tuples + std::strlen(tuples), out.affected);
            }
            PQclear(res);
            return out;
        }
        const char* state_ptr = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        std::string state = state_ptr ? state_ptr : "";
        std::string msg = TrimMessage(PQresultErrorMessage(res));
        if (msg == "unknown error") msg = TrimMessage(PQerrorMessage(conn_));
        PQclear(res);
        if (status != PGRES_FATAL_ERROR && status != PGRES_NONFATAL_ERROR &&
            status != PGRES_BAD_RESPONSE) {
            failure_ = FailureKind::kOther;
            return Error::Internal("postgres: unsupported result " +
                                   std::string(PQresStatus(status)));
        }
        if (PQstatus(conn_) != CONNECTION_OK || state.starts_with("08") || state == "57P01" ||
            state == "57P02" || state == "57P03") {
            failure_ = FailureKind::kConnectionLost;
            saw_lost_ = true;
            return Error::Unavailable("database unavailable: " + msg);
        }
        if (state == "40001" || state == "40P01") {
            failure_ = FailureKind::kConflict;
            saw_conflict_ = true;
            return Error::Unavailable("database busy: " + msg);
        }
        if (state == "23505") {
            failure_ = FailureKind::kUniqueViolation;
            return Error::Internal("postgres: " + msg);
        }
        failure_ = FailureKind::kOther;
        if (state == "57014" || state.starts_with("53")) {
            // Statement timeout / cancel, or the server is out of resources.
            return Error::Unavailable("database unavailable: " + msg);
        }
        return Error::Internal("postgres: " + msg);
    }

    /// Server-side prepared statements per connection at most; later texts run unnamed.
    static constexpr std::size_t kStatementCacheLimit = 512;
    static constexpr std::size_t kRewriteCacheLimit = 2048;

    PGconn* conn_;
    std::unordered_map<std::string, Statement> statements_;
    std::uint64_t statement_counter_ = 0;
    std::vector<std::string> param_text_;
    std::vector<const char*> param_ptrs_;
    FailureKind failure_ = FailureKind::kNone;
    bool saw_conflict_ = false;
    bool saw_lost_ = false;
};

PostgresDb::PostgresDb(std::string conninfo, PostgresOptions options)
    : conninfo_(std::move(conninfo)), options_(options) {
    options_.pool_size = std::max(1, options_.pool_size);
    options_.max_attempts = std::max(1, options_.max_attempts);
}

PostgresDb::PostgresDb(std::string conninfo, int pool_size)
    : PostgresDb(std::move(conninfo), PostgresOptions{.pool_size = pool_size}) {}

PostgresDb::~PostgresDb() = default;

Result<std::unique_ptr<PgConnection>> PostgresDb::Acquire(
    std::optional<Clock::time_point> deadline) {
    std::unique_lock lock(pool_mutex_);
    for (;;) {
        auto ready = [&] { return !idle_.empty() || open_count_ < options_.pool_size; };
        if (deadline) {
            if (!pool_cv_.wait_until(lock, *deadline, ready)) {
                return Error::Unavailable("database unavailable: no free connection");
            }
        } else {
            pool_cv_.wait(lock, ready);
        }
        if (idle_.empty()) break;
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        if (conn->LooksHealthy()) return conn;
        // Dead while idle (server restart, terminated backend): drop it and look again.
        --open_count_;
        lock.unlock();
        conn.reset();
        lock.lock();
    }
    ++open_count_;
    lock.unlock();
    auto conn = PgConnection::Connect(conninfo_, options_);
    if (!conn) {
        lock.lock();
        --open_count_;
        lock.unlock();
        pool_cv_.notify_one();
        return conn.error();
    }
    return std::move(*conn);
}

void PostgresDb::Release(std::unique_ptr<PgConnection> conn) {
    if (!conn->broken() && conn->tx_status() != PQTRANS_IDLE) {
        // fn left a transaction open in kNone mode: close it before pooling.
        (void)conn->Exec("ROLLBACK", {});
    }
    if (conn->broken() || conn->tx_status() != PQTRANS_IDLE) {
        conn.reset();
        {
            std::lock_guard lock(pool_mutex_);
            --open_count_;
        }
    } else {
        std::lock_guard lock(pool_mutex_);
        idle_.push_back(std::move(conn));
    }
    pool_cv_.notify_one();
}

Status PostgresDb::RunOnce(PgConnection& conn,
                           TxMode mode,
                           const std::function<Status(Connection&)>& fn,
                           Outcome* outcome) {
    *outcome = Outcome::kDone;
    conn.BeginAttempt();
    if (mode != TxMode::kNone) {
        auto begin = conn.Exec("BEGIN", {});
        if (!begin) {
            if (conn.broken()) *outcome = Outcome::kRetryLost;
            return begin.error();
        }
    }
    Status st = fn(conn);
    if (!st) {
        if (conn.broken()) {
            // The server rolls back an open transaction when its connection goes away.
            *outcome = Outcome::kRetryLost;
            return st;
        }
        if (mode != TxMode::kNone) (void)conn.Exec("ROLLBACK", {});
        if (conn.saw_conflict()) *outcome = Outcome::kRetryConflict;
        return st;
    }
    if (mode == TxMode::kNone) return st;
    if (conn.tx_status() == PQTRANS_INERROR) {
        // fn ignored a failed statement: COMMIT would silently roll back, so report it.
        (void)conn.Exec("ROLLBACK", {});
        if (conn.saw_conflict()) *outcome = Outcome::kRetryConflict;
        return Error::Internal(
            "postgres: transaction aborted by a statement whose error was ignored");
    }
    auto commit = conn.Exec("COMMIT", {});
    if (commit) return st;
    if (conn.broken()) {
        // The COMMIT may or may not have been applied: never run fn again.
        Error e = Error::Unavailable(
            "database unavailable: connection lost during COMMIT, outcome "
            "unknown: " +
            commit.error().message);
        e.outcome_unknown = true;
        return e;
    }
    // A COMMIT that fails on a live connection (e.g. serialization failure, deferred constraint)
    // has rolled the transaction back.
    if (conn.last_failure() == FailureKind::kConflict) *outcome = Outcome::kRetryConflict;
    return commit.error();
}

Status PostgresDb::Run(TxMode mode, const std::function<Status(Connection&)>& fn) {
    const auto give_up_at = Clock::now() + options_.retry_window;
    int conflicts = 0;
    int losses = 0;
    for (;;) {
        Outcome outcome = Outcome::kRetryLost;
        Error error;
        auto conn = Acquire();
        if (conn) {
            Status st = RunOnce(**conn, mode, fn, &outcome);
            Release(std::move(*conn));
            if (st || outcome == Outcome::kDone) return st;
            error = st.error();
        } else {
            error = conn.error();
        }
        if (outcome == Outcome::kRetryConflict) {
            if (++conflicts >= options_.max_attempts) return error;
            Backoff(conflicts, std::chrono::milliseconds(1), std::chrono::milliseconds(50));
            continue;
        }
        ++losses;
        // Lost connection: back off 50 ms, 100 ms, … 1 s (jittered) while inside the window.
        if (Clock::now() + std::chrono::milliseconds(50) >= give_up_at || losses >= 20) {
            std::string msg = error.message;
            if (!msg.starts_with("database unavailable")) msg = "database unavailable: " + msg;
            return Error::Unavailable(std::move(msg));
        }
        Backoff(losses, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
    }
}

Status PostgresDb::Ping() {
    const auto deadline = Clock::now() + options_.ping_timeout;
    auto conn = Acquire(deadline);
    if (!conn) return conn.error();
    Status st = (*conn)->PingUntil(deadline);
    Release(std::move(*conn));
    return st;
}

}  // namespace joopang::sql
