#include "infra/sql/sql_outbox_repository.hpp"

namespace joopang::sql {

Result<std::vector<OutboxEvent>> SqlOutboxRepository::FetchUnsent(int limit) {
    using Out = std::vector<OutboxEvent>;
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        // The partial index outbox_unsent serves this in id order.
        auto r = c.Exec(
            "SELECT id, topic, aggregate_id, payload, created_at FROM outbox "
            "WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            {std::int64_t{limit}});
        if (!r) return r.error();
        Out out;
        out.reserve(r->rows.size());
        for (const auto& row : r->rows)
            out.push_back({row.Int(0), row.Text(1), row.Int(2), row.Text(3), row.Int(4)});
        return out;
    });
}

Status SqlOutboxRepository::MarkSent(const std::vector<std::int64_t>& ids, EpochMs now) {
    if (ids.empty()) return {};
    return db_.Run(TxMode::kWrite, [&](Connection& c) -> Status {
        // Ids are consecutive runs in practice; a range per run keeps the statement small.
        std::size_t i = 0;
        while (i < ids.size()) {
            std::size_t j = i;
            while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
            auto r =
                c.Exec("UPDATE outbox SET sent_at = ? WHERE id BETWEEN ? AND ? AND sent_at IS NULL",
                       {now, ids[i], ids[j]});
            if (!r) return r.error();
            i = j + 1;
        }
        return {};
    });
}

}  // namespace joopang::sql
