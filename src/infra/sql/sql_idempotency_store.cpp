#include "infra/sql/sql_idempotency_store.hpp"

namespace joopang::sql {

Result<IdempotencyStore::Claim> SqlIdempotencyStore::Begin(const std::string& scope,
                                                           const std::string& key,
                                                           const std::string& fingerprint,
                                                           EpochMs now,
                                                           EpochMs ttl_ms) {
    return db_.Transact<Claim>(TxMode::kWrite, [&](Connection& c) -> Result<Claim> {
        // Forget an expired record of this key, or a claim left in flight by a process that died
        // (older than kStaleClaimMs), so that it can be claimed afresh.
        constexpr EpochMs kStaleClaimMs = 2 * 60 * 1000;
        auto purge = c.Exec(
            "DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND (created_at < ? OR "
            "(status = 0 AND created_at < ?))",
            {scope, key, now - ttl_ms, now - kStaleClaimMs});
        if (!purge) return purge.error();
        auto ins = c.Exec(
            "INSERT INTO idempotency_keys(scope, idem_key, fingerprint, status, created_at) "
            "VALUES (?, ?, ?, 0, ?) ON CONFLICT DO NOTHING RETURNING status",
            {scope, key, fingerprint, now});
        if (!ins) return ins.error();
        if (!ins->rows.empty()) return Claim{ClaimOutcome::kClaimed, {}};
        auto r = c.Exec(
            "SELECT fingerprint, status, body FROM idempotency_keys WHERE scope = ? AND "
            "idem_key = ?",
            {scope, key});
        if (!r) return r.error();
        if (r->rows.empty()) return Claim{ClaimOutcome::kInFlight, {}};  // raced with a purge
        const Row& row = r->rows[0];
        if (row.Text(0) != fingerprint) return Claim{ClaimOutcome::kMismatch, {}};
        if (row.Int(1) == 0) return Claim{ClaimOutcome::kInFlight, {}};
        return Claim{ClaimOutcome::kReplay,
                     StoredResponse{static_cast<int>(row.Int(1)), row.Text(2)}};
    });
}

Status SqlIdempotencyStore::Complete(const std::string& scope,
                                     const std::string& key,
                                     const StoredResponse& response) {
    return db_.Run(TxMode::kWrite, [&](Connection& c) -> Status {
        auto r = c.Exec(
            "UPDATE idempotency_keys SET status = ?, body = ? WHERE scope = ? AND idem_key = ?",
            {std::int64_t{response.status}, response.body, scope, key});
        if (!r) return r.error();
        return {};
    });
}

Status SqlIdempotencyStore::Abandon(const std::string& scope, const std::string& key) {
    return db_.Run(TxMode::kWrite, [&](Connection& c) -> Status {
        auto r =
            c.Exec("DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND status = 0",
                   {scope, key});
        if (!r) return r.error();
        return {};
    });
}

}  // namespace joopang::sql
