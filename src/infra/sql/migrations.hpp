#pragma once
#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Applies every migration newer than the database's recorded version, each in its own
/// transaction, recording it in `schema_migrations`. Safe when several instances start at once:
/// PostgreSQL serialises them with an advisory lock, SQLite with BEGIN IMMEDIATE.
Status Migrate(Db& db);

}  // namespace joopang::sql
