"""Rankings (SPEC §5), the source side: every paid and every canceled paid order reaches the
order-event stream through the outbox relay, at least once and in outbox order, and no outbox row
stays unsent — on one instance, and with two instances sharing the database and Redis (one relays
at a time, under a lease)."""

import json
import os
import subprocess
import time
import unittest

from harness import ServiceTestCase, wait_until
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


class RelayTests(RelayCases, ServiceTestCase):

    def redis_args(self):
        return ["-s", os.path.join(self.svc.data_dir, "redis", "redis.sock")]


class TwoInstanceRelayTests(RelayCases, MultiProcessCase):

    @classmethod
    def start_processes(cls):
        cls.start_service("relay-a", ("--outbox-relay-interval", "50ms"))
        cls.start_service("relay-b", ("--outbox-relay-interval", "50ms"))

    def redis_args(self):
        return ["-p", str(self.redis.port)]


if __name__ == "__main__":
    unittest.main()
