// Drives /dashboard in a real headless browser — Debian's Chromium or Firefox ESR, through
// puppeteer-core (CDP for Chromium, WebDriver BiDi for Firefox; no browser download) — and prints
// what it saw as one JSON line; tests/http/test_dashboard.py asserts on it.
//   node tests/browser/dashboard_check.mjs chromium|firefox BASE_URL ADMIN_TOKEN [SCREENSHOT.png]
// Node resolves puppeteer-core from web/node_modules (installed by scripts/setup.sh).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "web", "package.json"));
const puppeteer = require("puppeteer-core");

const [kind, base, token, screenshot] = process.argv.slice(2);
const browsers = {
  chromium: { browser: "chrome", executablePath: process.env.JOOPANG_CHROMIUM || "/usr/bin/chromium",
              args: ["--no-sandbox", "--disable-gpu"] },
  firefox: { browser: "firefox", executablePath: process.env.JOOPANG_FIREFOX || "/usr/bin/firefox-esr",
             args: [] },
};
if (!browsers[kind]) throw new Error("browser must be chromium or firefox, not " + kind);
const out = { browser: kind, consoleErrors: [], pageErrors: [], failedResponses: [] };

const browser = await puppeteer.launch({ ...browsers[kind], headless: true,
                                         defaultViewport: { width: 1400, height: 1800 } });
try {
  const page = await browser.newPage();
  out.version = await browser.version();
  // Failed loads are listed with their URLs (below); other console errors as they come.
  page.on("console", (m) => {
    if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) out.consoleErrors.push(m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400) out.failedResponses.push(r.status() + " " + new URL(r.url()).pathname);
  });
  page.on("pageerror", (e) => out.pageErrors.push(String(e)));
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  const visible = (sel) => page.evaluate((s) => {
    const e = document.querySelector(s);
    return !!e && !e.hidden && e.getClientRects().length > 0;
  }, sel);

  // Without a token: the form, and the data endpoint refuses.
  await page.goto(base + "/dashboard");
  await page.waitForSelector("#login:not([hidden])", { timeout: 10000 });
  out.loginShownWithoutToken = await visible("#login");
  out.dataWithoutToken = await page.evaluate(async () =>
    (await fetch("/api/v1/admin/dashboard", { cache: "no-store" })).status);
  // A wrong token is refused and the form comes back.
  await page.type("#token", "not-the-admin-token");
  await page.click("#login button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#login-message").textContent.includes("refused"),
                             { timeout: 10000 });
  out.wrongTokenRefused = await visible("#login");

  // With the token in the fragment: kept in sessionStorage, gone from the address bar.
  await page.goto(base + "/dashboard#token=" + encodeURIComponent(token));
  await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 3, { timeout: 20000 });
  out.urlAfterLoad = page.url();
  out.tokenInSessionStorage = await page.evaluate(() => sessionStorage.getItem("joopang.adminToken"));
  out.tokenInLocalStorage = await page.evaluate(() => localStorage.length);

  // What a reader sees, twice, two refreshes apart.
  const read = () => page.evaluate(() => {
    const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent : null; };
    const drops = [...document.querySelectorAll("#drop-rows tr")].map((tr) => ({
      template: tr.dataset.template,
      title: tr.querySelector('[data-figure="title"]').textContent,
      markup: tr.querySelector('[data-figure="title"]').children.length,
      reserved: tr.querySelector('[data-figure="reserved"]').textContent,
      remaining: tr.querySelector('[data-figure="remaining"]').textContent,
      bytesPerWinner: tr.querySelector('[data-figure="bytes-per-winner"]').textContent }));
    // A chart's data is drawn when its canvas has coloured pixels: series are drawn in the
    // palette's colours, axes, grid and ticks in greys and black (the legend is HTML).
    const charts = {};
    for (const el of document.querySelectorAll(".chart")) {
      const canvas = el.querySelector("canvas");
      let inked = 0;
      if (canvas && canvas.width && canvas.height) {
        const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < px.length; i += 4)
          if (px[i + 3] > 200 && Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 60)
            inked++;
      }
      charts[el.id] = { canvas: !!canvas, inked };
    }
    return {
      polls: Number(document.body.dataset.polls), status: text("#status"), instance: text("#instance"),
      drops, dropKeys: document.querySelectorAll("#drop-keys tr").length,
      routes: [...document.querySelectorAll("#routes tr")].map((tr) => tr.dataset.route),
      streams: [...document.querySelectorAll("#stream-rows tr")].map((tr) => tr.dataset.stream),
      replayButtons: [...document.querySelectorAll("#stream-rows button")].map((b) => b.dataset.stream),
      queue: { waiting: text("#queue-waiting"), active: text("#queue-active"), paused: text("#queue-paused") },
      rankings: [...document.querySelectorAll("#ranking-tables table")].map((t) => ({
        window: t.dataset.window, rows: [...t.querySelectorAll("tr")].map((tr) => tr.textContent) })),
      refreshRuns: text("#refresh-runs"),
      redis: { memory: text("#redis-memory"), aof: text("#redis-aof"), slowlog: text("#redis-slowlog") },
      pools: document.querySelectorAll("#pool-rows tr").length,
      charts,
    };
  });
  out.first = await read();
  await page.waitForFunction((n) => Number(document.body.dataset.polls) >= n + 2, { timeout: 20000 },
                             out.first.polls);
  out.second = await read();
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  // The replay button of the first stream with dead letters re-queues them. The rows are drawn
  // again every second, so the button is found and clicked in one step inside the page.
  out.replayedStream = await page.evaluate(() => {
    const b = document.querySelector("#stream-rows button");
    return b ? b.dataset.stream : null;
  });
  if (out.replayedStream) {
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/dead-letter/replay"), { timeout: 10000 }),
      page.evaluate(() => document.querySelector("#stream-rows button").click()),
    ]);
    out.replayStatus = answer.status();
    out.replayAnswer = await answer.json();
  }
  // A new tab's blank document ("data:," in Firefox, "about:blank") is the browser's own.
  out.foreignRequests = requests.filter((u) => !u.startsWith(base) && u !== "data:," && u !== "about:blank");
  out.requestsWithToken = requests.filter((u) => u.includes(token) || u.includes(encodeURIComponent(token)));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
