"""The coupon tests of test_coupons.py on PostgreSQL (issue, orders, the two-instance burst, the
worker crash, the poison entry), plus a PostgreSQL outage during a drop on a private PostgreSQL
server. Skipped unless JOOPANG_TEST_PG_URL is set (the CTest postgres fixture); the outage test
starts its own server with tests/support/pg_fixture.sh on a free port and stops it at the end.

Run by hand:
  bash tests/support/pg_fixture.sh start /tmp/pgfix-coupons 55477
  cd tests/http && JOOPANG_TEST_PG_URL=postgresql://postgres@127.0.0.1:55477/postgres \
      JOOPANG_BIN=<build>/src/main/joopang python3 -m unittest -v test_coupons_pg
"""

import os
import random
import shutil
import subprocess
import tempfile
import time
import unittest

import test_coupons
from harness import (REPO_ROOT, ServiceTestCase, Service, _psql, free_port, pg_url_or_skip, uniq,
                     wait_until)
from test_coupons import CouponHelpers, FAST_ARGS

PG_FIXTURE = os.path.join(REPO_ROOT, "tests", "support", "pg_fixture.sh")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


class CouponIssueTestsPg(test_coupons.CouponIssueTests):
    BACKEND = "postgres"


class CouponOrderTestsPg(test_coupons.CouponOrderTests):
    BACKEND = "postgres"


class CouponBurstPgTests(test_coupons.BurstCases, test_coupons.MultiProcessCase):
    BACKEND = "postgres"


class CouponCrashPgTests(test_coupons.CrashCases, test_coupons.MultiProcessCase):
    BACKEND = "postgres"


class CouponPoisonPgTests(test_coupons.PoisonCases, CouponHelpers, ServiceTestCase):
    BACKEND = "postgres"

    def add_poison(self, uid):
        _psql(self.svc.database, "ALTER TABLE coupons ADD CONSTRAINT poison CHECK (user_id <> %d) "
                                 "NOT VALID" % uid)

    def drop_poison(self):
        _psql(self.svc.database, "ALTER TABLE coupons DROP CONSTRAINT IF EXISTS poison")


class PrivatePostgres:
    """A PostgreSQL server of this test only, on a free port (tests/support/pg_fixture.sh). pause()
    and resume() stop and start the same cluster with pg_ctl (pg_fixture.sh stop would delete it)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="joopang-pg-outage-")
        self.port = free_port()

    @property
    def url(self):
        return "postgresql://postgres@127.0.0.1:%d/postgres" % self.port

    def start(self):
        r = subprocess.run(["bash", PG_FIXTURE, "start", self.dir, str(self.port)],
                           capture_output=True, text=True, timeout=180)
        if r.returncode != 0:
            raise AssertionError("pg_fixture.sh start failed: %s%s" % (r.stdout, r.stderr))
        return self

    def data_dir(self):
        path_file = os.path.join(self.dir, "cluster_path")
        root = os.path.join(self.dir, "cluster")
        if os.path.isfile(path_file):
            with open(path_file) as f:
                root = f.read().strip()
        return root, os.path.join(root, "data")

    def pg_ctl(self, *args):
        root, data = self.data_dir()
        cmd = [os.path.join(PG_BIN, "pg_ctl"), "-D", data] + list(args)
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("pg_ctl %s failed: %s%s" % (args, r.stdout, r.stderr))

    def pause(self):
        self.pg_ctl("-m", "fast", "-w", "-t", "60", "stop")

    def resume(self):
        root, _ = self.data_dir()
        self.pg_ctl("-l", os.path.join(root, "server.log"), "-w", "-t", "60", "start")

    def stop(self):
        subprocess.run(["bash", PG_FIXTURE, "stop", self.dir, str(self.port)],
                       capture_output=True, text=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


class CouponPgOutageTests(CouponHelpers, ServiceTestCase):
    """PostgreSQL goes away for ~3 s during a drop of 1,000: issuing keeps answering (the request
    path touches no SQL) and, once the database is back, every winner's coupon lands exactly once.
    Uses the default --max-deliveries/--persist-retry-delay (5 deliveries, 1 s doubling = 15 s before
    dead-lettering) so that a 3 s outage is within what the contract tolerates."""

    N = 1000

    @classmethod
    def setUpClass(cls):
        pg_url_or_skip()
        if not os.path.isfile(os.path.join(PG_BIN, "pg_ctl")):
            raise unittest.SkipTest("PostgreSQL server binaries not found in %s" % PG_BIN)
        cls.pg = PrivatePostgres().start()
        cls.pg_db_name = None
        cls.svc = Service(database=cls.pg.url, name=cls.__name__,
                          extra_args=("--issue-rate-limit", "100000", "--claim-idle", "1s"))
        try:
            cls.svc.start()
        except BaseException:
            cls.svc.cleanup()
            cls.pg.stop()
            raise
        cls.api = cls.svc.client()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.pg.stop()

    def test_postgres_outage_during_a_drop_loses_and_duplicates_nothing(self):
        users = self.make_users(self.N)
        t = self.create_template(totalQuantity=self.N, title="Outage " + uniq())
        tid = t["id"]
        half = self.N // 2
        first = self.fire_issues(tid, users[:half], [self.svc.port], threads=16)
        self.assertEqual(self.code_counts([r for r, _ in first]), {(202, None): half})
        # Everyone signed in before the outage: a token is checked without the database.
        for uid in users[half:]:
            self.assertIsNotNone(self.api.token_for(uid))
        self.pg.pause()
        down_at = time.monotonic()
        try:
            second = self.fire_issues(tid, users[half:], [self.svc.port], threads=16)
            codes = self.code_counts([r for r, _ in second])
            self.assertEqual(codes, {(202, None): self.N - half},
                             "issuing must not need the database: %r" % codes)
            time.sleep(max(0.0, 3.0 - (time.monotonic() - down_at)))
        finally:
            self.pg.resume()
        print("\nPostgreSQL was down for %.1fs" % (time.monotonic() - down_at))
        wait_until(lambda: self.api.get("/readyz").status == 200, 30, interval=0.2,
                   message="/readyz after PostgreSQL restarted")
        self.wait_issued_quantity(tid, self.N, timeout=90)
        s = self.wait_stream_settled(tid, timeout=30)
        self.assertEqual(s["deadLetterLength"], 0, s)
        time.sleep(2.0)
        self.assertEqual(self.get_template(tid)["issuedQuantity"], self.N)
        held = {}
        for uid in users:
            held[uid] = [c["couponId"] for c in self.coupons_of(uid, tid)]
        wrong = {u: len(v) for u, v in held.items() if len(v) != 1}
        self.assertEqual(wrong, {}, "users without exactly one coupon")
        won = {r.json["userId"]: r.json for r, _ in first + second}
        for uid in random.Random(3).sample(users, 100):
            st = self.wait_request_issued(tid, won[uid]["requestId"], timeout=10)
            self.assertEqual(st["couponId"], held[uid][0], st)
        self.assert_reconciled(tid, total=self.N, won=self.N)


if __name__ == "__main__":
    unittest.main()
