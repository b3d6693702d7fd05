"""The concurrency cases of test_concurrency.py on PostgreSQL: one joopang process, and two joopang
processes sharing one PostgreSQL database and one Redis (requests alternate between them).
Skipped unless JOOPANG_TEST_PG_URL is set (the CTest postgres fixture)."""

import unittest

import test_concurrency
from harness import (Client, ExternalRedis, Service, ServiceTestCase, create_pg_database,
                     drop_pg_database, uniq)


class ConcurrencyPgTests(test_concurrency.ConcurrencyCases, ServiceTestCase):
    BACKEND = "postgres"


class TwoInstancesPgTests(test_concurrency.ConcurrencyCases, ServiceTestCase):
    """Two `joopang serve` processes, one PostgreSQL database, one Redis."""

    BACKEND = "postgres"

    @classmethod
    def setUpClass(cls):
        cls.pg_db_name, database = create_pg_database()
        cls.redis = None
        cls.svc = cls.svc2 = None
        try:
            cls.redis = ExternalRedis().start()
            cls.svc = Service(database=database, redis=cls.redis.url, name="instance-a").start()
            cls.svc2 = Service(database=database, redis=cls.redis.url, name="instance-b").start()
        except BaseException:
            for s in (cls.svc, cls.svc2):
                if s is not None:
                    s.cleanup()
            if cls.redis is not None:
                cls.redis.stop()
            drop_pg_database(cls.pg_db_name)
            raise
        cls.api = cls.svc.client()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.api.close()
            codes = [cls.svc.stop(), cls.svc2.stop()]
            if codes != [0, 0]:
                raise AssertionError("exit codes on SIGTERM %r (expected 0, 0)\n%s\n%s"
                                     % (codes, cls.svc.log_tail(), cls.svc2.log_tail()))
        finally:
            cls.svc.cleanup()
            cls.svc2.cleanup()
            cls.redis.stop()
            drop_pg_database(cls.pg_db_name)

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else 0
        out = unittest.TestCase.run(self, result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            print("\n" + self.svc.log_tail(4000) + "\n" + self.svc2.log_tail(4000))
        return out

    def ports(self):
        return [self.svc.port, self.svc2.port]

    def test_work_started_on_one_instance_finishes_on_the_other(self):
        b = Client(self.svc2.port)
        try:
            p = self.create_product(items=(("40.00", 10),))
            u = self.create_user(balance="100.00", client=b)
            o = self.create_order(u["id"], [(p["items"][0]["id"], 2)])
            r = self.pay(o["orderId"], u["id"], client=b)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(self.balance(u["id"]), self.balance(u["id"], client=b))
            self.assert_error(self.pay(o["orderId"], u["id"]), 409, "ORDER_NOT_PAYABLE")
            # an idempotent request replayed on the other instance is still the same request
            key = {"Idempotency-Key": uniq("k")}
            r1 = self.order(u["id"], [(p["items"][0]["id"], 1)], headers=key)
            r2 = self.order(u["id"], [(p["items"][0]["id"], 1)], headers=key, client=b)
            self.assertEqual(r1.status, 201, r1)
            self.assertEqual((r2.status, r2.json), (r1.status, r1.json))
            self.assertEqual(self.item_stock(p["id"], p["items"][0]["id"], client=b), 7)
        finally:
            b.close()


if __name__ == "__main__":
    unittest.main()
