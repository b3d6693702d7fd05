#include "infra/sql/sql_ranking_history.hpp"

#include <map>

namespace joopang::sql {

Result<std::vector<BucketTally>> SqlRankingHistory::Buckets(const RankingWindow& window,
                                                            EpochMs from,
                                                            std::int64_t category_id) {
    using Out = std::vector<BucketTally>;
    // The bucket width comes from the fixed window table, never from input.
    const std::string width = std::to_string(window.bucket_ms);
    const std::string in_category =
        category_id == 0 ? "" : " AND p.category_id = " + std::to_string(category_id);
    const std::string join = category_id == 0 ? "" : " JOIN products p ON p.id = x.product_id";
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        if (category_id != 0) {
            // An unknown category has nothing to rank: a primary-key lookup rather than a scan of
            // the window's orders (its ranking is never published, so every read comes here).
            auto known = c.Exec("SELECT 1 FROM categories WHERE id = ?", {category_id});
            if (!known) return known.error();
            if (known->rows.empty()) return Out{};
        }
        // orders_paid serves the range; canceled orders are no longer PAID.
        auto sales = c.Exec("SELECT x.product_id, o.paid_at / " + width +
                                ", SUM(x.quantity), SUM(x.subtotal) FROM orders o "
                                "JOIN order_items x ON x.order_id = o.id" +
                                join + " WHERE o.status = 'PAID' AND o.paid_at >= ?" + in_category +
                                " GROUP BY x.product_id, o.paid_at / " + width,
                            {from});
        if (!sales) return sales.error();
        auto views =
            c.Exec("SELECT x.product_id, x.minute / " + width +
                       ", SUM(x.views) FROM product_views x" + join + " WHERE x.minute >= ?" +
                       in_category + " GROUP BY x.product_id, x.minute / " + width,
                   {from});
        if (!views) return views.error();
        std::map<std::pair<std::int64_t, std::int64_t>, BucketTally> merged;
        for (const auto& row : sales->rows) {
            auto& t = merged[{row.Int(0), row.Int(1)}];
            t.product_id = row.Int(0);
            t.bucket = row.Int(1);
            t.sales = row.Int(2);
            t.revenue_cents = row.Int(3);
        }
        for (const auto& row : views->rows) {
            auto& t = merged[{row.Int(0), row.Int(1)}];
            t.product_id = row.Int(0);
            t.bucket = row.Int(1);
            t.views = row.Int(2);
        }
        Out out;
        out.reserve(merged.size());
        for (auto& [key, t] : merged) out.push_back(t);
        return out;
    });
}

Result<std::vector<std::pair<std::int64_t, std::string>>> SqlRankingHistory::Names(
    const std::vector<std::int64_t>& ids) {
    using Out = std::vector<std::pair<std::int64_t, std::string>>;
    if (ids.empty()) return Out{};
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        std::string sql = "SELECT id, name FROM products WHERE id IN (";
        std::vector<Value> params;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            sql += i ? ",?" : "?";
            params.emplace_back(ids[i]);
        }
        sql += ")";
        auto r = c.Exec(sql, params);
        if (!r) return r.error();
        Out out;
        for (const auto& row : r->rows) out.emplace_back(row.Int(0), row.Text(1));
        return out;
    });
}

Result<std::vector<ProductTally>> SqlRankingHistory::TopSellers(EpochMs since, std::size_t limit) {
    using Out = std::vector<ProductTally>;
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        auto r = c.Exec(
            "SELECT x.product_id, p.name, SUM(x.quantity) AS sold, SUM(x.subtotal) FROM orders o "
            "JOIN order_items x ON x.order_id = o.id JOIN products p ON p.id = x.product_id "
            "WHERE o.status = 'PAID' AND o.paid_at >= ? GROUP BY x.product_id, p.name "
            "ORDER BY sold DESC, x.product_id LIMIT ?",
            {since, static_cast<std::int64_t>(limit)});
        if (!r) return r.error();
        Out out;
        for (const auto& row : r->rows) {
            ProductTally t;
            t.product_id = row.Int(0);
            t.name = row.Text(1);
            t.sales = row.Int(2);
            t.revenue_cents = row.Int(3);
            out.push_back(std::move(t));
        }
        return out;
    });
}

}  // namespace joopang::sql
