"""SPEC §3 on PostgreSQL: the same tests as test_shop.py, with `--database postgresql://…` on a
fresh database per class. Skipped unless JOOPANG_TEST_PG_URL is set (the CTest postgres fixture)."""

import unittest

import test_shop


class UserTestsPg(test_shop.UserTests):
    BACKEND = "postgres"


class CategoryTestsPg(test_shop.CategoryTests):
    BACKEND = "postgres"


class ProductTestsPg(test_shop.ProductTests):
    BACKEND = "postgres"


class ProductListTestsPg(test_shop.ProductListTests):
    BACKEND = "postgres"


class OrderTestsPg(test_shop.OrderTests):
    BACKEND = "postgres"


class PaymentTestsPg(test_shop.PaymentTests):
    BACKEND = "postgres"


class IdempotencyTestsPg(test_shop.IdempotencyTests):
    BACKEND = "postgres"


class OrderExpiryTestsPg(test_shop.OrderExpiryTests):
    BACKEND = "postgres"


if __name__ == "__main__":
    unittest.main()
