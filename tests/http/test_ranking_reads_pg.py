"""test_ranking_reads.py and the exactness of test_ranking_chaos.py on PostgreSQL: the published
rankings and the database fallback agree on the same data. Skipped unless JOOPANG_TEST_PG_URL is
set (the CTest postgres fixture)."""

import unittest

import test_ranking_chaos
import test_ranking_reads


class RankingReadsPg(test_ranking_reads.EmbeddedRankingReads):
    BACKEND = "postgres"


class TwoInstanceExactnessPg(test_ranking_chaos.ExactnessTests):
    BACKEND = "postgres"


if __name__ == "__main__":
    unittest.main()
