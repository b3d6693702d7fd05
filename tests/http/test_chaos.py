"""Crash-only: `joopang serve` killed with SIGKILL at a random moment under load (coupon issues,
orders, payments) and started again at once on the same data dir, cycle after cycle; each restart
must become ready within seconds, and at the end nothing is lost or doubled: every 202 has exactly
one coupon and no user more than one, every order read PAID was paid once (wallets add up), and
stock + what PENDING and PAID orders hold = the initial stock. On the embedded defaults (SQLite, a
redis-server the service supervises) and on PostgreSQL with an external Redis (test_chaos_pg.py).
Prints the cycle count, the time to ready after each restart (p50 / max) and the verification.
"""

import decimal
import os
import random
import signal
import statistics
import subprocess
import threading
import time
import unittest

from harness import Client, Service, free_port, money, uniq

D = decimal.Decimal
CYCLES = 10
USERS = 40
STOCK = 1_000_000
BALANCE = D("1000000.00")
PRICE = D("10.00")
COUPONS = 25  # fewer than the users: the drop sells out during the run
SLOW_EXIT_REDIS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slow_exit_redis.sh")


class Ledger:
    """What the clients saw, from all threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.won = {}          # user -> requestId of its 202
        self.orders = {}       # orderId -> (user, quantity)
        self.paid = set()      # orderIds answered 200 to a payment
        self.refusals = {}     # (status, code, has Retry-After) -> count, for every 5xx

    def refused(self, r):
        key = (r.status, (r.json or {}).get("code"), bool(r.header("Retry-After")))
        with self.lock:
            self.refusals[key] = self.refusals.get(key, 0) + 1

    def add(self, field, key, value=None):
        with self.lock:
            if field == "paid":
                self.paid.add(key)
            else:
                getattr(self, field)[key] = value


class CrashRestartCases:
    """Mixed into a unittest.TestCase; subclasses say where the data lives (make_service)."""

    def make_service(self):
        raise NotImplementedError

    def setUp(self):
        self.svc = self.make_service()
        self.svc.start()
        self.wait_ready(self.svc)
        api = self.svc.client()
        self.admin = api
        p = api.post("/api/v1/products", {
            "name": "Chaos", "code": uniq("C"), "price": str(PRICE),
            "items": [{"name": "one", "code": "one", "unitPrice": str(PRICE), "stock": STOCK}]},
            admin=True)
        self.assertEqual(p.status, 201, p)
        self.product, self.item = p.json["id"], p.json["items"][0]["id"]
        t = api.post("/api/v1/coupon-templates", {"title": "chaos", "type": "AMOUNT",
                                                   "value": "1.00", "totalQuantity": COUPONS},
                     admin=True)
        self.assertEqual(t.status, 201, t)
        self.template = t.json["id"]
        self.users = []
        for _ in range(USERS):
            r = api.post("/api/v1/users", {"email": uniq("chaos") + "@example.com",
                                           "password": "pw-12345678", "balance": str(BALANCE)})
            self.assertEqual(r.status, 201, r)
            self.users.append(r.json["id"])
            api.token_for(r.json["id"])

    def tearDown(self):
        self.admin.close()
        self.svc.stop()
        self.cleanup_service()

    @staticmethod
    def wait_ready(svc, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                c = Client(svc.port, timeout=2.0)
                r = c.get("/readyz")
                c.close()
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("not ready after %.0fs\n%s" % (timeout, svc.log_tail()))

    # -- load --

    def load(self, port, ledger, stop, seed):
        rng = random.Random(seed)
        c = Client(port, timeout=5.0, retry_stale=False)
        try:
            while not stop.is_set():
                user = rng.choice(self.users)
                try:
                    if rng.random() < 0.4:
                        r = c.post("/api/v1/coupon-templates/%d/issue" % self.template, {},
                                   user=user)
                        if r.status == 202:
                            ledger.add("won", user, r.json["requestId"])
                        elif r.status >= 500:
                            ledger.refused(r)
                    else:
                        qty = rng.randint(1, 3)
                        r = c.post("/api/v1/orders", {"recipientName": "R", "items": [
                            {"productItemId": self.item, "quantity": qty}]}, user=user)
                        if r.status >= 500:
                            ledger.refused(r)
                        if r.status == 201:
                            oid = r.json["orderId"]
                            ledger.add("orders", oid, (user, qty))
                            if rng.random() < 0.7:
                                p = c.post("/api/v1/orders/%d/payment" % oid, {}, user=user)
                                if p.status == 200:
                                    ledger.add("paid", oid)
                                elif p.status >= 500:
                                    ledger.refused(p)
                except OSError:
                    return  # the service died under us: this cycle's load is over
                except Exception:  # noqa: BLE001  a response cut in half by the kill
                    return
        finally:
            c.close()

    # -- the test --

    def test_sigkill_under_load_and_restart_at_once_loses_nothing(self):
        ledger = Ledger()
        rng = random.Random(20261205)
        ready_s = []
        for cycle in range(CYCLES):
            stop = threading.Event()
            threads = [threading.Thread(target=self.load,
                                        args=(self.svc.port, ledger, stop, cycle * 10 + i))
                       for i in range(4)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.5))
            self.svc.proc.send_signal(signal.SIGKILL)  # a crash: no shutdown of any kind
            self.svc.proc.wait()
            stop.set()
            for t in threads:
                t.join(30)
            started = time.monotonic()
            self.svc.start()  # at once, on the same data dir
            self.wait_ready(self.svc)
            ready_s.append(time.monotonic() - started)
        self.admin.close()
        self.admin = self.svc.client()
        summary = self.verify(ledger)
        print("\n%s: %d cycles of SIGKILL + immediate restart; time to ready p50 %.2f s, max %.2f s;"
              " %s" % (type(self).__name__, CYCLES, statistics.median(ready_s), max(ready_s),
                       summary))
        self.assertLess(max(ready_s), 10.0, "a restart took %.1f s to be ready" % max(ready_s))

    def kill_dependency(self, cycle):
        """SIGKILL a dependency of the running service (which one may depend on the cycle);
        returns its name. The service must notice and recover by itself."""
        raise NotImplementedError

    def test_dependency_killed_under_load_answers_503_and_recovers_by_itself(self):
        ledger = Ledger()
        rng = random.Random(512)
        recovered_s, killed = [], []
        for cycle in range(4):
            stop = threading.Event()
            threads = [threading.Thread(target=self.load,
                                        args=(self.svc.port, ledger, stop, 1000 + cycle * 10 + i))
                       for i in range(4)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.0))
            killed.append(self.kill_dependency(cycle))
            started = time.monotonic()
            time.sleep(0.05)
            self.wait_ready(self.svc, timeout=60.0)  # the load goes on through the outage
            recovered_s.append(time.monotonic() - started)
            time.sleep(max(0.0, 1.5 - recovered_s[-1]))
            stop.set()
            for t in threads:
                t.join(30)
        self.assertTrue(self.svc.running(), "the service died\n" + self.svc.log_tail())
        # While a dependency was down the answers were 503 UNAVAILABLE with Retry-After, never
        # another 5xx.
        for (status, code, retry_after), n in ledger.refusals.items():
            self.assertEqual((status, code, retry_after), (503, "UNAVAILABLE", True),
                             "%d answers %r" % (n, (status, code, retry_after)))
        summary = self.verify(ledger)
        print("\n%s: killed %s under load; ready again after p50 %.2f s, max %.2f s; %d answers "
              "503 UNAVAILABLE with Retry-After meanwhile; %s"
              % (type(self).__name__, ", ".join(killed), statistics.median(recovered_s),
                 max(recovered_s), sum(ledger.refusals.values()), summary))

    def verify(self, ledger):
        api = self.admin
        # Every win reaches the database: wait for the persister.
        deadline = time.monotonic() + 60
        while True:
            t = api.get("/api/v1/coupon-templates/%d" % self.template).json
            if t["issuedQuantity"] == t["reservedQuantity"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(t["issuedQuantity"], t["reservedQuantity"], t)
        self.assertLessEqual(t["reservedQuantity"], COUPONS, t)
        coupons_total = 0
        spent = {}
        held = 0  # stock held by PENDING and PAID orders
        paid_orders = 0
        for user in self.users:
            items = api.get("/api/v1/users/%d/coupons" % user, admin=True).json["items"]
            mine = [c for c in items if c["couponTemplateId"] == self.template]
            self.assertLessEqual(len(mine), 1, "user %d holds %d coupons" % (user, len(mine)))
            if user in ledger.won:
                self.assertEqual(len(mine), 1, "user %d got 202 but has no coupon" % user)
            coupons_total += len(mine)
            page, orders = 0, []
            while True:
                r = api.get("/api/v1/users/%d/orders?page=%d&size=100" % (user, page), admin=True)
                self.assertEqual(r.status, 200, r)
                orders += r.json["items"]
                if len(r.json["items"]) < 100:
                    break
                page += 1
            spent[user] = D(0)
            for o in orders:
                qty = sum(line["quantity"] for line in o["items"])
                if o["status"] in ("PENDING", "PAID"):
                    held += qty
                if o["status"] == "PAID":
                    spent[user] += money(o["payableAmount"])
                    paid_orders += 1
                if o["orderId"] in ledger.paid:
                    self.assertEqual(o["status"], "PAID", o)
            for oid, (owner, qty) in ledger.orders.items():
                if owner == user:
                    self.assertIn(oid, [o["orderId"] for o in orders], "order %d lost" % oid)
        self.assertEqual(coupons_total, t["reservedQuantity"])
        for user in self.users:
            balance = money(api.get("/api/v1/users/%d" % user, admin=True).json["balance"])
            self.assertEqual(BALANCE - balance, spent[user],
                             "user %d: wallet moved %s, PAID orders cost %s"
                             % (user, BALANCE - balance, spent[user]))
        p = api.get("/api/v1/products/%d" % self.product).json
        stock = p["items"][0]["stock"]
        self.assertEqual(stock + held, STOCK, "stock %d + held %d != %d" % (stock, held, STOCK))
        return ("%d wins of %d (every 202 holds one coupon, %d persisted), %d orders seen, %d paid "
                "(wallets add up), stock %d + held %d = %d"
                % (len(ledger.won), COUPONS, coupons_total, len(ledger.orders), paid_orders, stock,
                   held, STOCK))


class CrashRestartEmbeddedTests(CrashRestartCases, unittest.TestCase):
    """The embedded defaults: SQLite and a redis-server under the data dir. (A redis-server that
    is slow to exit after its joopang died is DataDirOwnershipTests' case.)"""

    def make_service(self):
        return Service(name="chaos", extra_args=("--issue-rate-limit", "1000"))

    def cleanup_service(self):
        self.svc.cleanup()

    def kill_dependency(self, cycle):
        # The embedded redis-server (its supervisor starts it again on the same AOF).
        os.kill(self.svc.redis_pid(), signal.SIGKILL)
        return "redis-server"


def redis_servers_of(data_dir):
    """Pids of the redis-server processes working in <data_dir>/redis."""
    target = os.path.join(os.path.abspath(data_dir), "redis")
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"redis-server") and target.encode() in argv:
            with open("/proc/%s/stat" % entry) as f:
                if f.read().split(")")[-1].split()[0] != "Z":
                    pids.append(int(entry))
    return pids


class DataDirOwnershipTests(unittest.TestCase):

    def test_a_restart_waits_for_the_previous_redis_server_and_keeps_its_own_socket(self):
        """The redis-server of a killed joopang gets SIGTERM and may take its time to exit (here
        1.5 s: slow_exit_redis.sh). The restarted joopang must wait for it — never two servers on
        one AOF — and its own server's socket must survive the old one's exit, which deletes the
        socket path on its way out."""
        svc = Service(name="restart", extra_args=("--redis-server-binary", SLOW_EXIT_REDIS)).start()
        try:
            old_redis = svc.redis_pid()
            svc.proc.send_signal(signal.SIGKILL)
            svc.proc.wait()
            seen_together = []
            watching = threading.Event()

            def watch():
                while not watching.is_set():
                    servers = redis_servers_of(svc.data_dir)
                    if len(servers) > 1:
                        seen_together.append(servers)
                    time.sleep(0.01)

            watcher = threading.Thread(target=watch)
            watcher.start()
            started = time.monotonic()
            try:
                svc.start()
                CrashRestartCases.wait_ready(svc)
            finally:
                watching.set()
                watcher.join()
            waited = time.monotonic() - started
            self.assertEqual(seen_together, [], "two redis-servers on one data dir")
            self.assertGreaterEqual(waited, 1.3, "the restart did not wait for the old server")
            deadline = time.monotonic() + 10
            while old_redis in redis_servers_of(svc.data_dir) and time.monotonic() < deadline:
                time.sleep(0.05)
            sock = os.path.join(svc.data_dir, "redis", "redis.sock")
            self.assertTrue(os.path.exists(sock), "the new redis-server's socket was deleted")
            ping = subprocess.run(["redis-cli", "-s", sock, "PING"], capture_output=True,
                                  text=True, timeout=10)
            self.assertEqual(ping.stdout.strip(), "PONG", ping)
            with open(svc.log_path) as f:
                self.assertIn("waiting for the redis-server", f.read())
        finally:
            svc.stop()
            svc.cleanup()

    def test_a_restart_before_the_killed_process_is_reaped_starts(self):
        """A supervisor may start joopang again before it has reaped the killed one (a zombie, whose
        pid still answers): that must not read as a live owner."""
        svc = Service(name="zombie").start()
        killed = svc.proc
        try:
            killed.send_signal(signal.SIGKILL)
            time.sleep(0.3)  # dead, not reaped
            with open("/proc/%d/stat" % killed.pid) as f:
                self.assertEqual(f.read().split(")")[-1].split()[0], "Z")
            svc.start()
            CrashRestartCases.wait_ready(svc)
        finally:
            killed.wait()
            svc.stop()
            svc.cleanup()

    def test_a_second_serve_on_the_same_data_dir_refuses_clearly(self):
        first = Service(name="owner").start()
        try:
            # Run by hand (the harness would clean up after a failed start by killing the data
            # dir's redis-server, which is the first one's).
            second = Service(name="intruder", data_dir=first.data_dir)
            second.port = free_port()
            out = subprocess.run(second.args(), capture_output=True, text=True, timeout=60,
                                 cwd=first.data_dir)
            self.assertNotEqual(out.returncode, 0, out)
            self.assertIn("is in use by joopang pid %d" % first.proc.pid, out.stdout + out.stderr)
            self.assertTrue(first.running())
            c = first.client()
            self.assertEqual(c.get("/readyz").status, 200)
            c.close()
        finally:
            first.stop()
            first.cleanup()


if __name__ == "__main__":
    unittest.main()
