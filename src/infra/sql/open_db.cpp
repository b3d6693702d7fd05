#include <string_view>

#include "infra/sql/db.hpp"
#include "infra/sql/postgres_db.hpp"
#include "infra/sql/sqlite_db.hpp"

namespace joopang::sql {

Result<std::unique_ptr<Db>> OpenDb(const std::string& url, int pool_size) {
    std::string_view u = url;
    if (u.starts_with("postgresql://") || u.starts_with("postgres://")) {
        // libpq parses the URI itself (user, password, host, port, dbname, ?options).
        return std::unique_ptr<Db>(std::make_unique<PostgresDb>(url, pool_size));
    }
    // "sqlite:///abs/path.db" → "/abs/path.db"; "sqlite://rel.db" → "rel.db"; else a plain path.
    constexpr std::string_view kSqliteScheme = "sqlite://";
    std::string path(u.starts_with(kSqliteScheme) ? u.substr(kSqliteScheme.size()) : u);
    auto db = SqliteDb::Open(path, pool_size);
    if (!db) return db.error();
    return std::unique_ptr<Db>(std::move(*db));
}

}  // namespace joopang::sql
