"""Signed-in users (SPEC §2): login, tokens on every user-scoped route, ownership, logout on every
instance, the sign-in attempt limit across instances, the gateway mode, and the strict-input rules
that came with them (duplicate JSON keys, control characters, emails unique whatever their case,
Idempotency-Key per caller and route). SQLite here; test_auth_pg.py runs the same on PostgreSQL.
"""

import base64
import json
import os
import stat
import time
import unittest

from harness import ADMIN_TOKEN, Service, ServiceTestCase, uniq, wait_until
from test_coupons import MultiProcessCase


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class AuthHelpers:
    """Needs self.api (a Client) and ServiceTestCase's create_user."""

    def signup(self, email=None, password=None, client=None, **fields):
        email = email or uniq("a") + "@example.com"
        password = password or "pw-" + uniq()
        body = {"email": email, "password": password}
        body.update(fields)
        r = (client or self.api).post("/api/v1/users", body)
        self.assertEqual(r.status, 201, r)
        return r.json, email, password

    def login(self, email, password, client=None):
        return (client or self.api).post("/api/v1/auth/login",
                                         {"email": email, "password": password}, user=None)

    def login_ok(self, email, password, client=None):
        r = self.login(email, password, client)
        self.assertEqual(r.status, 200, r)
        return r.json["accessToken"]

    @staticmethod
    def bearer(token, scheme="Bearer"):
        return {"Authorization": "%s %s" % (scheme, token)}


class AuthTests(AuthHelpers, ServiceTestCase):

    def test_signup_login_and_use_the_token(self):
        user, email, password = self.signup(balance="50.00")
        r = self.login(email, password)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        body = r.json
        self.assertEqual(body["tokenType"], "Bearer")
        self.assertEqual(body["userId"], user["id"])
        token = body["accessToken"]
        # A JWT signed with HS256 that names the user and expires in about an hour (the default).
        header, payload, _ = token.split(".")
        self.assertEqual(b64url_json(header)["alg"], "HS256")
        claims = b64url_json(payload)
        self.assertEqual(claims["sub"], str(user["id"]))
        self.assertAlmostEqual(claims["exp"] - time.time(), 3600, delta=60)
        from harness import parse_time
        self.assertEqual(int(parse_time(body["expiresAt"]).timestamp()), claims["exp"])
        r = self.api.get("/api/v1/users/%d" % user["id"], headers=self.bearer(token), user=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["email"], email)

    def test_wrong_password_and_unknown_email_are_the_same_401(self):
        _, email, _ = self.signup()
        wrong = self.login(email, "not-the-password")
        unknown = self.login(uniq("nobody") + "@example.com", "whatever")
        for r in (wrong, unknown):
            self.assert_error(r, 401, "INVALID_CREDENTIALS")
        self.assertEqual(wrong.json["message"], unknown.json["message"])

    def test_login_validation(self):
        for body in ({}, {"email": "a@b.co"}, {"password": "x"}, {"email": 7, "password": "x"}):
            with self.subTest(body=body):
                self.assert_error(self.api.post("/api/v1/auth/login", body, user=None), 400,
                                  "VALIDATION_FAILED")

    def test_bearer_scheme_is_case_insensitive(self):
        user, email, password = self.signup()
        token = self.login_ok(email, password)
        for scheme in ("bearer", "BEARER", "BeArEr"):
            with self.subTest(scheme=scheme):
                r = self.api.get("/api/v1/users/%d" % user["id"],
                                 headers=self.bearer(token, scheme), user=None)
                self.assertEqual(r.status, 200, r)
        for bad in ("Basic " + token, "Bearer", "Bearer ", "Token " + token, token):
            with self.subTest(header=bad):
                r = self.api.get("/api/v1/users/%d" % user["id"], headers={"Authorization": bad},
                                 user=None)
                self.assert_error(r, 401, "UNAUTHORIZED")
                self.assertIn("Bearer", r.header("WWW-Authenticate") or "")

    def test_forged_and_altered_tokens_are_401(self):
        user, email, password = self.signup()
        token = self.login_ok(email, password)
        header, payload, sig = token.split(".")
        other = b64url_json(payload)
        other["sub"] = str(user["id"] + 1)
        forged_payload = base64.urlsafe_b64encode(
            json.dumps(other, separators=(",", ":")).encode()).decode().rstrip("=")
        none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
        for bad in (header + "." + forged_payload + "." + sig,  # another user, old signature
                    none_header + "." + payload + ".",           # alg none
                    token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
                    "x.y.z", ADMIN_TOKEN + "x"):
            with self.subTest(token=bad[:40]):
                r = self.api.get("/api/v1/users/%d" % user["id"], headers=self.bearer(bad),
                                 user=None)
                self.assert_error(r, 401, "UNAUTHORIZED")

    def test_every_user_scoped_route_is_401_without_a_token_and_403_for_another_user(self):
        owner = self.create_user(balance="1000.00")["id"]
        other = self.create_user(balance="1000.00")["id"]
        p = self.create_product(items=(("10.00", 100),))
        iid = p["items"][0]["id"]
        order = self.create_order(owner, [(iid, 1)])["orderId"]
        t = self.api.post("/api/v1/coupon-templates", {"title": "t", "type": "AMOUNT",
                                                        "value": "1.00", "totalQuantity": 10},
                          admin=True).json["id"]
        rid = self.api.post("/api/v1/coupon-templates/%d/issue" % t, {}, user=owner).json["requestId"]
        routes = [("GET", "/api/v1/users/%d" % owner, None),
                  ("POST", "/api/v1/users/%d/balance/charge" % owner, {"amount": "1.00"}),
                  ("GET", "/api/v1/users/%d/orders" % owner, None),
                  ("GET", "/api/v1/users/%d/coupons" % owner, None),
                  ("GET", "/api/v1/orders/%d" % order, None),
                  ("POST", "/api/v1/orders/%d/payment" % order, {}),
                  ("POST", "/api/v1/orders/%d/cancel" % order, {}),
                  ("GET", "/api/v1/coupon-templates/%d/issue-requests/%d" % (t, rid), None)]
        for method, path, body in routes:
            with self.subTest(method=method, path=path):
                self.assert_error(self.api.request(method, path, body=body, user=None), 401,
                                  "UNAUTHORIZED")
                self.assert_error(self.api.request(method, path, body=body, user=other), 403,
                                  "FORBIDDEN")
        # Naming another user in a body or query is refused too.
        for method, path, body in [
                ("POST", "/api/v1/orders", {"userId": owner, "recipientName": "R",
                                            "items": [{"productItemId": iid, "quantity": 1}]}),
                ("POST", "/api/v1/coupon-templates/%d/issue" % t, {"userId": owner}),
                ("GET", "/api/v1/orders/%d?userId=%d" % (order, owner), None)]:
            with self.subTest(method=method, path=path, named=owner):
                self.assert_error(self.api.request(method, path, body=body, user=other), 403,
                                  "FORBIDDEN")
                self.assert_error(self.api.request(method, path, body=body, user=None), 401,
                                  "UNAUTHORIZED")
        # Nothing of that changed anything: the order is still the owner's, PENDING, unpaid.
        self.assertEqual(self.balance(owner), self.balance(owner))
        g = self.api.get("/api/v1/orders/%d" % order, user=owner)
        self.assertEqual((g.status, g.json["status"]), (200, "PENDING"), g)
        from decimal import Decimal
        self.assertEqual(self.balance(other), Decimal("1000.00"))
        self.assertEqual(len([c for c in self.api.get("/api/v1/users/%d/coupons" % other).json["items"]]), 0)

    def test_the_token_decides_who_acts_when_the_body_names_nobody(self):
        me = self.create_user(balance="1000.00")["id"]
        p = self.create_product(items=(("10.00", 10),))
        iid = p["items"][0]["id"]
        r = self.api.post("/api/v1/orders", {"recipientName": "R",
                                             "items": [{"productItemId": iid, "quantity": 2}]},
                          user=me)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["userId"], me)
        pay = self.api.post("/api/v1/orders/%d/payment" % r.json["orderId"], None, user=me)
        self.assertEqual((pay.status, pay.json["status"]), (200, "PAID"), pay)
        t = self.api.post("/api/v1/coupon-templates", {"title": "t", "type": "AMOUNT",
                                                        "value": "1.00", "totalQuantity": 10},
                          admin=True).json["id"]
        for body in (None, {}, {"userId": me}):
            with self.subTest(body=body):
                r = self.api.post("/api/v1/coupon-templates/%d/issue" % t, body, user=me)
                self.assertIn(r.status, (202, 409), r)
                if r.status == 202:
                    self.assertEqual(r.json["userId"], me)
                else:
                    self.assertEqual(r.json["code"], "COUPON_ALREADY_ISSUED")
        g = self.api.get("/api/v1/coupon-templates/%d" % t).json
        self.assertEqual(g["reservedQuantity"], 1, g)

    def test_admin_acts_for_any_user_and_mints_tokens(self):
        u = self.create_user(balance="10.00")["id"]
        r = self.api.get("/api/v1/users/%d" % u, admin=True)
        self.assertEqual(r.status, 200, r)
        minted = self.api.post("/api/v1/admin/users/%d/tokens" % u, admin=True)
        self.assertEqual(minted.status, 201, minted)
        self.assertEqual(minted.json["userId"], u)
        r = self.api.get("/api/v1/users/%d" % u, headers=self.bearer(minted.json["accessToken"]),
                         user=None)
        self.assertEqual(r.status, 200, r)
        self.assert_error(self.api.post("/api/v1/admin/users/987654321/tokens", admin=True), 404,
                          "USER_NOT_FOUND")
        # A user's token is no admin token.
        self.assert_error(self.api.post("/api/v1/admin/users/%d/tokens" % u, user=u), 401,
                          "UNAUTHORIZED")
        # The admin acting for a user must say which.
        p = self.create_product(items=(("1.00", 5),))
        r = self.api.post("/api/v1/orders", {"recipientName": "R", "items": [
            {"productItemId": p["items"][0]["id"], "quantity": 1}]}, admin=True)
        self.assert_error(r, 400, "VALIDATION_FAILED", field="userId")

    def test_logout_revokes_the_token_and_only_that_token(self):
        user, email, password = self.signup()
        first = self.login_ok(email, password)
        second = self.login_ok(email, password)
        path = "/api/v1/users/%d" % user["id"]
        r = self.api.post("/api/v1/auth/logout", headers=self.bearer(first), user=None)
        self.assertEqual(r.status, 204, r)
        self.assert_error(self.api.get(path, headers=self.bearer(first), user=None), 401,
                          "UNAUTHORIZED")
        self.assertEqual(self.api.get(path, headers=self.bearer(second), user=None).status, 200)
        # Logging out again with the revoked token is itself refused; without a token too.
        self.assert_error(self.api.post("/api/v1/auth/logout", headers=self.bearer(first),
                                        user=None), 401, "UNAUTHORIZED")
        self.assert_error(self.api.post("/api/v1/auth/logout", user=None), 401, "UNAUTHORIZED")

    def test_repeated_failures_for_one_email_are_429_until_the_window_ends(self):
        _, email, password = self.signup()
        for _ in range(5):
            self.assert_error(self.login(email, "wrong"), 401, "INVALID_CREDENTIALS")
        r = self.login(email, password)  # even the right password now
        self.assert_error(r, 429, "RATE_LIMITED")
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        # Another email is not affected; nor is a signed-in user's token.
        _, other, other_pw = self.signup()
        self.login_ok(other, other_pw)
        # Case does not open another window.
        self.assert_error(self.login(email.upper(), password), 429, "RATE_LIMITED")

    def test_emails_are_unique_whatever_their_case(self):
        email = uniq("Case") + "@Example.COM"
        user, _, password = self.signup(email=email)
        self.assertEqual(user["email"], email.lower())
        r = self.api.post("/api/v1/users", {"email": email.lower(), "password": "pw-12345"})
        self.assert_error(r, 409, "EMAIL_TAKEN")
        r = self.api.post("/api/v1/users", {"email": email.upper(), "password": "pw-12345"})
        self.assert_error(r, 409, "EMAIL_TAKEN")
        self.assertEqual(self.login(email.upper(), password).status, 200)

    def test_duplicate_json_keys_are_400_naming_the_key(self):
        me = self.signed_in_user()
        for path, raw, key in [
                ("/api/v1/users", '{"email":"%s@x.com","password":"pw-1234","email":"b@x.com"}'
                 % uniq("d"), "email"),
                ("/api/v1/users/%d/balance/charge" % me, '{"amount":"1.00","amount":"999999.00"}',
                 "amount"),
                ("/api/v1/orders", '{"recipientName":"R","items":[{"productItemId":1,'
                 '"quantity":1,"quantity":2}]}', "quantity")]:
            with self.subTest(path=path):
                r = self.api.post(path, raw=raw, user=me)
                body = self.assert_error(r, 400, "VALIDATION_FAILED", field=key)
                self.assertIn("duplicate", body["message"])

    def test_control_characters_in_names_are_400(self):
        for field in ("firstName", "lastName"):
            with self.subTest(field=field):
                r = self.api.post("/api/v1/users", {"email": uniq("c") + "@x.com",
                                                    "password": "pw-1234", field: "a\u0000b"})
                self.assert_error(r, 400, "VALIDATION_FAILED", field=field)
        r = self.api.post("/api/v1/coupon-templates", {"title": "a\u001b[31mred", "type": "AMOUNT",
                                                        "value": "1.00", "totalQuantity": 1},
                          admin=True)
        self.assert_error(r, 400, "VALIDATION_FAILED", field="title")
        r = self.api.post("/api/v1/products", {"name": "x\ny", "code": uniq("P"), "price": "1.00",
                                               "items": [{"name": "i", "code": "c",
                                                          "unitPrice": "1.00", "stock": 1}]},
                          admin=True)
        self.assert_error(r, 400, "VALIDATION_FAILED", field="name")
        # A description or memo may hold line breaks.
        p = self.create_product(description="line 1\nline 2")
        self.assertEqual(self.get_product(p["id"])["description"], "line 1\nline 2")

    def test_an_idempotency_key_belongs_to_its_caller_and_route(self):
        a = self.create_user(balance="100.00")["id"]
        b = self.create_user(balance="100.00")["id"]
        key = {"Idempotency-Key": uniq("shared-key")}
        ra = self.api.post("/api/v1/users/%d/balance/charge" % a, {"amount": "1.00"}, headers=key)
        rb = self.api.post("/api/v1/users/%d/balance/charge" % b, {"amount": "2.00"}, headers=key)
        self.assertEqual((ra.status, rb.status), (200, 200), (ra, rb))
        self.assertIsNone(rb.header("Idempotent-Replayed"))
        from decimal import Decimal
        self.assertEqual((self.balance(a), self.balance(b)), (Decimal("101.00"), Decimal("102.00")))
        # The same user, the same key, the same route: a replay, nothing charged again.
        again = self.api.post("/api/v1/users/%d/balance/charge" % a, {"amount": "1.00"},
                              headers=key)
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        self.assertEqual(self.balance(a), Decimal("101.00"))


class SecretFileTests(AuthHelpers, unittest.TestCase):
    assert_error = ServiceTestCase.assert_error

    """Without --auth-secret the service creates <data-dir>/auth-secret (owner-only) once, and a
    restart on the same data dir keeps accepting the tokens it signed."""

    def test_secret_is_created_private_and_survives_a_restart(self):
        svc = Service(auth_secret=None, name="secret").start()
        try:
            self.api = svc.client()
            path = os.path.join(svc.data_dir, "auth-secret")
            mode = stat.S_IMODE(os.stat(path).st_mode)
            self.assertEqual(mode, 0o600, oct(mode))
            user, email, password = self.signup()
            token = self.login_ok(email, password)
            self.api.close()
            self.assertEqual(svc.stop(), 0)
            svc.start()
            self.api = svc.client()
            r = self.api.get("/api/v1/users/%d" % user["id"], headers=self.bearer(token),
                             user=None)
            self.assertEqual(r.status, 200, r)
            # Tokens of a service with another secret (the harness's) are refused here.
            other = Service(name="other").start()
            try:
                oc = other.client()
                stranger, _, _ = self.signup(client=oc)
                minted = oc.post("/api/v1/admin/users/%d/tokens" % stranger["id"], admin=True)
                self.assertEqual(minted.status, 201, minted)
                r = self.api.get("/api/v1/users/%d" % stranger["id"],
                                 headers=self.bearer(minted.json["accessToken"]), user=None)
                self.assert_error(r, 401, "UNAUTHORIZED")
                oc.close()
            finally:
                other.stop()
                other.cleanup()
            self.api.close()
        finally:
            svc.stop()
            svc.cleanup()


class ShortTokenTests(AuthHelpers, ServiceTestCase):
    SERVICE_ARGS = ("--auth-token-ttl", "2s")

    def test_an_expired_token_is_401(self):
        user, email, password = self.signup()
        token = self.login_ok(email, password)
        path = "/api/v1/users/%d" % user["id"]
        self.assertEqual(self.api.get(path, headers=self.bearer(token), user=None).status, 200)
        wait_until(lambda: self.api.get(path, headers=self.bearer(token), user=None).status == 401,
                   5.0, interval=0.2, message="the token to expire")
        r = self.api.get(path, headers=self.bearer(token), user=None)
        self.assertIn("expired", r.json["message"])


class GatewayModeTests(AuthHelpers, ServiceTestCase):
    SERVICE_ARGS = ("--user-auth", "gateway")

    def test_the_gateway_header_names_the_user(self):
        u = self.create_user(balance="5.00")["id"]
        v = self.create_user()["id"]
        path = "/api/v1/users/%d" % u
        r = self.api.get(path, headers={"X-User-Id": str(u)}, user=None)
        self.assertEqual(r.status, 200, r)
        self.assert_error(self.api.get(path, headers={"X-User-Id": str(v)}, user=None), 403,
                          "FORBIDDEN")
        for bad in (None, "", "abc", "0", "-1", "99999999999999999999"):
            with self.subTest(header=bad):
                headers = {} if bad is None else {"X-User-Id": bad}
                self.assert_error(self.api.get(path, headers=headers, user=None), 401,
                                  "UNAUTHORIZED")
        # The admin token still works; access tokens are not what this mode reads.
        self.assertEqual(self.api.get(path, admin=True).status, 200)


class TwoInstanceAuthTests(AuthHelpers, MultiProcessCase):
    """Two instances sharing one Redis and one database: a token signed by one is good on the other,
    a logout on one is refused by the other within a second, and sign-in attempts count across
    both."""

    @classmethod
    def start_processes(cls):
        cls.start_service("auth-a")
        cls.start_service("auth-b")

    def test_a_token_works_on_both_and_a_logout_reaches_the_other_within_a_second(self):
        a, b = self.services[0].client(), self.services[1].client()
        user, email, password = self.signup(client=a)
        token = self.login_ok(email, password, client=a)
        path = "/api/v1/users/%d" % user["id"]
        self.assertEqual(b.get(path, headers=self.bearer(token), user=None).status, 200)
        r = a.post("/api/v1/auth/logout", headers=self.bearer(token), user=None)
        self.assertEqual(r.status, 204, r)
        logged_out = time.monotonic()
        wait_until(lambda: b.get(path, headers=self.bearer(token), user=None).status == 401,
                   1.0, interval=0.02, message="instance b to refuse the revoked token")
        self.assertLess(time.monotonic() - logged_out, 1.0)

    def test_an_instance_started_after_a_logout_refuses_the_token(self):
        a = self.services[0].client()
        user, email, password = self.signup(client=a)
        token = self.login_ok(email, password, client=a)
        self.assertEqual(a.post("/api/v1/auth/logout", headers=self.bearer(token),
                                user=None).status, 204)
        late = self.start_service("auth-late")
        r = late.client().get("/api/v1/users/%d" % user["id"], headers=self.bearer(token),
                              user=None)
        self.assert_error(r, 401, "UNAUTHORIZED")

    def test_sign_in_attempts_count_across_instances(self):
        a, b = self.services[0].client(), self.services[1].client()
        _, email, password = self.signup(client=a)
        for i in range(5):
            self.assert_error(self.login(email, "wrong", client=(a, b)[i % 2]), 401,
                              "INVALID_CREDENTIALS")
        self.assert_error(self.login(email, password, client=a), 429, "RATE_LIMITED")
        self.assert_error(self.login(email, password, client=b), 429, "RATE_LIMITED")


if __name__ == "__main__":
    unittest.main()
