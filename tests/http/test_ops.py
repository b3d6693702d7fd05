"""SPEC §1 and the operational endpoints: health, readiness, metrics, OpenAPI, --help, configuration
by environment, the supervised embedded redis-server, graceful stop and restart on the same data dir."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (ADMIN_TOKEN, Client, Service, ServiceTestCase, joopang_bin, money, pid_alive,
                     run_concurrently, uniq, wait_until)


def metric_samples(text):
    """Parse Prometheus text: list of (name, labels dict, value float) plus {name: type}."""
    samples, types = [], {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3]
            continue
        m = line_re.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = dict(label_re.findall(m.group(3) or ""))
        samples.append((m.group(1), labels, float(m.group(4))))
    return samples, types


class OpsTests(ServiceTestCase):

    def test_healthz(self):
        r = self.api.get("/healthz")
        self.assertEqual(r.status, 200, r)

    def test_every_response_carries_server_timing(self):
        """SPEC: Server-Timing with the time spent in the database and in Redis, on every answer."""
        pattern = re.compile(r"^db;dur=(\d+\.\d{3}), redis;dur=(\d+\.\d{3}), total;dur=(\d+\.\d{3})$")

        def timing(headers):
            value = headers.get("Server-Timing") or ""
            m = pattern.match(value)
            self.assertIsNotNone(m, "Server-Timing %r" % value)
            return tuple(float(x) for x in m.groups())

        r = self.api.get("/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(timing(r.headers)[:2], (0.0, 0.0))
        r = self.api.get("/api/v1/users/987654321", admin=True)  # a database read, finds nothing
        self.assertEqual(r.status, 404, r)
        db, _, total = timing(r.headers)
        self.assertGreater(db, 0.0)
        self.assertGreaterEqual(total, db)
        r = self.api.post("/api/v1/coupon-templates/987654321/issue", {"userId": 1},
                          admin=True)  # Redis only
        self.assertEqual(r.status, 404, r)
        db, redis_ms, total = timing(r.headers)
        self.assertEqual(db, 0.0)
        self.assertGreater(redis_ms, 0.0)
        self.assertGreaterEqual(total, redis_ms)
        # refused by the HTTP layer before any handler: still there
        with socket.create_connection(("127.0.0.1", self.svc.port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
            sock.settimeout(10)
            resp = http.client.HTTPResponse(sock, method="GET")
            resp.begin()
            resp.read()
            self.assertEqual(resp.status, 400)
            timing(resp.headers)

    def test_readyz_when_dependencies_are_up(self):
        r = self.api.get("/readyz")
        self.assertEqual(r.status, 200, r)

    def test_metrics_are_prometheus_text_with_request_counts_and_latency_histograms(self):
        for _ in range(3):
            self.api.get("/api/v1/users/987654321", admin=True)
        r = self.api.get("/metrics")
        self.assertEqual(r.status, 200, r)
        ctype = r.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        self.assertIn("version=0.0.4", ctype)
        samples, types = metric_samples(r.body.decode())
        hist = [n for n, t in types.items() if t == "histogram"]
        self.assertTrue(hist, "no histogram family in /metrics")
        names = {s[0] for s in samples}
        self.assertTrue(any(h + "_bucket" in names and h + "_sum" in names and h + "_count" in names
                            for h in hist), "histogram without _bucket/_sum/_count series")
        self.assertTrue(any(s[0].endswith("_bucket") and s[1].get("le") == "+Inf" for s in samples))
        # some request counter carries a 404 status label from the requests above
        def requests_404(samples):
            return sum(v for n, labels, v in samples
                       if "request" in n and not n.endswith(("_bucket", "_sum"))
                       and types.get(n) != "histogram" and "404" in labels.values()
                       and not (n.endswith("_count") and n[:-6] in hist))
        before = requests_404(samples)
        self.assertGreaterEqual(before, 3, "no request count labelled with status 404")
        for _ in range(4):
            self.assertEqual(self.api.get("/api/v1/users/987654321", admin=True).status, 404)
        after = requests_404(metric_samples(self.api.get("/metrics").body.decode())[0])
        self.assertGreaterEqual(after - before, 4, "request counter did not count new requests")

    def test_redis_health_is_in_metrics_and_follows_redis(self):
        def health():
            samples, types = metric_samples(self.api.get("/metrics").body.decode())
            return {n: v for n, labels, v in samples if n.startswith("joopang_redis_")}, types

        # The redis-health job samples every 2 s; the first sample comes at start-up.
        wait_until(lambda: health()[0].get("joopang_redis_used_memory_bytes", 0) > 0, 10,
                   message="joopang_redis_used_memory_bytes > 0")
        h, types = health()
        self.assertEqual(types.get("joopang_redis_used_memory_bytes"), "gauge")
        self.assertEqual(h["joopang_redis_aof_enabled"], 1)  # the embedded Redis appends an AOF
        self.assertEqual(h["joopang_redis_aof_last_write_ok"], 1)
        self.assertEqual(h["joopang_redis_connected_replicas"], 0)
        for name in ("joopang_redis_aof_pending_fsync", "joopang_redis_slowlog_length",
                     "joopang_redis_replication_offset_bytes", "joopang_redis_aof_delayed_fsyncs_total"):
            self.assertIn(name, h)
        # Memory follows what Redis holds: a 3 MB probe hash shows within a sample or two.
        before = h["joopang_redis_used_memory_bytes"]
        sock = os.path.join(self.svc.data_dir, "redis", "redis.sock")
        subprocess.run(["redis-cli", "-s", sock, "EVAL",
                        "for i = 1, 50000 do redis.call('HSET', 'ops:health:probe', i, "
                        "string.rep('x', 64)) end return 1", "0"],
                       check=True, capture_output=True)
        try:
            wait_until(lambda: health()[0]["joopang_redis_used_memory_bytes"] > before + 2e6, 10,
                       message="used memory grew by the probe's 3 MB")
        finally:
            subprocess.run(["redis-cli", "-s", sock, "DEL", "ops:health:probe"], check=True,
                           capture_output=True)

    def test_openapi_document(self):
        r = self.api.get("/openapi.json")
        self.assertEqual(r.status, 200, r)
        self.assertIn("application/json", r.header("Content-Type") or "")
        doc = r.json
        self.assertIsInstance(doc, dict, r)
        self.assertTrue(str(doc.get("openapi", "")).startswith("3"), doc.get("openapi"))
        self.assertIsInstance(doc.get("paths"), dict)
        for path in ("/api/v1/orders", "/api/v1/users", "/api/v1/products"):
            self.assertIn(path, doc["paths"])

    def test_threads_are_named_and_the_persister_yields_the_cpu(self):
        """`top -H` tells the threads apart; the persister's threads (its reactor and one
        database thread per lane) run --persist-nice (default 10) steps below the request
        path's priority."""
        threads = {}
        task_dir = "/proc/%d/task" % self.svc.proc.pid
        for tid in os.listdir(task_dir):
            with open(os.path.join(task_dir, tid, "comm")) as f:
                name = f.read().strip()
            with open(os.path.join(task_dir, tid, "stat")) as f:
                # fields after the parenthesised name; nice is field 19 of the whole line
                nice = int(f.read().rsplit(")", 1)[1].split()[16])
            threads.setdefault(name, []).append(nice)
        persist = {n: v for n, v in threads.items() if n.startswith("persist-")}
        self.assertEqual(sorted(persist), ["persist-0", "persist-1", "persist-2", "persist-io"],
                         threads)
        self.assertIn("io-0", threads)
        base = threads["io-0"][0]  # the process's own, whatever the environment started it at
        self.assertEqual({v[0] for v in persist.values()}, {min(19, base + 10)}, threads)
        db = {n: v for n, v in threads.items() if n.startswith("db-")}
        self.assertTrue(db, threads)
        self.assertEqual({v[0] for v in db.values()}, {base}, threads)

    def test_embedded_redis_is_running_under_the_data_dir(self):
        pid = self.svc.redis_pid()
        self.assertTrue(pid_alive(pid))
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            self.assertIn(b"redis-server", f.read())


class HelpTests(unittest.TestCase):

    def test_help_lists_the_flags(self):
        exe = joopang_bin()
        out = ""
        for args in ([exe, "--help"], [exe, "serve", "--help"]):
            r = subprocess.run(args, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (args, r.stdout, r.stderr))
            out += r.stdout + r.stderr
        for flag in ("--listen", "--data-dir", "--redis", "--database", "--admin-token", "--threads",
                     "--order-ttl", "--order-expiry-interval", "--read-timeout", "--max-body-bytes"):
            self.assertIn(flag, out)
        for env in ("JOOPANG_LISTEN", "JOOPANG_DATA_DIR", "JOOPANG_ADMIN_TOKEN"):
            self.assertIn(env, out)


class RedisSupervisionTests(ServiceTestCase):

    def test_killed_redis_server_is_restarted(self):
        old = self.svc.redis_pid()
        self.assertTrue(pid_alive(old))
        os.kill(old, signal.SIGKILL)
        seen = []

        def recovered():
            self.assertTrue(self.svc.running(), "joopang died with its redis-server")
            r = self.api.get("/readyz")
            seen.append(r.status)
            self.assertIn(r.status, (200, 503), r)
            if r.status == 503:
                self.assert_error(r, 503, "UNAVAILABLE")
                self.assertIsNotNone(r.header("Retry-After"), "503 without Retry-After")
            h = self.api.get("/healthz")
            self.assertEqual(h.status, 200, "healthz must stay up: %r" % h)
            if r.status != 200:
                return False
            try:
                new = self.svc.redis_pid()
            except (OSError, ValueError):
                return False
            return new != old and pid_alive(new) and new
        new = wait_until(recovered, 15.0, interval=0.2, message="a new redis-server and readyz 200")
        self.assertFalse(pid_alive(old))
        # and the service works end to end again
        p = self.create_product(items=(("5.00", 3),))
        u = self.create_user(balance="10.00")
        o = self.create_order(u["id"], [(p["items"][0]["id"], 1)])
        r = self.pay(o["orderId"], u["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.svc.redis_pid(), new)


class LifecycleTests(unittest.TestCase):
    """Each test starts and stops its own processes."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="joopang-http-life-")
        self.services = []

    def tearDown(self):
        for s in self.services:
            s.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, **kw):
        s = Service(data_dir=self.dir, name="life%d" % len(self.services), **kw)
        self.services.append(s)
        return s.start()

    def stop_ok(self, svc, sig=signal.SIGTERM):
        code = svc.stop(sig=sig)
        self.assertEqual(code, 0, "exit code %s on %s\n%s" % (code, sig.name, svc.log_tail()))

    def test_sigint_exits_cleanly(self):
        svc = self.start()
        self.stop_ok(svc, signal.SIGINT)

    def test_configuration_from_environment_variables(self):
        svc = self.start(use_env=True)
        c = svc.client()
        body = {"name": "n", "code": uniq("P"), "price": "1.00",
                "items": [{"name": "i", "code": uniq("I"), "unitPrice": "1.00", "stock": 1}]}
        r = c.post("/api/v1/products", body, admin=True)  # JOOPANG_ADMIN_TOKEN is the token
        self.assertEqual(r.status, 201, r)
        c.close()
        self.assertTrue(os.path.exists(os.path.join(self.dir, "redis", "redis.pid")),
                        "JOOPANG_DATA_DIR not used")
        self.stop_ok(svc)

    def test_request_in_flight_at_sigterm_completes_and_data_survives_restart(self):
        svc = self.start(extra_args=["--read-timeout", "10s"])
        email = uniq("inflight") + "@example.com"
        body = json.dumps({"email": email, "password": "pw-12345678", "balance": "5.00"}).encode()
        s = socket.create_connection(("127.0.0.1", svc.port), timeout=15)
        try:
            s.sendall(b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                      + body[:10])
            time.sleep(0.3)
            svc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertTrue(svc.running(), "exited with a request in flight\n" + svc.log_tail())
            s.sendall(body[10:])
            resp = http.client.HTTPResponse(s, method="POST")
            resp.begin()
            data = resp.read()
        finally:
            s.close()
        self.assertEqual(resp.status, 201, data)
        user = json.loads(data)
        self.assertEqual(user["email"], email)
        self.stop_ok(svc)
        # the same data dir, a new process: the user is still there
        svc2 = self.start()
        c = svc2.client()
        r = c.get("/api/v1/users/%d" % user["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["email"], email)
        self.assertEqual(money(r.json["balance"]), money("5.00"))
        c.close()
        self.stop_ok(svc2)

    def test_burst_interrupted_by_sigterm_loses_no_response(self):
        """Every order the service processed must have had its response delivered: after a restart
        the stock taken equals the number of 201 answers the clients received."""
        svc = self.start()
        c = svc.client()
        body = {"name": "n", "code": uniq("P"), "price": "1.00",
                "items": [{"name": "i", "code": uniq("I"), "unitPrice": "1.00", "stock": 100000}]}
        p = c.post("/api/v1/products", body, admin=True).json
        iid = p["items"][0]["id"]
        r = c.post("/api/v1/users", {"email": uniq("b") + "@example.com", "password": "pw-12345678"})
        uid = r.json["id"]
        c.close()
        started = threading.Event()

        def order(i, conn):
            results = []
            started.set()
            for _ in range(3000):  # until the stop interrupts this client
                try:
                    r = conn.post("/api/v1/orders", {"userId": uid, "recipientName": "R",
                                                     "items": [{"productItemId": iid, "quantity": 1}]})
                except (OSError, http.client.HTTPException) as e:
                    results.append(e)
                    break
                self.assertIn(r.status, (201, 503), r)  # 503 UNAVAILABLE while stopping is fair
                self.assertIsInstance(r.json, dict, "truncated/invalid response %r" % r)
                results.append(r.status)
            return results

        killer = threading.Thread(target=lambda: (started.wait(10), time.sleep(0.3),
                                                  svc.send_signal(signal.SIGTERM)))
        killer.start()
        rs = run_concurrently(8, order, setup=lambda i: Client(svc.port, retry_stale=False).connect())
        killer.join()
        for r in rs:
            self.assertIsInstance(r, list, r)
        created = sum(x == 201 for r in rs for x in r)
        self.assertGreater(created, 0)
        self.assertTrue(any(r and isinstance(r[-1], BaseException) for r in rs),
                        "SIGTERM did not interrupt the burst; the test proved nothing")
        self.stop_ok(svc)
        svc2 = self.start()
        c = svc2.client()
        stock = c.get("/api/v1/products/%d" % p["id"]).json["items"][0]["stock"]
        c.close()
        self.assertEqual(100000 - stock, created,
                         "orders processed (%d) != 201 responses delivered (%d)"
                         % (100000 - stock, created))
        self.stop_ok(svc2)


if __name__ == "__main__":
    unittest.main()
