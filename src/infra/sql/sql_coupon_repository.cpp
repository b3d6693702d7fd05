#include "infra/sql/sql_coupon_repository.hpp"

#include <array>
#include <bit>
#include <map>

#include "infra/sql/coupon_rows.hpp"
#include "infra/sql/sql_util.hpp"

namespace joopang::sql {
namespace {

constexpr const char* kTemplateColumns =
    "id, title, type, value, total_quantity, per_user_limit, min_order_amount, "
    "max_discount_amount, start_at, end_at, valid_days, status, created_at, issued_count";

/// The most rows one SQLite INSERT of PersistBatch carries.
constexpr std::size_t kSqliteInsertChunk = 128;

/// The SQLite INSERT of `rows` coupons (a power of two up to kSqliteInsertChunk). A batch goes
/// in chunks of these eight sizes, so each text is prepared once per connection and then served
/// by its statement cache. A VALUES list of the batch's own size was a new text for almost every
/// batch of a live drop: parsing it cost SQLite more than the inserts (callgrind, all-winners
/// drop: sqlite3_prepare_v3 18 % of the process's instructions, sqlite3_step 29 %), and the
/// cache kept up to 256 such programs of up to 2,000 rows per connection (a 50,000-coupon drop
/// under wrk left the service at 45 MB resident, 25 MB with chunks). Chunks after the first of a
/// transaction make SQLite keep a statement journal, in memory (`temp_store=MEMORY`,
/// sqlite_db.cpp).
const std::string& SqliteInsertSql(std::size_t rows) {
    static const auto texts = [] {
        std::array<std::string, 8> t;
        for (std::size_t i = 0, n = 1; i < t.size(); ++i, n *= 2) {
            t[i] =
                "INSERT INTO coupons(template_id, user_id, seq, request_id, position, type, value, "
                "min_order_amount, max_discount_amount, issued_at, expires_at) VALUES ";
            for (std::size_t r = 0; r < n; ++r)
                t[i] +=
                    r ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            t[i] += " ON CONFLICT DO NOTHING RETURNING id, user_id, seq";
        }
        return t;
    }();
    static_assert(kSqliteInsertChunk == 1u << 7);
    return texts.at(static_cast<std::size_t>(std::countr_zero(rows)));
}

CouponTemplate ToTemplate(const Row& r) {
    CouponTemplate t;
    t.id = r.Int(0);
    t.title = r.Text(1);
    t.terms.type = ParseCouponType(r.Text(2)).value_or(CouponType::kAmount);
    t.terms.value = Money::FromCents(r.Int(3));
    t.total_quantity = r.Int(4);
    t.per_user_limit = r.Int(5);
    t.terms.min_order_amount = Money::FromCents(r.Int(6));
    if (auto m = r.OptInt(7)) t.terms.max_discount_amount = Money::FromCents(*m);
    t.start_at = r.OptInt(8);
    t.end_at = r.OptInt(9);
    t.valid_days = r.OptInt(10);
    t.status = ParseTemplateStatus(r.Text(11)).value_or(TemplateStatus::kEnded);
    t.created_at = r.Int(12);
    t.issued = r.Int(13);
    return t;
}

Result<CouponTemplate> LoadTemplate(Connection& c, std::int64_t id) {
    auto r = c.Exec(
        std::string("SELECT ") + kTemplateColumns + " FROM coupon_templates WHERE id = ?", {id});
    if (!r) return r.error();
    if (r->rows.empty())
        return Error{ErrorCode::kCouponTemplateNotFound,
                     "coupon template " + std::to_string(id) + " not found"};
    return ToTemplate(r->rows[0]);
}

Value OptMoney(const std::optional<Money>& m) {
    return m ? Value{m->cents()} : Value{std::monostate{}};
}

}  // namespace

Result<CouponTemplate> SqlCouponRepository::CreateTemplate(const CouponTemplate& t) {
    return db_.Transact<
        CouponTemplate>(TxMode::kWrite, [&](Connection& c) -> Result<CouponTemplate> {
        EpochMs now = NowMs();
        auto r = c.Exec(
            "INSERT INTO coupon_templates(title, type, value, total_quantity, per_user_limit, "
            "min_order_amount, max_discount_amount, start_at, end_at, valid_days, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            {t.title, std::string(ToString(t.terms.type)), t.terms.value.cents(), t.total_quantity,
             t.per_user_limit, t.terms.min_order_amount.cents(),
             OptMoney(t.terms.max_discount_amount), OptValue(t.start_at), OptValue(t.end_at),
             OptValue(t.valid_days), std::string(ToString(t.status)), now, now});
        if (!r) return r.error();
        CouponTemplate out = t;
        out.id = r->rows.at(0).Int(0);
        out.created_at = now;
        return out;
    });
}

Result<CouponTemplate> SqlCouponRepository::FindTemplate(std::int64_t id) {
    return db_.Transact<CouponTemplate>(
        TxMode::kNone,
        [&](Connection& c) -> Result<CouponTemplate> { return LoadTemplate(c, id); });
}

Result<CouponTemplate> SqlCouponRepository::SetTemplateStatus(std::int64_t id,
                                                              TemplateStatus status) {
    return db_.Transact<CouponTemplate>(
        TxMode::kWrite, [&](Connection& c) -> Result<CouponTemplate> {
            auto r = c.Exec("UPDATE coupon_templates SET status = ?, updated_at = ? WHERE id = ?",
                            {std::string(ToString(status)), NowMs(), id});
            if (!r) return r.error();
            return LoadTemplate(c, id);
        });
}

Result<std::vector<CouponTemplate>> SqlCouponRepository::ListLiveTemplates() {
    using Out = std::vector<CouponTemplate>;
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        auto r = c.Exec(std::string("SELECT ") + kTemplateColumns +
                        " FROM coupon_templates WHERE status <> 'ENDED' ORDER BY id");
        if (!r) return r.error();
        Out out;
        for (const auto& row : r->rows) out.push_back(ToTemplate(row));
        return out;
    });
}

Result<std::int64_t> SqlCouponRepository::CountIssued(std::int64_t template_id) {
    return db_.Transact<std::int64_t>(TxMode::kNone, [&](Connection& c) -> Result<std::int64_t> {
        auto r = c.Exec("SELECT issued_count FROM coupon_templates WHERE id = ?", {template_id});
        if (!r) return r.error();
        if (r->rows.empty())
            return Error{ErrorCode::kCouponTemplateNotFound,
                         "coupon template " + std::to_string(template_id) + " not found"};
        return r->rows[0].Int(0);
    });
}

Result<CouponRepository::RowCount> SqlCouponRepository::CountRows(std::int64_t template_id) {
    // One statement, so one snapshot on both databases: the counter moves in the transaction that
    // inserts the rows, and a drain in progress cannot fall between the two reads.
    return db_.Transact<RowCount>(TxMode::kNone, [&](Connection& c) -> Result<RowCount> {
        auto r = c.Exec(
            "SELECT (SELECT COUNT(*) FROM coupons WHERE template_id = ?), "
            "(SELECT issued_count FROM coupon_templates WHERE id = ?)",
            {template_id, template_id});
        if (!r) return r.error();
        const Row& row = r->rows.at(0);
        if (!row.OptInt(1))
            return Error{ErrorCode::kCouponTemplateNotFound,
                         "coupon template " + std::to_string(template_id) + " not found"};
        return RowCount{.rows = row.Int(0), .counter = row.Int(1)};
    });
}

Result<std::vector<std::pair<std::int64_t, std::int64_t>>> SqlCouponRepository::CountByUser(
    std::int64_t template_id) {
    using Out = std::vector<std::pair<std::int64_t, std::int64_t>>;
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        auto r =
            c.Exec("SELECT user_id, COUNT(*) FROM coupons WHERE template_id = ? GROUP BY user_id",
                   {template_id});
        if (!r) return r.error();
        Out out;
        for (const auto& row : r->rows) out.emplace_back(row.Int(0), row.Int(1));
        return out;
    });
}

Result<std::vector<PersistedCoupon>> SqlCouponRepository::PersistBatch(
    const CouponTemplate& t, const std::vector<IssuedCoupon>& coupons) {
    using Out = std::vector<PersistedCoupon>;
    if (coupons.empty()) return Out{};
    return db_.Transact<Out>(TxMode::kWrite, [&](Connection& c) -> Result<Out> {
        // Rows that exist (replayed or redelivered entries) are skipped by the unique key
        // (template_id, user_id, seq); RETURNING names the rows inserted.
        std::vector<Row> inserted_rows;
        if (c.dialect() == Dialect::kPostgres) {
            // PostgreSQL gets the rows as arrays through unnest: one small statement, parsed and
            // planned once, whatever the batch size.
            std::string sql;
            std::vector<Value> params;
            std::string users = "{", seqs = "{", requests = "{", positions = "{", issued = "{",
                        expires = "{";
            for (std::size_t i = 0; i < coupons.size(); ++i) {
                const auto& k = coupons[i];
                const char* sep = i ? "," : "";
                users += sep + std::to_string(k.user_id);
                seqs += sep + std::to_string(k.seq);
                requests += sep + std::to_string(k.request_id);
                positions += sep + std::to_string(k.position);
                issued += sep + std::to_string(k.issued_at);
                expires += sep + std::to_string(t.ExpiryFor(k.issued_at));
            }
            sql =
                "INSERT INTO coupons(template_id, user_id, seq, request_id, position, type, value, "
                "min_order_amount, max_discount_amount, issued_at, expires_at) "
                "SELECT ?::bigint, u, s, r, p, ?::text, ?::bigint, ?::bigint, ?::bigint, i, e "
                "FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], "
                "?::bigint[]) AS x(u, s, r, p, i, e)";
            params = {t.id,
                      std::string(ToString(t.terms.type)),
                      t.terms.value.cents(),
                      t.terms.min_order_amount.cents(),
                      OptMoney(t.terms.max_discount_amount),
                      users + "}",
                      seqs + "}",
                      requests + "}",
                      positions + "}",
                      issued + "}",
                      expires + "}"};
            sql += " ON CONFLICT DO NOTHING RETURNING id, user_id, seq";
            auto inserted = c.Exec(sql, params);
            if (!inserted) return inserted.error();
            inserted_rows = std::move(inserted->rows);
        } else {
            // SQLite: multi-row VALUES lists in chunks of 128, 64, … 1 rows (see SqliteInsertSql).
            std::vector<Value> params;
            for (std::size_t at = 0; at < coupons.size();) {
                std::size_t n = kSqliteInsertChunk;
                while (n > coupons.size() - at) n /= 2;
                params.clear();
                params.reserve(n * 11);
                for (std::size_t i = at; i < at + n; ++i) {
                    const auto& k = coupons[i];
                    params.emplace_back(t.id);
                    params.emplace_back(k.user_id);
                    params.emplace_back(k.seq);
                    params.emplace_back(k.request_id);
                    params.emplace_back(k.position);
                    params.emplace_back(std::string(ToString(t.terms.type)));
                    params.emplace_back(t.terms.value.cents());
                    params.emplace_back(t.terms.min_order_amount.cents());
                    params.push_back(OptMoney(t.terms.max_discount_amount));
                    params.emplace_back(k.issued_at);
                    params.emplace_back(t.ExpiryFor(k.issued_at));
                }
                auto inserted = c.Exec(SqliteInsertSql(n), params);
                if (!inserted) return inserted.error();
                for (auto& row : inserted->rows) inserted_rows.push_back(std::move(row));
                at += n;
            }
        }
        std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> ids;
        for (const auto& row : inserted_rows) ids[{row.Int(1), row.Int(2)}] = row.Int(0);
        if (!inserted_rows.empty()) {
            auto counted =
                c.Exec("UPDATE coupon_templates SET issued_count = issued_count + ? WHERE id = ?",
                       {static_cast<std::int64_t>(inserted_rows.size()), t.id});
            if (!counted) return counted.error();
        }
        if (ids.size() < coupons.size()) {
            // Some rows existed already (a redelivered or replayed entry): find their ids by
            // (user, seq), the key a winner owns.
            std::vector<Value> keys{t.id};
            for (const auto& k : coupons)
                if (!ids.count({k.user_id, k.seq})) keys.emplace_back(k.user_id);
            auto r = c.Exec(
                "SELECT id, user_id, seq FROM coupons WHERE template_id = ? AND "
                "user_id IN (" +
                    Placeholders(keys.size() - 1) + ")",
                keys);
            if (!r) return r.error();
            for (const auto& row : r->rows) ids[{row.Int(1), row.Int(2)}] = row.Int(0);
        }
        Out out;
        out.reserve(coupons.size());
        for (const auto& k : coupons) {
            auto it = ids.find({k.user_id, k.seq});
            if (it == ids.end())
                return Error::Internal("coupon row missing after insert for user " +
                                       std::to_string(k.user_id));
            out.push_back({k.request_id, it->second});
        }
        return out;
    });
}

Result<std::optional<IssuedRequest>> SqlCouponRepository::FindByRequest(std::int64_t template_id,
                                                                        std::int64_t request_id) {
    using Out = std::optional<IssuedRequest>;
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        auto r = c.Exec(
            "SELECT id, user_id, position FROM coupons WHERE template_id = ? AND request_id = ?",
            {template_id, request_id});
        if (!r) return r.error();
        if (r->rows.empty()) return Out{};
        const Row& row = r->rows.front();
        return Out{IssuedRequest{
            .coupon_id = row.Int(0), .user_id = row.Int(1), .position = row.OptInt(2).value_or(0)}};
    });
}

Result<std::vector<std::pair<Coupon, std::string>>> SqlCouponRepository::ListByUser(
    std::int64_t user_id) {
    using Out = std::vector<std::pair<Coupon, std::string>>;
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        auto r = c.Exec(std::string("SELECT ") + kCouponColumnsOfC +
                            ", t.title FROM coupons c JOIN coupon_templates t ON t.id = "
                            "c.template_id WHERE c.user_id = ? ORDER BY c.id DESC LIMIT 1000",
                        {user_id});
        if (!r) return r.error();
        Out out;
        for (const auto& row : r->rows) {
            Coupon cp = CouponFromRow(row);
            out.emplace_back(std::move(cp), row.Text(12));
        }
        return out;
    });
}

}  // namespace joopang::sql
