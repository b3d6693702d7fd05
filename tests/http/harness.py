"""Black-box harness for the joopang HTTP tests.

Starts the real `joopang serve` binary on a free loopback port with a temporary data dir, waits for
`/healthz`, gives the tests a small keep-alive JSON client, and on teardown sends SIGTERM and checks
that the process exits 0 and that its embedded redis-server is gone.

Only the Python standard library is used. The binary is taken from $JOOPANG_BIN, else from
<repo>/build/src/main/joopang.
"""

import datetime
import decimal
import http.client
import itertools
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
import urllib.parse
import uuid

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_BIN = os.path.join(REPO_ROOT, "build", "src", "main", "joopang")
ADMIN_TOKEN = "test-admin-token-" + uuid.uuid4().hex[:8]
# Every service the tests start signs access tokens with this secret, so a token minted on one is
# good on all of them (as with several instances in production).
AUTH_SECRET = "test-auth-secret-" + uuid.uuid4().hex
HEALTH_TIMEOUT_S = 20.0

MONEY_RE = re.compile(r"^-?\d+\.\d{2}$")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:00)$")

_counter = itertools.count(1)
_live_processes = []  # (Popen) started by this module; killed at interpreter exit if still running


def uniq(prefix="x"):
    """A short string unique within this test run (and across runs, by the random part)."""
    return "%s%d%s" % (prefix, next(_counter), uuid.uuid4().hex[:8])


def joopang_bin():
    """Path of the binary, or raise SkipTest when it simply has not been built (running by hand)."""
    env = os.environ.get("JOOPANG_BIN")
    if env:
        if not os.path.isfile(env) or not os.access(env, os.X_OK):
            raise AssertionError("JOOPANG_BIN=%s is not an executable file" % env)
        return env
    if os.path.isfile(DEFAULT_BIN) and os.access(DEFAULT_BIN, os.X_OK):
        return DEFAULT_BIN
    raise unittest.SkipTest("joopang binary not found: set JOOPANG_BIN or build %s" % DEFAULT_BIN)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.1, message="condition"):
    """Poll predicate() until it returns a truthy value; return it, or raise AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, http.client.HTTPException) as e:  # service briefly unreachable
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, message, last))
        time.sleep(interval)


def redis_cmd(redis_args, *args):
    """One redis-cli command (raw output, stripped); redis_args reach the server, e.g. -p PORT."""
    return subprocess.run(["redis-cli", *redis_args, "--raw", *args], capture_output=True,
                          text=True, timeout=10, check=True).stdout.strip()


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        state = stat[stat.rindex(")") + 2]
        return state not in ("Z", "X")
    except (OSError, ValueError, IndexError):
        return False


def money(s):
    """Parse a money string ("12.50") strictly and return a Decimal."""
    if not isinstance(s, str) or not MONEY_RE.match(s):
        raise AssertionError("not a money string with two decimal places: %r" % (s,))
    return decimal.Decimal(s)


def fmt_money(d):
    return "%s" % decimal.Decimal(d).quantize(decimal.Decimal("0.01"))


def parse_time(s):
    if not isinstance(s, str) or not RFC3339_RE.match(s):
        raise AssertionError("not an RFC 3339 UTC time: %r" % (s,))
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------------
# HTTP client


class Response:
    def __init__(self, status, headers, body, method, path):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage (case-insensitive get)
        self.body = body
        self.method = method
        self.path = path
        self._json = None
        self._json_parsed = False

    @property
    def json(self):
        if not self._json_parsed:
            self._json_parsed = True
            try:
                self._json = json.loads(self.body.decode("utf-8")) if self.body else None
            except (ValueError, UnicodeDecodeError):
                self._json = None
        return self._json

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        text = self.body[:600].decode("utf-8", "replace")
        return "<%s %s -> %d %s>" % (self.method, self.path, self.status, text)


class _Auto:
    def __repr__(self):
        return "AUTO"


AUTO = _Auto()
# (port, user id) -> access token, minted by that service (tokens are good on every service that
# shares AUTH_SECRET, but a service may run with its own secret or a short --auth-token-ttl).
_user_tokens = {}
_USER_PATH_RE = re.compile(r"^/api/v1/users/(\d+)(/|$|\?)")


def _named_user(path, body):
    """The user a request names: its body's integer "userId", else the {id} of /users/{id}."""
    if isinstance(body, dict) and isinstance(body.get("userId"), int) \
            and not isinstance(body.get("userId"), bool) and 0 < body["userId"] < 2 ** 63:
        return body["userId"]
    m = _USER_PATH_RE.match(path)
    if m and int(m.group(1)) < 2 ** 63:
        return int(m.group(1))
    return None


class Client:
    """A tiny JSON client on one keep-alive connection (http.client.HTTPConnection)."""

    def __init__(self, port, host="127.0.0.1", timeout=30.0, retry_stale=True):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.retry_stale = retry_stale
        self.conn = None
        self.requests_on_conn = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connect(self):
        self.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.requests_on_conn = 0

    def connect(self):
        """Open the TCP connection now (so that a later request does not pay for it)."""
        self._connect()
        self.conn.connect()
        return self

    def request(self, method, path, body=None, headers=None, raw=None, admin=False, user=AUTO):
        """Send one request. body: JSON-serialisable (sent as JSON); raw: bytes/str sent verbatim.

        user: the signed-in user to send the request as (its access token is minted once through
        the admin endpoint and kept); AUTO (the default) signs in as the user the request itself
        names — the body's "userId" or the {id} of /users/{id} — as that user's own client would;
        None sends no access token."""
        hdrs = {"Accept": "application/json"}
        if user is AUTO:
            user = None if admin or (headers and "Authorization" in headers) else \
                _named_user(path, body)
        if user is not None:
            token = self.token_for(user)
            if token:
                hdrs["Authorization"] = "Bearer " + token
        payload = None
        if raw is not None:
            payload = raw.encode("utf-8") if isinstance(raw, str) else raw
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            payload = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if admin:
            hdrs["Authorization"] = "Bearer " + ADMIN_TOKEN
        if headers:
            hdrs.update(headers)
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            reused = self.requests_on_conn > 0
            try:
                self.conn.request(method, path, body=payload, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection; retry once on a fresh one.
                self.close()
                if attempt == 0 and reused and self.retry_stale:
                    continue
                raise
            except Exception:
                self.close()
                raise
            self.requests_on_conn += 1
            if r.will_close:
                self.close()
            return Response(r.status, r.headers, data, method, path)
        raise AssertionError("unreachable")

    def token_for(self, user_id):
        """An access token for user_id (minted by the admin endpoint, then kept), or None when
        the service knows no such user."""
        token = _user_tokens.get((self.port, user_id))
        if token is None:
            r = self.request("POST", "/api/v1/admin/users/%d/tokens" % user_id, admin=True)
            if r.status != 201:
                return None
            token = _user_tokens[(self.port, user_id)] = r.json["accessToken"]
        return token

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)


# --------------------------------------------------------------------------------------------
# The service process


class _JoopangProcess:
    """What a started joopang process (serve or worker) shares: its log and its cleanup.
    Subclasses set name, log_path, data_dir, own_data_dir and define kill()."""

    def cleanup(self):
        self.kill()
        if self.own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _kill_process(self):
        """SIGKILL (a crash) and reap it."""
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def _signal_and_wait(self, sig, timeout):
        """Send sig and wait for the exit code; SIGKILL and raise if it does not exit in time."""
        if self.running():
            self.proc.send_signal(sig)
        try:
            self.exit_code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not exit within %.0fs of %s\n%s"
                                 % (self.name, timeout, signal.Signals(sig).name, self.log_tail()))
        return self.exit_code

    def log_tail(self, n=12000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except (OSError, TypeError):
            return "(no log)"
        return "---- %s log (%s) ----\n%s\n---- end of log ----" % (
            self.name, self.log_path, data[-n:].decode("utf-8", "replace"))


class Service(_JoopangProcess):
    """One `joopang serve` process."""

    def __init__(self, database=None, redis=None, extra_args=(), threads=2, data_dir=None,
                 use_env=False, name="joopang", auth_secret=AUTH_SECRET):
        self.bin = joopang_bin()
        self.auth_secret = auth_secret  # None: the service makes <data-dir>/auth-secret
        self.database = database
        self.redis = redis
        self.extra_args = list(extra_args)
        self.threads = threads
        self.own_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="joopang-http-")
        self.port = None
        self.proc = None
        self.use_env = use_env
        self.name = name
        self.log_path = None
        self.redis_pid_at_start = None
        self.exit_code = None

    # -- lifecycle --

    def args(self):
        a = [self.bin, "serve"]
        if not self.use_env:
            a += ["--listen", "127.0.0.1:%d" % self.port, "--data-dir", self.data_dir,
                  "--admin-token", ADMIN_TOKEN]
            if self.auth_secret:
                a += ["--auth-secret", self.auth_secret]
        a += ["--threads", str(self.threads)]
        if self.database:
            a += ["--database", self.database]
        if self.redis:
            a += ["--redis", self.redis]
        return a + self.extra_args

    def start(self):
        self.port = free_port()
        self.log_path = os.path.join(self.data_dir, "%s-%d.log" % (self.name, self.port))
        env = dict(os.environ)
        if self.use_env:
            env["JOOPANG_LISTEN"] = "127.0.0.1:%d" % self.port
            env["JOOPANG_DATA_DIR"] = self.data_dir
            env["JOOPANG_ADMIN_TOKEN"] = ADMIN_TOKEN
            if self.auth_secret:
                env["JOOPANG_AUTH_SECRET"] = self.auth_secret
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, cwd=self.data_dir)
        finally:
            log.close()
        _live_processes.append(self.proc)
        try:
            self.wait_healthy()
        except BaseException:
            self.kill()
            raise
        if not self.redis:
            try:
                self.redis_pid_at_start = self.redis_pid()
            except OSError:
                self.redis_pid_at_start = None
        return self

    def wait_healthy(self, timeout=HEALTH_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("joopang exited with %s before becoming healthy\n%s"
                                     % (self.proc.returncode, self.log_tail()))
            try:
                c = Client(self.port, timeout=2.0)
                r = c.get("/healthz")
                c.close()
                if r.status == 200:
                    return
                last = r
            except (OSError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.1)
        raise AssertionError("joopang not healthy after %.0fs (last: %r)\n%s"
                             % (timeout, last, self.log_tail()))

    def redis_pid_file(self):
        return os.path.join(self.data_dir, "redis", "redis.pid")

    def redis_pid(self):
        with open(self.redis_pid_file()) as f:
            return int(f.read().strip())

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Stop with SIGTERM (or sig); return the exit code. Kills (and raises) if it hangs."""
        if self.proc is None:
            return None
        redis_pids = self._embedded_redis_pids()
        self._signal_and_wait(sig, timeout)
        # The embedded redis-server must not outlive the service (allow it a moment to exit).
        survivors = []
        deadline = time.monotonic() + 5.0
        for pid in redis_pids:
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(pid):
                survivors.append(pid)
        for pid in survivors:  # clean up after a failing service; these are its children
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if survivors:
            raise AssertionError("embedded redis-server %s still running after joopang exited\n%s"
                                 % (survivors, self.log_tail()))
        return self.exit_code

    def _embedded_redis_pids(self):
        """The embedded redis-server's pids (at start and now); none with an external Redis."""
        pids = set()
        if not self.redis:
            if self.redis_pid_at_start:
                pids.add(self.redis_pid_at_start)
            try:
                pids.add(self.redis_pid())
            except (OSError, ValueError):
                pass
        return pids

    def kill(self):
        self._kill_process()
        for pid in self._embedded_redis_pids():
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def client(self, **kw):
        return Client(self.port, **kw)


class Worker(_JoopangProcess):
    """One `joopang worker` process: the background consumers and jobs, no HTTP API. It needs the
    same --redis/--database as the API processes (only one process may supervise an embedded redis
    in a data dir, so give it a private redis-server, e.g. ExternalRedis)."""

    def __init__(self, database, redis, extra_args=(), data_dir=None, name="worker"):
        self.bin = joopang_bin()
        self.database = database
        self.redis = redis
        self.extra_args = list(extra_args)
        self.own_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="joopang-worker-")
        self.name = name
        self.proc = None
        self.log_path = None
        self.exit_code = None

    def args(self):
        a = [self.bin, "worker", "--data-dir", self.data_dir, "--admin-token", ADMIN_TOKEN]
        if self.database:
            a += ["--database", self.database]
        if self.redis:
            a += ["--redis", self.redis]
        return a + self.extra_args

    def start(self, settle=1.0):
        """Start it; after `settle` seconds it must still be running (it has no health endpoint)."""
        self.log_path = os.path.join(self.data_dir, "%s-%s.log" % (self.name, uuid.uuid4().hex[:6]))
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.data_dir)
        finally:
            log.close()
        _live_processes.append(self.proc)
        time.sleep(settle)
        if self.proc.poll() is not None:
            raise AssertionError("joopang worker exited with %s right after start\n%s"
                                 % (self.proc.returncode, self.log_tail()))
        return self

    def kill(self):
        """SIGKILL (a crash) and reap it."""
        self._kill_process()

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Stop with SIGTERM; return the exit code (None if it was never started)."""
        if self.proc is None:
            return None
        return self._signal_and_wait(sig, timeout)


def _kill_leftovers():
    for p in _live_processes:
        if p.poll() is None:
            p.kill()


import atexit  # noqa: E402

atexit.register(_kill_leftovers)


# --------------------------------------------------------------------------------------------
# PostgreSQL and an external Redis


PG_ENV = "JOOPANG_TEST_PG_URL"


def pg_url_or_skip():
    url = os.environ.get(PG_ENV)
    if not url:
        raise unittest.SkipTest("%s is not set: PostgreSQL tests need the CTest postgres fixture "
                                "(or export %s=postgresql://postgres@127.0.0.1:55432/postgres)"
                                % (PG_ENV, PG_ENV))
    if shutil.which("psql") is None:
        raise unittest.SkipTest("psql not installed")
    return url


def _psql(url, sql):
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("psql failed (%s): %s%s" % (sql, r.stdout, r.stderr))


def create_pg_database(prefix="joopang_http"):
    """Create a fresh database; return (name, url of it)."""
    base = pg_url_or_skip()
    name = "%s_%s" % (prefix, uuid.uuid4().hex[:12])
    _psql(base, "CREATE DATABASE %s" % name)
    parts = urllib.parse.urlsplit(base)
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    return name, url


def drop_pg_database(name):
    base = os.environ.get(PG_ENV)
    if base and name:
        try:
            _psql(base, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
        except AssertionError:
            pass


class ExternalRedis:
    """A private redis-server on a free loopback port, for multi-instance tests (--redis)."""

    def __init__(self, appendonly=False):
        self.dir = tempfile.mkdtemp(prefix="joopang-http-redis-")
        self.port = free_port()
        self.proc = None
        self.appendonly = appendonly  # AOF on (everysec): start() again reloads the data

    def start(self):
        exe = shutil.which("redis-server")
        if exe is None:
            raise unittest.SkipTest("redis-server not installed")
        with open(os.path.join(self.dir, "redis.log"), "ab") as log:
            self.proc = subprocess.Popen(
                [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                 "--save", "", "--appendonly", "yes" if self.appendonly else "no",
                 "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT)
        _live_processes.append(self.proc)

        def ping():
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        wait_until(ping, 10, message="redis-server to answer PING")
        return self

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    @property
    def cli_args(self):
        """redis-cli's arguments to reach it."""
        return ["-p", str(self.port)]

    def stop(self, keep_data=False):
        """Stops redis-server (SIGTERM: with AOF on, it writes its data first). keep_data: the
        directory stays, so that start() brings the data back."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not keep_data:
            shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Base test case


class ServiceTestCase(unittest.TestCase):
    """One service per test class. Subclasses may set SERVICE_ARGS and BACKEND ("sqlite"|"postgres")."""

    SERVICE_ARGS = ()
    BACKEND = "sqlite"
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg_db_name = None
        database = None
        if cls.BACKEND == "postgres":
            cls.pg_db_name, database = create_pg_database()
        cls.svc = Service(database=database, extra_args=cls.SERVICE_ARGS, name=cls.__name__)
        try:
            cls.svc.start()
        except BaseException:
            cls.svc.cleanup()
            drop_pg_database(cls.pg_db_name)
            raise
        cls.api = cls.svc.client()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.api.close()
            code = cls.svc.stop()
            if code != 0:
                raise AssertionError("joopang exited with %s on SIGTERM (expected 0)\n%s"
                                     % (code, cls.svc.log_tail()))
        finally:
            cls.svc.cleanup()
            drop_pg_database(cls.pg_db_name)
            super().tearDownClass()

    def run(self, result=None):
        # Attach the service log to failures and errors.
        before = len(result.failures) + len(result.errors) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            print("\n" + self.svc.log_tail(6000))
        return out

    # -- helpers --

    def new_client(self, **kw):
        return self.svc.client(**kw)

    def sqlite(self, sql):
        """Runs sql on the service's SQLite database with the sqlite3 CLI."""
        db = os.path.join(self.svc.data_dir, "joopang.db")
        self.assertTrue(os.path.isfile(db), db)
        if shutil.which("sqlite3") is None:
            self.skipTest("sqlite3 CLI not installed")
        r = subprocess.run(["sqlite3", "-cmd", ".timeout 10000", db, sql],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, "sqlite3 %s: %s%s" % (sql, r.stdout, r.stderr))

    def create_user(self, balance=None, client=None, **fields):
        c = client or self.api
        body = {"email": uniq("u") + "@example.com", "password": "s3cret-" + uniq("p"),
                "firstName": "Gil", "lastName": "Hong"}
        if balance is not None:
            body["balance"] = balance
        body.update(fields)
        r = c.post("/api/v1/users", body)
        self.assertEqual(r.status, 201, r)
        return r.json

    def signed_in_user(self):
        """The id of a user made once per test class, for requests that only need some
        signed-in caller."""
        cls = type(self)
        if cls.__dict__.get("_signed_in_user") is None:
            cls._signed_in_user = self.create_user(balance="100.00")["id"]
        return cls._signed_in_user

    def create_category(self, name=None, parent_id=None):
        body = {"name": name or uniq("cat")}
        if parent_id is not None:
            body["parentId"] = parent_id
        r = self.api.post("/api/v1/categories", body, admin=True)
        self.assertEqual(r.status, 201, r)
        return r.json

    def create_product(self, items=(("1000.00", 10),), price=None, category_id=None, name=None,
                       client=None, **extra):
        """items: sequence of (unitPrice, stock). Returns the created product JSON."""
        c = client or self.api
        code = uniq("P")
        body = {
            "name": name or "Product " + code,
            "code": code,
            "description": "desc of " + code,
            "price": price or items[0][0],
            "items": [{"name": "Item %d of %s" % (i, code), "code": "%s-I%d" % (code, i),
                       "unitPrice": up, "stock": st} for i, (up, st) in enumerate(items)],
        }
        if category_id is not None:
            body["categoryId"] = category_id
        body.update(extra)
        r = c.post("/api/v1/products", body, admin=True)
        self.assertEqual(r.status, 201, r)
        return r.json

    def get_product(self, pid, client=None):
        r = (client or self.api).get("/api/v1/products/%d" % pid)
        self.assertEqual(r.status, 200, r)
        return r.json

    def item_stock(self, pid, item_id, client=None):
        p = self.get_product(pid, client)
        for it in p["items"]:
            if it["id"] == item_id:
                return it["stock"]
        raise AssertionError("item %s not in product %s: %r" % (item_id, pid, p))

    def get_user(self, uid, client=None):
        r = (client or self.api).get("/api/v1/users/%d" % uid)
        self.assertEqual(r.status, 200, r)
        return r.json

    def balance(self, uid, client=None):
        return money(self.get_user(uid, client)["balance"])

    def order(self, user_id, lines, recipient="Hong Gildong", client=None, headers=None):
        """lines: sequence of (productItemId, quantity). Returns the Response."""
        body = {"userId": user_id, "recipientName": recipient,
                "items": [{"productItemId": i, "quantity": q} for i, q in lines]}
        return (client or self.api).post("/api/v1/orders", body, headers=headers)

    def create_order(self, user_id, lines, **kw):
        r = self.order(user_id, lines, **kw)
        self.assertEqual(r.status, 201, r)
        return r.json

    def pay(self, order_id, user_id, client=None, headers=None):
        return (client or self.api).post("/api/v1/orders/%d/payment" % order_id,
                                         {"userId": user_id}, headers=headers)

    def assert_error(self, r, status, code, field=None):
        """Assert an error response: status, JSON body {code, message, timestamp, path[, field]}."""
        self.assertEqual(r.status, status, r)
        body = r.json
        self.assertIsInstance(body, dict, "error body is not a JSON object: %r" % r)
        ctype = r.header("Content-Type") or ""
        self.assertIn("application/json", ctype, "error Content-Type: %r" % ctype)
        self.assertEqual(body.get("code"), code, r)
        self.assertIsInstance(body.get("message"), str, r)
        self.assertTrue(body["message"], "empty error message: %r" % r)
        parse_time(body.get("timestamp"))
        req_path = r.path.split("?", 1)[0]
        self.assertIn(body.get("path"), (req_path, r.path, urllib.parse.unquote(req_path)),
                      "error path: %r" % r)
        if field is not None:
            self.assertEqual(body.get("field"), field, "error must name the field: %r" % r)
        return body

    def assert_healthy(self):
        self.assertTrue(self.svc.running(), "joopang died\n" + self.svc.log_tail())
        c = self.new_client(timeout=5)
        try:
            r = c.get("/healthz")
        finally:
            c.close()
        self.assertEqual(r.status, 200, r)


def run_concurrently(n, fn, setup=None, timeout=120.0):
    """Run fn(i, ctx) in n threads released together by a barrier, where ctx = setup(i) was prepared
    before the barrier (e.g. an open connection). Returns the results in order; an exception raised
    by fn is returned in its slot."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        ctx = None
        try:
            ctx = setup(i) if setup else None
        except BaseException as e:  # noqa: BLE001
            results[i] = e
            barrier.abort()
            return
        try:
            barrier.wait(timeout=60)
            results[i] = fn(i, ctx)
        except BaseException as e:  # noqa: BLE001 - reported to the test
            results[i] = e
        finally:
            if isinstance(ctx, Client):
                ctx.close()

    _run_threads(worker, n, timeout)
    return results


def _run_threads(target, n, timeout):
    """Run target(k) for k in 0..n-1 in daemon threads; raise if any is still running at timeout."""
    threads = [threading.Thread(target=target, args=(k,), daemon=True) for k in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise AssertionError("concurrent workers did not finish within %.0fs" % timeout)


def fan_out(items, fn, ports, threads=8, timeout=300.0, start_together=False,
            client_timeout=60.0, retry_stale=True):
    """Call fn(client, item) for every item from `threads` threads pulling from one shared queue,
    each thread with its own keep-alive Client to ports[k % len(ports)]. Returns a list parallel to
    items of (fn's result or the exception it raised, port); after an exception that thread's
    connection is closed and reopened on its next request. With start_together, every thread
    connects first and all start at once (a barrier): a burst."""
    items = list(items)
    results = [None] * len(items)
    nxt = iter(range(len(items)))
    lock = threading.Lock()
    barrier = threading.Barrier(threads) if start_together else None

    def work(k):
        port = ports[k % len(ports)]
        c = Client(port, timeout=client_timeout, retry_stale=retry_stale)
        try:
            if barrier:
                c.connect()
                barrier.wait(60)
            while True:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    return
                try:
                    results[i] = (fn(c, items[i]), port)
                except Exception as e:  # noqa: BLE001 - reported to the caller
                    results[i] = (e, port)
                    c.close()
        except threading.BrokenBarrierError:
            return
        finally:
            c.close()

    _run_threads(work, threads, timeout)
    if None in results:
        raise AssertionError("some items were never processed (a broken barrier?)")
    return results
