"""test_auth.py on PostgreSQL: one service, and two instances sharing PostgreSQL and Redis.
Skipped unless JOOPANG_TEST_PG_URL is set (the CTest postgres fixture)."""

import unittest

import test_auth


class AuthTestsPg(test_auth.AuthTests):
    BACKEND = "postgres"


class TwoInstanceAuthTestsPg(test_auth.TwoInstanceAuthTests):
    BACKEND = "postgres"


if __name__ == "__main__":
    unittest.main()
