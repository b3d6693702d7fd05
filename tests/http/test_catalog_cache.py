"""The catalog read path's cache over two instances sharing Redis and one database (SPEC §3,
issue "catalog read path"): product reads and the first list pages come from each instance's
memory, and a change made through one instance — an update, a new product, stock taken by an
order or a checkout, given back by a cancel — is read on the other within a second. The entries'
own max age is set to a minute here, so only the change log can make that happen."""

import time
import unittest

from harness import uniq, wait_until
from test_coupons import MultiProcessCase

ARGS = ("--catalog-cache-ttl", "60s")


class CatalogCacheTwoInstances(MultiProcessCase):

    @classmethod
    def start_processes(cls):
        cls.start_service("catalog-a", ARGS)
        cls.start_service("catalog-b", ARGS)

    def setUp(self):
        self.a = self.services[0].client()
        self.b = self.services[1].client()

    def tearDown(self):
        self.a.close()
        self.b.close()

    def seen_on_b_within_a_second(self, path, predicate, what):
        """Polls `path` on instance B until predicate(response) holds; fails after 1 s."""
        start = time.monotonic()
        last = None
        while time.monotonic() - start < 1.0:
            last = self.b.get(path)
            if predicate(last):
                return time.monotonic() - start
            time.sleep(0.02)
        self.fail("%s not seen on the other instance within 1 s: %r" % (what, last))

    def test_an_update_on_one_instance_is_read_on_the_other_within_a_second(self):
        p = self.create_product(items=(("10.00", 5),), client=self.a)
        path = "/api/v1/products/%d" % p["id"]
        for _ in range(3):  # cached on B now
            self.assertEqual(self.b.get(path).json["name"], p["name"])
        new_name = "Renamed " + uniq()
        r = self.a.put(path, {"version": p["version"], "name": new_name}, admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.a.get(path).json["name"], new_name)  # at once where it changed
        took = self.seen_on_b_within_a_second(path, lambda r: r.json["name"] == new_name,
                                              "the new name")
        print("update seen on the other instance after %.0f ms" % (took * 1000))

    def test_stock_taken_by_an_order_and_given_back_by_a_cancel_shows_on_the_other(self):
        p = self.create_product(items=(("10.00", 50),), client=self.a)
        item, path = p["items"][0]["id"], "/api/v1/products/%d" % p["id"]
        self.assertEqual(self.b.get(path).json["totalStock"], 50)
        u = self.create_user(client=self.a)["id"]
        order = self.a.post("/api/v1/orders", {"userId": u, "recipientName": "Kim",
                                               "items": [{"productItemId": item, "quantity": 3}]})
        self.assertEqual(order.status, 201, order)
        self.seen_on_b_within_a_second(path, lambda r: r.json["totalStock"] == 47,
                                       "stock after an order")
        r = self.a.post("/api/v1/orders/%d/cancel" % order.json["orderId"], {"userId": u})
        self.assertEqual(r.status, 200, r)
        self.seen_on_b_within_a_second(path, lambda r: r.json["totalStock"] == 50,
                                       "stock after a cancel")
        cart = "/api/v1/users/%d/cart" % u
        self.assertEqual(self.a.put(cart + "/items", {"productItemId": item, "quantity": 4}).status,
                         200)
        self.assertEqual(self.a.post(cart + "/checkout", {"recipientName": "Kim"}).status, 201)
        self.seen_on_b_within_a_second(path, lambda r: r.json["totalStock"] == 46,
                                       "stock after a checkout")

    def test_an_unknown_product_is_404_from_the_cache_until_it_is_created(self):
        last = self.create_product(items=(("10.00", 5),), client=self.a)["id"]
        path = "/api/v1/products/%d" % (last + 1)
        for client in (self.b, self.b, self.a):
            self.assert_error(client.get(path), 404, "PRODUCT_NOT_FOUND")
        created = self.create_product(items=(("10.00", 5),), client=self.a)
        self.assertEqual(created["id"], last + 1)
        self.seen_on_b_within_a_second(path, lambda r: r.status == 200, "the new product")

    def test_the_first_list_page_follows_changes_too(self):
        cat = self.create_category()["id"]
        first = self.create_product(items=(("10.00", 5),), category_id=cat, client=self.a)
        path = "/api/v1/products?categoryId=%d&sort=NEWEST&page=0&size=20" % cat
        self.assertEqual([x["id"] for x in self.b.get(path).json["items"]], [first["id"]])
        second = self.create_product(items=(("10.00", 5),), category_id=cat, client=self.a)
        self.seen_on_b_within_a_second(
            path, lambda r: [x["id"] for x in r.json["items"]] == [second["id"], first["id"]],
            "a new product in the list")


class CatalogCacheIsBounded(MultiProcessCase):

    @classmethod
    def start_processes(cls):
        cls.start_service("catalog-small", ("--catalog-cache-size", "5"))

    def metric(self, name):
        text = self.api.get("/metrics").body.decode()
        for line in text.splitlines():
            if line.startswith(name + "{") and 'cache="catalog"' in line:
                return float(line.split()[-1])
        self.fail("%s not in /metrics" % name)

    def test_reading_many_products_keeps_at_most_the_configured_entries(self):
        ids = [self.create_product(items=(("1.00", 1),))["id"] for _ in range(40)]
        for _ in range(2):
            for pid in ids:
                self.assertEqual(self.api.get("/api/v1/products/%d" % pid).status, 200)
        entries, evicted = self.metric("joopang_cache_entries"), self.metric("joopang_cache_evictions_total")
        print("40 products read twice with room for 5: %d entries, %d evicted"
              % (entries, evicted))
        self.assertLessEqual(entries, 5)  # room for 5 products (no list page is read)
        self.assertGreaterEqual(evicted, 70)  # every read of the second pass was a miss


if __name__ == "__main__":
    unittest.main()
