#include "infra/sql/migrations.hpp"

#include <string>
#include <vector>

namespace joopang::sql {
namespace {

/// One schema step. `{{PK}}` is the dialect's auto-increment primary key; `lower(x{{C}})` folds
/// ASCII letters only, on both dialects (domain/user.hpp NormalizeEmail). `report`, if
/// set, is a query run after the statements whose rows (text, count) become notices.
struct Migration {
    int version;
    const char* name;
    std::vector<const char*> statements;
    const char* report = nullptr;
    const char* report_text = nullptr;
};

const std::vector<Migration>& AllMigrations() {
    static const std::vector<Migration> kMigrations = {
        {1,
         "shop",
         {
             R"(CREATE TABLE users (
                  id {{PK}},
                  email TEXT NOT NULL UNIQUE,
                  password_hash TEXT NOT NULL,
                  first_name TEXT NOT NULL DEFAULT '',
                  last_name TEXT NOT NULL DEFAULT '',
                  balance BIGINT NOT NULL CHECK (balance >= 0),
                  created_at BIGINT NOT NULL))",
             R"(CREATE TABLE categories (
                  id {{PK}},
                  name TEXT NOT NULL,
                  parent_id BIGINT REFERENCES categories(id)))",
             R"(CREATE TABLE products (
                  id {{PK}},
                  name TEXT NOT NULL,
                  code TEXT NOT NULL UNIQUE,
                  description TEXT NOT NULL DEFAULT '',
                  price BIGINT NOT NULL,
                  discount_rate_bp BIGINT NOT NULL DEFAULT 0,
                  category_id BIGINT REFERENCES categories(id),
                  version BIGINT NOT NULL DEFAULT 0,
                  view_count BIGINT NOT NULL DEFAULT 0,
                  sales_count BIGINT NOT NULL DEFAULT 0,
                  created_at BIGINT NOT NULL))",
             "CREATE INDEX products_category ON products(category_id, id)",
             "CREATE INDEX products_sales ON products(sales_count, id)",
             "CREATE INDEX products_price ON products(price, id)",
             R"(CREATE TABLE product_items (
                  id {{PK}},
                  product_id BIGINT NOT NULL REFERENCES products(id),
                  name TEXT NOT NULL,
                  code TEXT NOT NULL,
                  unit_price BIGINT NOT NULL,
                  stock BIGINT NOT NULL CHECK (stock >= 0),
                  active INTEGER NOT NULL DEFAULT 1,
                  UNIQUE (product_id, code)))",
             R"(CREATE TABLE coupon_templates (
                  id {{PK}},
                  title TEXT NOT NULL,
                  type TEXT NOT NULL,
                  value BIGINT NOT NULL,
                  total_quantity BIGINT NOT NULL,
                  per_user_limit BIGINT NOT NULL DEFAULT 1,
                  min_order_amount BIGINT NOT NULL DEFAULT 0,
                  max_discount_amount BIGINT,
                  start_at BIGINT,
                  end_at BIGINT,
                  valid_days BIGINT,
                  status TEXT NOT NULL,
                  issued_count BIGINT NOT NULL DEFAULT 0,
                  created_at BIGINT NOT NULL,
                  updated_at BIGINT NOT NULL))",
             // No foreign key on template_id: coupons are inserted only by the persister, for
             // templates it has just loaded, and a per-row RI check is a large part of the insert
             // cost on PostgreSQL during a drop. (template_id, user_id, seq) is the idempotency
             // key: a redelivered or replayed entry always carries the same user and seq, so the
             // request id needs no second unique index.
             R"(CREATE TABLE coupons (
                  id {{PK}},
                  template_id BIGINT NOT NULL,
                  user_id BIGINT NOT NULL,
                  seq BIGINT NOT NULL DEFAULT 1,
                  request_id BIGINT NOT NULL,
                  position BIGINT,
                  type TEXT NOT NULL,
                  value BIGINT NOT NULL,
                  min_order_amount BIGINT NOT NULL DEFAULT 0,
                  max_discount_amount BIGINT,
                  used INTEGER NOT NULL DEFAULT 0,
                  issued_at BIGINT NOT NULL,
                  expires_at BIGINT NOT NULL,
                  used_at BIGINT,
                  order_id BIGINT,
                  UNIQUE (template_id, user_id, seq)))",
             "CREATE INDEX coupons_user ON coupons(user_id, id)",
             R"(CREATE TABLE orders (
                  id {{PK}},
                  user_id BIGINT NOT NULL REFERENCES users(id),
                  recipient_name TEXT NOT NULL,
                  memo TEXT NOT NULL DEFAULT '',
                  status TEXT NOT NULL,
                  total_amount BIGINT NOT NULL,
                  discount_amount BIGINT NOT NULL,
                  payable_amount BIGINT NOT NULL,
                  coupon_id BIGINT,
                  ordered_at BIGINT NOT NULL,
                  expires_at BIGINT NOT NULL,
                  paid_at BIGINT,
                  canceled_at BIGINT))",
             "CREATE INDEX orders_user ON orders(user_id, id)",
             "CREATE INDEX orders_status_expiry ON orders(status, expires_at)",
             R"(CREATE TABLE order_items (
                  id {{PK}},
                  order_id BIGINT NOT NULL REFERENCES orders(id),
                  product_item_id BIGINT NOT NULL,
                  product_id BIGINT NOT NULL,
                  product_name TEXT NOT NULL,
                  quantity BIGINT NOT NULL,
                  unit_price BIGINT NOT NULL,
                  subtotal BIGINT NOT NULL))",
             "CREATE INDEX order_items_order ON order_items(order_id)",
             R"(CREATE TABLE outbox (
                  id {{PK}},
                  topic TEXT NOT NULL,
                  aggregate_id BIGINT NOT NULL,
                  payload TEXT NOT NULL,
                  created_at BIGINT NOT NULL,
                  sent_at BIGINT))",
             "CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_at IS NULL",
             R"(CREATE TABLE idempotency_keys (
                  scope TEXT NOT NULL,
                  idem_key TEXT NOT NULL,
                  fingerprint TEXT NOT NULL,
                  status INTEGER NOT NULL DEFAULT 0,
                  body TEXT,
                  created_at BIGINT NOT NULL,
                  PRIMARY KEY (scope, idem_key)))",
         }},
        {2,
         "emails unique whatever their case",
         {
             // Folds every email whose folded form no other account has; accounts that differ
             // only by case are left as they are and reported (an operator merges or renames).
             R"(UPDATE users SET email = lower(email{{C}})
                WHERE email <> lower(email{{C}}) AND NOT EXISTS (
                  SELECT 1 FROM users other WHERE other.id <> users.id
                    AND lower(other.email{{C}}) = lower(users.email{{C}})))",
         },
         "SELECT lower(email{{C}}), COUNT(*) FROM users GROUP BY lower(email{{C}}) "
         "HAVING COUNT(*) > 1",
         "accounts whose emails differ only by case were left unchanged (sign-in finds the one "
         "stored in lower case, if any): "},
        {3,
         "rankings from the database: views per minute, paid orders by time",
         {
             // Product views per product and minute (the rankings' fallback counts views from
             // here; rows older than the longest window are deleted by the view flush).
             R"(CREATE TABLE product_views (
                  product_id BIGINT NOT NULL,
                  minute BIGINT NOT NULL,
                  views BIGINT NOT NULL,
                  PRIMARY KEY (product_id, minute)))",
             "CREATE INDEX product_views_minute ON product_views(minute)",
             "CREATE INDEX orders_paid ON orders(status, paid_at)",
         }},
        {4,
         "carts",
         {
             R"(CREATE TABLE cart_items (
                  user_id BIGINT NOT NULL REFERENCES users(id),
                  product_item_id BIGINT NOT NULL REFERENCES product_items(id),
                  quantity BIGINT NOT NULL CHECK (quantity > 0),
                  added_at BIGINT NOT NULL,
                  PRIMARY KEY (user_id, product_item_id)))",
         }},
        {5,
         "coupons found by their issue request id",
         {
             // The status of a persisted issue request is read from here: Redis keeps only the
             // requests still on their way (docs/architecture.md, "Issue request states").
             "CREATE INDEX coupons_request ON coupons(template_id, request_id)",
         }},
    };
    return kMigrations;
}

void ReplaceAll(std::string& sql, const std::string& token, const std::string& with) {
    for (auto pos = sql.find(token); pos != std::string::npos; pos = sql.find(token, pos))
        sql.replace(pos, token.size(), with);
}

std::string ForDialect(std::string sql, Dialect d) {
    const bool sqlite = d == Dialect::kSqlite;
    ReplaceAll(sql, "{{PK}}",
               sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                      : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    // SQLite's lower() folds ASCII only; PostgreSQL's does the same under the "C" collation.
    ReplaceAll(sql, "{{C}}", sqlite ? "" : " COLLATE \"C\"");
    return sql;
}

/// On PostgreSQL, serialises concurrent start-ups (instances migrating the same database at
/// once); released at commit. SQLite's write transactions are serial already.
Status LockMigrations(Connection& c) {
    if (c.dialect() != Dialect::kPostgres) return {};
    if (auto r = c.Exec("SELECT pg_advisory_xact_lock(7413001)"); !r) return r.error();
    return {};
}

}  // namespace

Status Migrate(Db& db, std::vector<std::string>* notices, int up_to_version) {
    // Under the lock too: two PostgreSQL sessions creating the same table at once can both pass
    // IF NOT EXISTS, and one then fails on the catalog's unique index.
    Status st = db.Run(TxMode::kWrite, [](Connection& c) -> Status {
        if (auto locked = LockMigrations(c); !locked) return locked;
        auto r = c.Exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        if (!r) return r.error();
        return {};
    });
    if (!st) return st;
    for (const auto& m : AllMigrations()) {
        if (m.version > up_to_version) break;
        st = db.Run(TxMode::kWrite, [&](Connection& c) -> Status {
            if (auto locked = LockMigrations(c); !locked) return locked;
            auto seen = c.Exec("SELECT 1 FROM schema_migrations WHERE version = ?",
                               {std::int64_t{m.version}});
            if (!seen) return seen.error();
            if (!seen->rows.empty()) return {};
            for (const char* stmt : m.statements) {
                if (auto r = c.Exec(ForDialect(stmt, c.dialect())); !r) return r.error();
            }
            if (m.report) {
                auto rows = c.Exec(ForDialect(m.report, c.dialect()));
                if (!rows) return rows.error();
                for (const auto& row : rows->rows) {
                    if (notices)
                        notices->push_back(m.report_text + row.Text(0) + " (" +
                                           std::to_string(row.Int(1)) + " accounts)");
                }
            }
            auto r = c.Exec(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, "
                "CAST(? AS BIGINT))",
                {std::int64_t{m.version}, std::string(m.name), std::int64_t{0}});
            if (!r) return r.error();
            return {};
        });
        if (!st) return st;
    }
    return {};
}

}  // namespace joopang::sql
