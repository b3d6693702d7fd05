"""SPEC §3 cart, driven over HTTP against the real binary (SQLite; test_cart_pg.py runs the same
classes on PostgreSQL): lines read with today's prices and stock, the limits, only the owner (or
the admin), and a checkout that is one order for every line, all or nothing — exact when many
carts compete for the last units."""

import decimal
import unittest

from harness import ServiceTestCase, money, run_concurrently, uniq

D = decimal.Decimal


class CartTestCase(ServiceTestCase):

    def cart_path(self, uid):
        return "/api/v1/users/%d/cart" % uid

    def put_line(self, uid, item_id, quantity, client=None, **kw):
        return (client or self.api).put(self.cart_path(uid) + "/items",
                                         {"productItemId": item_id, "quantity": quantity}, **kw)

    def set_line(self, uid, item_id, quantity):
        r = self.put_line(uid, item_id, quantity)
        self.assertEqual(r.status, 200, r)
        return r.json

    def read_cart(self, uid, **kw):
        r = self.api.get(self.cart_path(uid), **kw)
        self.assertEqual(r.status, 200, r)
        return r.json

    def checkout(self, uid, recipient="Hong Gildong", client=None, headers=None, **extra):
        body = {"recipientName": recipient}
        body.update(extra)
        return (client or self.api).post(self.cart_path(uid) + "/checkout", body, headers=headers)


class CartLineTests(CartTestCase):

    def test_lines_are_set_changed_removed_and_read_with_todays_prices(self):
        p = self.create_product(items=(("1200.50", 10), ("0.10", 4)), name="Kettle " + uniq())
        i1, i2 = p["items"][0], p["items"][1]
        u = self.create_user()["id"]
        cart = self.read_cart(u)
        self.assertEqual(cart, {"userId": u, "items": [], "totalQuantity": 0,
                                "totalAmount": "0.00", "allAvailable": True})
        cart = self.set_line(u, i1["id"], 2)
        self.assertEqual(len(cart["items"]), 1)
        line = cart["items"][0]
        self.assertEqual(line["productItemId"], i1["id"])
        self.assertEqual(line["productId"], p["id"])
        self.assertEqual(line["productName"], p["name"])
        self.assertEqual(line["itemName"], i1["name"])
        self.assertEqual(money(line["unitPrice"]), D("1200.50"))
        self.assertEqual(line["quantity"], 2)
        self.assertEqual(money(line["subtotal"]), D("2401.00"))
        self.assertIs(line["available"], True)
        self.assertEqual(line["availableStock"], 10)
        self.set_line(u, i1["id"], 5)  # sets, not adds
        cart = self.set_line(u, i2["id"], 3)
        self.assertEqual([ln["quantity"] for ln in cart["items"]], [5, 3])
        self.assertEqual(cart["totalQuantity"], 8)
        self.assertEqual(money(cart["totalAmount"]), D("6002.80"))
        # A price changed after the line was added: the cart shows the price now.
        r = self.api.put("/api/v1/products/%d" % p["id"],
                         {"version": p["version"],
                          "items": [{"id": i1["id"], "unitPrice": "1000.00"}]}, admin=True)
        self.assertEqual(r.status, 200, r)
        cart = self.read_cart(u)
        self.assertEqual(money(cart["items"][0]["unitPrice"]), D("1000.00"))
        self.assertEqual(money(cart["totalAmount"]), D("5000.30"))
        cart = self.set_line(u, i2["id"], 0)  # 0 removes
        self.assertEqual([ln["productItemId"] for ln in cart["items"]], [i1["id"]])
        r = self.api.request("DELETE", self.cart_path(u) + "/items/%d" % i1["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["items"], [])
        r = self.api.request("DELETE", self.cart_path(u) + "/items/%d" % i1["id"])
        self.assert_error(r, 404, "ITEM_NOT_FOUND")

    def test_a_line_beyond_the_stock_reads_unavailable(self):
        p = self.create_product(items=(("10.00", 3), ("20.00", 9)))
        u = self.create_user()["id"]
        self.set_line(u, p["items"][1]["id"], 1)
        cart = self.set_line(u, p["items"][0]["id"], 5)
        low = [ln for ln in cart["items"] if ln["productItemId"] == p["items"][0]["id"]][0]
        self.assertIs(low["available"], False)
        self.assertEqual(low["availableStock"], 3)
        self.assertIs(cart["allAvailable"], False)
        cart = self.set_line(u, p["items"][0]["id"], 3)
        self.assertIs(cart["allAvailable"], True)

    def test_bad_lines_are_refused_with_the_field_named(self):
        p = self.create_product(items=(("10.00", 3),))
        item = p["items"][0]["id"]
        u = self.create_user()["id"]
        for q in (1000, -1, "2", 2.5, None, 2 ** 70):
            r = self.put_line(u, item, q)
            self.assert_error(r, 400, "VALIDATION_FAILED", field="quantity")
        for bad in (0, -3, "x", None):
            r = self.put_line(u, bad, 1)
            self.assert_error(r, 400, "VALIDATION_FAILED", field="productItemId")
        self.assert_error(self.put_line(u, 987654321, 1), 404, "ITEM_NOT_FOUND")
        r = self.api.put(self.cart_path(u) + "/items", raw='{"productItemId": 1,', user=u)
        self.assert_error(r, 400, "VALIDATION_FAILED")
        self.assertEqual(self.read_cart(u)["items"], [])
        self.assertEqual(self.set_line(u, item, 999)["items"][0]["quantity"], 999)

    def test_a_cart_holds_at_most_100_lines(self):
        items = [it["id"] for _ in range(2)
                 for it in self.create_product(items=[("1.00", 5)] * 51)["items"]]
        u = self.create_user()["id"]
        for it in items[:100]:
            self.set_line(u, it, 1)
        r = self.put_line(u, items[100], 1)
        self.assert_error(r, 400, "VALIDATION_FAILED")
        self.assertEqual(len(self.read_cart(u)["items"]), 100)
        # Changing a line already there is still allowed at 100 lines.
        self.assertEqual(self.set_line(u, items[0], 2)["totalQuantity"], 101)

    def test_concurrent_additions_cannot_pass_the_line_limit(self):
        items = [it["id"] for _ in range(2)
                 for it in self.create_product(items=[("1.00", 5)] * 52)["items"]]
        u = self.create_user()["id"]
        for it in items[:97]:
            self.set_line(u, it, 1)
        self.api.token_for(u)
        extra = items[97:104]  # 7 new lines race for the 3 places left

        def go(i, client):
            return self.put_line(u, extra[i], 1, client=client).status

        statuses = run_concurrently(len(extra), go, setup=lambda i: self.new_client().connect())
        self.assertEqual(statuses.count(200), 3, statuses)
        self.assertEqual(statuses.count(400), 4, statuses)
        self.assertEqual(len(self.read_cart(u)["items"]), 100)

    def test_only_the_owner_or_the_admin(self):
        p = self.create_product(items=(("10.00", 3),))
        owner, other = self.create_user()["id"], self.create_user()["id"]
        self.set_line(owner, p["items"][0]["id"], 1)
        self.assert_error(self.api.get(self.cart_path(owner), user=other), 403, "FORBIDDEN")
        self.assert_error(self.put_line(owner, p["items"][0]["id"], 2, user=other), 403,
                          "FORBIDDEN")
        self.assert_error(self.checkout(owner, headers={"Authorization": "Bearer forged.x.y"}),
                          401, "UNAUTHORIZED")
        self.assert_error(self.api.get(self.cart_path(owner), user=None), 401, "UNAUTHORIZED")
        r = self.api.put(self.cart_path(owner) + "/items",
                         {"userId": other, "productItemId": p["items"][0]["id"], "quantity": 2},
                         user=owner)
        self.assert_error(r, 403, "FORBIDDEN")
        r = self.api.get(self.cart_path(owner), admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["totalQuantity"], 1)
        self.assert_error(self.api.get(self.cart_path(987654321), admin=True), 404,
                          "USER_NOT_FOUND")
        self.assertEqual(self.read_cart(owner)["totalQuantity"], 1)


class CheckoutTests(CartTestCase):

    def test_checkout_orders_every_line_and_empties_the_cart(self):
        p1 = self.create_product(items=(("1200.55", 20), ("0.10", 20)))
        p2 = self.create_product(items=(("19.99", 20),))
        u = self.create_user(balance="100000.00")["id"]
        self.set_line(u, p1["items"][0]["id"], 7)
        self.set_line(u, p1["items"][1]["id"], 3)
        self.set_line(u, p2["items"][0]["id"], 3)
        r = self.checkout(u, recipient="Kim Cheolsu", memo="leave at the door")
        self.assertEqual(r.status, 201, r)
        o = r.json
        self.assertEqual(o["userId"], u)
        self.assertEqual(o["status"], "PENDING")
        self.assertEqual(o["recipientName"], "Kim Cheolsu")
        self.assertEqual(o["memo"], "leave at the door")
        self.assertEqual({ln["productItemId"]: ln["quantity"] for ln in o["items"]},
                         {p1["items"][0]["id"]: 7, p1["items"][1]["id"]: 3,
                          p2["items"][0]["id"]: 3})
        self.assertEqual(money(o["totalAmount"]), D("8464.12"))
        self.assertEqual(money(o["payableAmount"]), D("8464.12"))
        self.assertEqual(self.read_cart(u)["items"], [])
        self.assertEqual(self.item_stock(p1["id"], p1["items"][0]["id"]), 13)
        self.assertEqual(self.item_stock(p2["id"], p2["items"][0]["id"]), 17)
        # It is an order like any other: readable, payable.
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], user=u).status, 200)
        self.assertEqual(self.pay(o["orderId"], u).status, 200)

    def test_out_of_stock_anywhere_changes_nothing(self):
        p = self.create_product(items=(("10.00", 5), ("30.00", 2)))
        plenty, scarce = p["items"][0]["id"], p["items"][1]["id"]
        u = self.create_user()["id"]
        self.set_line(u, plenty, 4)
        self.set_line(u, scarce, 3)
        before = self.read_cart(u)
        r = self.checkout(u)
        body = self.assert_error(r, 409, "OUT_OF_STOCK")
        self.assertIn(str(scarce), body["message"])  # names the item
        self.assertEqual(self.read_cart(u), before)
        self.assertEqual(self.item_stock(p["id"], plenty), 5)
        self.assertEqual(self.item_stock(p["id"], scarce), 2)
        r = self.api.get("/api/v1/users/%d/orders" % u)
        self.assertEqual(r.json["total"], 0, r)

    def test_an_empty_cart_or_a_bad_body_is_refused(self):
        u = self.create_user()["id"]
        self.assert_error(self.checkout(u), 400, "VALIDATION_FAILED")
        p = self.create_product(items=(("10.00", 5),))
        self.set_line(u, p["items"][0]["id"], 1)
        r = self.api.post(self.cart_path(u) + "/checkout", {"memo": "x"})
        self.assert_error(r, 400, "VALIDATION_FAILED", field="recipientName")
        r = self.checkout(u, couponId=987654321)
        self.assert_error(r, 404, "COUPON_NOT_FOUND")
        self.assertEqual(self.read_cart(u)["totalQuantity"], 1)
        self.assertEqual(self.item_stock(p["id"], p["items"][0]["id"]), 5)

    def test_the_same_idempotency_key_replays_the_first_order(self):
        p = self.create_product(items=(("10.00", 5),))
        u = self.create_user()["id"]
        self.set_line(u, p["items"][0]["id"], 2)
        key = {"Idempotency-Key": uniq("checkout")}
        first = self.checkout(u, headers=key)
        self.assertEqual(first.status, 201, first)
        again = self.checkout(u, headers=key)
        self.assertEqual(again.status, 201, again)
        self.assertEqual(again.json["orderId"], first.json["orderId"])
        self.assertEqual(self.item_stock(p["id"], p["items"][0]["id"]), 3)
        self.assertEqual(self.api.get("/api/v1/users/%d/orders" % u).json["total"], 1)

    def test_carts_competing_for_the_last_units_sell_exactly_the_stock(self):
        stock, buyers = 7, 20
        p = self.create_product(items=(("10.00", stock), ("5.00", 1000)))
        scarce, plenty = p["items"][0]["id"], p["items"][1]["id"]
        users = [self.create_user()["id"] for _ in range(buyers)]
        for u in users:
            self.set_line(u, scarce, 1)
            self.set_line(u, plenty, 2)
            self.api.token_for(u)

        def go(i, client):
            return self.checkout(users[i], client=client).status

        statuses = run_concurrently(buyers, go, setup=lambda i: self.new_client().connect())
        self.assertEqual(sorted(set(statuses)), [201, 409], statuses)
        self.assertEqual(statuses.count(201), stock, statuses)
        self.assertEqual(self.item_stock(p["id"], scarce), 0)
        self.assertEqual(self.item_stock(p["id"], plenty), 1000 - 2 * stock)
        for u, status in zip(users, statuses):
            cart = self.read_cart(u)
            if status == 201:
                self.assertEqual(cart["items"], [], u)
            else:  # the loser's cart is intact
                self.assertEqual({ln["productItemId"]: ln["quantity"] for ln in cart["items"]},
                                 {scarce: 1, plenty: 2}, u)


class QueueProtectedCheckoutTests(CartTestCase):
    SERVICE_ARGS = ("--queue-protect", "POST /api/v1/users/{id}/cart/checkout")

    def test_the_waiting_room_can_protect_the_checkout(self):
        p = self.create_product(items=(("10.00", 5),))
        u = self.create_user()["id"]
        self.set_line(u, p["items"][0]["id"], 1)
        self.assert_error(self.checkout(u), 403, "QUEUE_TOKEN_REQUIRED")
        self.assertEqual(self.read_cart(u)["totalQuantity"], 1)


if __name__ == "__main__":
    unittest.main()
