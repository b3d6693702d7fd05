"""SPEC §2 conventions under abuse: unknown routes, wrong methods, malformed and hostile input,
oversized bodies, slow clients. After every test the service must still answer /healthz."""

import decimal
import http.client
import json
import select
import socket
import time
import unittest

from harness import ADMIN_TOKEN, ServiceTestCase, uniq, wait_until

READ_TIMEOUT_S = 2.0
IDLE_TIMEOUT_S = 3.0  # --idle-timeout (documented by --help): keep-alive/fresh connections with no request


def raw_response(sock, method="GET", timeout=10.0):
    """Read one HTTP response from a raw socket: (status, headers, body bytes)."""
    sock.settimeout(timeout)
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    body = resp.read()
    return resp.status, resp.headers, body


def stalled_outcome(sock, limit):
    """Wait (at most `limit` s) for the server to deal with a stalled request.
    Returns (kind, status_or_None, body, elapsed) where kind is "response", "closed" or "timeout"."""
    t0 = time.monotonic()
    sock.settimeout(limit)
    try:
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        body = resp.read()
        return "response", resp.status, body, time.monotonic() - t0
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
            http.client.IncompleteRead):
        return "closed", None, b"", time.monotonic() - t0
    except (socket.timeout, TimeoutError):
        return "timeout", None, b"", time.monotonic() - t0
    except http.client.HTTPException as e:  # bytes that are not an HTTP/1.x response
        raise AssertionError("the server answered with something that is not HTTP: %r" % (e,))


def read_http_response(f):
    """Read one response from a buffered binary file without closing it: (status, headers, body)."""
    status_line = f.readline(65537)
    if not status_line:
        raise ConnectionError("connection closed before a response")
    parts = status_line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise AssertionError("bad status line %r" % status_line)
    headers = {}
    while True:
        line = f.readline(65537)
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            n = int(f.readline().split(b";")[0].strip(), 16)
            if n == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += f.read(n)
            f.readline()
    else:
        body = f.read(int(headers.get("content-length", "0")))
    return int(parts[1]), headers, body


class AbuseTests(ServiceTestCase):
    SERVICE_ARGS = ("--read-timeout", "2s", "--idle-timeout", "3s")

    def tearDown(self):
        self.assert_healthy()

    def sock(self):
        return socket.create_connection(("127.0.0.1", self.svc.port), timeout=10)

    # ---- routing ----

    def test_unknown_routes_are_404_not_found(self):
        for method, path in [("GET", "/api/v1/nope"), ("GET", "/nope"), ("POST", "/api/v1/nope"),
                             ("GET", "/api/v2/users/1"), ("GET", "/api/v1/users/1/nope"),
                             ("GET", "/api/v1/"), ("DELETE", "/definitely/not/here")]:
            with self.subTest(method=method, path=path):
                r = self.api.request(method, path, body={} if method == "POST" else None)
                self.assert_error(r, 404, "NOT_FOUND")

    def test_wrong_method_is_405_with_allow_header(self):
        for method, path, allowed in [("DELETE", "/api/v1/orders", {"POST"}),
                                      ("PUT", "/api/v1/users", {"POST"}),
                                      ("PATCH", "/api/v1/products/1", {"GET", "PUT"}),
                                      ("GET", "/api/v1/orders/1/payment", {"POST"}),
                                      ("DELETE", "/api/v1/users/1/balance/charge", {"POST"})]:
            with self.subTest(method=method, path=path):
                r = self.api.request(method, path)
                self.assert_error(r, 405, "METHOD_NOT_ALLOWED")
                allow = r.header("Allow")
                self.assertIsNotNone(allow, "405 without an Allow header: %r" % r)
                got = {m.strip().upper() for m in allow.split(",")}
                self.assertTrue(allowed <= got, "Allow %r lacks %r" % (allow, allowed))
                self.assertNotIn(method, got)

    def test_admin_endpoints_require_the_token(self):
        for path in ("/api/v1/admin/streams", "/api/v1/admin/reconciliation"):
            with self.subTest(path=path):
                self.assert_error(self.api.get(path), 401, "UNAUTHORIZED")
                self.assert_error(self.api.get(path, headers={"Authorization": "Bearer x" + ADMIN_TOKEN}),
                                  401, "UNAUTHORIZED")
                self.assert_error(self.api.get(path, headers={"Authorization": "Bearer "}),
                                  401, "UNAUTHORIZED")

    def test_bad_path_ids_are_400_or_404_never_5xx(self):
        for path in ["/api/v1/users/abc", "/api/v1/users/-1", "/api/v1/users/0",
                     "/api/v1/users/1.5", "/api/v1/users/99999999999999999999",
                     "/api/v1/users/9223372036854775808", "/api/v1/products/%00",
                     "/api/v1/products/1e3", "/api/v1/orders/%20", "/api/v1/orders/0x10",
                     "/api/v1/products/abc/stock?quantity=1"]:
            with self.subTest(path=path):
                r = self.api.get(path, user=self.signed_in_user())
                self.assertIn(r.status, (400, 404), r)
                body = self.assert_error(r, r.status, r.json.get("code") if r.json else None)
                if r.status == 400:
                    self.assertEqual(body["code"], "VALIDATION_FAILED", r)
                else:
                    self.assertTrue(body["code"].endswith("NOT_FOUND"), r)

    # ---- malformed and hostile JSON ----

    def test_malformed_json_is_400_validation_failed(self):
        valid = json.dumps({"email": uniq("m") + "@example.com", "password": "pw-12345678"})
        bodies = [b'{"email": ', b"not json", b'{"email": "a@b.com",}', b"[]", b'"just a string"',
                  b"null", b"42", b"", b"{}garbage", valid.encode() + b"}", b"{'email': 'a@b.com'}",
                  b'{"email": "\xff\xfe@example.com", "password": "pw-12345678"}',
                  b'{"email": "a@b.com", "password": "pw", "email": 3',
                  b"\x00\x01\x02\x03"]
        for raw in bodies:
            with self.subTest(body=raw[:40]):
                r = self.api.post("/api/v1/users", raw=raw)
                self.assert_error(r, 400, "VALIDATION_FAILED")

    def test_deeply_nested_json_does_not_crash(self):
        for raw in [b"[" * 200000, b'{"a":' * 100000, b"[" * 100000 + b"]" * 100000]:
            with self.subTest(size=len(raw)):
                r = self.api.post("/api/v1/orders", raw=raw, user=self.signed_in_user())
                self.assert_error(r, 400, "VALIDATION_FAILED")
                self.assert_healthy()

    def test_wrong_types_name_the_field(self):
        cases = [("/api/v1/users", {"email": 123, "password": "pw-12345678"}, "email"),
                 ("/api/v1/users", {"email": uniq("t") + "@example.com", "password": ["pw"]},
                  "password"),
                 ("/api/v1/users", {"email": uniq("t") + "@example.com", "password": "pw-12345678",
                                    "balance": {"amount": 1}}, "balance"),
                 ("/api/v1/users", {"email": uniq("t") + "@example.com", "password": "pw-12345678",
                                    "firstName": 7}, "firstName"),
                 ("/api/v1/orders", {"userId": "1", "recipientName": "R",
                                     "items": [{"productItemId": 1, "quantity": 1}]}, "userId"),
                 ("/api/v1/orders", {"userId": 1, "recipientName": "R",
                                     "items": [{"productItemId": 1, "quantity": "1"}]},
                  "items[0].quantity"),
                 ("/api/v1/orders", {"userId": 1, "recipientName": "R",
                                     "items": [17]}, "items[0]")]
        me = self.signed_in_user()
        for path, body, field in cases:
            if "userId" in body and body["userId"] == 1:
                body["userId"] = me
            with self.subTest(path=path, field=field):
                self.assert_error(self.api.post(path, body, user=me), 400, "VALIDATION_FAILED",
                                  field=field)

    def test_huge_numbers_are_400_naming_the_field(self):
        u = self.create_user(balance="10.00")
        charge = "/api/v1/users/%d/balance/charge" % u["id"]
        for num in ["9223372036854775808", "1e309", "99999999999999999999", "-1e309",
                    "18446744073709551616", "1e400", "123456789012345678901234567890.00"]:
            with self.subTest(amount=num):
                r = self.api.post(charge, raw='{"amount": %s}' % num)
                self.assert_error(r, 400, "VALIDATION_FAILED", field="amount")
                r = self.api.post(charge, {"amount": num})  # the same as a decimal string
                self.assert_error(r, 400, "VALIDATION_FAILED", field="amount")
        for num in ["9223372036854775808", "1e309", "99999999999999999999", "-9223372036854775809"]:
            with self.subTest(userId=num):
                raw = ('{"userId": %s, "recipientName": "R", "items": '
                       '[{"productItemId": 1, "quantity": 1}]}' % num)
                self.assert_error(self.api.post("/api/v1/orders", raw=raw, user=u["id"]), 400,
                                  "VALIDATION_FAILED", field="userId")
            with self.subTest(stock=num):
                raw = ('{"name": "n", "code": "%s", "price": "1.00", "items": [{"name": "i", '
                       '"code": "%s", "unitPrice": "1.00", "stock": %s}]}' % (uniq("P"), uniq("I"), num))
                self.assert_error(self.api.post("/api/v1/products", raw=raw, admin=True), 400,
                                  "VALIDATION_FAILED", field="items[0].stock")
        self.assertEqual(self.balance(u["id"]), decimal.Decimal("10.00"))

    def test_garbage_bodies_on_every_post_endpoint_are_4xx_never_5xx(self):
        u = self.create_user(balance="10.00")
        p = self.create_product()
        o = self.create_order(u["id"], [(p["items"][0]["id"], 1)])
        endpoints = [("POST", "/api/v1/users", False),
                     ("POST", "/api/v1/users/%d/balance/charge" % u["id"], False),
                     ("POST", "/api/v1/categories", True),
                     ("POST", "/api/v1/products", True),
                     ("PUT", "/api/v1/products/%d" % p["id"], True),
                     ("POST", "/api/v1/orders", False),
                     ("POST", "/api/v1/orders/%d/payment" % o["orderId"], False),
                     ("POST", "/api/v1/orders/%d/cancel" % o["orderId"], False)]
        garbage = [b"", b"{", b"[1,2,3]", b'{"userId": null}', b'{"items": [null]}',
                   b'{"items": [{}]}', b'{"amount": NaN}', b'{"amount": Infinity}',
                   b'{"price": -0.0, "items": [{"stock": -0}]}', b'{"userId": -1}',
                   b'{"userId": 1.0e2}', b'{"version": 1e999}', b'{"name": "\\ud800"',
                   b'{"' + b"k" * 50000 + b'": 1}', b'{"email": "' + b"a" * 200000 + b'@x.com"}']
        for method, path, admin in endpoints:
            for raw in garbage:
                with self.subTest(method=method, path=path, body=raw[:30]):
                    r = self.api.request(method, path, raw=raw, admin=admin)
                    self.assertTrue(400 <= r.status < 500, r)
                    self.assertIsInstance(r.json, dict, r)
                    self.assertIsInstance(r.json.get("code"), str, r)
        # a lone UTF-16 surrogate escape is valid JSON syntax but no valid text: accepted or 400
        r = self.api.post("/api/v1/users", raw=b'{"email": "%s@example.com", "password": "pw-1234", '
                          b'"firstName": "\\ud800x"}' % uniq("sur").encode())
        self.assertIn(r.status, (201, 400), r)
        # none of that paid or canceled the order
        self.assertEqual(self.api.get("/api/v1/orders/%d" % o["orderId"], admin=True).json["status"], "PENDING")

    # ---- body size ----

    def _send_big(self, head, chunks):
        """Send head then chunks, stopping early if the server answers; return (status, hdrs, body)."""
        s = self.sock()
        try:
            s.sendall(head)
            for chunk in chunks:
                readable, _, _ = select.select([s], [], [], 0.001)
                if readable:
                    break
                try:
                    s.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
            return raw_response(s, method="POST", timeout=15)
        finally:
            s.close()

    def test_2mib_body_is_413_payload_too_large(self):
        size = 2 * 1024 * 1024
        head = ("POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % size).encode()
        prefix, suffix = b'{"email": "big@example.com", "password": "', b'"}'
        payload = prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix
        self.assertEqual(len(payload), size)
        chunks = [payload[i:i + 65536] for i in range(0, size, 65536)]
        status, hdrs, body = self._send_big(head, chunks)
        self.assertEqual(status, 413, body[:300])
        self.assertEqual(json.loads(body)["code"], "PAYLOAD_TOO_LARGE")

    def test_2mib_chunked_body_is_413(self):
        head = (b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        piece = b"x" * 65536
        chunks = [b'2a\r\n{"email": "c@example.com", "password": "xx\r\n']
        chunks += [b"10000\r\n" + piece + b"\r\n" for _ in range(32)]
        chunks += [b'2\r\n"}\r\n0\r\n\r\n']
        status, hdrs, body = self._send_big(head, chunks)
        self.assertEqual(status, 413, body[:300])
        self.assertEqual(json.loads(body)["code"], "PAYLOAD_TOO_LARGE")

    def test_declared_oversized_content_length_is_413_without_sending_it(self):
        s = self.sock()
        try:
            s.sendall(b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 5000000000\r\n\r\n{")
            status, _, body = raw_response(s, method="POST", timeout=READ_TIMEOUT_S + 8)
        finally:
            s.close()
        self.assertEqual(status, 413, body[:300])
        self.assertEqual(json.loads(body)["code"], "PAYLOAD_TOO_LARGE")

    def test_body_under_the_default_limit_is_accepted(self):
        email = uniq("big") + "@example.com"
        raw = ('{"email": "%s", "password": "pw-12345678"' % email) + " " * (900 * 1024) + "}"
        r = self.api.post("/api/v1/users", raw=raw)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["email"], email)

    # ---- slow and broken clients ----

    def _check_stall(self, partial):
        s = self.sock()
        try:
            s.sendall(partial)
            t0 = time.monotonic()
            # while that client stalls, others are served promptly
            other = self.new_client(timeout=5)
            for _ in range(10):
                t = time.monotonic()
                r = other.get("/healthz")
                self.assertEqual(r.status, 200, r)
                self.assertLess(time.monotonic() - t, 2.0, "healthz slow while a client stalls")
                time.sleep(0.05)
            u = self.create_user(client=other)
            self.assertIn("id", u)
            other.close()
            kind, status, body, _ = stalled_outcome(s, READ_TIMEOUT_S + 8)
            elapsed = time.monotonic() - t0
        finally:
            s.close()
        self.assertNotEqual(kind, "timeout", "stalled request neither answered nor closed within "
                                             "%.0fs of a %.0fs read timeout" % (READ_TIMEOUT_S + 8,
                                                                              READ_TIMEOUT_S))
        if kind == "response":
            self.assertEqual(status, 408, body[:300])
            self.assertEqual(json.loads(body)["code"], "REQUEST_TIMEOUT")
        self.assertGreaterEqual(elapsed, READ_TIMEOUT_S * 0.5, "closed before the read timeout")
        self.assertLessEqual(elapsed, READ_TIMEOUT_S + 6)

    def test_stall_in_the_middle_of_the_body(self):
        self._check_stall(b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em")

    def test_stall_in_the_middle_of_the_headers(self):
        self._check_stall(b"GET /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nAcc")

    def test_connection_that_never_sends_anything_is_closed(self):
        s = self.sock()
        try:
            kind, status, body, elapsed = stalled_outcome(s, max(READ_TIMEOUT_S, IDLE_TIMEOUT_S) + 8)
        finally:
            s.close()
        self.assertNotEqual(kind, "timeout")
        if kind == "response":
            self.assertEqual(status, 408, body[:300])

    def test_many_stalled_connections_do_not_block_the_service(self):
        socks = []
        try:
            for i in range(60):
                s = self.sock()
                s.sendall(b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{"
                          if i % 2 else b"GET /api/v1/products HT")
                socks.append(s)
            other = self.new_client(timeout=5)
            t = time.monotonic()
            for _ in range(5):
                self.assertEqual(other.get("/healthz").status, 200)
            p = self.create_product(client=other)
            self.assertEqual(other.get("/api/v1/products/%d" % p["id"]).status, 200)
            self.assertLess(time.monotonic() - t, 5.0)
            other.close()
            deadline = time.monotonic() + READ_TIMEOUT_S + 8
            for s in socks:
                kind, status, body, _ = stalled_outcome(s, max(0.1, deadline - time.monotonic()))
                self.assertNotEqual(kind, "timeout", "a stalled connection was left open")
                if kind == "response":
                    self.assertEqual(status, 408, body[:200])
        finally:
            for s in socks:
                s.close()

    def test_client_that_disconnects_mid_request(self):
        for partial in [b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a",
                        b"GET /api/v1/prod", b"POST /api/v1/orders HTTP/1.1\r\nTransfer-Encoding: chunked"
                                             b"\r\n\r\nff\r\n{\"us"]:
            s = self.sock()
            s.sendall(partial)
            s.close()
        # an abrupt reset (SO_LINGER 0) as well
        s = self.sock()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
        s.close()
        time.sleep(0.2)
        self.assert_healthy()

    def test_garbage_request_line_and_huge_headers(self):
        for raw in [b"HELLO\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 100,  # a TLS hello
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
                    + b"\r\n",
                    b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
                    b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
                    b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"zz\r\n{}\r\n0\r\n\r\n"]:
            with self.subTest(raw=raw[:40]):
                s = self.sock()
                try:
                    try:
                        s.sendall(raw)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    kind, status, body, _ = stalled_outcome(s, READ_TIMEOUT_S + 8)
                finally:
                    s.close()
                self.assertNotEqual(kind, "timeout")
                if kind == "response":
                    # 505 HTTP Version Not Supported is the one fitting 5xx; nothing else may be 5xx
                    ok = 400 <= status < 500 or (status == 505 and b"HTTP/9.9" in raw)
                    self.assertTrue(ok, "status %s for garbage: %r" % (status, body[:200]))
                self.assert_healthy()

    # ---- framing (RFC 9112): no body read two ways ----

    def test_smuggling_shapes_are_400_and_the_connection_closes(self):
        # Without these rules, the trailing request would run on the connection as a second one.
        smuggled = b"GET /api/v1/nope-smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        shapes = {
            "chunked, identity": b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                                 b"Transfer-Encoding: chunked, identity\r\n\r\n" + smuggled,
            "gzip": b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
                    + smuggled,
            "xchunked": b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                        b"Transfer-Encoding: xchunked\r\n\r\n" + smuggled,
            "chunked then identity": b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                                     b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity"
                                     b"\r\n\r\n" + smuggled,
            "chunked on HTTP/1.0": b"POST /api/v1/users HTTP/1.0\r\nTransfer-Encoding: chunked"
                                   b"\r\n\r\n0\r\n\r\n" + smuggled,
            "chunked with Content-Length": b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                                           b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
                                           b"\r\n0\r\n\r\n" + smuggled,
            "HTTP/1.1 without Host": b"GET /healthz HTTP/1.1\r\n\r\n" + smuggled,
        }
        for name, raw in shapes.items():
            with self.subTest(shape=name):
                s = self.sock()
                try:
                    s.sendall(raw)
                    s.settimeout(10)
                    f = s.makefile("rb")
                    status, _, body = read_http_response(f)
                    self.assertEqual(status, 400, body[:300])
                    self.assertEqual(json.loads(body)["code"], "VALIDATION_FAILED")
                    # nothing more: the smuggled request was not run, the connection is closed
                    self.assertEqual(f.read(), b"")
                finally:
                    s.close()
        self.assert_healthy()

    # ---- keep-alive ----

    def test_keep_alive_survives_errors(self):
        c = self.new_client()
        try:
            self.assertEqual(c.get("/healthz").status, 200)
            sock = c.conn.sock
            self.assertIsNotNone(sock)
            self.assertEqual(c.get("/api/v1/nope").status, 404)
            self.assertEqual(c.post("/api/v1/users", raw=b"{").status, 400)
            self.assertEqual(c.get("/api/v1/users/987654321", admin=True).status, 404)
            self.assertEqual(c.get("/api/v1/users/987654321", user=None).status, 401)
            self.assertEqual(c.get("/healthz").status, 200)
            self.assertIs(c.conn.sock, sock, "the connection was not kept alive")
            self.assertEqual(c.requests_on_conn, 6)
        finally:
            c.close()

    def test_pipelined_requests_are_answered_in_order(self):
        s = self.sock()
        try:
            s.sendall(b"GET /api/v1/users/987654321 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      + ADMIN_TOKEN.encode() + b"\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /api/v1/users/987654321 HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /api/v1/nope HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(10)
            f = s.makefile("rb")
            statuses = [read_http_response(f)[0] for _ in range(4)]
        finally:
            s.close()
        self.assertEqual(statuses, [404, 200, 401, 404])


class SmallBodyLimitTests(ServiceTestCase):
    SERVICE_ARGS = ("--max-body-bytes", "4096")

    def tearDown(self):
        self.assert_healthy()

    def test_max_body_bytes_flag_is_honoured(self):
        email = uniq("s") + "@example.com"
        small = ('{"email": "%s", "password": "pw-12345678"' % email) + " " * 3000 + "}"
        r = self.api.post("/api/v1/users", raw=small)
        self.assertEqual(r.status, 201, r)
        big = ('{"email": "%s", "password": "pw-12345678"' % uniq("s")) + " " * 5000 + "}"
        r = self.api.post("/api/v1/users", raw=big)
        self.assert_error(r, 413, "PAYLOAD_TOO_LARGE")


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for %d" % pid)


class BodyMemoryTests(ServiceTestCase):
    """Many slow clients each sending a large body: the bytes of bodies being received are capped
    over all connections (--max-body-buffer), so memory stays bounded; the requests past the cap
    get 503 with Retry-After before their bodies are read, and the service keeps serving."""
    SERVICE_ARGS = ("--max-body-buffer", str(16 << 20), "--read-timeout", "30s")

    def test_100_slow_one_mib_bodies_do_not_grow_memory_by_100_mib(self):
        size = 1 << 20
        head = ("POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % size).encode()
        before = rss_bytes(self.svc.proc.pid)
        socks, refused = [], 0
        try:
            for _ in range(100):
                s = socket.create_connection(("127.0.0.1", self.svc.port), timeout=10)
                s.sendall(head)
                socks.append(s)
            # Most of each body, slowly: 15 rounds of 60 KiB per connection, never the end.
            chunk = b"x" * (60 << 10)
            for _ in range(15):
                for s in socks:
                    try:
                        s.sendall(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                time.sleep(0.02)
            grown = rss_bytes(self.svc.proc.pid) - before
            # Those past the cap were answered 503 before their bodies were read.
            for s in socks:
                readable, _, _ = select.select([s], [], [], 0)
                if readable:
                    status, hdrs, body = raw_response(s, method="POST", timeout=5)
                    self.assertEqual(status, 503, body[:300])
                    self.assertEqual(json.loads(body)["code"], "UNAVAILABLE")
                    self.assertTrue(hdrs.get("retry-after") or hdrs.get("Retry-After"), hdrs)
                    refused += 1
        finally:
            for s in socks:
                s.close()
        self.assertLess(grown, 60 << 20, "RSS grew by %d MiB" % (grown >> 20))
        self.assertGreaterEqual(refused, 80, "only %d of 100 were refused at a 16 MiB cap" % refused)
        # Once they are gone, a large body is accepted again.
        wait_until(lambda: self.api.post("/api/v1/users", raw=(
            '{"email": "%s@x.com", "password": "pw-12345678"' % uniq("m")) + " " * 500000 + "}"
        ).status == 201, 10.0, interval=0.2, message="a large body to be accepted again")


class MaxConnectionsTests(ServiceTestCase):
    SERVICE_ARGS = ("--max-connections", "8")

    def test_connections_over_the_limit_get_503_and_the_rest_keep_working(self):
        held = [socket.create_connection(("127.0.0.1", self.svc.port), timeout=10)
                for _ in range(7)]  # with self.api's, 8
        try:
            self.assertEqual(self.api.get("/healthz").status, 200)
            time.sleep(0.2)  # the accepts above are counted
            extra = socket.create_connection(("127.0.0.1", self.svc.port), timeout=10)
            try:
                status, hdrs, body = raw_response(extra, method="GET", timeout=5)
                self.assertEqual(status, 503, body)
                self.assertEqual(json.loads(body)["code"], "UNAVAILABLE")
            finally:
                extra.close()
            # The held connections still work.
            held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(read_http_response(held[0].makefile("rb"))[0], 200)
        finally:
            for s in held:
                s.close()
        # Freed: new connections are served again.
        def served():
            c = self.new_client(timeout=5)
            try:
                return c.get("/healthz").status == 200
            finally:
                c.close()
        wait_until(served, 5.0, interval=0.1, message="a new connection to be served")


if __name__ == "__main__":
    unittest.main()
