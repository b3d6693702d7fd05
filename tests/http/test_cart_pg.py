"""SPEC §3 cart on PostgreSQL: the same tests as test_cart.py, with `--database postgresql://…` on
a fresh database per class. Skipped unless JOOPANG_TEST_PG_URL is set (the CTest postgres
fixture)."""

import unittest

import test_cart


class CartLineTestsPg(test_cart.CartLineTests):
    BACKEND = "postgres"


class CheckoutTestsPg(test_cart.CheckoutTests):
    BACKEND = "postgres"


if __name__ == "__main__":
    unittest.main()
