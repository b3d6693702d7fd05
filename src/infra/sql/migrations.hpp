#pragma once
#include <limits>
#include <string>
#include <vector>

#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Applies every migration newer than the database's recorded version, each in its own
/// transaction, recording it in `schema_migrations`. Safe when several instances start at once:
/// PostgreSQL serialises them with an advisory lock, SQLite with BEGIN IMMEDIATE.
/// Findings a migration reports (for the log) are appended to `notices`. `up_to_version` stops
/// early (tests of a migration start from the schema before it).
Status Migrate(Db& db,
               std::vector<std::string>* notices = nullptr,
               int up_to_version = std::numeric_limits<int>::max());

}  // namespace joopang::sql
