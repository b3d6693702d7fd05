#pragma once
#include <cstdint>

namespace joopang {

/// Time one request spent waiting on Redis and on the database, for the Server-Timing header.
/// Touched only by the request's own coroutine (one strand), so plain integers suffice.
struct RequestTiming {
    std::int64_t db_ns = 0;
    std::int64_t redis_ns = 0;
};

}  // namespace joopang
