"""SPEC §7, /dashboard: the page, served by the binary, in real headless browsers — Debian's
Chromium and Firefox ESR, each driven by tests/browser/dashboard_check.mjs with puppeteer-core —
against a service with a drop in progress, a dead letter, a published ranking and a paused waiting
line. It asks for the token, refuses a wrong one, keeps the fragment's token in the tab's session
storage only, draws its charts, shows the live figures and their change between refreshes,
replays a dead letter from its button, and fetches nothing from elsewhere. The data endpoint
answers 401 without the token.

JOOPANG_DASHBOARD_SCREENSHOT=/path.png keeps a screenshot of the page in Chromium
(docs/img/dashboard.png)."""

import json
import os
import shutil
import subprocess
import threading
import unittest
import urllib.parse

from harness import ADMIN_TOKEN, ServiceTestCase, uniq, wait_until
from test_coupons import FAST_ARGS, CouponHelpers

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECK = os.path.join(ROOT, "tests", "browser", "dashboard_check.mjs")
BROWSERS = {"chromium": os.environ.get("JOOPANG_CHROMIUM", "/usr/bin/chromium"),
            "firefox": os.environ.get("JOOPANG_FIREFOX", "/usr/bin/firefox-esr")}


def figure(text):
    """A figure as the page writes it ("1,234.5", "–" for none)."""
    return None if text in (None, "–") else float(text.replace(",", ""))


class DashboardInABrowser(CouponHelpers, ServiceTestCase):
    SERVICE_ARGS = FAST_ARGS + ("--queue-admit-per-second", "5")

    def run_browser(self, browser):
        for tool in ("node", BROWSERS[browser]):
            self.assertTrue(shutil.which(tool), "%s is missing: run scripts/setup.sh" % tool)
        args = ["node", CHECK, browser, "http://127.0.0.1:%d" % self.svc.port, ADMIN_TOKEN]
        if browser == "chromium" and os.environ.get("JOOPANG_DASHBOARD_SCREENSHOT"):
            args.append(os.environ["JOOPANG_DASHBOARD_SCREENSHOT"])
        r = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=ROOT)
        self.assertEqual(r.returncode, 0, "browser check failed:\n%s\n%s" % (r.stdout, r.stderr))
        return json.loads(r.stdout.strip().splitlines()[-1])

    def test_the_page_shows_live_figures_in_chromium(self):
        self.check_the_page_in("chromium")

    def test_the_page_shows_live_figures_in_firefox(self):
        self.check_the_page_in("firefox")

    def check_the_page_in(self, browser):
        # The data endpoint is the admin's.
        self.assert_error(self.api.get("/api/v1/admin/dashboard", user=None), 401, "UNAUTHORIZED")
        self.assertEqual(self.api.get("/api/v1/admin/dashboard", admin=True).status, 200)
        # The page may load only its own origin's scripts and styles, and is never framed.
        policy = self.api.get("/dashboard").header("Content-Security-Policy") or ""
        self.assertIn("script-src 'self'", policy)
        self.assertIn("default-src 'none'", policy)
        self.assertIn("frame-ancestors 'none'", policy)
        # A published ranking: a paid order.
        product = self.create_product(items=(("10.00", 50),), name="Dashboard hoodie " + uniq())
        buyer = self.create_user(balance="1000.00")["id"]
        order = self.create_order(buyer, [(product["items"][0]["id"], 3)])
        self.assertEqual(self.pay(order["orderId"], buyer).status, 200)
        wait_until(lambda: any(i["productId"] == product["id"] for i in self.api.get(
            "/api/v1/rankings/products?window=1h&metric=sales").json["items"]), 15,
            message="the paid order in the 1h ranking")
        # A paused line of 4.
        self.assertEqual(self.api.request("PATCH", "/api/v1/admin/queue", {"paused": True},
                                          admin=True).status, 200)
        for _ in range(4):
            uid = self.create_user()["id"]
            self.assertEqual(self.api.post("/api/v1/queue/tokens", {"userId": uid}).status, 201)
        waiting = self.api.get("/api/v1/admin/queue", admin=True).json["waiting"]
        self.assertGreaterEqual(waiting, 4)
        # A dead letter: one win the database refuses until the trigger goes.
        poison = self.create_user()["id"]
        poisoned = self.create_template(totalQuantity=10, title="Poisoned " + uniq())["id"]
        self.sqlite("CREATE TRIGGER poison BEFORE INSERT ON coupons WHEN NEW.user_id = %d "
                    "BEGIN SELECT RAISE(ABORT, 'poison'); END;" % poison)
        self.issue_ok(poisoned, poison)
        wait_until(lambda: (self.stream_of(poisoned) or {}).get("deadLetterLength") == 1, 60,
                   interval=0.3, message="the poison win dead-lettered")
        self.sqlite("DROP TRIGGER poison;")
        # A drop in progress while the browser watches: a win every 100 ms or so, until the
        # browser is done (its title is markup, which must show as text).
        title = "<b>Live</b> drop " + uniq()
        drop = self.create_template(totalQuantity=100000, title=title)["id"]
        users = [self.create_user()["id"] for _ in range(400)]
        stop = threading.Event()

        def issue_slowly():
            client = self.new_client()
            for uid in users:
                if stop.wait(0.1):
                    break
                self.issue(drop, uid, client=client)
            client.close()
        issuer = threading.Thread(target=issue_slowly, daemon=True)
        issuer.start()
        try:
            seen = self.run_browser(browser)
        finally:
            stop.set()
            issuer.join(30)

        # The token: asked for, refused when wrong, kept in the tab, gone from the URL.
        self.assertTrue(seen["loginShownWithoutToken"], seen)
        self.assertEqual(seen["dataWithoutToken"], 401, seen)
        self.assertTrue(seen["wrongTokenRefused"], seen)
        self.assertNotIn("token", seen["urlAfterLoad"])
        self.assertEqual(seen["tokenInSessionStorage"], ADMIN_TOKEN)
        self.assertEqual(seen["tokenInLocalStorage"], 0)
        self.assertEqual(seen["pageErrors"], [])
        self.assertEqual(seen["consoleErrors"], [])
        self.assertEqual(seen["foreignRequests"], [])
        self.assertEqual(seen["requestsWithToken"], [])
        # The only refusals are the two asked for: no token, then a wrong one.
        self.assertEqual(seen["failedResponses"], ["401 /api/v1/admin/dashboard"] * 2)
        first, second = seen["first"], seen["second"]
        # Charts drawn.
        for chart in ("chart-rate", "chart-latency", "chart-drops", "chart-queue", "chart-redis",
                      "chart-db"):
            self.assertTrue(second["charts"][chart]["canvas"], (chart, second["charts"]))
            self.assertGreater(second["charts"][chart]["inked"], 0, (chart, second["charts"]))
        # The drop moves between refreshes; its keys and memory per winner show.
        by_template = lambda read: {int(d["template"]): d for d in read["drops"]}
        before, after = by_template(first)[drop], by_template(second)[drop]
        self.assertEqual(after["title"], "#%d %s" % (drop, title))
        self.assertEqual(after["markup"], 0)
        self.assertGreater(figure(after["reserved"]), figure(before["reserved"]), (before, after))
        self.assertLess(figure(after["remaining"]), figure(before["remaining"]), (before, after))
        self.assertGreater(figure(after["bytesPerWinner"]), 0, after)
        self.assertGreater(second["dropKeys"], 0)
        self.assertGreater(second["polls"], first["polls"])
        # Routes, streams, the line, the ranking, Redis and the database.
        self.assertIn("POST /api/v1/coupon-templates/{id}/issue", second["routes"])
        self.assertIn("coupon-issue:{%d}" % drop, second["streams"])
        self.assertTrue(any(s.startswith("order-events") for s in second["streams"]), second)
        self.assertEqual(second["queue"]["waiting"], str(waiting))
        self.assertEqual(second["queue"]["paused"], "paused")
        hour = next(r for r in second["rankings"] if r["window"] == "1h")
        self.assertTrue(any(product["name"] in row for row in hour["rows"]), hour)
        self.assertGreater(figure(second["refreshRuns"]), 0)  # the ranking refresh ran here
        self.assertRegex(second["redis"]["memory"], r"^[\d.,]+ (B|KiB|MiB|GiB)$")
        self.assertEqual(second["redis"]["aof"], "on, last write ok")
        self.assertGreaterEqual(second["pools"], 1)
        # The dead letter's button replayed it: the win lands.
        self.assertEqual(seen.get("replayedStream"), "coupon-issue:{%d}" % poisoned, seen)
        self.assertEqual((seen["replayStatus"], seen["replayAnswer"]["replayed"]), (200, 1), seen)
        self.wait_issued_quantity(poisoned, 1, timeout=30)


if __name__ == "__main__":
    unittest.main()
