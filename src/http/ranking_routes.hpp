#pragma once
#include "app/ranking_reader.hpp"
#include "http/router.hpp"

namespace joopang::http {

/// Registers SPEC §5's reads: `GET /api/v1/rankings/products` and `GET /api/v1/products/top`.
void RegisterRankingRoutes(Router& router, RankingReader& rankings);

}  // namespace joopang::http
