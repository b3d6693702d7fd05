"""Rankings (SPEC §5), the source side: every paid and every canceled paid order reaches the
order-event stream through the outbox relay, at least once and in outbox order; the ranking
updater sums each event once into every window (all products and per category), however often it
is delivered — on one instance, and with two instances sharing the database and Redis."""

import json
import os
import subprocess
import time
import unittest

from harness import ServiceTestCase, redis_cmd, wait_until
from test_coupons import MultiProcessCase

STREAM = "order-events:{rank}"


def stream_events(redis_args):
    """The stream's entries as (outbox_id, topic, payload dict), oldest first."""
    out = subprocess.run(["redis-cli", *redis_args, "--raw", "XRANGE", STREAM, "-", "+"],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    lines = [line for line in out.splitlines() if line]  # an empty stream prints one blank line
    events, i = [], 0
    while i < len(lines):
        # id, then field/value pairs: outbox_id, topic, payload
        fields = lines[i + 1:i + 7]
        d = dict(zip(fields[0::2], fields[1::2]))
        events.append((int(d["outbox_id"]), d["topic"], json.loads(d["payload"])))
        i += 7
    return events


class RelayCases:
    """Needs self.redis_args() and the ServiceTestCase helpers."""

    def pay_and_cancel(self, n):
        p = self.create_product(items=(("10.00", 1000),))
        iid = p["items"][0]["id"]
        paid, canceled = [], []
        for i in range(n):
            u = self.create_user(balance="1000.00")["id"]
            o = self.create_order(u, [(iid, 1 + i % 3)])
            self.assertEqual(self.pay(o["orderId"], u).status, 200)
            paid.append(o["orderId"])
            if i % 4 == 0:
                r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {}, user=u)
                self.assertEqual(r.status, 200, r)
                canceled.append(o["orderId"])
        return paid, canceled

    def test_paid_and_canceled_orders_reach_the_stream_in_outbox_order(self):
        paid, canceled = self.pay_and_cancel(12)
        started = time.monotonic()

        def relayed():
            events = stream_events(self.redis_args())
            got_paid = {e[2]["orderId"] for e in events if e[1] == "order-paid"}
            got_canceled = {e[2]["orderId"] for e in events if e[1] == "order-canceled"}
            return events if set(paid) <= got_paid and set(canceled) <= got_canceled else None
        events = wait_until(relayed, 5.0, interval=0.05, message="the events to be relayed")
        print("\n%s: %d events relayed within %.2f s" % (type(self).__name__, len(events),
                                                         time.monotonic() - started))
        ids = [e[0] for e in events]
        # At least once, in outbox order: the first delivery of each id comes in increasing order.
        first = []
        for i in ids:
            if i not in first:
                first.append(i)
        self.assertEqual(first, sorted(first))
        self.assertEqual(len(set(ids)), len(paid) + len(canceled))
        for _, topic, payload in events:
            self.assertIn(topic, ("order-paid", "order-canceled"))
            self.assertTrue(payload["items"], payload)


FAMILIES = ("h1", "d1", "d3", "d7")


class UpdaterCases:
    """Needs self.redis_args() and the ServiceTestCase helpers."""

    def window_sum(self, family, metric, scope, product):
        # Members are product ids zero-padded to 19 digits (equal scores then order by id).
        v = redis_cmd(self.redis_args(), "ZSCORE", "rank:{rank}:w:%s:%s:%s" % (family, metric, scope),
                      "%019d" % product)
        return float(v) if v else 0.0

    def test_every_window_sums_the_paid_orders_once_per_event(self):
        cats = [self.create_category()["id"] for _ in range(2)]
        products = [self.create_product(items=(("12.50", 1000),), category_id=cats[i % 2])
                    for i in range(4)]
        expected = {p["id"]: [0, 0] for p in products}  # product -> [quantity, cents]
        category = {p["id"]: cats[i % 2] for i, p in enumerate(products)}
        for i in range(12):
            p = products[i % 4]
            qty = 1 + i % 3
            u = self.create_user(balance="10000.00")["id"]
            o = self.create_order(u, [(p["items"][0]["id"], qty)])
            self.assertEqual(self.pay(o["orderId"], u).status, 200)
            expected[p["id"]][0] += qty
            expected[p["id"]][1] += qty * 1250
            if i % 5 == 0:  # a paid order canceled later is taken back out
                r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {}, user=u)
                self.assertEqual(r.status, 200, r)
                expected[p["id"]][0] -= qty
                expected[p["id"]][1] -= qty * 1250
        unpaid_user = self.create_user(balance="10000.00")["id"]
        self.create_order(unpaid_user, [(products[0]["items"][0]["id"], 5)])  # counts nothing

        def matches():
            for pid, (qty, cents) in expected.items():
                for fam in FAMILIES:
                    for scope in ("all", "c%d" % category[pid]):
                        if (self.window_sum(fam, "sales", scope, pid),
                                self.window_sum(fam, "revenue", scope, pid)) != (qty, cents):
                            return False
            return True
        started = time.monotonic()
        wait_until(matches, 5.0, interval=0.05, message="the rankings to sum the paid orders")
        print("\n%s: the windows matched the database within %.2f s"
              % (type(self).__name__, time.monotonic() - started))
        # Every event again (a relay that crashed before marking them sent): nothing changes.
        for outbox_id, topic, payload in self.outbox_rows():
            redis_cmd(self.redis_args(), "XADD", STREAM, "*", "outbox_id", str(outbox_id),
                      "topic", topic, "payload", payload)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            self.assertTrue(matches(), "a redelivered event was counted again")
            time.sleep(0.1)
        # The operators' view of the stream: drained, nothing pending, nothing dead-lettered.
        streams = {x["name"]: x for x in self.api.get("/api/v1/admin/streams",
                                                      admin=True).json["streams"]}
        self.assertIn(STREAM, streams)
        wait_until(lambda: self.api.get("/api/v1/admin/streams", admin=True).json["streams"]
                   and all(x["pending"] == 0 and x["deadLettered"] == 0
                           for x in self.api.get("/api/v1/admin/streams", admin=True)
                           .json["streams"] if x["name"] == STREAM),
                   5.0, interval=0.1, message="the order-event stream to be drained")
        # A product in no other category does not show in the other's window.
        other = cats[1] if category[products[0]["id"]] == cats[0] else cats[0]
        self.assertEqual(self.window_sum("d7", "sales", "c%d" % other, products[0]["id"]), 0.0)


def sqlite_rows(path, sql):
    out = subprocess.run(["sqlite3", "-separator", "\t", path, sql], capture_output=True,
                         text=True, timeout=10, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


class EmbeddedService:
    def redis_args(self):
        return ["-s", os.path.join(self.svc.data_dir, "redis", "redis.sock")]

    def outbox_rows(self):
        rows = sqlite_rows(os.path.join(self.svc.data_dir, "joopang.db"),
                           "SELECT id, topic, payload FROM outbox ORDER BY id")
        return [(int(i), t, p) for i, t, p in rows]


class TwoInstances(MultiProcessCase):

    @classmethod
    def start_processes(cls):
        for name in ("rank-a", "rank-b"):
            cls.start_service(name, ("--outbox-relay-interval", "50ms") + cls.EXTRA_ARGS)

    def redis_args(self):
        return self.redis.cli_args

    def outbox_rows(self):
        rows = sqlite_rows(self.database[len("sqlite://"):],
                           "SELECT id, topic, payload FROM outbox ORDER BY id")
        return [(int(i), t, p) for i, t, p in rows]


# The relay tests read the whole stream: no updater (which runs with the persister) trims it.
NO_UPDATER = ("--coupon-persister", "false")


class RelayTests(RelayCases, EmbeddedService, ServiceTestCase):
    SERVICE_ARGS = NO_UPDATER


class TwoInstanceRelayTests(RelayCases, TwoInstances):
    EXTRA_ARGS = NO_UPDATER


class UpdaterTests(UpdaterCases, EmbeddedService, ServiceTestCase):
    pass


class TwoInstanceUpdaterTests(UpdaterCases, TwoInstances):
    EXTRA_ARGS = ()


if __name__ == "__main__":
    unittest.main()
