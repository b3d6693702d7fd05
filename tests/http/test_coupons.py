"""SPEC §4 and docs/coupons.md: first-come-first-served coupon drops, black-box over HTTP against the
real binary (SQLite here; test_coupons_pg.py runs the same cases on PostgreSQL and adds a PostgreSQL
outage).

- templates: create / validate / pause / resume / end / issue window
- issue: 202 RESERVED with position, duplicates (409), sold out (410), status polling until ISSUED,
  the user's coupon list, live counts, bad input, the per-user rate limit (429 + Retry-After)
- coupons on orders: AMOUNT / PERCENTAGE (cap, minimum), wrong owner, used, released on cancel and on
  order expiry, expired coupons
- a burst of 5,000 requests from 1,000 users for 300 coupons over two joopang processes sharing one
  Redis and one database
- a crash: the persisting `joopang worker` is SIGKILLed mid-drain and a new one finishes exactly once
- a poison entry: dead-lettered after the delivery cap, the rest of the drop unaffected, replayed by admin
- /metrics, /api/v1/admin/streams, /api/v1/admin/reconciliation

Run by hand: cd tests/http && JOOPANG_BIN=<build>/src/main/joopang python3 -m unittest -v test_coupons
"""

import collections
import datetime
import decimal
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from harness import (ADMIN_TOKEN, Client, ExternalRedis, Service, ServiceTestCase, Worker,
                     create_pg_database, drop_pg_database, fan_out, money, parse_time, uniq,
                     wait_until)
from test_ops import metric_samples

D = decimal.Decimal
UTC = datetime.timezone.utc
OMIT = object()  # marks a field to leave out of a request body

# Test-friendly settings from docs/coupons.md.
FAST_ARGS = ("--max-deliveries", "3", "--persist-retry-delay", "200ms", "--claim-idle", "1s",
             "--issue-rate-limit", "1000")
BURST_ARGS = ("--max-deliveries", "3", "--persist-retry-delay", "200ms", "--claim-idle", "1s",
              "--issue-rate-limit", "100000")


def rfc3339(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc():
    return datetime.datetime.now(UTC).replace(microsecond=0)


def is_id(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2 ** 63


class CouponHelpers:
    """Mixed into a ServiceTestCase (self.api, self.svc, assert_error, create_user, ...)."""

    TEMPLATES = "/api/v1/coupon-templates"

    # -- templates --

    def template_body(self, **over):
        body = {"title": "Drop " + uniq(), "type": "AMOUNT", "value": "1000.00",
                "totalQuantity": 10}
        body.update(over)
        return {k: v for k, v in body.items() if v is not OMIT}

    def create_template(self, client=None, **over):
        r = (client or self.api).post(self.TEMPLATES, self.template_body(**over), admin=True)
        self.assertEqual(r.status, 201, r)
        return r.json

    def get_template(self, tid, client=None):
        r = (client or self.api).get("%s/%d" % (self.TEMPLATES, tid))
        self.assertEqual(r.status, 200, r)
        return r.json

    def patch_template(self, tid, body, client=None, admin=True):
        return (client or self.api).request("PATCH", "%s/%d" % (self.TEMPLATES, tid), body=body,
                                            admin=admin)

    def set_status(self, tid, status, client=None):
        r = self.patch_template(tid, {"status": status}, client=client)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], status, r)
        return r.json

    def wait_issued_quantity(self, tid, n, timeout=60.0, client=None):
        """Poll the template until issuedQuantity == n; fail if it ever exceeds n."""
        seen = {}

        def done():
            t = self.get_template(tid, client=client)
            seen["t"] = t
            self.assertLessEqual(t["issuedQuantity"], n, "more coupons persisted than won: %r" % t)
            return t["issuedQuantity"] == n
        try:
            wait_until(done, timeout, interval=0.2, message="issuedQuantity == %d" % n)
        except AssertionError as e:
            raise AssertionError("%s; last template: %r" % (e, seen.get("t")))
        return seen["t"]

    # -- issuing --

    def issue_path(self, tid):
        return "%s/%d/issue" % (self.TEMPLATES, tid)

    def issue(self, tid, uid, client=None, **kw):
        return (client or self.api).post(self.issue_path(tid), {"userId": uid}, **kw)

    def redis_cli(self, *args):
        """A command on the service's embedded redis-server (its unix socket under the data dir)."""
        sock = os.path.join(self.svc.data_dir, "redis", "redis.sock")
        out = subprocess.run(["redis-cli", "-s", sock, *args], capture_output=True, text=True,
                             timeout=10, check=True)
        return out.stdout.strip()

    def issue_ok(self, tid, uid, client=None):
        r = self.issue(tid, uid, client=client)
        self.assertEqual(r.status, 202, r)
        return r.json

    def issue_request(self, tid, rid, client=None, user=None):
        """The request's status, read by its user, or by the admin when no user is given."""
        return (client or self.api).get("%s/%d/issue-requests/%d" % (self.TEMPLATES, tid, rid),
                                        user=user, admin=user is None)

    def wait_request_issued(self, tid, rid, timeout=30.0, client=None):
        seen = {}

        def issued():
            r = self.issue_request(tid, rid, client=client)
            self.assertEqual(r.status, 200, r)
            seen["r"] = r
            self.assertIn(r.json["status"], ("RESERVED", "ISSUED"), r)
            return r.json["status"] == "ISSUED"
        try:
            wait_until(issued, timeout, interval=0.1, message="issue request %d ISSUED" % rid)
        except AssertionError as e:
            raise AssertionError("%s; last: %r" % (e, seen.get("r")))
        return seen["r"].json

    def coupons_of(self, uid, tid=None, client=None):
        r = (client or self.api).get("/api/v1/users/%d/coupons" % uid)
        self.assertEqual(r.status, 200, r)
        items = r.json["items"]
        self.assertIsInstance(items, list, r)
        if tid is not None:
            items = [c for c in items if c["couponTemplateId"] == tid]
        return items

    def coupon_for(self, uid, **template_fields):
        """Create a template, issue it to uid, wait until it is persisted; return the coupon."""
        t = self.create_template(**template_fields)
        rid = self.issue_ok(t["id"], uid)["requestId"]
        st = self.wait_request_issued(t["id"], rid)
        items = [c for c in self.coupons_of(uid, t["id"]) if c["couponId"] == st["couponId"]]
        self.assertEqual(len(items), 1, items)
        return items[0]

    def make_users(self, n, threads=8, ports=None):
        """Create n users concurrently; return their ids."""
        def create(c, _):
            r = c.post("/api/v1/users", {"email": uniq("cu") + "@example.com",
                                         "password": "pw-" + uniq()})
            if r.status != 201:
                raise AssertionError("creating a user: %r" % (r,))
            return r.json["id"]
        results = fan_out(range(n), create, ports or [self.svc.port], threads=threads)
        errors = [r for r, _ in results if isinstance(r, BaseException)]
        self.assertEqual(errors[:3], [], "creating users failed")
        return [r for r, _ in results]

    def fire_issues(self, tid, user_ids, ports, threads=64, timeout=120.0):
        """Send one issue request per entry of user_ids from `threads` threads, each with its own
        keep-alive connection to ports[k % len(ports)], released together by a barrier. Returns a
        list parallel to user_ids of (Response or exception, port)."""
        path = self.issue_path(tid)
        for port in set(ports):  # sign everyone in before the barrier, not during the burst
            c = Client(port)
            try:
                for uid in set(user_ids):
                    c.token_for(uid)
            finally:
                c.close()
        return fan_out(user_ids, lambda c, uid: c.post(path, {"userId": uid}), ports,
                       threads=threads, timeout=timeout, start_together=True, retry_stale=False)

    @staticmethod
    def code_counts(responses):
        out = collections.Counter()
        for r in responses:
            if isinstance(r, BaseException):
                out[("exception", type(r).__name__)] += 1
            else:
                out[(r.status, (r.json or {}).get("code") if r.status >= 400 else None)] += 1
        return dict(out)

    # -- admin --

    def admin_streams(self, client=None):
        r = (client or self.api).get("/api/v1/admin/streams", admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertIsInstance(r.json.get("streams"), list, r)
        return r.json["streams"]

    def stream_of(self, tid, client=None):
        """The coupon-issue stream entry of template tid in /admin/streams (None if absent).
        The contract names it `coupon-issue:{templateId}`; both the literal-brace form (a Redis
        Cluster hash tag) and the plain form are looked for."""
        names = ("coupon-issue:{%d}" % tid, "coupon-issue:%d" % tid)
        for s in self.admin_streams(client):
            if s.get("name") in names:
                return s
        return None

    def wait_stream_settled(self, tid, timeout=30.0, client=None):
        """Until the template's stream has nothing pending and no lag."""
        def settled():
            s = self.stream_of(tid, client)
            return s if s and s.get("pending") == 0 and not s.get("lag") else None
        return wait_until(settled, timeout, interval=0.2, message="stream of %d to settle" % tid)

    def reconcile(self, client=None, repair=False):
        path = "/api/v1/admin/reconciliation" + ("?repair=true" if repair else "")
        r = (client or self.api).post(path, admin=True)
        self.assertEqual(r.status, 200, r)
        return r.json

    def report_entry(self, report, tid):
        entries = [t for t in report.get("templates", []) if t.get("templateId") == tid]
        self.assertEqual(len(entries), 1, "template %d not in report %r" % (tid, report))
        return entries[0]

    def assert_reconciled(self, tid, total, won, client=None):
        report = self.reconcile(client)
        parse_time(report["generatedAt"])
        e = self.report_entry(report, tid)
        self.assertEqual(e["redisReserved"], won, e)
        self.assertEqual(e["databaseIssued"], won, e)
        self.assertEqual(e["totalQuantity"], total, e)
        self.assertEqual(e["redisStock"], total - won, e)
        self.assertEqual(e["missingInDatabase"], 0, e)
        self.assertEqual(e["differences"], [], e)
        self.assertIs(e["ok"], True, e)
        # and it is the report GET shows afterwards
        r = (client or self.api).get("/api/v1/admin/reconciliation", admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.report_entry(r.json, tid), e)
        return e

    # -- orders --

    def order_with_coupon(self, uid, lines, coupon_id, client=None):
        body = {"userId": uid, "recipientName": "Hong Gildong",
                "items": [{"productItemId": i, "quantity": q} for i, q in lines]}
        if coupon_id is not OMIT:
            body["couponId"] = coupon_id
        return (client or self.api).post("/api/v1/orders", body)

    def coupon(self, uid, coupon_id):
        items = [c for c in self.coupons_of(uid) if c["couponId"] == coupon_id]
        self.assertEqual(len(items), 1, "coupon %d of user %d: %r" % (coupon_id, uid, items))
        return items[0]


# =============================================================================================
# Templates


class CouponTemplateTests(CouponHelpers, ServiceTestCase):
    SERVICE_ARGS = FAST_ARGS

    def check_template(self, t, body):
        self.assertTrue(is_id(t["id"]), t)
        self.assertEqual(t["title"], body["title"])
        self.assertEqual(t["type"], body["type"])
        self.assertEqual(money(t["value"]), D(body["value"]))
        self.assertEqual(t["totalQuantity"], body["totalQuantity"])
        self.assertEqual(t["perUserLimit"], body.get("perUserLimit", 1))
        for k in ("minOrderAmount", "maxDiscountAmount"):
            if k in body:
                self.assertEqual(money(t[k]), D(body[k]), k)
        for k in ("startAt", "endAt"):
            if k in body:
                self.assertEqual(parse_time(t[k]), parse_time(body[k]), k)
        if "validDays" in body:
            self.assertEqual(t["validDays"], body["validDays"])
        self.assertEqual(t["status"], "ACTIVE")
        self.assertEqual(t["reservedQuantity"], 0)
        self.assertEqual(t["issuedQuantity"], 0)
        self.assertEqual(t["remainingQuantity"], body["totalQuantity"])
        created = parse_time(t["createdAt"])
        self.assertLess(abs((created - datetime.datetime.now(UTC)).total_seconds()), 120, t)
        for k in ("id", "title", "type", "value", "totalQuantity", "perUserLimit", "minOrderAmount",
                  "maxDiscountAmount", "startAt", "endAt", "validDays", "status",
                  "reservedQuantity", "issuedQuantity", "remainingQuantity", "createdAt"):
            self.assertIn(k, t, "template field %s missing: %r" % (k, t))

    def test_create_amount_template_with_all_fields(self):
        now = now_utc()
        body = {"title": "Amount " + uniq(), "type": "AMOUNT", "value": "3000.00",
                "totalQuantity": 100, "perUserLimit": 2, "minOrderAmount": "10000.00",
                "maxDiscountAmount": "3000.00", "startAt": rfc3339(now - datetime.timedelta(minutes=1)),
                "endAt": rfc3339(now + datetime.timedelta(days=1)), "validDays": 7}
        r = self.api.post(self.TEMPLATES, body, admin=True)
        self.assertEqual(r.status, 201, r)
        self.check_template(r.json, body)
        g = self.get_template(r.json["id"])
        self.check_template(g, body)
        self.assertEqual(g["id"], r.json["id"])

    def test_create_percentage_template_with_defaults(self):
        body = {"title": "Percent " + uniq(), "type": "PERCENTAGE", "value": "15.00",
                "totalQuantity": 50, "minOrderAmount": "20000.00", "maxDiscountAmount": "5000.00"}
        r = self.api.post(self.TEMPLATES, body, admin=True)
        self.assertEqual(r.status, 201, r)
        self.check_template(r.json, body)
        self.assertEqual(r.json["perUserLimit"], 1, "perUserLimit defaults to 1")
        # a percent of exactly 100 is allowed: (0, 100]
        self.create_template(type="PERCENTAGE", value="100.00")

    def test_validation_names_the_field(self):
        now = now_utc()
        cases = [
            ("value", dict(value="0.00")),
            ("value", dict(value="-5.00")),
            ("value", dict(value="abc")),
            ("value", dict(value="1.234")),
            ("value", dict(value=OMIT)),
            ("value", dict(type="PERCENTAGE", value="100.01")),
            ("value", dict(type="PERCENTAGE", value="150.00")),
            ("value", dict(type="PERCENTAGE", value="0.00")),
            ("totalQuantity", dict(totalQuantity=0)),
            ("totalQuantity", dict(totalQuantity=-3)),
            ("totalQuantity", dict(totalQuantity="ten")),
            ("totalQuantity", dict(totalQuantity=1.5)),
            ("totalQuantity", dict(totalQuantity=OMIT)),
            ("perUserLimit", dict(perUserLimit=0)),
            ("perUserLimit", dict(perUserLimit=-1)),
            ("type", dict(type="FREE_SHIPPING")),
            ("type", dict(type=OMIT)),
            ("title", dict(title=OMIT)),
            ("title", dict(title="")),
            ("minOrderAmount", dict(minOrderAmount="-1.00")),
            ("maxDiscountAmount", dict(type="PERCENTAGE", value="10.00", maxDiscountAmount="-1.00")),
            ("validDays", dict(validDays=0)),
            ("validDays", dict(validDays=-2)),
            ("startAt", dict(startAt="yesterday")),
            ("endAt", dict(endAt="2026-13-45T99:00:00Z")),
        ]
        for field, over in cases:
            with self.subTest(field=field, body=over):
                r = self.api.post(self.TEMPLATES, self.template_body(**over), admin=True)
                self.assert_error(r, 400, "VALIDATION_FAILED", field=field)
        # endAt before startAt: the error names one of the two
        r = self.api.post(self.TEMPLATES, self.template_body(
            startAt=rfc3339(now + datetime.timedelta(hours=2)),
            endAt=rfc3339(now + datetime.timedelta(hours=1))), admin=True)
        body = self.assert_error(r, 400, "VALIDATION_FAILED")
        self.assertIn(body.get("field"), ("endAt", "startAt"), r)
        # malformed JSON
        r = self.api.post(self.TEMPLATES, raw=b"{\"title\": ", admin=True)
        self.assert_error(r, 400, "VALIDATION_FAILED")

    def test_admin_token_is_required(self):
        body = self.template_body()
        self.assert_error(self.api.post(self.TEMPLATES, body), 401, "UNAUTHORIZED")
        self.assert_error(self.api.post(self.TEMPLATES, body,
                                        headers={"Authorization": "Bearer wrong-" + ADMIN_TOKEN}),
                          401, "UNAUTHORIZED")
        t = self.create_template()
        self.assert_error(self.patch_template(t["id"], {"status": "PAUSED"}, admin=False),
                          401, "UNAUTHORIZED")
        self.assertEqual(self.get_template(t["id"])["status"], "ACTIVE")

    def test_unknown_template_is_404(self):
        self.assert_error(self.api.get(self.TEMPLATES + "/987654321"), 404,
                          "COUPON_TEMPLATE_NOT_FOUND")
        self.assert_error(self.patch_template(987654321, {"status": "PAUSED"}), 404,
                          "COUPON_TEMPLATE_NOT_FOUND")
        self.assert_error(self.issue(987654321, 1), 404, "COUPON_TEMPLATE_NOT_FOUND")

    def test_pause_resume_and_end(self):
        u1, u2, u3 = (self.create_user()["id"] for _ in range(3))
        t = self.create_template(totalQuantity=10)
        tid = t["id"]
        self.assertEqual(self.set_status(tid, "PAUSED")["id"], tid)
        self.assertEqual(self.get_template(tid)["status"], "PAUSED")
        self.assert_error(self.issue(tid, u1), 422, "COUPON_NOT_ACTIVE")
        g = self.get_template(tid)
        self.assertEqual((g["reservedQuantity"], g["remainingQuantity"]), (0, 10), g)
        self.set_status(tid, "ACTIVE")
        self.assertEqual(self.issue_ok(tid, u1)["position"], 1)
        self.set_status(tid, "ENDED")
        self.assertEqual(self.get_template(tid)["status"], "ENDED")
        self.assert_error(self.issue(tid, u2), 422, "COUPON_NOT_ACTIVE")
        self.assert_error(self.issue(tid, u3), 422, "COUPON_NOT_ACTIVE")
        g = self.get_template(tid)
        self.assertEqual((g["reservedQuantity"], g["remainingQuantity"]), (1, 9), g)

    def test_patch_validation(self):
        t = self.create_template()
        for body in ({"status": "BOGUS"}, {}, {"status": 3}):
            with self.subTest(body=body):
                self.assert_error(self.patch_template(t["id"], body), 400, "VALIDATION_FAILED",
                                  field="status")
        self.assertEqual(self.get_template(t["id"])["status"], "ACTIVE")

    def test_start_in_the_future_is_not_active_yet(self):
        u = self.create_user()["id"]
        t = self.create_template(startAt=rfc3339(now_utc() + datetime.timedelta(hours=1)))
        self.assertEqual(t["status"], "ACTIVE")
        self.assert_error(self.issue(t["id"], u), 422, "COUPON_NOT_ACTIVE")
        self.assertEqual(self.get_template(t["id"])["reservedQuantity"], 0)

    def test_issue_window_closes_at_end(self):
        u1, u2 = self.create_user()["id"], self.create_user()["id"]
        end = now_utc() + datetime.timedelta(seconds=3)
        t = self.create_template(endAt=rfc3339(end))
        self.issue_ok(t["id"], u1)
        time.sleep(max(0.0, (end - datetime.datetime.now(UTC)).total_seconds()) + 1.2)
        self.assert_error(self.issue(t["id"], u2), 422, "COUPON_NOT_ACTIVE")

    def test_starting_window_opens_without_a_change(self):
        """A template whose startAt passes becomes issuable by itself (metadata served from Redis)."""
        u = self.create_user()["id"]
        start = now_utc() + datetime.timedelta(seconds=3)
        t = self.create_template(startAt=rfc3339(start))
        self.assert_error(self.issue(t["id"], u), 422, "COUPON_NOT_ACTIVE")
        time.sleep(max(0.0, (start - datetime.datetime.now(UTC)).total_seconds()) + 1.2)
        self.assertEqual(self.issue_ok(t["id"], u)["position"], 1)

    def test_issue_script_gate_follows_status_and_window_and_is_optional(self):
        """The script's short path ('gate' = per-user limit while ACTIVE without a window) is
        rewritten with every change, and a template without it is still decided in full."""
        u1, u2, u3 = (self.create_user()["id"] for _ in range(3))
        tid = self.create_template(totalQuantity=2, perUserLimit=1)["id"]
        meta = "coupon:{%d}:meta" % tid
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "1")
        self.set_status(tid, "PAUSED")
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "")
        self.assert_error(self.issue(tid, u1), 422, "COUPON_NOT_ACTIVE")
        self.set_status(tid, "ACTIVE")
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "1")
        # As published by a version without the field: the full check decides the same way.
        self.redis_cli("HDEL", meta, "gate")
        self.assertEqual(self.issue_ok(tid, u1)["position"], 1)
        self.assert_error(self.issue(tid, u1), 409, "COUPON_ALREADY_ISSUED")
        self.redis_cli("HSET", meta, "gate", "1")
        self.assertEqual(self.issue_ok(tid, u2)["position"], 2)
        self.assert_error(self.issue(tid, u2), 409, "COUPON_ALREADY_ISSUED")
        self.assert_error(self.issue(tid, u3), 410, "COUPON_SOLD_OUT")
        self.redis_cli("HDEL", meta, "gate")
        self.assert_error(self.issue(tid, u3), 410, "COUPON_SOLD_OUT")
        self.assert_error(self.issue(tid, u1), 409, "COUPON_ALREADY_ISSUED")
        windowed = self.create_template(endAt=rfc3339(now_utc() + datetime.timedelta(hours=1)))
        self.assertEqual(self.redis_cli("HGET", "coupon:{%d}:meta" % windowed["id"], "gate"), "")
        self.assertEqual(self.issue_ok(windowed["id"], u3)["position"], 1)

    def test_sold_out_mark_never_outlives_the_stock(self):
        """Sold-out losers skip the stock read once 'gate' holds the limit negated. The mark is
        set by the last win, never hides a 409, and a repair that raises the stock lifts it."""
        u1, u2, u3, u4 = (self.create_user()["id"] for _ in range(4))
        tid = self.create_template(totalQuantity=3, perUserLimit=1)["id"]
        meta, stock = "coupon:{%d}:meta" % tid, "coupon:{%d}:stock" % tid
        self.assertEqual(self.issue_ok(tid, u1)["position"], 1)
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "1")
        # Redis lost the stock: the loser who finds it at zero marks the template sold out.
        self.redis_cli("SET", stock, "0")
        self.assert_error(self.issue(tid, u2), 410, "COUPON_SOLD_OUT")
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "-1")
        self.assert_error(self.issue(tid, u1), 409, "COUPON_ALREADY_ISSUED")
        self.assert_error(self.issue(tid, u2), 410, "COUPON_SOLD_OUT")
        # The repair restores stock = total - reserved and lifts the mark in the same script.
        line = self.report_entry(self.reconcile(repair=True), tid)
        self.assertTrue(line["repairs"], line)
        self.assertEqual(self.redis_cli("GET", stock), "2")
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "1")
        self.assertEqual(self.issue_ok(tid, u2)["position"], 2)
        # The last win marks it; the next loser is answered from the mark.
        self.assertEqual(self.issue_ok(tid, u3)["position"], 3)
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "-1")
        self.assert_error(self.issue(tid, u4), 410, "COUPON_SOLD_OUT")
        self.assert_error(self.issue(tid, u3), 409, "COUPON_ALREADY_ISSUED")
        # A re-publish (a status change) writes the plain limit; the stock read marks it again.
        self.set_status(tid, "PAUSED")
        self.set_status(tid, "ACTIVE")
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "1")
        self.assert_error(self.issue(tid, u4), 410, "COUPON_SOLD_OUT")
        self.assertEqual(self.redis_cli("HGET", meta, "gate"), "-1")
        self.assertEqual(self.get_template(tid)["remainingQuantity"], 0)


# =============================================================================================
# Issuing


class CouponIssueTests(CouponHelpers, ServiceTestCase):
    SERVICE_ARGS = FAST_ARGS

    def redis_calls(self, command):
        info = self.redis_cli("INFO", "commandstats")
        for line in info.splitlines():
            if line.startswith("cmdstat_%s:calls=" % command):
                return int(line.split("calls=")[1].split(",")[0])
        return 0

    def test_an_idle_persister_polls_with_one_lane_and_backs_off(self):
        """With nothing to drain, the persister's three lanes do not each poll every 10 ms (300
        reads a second per template): one lane polls, backing off to 80 ms, and the others wait
        for it to find work. Work wakes them all: the drop still lands."""
        t = self.create_template(totalQuantity=50, title="Idle " + uniq())
        tid = t["id"]
        u = self.create_user()["id"]
        self.issue_ok(tid, u)
        self.wait_issued_quantity(tid, 1, timeout=30)
        time.sleep(1.0)  # long enough to back off
        before, t0 = self.redis_calls("xreadgroup"), time.monotonic()
        time.sleep(2.0)
        per_second = (self.redis_calls("xreadgroup") - before) / (time.monotonic() - t0)
        # One lane at 80 ms is ~12 reads a second per template; other tests' templates may
        # exist in this service too, so allow a few of them.
        templates = len(self.admin_streams())
        self.assertLess(per_second, 30 * templates, "XREADGROUP %.0f/s for %d template(s)"
                        % (per_second, templates))
        users = [self.create_user()["id"] for _ in range(20)]
        for uid in users:
            self.issue_ok(tid, uid)
        self.wait_issued_quantity(tid, 21, timeout=30)

    def test_issue_returns_202_reserved_with_position_and_remaining(self):
        u1, u2 = self.create_user()["id"], self.create_user()["id"]
        t = self.create_template(totalQuantity=5)
        tid = t["id"]
        r = self.issue(tid, u1)
        self.assertEqual(r.status, 202, r)
        a = r.json
        self.assertTrue(is_id(a["requestId"]), a)
        self.assertEqual(a["templateId"], tid)
        self.assertEqual(a["userId"], u1)
        self.assertEqual(a["status"], "RESERVED")
        self.assertEqual(a["position"], 1)
        self.assertEqual(a["remainingQuantity"], 4)
        self.assertIsInstance(a["estimatedPersistMs"], int, a)
        self.assertNotIsInstance(a["estimatedPersistMs"], bool, a)
        self.assertGreaterEqual(a["estimatedPersistMs"], 0, a)
        b = self.issue_ok(tid, u2)
        self.assertEqual((b["position"], b["remainingQuantity"]), (2, 3), b)
        self.assertNotEqual(a["requestId"], b["requestId"])
        g = self.get_template(tid)
        self.assertEqual(g["reservedQuantity"], 2, g)
        self.assertEqual(g["remainingQuantity"], 3, g)
        self.wait_issued_quantity(tid, 2, timeout=30)

    def test_same_user_twice_is_409_already_issued(self):
        u = self.create_user()["id"]
        t = self.create_template(totalQuantity=5)
        rid = self.issue_ok(t["id"], u)["requestId"]
        self.assert_error(self.issue(t["id"], u), 409, "COUPON_ALREADY_ISSUED")
        g = self.get_template(t["id"])
        self.assertEqual((g["reservedQuantity"], g["remainingQuantity"]), (1, 4), g)
        # still after the coupon reached the database
        self.wait_request_issued(t["id"], rid)
        self.assert_error(self.issue(t["id"], u), 409, "COUPON_ALREADY_ISSUED")
        self.assertEqual(len(self.coupons_of(u, t["id"])), 1)

    def test_per_user_limit_two_allows_exactly_two(self):
        u = self.create_user()["id"]
        t = self.create_template(totalQuantity=10, perUserLimit=2)
        a = self.issue_ok(t["id"], u)
        b = self.issue_ok(t["id"], u)
        self.assertEqual((a["position"], b["position"]), (1, 2))
        self.assert_error(self.issue(t["id"], u), 409, "COUPON_ALREADY_ISSUED")
        self.wait_issued_quantity(t["id"], 2, timeout=30)
        mine = self.coupons_of(u, t["id"])
        self.assertEqual(len(mine), 2, mine)
        self.assertEqual(len({c["couponId"] for c in mine}), 2, mine)
        self.assert_error(self.issue(t["id"], u), 409, "COUPON_ALREADY_ISSUED")

    def test_sold_out_is_410(self):
        users = [self.create_user()["id"] for _ in range(5)]
        t = self.create_template(totalQuantity=3)
        positions = [self.issue_ok(t["id"], u)["position"] for u in users[:3]]
        self.assertEqual(positions, [1, 2, 3])
        for u in users[3:]:
            self.assert_error(self.issue(t["id"], u), 410, "COUPON_SOLD_OUT")
        g = self.get_template(t["id"])
        self.assertEqual((g["reservedQuantity"], g["remainingQuantity"]), (3, 0), g)
        self.wait_issued_quantity(t["id"], 3, timeout=30)
        for u in users[3:]:
            self.assertEqual(self.coupons_of(u, t["id"]), [])

    def test_request_status_becomes_issued_and_the_coupon_is_listed(self):
        u = self.create_user()["id"]
        t = self.create_template(type="PERCENTAGE", value="12.50", totalQuantity=3,
                                 minOrderAmount="5000.00", maxDiscountAmount="2000.00",
                                 validDays=7)
        a = self.issue_ok(t["id"], u)
        r = self.issue_request(t["id"], a["requestId"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["requestId"], a["requestId"])
        self.assertEqual(r.json["templateId"], t["id"])
        self.assertEqual(r.json["userId"], u)
        self.assertIn(r.json["status"], ("RESERVED", "ISSUED"))
        self.assertEqual(r.json["position"], 1)
        st = self.wait_request_issued(t["id"], a["requestId"])
        self.assertTrue(is_id(st["couponId"]), st)
        self.assertEqual(st["position"], 1)
        items = self.coupons_of(u)
        self.assertEqual(len(items), 1, items)
        c = items[0]
        self.assertEqual(c["couponId"], st["couponId"])
        self.assertEqual(c["couponTemplateId"], t["id"])
        self.assertEqual(c["title"], t["title"])
        self.assertEqual(c["type"], "PERCENTAGE")
        self.assertEqual(money(c["value"]), D("12.50"))
        self.assertEqual(money(c["minOrderAmount"]), D("5000.00"))
        self.assertEqual(money(c["maxDiscountAmount"]), D("2000.00"))
        self.assertEqual(c["status"], "AVAILABLE")
        issued, expires = parse_time(c["issuedAt"]), parse_time(c["expiresAt"])
        self.assertLess(abs((issued - datetime.datetime.now(UTC)).total_seconds()), 120, c)
        self.assertAlmostEqual((expires - issued).total_seconds(), 7 * 86400, delta=2, msg=c)
        self.assertFalse(c.get("usedAt"), c)
        self.assertFalse(c.get("orderId"), c)
        g = self.get_template(t["id"])
        self.assertEqual((g["reservedQuantity"], g["issuedQuantity"], g["remainingQuantity"]),
                         (1, 1, 2), g)

    def test_expiry_follows_end_at_else_30_days(self):
        u = self.create_user()["id"]
        end = now_utc() + datetime.timedelta(days=3)
        c = self.coupon_for(u, endAt=rfc3339(end))
        self.assertAlmostEqual((parse_time(c["expiresAt"]) - end).total_seconds(), 0, delta=1,
                               msg=c)
        c = self.coupon_for(u)
        self.assertAlmostEqual((parse_time(c["expiresAt"]) - parse_time(c["issuedAt"])
                                ).total_seconds(), 30 * 86400, delta=2, msg=c)
        # validDays wins over endAt
        c = self.coupon_for(u, endAt=rfc3339(end), validDays=1)
        self.assertAlmostEqual((parse_time(c["expiresAt"]) - parse_time(c["issuedAt"])
                                ).total_seconds(), 86400, delta=2, msg=c)

    def test_user_without_coupons_has_an_empty_list(self):
        u = self.create_user()["id"]
        self.assertEqual(self.coupons_of(u), [])

    def test_counts_are_live(self):
        users = [self.create_user()["id"] for _ in range(4)]
        t = self.create_template(totalQuantity=10)
        for i, u in enumerate(users):
            a = self.issue_ok(t["id"], u)
            self.assertEqual(a["remainingQuantity"], 9 - i)
            g = self.get_template(t["id"])
            self.assertEqual(g["reservedQuantity"], i + 1, g)
            self.assertEqual(g["remainingQuantity"], 9 - i, g)
            self.assertLessEqual(g["issuedQuantity"], i + 1, g)
        g = self.wait_issued_quantity(t["id"], 4, timeout=30)
        self.assertEqual((g["reservedQuantity"], g["remainingQuantity"], g["totalQuantity"]),
                         (4, 6, 10), g)

    def test_bad_user_id_is_400_naming_user_id(self):
        t = self.create_template(totalQuantity=5)
        path = self.issue_path(t["id"])
        me = self.signed_in_user()
        for body in ({"userId": -1}, {"userId": 0}, {"userId": "abc"},
                     {"userId": 2 ** 63}, {"userId": 1.5}, {"userId": True}, {"userId": [1]}):
            with self.subTest(body=body):
                self.assert_error(self.api.post(path, body, user=me), 400, "VALIDATION_FAILED",
                                  field="userId")
        self.assert_error(self.api.post(path, raw=b"{not json", user=me), 400,
                          "VALIDATION_FAILED")
        g = self.get_template(t["id"])
        self.assertEqual((g["reservedQuantity"], g["remainingQuantity"]), (0, 5), g)

    def test_unknown_request_id_is_404(self):
        u = self.create_user()["id"]
        t = self.create_template()
        self.assert_error(self.issue_request(t["id"], 987654321), 404, "NOT_FOUND")
        # a request id of another template is not found under this one
        other = self.create_template()
        rid = self.issue_ok(other["id"], u)["requestId"]
        self.assert_error(self.issue_request(t["id"], rid), 404, "NOT_FOUND")
        self.assertEqual(self.issue_request(other["id"], rid).status, 200)

    def test_concurrent_requests_of_one_user_win_once(self):
        u = self.create_user()["id"]
        t = self.create_template(totalQuantity=10)
        rs = [r for r, _ in self.fire_issues(t["id"], [u] * 20, [self.svc.port], threads=20)]
        codes = self.code_counts(rs)
        self.assertEqual(codes, {(202, None): 1, (409, "COUPON_ALREADY_ISSUED"): 19}, codes)
        self.wait_issued_quantity(t["id"], 1, timeout=30)
        self.assertEqual(len(self.coupons_of(u, t["id"])), 1)

    def test_admin_streams_shows_the_issue_stream(self):
        u = self.create_user()["id"]
        t = self.create_template(totalQuantity=5)
        self.issue_ok(t["id"], u)
        self.wait_issued_quantity(t["id"], 1, timeout=30)
        self.assert_error(self.api.get("/api/v1/admin/streams"), 401, "UNAUTHORIZED")
        s = self.wait_stream_settled(t["id"])
        for k in ("name", "length", "pending", "lag", "oldestPendingAgeMs", "deliveriesRetried",
                  "deadLettered", "deadLetterLength", "consumers"):
            self.assertIn(k, s, s)
        self.assertEqual(s["pending"], 0, s)
        # acknowledged entries are trimmed from the stream (right after their acknowledgement)
        wait_until(lambda: self.stream_of(t["id"])["length"] == 0, 10, interval=0.1,
                   message="the acknowledged entry to be trimmed")
        self.assertEqual(s["deadLetterLength"], 0, s)
        self.assertEqual(s["deadLettered"], 0, s)
        # replaying an empty dead-letter stream replays nothing; it needs the admin token
        path = "/api/v1/admin/streams/%s/dead-letter/replay" % urllib.parse.quote(s["name"], safe="")
        self.assert_error(self.api.post(path), 401, "UNAUTHORIZED")
        r = self.api.post(path, admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["replayed"], 0, r)
        self.assertEqual(self.get_template(t["id"])["issuedQuantity"], 1)

    def test_metrics_have_stream_and_per_template_coupon_figures(self):
        users = [self.create_user()["id"] for _ in range(5)]
        t = self.create_template(totalQuantity=8)
        tid = t["id"]
        for u in users:
            self.issue_ok(tid, u)
        self.wait_issued_quantity(tid, 5, timeout=30)
        s = self.wait_stream_settled(tid)
        stream_names = {s["name"], "coupon-issue:{%d}" % tid, "coupon-issue:%d" % tid}
        found = {}

        def figures():
            # stream gauges may be sampled periodically: allow them a while to appear
            r = self.api.get("/metrics")
            self.assertEqual(r.status, 200, r)
            samples, _ = metric_samples(r.body.decode())
            per_stream = [(n, v) for n, labels, v in samples if set(labels.values()) & stream_names]
            per_tpl = [(n + "".join(sorted(" %s=%s" % kv for kv in labels.items())), v)
                       for n, labels, v in samples
                       if str(tid) in labels.values() and "coupon" in n
                       and not n.endswith(("_bucket", "_sum", "_count"))]
            found.update(stream=per_stream, template=per_tpl)
            names = " ".join(n for n, _ in per_stream)
            missing = [w for w in ("length", "pending", "dead") if w not in names]
            # by name (…_reserved…) or by an outcome label (outcome="RESERVED")
            reserved = [v for n, v in per_tpl if "reserved" in n.lower()]
            persisted = [v for n, v in per_tpl if "persist" in n or "issued" in n]
            if 5.0 not in reserved:
                missing.append("coupons reserved for the template")
            if 5.0 not in persisted:
                missing.append("coupons persisted for the template")
            found["missing"] = missing
            return not missing
        try:
            wait_until(figures, 20, interval=1.0, message="per-stream and per-template figures")
            ok = True
        except AssertionError:
            ok = False
        if not ok:
            self.fail("/metrics lacks %s; per-stream samples for %s: %r; per-template samples: %r"
                      % (found.get("missing"), s["name"], found.get("stream"), found.get("template")))

    def test_repair_after_redis_lost_a_drop_gives_every_winner_their_count_back(self):
        """Redis forgets a drop (its keys deleted): the repair restores stock, positions and each
        winner's count from the database, so nobody can win past the per-user limit again."""
        u1, u2, u3 = (self.create_user()["id"] for _ in range(3))
        one = self.create_template(totalQuantity=5, perUserLimit=1)["id"]
        two = self.create_template(totalQuantity=5, perUserLimit=2)["id"]
        self.issue_ok(one, u1)
        self.issue_ok(two, u1)
        self.issue_ok(two, u1)
        self.issue_ok(two, u2)
        self.wait_issued_quantity(one, 1, timeout=30)
        self.wait_issued_quantity(two, 3, timeout=30)
        for tid in (one, two):
            self.wait_stream_settled(tid)
            self.redis_cli("DEL", *("coupon:{%d}:%s" % (tid, k)
                                    for k in ("meta", "stock", "seq", "users", "won")))
        report = self.reconcile(repair=True)
        for tid in (one, two):
            line = self.report_entry(report, tid)
            self.assertTrue(line["repairs"], line)
        self.assert_error(self.issue(one, u1), 409, "COUPON_ALREADY_ISSUED")
        self.assert_error(self.issue(two, u1), 409, "COUPON_ALREADY_ISSUED")
        self.assertEqual(self.issue_ok(two, u2)["position"], 4)  # one of two held: one more
        self.assert_error(self.issue(two, u2), 409, "COUPON_ALREADY_ISSUED")
        self.assertEqual(self.issue_ok(one, u3)["position"], 2)
        self.assertEqual(self.get_template(one)["remainingQuantity"], 3)

    def test_reconciliation_after_a_clean_drop_reports_no_difference(self):
        users = [self.create_user()["id"] for _ in range(6)]
        t = self.create_template(totalQuantity=10)
        for u in users:
            self.issue_ok(t["id"], u)
        self.wait_issued_quantity(t["id"], 6, timeout=30)
        self.wait_stream_settled(t["id"])
        self.assert_error(self.api.get("/api/v1/admin/reconciliation"), 401, "UNAUTHORIZED")
        self.assert_error(self.api.post("/api/v1/admin/reconciliation"), 401, "UNAUTHORIZED")
        e = self.assert_reconciled(t["id"], total=10, won=6)
        self.assertEqual(e["templateId"], t["id"])
        # repair on a clean drop changes nothing
        rep = self.reconcile(repair=True)
        self.assertEqual(self.report_entry(rep, t["id"])["differences"], [])
        self.assertEqual(self.get_template(t["id"])["issuedQuantity"], 6)


class CouponRateLimitTests(CouponHelpers, ServiceTestCase):
    SERVICE_ARGS = ("--max-deliveries", "3", "--persist-retry-delay", "200ms", "--claim-idle", "1s",
                    "--issue-rate-limit", "3")

    def test_hammering_user_gets_429_with_retry_after(self):
        u, other = self.create_user()["id"], self.create_user()["id"]
        t = self.create_template(totalQuantity=100)
        t2 = self.create_template(totalQuantity=100)
        rs = [self.issue(t["id"], u) for _ in range(12)]
        self.assertEqual(rs[0].status, 202, rs[0])
        limited = [r for r in rs if r.status == 429]
        passed = [r for r in rs if r.status != 429]
        for r in passed[1:]:
            self.assert_error(r, 409, "COUPON_ALREADY_ISSUED")
        self.assertGreaterEqual(len(limited), 6, [r.status for r in rs])
        for r in limited:
            self.assert_error(r, 429, "RATE_LIMITED")
            ra = r.header("Retry-After")
            self.assertIsNotNone(ra, "429 without Retry-After: %r" % r)
            self.assertTrue(ra.strip().isdigit() and int(ra) >= 1, "Retry-After: %r" % ra)
        # the limit is per user and per template
        self.assertEqual(self.issue_ok(t["id"], other)["position"], 2)
        self.assertEqual(self.issue_ok(t2["id"], u)["position"], 1)
        g = self.get_template(t["id"])
        self.assertEqual((g["reservedQuantity"], g["remainingQuantity"]), (2, 98), g)
        # after Retry-After the user is heard again (and is still a duplicate)
        time.sleep(int(limited[-1].header("Retry-After")) + 0.3)
        self.assert_error(self.issue(t["id"], u), 409, "COUPON_ALREADY_ISSUED")
        self.wait_issued_quantity(t["id"], 2, timeout=30)


# =============================================================================================
# Coupons on orders


class CouponOrderTests(CouponHelpers, ServiceTestCase):
    SERVICE_ARGS = FAST_ARGS

    def setUp(self):
        self.p = self.create_product(items=(("10000.00", 1000), ("1500.00", 1000)))
        self.iid = self.p["items"][0]["id"]   # 10000.00
        self.cheap = self.p["items"][1]["id"]  # 1500.00

    def check_amounts(self, o, total, discount, payable):
        self.assertEqual(money(o["totalAmount"]), D(total), o)
        self.assertEqual(money(o["discountAmount"]), D(discount), o)
        self.assertEqual(money(o["payableAmount"]), D(payable), o)

    def test_amount_coupon_discount_and_payment_marks_it_used(self):
        u = self.create_user(balance="100000.00")["id"]
        c = self.coupon_for(u, type="AMOUNT", value="3000.00", minOrderAmount="10000.00")
        r = self.order_with_coupon(u, [(self.iid, 2)], c["couponId"])
        self.assertEqual(r.status, 201, r)
        o = r.json
        self.check_amounts(o, "20000.00", "3000.00", "17000.00")
        self.assertEqual(self.get_template(c["couponTemplateId"])["issuedQuantity"], 1)
        g = self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json
        self.check_amounts(g, "20000.00", "3000.00", "17000.00")
        p = self.pay(o["orderId"], u)
        self.assertEqual(p.status, 200, p)
        self.assertEqual(money(p.json["paidAmount"]), D("17000.00"))
        self.assertEqual(self.balance(u), D("83000.00"))
        used = self.coupon(u, c["couponId"])
        self.assertEqual(used["status"], "USED", used)
        self.assertEqual(used["orderId"], o["orderId"], used)
        used_at = parse_time(used["usedAt"])
        self.assertLess(abs((used_at - datetime.datetime.now(UTC)).total_seconds()), 120, used)
        # a used coupon cannot be used again
        self.assert_error(self.order_with_coupon(u, [(self.iid, 2)], c["couponId"]), 409,
                          "COUPON_NOT_USABLE")

    def test_percentage_coupon_with_cap(self):
        u1 = self.create_user(balance="100000.00")["id"]
        u2 = self.create_user(balance="100000.00")["id"]
        fields = dict(type="PERCENTAGE", value="15.00", maxDiscountAmount="5000.00",
                      minOrderAmount="20000.00", totalQuantity=5)
        t = self.create_template(**fields)
        coupons = {}
        for u in (u1, u2):
            rid = self.issue_ok(t["id"], u)["requestId"]
            coupons[u] = self.wait_request_issued(t["id"], rid)["couponId"]
        # 15 % of 20000 = 3000 (under the cap)
        r = self.order_with_coupon(u1, [(self.iid, 2)], coupons[u1])
        self.assertEqual(r.status, 201, r)
        self.check_amounts(r.json, "20000.00", "3000.00", "17000.00")
        # 15 % of 50000 = 7500, capped at 5000
        r = self.order_with_coupon(u2, [(self.iid, 5)], coupons[u2])
        self.assertEqual(r.status, 201, r)
        self.check_amounts(r.json, "50000.00", "5000.00", "45000.00")
        p = self.pay(r.json["orderId"], u2)
        self.assertEqual(p.status, 200, p)
        self.assertEqual(self.balance(u2), D("55000.00"))

    def test_discount_never_exceeds_the_subtotal(self):
        u = self.create_user(balance="100000.00")["id"]
        c = self.coupon_for(u, type="AMOUNT", value="5000.00")
        r = self.order_with_coupon(u, [(self.cheap, 2)], c["couponId"])
        self.assertEqual(r.status, 201, r)
        self.check_amounts(r.json, "3000.00", "3000.00", "0.00")

    def test_order_below_minimum_is_409_and_changes_nothing(self):
        u = self.create_user(balance="100000.00")["id"]
        c = self.coupon_for(u, type="PERCENTAGE", value="10.00", minOrderAmount="20000.00")
        stock = self.item_stock(self.p["id"], self.iid)
        self.assert_error(self.order_with_coupon(u, [(self.iid, 1)], c["couponId"]), 409,
                          "COUPON_NOT_USABLE")
        self.assertEqual(self.item_stock(self.p["id"], self.iid), stock, "stock held by a failed order")
        self.assertEqual(self.coupon(u, c["couponId"])["status"], "AVAILABLE")
        self.assertEqual(self.api.get("/api/v1/users/%d/orders" % u).json["items"], [])
        # exactly at the minimum it applies
        r = self.order_with_coupon(u, [(self.iid, 2)], c["couponId"])
        self.assertEqual(r.status, 201, r)
        self.check_amounts(r.json, "20000.00", "2000.00", "18000.00")

    def test_someone_elses_coupon_is_409(self):
        owner = self.create_user(balance="100000.00")["id"]
        thief = self.create_user(balance="100000.00")["id"]
        c = self.coupon_for(owner, value="1000.00")
        stock = self.item_stock(self.p["id"], self.iid)
        self.assert_error(self.order_with_coupon(thief, [(self.iid, 1)], c["couponId"]), 409,
                          "COUPON_NOT_USABLE")
        self.assertEqual(self.item_stock(self.p["id"], self.iid), stock)
        self.assertEqual(self.coupon(owner, c["couponId"])["status"], "AVAILABLE")
        r = self.order_with_coupon(owner, [(self.iid, 1)], c["couponId"])
        self.assertEqual(r.status, 201, r)

    def test_coupon_held_by_a_pending_order_cannot_be_used_twice(self):
        u = self.create_user(balance="100000.00")["id"]
        c = self.coupon_for(u, value="1000.00")
        r1 = self.order_with_coupon(u, [(self.iid, 1)], c["couponId"])
        self.assertEqual(r1.status, 201, r1)
        self.assert_error(self.order_with_coupon(u, [(self.iid, 1)], c["couponId"]), 409,
                          "COUPON_NOT_USABLE")

    def test_unknown_or_malformed_coupon_id(self):
        u = self.create_user(balance="100000.00")["id"]
        self.assert_error(self.order_with_coupon(u, [(self.iid, 1)], 987654321), 404,
                          "COUPON_NOT_FOUND")
        for bad in ("abc", -1, 0, 1.5):
            with self.subTest(couponId=bad):
                self.assert_error(self.order_with_coupon(u, [(self.iid, 1)], bad), 400,
                                  "VALIDATION_FAILED", field="couponId")

    def test_cancel_releases_the_coupon(self):
        u = self.create_user(balance="100000.00")["id"]
        c = self.coupon_for(u, value="2000.00")
        o = self.order_with_coupon(u, [(self.iid, 1)], c["couponId"]).json
        r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {"userId": u})
        self.assertEqual(r.status, 200, r)
        back = self.coupon(u, c["couponId"])
        self.assertEqual(back["status"], "AVAILABLE", back)
        self.assertFalse(back.get("usedAt"), back)
        self.assertFalse(back.get("orderId"), back)
        r = self.order_with_coupon(u, [(self.iid, 1)], c["couponId"])
        self.assertEqual(r.status, 201, r)
        self.check_amounts(r.json, "10000.00", "2000.00", "8000.00")

    def test_cancel_of_a_paid_order_releases_the_used_coupon(self):
        u = self.create_user(balance="100000.00")["id"]
        c = self.coupon_for(u, value="2000.00")
        o = self.order_with_coupon(u, [(self.iid, 1)], c["couponId"]).json
        self.assertEqual(self.pay(o["orderId"], u).status, 200)
        self.assertEqual(self.coupon(u, c["couponId"])["status"], "USED")
        self.assertEqual(self.balance(u), D("92000.00"))
        r = self.api.post("/api/v1/orders/%d/cancel" % o["orderId"], {"userId": u})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.balance(u), D("100000.00"))
        back = self.coupon(u, c["couponId"])
        self.assertEqual(back["status"], "AVAILABLE", back)
        r = self.order_with_coupon(u, [(self.iid, 1)], c["couponId"])
        self.assertEqual(r.status, 201, r)
        self.check_amounts(r.json, "10000.00", "2000.00", "8000.00")

    def test_expired_coupon_is_listed_expired_and_not_usable(self):
        u = self.create_user(balance="100000.00")["id"]
        end = now_utc() + datetime.timedelta(seconds=4)
        c = self.coupon_for(u, value="1000.00", endAt=rfc3339(end))
        self.assertEqual(c["status"], "AVAILABLE", c)
        self.assertAlmostEqual((parse_time(c["expiresAt"]) - end).total_seconds(), 0, delta=1)
        time.sleep(max(0.0, (end - datetime.datetime.now(UTC)).total_seconds()) + 1.2)
        self.assertEqual(self.coupon(u, c["couponId"])["status"], "EXPIRED")
        self.assert_error(self.order_with_coupon(u, [(self.iid, 1)], c["couponId"]), 409,
                          "COUPON_NOT_USABLE")


class CouponOrderExpiryTests(CouponHelpers, ServiceTestCase):
    SERVICE_ARGS = FAST_ARGS + ("--order-ttl", "2s", "--order-expiry-interval", "200ms")

    def test_expired_order_releases_its_coupon(self):
        p = self.create_product(items=(("10000.00", 10),))
        iid = p["items"][0]["id"]
        u = self.create_user(balance="100000.00")["id"]
        c = self.coupon_for(u, value="2500.00")
        o = self.order_with_coupon(u, [(iid, 1)], c["couponId"]).json
        self.assert_error(self.order_with_coupon(u, [(iid, 1)], c["couponId"]), 409,
                          "COUPON_NOT_USABLE")
        wait_until(lambda: self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"]
                   == "EXPIRED", 10.0, interval=0.2, message="order to expire")
        back = self.coupon(u, c["couponId"])
        self.assertEqual(back["status"], "AVAILABLE", back)
        self.assertFalse(back.get("orderId"), back)
        r = self.order_with_coupon(u, [(iid, 1)], c["couponId"])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(money(r.json["discountAmount"]), D("2500.00"))


# =============================================================================================
# Several processes: shared Redis and database


class MultiProcessCase(CouponHelpers, ServiceTestCase):
    """Base for classes that run several joopang processes against one private redis-server and one
    database: a shared SQLite file (BACKEND "sqlite") or a fresh PostgreSQL database ("postgres").
    Subclasses start their processes in start_processes(); self.svc is the first API process."""

    BACKEND = "sqlite"
    REDIS_APPENDONLY = False  # True: the private redis-server keeps its data over a restart

    @classmethod
    def setUpClass(cls):
        cls.pg_db_name = None
        cls.tmp = tempfile.mkdtemp(prefix="joopang-coupons-")
        cls.redis = None
        cls.services, cls.workers = [], []
        cls.svc = None
        try:
            if cls.BACKEND == "postgres":
                cls.pg_db_name, cls.database = create_pg_database()
            else:
                cls.database = "sqlite://" + os.path.join(cls.tmp, "shared.db")
            cls.redis = cls.make_redis().start()
            cls.start_processes()
        except BaseException:
            cls._cleanup()
            raise
        cls.svc = cls.services[0]
        cls.api = cls.svc.client()

    @classmethod
    def make_redis(cls):
        """The Redis the processes share (a Redis Cluster in test_cluster.py)."""
        return ExternalRedis(appendonly=cls.REDIS_APPENDONLY)

    @classmethod
    def start_processes(cls):
        raise NotImplementedError

    @classmethod
    def start_service(cls, name, extra_args=()):
        s = Service(database=cls.database, redis=cls.redis.url, extra_args=extra_args, name=name,
                    data_dir=tempfile.mkdtemp(prefix=name + "-", dir=cls.tmp))
        cls.services.append(s)
        return s.start()

    @classmethod
    def new_worker(cls, name, extra_args=()):
        w = Worker(database=cls.database, redis=cls.redis.url, extra_args=extra_args, name=name,
                   data_dir=tempfile.mkdtemp(prefix=name + "-", dir=cls.tmp))
        cls.workers.append(w)
        return w

    @classmethod
    def _cleanup(cls):
        for p in cls.services + cls.workers:
            p.kill()
        if cls.redis is not None:
            cls.redis.stop()
        drop_pg_database(cls.pg_db_name)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.api.close()
            codes = {}
            for p in cls.services + cls.workers:
                if p.proc is not None and p.proc.returncode is None:
                    codes[p.name] = p.stop()
            bad = {k: v for k, v in codes.items() if v != 0}
            if bad:
                raise AssertionError("exit codes on SIGTERM %r (expected 0)\n%s" % (
                    bad, "\n".join(p.log_tail(3000) for p in cls.services + cls.workers)))
        finally:
            cls._cleanup()

    def tearDown(self):
        # a test's workers must not outlive it (they would persist the next test's drop)
        codes = {}
        for w in self.workers:
            if w.running():
                codes[w.name] = w.stop()
        super().tearDown()
        bad = {k: v for k, v in codes.items() if v != 0}
        self.assertEqual(bad, {}, "joopang worker exit codes on SIGTERM (expected 0)")

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else 0
        out = unittest.TestCase.run(self, result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            for p in self.services + self.workers:
                print("\n" + p.log_tail(4000))
        return out

    def hold_coupon_write_lock(self):
        """Block writes to the coupons table from another session (readers still read); return a
        function that releases the lock."""
        if self.BACKEND == "postgres":
            cmd = ["psql", self.database, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"]
            script = "BEGIN;\nLOCK TABLE coupons IN EXCLUSIVE MODE;\nSELECT 'locked';\n"
        else:
            if shutil.which("sqlite3") is None:
                self.skipTest("sqlite3 CLI not installed")
            cmd = ["sqlite3", "-cmd", ".timeout 10000", self.database[len("sqlite://"):]]
            script = "BEGIN EXCLUSIVE;\nSELECT 'locked';\n"
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, bufsize=1)
        p.stdin.write(script)
        p.stdin.flush()
        line = p.stdout.readline()
        if line.strip() != "locked":
            p.kill()
            self.fail("could not lock the coupons table: %r" % line)

        def release():
            try:
                p.stdin.write("COMMIT;\n")
                p.stdin.close()
                p.wait(30)
            finally:
                if p.poll() is None:
                    p.kill()
        return release

    def assert_every_user_holds(self, tid, expected, threads=8):
        """expected: {userId: number of coupons of template tid}. Checks all of them concurrently;
        returns {userId: [couponId, ...]}."""
        ports = [s.port for s in self.services if s.running()]

        def coupons_of(c, uid):
            r = c.get("/api/v1/users/%d/coupons" % uid)
            if r.status != 200:
                raise AssertionError("reading coupons: %r" % (r,))
            return [x["couponId"] for x in r.json["items"] if x["couponTemplateId"] == tid]
        results = fan_out(list(expected), coupons_of, ports, threads=threads)
        errors = [r for r, _ in results if isinstance(r, BaseException)]
        self.assertEqual(errors[:3], [])
        got = {uid: r for uid, (r, _) in zip(expected, results)}
        wrong = {u: (len(got.get(u, [])), n) for u, n in expected.items() if len(got.get(u, [])) != n}
        self.assertEqual(wrong, {}, "users whose coupon count (got, expected) is wrong")
        all_ids = [cid for ids in got.values() for cid in ids]
        self.assertEqual(len(all_ids), len(set(all_ids)), "a coupon id listed for two users")
        return got


class BurstCases:
    """5,000 issue requests from 1,000 users (5 each) for 300 coupons, split over two processes."""

    USERS, PER_USER, COUPONS = 1000, 5, 300

    @classmethod
    def start_processes(cls):
        cls.start_service("instance-a", BURST_ARGS)
        cls.start_service("instance-b", BURST_ARGS)

    def test_metadata_change_on_one_instance_applies_on_the_other(self):
        a, b = self.services[0], self.services[1]
        cb = b.client()
        try:
            u = self.create_user()["id"]
            t = self.create_template(totalQuantity=5)
            self.set_status(t["id"], "PAUSED")
            self.assert_error(self.issue(t["id"], u, client=cb), 422, "COUPON_NOT_ACTIVE")
            self.set_status(t["id"], "ACTIVE", client=cb)
            self.assertEqual(self.issue_ok(t["id"], u)["position"], 1)
            self.assert_error(self.issue(t["id"], u, client=cb), 409, "COUPON_ALREADY_ISSUED")
            self.assertEqual(self.get_template(t["id"], client=cb)["reservedQuantity"], 1)
        finally:
            cb.close()

    def test_sold_out_answers_follow_a_pause_on_either_instance(self):
        # Once sold out, each instance answers 409/410 from memory (--sold-out-memo, 50 ms after
        # Redis last confirmed it): a pause made through the other instance must show within
        # that time, one made through the same instance at once.
        cb = self.services[1].client()
        try:
            winner, loser = self.create_user()["id"], self.create_user()["id"]
            t = self.create_template(totalQuantity=1)
            tid = t["id"]
            self.issue_ok(tid, winner)
            for _ in range(5):  # B learns both answers (and reads the roster)
                self.assert_error(self.issue(tid, winner, client=cb), 409, "COUPON_ALREADY_ISSUED")
                self.assert_error(self.issue(tid, loser, client=cb), 410, "COUPON_SOLD_OUT")
            self.set_status(tid, "PAUSED")  # through A
            time.sleep(0.2)
            for uid in (winner, loser, self.create_user()["id"]):
                self.assert_error(self.issue(tid, uid, client=cb), 422, "COUPON_NOT_ACTIVE")
            self.set_status(tid, "ACTIVE", client=cb)
            for _ in range(3):
                self.assert_error(self.issue(tid, winner, client=cb), 409, "COUPON_ALREADY_ISSUED")
                self.assert_error(self.issue(tid, loser, client=cb), 410, "COUPON_SOLD_OUT")
            self.set_status(tid, "ENDED", client=cb)  # through B itself: no wait
            self.assert_error(self.issue(tid, loser, client=cb), 422, "COUPON_NOT_ACTIVE")
            self.assert_error(self.issue(tid, winner, client=cb), 422, "COUPON_NOT_ACTIVE")
        finally:
            cb.close()

    def test_burst_over_two_instances_issues_exactly_the_quantity(self):
        ports = [s.port for s in self.services]
        users = self.make_users(self.USERS, ports=ports)
        t = self.create_template(totalQuantity=self.COUPONS, title="Burst " + uniq())
        tid = t["id"]
        work = [u for u in users for _ in range(self.PER_USER)]
        random.Random(4242).shuffle(work)
        t0 = time.monotonic()
        results = self.fire_issues(tid, work, ports, threads=64)
        elapsed = time.monotonic() - t0
        print("\n%d issue requests over %d instances in %.1fs (%.0f/s)"
              % (len(work), len(ports), elapsed, len(work) / elapsed))
        self.assertLess(elapsed, 60.0, "the burst took too long")
        rs = [r for r, _ in results]
        codes = self.code_counts(rs)
        self.assertEqual([r for r in rs if isinstance(r, BaseException)][:3], [], codes)
        self.assertEqual(codes.get((202, None)), self.COUPONS, codes)
        allowed = {(202, None), (409, "COUPON_ALREADY_ISSUED"), (410, "COUPON_SOLD_OUT")}
        self.assertEqual(set(codes) - allowed, set(), codes)
        per_port = collections.Counter(p for r, p in results if r.status == 202)
        self.assertEqual(len(per_port), 2, "winners came from one instance only: %r" % per_port)

        winners = {}
        for uid, (r, _) in zip(work, results):
            if r.status == 202:
                self.assertNotIn(uid, winners, "user %d won twice" % uid)
                a = r.json
                self.assertEqual((a["templateId"], a["userId"], a["status"]),
                                 (tid, uid, "RESERVED"), a)
                self.assertEqual(a["remainingQuantity"], self.COUPONS - a["position"], a)
                winners[uid] = a
        self.assertEqual(len(winners), self.COUPONS)
        self.assertEqual(sorted(a["position"] for a in winners.values()),
                         list(range(1, self.COUPONS + 1)))
        self.assertEqual(len({a["requestId"] for a in winners.values()}), self.COUPONS)
        for uid, (r, _) in zip(work, results):
            if r.status == 409:
                self.assertIn(uid, winners, "409 ALREADY_ISSUED for a user who never won")
        for port in ports:
            c = Client(port)
            g = self.get_template(tid, client=c)
            c.close()
            self.assertEqual((g["reservedQuantity"], g["remainingQuantity"]),
                             (self.COUPONS, 0), g)

        self.wait_issued_quantity(tid, self.COUPONS, timeout=60)
        held = self.assert_every_user_holds(
            tid, {u: (1 if u in winners else 0) for u in users})
        self.assertEqual(sum(len(v) for v in held.values()), self.COUPONS)
        for uid, a in list(winners.items())[:100]:
            st = self.wait_request_issued(tid, a["requestId"], timeout=10)
            self.assertEqual(st["couponId"], held[uid][0], st)
            self.assertEqual(st["position"], a["position"], st)
        s = self.wait_stream_settled(tid)
        self.assertEqual(s["deadLetterLength"], 0, s)
        self.assert_reconciled(tid, total=self.COUPONS, won=self.COUPONS)
        # nothing more arrives later (no duplicate persistence by a second consumer)
        time.sleep(2.0)
        self.assertEqual(self.get_template(tid)["issuedQuantity"], self.COUPONS)


class CouponBurstSqliteTests(BurstCases, MultiProcessCase):
    BACKEND = "sqlite"


class CrashCases:
    """The API process does not persist; a separate `joopang worker` does and is SIGKILLed
    mid-drain; a new worker finishes the drop exactly once."""

    N = 2000
    WORKER_ARGS = ("--max-deliveries", "3", "--persist-retry-delay", "200ms", "--claim-idle", "1s",
                   "--persist-batch", "20")

    @classmethod
    def start_processes(cls):
        cls.start_service("api", BURST_ARGS + ("--coupon-persister", "false"))

    def test_worker_killed_mid_drain_then_a_new_worker_persists_each_winner_once(self):
        users = self.make_users(self.N)
        t = self.create_template(totalQuantity=self.N, title="Crash " + uniq())
        tid = t["id"]
        w1 = self.new_worker("worker-1", self.WORKER_ARGS).start()

        killed = {}

        def killer():
            c = self.svc.client(timeout=10)
            try:
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    r = c.get("%s/%d" % (self.TEMPLATES, tid))
                    if r.status == 200 and r.json["issuedQuantity"] >= 1:
                        w1.kill()
                        killed["seen"] = r.json["issuedQuantity"]
                        return
                    time.sleep(0.003)
            except Exception as e:  # noqa: BLE001
                killed["error"] = e
            finally:
                c.close()
        kt = threading.Thread(target=killer, daemon=True)
        kt.start()
        results = self.fire_issues(tid, users, [self.svc.port], threads=32)
        codes = self.code_counts([r for r, _ in results])
        self.assertEqual(codes, {(202, None): self.N}, codes)
        kt.join(100)
        self.assertNotIn("error", killed, killed)
        self.assertIn("seen", killed, "the worker never persisted anything\n" + w1.log_tail())
        self.assertFalse(w1.running())

        time.sleep(1.5)  # anything the dead worker committed is visible now
        after_kill = self.get_template(tid)["issuedQuantity"]
        print("\nworker SIGKILLed with issuedQuantity %d (seen %d) of %d; stream: %r"
              % (after_kill, killed["seen"], self.N, self.stream_of(tid)))
        self.assertGreaterEqual(after_kill, 1)
        self.assertLessEqual(after_kill, self.N - 1,
                             "the drain finished before the worker could be killed")
        # the API process runs --coupon-persister false: nothing moves without a worker
        time.sleep(1.5)
        self.assertEqual(self.get_template(tid)["issuedQuantity"], after_kill,
                         "coupons were persisted with no worker running")
        # Mid-drain, the reconciliation counts the wins in the stream, not its entries (each
        # carries a batch of wins): every winner is accounted for, nothing reported missing.
        line = self.report_entry(self.reconcile(), tid)
        self.assertGreaterEqual(line["inStream"], self.N - after_kill, line)
        self.assertLessEqual(line["missingInDatabase"], 0, line)
        self.assertEqual(line["differences"], [], line)

        self.new_worker("worker-2", self.WORKER_ARGS).start()
        self.wait_issued_quantity(tid, self.N, timeout=90)
        self.wait_stream_settled(tid, timeout=30)
        time.sleep(2.0)  # past --claim-idle: a late redelivery would show now
        g = self.get_template(tid)
        self.assertEqual((g["issuedQuantity"], g["reservedQuantity"]), (self.N, self.N), g)
        held = self.assert_every_user_holds(tid, {u: 1 for u in users})
        self.assertEqual(sum(len(v) for v in held.values()), self.N)
        won = {r.json["userId"]: r.json for r, _ in results}
        for uid in random.Random(7).sample(users, 200):
            st = self.wait_request_issued(tid, won[uid]["requestId"], timeout=10)
            self.assertEqual(st["couponId"], held[uid][0], st)
        s = self.stream_of(tid)
        self.assertEqual(s["deadLetterLength"], 0, s)
        self.assert_reconciled(tid, total=self.N, won=self.N)


    def test_a_won_request_reads_reserved_from_the_stream_until_a_worker_persists_it(self):
        """A win writes no request state of its own: with no worker running, its status comes
        from its stream entry (RESERVED, the user and position it won); a request id with no
        entry is 404; once persisted, ISSUED with the coupon."""
        users = self.make_users(3)
        tid = self.create_template(totalQuantity=2, title="Reserved " + uniq())["id"]
        won = [self.issue_ok(tid, u) for u in users[:2]]
        self.assert_error(self.issue(tid, users[2]), 410, "COUPON_SOLD_OUT")
        for w, u in zip(won, users):
            r = self.issue_request(tid, w["requestId"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json["status"], r.json["userId"], r.json["position"]),
                             ("RESERVED", u, w["position"]), r.json)
        # the next sequence number under the same millisecond, and one far away: no entry
        self.assert_error(self.issue_request(tid, won[1]["requestId"] + 7), 404, "NOT_FOUND")
        self.assert_error(self.issue_request(tid, 1), 404, "NOT_FOUND")
        worker = self.new_worker("worker-reserved", self.WORKER_ARGS).start()
        try:
            for w in won:
                st = self.wait_request_issued(tid, w["requestId"], timeout=30)
                self.assertIsInstance(st["couponId"], int, st)
            self.wait_stream_settled(tid)
            wait_until(lambda: self.stream_of(tid)["length"] == 0, 10, interval=0.1,
                       message="the persisted entries trimmed from the stream")
        finally:
            worker.stop()  # the other tests of this class count on no worker running
        # trimmed from the stream, still ISSUED (the persister wrote the state before acking)
        for w in won:
            self.assertEqual(self.issue_request(tid, w["requestId"]).json["status"], "ISSUED")

    def test_worker_killed_holding_a_batch_then_another_worker_reclaims_it(self):
        """The worker is killed while its batch is read but not written (the coupons table is
        locked meanwhile): the entries stay pending with the dead consumer until another worker
        reclaims them after --claim-idle; each lands exactly once."""
        n = 300
        users = self.make_users(n)
        t = self.create_template(totalQuantity=n, title="Crash in batch " + uniq())
        tid = t["id"]
        w1 = self.new_worker("worker-a", self.WORKER_ARGS).start()
        release = self.hold_coupon_write_lock()
        try:
            results = self.fire_issues(tid, users, [self.svc.port], threads=16)
            self.assertEqual(self.code_counts([r for r, _ in results]), {(202, None): n})
            held = wait_until(lambda: (self.stream_of(tid) or {}).get("pending", 0) > 0 and
                              self.stream_of(tid), 20, interval=0.05,
                              message="the worker to hold a batch")
            w1.kill()
        finally:
            release()
        print("\nworker SIGKILLed holding a batch; stream: %r" % held)
        time.sleep(1.0)
        self.assertEqual(self.get_template(tid)["issuedQuantity"], 0)
        s = self.stream_of(tid)
        self.assertGreater(s["pending"], 0, "the dead worker's entries are no longer pending: %r" % s)
        self.new_worker("worker-b", self.WORKER_ARGS).start()
        self.wait_issued_quantity(tid, n, timeout=60)
        s = self.wait_stream_settled(tid, timeout=30)
        time.sleep(2.0)
        self.assertEqual(self.get_template(tid)["issuedQuantity"], n)
        self.assert_every_user_holds(tid, {u: 1 for u in users})
        self.assertEqual(s["deadLetterLength"], 0, s)
        self.assert_reconciled(tid, total=n, won=n)
        self.assertGreaterEqual(s["deliveriesRetried"], 1, "reclaimed entries not counted: %r" % s)


    def test_consumers_of_stopped_and_killed_workers_are_forgotten(self):
        """Each process start adds its lanes to the template's consumer group. Those of workers
        that stopped or were killed (nothing pending, no read since) are removed after
        --forget-consumers-after by a running persister; its own lanes stay, and it keeps
        draining."""
        users = self.make_users(20)
        t = self.create_template(totalQuantity=20, title="Consumers " + uniq())
        tid = t["id"]
        args = self.WORKER_ARGS + ("--persist-lanes", "2", "--forget-consumers-after", "3s")

        def consumers():
            return (self.stream_of(tid) or {}).get("consumers", 0)
        for i in range(3):
            w = self.new_worker("gone-%d" % i, args).start()
            wait_until(lambda: consumers() >= 2 * (i + 1), 20, message="worker %d's lanes" % i)
            if i == 1:
                w.kill()
            else:
                self.assertEqual(w.stop(), 0)
        self.assertEqual(consumers(), 6, self.stream_of(tid))
        self.new_worker("keeper", args).start()
        wait_until(lambda: consumers() == 2, 30, interval=0.2,
                   message="only the live worker's two lanes to remain")
        time.sleep(1.5)  # past the next tidy-up: the live lanes stay
        self.assertEqual(consumers(), 2, self.stream_of(tid))
        results = self.fire_issues(tid, users, [self.svc.port], threads=4)
        self.assertEqual(self.code_counts([r for r, _ in results]), {(202, None): 20})
        self.wait_issued_quantity(tid, 20, timeout=30)
        self.assert_every_user_holds(tid, {u: 1 for u in users})


class CouponCrashSqliteTests(CrashCases, MultiProcessCase):
    BACKEND = "sqlite"


# =============================================================================================
# A poison entry


class PoisonCases:
    """One entry of a drop cannot be written (a trigger/constraint rejects that user's row). After
    --max-deliveries it goes to the dead-letter stream; the rest of the drop lands; once the cause is
    removed, an admin replay lands it too."""

    SERVICE_ARGS = FAST_ARGS

    def add_poison(self, uid):
        raise NotImplementedError

    def drop_poison(self):
        raise NotImplementedError

    def test_poison_entry_is_dead_lettered_and_replayed(self):
        poison = self.create_user()["id"]
        others = [self.create_user()["id"] for _ in range(60)]
        t = self.create_template(totalQuantity=100, title="Poison " + uniq())
        tid = t["id"]
        self.add_poison(poison)
        try:
            poison_rid = self.issue_ok(tid, poison)["requestId"]
            for u in others[:50]:
                self.issue_ok(tid, u)
            self.wait_issued_quantity(tid, 50, timeout=60)

            def dead_lettered():
                s = self.stream_of(tid)
                return s if s and s["deadLetterLength"] == 1 else None
            s = wait_until(dead_lettered, 60, interval=0.3, message="the poison entry in the DLQ")
            self.assertGreaterEqual(s["deadLettered"], 1, s)
            self.assertEqual(s["pending"], 0, s)
            s_dlq = s  # its deliveriesRetried is checked last (a figure, not the behaviour)
            r = self.issue_request(tid, poison_rid)
            self.assertEqual(r.status, 200, r)
            self.assertIn(r.json["status"], ("RESERVED", "FAILED"), r)
            self.assertEqual(self.coupons_of(poison, tid), [])
            # the rest of the drop is unaffected: the stream keeps flowing
            for u in others[50:]:
                self.issue_ok(tid, u)
            self.wait_issued_quantity(tid, 60, timeout=30)
            self.assertEqual(self.stream_of(tid)["deadLetterLength"], 1)
            # the reconciliation sees the winner missing in the database (checked last)
            e_before = self.report_entry(self.reconcile(), tid)
            self.assertEqual((e_before["redisReserved"], e_before["databaseIssued"]), (61, 60),
                             e_before)
        finally:
            self.drop_poison()
        path = "/api/v1/admin/streams/%s/dead-letter/replay" % urllib.parse.quote(s["name"], safe="")
        self.assert_error(self.api.post(path), 401, "UNAUTHORIZED")
        r = self.api.post(path, admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["replayed"], 1, r)
        st = self.wait_request_issued(tid, poison_rid, timeout=30)
        self.assertEqual(self.wait_issued_quantity(tid, 61, timeout=30)["reservedQuantity"], 61)
        mine = self.coupons_of(poison, tid)
        self.assertEqual([c["couponId"] for c in mine], [st["couponId"]])
        s = self.wait_stream_settled(tid)
        self.assertEqual(s["deadLetterLength"], 0, s)
        for u in others:
            self.assertEqual(len(self.coupons_of(u, tid)), 1, u)
        self.assert_reconciled(tid, total=100, won=61)
        # before the replay, a winner had no coupon in the database: the report must show it
        # (as missing / not ok, or accounted to the dead-letter stream)
        self.assertTrue(e_before["missingInDatabase"] == 1 or e_before["ok"] is False
                        or e_before.get("deadLetters") == 1,
                        "reconciliation does not show the winner without a coupon: %r" % e_before)
        # the poison entry was delivered --max-deliveries (3) times: the retries are counted
        self.assertGreaterEqual(s_dlq["deliveriesRetried"], 1,
                                "retried deliveries not counted in /admin/streams: %r" % s_dlq)


    def test_a_poison_win_lets_the_wins_sharing_its_entry_land(self):
        """The wins one script call decides share one stream entry. A poison win among them is
        dead-lettered alone: the others land, the entry is acknowledged, and a replay lands the
        poison too."""
        poison = self.create_user()["id"]
        first = [self.create_user()["id"] for _ in range(10)]
        second = [self.create_user()["id"] for _ in range(10)]
        t = self.create_template(totalQuantity=100, title="Poison entry " + uniq())
        tid = t["id"]
        self.add_poison(poison)
        try:
            # Redis holds writes for 0.6 s: the first wave's script calls wait at Redis, and the
            # second wave, the poison among it, queues in the service meanwhile and goes to Redis
            # in one call per I/O thread.
            self.redis_cli("CLIENT", "PAUSE", "600", "WRITE")
            waves = {}
            early = threading.Thread(target=lambda: waves.update(
                first=self.fire_issues(tid, first, [self.svc.port], threads=len(first))))
            early.start()
            time.sleep(0.2)
            late = [poison] + second
            waves["second"] = self.fire_issues(tid, late, [self.svc.port], threads=len(late))
            early.join(30)
            answers = {}
            for uid, (r, _) in zip(first + late, waves["first"] + waves["second"]):
                self.assertEqual(r.status, 202, r)
                answers[uid] = r.json
            entry_of = lambda a: a["requestId"] // 1000  # the request id's entry part
            siblings = [u for u in second if entry_of(answers[u]) == entry_of(answers[poison])]
            self.assertTrue(siblings, "the poison's entry carries no other win: %r" % answers)
            self.wait_issued_quantity(tid, 20, timeout=60)

            def dead_lettered():
                s = self.stream_of(tid)
                return s if s and s["deadLetterLength"] == 1 and s["pending"] == 0 else None
            s = wait_until(dead_lettered, 60, interval=0.3, message="the poison win in the DLQ")
            self.assertEqual(s["deadLetterLength"], 1, s)
            self.assertEqual(self.issue_request(tid, answers[poison]["requestId"]).json["status"],
                             "FAILED")
            for u in siblings:
                st = self.wait_request_issued(tid, answers[u]["requestId"], timeout=30)
                self.assertEqual([c["couponId"] for c in self.coupons_of(u, tid)],
                                 [st["couponId"]])
            self.assertEqual(self.coupons_of(poison, tid), [])
        finally:
            self.drop_poison()
        path = "/api/v1/admin/streams/%s/dead-letter/replay" % urllib.parse.quote(s["name"], safe="")
        r = self.api.post(path, admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["replayed"], 1, r)
        st = self.wait_request_issued(tid, answers[poison]["requestId"], timeout=30)
        self.assertEqual([c["couponId"] for c in self.coupons_of(poison, tid)], [st["couponId"]])
        self.assertEqual(self.wait_issued_quantity(tid, 21, timeout=30)["reservedQuantity"], 21)
        s = self.wait_stream_settled(tid)
        self.assertEqual(s["deadLetterLength"], 0, s)
        self.assert_reconciled(tid, total=100, won=21)


class CouponPoisonSqliteTests(PoisonCases, CouponHelpers, ServiceTestCase):
    BACKEND = "sqlite"

    def add_poison(self, uid):
        self.sqlite("CREATE TRIGGER poison BEFORE INSERT ON coupons WHEN NEW.user_id = %d "
                    "BEGIN SELECT RAISE(ABORT, 'poison'); END;" % uid)

    def drop_poison(self):
        self.sqlite("DROP TRIGGER IF EXISTS poison;")


if __name__ == "__main__":
    unittest.main()
