"""SPEC §3, the shop, driven over HTTP against the real binary (SQLite by default).

test_shop_pg.py runs the same classes against PostgreSQL.
"""

import datetime
import decimal
import json
import os
import shutil
import subprocess
import time
import unittest

from harness import (ADMIN_TOKEN, ServiceTestCase, money, parse_time, uniq, wait_until)

D = decimal.Decimal


class UserTests(ServiceTestCase):

    def test_create_user_returns_201_with_all_fields_and_no_password(self):
        email = uniq("gil") + "@example.com"
        password = "pw-" + uniq("secret")
        r = self.api.post("/api/v1/users", {"email": email, "password": password,
                                            "firstName": "Gildong", "lastName": "Hong",
                                            "balance": "1000.50"})
        self.assertEqual(r.status, 201, r)
        u = r.json
        self.assertIsInstance(u["id"], int)
        self.assertGreater(u["id"], 0)
        self.assertEqual(u["email"], email)
        self.assertEqual(u["firstName"], "Gildong")
        self.assertEqual(u["lastName"], "Hong")
        self.assertIsInstance(u["fullName"], str)
        self.assertIn("Gildong", u["fullName"])
        self.assertIn("Hong", u["fullName"])
        self.assertEqual(money(u["balance"]), D("1000.50"))
        self.assertFalse([k for k in u if "password" in k.lower()], "password field echoed: %r" % u)
        self.assertNotIn(password.encode(), r.body, "password echoed in the response")

    def test_balance_defaults_to_zero(self):
        r = self.api.post("/api/v1/users", {"email": uniq("z") + "@example.com",
                                            "password": "pw-12345678"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(money(r.json["balance"]), D("0.00"))

    def test_get_user(self):
        u = self.create_user(balance="12.34")
        r = self.api.get("/api/v1/users/%d" % u["id"])
        self.assertEqual(r.status, 200, r)
        g = r.json
        for k in ("id", "email", "firstName", "lastName", "fullName"):
            self.assertEqual(g[k], u[k], k)
        self.assertEqual(money(g["balance"]), D("12.34"))
        self.assertFalse([k for k in g if "password" in k.lower()], "password field echoed: %r" % g)

    def test_get_unknown_user_is_404_user_not_found(self):
        # Only the admin can name a user that does not exist (a user may only name itself).
        r = self.api.get("/api/v1/users/987654321", admin=True)
        self.assert_error(r, 404, "USER_NOT_FOUND")

    def test_duplicate_email_is_409_email_taken(self):
        email = uniq("dup") + "@example.com"
        r1 = self.api.post("/api/v1/users", {"email": email, "password": "pw-12345678"})
        self.assertEqual(r1.status, 201, r1)
        r2 = self.api.post("/api/v1/users", {"email": email, "password": "other-pw-123"})
        self.assert_error(r2, 409, "EMAIL_TAKEN")

    def test_invalid_emails_are_rejected_naming_email(self):
        for bad in ["", "no-at-sign", "a@", "@example.com", "a b@example.com",
                    "x" * 300 + "@example.com"]:
            with self.subTest(email=bad):
                r = self.api.post("/api/v1/users", {"email": bad, "password": "pw-12345678"})
                self.assert_error(r, 400, "VALIDATION_FAILED", field="email")

    def test_missing_email_or_password_is_rejected_naming_the_field(self):
        r = self.api.post("/api/v1/users", {"password": "pw-12345678"})
        self.assert_error(r, 400, "VALIDATION_FAILED", field="email")
        r = self.api.post("/api/v1/users", {"email": uniq("np") + "@example.com"})
        self.assert_error(r, 400, "VALIDATION_FAILED", field="password")
        r = self.api.post("/api/v1/users", {"email": uniq("np") + "@example.com", "password": ""})
        self.assert_error(r, 400, "VALIDATION_FAILED", field="password")

    def test_negative_initial_balance_is_rejected(self):
        r = self.api.post("/api/v1/users", {"email": uniq("neg") + "@example.com",
                                            "password": "pw-12345678", "balance": "-1.00"})
        self.assert_error(r, 400, "VALIDATION_FAILED", field="balance")

    def test_password_is_not_stored_in_plain_text(self):
        password = "Plain-" + uniq("Text") + "-Pw"
        r = self.api.post("/api/v1/users", {"email": uniq("h") + "@example.com", "password": password})
        self.assertEqual(r.status, 201, r)
        time.sleep(0.3)  # let WAL/AOF writes reach the files
        needle = password.encode()
        found = []
        for root, _dirs, files in os.walk(self.svc.data_dir):
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        if needle in f.read():
                            found.append(path)
                except OSError:
                    pass
        self.assertEqual(found, [], "the plain-text password appears in the data dir / logs")
        if self.BACKEND == "postgres" and self.svc.database and shutil.which("pg_dump"):
            dump = subprocess.run(["pg_dump", "--data-only", self.svc.database],
                                  capture_output=True, timeout=60)
            self.assertEqual(dump.returncode, 0, dump.stderr)
            self.assertNotIn(needle, dump.stdout, "the plain-text password is in PostgreSQL")

    def test_charge_balance(self):
        u = self.create_user(balance="1000.00")
        r = self.api.post("/api/v1/users/%d/balance/charge" % u["id"], {"amount": "500.50"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(money(r.json["balance"]), D("1500.50"))
        # a JSON number with at most two decimals is accepted as well
        r = self.api.post("/api/v1/users/%d/balance/charge" % u["id"], {"amount": 0.25})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(money(r.json["balance"]), D("1500.75"))
        self.assertEqual(self.balance(u["id"]), D("1500.75"))

    def test_charge_rejects_zero_negative_and_sub_cent_amounts(self):
        u = self.create_user(balance="10.00")
        for bad in ["0.00", "-5.00", 0, -1, "1.005", 1.005, "abc", None, True, [], {}]:
            with self.subTest(amount=bad):
                r = self.api.post("/api/v1/users/%d/balance/charge" % u["id"], {"amount": bad})
                self.assert_error(r, 400, "VALIDATION_FAILED", field="amount")
        r = self.api.post("/api/v1/users/%d/balance/charge" % u["id"], {})
        self.assert_error(r, 400, "VALIDATION_FAILED", field="amount")
        self.assertEqual(self.balance(u["id"]), D("10.00"))

    def test_charge_unknown_user_is_404(self):
        r = self.api.post("/api/v1/users/987654321/balance/charge", {"amount": "1.00"}, admin=True)
        self.assert_error(r, 404, "USER_NOT_FOUND")

    def test_create_user_with_idempotency_key_replays(self):
        key = uniq("idem-user")
        body = {"email": uniq("idem") + "@example.com", "password": "pw-12345678"}
        r1 = self.api.post("/api/v1/users", body, headers={"Idempotency-Key": key})
        r2 = self.api.post("/api/v1/users", body, headers={"Idempotency-Key": key})
        self.assertEqual(r1.status, 201, r1)
        self.assertEqual(r2.status, r1.status, r2)
        self.assertEqual(r2.json, r1.json)


class CategoryTests(ServiceTestCase):

    def test_create_and_list_categories_with_parent(self):
        parent = self.create_category(name="Fashion " + uniq())
        self.assertIsInstance(parent["id"], int)
        self.assertIsNone(parent.get("parentId"))
        child = self.create_category(name="Shoes " + uniq(), parent_id=parent["id"])
        self.assertEqual(child["parentId"], parent["id"])
        r = self.api.get("/api/v1/categories")
        self.assertEqual(r.status, 200, r)
        by_id = {c["id"]: c for c in r.json["items"]}
        self.assertIn(parent["id"], by_id)
        self.assertIn(child["id"], by_id)
        self.assertEqual(by_id[child["id"]]["name"], child["name"])
        self.assertEqual(by_id[child["id"]]["parentId"], parent["id"])

    def test_create_category_requires_admin(self):
        r = self.api.post("/api/v1/categories", {"name": uniq("c")})
        self.assert_error(r, 401, "UNAUTHORIZED")
        r = self.api.post("/api/v1/categories", {"name": uniq("c")},
                          headers={"Authorization": "Bearer wrong-" + ADMIN_TOKEN})
        self.assert_error(r, 401, "UNAUTHORIZED")

    def test_category_validation(self):
        r = self.api.post("/api/v1/categories", {}, admin=True)
        self.assert_error(r, 400, "VALIDATION_FAILED", field="name")
        r = self.api.post("/api/v1/categories", {"name": 42}, admin=True)
        self.assert_error(r, 400, "VALIDATION_FAILED", field="name")
        r = self.api.post("/api/v1/categories", {"name": uniq("c"), "parentId": "x"}, admin=True)
        self.assert_error(r, 400, "VALIDATION_FAILED", field="parentId")

    def test_unknown_parent_is_rejected(self):
        r = self.api.post("/api/v1/categories", {"name": uniq("c"), "parentId": 987654321},
                          admin=True)
        self.assertIn(r.status, (400, 404), r)
        if r.status == 404:
            self.assert_error(r, 404, "CATEGORY_NOT_FOUND")
        else:
            self.assert_error(r, 400, "VALIDATION_FAILED", field="parentId")


class ProductTests(ServiceTestCase):

    def test_create_product_returns_201_with_all_fields(self):
        code = uniq("P")
        body = {"name": "Sneaker " + code, "code": code, "description": "light shoe",
                "price": "59000.00",
                "items": [{"name": "260mm", "code": code + "-260", "unitPrice": "59000.00", "stock": 7},
                          {"name": "270mm", "code": code + "-270", "unitPrice": 61000.5, "stock": 0}]}
        r = self.api.post("/api/v1/products", body, admin=True)
        self.assertEqual(r.status, 201, r)
        p = r.json
        self.assertIsInstance(p["id"], int)
        self.assertGreater(p["id"], 0)
        self.assertEqual(p["name"], body["name"])
        self.assertEqual(p["code"], code)
        self.assertEqual(p["description"], "light shoe")
        self.assertEqual(money(p["price"]), D("59000.00"))
        self.assertIn("discountRate", p)
        self.assertIsInstance(p["version"], int)
        self.assertEqual(p["viewCount"], 0)
        self.assertEqual(p["salesCount"], 0)
        self.assertEqual(p["totalStock"], 7)
        self.assertEqual(len(p["items"]), 2)
        by_code = {it["code"]: it for it in p["items"]}
        a, b = by_code[code + "-260"], by_code[code + "-270"]
        self.assertIsInstance(a["id"], int)
        self.assertNotEqual(a["id"], b["id"])
        self.assertEqual(a["name"], "260mm")
        self.assertEqual(money(a["unitPrice"]), D("59000.00"))
        self.assertEqual(money(b["unitPrice"]), D("61000.50"))
        self.assertEqual(a["stock"], 7)
        self.assertEqual(b["stock"], 0)
        self.assertEqual(a["status"], "ACTIVE")
        self.assertEqual(b["status"], "SOLD_OUT")

    def test_create_product_requires_admin_token(self):
        body = {"name": "n", "code": uniq("P"), "price": "1.00",
                "items": [{"name": "i", "code": uniq("I"), "unitPrice": "1.00", "stock": 1}]}
        self.assert_error(self.api.post("/api/v1/products", body), 401, "UNAUTHORIZED")
        self.assert_error(self.api.post("/api/v1/products", body,
                                        headers={"Authorization": "Bearer nope"}),
                          401, "UNAUTHORIZED")
        self.assert_error(self.api.post("/api/v1/products", body,
                                        headers={"Authorization": ADMIN_TOKEN}),
                          401, "UNAUTHORIZED")
        self.assert_error(self.api.post("/api/v1/products", body,
                                        headers={"Authorization": "Basic " + ADMIN_TOKEN}),
                          401, "UNAUTHORIZED")
        # nothing was created: the same code is still free
        r = self.api.post("/api/v1/products", body, admin=True)
        self.assertEqual(r.status, 201, r)

    def test_duplicate_product_code_is_409_code_taken(self):
        p = self.create_product()
        body = {"name": "other", "code": p["code"], "price": "1.00",
                "items": [{"name": "i", "code": uniq("I"), "unitPrice": "1.00", "stock": 1}]}
        r = self.api.post("/api/v1/products", body, admin=True)
        self.assert_error(r, 409, "CODE_TAKEN")

    def test_create_product_validation_names_the_field(self):
        def base():
            return {"name": "n", "code": uniq("P"), "price": "10.00",
                    "items": [{"name": "i", "code": uniq("I"), "unitPrice": "10.00", "stock": 3}]}
        cases = [
            ("name", lambda b: b.pop("name")),
            ("code", lambda b: b.pop("code")),
            ("price", lambda b: b.pop("price")),
            ("price", lambda b: b.update(price="-1.00")),
            ("price", lambda b: b.update(price="1.234")),
            ("price", lambda b: b.update(price="ten")),
            ("items", lambda b: b.pop("items")),
            ("items", lambda b: b.update(items="nope")),
            ("items[0].unitPrice", lambda b: b["items"][0].pop("unitPrice")),
            ("items[0].unitPrice", lambda b: b["items"][0].update(unitPrice="-3.00")),
            ("items[0].stock", lambda b: b["items"][0].update(stock=-1)),
            ("items[0].stock", lambda b: b["items"][0].update(stock=1.5)),
            ("items[0].stock", lambda b: b["items"][0].update(stock="3")),
            ("items[0].code", lambda b: b["items"][0].pop("code")),
            ("categoryId", lambda b: b.update(categoryId="abc")),
        ]
        for field, mutate in cases:
            body = base()
            mutate(body)
            with self.subTest(field=field, body=body):
                r = self.api.post("/api/v1/products", body, admin=True)
                self.assert_error(r, 400, "VALIDATION_FAILED", field=field)

    def test_get_unknown_product_is_404(self):
        self.assert_error(self.api.get("/api/v1/products/987654321"), 404, "PRODUCT_NOT_FOUND")

    def test_get_product_counts_views(self):
        p = self.create_product()
        path = "/api/v1/products/%d" % p["id"]
        reads = 0
        r = self.api.get(path)
        reads += 1
        self.assertEqual(r.status, 200, r)
        for k in ("id", "name", "code", "description", "price", "discountRate", "version",
                  "viewCount", "salesCount", "totalStock", "items"):
            self.assertIn(k, r.json)
        for _ in range(5):
            self.assertEqual(self.api.get(path).status, 200)
            reads += 1
        seen = []

        def counted():
            nonlocal reads
            g = self.api.get(path)
            reads += 1
            seen.append(g.json["viewCount"])
            # a read may count itself before or after answering, and counts may lag briefly
            return g.json["viewCount"] >= 6
        wait_until(counted, 3.0, interval=0.2, message="viewCount to reach 6")
        self.assertLessEqual(seen[-1], reads, "more views counted than reads made: %r" % seen)

    def test_update_product_with_version(self):
        p = self.create_product(items=(("100.00", 5),))
        v = p["version"]
        body = {"name": "Renamed " + p["code"], "code": p["code"], "description": "new desc",
                "price": "120.00", "version": v}
        r = self.api.put("/api/v1/products/%d" % p["id"], body, admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["name"], body["name"])
        self.assertEqual(r.json["description"], "new desc")
        self.assertEqual(money(r.json["price"]), D("120.00"))
        self.assertGreater(r.json["version"], v)
        g = self.get_product(p["id"])
        self.assertEqual(g["name"], body["name"])
        self.assertEqual(g["version"], r.json["version"])
        self.assertEqual(g["totalStock"], 5)

        # the old version is stale now
        stale = dict(body, name="Stale write", version=v)
        r2 = self.api.put("/api/v1/products/%d" % p["id"], stale, admin=True)
        self.assert_error(r2, 409, "VERSION_CONFLICT")
        self.assertEqual(self.get_product(p["id"])["name"], body["name"])

    def test_update_product_errors(self):
        p = self.create_product()
        body = {"name": "x", "code": p["code"], "description": "d", "price": "1.00",
                "version": p["version"]}
        self.assert_error(self.api.put("/api/v1/products/%d" % p["id"], body), 401, "UNAUTHORIZED")
        self.assert_error(self.api.put("/api/v1/products/987654321", body, admin=True),
                          404, "PRODUCT_NOT_FOUND")
        nov = dict(body)
        del nov["version"]
        self.assert_error(self.api.put("/api/v1/products/%d" % p["id"], nov, admin=True),
                          400, "VALIDATION_FAILED", field="version")
        self.assert_error(self.api.put("/api/v1/products/%d" % p["id"], dict(body, version="one"),
                                       admin=True),
                          400, "VALIDATION_FAILED", field="version")
        # none of that changed the product
        self.assertEqual(self.get_product(p["id"])["version"], p["version"])

    def test_concurrent_updates_with_same_version_one_wins(self):
        from harness import Client, run_concurrently
        p = self.create_product()

        def put(i, c):
            body = {"name": "writer %d" % i, "code": p["code"], "description": "d",
                    "price": "1.00", "version": p["version"]}
            return c.put("/api/v1/products/%d" % p["id"], body, admin=True)
        rs = run_concurrently(8, put, setup=lambda i: Client(self.svc.port).connect())
        for r in rs:
            self.assertNotIsInstance(r, BaseException, r)
        ok = [r for r in rs if r.status == 200]
        self.assertEqual(len(ok), 1, rs)
        for r in rs:
            if r.status != 200:
                self.assert_error(r, 409, "VERSION_CONFLICT")
        self.assertEqual(self.get_product(p["id"])["name"], ok[0].json["name"])

    def test_stock_check(self):
        p = self.create_product(items=(("10.00", 5),))
        r = self.api.get("/api/v1/products/%d/stock?quantity=3" % p["id"])
        self.assertEqual(r.status, 200, r)
        want = {"productId": p["id"], "available": True, "currentStock": 5, "requested": 3}
        self.assertEqual({k: r.json.get(k) for k in want}, want, r)
        r = self.api.get("/api/v1/products/%d/stock?quantity=5" % p["id"])
        self.assertTrue(r.json["available"], r)
        r = self.api.get("/api/v1/products/%d/stock?quantity=6" % p["id"])
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["available"], r)
        self.assertEqual(r.json["currentStock"], 5)
        self.assertEqual(r.json["requested"], 6)
        for bad in ("0", "-1", "abc", "1.5", "99999999999999999999"):
            with self.subTest(quantity=bad):
                r = self.api.get("/api/v1/products/%d/stock?quantity=%s" % (p["id"], bad))
                self.assert_error(r, 400, "VALIDATION_FAILED", field="quantity")
        self.assert_error(self.api.get("/api/v1/products/987654321/stock?quantity=1"),
                          404, "PRODUCT_NOT_FOUND")


class ProductListTests(ServiceTestCase):
    """Listing, filtering, sorting and paging over one category with three products."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        self = cls("run")  # borrow the helpers
        cls.cat = self.create_category()
        cls.other_cat = self.create_category()
        # created in this order: A (mid price), B (cheapest), C (dearest)
        cls.a = self.create_product(items=(("200.00", 50),), category_id=cls.cat["id"])
        cls.b = self.create_product(items=(("100.00", 50),), category_id=cls.cat["id"])
        cls.c = self.create_product(items=(("300.00", 50),), category_id=cls.cat["id"])
        cls.x = self.create_product(items=(("150.00", 50),), category_id=cls.other_cat["id"])

    def list(self, query):
        r = self.api.get("/api/v1/products?" + query)
        self.assertEqual(r.status, 200, r)
        return r.json

    def ids(self, query):
        return [it["id"] for it in self.list(query)["items"]]

    def test_category_filter(self):
        body = self.list("categoryId=%d" % self.cat["id"])
        self.assertEqual(body["total"], 3)
        self.assertEqual(sorted(it["id"] for it in body["items"]),
                         sorted([self.a["id"], self.b["id"], self.c["id"]]))
        self.assertEqual(self.ids("categoryId=%d" % self.other_cat["id"]), [self.x["id"]])

    def test_default_paging(self):
        body = self.list("categoryId=%d" % self.cat["id"])
        self.assertEqual(body["page"], 0)
        self.assertEqual(body["size"], 20)

    def test_unfiltered_list_contains_everything(self):
        body = self.list("size=100")
        got = {it["id"] for it in body["items"]}
        for p in (self.a, self.b, self.c, self.x):
            self.assertIn(p["id"], got)
        self.assertGreaterEqual(body["total"], 4)

    def test_sort_price_asc_and_desc(self):
        q = "categoryId=%d&sort=" % self.cat["id"]
        self.assertEqual(self.ids(q + "PRICE_ASC"), [self.b["id"], self.a["id"], self.c["id"]])
        self.assertEqual(self.ids(q + "PRICE_DESC"), [self.c["id"], self.a["id"], self.b["id"]])

    def test_sort_newest(self):
        q = "categoryId=%d&sort=NEWEST" % self.cat["id"]
        self.assertEqual(self.ids(q), [self.c["id"], self.b["id"], self.a["id"]])

    def test_sort_sales(self):
        # B sells 3 units in 2 orders, A 1 unit in 1 order, C nothing: B, A, C by either measure.
        u = self.create_user(balance="10000.00")
        for pid_item, qty in ((self.b["items"][0]["id"], 2), (self.b["items"][0]["id"], 1),
                              (self.a["items"][0]["id"], 1)):
            o = self.create_order(u["id"], [(pid_item, qty)])
            r = self.pay(o["orderId"], u["id"])
            self.assertEqual(r.status, 200, r)
        q = "categoryId=%d&sort=SALES" % self.cat["id"]
        want = [self.b["id"], self.a["id"], self.c["id"]]
        wait_until(lambda: self.ids(q) == want, 3.0, interval=0.2,
                   message="SALES order %r (got %r)" % (want, self.ids(q)))

    def test_paging(self):
        q = "categoryId=%d&sort=PRICE_ASC&size=2" % self.cat["id"]
        p0 = self.list(q + "&page=0")
        self.assertEqual((p0["page"], p0["size"], p0["total"]), (0, 2, 3))
        self.assertEqual([i["id"] for i in p0["items"]], [self.b["id"], self.a["id"]])
        p1 = self.list(q + "&page=1")
        self.assertEqual((p1["page"], p1["size"], p1["total"]), (1, 2, 3))
        self.assertEqual([i["id"] for i in p1["items"]], [self.c["id"]])
        p5 = self.list(q + "&page=5")
        self.assertEqual(p5["items"], [])
        self.assertEqual(p5["total"], 3)
        one = self.list("categoryId=%d&size=1" % self.cat["id"])
        self.assertEqual(len(one["items"]), 1)
        hundred = self.list("size=100")
        self.assertEqual(hundred["size"], 100)

    def test_bad_query_parameters_are_400_naming_the_parameter(self):
        cases = [("size", "size=0"), ("size", "size=101"), ("size", "size=-1"), ("size", "size=abc"),
                 ("page", "page=-1"), ("page", "page=abc"), ("sort", "sort=FOO"),
                 ("sort", "sort=price_asc_x"), ("categoryId", "categoryId=abc"),
                 ("size", "size=99999999999999999999")]
        for field, q in cases:
            with self.subTest(query=q):
                self.assert_error(self.api.get("/api/v1/products?" + q), 400, "VALIDATION_FAILED",
                                  field=field)


class OrderTests(ServiceTestCase):

    def test_create_order_returns_201_with_all_fields_and_exact_money(self):
        p1 = self.create_product(items=(("1200.55", 20), ("0.10", 20)), name="Blender " + uniq())
        p2 = self.create_product(items=(("19.99", 20),), name="Mug " + uniq())
        i1, i2 = p1["items"][0], p1["items"][1]
        i3 = p2["items"][0]
        u = self.create_user(balance="0.00")
        r = self.order(u["id"], [(i1["id"], 7), (i2["id"], 3), (i3["id"], 3)],
                       recipient="Kim Cheolsu")
        self.assertEqual(r.status, 201, r)
        o = r.json
        self.assertIsInstance(o["orderId"], int)
        self.assertGreater(o["orderId"], 0)
        self.assertEqual(o["userId"], u["id"])
        self.assertEqual(o["status"], "PENDING")
        lines = {ln["productItemId"]: ln for ln in o["items"]}
        self.assertEqual(set(lines), {i1["id"], i2["id"], i3["id"]})
        expect = {i1["id"]: (D("1200.55"), 7, D("8403.85"), p1["name"]),
                  i2["id"]: (D("0.10"), 3, D("0.30"), p1["name"]),
                  i3["id"]: (D("19.99"), 3, D("59.97"), p2["name"])}
        for iid, (unit, qty, sub, pname) in expect.items():
            ln = lines[iid]
            self.assertEqual(money(ln["unitPrice"]), unit, ln)
            self.assertEqual(ln["quantity"], qty, ln)
            self.assertEqual(money(ln["subtotal"]), sub, ln)
            self.assertIn(pname, ln["productName"], ln)
        self.assertEqual(money(o["totalAmount"]), D("8464.12"))
        self.assertEqual(money(o["discountAmount"]), D("0.00"))
        self.assertEqual(money(o["payableAmount"]), D("8464.12"))
        ordered, expires = parse_time(o["orderedAt"]), parse_time(o["expiresAt"])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((ordered - now).total_seconds()), 120, o)
        # default --order-ttl is 15 minutes
        self.assertAlmostEqual((expires - ordered).total_seconds(), 15 * 60, delta=5)
        # stock reserved
        self.assertEqual(self.item_stock(p1["id"], i1["id"]), 13)
        self.assertEqual(self.item_stock(p1["id"], i2["id"]), 17)
        self.assertEqual(self.item_stock(p2["id"], i3["id"]), 17)
        self.assertEqual(self.get_product(p1["id"])["totalStock"], 30)

    def test_get_order(self):
        p = self.create_product(items=(("250.00", 5),))
        u = self.create_user()
        o = self.create_order(u["id"], [(p["items"][0]["id"], 2)])
        r = self.api.get("/api/v1/orders/%d" % o["orderId"], user=u["id"])
        self.assertEqual(r.status, 200, r)
        g = r.json
        for k in ("orderId", "userId", "status", "totalAmount", "discountAmount", "payableAmount",
                  "orderedAt", "expiresAt"):
            self.assertEqual(g[k], o[k], k)
        self.assertEqual(g["items"], o["items"])

    def test_get_unknown_order_is_404(self):
        u = self.create_user()
        self.assert_error(self.api.get("/api/v1/orders/987654321", user=u["id"]), 404,
                          "ORDER_NOT_FOUND")
        self.assert_error(self.api.get("/api/v1/orders/987654321", admin=True), 404,
                          "ORDER_NOT_FOUND")

    def test_list_user_orders_with_paging(self):
        p = self.create_product(items=(("10.00", 10),))
        u = self.create_user()
        other = self.create_user()
        o1 = self.create_order(u["id"], [(p["items"][0]["id"], 1)])
        o2 = self.create_order(u["id"], [(p["items"][0]["id"], 2)])
        o3 = self.create_order(other["id"], [(p["items"][0]["id"], 1)])
        r = self.api.get("/api/v1/users/%d/orders" % u["id"])
        self.assertEqual(r.status, 200, r)
        ids = [it["orderId"] for it in r.json["items"]]
        self.assertEqual(sorted(ids), sorted([o1["orderId"], o2["orderId"]]))
        self.assertNotIn(o3["orderId"], ids)
        if "total" in r.json:
            self.assertEqual(r.json["total"], 2)
        a = self.api.get("/api/v1/users/%d/orders?page=0&size=1" % u["id"])
        b = self.api.get("/api/v1/users/%d/orders?page=1&size=1" % u["id"])
        self.assertEqual(a.status, 200, a)
        self.assertEqual(b.status, 200, b)
        self.assertEqual(len(a.json["items"]), 1, a)
        self.assertEqual(len(b.json["items"]), 1, b)
        self.assertEqual({a.json["items"][0]["orderId"], b.json["items"][0]["orderId"]},
                         {o1["orderId"], o2["orderId"]})
        self.assert_error(self.api.get("/api/v1/users/%d/orders?size=0" % u["id"]),
                          400, "VALIDATION_FAILED", field="size")
        self.assert_error(self.api.get("/api/v1/users/%d/orders?size=101" % u["id"]),
                          400, "VALIDATION_FAILED", field="size")

    def test_order_for_unknown_user_or_item_is_404(self):
        p = self.create_product(items=(("10.00", 10),))
        iid = p["items"][0]["id"]
        body = {"userId": 987654321, "recipientName": "R",
                "items": [{"productItemId": iid, "quantity": 1}]}
        self.assert_error(self.api.post("/api/v1/orders", body, admin=True), 404, "USER_NOT_FOUND")
        u = self.create_user()
        self.assert_error(self.order(u["id"], [(987654321, 1)]), 404, "ITEM_NOT_FOUND")
        self.assertEqual(self.item_stock(p["id"], iid), 10)

    def test_out_of_stock_is_409_and_reserves_nothing(self):
        p = self.create_product(items=(("10.00", 5), ("20.00", 2)))
        a, b = p["items"][0]["id"], p["items"][1]["id"]
        u = self.create_user()
        self.assert_error(self.order(u["id"], [(a, 6)]), 409, "OUT_OF_STOCK")
        # the first line fits, the second does not: the whole order fails, nothing is reserved
        self.assert_error(self.order(u["id"], [(a, 3), (b, 3)]), 409, "OUT_OF_STOCK")
        self.assertEqual(self.item_stock(p["id"], a), 5)
        self.assertEqual(self.item_stock(p["id"], b), 2)
        # exactly the remaining stock is fine, and then the item is SOLD_OUT
        self.create_order(u["id"], [(b, 2)])
        g = self.get_product(p["id"])
        st = {it["id"]: it for it in g["items"]}
        self.assertEqual(st[b]["stock"], 0)
        self.assertEqual(st[b]["status"], "SOLD_OUT")
        self.assertEqual(st[a]["status"], "ACTIVE")
        self.assertEqual(g["totalStock"], 5)
        self.assert_error(self.order(u["id"], [(b, 1)]), 409, "OUT_OF_STOCK")

    def test_order_validation_names_the_field(self):
        p = self.create_product(items=(("10.00", 10),))
        iid = p["items"][0]["id"]
        u = self.create_user()

        def body():
            return {"userId": u["id"], "recipientName": "R",
                    "items": [{"productItemId": iid, "quantity": 1}]}
        cases = [
            ("items[0].quantity", lambda b: b["items"][0].update(quantity=0)),
            ("items[0].quantity", lambda b: b["items"][0].update(quantity=-1)),
            ("items[0].quantity", lambda b: b["items"][0].update(quantity=1.5)),
            ("items[0].quantity", lambda b: b["items"][0].update(quantity="1")),
            ("items[0].quantity", lambda b: b["items"][0].update(quantity=None)),
            ("items[0].quantity", lambda b: b["items"][0].update(quantity=1000001)),
            ("items[0].quantity", lambda b: b["items"][0].update(quantity=2 ** 63)),
            ("items[0].quantity", lambda b: b["items"][0].update(quantity=99999999999999999999)),
            ("items[0].quantity", lambda b: b["items"][0].pop("quantity")),
            ("items[0].productItemId", lambda b: b["items"][0].pop("productItemId")),
            ("items[0].productItemId", lambda b: b["items"][0].update(productItemId="x")),
            ("items[0].productItemId", lambda b: b["items"][0].update(productItemId=-4)),
            ("items[1].quantity", lambda b: b["items"].append({"productItemId": iid, "quantity": 0})),
            ("items", lambda b: b.update(items=[])),
            ("items", lambda b: b.pop("items")),
            ("items", lambda b: b.update(items={"productItemId": iid})),
            ("userId", lambda b: b.update(userId="abc")),
            ("userId", lambda b: b.update(userId=True)),
            ("userId", lambda b: b.update(userId=2 ** 63)),
            ("userId", lambda b: b.update(userId=0)),
            ("recipientName", lambda b: b.pop("recipientName")),
            ("recipientName", lambda b: b.update(recipientName=17)),
        ]
        for field, mutate in cases:
            b = body()
            mutate(b)
            with self.subTest(field=field, body=b):
                self.assert_error(self.api.post("/api/v1/orders", b, user=u["id"]), 400,
                                  "VALIDATION_FAILED", field=field)
        # 1e309 cannot be produced by json.dumps; send it raw
        raw = ('{"userId": %d, "recipientName": "R", "items": [{"productItemId": %d, '
               '"quantity": 1e309}]}' % (u["id"], iid))
        self.assert_error(self.api.post("/api/v1/orders", raw=raw, user=u["id"]), 400,
                          "VALIDATION_FAILED", field="items[0].quantity")
        self.assertEqual(self.item_stock(p["id"], iid), 10)


class PaymentTests(ServiceTestCase):

    def setUp(self):
        self.p = self.create_product(items=(("300.00", 100),))
        self.iid = self.p["items"][0]["id"]

    def test_pay_returns_200_and_debits_wallet(self):
        u = self.create_user(balance="1000.00")
        o = self.create_order(u["id"], [(self.iid, 2)])
        r = self.pay(o["orderId"], u["id"])
        self.assertEqual(r.status, 200, r)
        b = r.json
        self.assertEqual(b["orderId"], o["orderId"])
        self.assertEqual(b["status"], "PAID")
        self.assertEqual(money(b["paidAmount"]), D("600.00"))
        self.assertEqual(money(b["remainingBalance"]), D("400.00"))
        paid_at = parse_time(b["paidAt"])
        self.assertGreaterEqual(paid_at, parse_time(o["orderedAt"]) - datetime.timedelta(seconds=1))
        self.assertEqual(self.balance(u["id"]), D("400.00"))
        g = self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True)
        self.assertEqual(g.json["status"], "PAID", g)
        self.assertEqual(self.item_stock(self.p["id"], self.iid), 98)

    def test_paying_twice_is_409_and_debits_once(self):
        u = self.create_user(balance="1000.00")
        o = self.create_order(u["id"], [(self.iid, 1)])
        self.assertEqual(self.pay(o["orderId"], u["id"]).status, 200)
        self.assert_error(self.pay(o["orderId"], u["id"]), 409, "ORDER_NOT_PAYABLE")
        self.assertEqual(self.balance(u["id"]), D("700.00"))

    def test_paying_another_users_order_is_403(self):
        owner = self.create_user(balance="1000.00")
        thief = self.create_user(balance="1000.00")
        o = self.create_order(owner["id"], [(self.iid, 1)])
        self.assert_error(self.pay(o["orderId"], thief["id"]), 403, "FORBIDDEN")
        self.assertEqual(self.balance(thief["id"]), D("1000.00"))
        self.assertEqual(self.balance(owner["id"]), D("1000.00"))
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"], "PENDING")
        # the owner can still pay it
        self.assertEqual(self.pay(o["orderId"], owner["id"]).status, 200)

    def test_insufficient_balance_is_402_and_changes_nothing(self):
        u = self.create_user(balance="599.99")
        o = self.create_order(u["id"], [(self.iid, 2)])
        self.assert_error(self.pay(o["orderId"], u["id"]), 402, "INSUFFICIENT_BALANCE")
        self.assertEqual(self.balance(u["id"]), D("599.99"))
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"], "PENDING")
        # after charging the missing cent it goes through
        r = self.api.post("/api/v1/users/%d/balance/charge" % u["id"], {"amount": "0.01"})
        self.assertEqual(r.status, 200, r)
        r = self.pay(o["orderId"], u["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(money(r.json["remainingBalance"]), D("0.00"))

    def test_pay_errors(self):
        u = self.create_user(balance="1000.00")
        self.assert_error(self.pay(987654321, u["id"]), 404, "ORDER_NOT_FOUND")
        o = self.create_order(u["id"], [(self.iid, 1)])
        # Signed in as the owner but naming another user: refused.
        r = self.api.post("/api/v1/orders/%d/payment" % o["orderId"], {"userId": 987654321},
                          user=u["id"])
        self.assert_error(r, 403, "FORBIDDEN")
        r = self.api.post("/api/v1/orders/%d/payment" % o["orderId"], {"userId": "me"},
                          user=u["id"])
        self.assert_error(r, 400, "VALIDATION_FAILED", field="userId")
        # Not signed in at all.
        r = self.api.post("/api/v1/orders/%d/payment" % o["orderId"], {}, user=None)
        self.assert_error(r, 401, "UNAUTHORIZED")
        self.assertEqual(self.balance(u["id"]), D("1000.00"))

    def test_sales_count_increases_after_payment(self):
        u = self.create_user(balance="1000.00")
        before = self.get_product(self.p["id"])["salesCount"]
        o = self.create_order(u["id"], [(self.iid, 1)])
        self.assertEqual(self.get_product(self.p["id"])["salesCount"], before,
                         "an unpaid order must not count as a sale")
        self.assertEqual(self.pay(o["orderId"], u["id"]).status, 200)
        wait_until(lambda: self.get_product(self.p["id"])["salesCount"] == before + 1, 3.0,
                   interval=0.2, message="salesCount to grow by 1")

    def test_cancel_pending_order_releases_stock(self):
        u = self.create_user(balance="1000.00")
        s0 = self.item_stock(self.p["id"], self.iid)
        o = self.create_order(u["id"], [(self.iid, 4)])
        self.assertEqual(self.item_stock(self.p["id"], self.iid), s0 - 4)
        r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {"userId": u["id"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["orderId"], o["orderId"])
        self.assertEqual(r.json["status"], "CANCELED")
        self.assertEqual(self.item_stock(self.p["id"], self.iid), s0)
        self.assertEqual(self.balance(u["id"]), D("1000.00"))
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"], "CANCELED")
        self.assert_error(self.pay(o["orderId"], u["id"]), 409, "ORDER_NOT_PAYABLE")
        self.assertEqual(self.balance(u["id"]), D("1000.00"))

    def test_cancel_paid_order_refunds_wallet_and_releases_stock(self):
        u = self.create_user(balance="1000.00")
        s0 = self.item_stock(self.p["id"], self.iid)
        o = self.create_order(u["id"], [(self.iid, 3)])
        self.assertEqual(self.pay(o["orderId"], u["id"]).status, 200)
        self.assertEqual(self.balance(u["id"]), D("100.00"))
        r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {"userId": u["id"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "CANCELED")
        self.assertEqual(self.balance(u["id"]), D("1000.00"))
        self.assertEqual(self.item_stock(self.p["id"], self.iid), s0)
        # canceling again must neither refund nor release a second time
        r2 = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {"userId": u["id"]})
        self.assertIn(r2.status, (200, 409), r2)
        self.assertEqual(self.balance(u["id"]), D("1000.00"))
        self.assertEqual(self.item_stock(self.p["id"], self.iid), s0)

    def test_cancel_errors(self):
        owner = self.create_user(balance="1000.00")
        other = self.create_user(balance="1000.00")
        o = self.create_order(owner["id"], [(self.iid, 1)])
        r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {"userId": other["id"]})
        self.assert_error(r, 403, "FORBIDDEN")
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"], "PENDING")
        r = self.api.post("/api/v1/orders/987654321/cancel", {"userId": owner["id"]})
        self.assert_error(r, 404, "ORDER_NOT_FOUND")
        r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {"userId": "me"},
                          user=owner["id"])
        self.assert_error(r, 400, "VALIDATION_FAILED", field="userId")
        r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {}, user=None)
        self.assert_error(r, 401, "UNAUTHORIZED")
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"], "PENDING")


class IdempotencyTests(ServiceTestCase):

    def setUp(self):
        self.p = self.create_product(items=(("50.00", 100),))
        self.iid = self.p["items"][0]["id"]

    def test_order_with_same_key_and_body_is_created_once(self):
        u = self.create_user(balance="1000.00")
        key = uniq("idem-order")
        body = {"userId": u["id"], "recipientName": "R",
                "items": [{"productItemId": self.iid, "quantity": 3}]}
        h = {"Idempotency-Key": key}
        r1 = self.api.post("/api/v1/orders", body, headers=h)
        self.assertEqual(r1.status, 201, r1)
        c2 = self.new_client()  # a different connection replays too
        r2 = c2.post("/api/v1/orders", body, headers=h)
        c2.close()
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.json, r1.json)
        self.assertEqual(self.item_stock(self.p["id"], self.iid), 97)
        orders = self.api.get("/api/v1/users/%d/orders" % u["id"]).json["items"]
        self.assertEqual([o["orderId"] for o in orders], [r1.json["orderId"]])

    def test_same_key_with_different_body_is_422(self):
        u = self.create_user(balance="1000.00")
        key = uniq("idem-order")
        body = {"userId": u["id"], "recipientName": "R",
                "items": [{"productItemId": self.iid, "quantity": 1}]}
        r1 = self.api.post("/api/v1/orders", body, headers={"Idempotency-Key": key})
        self.assertEqual(r1.status, 201, r1)
        body2 = dict(body, items=[{"productItemId": self.iid, "quantity": 2}])
        r2 = self.api.post("/api/v1/orders", body2, headers={"Idempotency-Key": key})
        self.assert_error(r2, 422, "IDEMPOTENCY_KEY_REUSED")
        self.assertEqual(self.item_stock(self.p["id"], self.iid), 99)

    def test_payment_with_same_key_replays_and_debits_once(self):
        u = self.create_user(balance="1000.00")
        o = self.create_order(u["id"], [(self.iid, 2)])
        h = {"Idempotency-Key": uniq("idem-pay")}
        r1 = self.pay(o["orderId"], u["id"], headers=h)
        self.assertEqual(r1.status, 200, r1)
        r2 = self.pay(o["orderId"], u["id"], headers=h)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.json, r1.json)
        self.assertEqual(self.balance(u["id"]), D("900.00"))
        # without the key, paying again is the ordinary conflict
        self.assert_error(self.pay(o["orderId"], u["id"]), 409, "ORDER_NOT_PAYABLE")

    def test_keys_are_independent(self):
        u = self.create_user(balance="1000.00")
        body = {"userId": u["id"], "recipientName": "R",
                "items": [{"productItemId": self.iid, "quantity": 1}]}
        r1 = self.api.post("/api/v1/orders", body, headers={"Idempotency-Key": uniq("k")})
        r2 = self.api.post("/api/v1/orders", body, headers={"Idempotency-Key": uniq("k")})
        self.assertEqual((r1.status, r2.status), (201, 201))
        self.assertNotEqual(r1.json["orderId"], r2.json["orderId"])
        self.assertEqual(self.item_stock(self.p["id"], self.iid), 98)


class OrderExpiryTests(ServiceTestCase):
    SERVICE_ARGS = ("--order-ttl", "2s", "--order-expiry-interval", "200ms")

    def test_unpaid_order_expires_and_releases_stock(self):
        p = self.create_product(items=(("10.00", 5),))
        iid = p["items"][0]["id"]
        u = self.create_user(balance="100.00")
        o = self.create_order(u["id"], [(iid, 5)])
        ttl = (parse_time(o["expiresAt"]) - parse_time(o["orderedAt"])).total_seconds()
        self.assertAlmostEqual(ttl, 2.0, delta=1.0)
        self.assertEqual(self.item_stock(p["id"], iid), 0)
        self.assert_error(self.order(u["id"], [(iid, 1)]), 409, "OUT_OF_STOCK")

        def expired():
            return self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"] == "EXPIRED"
        wait_until(expired, 8.0, interval=0.2, message="order to become EXPIRED")
        self.assertEqual(self.item_stock(p["id"], iid), 5)
        self.assert_error(self.pay(o["orderId"], u["id"]), 409, "ORDER_NOT_PAYABLE")
        self.assertEqual(self.balance(u["id"]), D("100.00"))
        # the released stock can be ordered again
        self.create_order(u["id"], [(iid, 5)])

    def test_paid_order_does_not_expire(self):
        p = self.create_product(items=(("10.00", 5),))
        iid = p["items"][0]["id"]
        u = self.create_user(balance="100.00")
        o = self.create_order(u["id"], [(iid, 2)])
        self.assertEqual(self.pay(o["orderId"], u["id"]).status, 200)
        # An order placed after the paid one, left unpaid, expires later than the paid one would
        # have: once it reads EXPIRED, the expiry job has run past the paid order's expiry time.
        later = self.create_order(u["id"], [(iid, 1)])

        def later_expired():
            r = self.api.get("/api/v1/orders/%d" % later["orderId"], admin=True)
            return r.json["status"] == "EXPIRED"
        wait_until(later_expired, 8.0, interval=0.1, message="the later order to expire")
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"], "PAID")
        self.assertEqual(self.item_stock(p["id"], iid), 3)
        self.assertEqual(self.balance(u["id"]), D("80.00"))


if __name__ == "__main__":
    unittest.main()
