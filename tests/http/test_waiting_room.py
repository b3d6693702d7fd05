"""The waiting room (SPEC §6) over two instances sharing one Redis and one database: 200 users who
join at once get positions 1..200 exactly and are admitted strictly in that order at the global
rate (both instances together, measured and printed); protected routes serve only a caller's own
active token; a payment frees it; the operator's cap, pause and rate hold on every instance; bad
input gets a 4xx. A second class, with short TTLs: tokens nobody reads leave the line (those behind
move up) and active tokens nobody uses run out, while a used one lives on."""

import time
import unittest

from harness import Client, fan_out, redis_cmd, wait_until
from test_coupons import MultiProcessCase

RATE = 40
QUEUE_KEYS = ["queue:{queue}:" + k for k in
              ("line", "seen", "active", "owner", "users", "bucket", "admits", "config", "seq")]


class QueueHelpers:
    def reset_queue(self):
        """An empty line with the flags' settings (each test starts from nothing)."""
        redis_cmd(self.redis.cli_args, "DEL", *QUEUE_KEYS)
        time.sleep(0.3)  # every instance's admission step has seen it

    def admin_queue(self, client=None):
        r = (client or self.api).get("/api/v1/admin/queue", admin=True)
        self.assertEqual(r.status, 200, r)
        return r.json

    def patch_queue(self, body, client=None):
        r = (client or self.api).request("PATCH", "/api/v1/admin/queue", body, admin=True)
        self.assertEqual(r.status, 200, r)
        return r.json

    def join(self, uid, client=None):
        r = (client or self.api).post("/api/v1/queue/tokens", {"userId": uid})
        self.assertIn(r.status, (200, 201), r)
        return r.json

    def token_status(self, uid, token, client=None):
        return (client or self.api).get("/api/v1/queue/tokens/" + token, user=uid)

    def wait_active(self, uid, token, timeout=10.0):
        wait_until(lambda: self.token_status(uid, token).json.get("status") == "ACTIVE", timeout,
                   interval=0.05, message="token of user %d to be admitted" % uid)


class WaitingRoomTwoInstancesTest(QueueHelpers, MultiProcessCase):
    FLAGS = ["--queue-admit-per-second", str(RATE), "--queue-protect", "POST /api/v1/orders"]

    @classmethod
    def start_processes(cls):
        for name in ("queue-a", "queue-b"):
            cls.start_service(name, cls.FLAGS)

    def ports(self):
        return [s.port for s in self.services]

    def test_a_line_is_first_come_first_served_at_the_global_rate(self):
        self.reset_queue()
        self.patch_queue({"paused": True})
        users = self.make_users(200, ports=self.ports())
        for port in self.ports():  # signed in before the burst, not during it
            c = Client(port)
            for uid in users:
                c.token_for(uid)
            c.close()
        results = fan_out(users, lambda c, uid: c.post("/api/v1/queue/tokens", {"userId": uid}),
                          self.ports(), threads=32, start_together=True)
        answers = [r for r, _ in results]
        self.assertEqual([a for a in answers if isinstance(a, BaseException)][:3], [])
        self.assertEqual({a.status for a in answers}, {201}, answers[:3])
        tickets = [a.json for a in answers]
        # Arrival at Redis decides: positions 1..200 exactly, no ties, one token each.
        self.assertEqual(sorted(t["position"] for t in tickets), list(range(1, 201)))
        self.assertEqual(len({t["token"] for t in tickets}), 200)
        self.assertEqual({t["status"] for t in tickets}, {"WAITING"})
        # No admissions on record yet: the wait is the people ahead at the configured rate.
        for t in tickets:
            self.assertEqual(t["estimatedWaitMs"], (t["position"] - 1) * 1000 // RATE, t)
        by_position = {t["position"]: (uid, t["token"]) for uid, t in zip(users, tickets)}
        self.assertEqual(self.admin_queue()["waiting"], 200)

        # Admission over both instances: the rate is the global one, not twice it.
        started = time.monotonic()
        self.patch_queue({"paused": False})
        wait_until(lambda: self.admin_queue()["active"] >= 120, 30, interval=0.05,
                   message="120 admissions")
        admitted = self.patch_queue({"paused": True})["active"]
        elapsed = time.monotonic() - started
        rate = admitted / elapsed
        print("\nadmitted %d in %.2f s over two instances: %.1f a second (configured %d)"
              % (admitted, elapsed, rate, RATE))
        self.assertLess(abs(rate - RATE) / RATE, 0.15, rate)

        # Strictly in arrival order: the first `admitted` are active, the others moved forward.
        for position in range(1, 201):
            uid, token = by_position[position]
            st = self.token_status(uid, token)
            self.assertEqual(st.status, 200, st)
            if position <= admitted:
                self.assertEqual(st.json["status"], "ACTIVE", (position, st.json))
            else:
                self.assertEqual(st.json["status"], "WAITING", (position, st.json))
                self.assertEqual(st.json["position"], position - admitted, st.json)
        self.patch_queue({"paused": False})
        wait_until(lambda: self.admin_queue()["active"] == 200, 30, interval=0.1,
                   message="everyone admitted")
        figures = self.admin_queue()
        self.assertEqual(figures["waiting"], 0)
        self.assertEqual(figures["admittedLastMinute"], 200)

    def test_protected_routes_need_an_active_token_of_ones_own(self):
        self.reset_queue()
        product = self.create_product(items=(("10.00", 50),))
        item = product["items"][0]["id"]
        u = self.create_user(balance="1000.00")["id"]
        v = self.create_user(balance="1000.00")["id"]
        mine = self.join(u)
        self.wait_active(u, mine["token"])
        self.patch_queue({"paused": True})
        theirs = self.join(v)
        self.assertEqual(theirs["status"], "WAITING")

        self.assert_error(self.order(u, [(item, 1)]), 403, "QUEUE_TOKEN_REQUIRED")
        self.assert_error(self.order(u, [(item, 1)], headers={"X-Queue-Token": "nonsense"}),
                          403, "QUEUE_TOKEN_REQUIRED")
        self.assert_error(self.order(v, [(item, 1)], headers={"X-Queue-Token": theirs["token"]}),
                          403, "QUEUE_TOKEN_REQUIRED")  # still waiting
        self.assert_error(self.order(v, [(item, 1)], headers={"X-Queue-Token": mine["token"]}),
                          403, "QUEUE_TOKEN_REQUIRED")  # another user's
        # Another user can neither read nor drop a token.
        self.assert_error(self.token_status(v, mine["token"]), 403, "FORBIDDEN")
        r = self.api.request("DELETE", "/api/v1/queue/tokens/" + mine["token"], user=v)
        self.assert_error(r, 403, "FORBIDDEN")

        # Served on either instance with its own active token; the payment frees the slot.
        other = self.services[1].client()
        r = self.order(u, [(item, 1)], headers={"X-Queue-Token": mine["token"]}, client=other)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.pay(r.json["orderId"], u).status, 200)
        self.assert_error(self.token_status(u, mine["token"]), 404, "TOKEN_NOT_FOUND")
        self.assert_error(self.order(u, [(item, 1)], headers={"X-Queue-Token": mine["token"]}),
                          403, "QUEUE_TOKEN_REQUIRED")
        # The operator passes; unprotected routes never look at the line.
        r = self.api.post("/api/v1/orders", {"userId": u, "recipientName": "Op",
                                             "items": [{"productItemId": item, "quantity": 1}]},
                          admin=True)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.api.get("/api/v1/products/%d" % product["id"]).status, 200)

        # Leaving: the line forgets the token, and the user may join again.
        r = self.api.request("DELETE", "/api/v1/queue/tokens/" + theirs["token"], user=v)
        self.assertEqual(r.status, 204, r)
        self.assert_error(self.token_status(v, theirs["token"]), 404, "TOKEN_NOT_FOUND")
        again = self.api.post("/api/v1/queue/tokens", {"userId": v})
        self.assertEqual(again.status, 201, again)
        self.assertNotEqual(again.json["token"], theirs["token"])
        same = self.api.post("/api/v1/queue/tokens", {"userId": v})
        self.assertEqual((same.status, same.json["token"]), (200, again.json["token"]))
        other.close()

    def test_a_payment_the_operator_makes_for_the_owner_frees_the_owners_slot(self):
        self.reset_queue()
        item = self.create_product(items=(("10.00", 50),))["items"][0]["id"]
        u = self.create_user(balance="1000.00")["id"]
        v = self.create_user(balance="1000.00")["id"]
        ticket = self.join(u)
        self.wait_active(u, ticket["token"])
        r = self.api.post("/api/v1/orders", {"userId": u, "recipientName": "Op",
                                             "items": [{"productItemId": item, "quantity": 1}]},
                          admin=True)
        self.assertEqual(r.status, 201, r)
        path = "/api/v1/orders/%d/payment" % r.json["orderId"]
        # Acting for someone who does not own the order pays nothing and frees nothing.
        self.assert_error(self.api.post(path, {"userId": v}, admin=True), 403, "FORBIDDEN")
        self.assertEqual(self.token_status(u, ticket["token"]).json["status"], "ACTIVE")
        paid = self.api.post(path, {"userId": u}, admin=True)
        self.assertEqual(paid.status, 200, paid)
        self.assert_error(self.token_status(u, ticket["token"]), 404, "TOKEN_NOT_FOUND")

    def test_the_operator_caps_pauses_and_sets_the_rate_for_every_instance(self):
        self.reset_queue()
        other = self.services[1].client()
        after = self.patch_queue({"maxActive": 2, "admitPerSecond": 500})
        self.assertEqual((after["maxActive"], after["admitPerSecond"]), (2, 500))
        seen = self.admin_queue(other)  # the other instance: at once (the settings are shared)
        self.assertEqual((seen["maxActive"], seen["admitPerSecond"], seen["paused"]),
                         (2, 500, False))
        users = [self.create_user()["id"] for _ in range(4)]
        tickets = [self.join(uid, client=other if k % 2 else None)
                   for k, uid in enumerate(users)]
        wait_until(lambda: self.admin_queue()["active"] == 2, 10, interval=0.05,
                   message="two active")
        time.sleep(0.5)
        figures = self.admin_queue()
        self.assertEqual((figures["active"], figures["waiting"]), (2, 2), figures)
        # A slot freed lets the next one in.
        r = self.api.request("DELETE", "/api/v1/queue/tokens/" + tickets[0]["token"],
                             user=users[0])
        self.assertEqual(r.status, 204, r)
        self.wait_active(users[2], tickets[2]["token"])
        self.assertEqual(self.token_status(users[3], tickets[3]["token"]).json["position"], 1)
        other.close()

    def test_bad_requests_are_refused_clearly(self):
        uid = self.create_user()["id"]
        r = self.api.post("/api/v1/queue/tokens", {}, user=None)
        self.assert_error(r, 401, "UNAUTHORIZED")
        self.assert_error(self.api.get("/api/v1/admin/queue"), 401, "UNAUTHORIZED")
        self.assert_error(self.api.get("/api/v1/admin/queue", user=uid), 401, "UNAUTHORIZED")
        for body, field in (({"admitPerSecond": 0}, "admitPerSecond"),
                            ({"admitPerSecond": 10 ** 30}, "admitPerSecond"),
                            ({"maxActive": -1}, "maxActive"),
                            ({"paused": "yes"}, "paused"),
                            ({"speed": 3}, "speed")):
            r = self.api.request("PATCH", "/api/v1/admin/queue", body, admin=True)
            self.assert_error(r, 400, "VALIDATION_FAILED", field)
        r = self.api.request("PATCH", "/api/v1/admin/queue", raw="{", admin=True)
        self.assert_error(r, 400, "VALIDATION_FAILED")
        self.assert_error(self.token_status(uid, "0" * 32), 404, "TOKEN_NOT_FOUND")
        self.assert_error(self.token_status(uid, "not-a-token"), 404, "TOKEN_NOT_FOUND")
        r = self.api.post("/api/v1/queue/tokens", {"userId": uid + 1}, user=uid)
        self.assert_error(r, 403, "FORBIDDEN")


class WaitingRoomTimeoutsTest(QueueHelpers, MultiProcessCase):
    FLAGS = ["--queue-waiting-ttl", "2s", "--queue-active-ttl", "2s", "--queue-admit-per-second",
             "50", "--queue-protect", "POST /api/v1/orders"]

    @classmethod
    def start_processes(cls):
        cls.start_service("queue-ttl", cls.FLAGS)

    def test_tokens_nobody_reads_leave_the_line(self):
        self.reset_queue()
        self.patch_queue({"paused": True})
        users = [self.create_user()["id"] for _ in range(3)]
        tickets = [self.join(uid) for uid in users]
        self.assertEqual([t["position"] for t in tickets], [1, 2, 3])
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:  # only the last keeps its tab open
            self.assertEqual(self.token_status(users[2], tickets[2]["token"]).status, 200)
            time.sleep(0.4)
        st = self.token_status(users[2], tickets[2]["token"]).json
        self.assertEqual((st["status"], st["position"]), ("WAITING", 1), st)
        self.assert_error(self.token_status(users[0], tickets[0]["token"]), 404,
                          "TOKEN_NOT_FOUND")
        self.assertEqual(self.admin_queue()["waiting"], 1)

    def test_an_unused_active_token_runs_out_and_a_used_one_lives_on(self):
        self.reset_queue()
        used, unused = self.create_user()["id"], self.create_user()["id"]
        a, b = self.join(used), self.join(unused)
        self.wait_active(used, a["token"])
        self.wait_active(unused, b["token"])
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            # An unknown item: the waiting room let it through, the shop refused it.
            r = self.order(used, [(987654321, 1)], headers={"X-Queue-Token": a["token"]})
            self.assert_error(r, 404, "ITEM_NOT_FOUND")
            time.sleep(0.7)
        self.assert_error(self.order(unused, [(987654321, 1)],
                                     headers={"X-Queue-Token": b["token"]}),
                          403, "QUEUE_TOKEN_REQUIRED")
        self.assert_error(self.token_status(unused, b["token"]), 404, "TOKEN_NOT_FOUND")
        self.assertEqual(self.token_status(used, a["token"]).json["status"], "ACTIVE")


if __name__ == "__main__":
    unittest.main()
