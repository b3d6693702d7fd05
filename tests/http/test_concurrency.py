"""Concurrency against the real server (SQLite here; test_concurrency_pg.py runs the same cases on
PostgreSQL, with one and with two joopang processes). Every request comes from its own thread and its
own connection, released together by a barrier."""

import decimal
import unittest

from harness import Client, ServiceTestCase, money, run_concurrently, uniq

D = decimal.Decimal


class ConcurrencyCases:
    """Mixed into a ServiceTestCase; self.ports() lists the ports of the instances to spread over."""

    def ports(self):
        return [self.svc.port]

    def connect(self, i):
        ports = self.ports()
        return Client(ports[i % len(ports)], timeout=60.0, retry_stale=False).connect()

    def errors_in(self, results):
        return [r for r in results if isinstance(r, BaseException)]

    def codes(self, results):
        out = {}
        for r in results:
            key = (r.status, (r.json or {}).get("code") if r.status >= 400 else None)
            out[key] = out.get(key, 0) + 1
        return out

    def test_200_simultaneous_orders_for_50_in_stock(self):
        p = self.create_product(items=(("10.00", 50),))
        iid = p["items"][0]["id"]
        users = [self.create_user(balance="0.00")["id"] for _ in range(20)]

        def order(i, c):
            return self.order(users[i % len(users)], [(iid, 1)], client=c)
        rs = run_concurrently(200, order, setup=self.connect)
        self.assertEqual(self.errors_in(rs), [])
        codes = self.codes(rs)
        self.assertEqual(codes, {(201, None): 50, (409, "OUT_OF_STOCK"): 150}, codes)
        ids = [r.json["orderId"] for r in rs if r.status == 201]
        self.assertEqual(len(set(ids)), 50, "order ids are not unique")
        # stock is exactly gone, from every instance's point of view
        for port in self.ports():
            c = Client(port)
            g = self.get_product(p["id"], client=c)
            self.assertEqual(g["items"][0]["stock"], 0, g)
            self.assertEqual(g["items"][0]["status"], "SOLD_OUT", g)
            self.assertEqual(g["totalStock"], 0, g)
            st = c.get("/api/v1/products/%d/stock?quantity=1" % p["id"])
            self.assertEqual(st.json["currentStock"], 0, st)
            self.assertFalse(st.json["available"], st)
            c.close()
        # and the orders are really there, each reserving one unit
        seen = []
        for uid in users:
            r = self.api.get("/api/v1/users/%d/orders?size=100" % uid)
            self.assertEqual(r.status, 200, r)
            seen += [o["orderId"] for o in r.json["items"]]
        self.assertEqual(sorted(seen), sorted(ids))

    def test_20_simultaneous_payments_of_one_order(self):
        p = self.create_product(items=(("100.00", 10),))
        u = self.create_user(balance="1000.00")
        o = self.create_order(u["id"], [(p["items"][0]["id"], 2)])

        def pay(i, c):
            return self.pay(o["orderId"], u["id"], client=c)
        rs = run_concurrently(20, pay, setup=self.connect)
        self.assertEqual(self.errors_in(rs), [])
        codes = self.codes(rs)
        self.assertEqual(codes, {(200, None): 1, (409, "ORDER_NOT_PAYABLE"): 19}, codes)
        ok = [r for r in rs if r.status == 200][0]
        self.assertEqual(money(ok.json["remainingBalance"]), D("800.00"))
        self.assertEqual(self.balance(u["id"]), D("800.00"))
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"], "PAID")

    def test_simultaneous_payments_never_overdraw_the_wallet(self):
        p = self.create_product(items=(("30.00", 100),))
        u = self.create_user(balance="100.00")
        orders = [self.create_order(u["id"], [(p["items"][0]["id"], 1)])["orderId"] for _ in range(10)]

        def pay(i, c):
            return self.pay(orders[i], u["id"], client=c)
        rs = run_concurrently(10, pay, setup=self.connect)
        self.assertEqual(self.errors_in(rs), [])
        codes = self.codes(rs)
        self.assertEqual(codes, {(200, None): 3, (402, "INSUFFICIENT_BALANCE"): 7}, codes)
        self.assertEqual(self.balance(u["id"]), D("10.00"))
        paid = sorted(orders[i] for i, r in enumerate(rs) if r.status == 200)
        for oid in orders:
            st = self.api.get("/api/v1/orders/%d" % oid, admin=True).json["status"]
            self.assertEqual(st, "PAID" if oid in paid else "PENDING", oid)

    def test_simultaneous_charges_are_all_counted(self):
        u = self.create_user(balance="0.00")

        def charge(i, c):
            return c.post("/api/v1/users/%d/balance/charge" % u["id"], {"amount": "1.25"})
        rs = run_concurrently(50, charge, setup=self.connect)
        self.assertEqual(self.errors_in(rs), [])
        self.assertEqual(self.codes(rs), {(200, None): 50})
        self.assertEqual(self.balance(u["id"]), D("62.50"))
        self.assertEqual(max(money(r.json["balance"]) for r in rs), D("62.50"))

    def test_racing_pay_and_cancel_stay_consistent(self):
        p = self.create_product(items=(("10.00", 100),))
        iid = p["items"][0]["id"]
        u = self.create_user(balance="1000.00")
        orders = [self.create_order(u["id"], [(iid, 2)])["orderId"] for _ in range(10)]

        def act(i, c):
            oid = orders[i // 2]
            if i % 2 == 0:
                return self.pay(oid, u["id"], client=c)
            return c.post("/api/v1/orders/%d/cancel" % oid, {"userId": u["id"]})
        rs = run_concurrently(20, act, setup=self.connect)
        self.assertEqual(self.errors_in(rs), [])
        for r in rs:
            self.assertIn(r.status, (200, 409), r)
        statuses = [self.api.get("/api/v1/orders/%d" % oid, admin=True).json["status"] for oid in orders]
        for s in statuses:
            self.assertIn(s, ("PAID", "CANCELED"))
        n_paid = statuses.count("PAID")
        self.assertEqual(self.balance(u["id"]), D("1000.00") - D("20.00") * n_paid, statuses)
        self.assertEqual(self.item_stock(p["id"], iid), 100 - 2 * n_paid, statuses)

    def test_same_idempotency_key_at_once_creates_one_order(self):
        p = self.create_product(items=(("10.00", 100),))
        iid = p["items"][0]["id"]
        u = self.create_user(balance="0.00")
        key = uniq("idem-race")

        def order(i, c):
            return self.order(u["id"], [(iid, 1)], client=c, headers={"Idempotency-Key": key})
        rs = run_concurrently(10, order, setup=self.connect)
        self.assertEqual(self.errors_in(rs), [])
        created = [r for r in rs if r.status == 201]
        self.assertGreaterEqual(len(created), 1, rs)
        for r in rs:
            if r.status != 201:  # a duplicate still in flight may be told to retry
                self.assertEqual((r.status, r.json.get("code")), (409, "IDEMPOTENCY_KEY_IN_USE"), r)
        self.assertEqual(len({r.json["orderId"] for r in created}), 1, created)
        self.assertEqual(self.item_stock(p["id"], iid), 99)
        r = self.api.get("/api/v1/users/%d/orders" % u["id"])
        self.assertEqual(len(r.json["items"]), 1, r)


class ConcurrencySqliteTests(ConcurrencyCases, ServiceTestCase):
    BACKEND = "sqlite"


if __name__ == "__main__":
    unittest.main()
