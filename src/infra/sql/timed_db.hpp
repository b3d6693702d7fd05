#pragma once
/// A Db that times every transaction of the Db it wraps (SPEC §7, database call latency):
/// `joopang_db_transaction_duration_seconds{mode}` — from asking for a pooled connection to the
/// commit or rollback, retries included, as a caller waits for it.

#include <memory>

#include "infra/sql/db.hpp"

namespace joopang::sql {

std::unique_ptr<Db> Timed(std::unique_ptr<Db> db);

}  // namespace joopang::sql
