"""SPEC §7, /metrics: every figure it lists is there, in Prometheus conventions, and moves while
a coupon drop, orders, product reads and waiting-room joins go on — request counts and latencies
per route and status, stream figures (a win the database refuses keeps an entry pending, retried
and finally dead-lettered), cache hits and misses, coupons reserved and persisted per template,
ranking refresh durations, Redis and database call latency, waiting-room sizes and admission,
Redis health with a real replica attached."""

import unittest

from harness import ExternalRedis, ServiceTestCase, redis_cmd, wait_until
from test_coupons import CouponHelpers
from test_ops import metric_samples

# A refused win is retried, ten times, before it is dead-lettered: long enough for the stream
# figures (sampled every 2 s) to show it pending. Its back-off doubles from 1 s, but the entry is
# also reclaimed by the other lanes once it has been idle for --claim-idle (1 s), so the ten come
# within some 15 s (Redis 7.0, as Debian 12 ships it).
STREAM_ARGS = ("--max-deliveries", "10", "--persist-retry-delay", "1s", "--claim-idle", "1s",
               "--issue-rate-limit", "1000")


class MetricsDuringADrop(CouponHelpers, ServiceTestCase):

    @classmethod
    def setUpClass(cls):
        # Redis outside the service, so that a replica can be attached once the service runs
        # (attached before, it would make --issue-durability auto wait for the replica).
        cls.master = ExternalRedis().start()
        cls.replica = ExternalRedis().start()
        cls.SERVICE_ARGS = STREAM_ARGS + ("--redis", cls.master.url)
        try:
            super().setUpClass()
        except BaseException:
            cls.replica.stop()
            cls.master.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.replica.stop()
            cls.master.stop()

    def scrape(self):
        samples, types = metric_samples(self.api.get("/metrics").body.decode())
        return samples, types

    @staticmethod
    def total(samples, name, **labels):
        return sum(v for n, ls, v in samples
                   if n == name and all(ls.get(k) == str(want) for k, want in labels.items()))

    @staticmethod
    def has(samples, name, **labels):
        return any(n == name and all(ls.get(k) == str(v) for k, v in labels.items())
                   for n, ls, _ in samples)

    def stream_figure(self, name, tid):
        return self.total(self.scrape()[0], name, stream="coupon-issue:{%d}" % tid)

    def test_a_refused_win_shows_in_the_stream_figures_until_it_is_dead_lettered(self):
        before, _ = self.scrape()
        t = self.create_template(totalQuantity=3)["id"]
        poison = self.create_user()["id"]
        self.sqlite("CREATE TRIGGER poison BEFORE INSERT ON coupons WHEN NEW.user_id = %d "
                    "BEGIN SELECT RAISE(ABORT, 'poison'); END;" % poison)
        try:
            self.issue_ok(t, poison)
            # While the database refuses it, the entry stays in the stream, pending and growing
            # older, and each refusal counts as a retried delivery.
            for name in ("joopang_stream_length", "joopang_stream_pending"):
                wait_until(lambda: self.stream_figure(name, t) == 1, 15,
                           message="%s of the refused win's stream at 1" % name)
            wait_until(lambda: self.stream_figure("joopang_stream_oldest_pending_age_seconds",
                                                  t) >= 1, 15,
                       message="the refused win pending for a second or more")
            wait_until(lambda: self.stream_figure("joopang_stream_deliveries_retried_total",
                                                  t) >= 2, 15,
                       message="retried deliveries counted")
            self.assertEqual(self.stream_figure("joopang_stream_lag", t), 0)  # delivered
            wait_until(lambda: self.stream_figure("joopang_stream_dead_letters", t) == 1, 30,
                       message="the refused win dead-lettered")
        finally:
            self.sqlite("DROP TRIGGER IF EXISTS poison;")
        wait_until(lambda: self.stream_figure("joopang_stream_pending", t) == 0, 15,
                   message="nothing pending once dead-lettered")
        after, _ = self.scrape()
        self.assertGreater(self.total(after, "joopang_stream_dead_lettered_total"),
                           self.total(before, "joopang_stream_dead_lettered_total"))

    def test_redis_health_shows_a_replica_attached(self):
        redis_cmd(self.replica.cli_args, "REPLICAOF", "127.0.0.1", str(self.master.port))
        try:
            address = "127.0.0.1:%d" % self.replica.port
            wait_until(lambda: self.total(self.scrape()[0], "joopang_redis_connected_replicas")
                       == 1, 20, message="the replica counted (Redis health samples every 2 s)")
            samples, _ = self.scrape()
            self.assertTrue(self.has(samples, "joopang_redis_replica_lag_seconds",
                                     replica=address), address)
            self.assertTrue(self.has(samples, "joopang_redis_replica_behind_bytes",
                                     replica=address), address)
            self.assertLess(self.total(samples, "joopang_redis_replica_lag_seconds"), 10)
            # Writes move the replication offset.
            offset = self.total(samples, "joopang_redis_replication_offset_bytes")
            self.create_user()
            wait_until(lambda: self.total(self.scrape()[0],
                                          "joopang_redis_replication_offset_bytes") > offset, 10,
                       message="the replication offset moved")
        finally:
            redis_cmd(self.replica.cli_args, "REPLICAOF", "NO", "ONE")
        wait_until(lambda: self.total(self.scrape()[0], "joopang_redis_connected_replicas") == 0,
                   20, message="the detached replica no longer counted")

    def test_every_spec_figure_is_present_and_moves(self):
        before, _ = self.scrape()
        # A drop of 5 among 8 users, all persisted.
        t = self.create_template(totalQuantity=5)["id"]
        users = [self.create_user()["id"] for _ in range(8)]
        won = sum(1 for u in users if self.issue(t, u).status == 202)
        self.assertEqual(won, 5)
        self.wait_issued_quantity(t, 5)
        # Orders, product reads (the second from the cache), a waiting-room join.
        p = self.create_product(items=(("10.00", 10),))
        u = self.create_user(balance="1000.00")["id"]
        o = self.create_order(u, [(p["items"][0]["id"], 1)])
        self.assertEqual(self.pay(o["orderId"], u).status, 200)
        # A line: with admission paused a join waits; resumed, it is admitted.
        self.assertEqual(self.api.request("PATCH", "/api/v1/admin/queue", {"paused": True},
                                          admin=True).status, 200)
        try:
            self.assertEqual(self.api.post("/api/v1/queue/tokens", {}, user=u).status, 201)
            wait_until(lambda: self.total(self.scrape()[0], "joopang_queue_waiting") == 1, 10,
                       message="one waiting in the line")
        finally:
            self.assertEqual(self.api.request("PATCH", "/api/v1/admin/queue", {"paused": False},
                                              admin=True).status, 200)
        wait_until(lambda: self.total(self.scrape()[0], "joopang_queue_active") == 1, 10,
                   message="the waiting user admitted")

        def moved(name, **labels):
            return self.total(self.scrape()[0], name, **labels) > self.total(before, name,
                                                                              **labels)

        # The order's stock changes reach this instance's cache again through the catalog-sync
        # job, which may drop the entry between two reads: read twice until one is a hit.
        def read_twice_and_hit():
            self.get_product(p["id"])
            self.get_product(p["id"])
            return moved("joopang_cache_requests_total", cache="product", result="hit")
        wait_until(read_twice_and_hit, 5, message="a repeated product read served from the cache")

        # Jobs run on their own periods (ranking refresh 1 s, redis health 2 s, admission 100 ms).
        for name, labels in (("joopang_job_duration_seconds_count", {"job": "ranking-refresh"}),
                             ("joopang_queue_admitted_total", {}),
                             ("joopang_stream_handled_total", {})):
            wait_until(lambda: moved(name, **labels), 15, message="%s %s moved" % (name, labels))
        wait_until(lambda: self.total(self.scrape()[0], "joopang_redis_used_memory_bytes") > 0, 10,
                   message="Redis health sampled")
        # The drop as the drop monitor samples it (every second): its counters, each key's
        # size, TTL and length, and Redis bytes per winner.
        wait_until(lambda: self.total(self.scrape()[0], "joopang_coupon_drop_persisted",
                                      template=t) == 5, 10, message="the drop sampled")
        after, types = self.scrape()

        issue_route = {"method": "POST", "route": "/api/v1/coupon-templates/{id}/issue"}
        for name, labels in (
                ("joopang_http_requests_total", {}),
                ("joopang_http_request_duration_seconds_count", {}),
                # Per route and status: the five wins and the three sold-out answers.
                ("joopang_http_requests_total", dict(issue_route, status=202)),
                ("joopang_http_requests_total", dict(issue_route, status=410)),
                ("joopang_http_request_duration_seconds_count", dict(issue_route, status=202)),
                ("joopang_http_request_duration_seconds_count", dict(issue_route, status=410)),
                ("joopang_cache_requests_total", {"cache": "product", "result": "hit"}),
                ("joopang_cache_requests_total", {"cache": "product", "result": "miss"}),
                ("joopang_coupon_issue_total", {"template": t}),
                ("joopang_coupons_persisted_total", {"template": t}),
                ("joopang_redis_call_duration_seconds_count", {}),
                ("joopang_db_transaction_duration_seconds_count", {})):
            self.assertGreater(self.total(after, name, **labels), self.total(before, name, **labels),
                               "%s %s did not move" % (name, labels))
        self.assertEqual(self.total(after, "joopang_coupons_persisted_total", template=t), 5)
        self.assertEqual(self.total(after, "joopang_coupon_drop_reserved", template=t), 5)
        self.assertEqual(self.total(after, "joopang_coupon_drop_remaining", template=t), 0)
        # Five winners with one coupon each: five bits of the bitmap (its length in bytes reaches
        # the highest winner's id), nothing in the per-user hash.
        self.assertGreaterEqual(self.total(after, "joopang_coupon_drop_key_length", template=t,
                                           key="won"), 1)
        self.assertGreater(self.total(after, "joopang_coupon_drop_key_bytes", template=t,
                                      key="won"), 0)
        self.assertFalse(self.has(after, "joopang_coupon_drop_key_bytes", template=t,
                                  key="users"))
        # The drop's keys never expire: no TTL series (not a sentinel value), but their sizes.
        self.assertTrue(self.has(after, "joopang_coupon_drop_key_bytes", template=t, key="meta"))
        self.assertFalse(self.has(after, "joopang_coupon_drop_key_ttl_seconds", template=t))
        per_winner = self.total(after, "joopang_redis_memory_per_coupon_winner_bytes", template=t)
        key_bytes = self.total(after, "joopang_coupon_drop_key_bytes", template=t)
        self.assertAlmostEqual(per_winner, key_bytes / 5, delta=1e-6)
        self.assertEqual(self.total(after, "joopang_db_pool_threads", pool="db"), 8)
        self.assertTrue(self.has(after, "joopang_db_pool_busy"))
        self.assertTrue(self.has(after, "joopang_db_pool_queued"))
        # Requests are labelled by route and status, not by id (bounded cardinality).
        routes = {ls.get("route") for n, ls, _ in after if n == "joopang_http_requests_total"}
        self.assertIn("/api/v1/products/{id}", routes)
        self.assertFalse(any(seg.isdigit() for r in routes if r for seg in r.split("/")), routes)
        self.assertTrue(any(ls.get("status") == "202" for n, ls, _ in after
                            if n == "joopang_http_requests_total"))
        for name in ("joopang_stream_length", "joopang_stream_pending", "joopang_stream_lag",
                     "joopang_stream_oldest_pending_age_seconds",
                     "joopang_stream_deliveries_retried_total", "joopang_stream_dead_letters",
                     "joopang_stream_dead_lettered_total", "joopang_queue_waiting",
                     "joopang_queue_active", "joopang_queue_admitted_last_minute",
                     "joopang_redis_used_memory_bytes", "joopang_redis_aof_last_write_ok",
                     "joopang_redis_aof_pending_fsync", "joopang_redis_slowlog_length",
                     "joopang_redis_connected_replicas"):
            self.assertTrue(self.has(after, name), "%s missing from /metrics" % name)
        for name in ("joopang_http_request_duration_seconds", "joopang_redis_call_duration_seconds",
                     "joopang_db_transaction_duration_seconds", "joopang_job_duration_seconds"):
            self.assertEqual(types.get(name), "histogram", name)
        # Counters and only counters end in _total; durations are in seconds, sizes in bytes.
        for name, kind in types.items():
            self.assertEqual(name.endswith("_total"), kind == "counter", (name, kind))
            self.assertFalse(any(unit in name for unit in ("_ms", "_millis", "_kb", "_mb")), name)
        # An issue for a template that does not exist is counted without naming the id: no
        # client can add a series per id it makes up.
        self.assertEqual(self.issue(987654321, u).status, 404)
        samples, _ = self.scrape()
        self.assertFalse(self.has(samples, "joopang_coupon_issue_total", template=987654321))
        self.assertTrue(self.has(samples, "joopang_coupon_issue_total", template="-",
                                 outcome="COUPON_TEMPLATE_NOT_FOUND"))


if __name__ == "__main__":
    unittest.main()
