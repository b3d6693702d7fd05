// joopang's live dashboard: polls GET /api/v1/admin/dashboard every second with the admin token
// and draws what changed since the previous answer (rates, interval percentiles) with uPlot.
// The token comes from the URL fragment (#token=…, which browsers never send) or the form, and
// is kept in this tab's sessionStorage only. Every figure is written with textContent.
"use strict";

(function () {
  const TOKEN_KEY = "joopang.adminToken";
  const PERIOD_MS = 1000;
  const HISTORY = 300; // points kept per chart: five minutes at one a second
  const $ = (id) => document.getElementById(id);

  // --- token ----------------------------------------------------------------------------------
  function takeTokenFromFragment() {
    const m = /(?:^|[#&])token=([^&]*)/.exec(location.hash);
    if (!m) return;
    try {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    } catch (e) { /* a malformed fragment: ask for the token instead */ }
    history.replaceState(null, "", location.pathname + location.search); // out of the address bar
  }
  function showLogin(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("board").hidden = true;
    $("forget").hidden = true;
    $("login").hidden = false;
    if (message) $("login-message").textContent = message;
    setStatus("signed out", false);
  }
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token").value = "";
    start();
  });
  $("forget").addEventListener("click", () => showLogin("Token forgotten."));

  // --- formatting -----------------------------------------------------------------------------
  const num = (v, digits = 0) =>
    v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toLocaleString("en-US", {
      maximumFractionDigits: digits, minimumFractionDigits: digits });
  function bytes(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return num(v, i ? 1 : 0) + " " + units[i];
  }
  const ms = (seconds) => (seconds === null ? "–" : num(seconds * 1000, seconds < 0.01 ? 2 : 1));
  function setStatus(text, bad) {
    $("status").textContent = text;
    $("status").classList.toggle("bad", !!bad);
  }
  function row(cells, attrs) {
    const tr = document.createElement("tr");
    for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, v);
    for (const c of cells) {
      const td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c);
      else if (c && typeof c === "object") { td.textContent = c.text; td.dataset.figure = c.figure; }
      else td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }
  function fill(tbody, rows) { tbody.replaceChildren(...rows); }

  // --- metrics: series lookup, rates and interval percentiles ---------------------------------
  const labelKey = (labels) => JSON.stringify(Object.entries(labels).sort());
  function series(m, name) { return (m.families[name] || { series: [] }).series; }
  function value(m, name, match) {
    let total = null;
    for (const s of series(m, name))
      if (!match || Object.entries(match).every(([k, v]) => s.labels[k] === v))
        total = (total || 0) + (s.value || 0);
    return total;
  }
  // The change of a histogram between two answers, summed over the series `pick` accepts.
  function histogramDelta(prev, cur, name, pick) {
    const sum = (m) => {
      const out = { count: 0, buckets: m.bounds.map(() => 0) };
      for (const s of series(m, name)) {
        if (pick && !pick(s.labels)) continue;
        out.count += s.count;
        s.buckets.forEach((b, i) => (out.buckets[i] += b));
      }
      return out;
    };
    const a = prev ? sum(prev) : { count: 0, buckets: cur.bounds.map(() => 0) };
    const b = sum(cur);
    return { count: b.count - a.count, buckets: b.buckets.map((v, i) => v - a.buckets[i]),
             bounds: cur.bounds };
  }
  // As Prometheus's histogram_quantile: linear within the bucket that holds the rank.
  function quantile(q, d) {
    if (!d || d.count <= 0) return null;
    const rank = q * d.count;
    let below = 0, lower = 0;
    for (let i = 0; i < d.bounds.length; i++) {
      if (d.buckets[i] >= rank) {
        const inBucket = d.buckets[i] - below;
        return lower + (d.bounds[i] - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1);
      }
      below = d.buckets[i];
      lower = d.bounds[i];
    }
    return d.bounds[d.bounds.length - 1]; // beyond the last bound
  }

  // --- charts -----------------------------------------------------------------------------------
  const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  class Chart {
    constructor(el, title, unit) {
      this.el = el; this.title = title; this.unit = unit;
      this.names = []; this.data = [[]]; this.plot = null;
    }
    push(t, values) { // values: {seriesName: number|null}
      for (const name of Object.keys(values))
        if (!this.names.includes(name)) {
          this.names.push(name);
          this.data.push(this.data[0].map(() => null));
          this.plot && this.plot.destroy();
          this.plot = null;
        }
      this.data[0].push(t);
      this.names.forEach((n, i) => this.data[i + 1].push(values[n] === undefined ? null : values[n]));
      if (this.data[0].length > HISTORY) this.data.forEach((d) => d.shift());
      this.draw();
    }
    draw() {
      const width = Math.max(300, Math.min(this.el.parentElement.clientWidth - 16, 900));
      if (!this.plot) {
        if (!this.names.length) return;
        this.plot = new uPlot({
          title: this.title, width, height: 180,
          scales: { x: { time: true } },
          series: [{}].concat(this.names.map((n, i) => ({
            label: n, stroke: palette[i % palette.length], width: 1.5, spanGaps: false,
            value: (u, v) => (v === null ? "–" : num(v, 2) + " " + this.unit) }))),
          axes: [{}, { size: 60, values: (u, vals) => vals.map((v) => num(v, v < 10 ? 1 : 0)) }],
          legend: { live: true },
        }, this.data, this.el);
      } else {
        if (this.plot.width !== width) this.plot.setSize({ width, height: 180 });
        this.plot.setData(this.data);
      }
    }
  }
  const charts = {
    rate: new Chart($("chart-rate"), "requests / s", "/s"),
    latency: new Chart($("chart-latency"), "latency, all routes (ms)", "ms"),
    drops: new Chart($("chart-drops"), "coupons / s", "/s"),
    queue: new Chart($("chart-queue"), "waiting room", ""),
    redis: new Chart($("chart-redis"), "Redis used memory (MiB) and call p99 (ms)", ""),
    db: new Chart($("chart-db"), "database transactions p99 (ms)", "ms"),
  };

  // --- sections ---------------------------------------------------------------------------------
  // The previous answer, for rates. Differences are only taken between two answers of the same
  // process: behind a load balancer, or after a restart, the next answer starts afresh.
  let prev = null;
  let prevDrops = null; // the last drop sample before the current one (the job samples each 1 s)
  let dropRates = new Map();
  function rate(cur, prevValue, curValue) {
    if (!prev || prevValue === null || curValue === null) return null;
    const dt = (cur.nowMs - prev.nowMs) / 1000;
    return dt > 0 ? Math.max(0, (curValue - prevValue) / dt) : null;
  }
  function sameProcess(a, b) {
    if (!a || a.instance !== b.instance) return false;
    const total = (m) => series(m, "joopang_http_requests_total").reduce((n, s) => n + s.value, 0);
    return total(b.metrics) >= total(a.metrics); // counters only grow within one process
  }

  function drawRequests(cur, t) {
    const m = cur.metrics, pm = prev && prev.metrics;
    const routes = new Map(); // "GET /x" → {labels}
    for (const s of series(m, "joopang_http_request_duration_seconds"))
      routes.set(s.labels.method + " " + s.labels.route, s.labels);
    const count = (mm, labels, statusClass) => {
      if (!mm) return null;
      let total = 0;
      for (const s of series(mm, "joopang_http_requests_total"))
        if (s.labels.route === labels.route && s.labels.method === labels.method &&
            (!statusClass || s.labels.status[0] === statusClass)) total += s.value;
      return total;
    };
    const rows = [];
    const rates = {};
    let all = 0;
    for (const [name, labels] of routes) {
      const r = rate(cur, count(pm, labels), count(m, labels));
      const d = histogramDelta(pm, m, "joopang_http_request_duration_seconds",
                               (l) => l.route === labels.route && l.method === labels.method);
      rows.push({ name, r, d, total: count(m, labels),
                  e4: rate(cur, count(pm, labels, "4"), count(m, labels, "4")),
                  e5: rate(cur, count(pm, labels, "5"), count(m, labels, "5")) });
      if (r !== null) { rates[name] = r; all += r; }
    }
    rows.sort((a, b) => (b.r || 0) - (a.r || 0) || b.total - a.total);
    fill($("routes"), rows.map((x) => row([
      x.name, { text: num(x.r, 1), figure: "rate" }, ms(quantile(0.5, x.d)), ms(quantile(0.99, x.d)),
      num(x.e4, 1), num(x.e5, 1), num(x.total)], { "data-route": x.name })));
    const top = {};
    top["all routes"] = prev ? all : null;
    rows.filter((x) => x.r).slice(0, 5).forEach((x) => (top[x.name] = x.r));
    charts.rate.push(t, top);
    const d = histogramDelta(pm, m, "joopang_http_request_duration_seconds");
    const p = (q) => { const v = quantile(q, d); return v === null ? null : v * 1000; };
    charts.latency.push(t, { p50: p(0.5), p99: p(0.99) });
  }

  // Drop figures change when the drop-monitor job samples them: rates are taken between its
  // samples (and kept until the next one), not between polls.
  function drawDrops(cur, t) {
    const sample = cur.drops;
    if (prevDrops && sample.sampledAtMs > prevDrops.sampledAtMs) {
      const dt = (sample.sampledAtMs - prevDrops.sampledAtMs) / 1000;
      const before = new Map(prevDrops.items.map((d) => [d.templateId, d]));
      dropRates = new Map(sample.items.filter((d) => before.has(d.templateId)).map((d) => [d.templateId, {
        issued: Math.max(0, (d.reserved - before.get(d.templateId).reserved) / dt),
        persisted: Math.max(0, (d.persisted - before.get(d.templateId).persisted) / dt) }]));
    }
    if (!prevDrops || sample.sampledAtMs !== prevDrops.sampledAtMs) prevDrops = sample;
    $("drops-age").textContent = sample.sampledAtMs
      ? "sampled " + num(Math.max(0, cur.nowMs - sample.sampledAtMs) / 1000, 1) + " s ago" : "not sampled yet";
    const rows = [], keys = [], chart = {};
    for (const d of sample.items) {
      const r = dropRates.get(d.templateId);
      const issued = r ? r.issued : null;
      const persisted = r ? r.persisted : null;
      rows.push(row([
        { text: "#" + d.templateId + " " + d.title, figure: "title" }, d.status, num(d.totalQuantity),
        { text: num(d.reserved), figure: "reserved" }, { text: num(d.persisted), figure: "persisted" },
        { text: num(d.remaining), figure: "remaining" }, num(issued, 1), num(persisted, 1),
        bytes(d.keyBytes), { text: d.reserved ? num(d.bytesPerWinner, 1) : "–", figure: "bytes-per-winner" },
      ], { "data-template": d.templateId }));
      for (const k of d.keys)
        keys.push(row(["#" + d.templateId, k.key, k.type, num(k.length), bytes(k.bytes),
                       k.ttlMs < 0 ? "none" : num(k.ttlMs / 1000, 0) + " s"]));
      chart["#" + d.templateId + " issued"] = issued;
      chart["#" + d.templateId + " persisted"] = persisted;
    }
    fill($("drop-rows"), rows);
    fill($("drop-keys"), keys);
    charts.drops.push(t, chart);
  }

  function replayButton(stream) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "Replay " + stream.deadLetterLength;
    b.dataset.stream = stream.name;
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const res = await api("POST", "/api/v1/admin/streams/" + encodeURIComponent(stream.name) +
                                      "/dead-letter/replay");
        const body = await res.json();
        b.textContent = res.ok ? "replayed " + body.replayed : body.message || "failed";
      } catch (e) { b.textContent = "failed"; }
    });
    return b;
  }
  function drawStreams(cur) {
    $("streams-error").textContent = cur.streamsError || "";
    fill($("stream-rows"), (cur.streams || []).map((s) => row([
      s.name, { text: num(s.length), figure: "length" }, num(s.pending), num(s.lag),
      num(s.oldestPendingAgeMs / 1000, 1) + " s", num(s.deliveriesRetried), num(s.deadLettered),
      num(s.deadLetterLength), s.deadLetterLength > 0 ? replayButton(s) : ""], { "data-stream": s.name })));
  }

  function drawQueue(cur, t) {
    $("queue-error").textContent = cur.queueError || "";
    const q = cur.queue;
    if (!q) return;
    $("queue-waiting").textContent = num(q.waiting);
    $("queue-active").textContent = num(q.active);
    $("queue-admitted").textContent = num(q.admittedLastMinute);
    $("queue-rate").textContent = num(q.admitPerSecond) + " /s";
    $("queue-max").textContent = q.maxActive ? num(q.maxActive) : "no cap";
    $("queue-paused").textContent = q.paused ? "paused" : "running";
    charts.queue.push(t, { waiting: q.waiting, active: q.active,
                           "admitted/s (last minute)": q.admittedLastMinute / 60 });
  }

  function drawRankings(cur) {
    $("rankings-error").textContent = cur.rankingsError || "";
    const tables = (cur.rankings || []).map((r) => {
      const box = document.createElement("div");
      const h = document.createElement("h3");
      h.textContent = r.window + " · " + r.metric + " · from " + r.source;
      const table = document.createElement("table");
      table.dataset.window = r.window;
      const body = document.createElement("tbody");
      fill(body, r.items.length ? r.items.map((i) => row([String(i.rank), i.name + " (#" + i.productId + ")",
                                                        num(i.score, 2)]))
                                : [row(["", "no sales or views yet", ""])]);
      table.appendChild(body);
      box.append(h, table);
      return box;
    });
    $("ranking-tables").replaceChildren(...tables);
    const pick = (l) => l.job === "ranking-refresh";
    const d = histogramDelta(prev && prev.metrics, cur.metrics, "joopang_job_duration_seconds", pick);
    const all = histogramDelta(null, cur.metrics, "joopang_job_duration_seconds", pick);
    // The refresh runs on one instance at a time (a lease): another may hold it now.
    $("refresh-p50").textContent = ms(quantile(0.5, d.count ? d : all));
    $("refresh-p99").textContent = ms(quantile(0.99, d.count ? d : all));
    $("refresh-runs").textContent = num(all.count) + (all.count ? "" : " here (another instance holds the lease)");
  }

  function drawRedis(cur, t) {
    const m = cur.metrics;
    const used = value(m, "joopang_redis_used_memory_bytes");
    $("redis-memory").textContent = bytes(used);
    const aof = value(m, "joopang_redis_aof_enabled");
    const ok = value(m, "joopang_redis_aof_last_write_ok");
    $("redis-aof").textContent = aof === null ? "–" : !aof ? "off" : ok ? "on, last write ok" : "on, LAST WRITE FAILED";
    $("redis-fsync").textContent = num(value(m, "joopang_redis_aof_pending_fsync")) + " pending, " +
                                   num(value(m, "joopang_redis_aof_delayed_fsyncs_total")) + " delayed";
    $("redis-offset").textContent = bytes(value(m, "joopang_redis_replication_offset_bytes"));
    $("redis-replicas").textContent = num(value(m, "joopang_redis_connected_replicas"));
    $("redis-slowlog").textContent = num(value(m, "joopang_redis_slowlog_length"));
    const d = histogramDelta(prev && prev.metrics, m, "joopang_redis_call_duration_seconds");
    $("redis-latency").textContent = ms(quantile(0.5, d)) + " / " + ms(quantile(0.99, d)) + " ms";
    const behind = new Map(series(m, "joopang_redis_replica_behind_bytes").map((s) => [s.labels.replica, s.value]));
    fill($("replica-rows"), series(m, "joopang_redis_replica_lag_seconds").map((s) =>
      row([s.labels.replica, num(s.value, 1), num(behind.get(s.labels.replica))])));
    const p99 = quantile(0.99, d);
    charts.redis.push(t, { "used MiB": used === null ? null : used / 1048576,
                           "call p99 ms": p99 === null ? null : p99 * 1000 });
  }

  function drawDatabase(cur, t) {
    const m = cur.metrics;
    const pools = new Map();
    for (const name of ["threads", "busy", "queued"])
      for (const s of series(m, "joopang_db_pool_" + name)) {
        if (!pools.has(s.labels.pool)) pools.set(s.labels.pool, {});
        pools.get(s.labels.pool)[name] = s.value;
      }
    fill($("pool-rows"), [...pools].map(([pool, v]) => row([pool, num(v.threads),
      { text: num(v.busy), figure: "busy" }, num(v.queued)])));
    const modes = [...new Set(series(m, "joopang_db_transaction_duration_seconds").map((s) => s.labels.mode))];
    const chart = {};
    fill($("db-rows"), modes.map((mode) => {
      const pick = (l) => l.mode === mode;
      const d = histogramDelta(prev && prev.metrics, m, "joopang_db_transaction_duration_seconds", pick);
      const p99 = quantile(0.99, d);
      chart[mode] = p99 === null ? null : p99 * 1000;
      return row([mode, num(prev ? d.count / ((cur.nowMs - prev.nowMs) / 1000) : null, 1),
                  ms(quantile(0.5, d)), ms(p99)]);
    }));
    charts.db.push(t, chart);
  }

  // --- polling ----------------------------------------------------------------------------------
  function api(method, path) {
    return fetch(path, { method, cache: "no-store", credentials: "omit",
                         headers: { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) } });
  }
  let timer = null, polling = false, polls = 0;
  async function poll() {
    timer = null;
    if (polling) return; // one loop at a time
    if (!sessionStorage.getItem(TOKEN_KEY)) return showLogin();
    polling = true;
    try {
      const res = await api("GET", "/api/v1/admin/dashboard?metric=" + $("ranking-metric").value);
      if (res.status === 401 || res.status === 403) return showLogin("The token was refused. Give the admin token.");
      if (!res.ok) throw new Error("HTTP " + res.status);
      const cur = await res.json();
      if (!sameProcess(prev, cur)) prev = null;
      const t = cur.nowMs / 1000;
      $("instance").textContent = "instance " + cur.instance;
      drawRequests(cur, t);
      drawDrops(cur, t);
      drawStreams(cur);
      drawQueue(cur, t);
      drawRankings(cur);
      drawRedis(cur, t);
      drawDatabase(cur, t);
      prev = cur;
      polls++;
      document.body.dataset.polls = polls;
      setStatus("updated " + new Date(cur.nowMs).toLocaleTimeString(), false);
    } catch (e) {
      setStatus("cannot reach the service: " + e.message + " (retrying)", true);
    } finally {
      polling = false;
    }
    if (!timer && sessionStorage.getItem(TOKEN_KEY)) timer = setTimeout(poll, PERIOD_MS);
  }
  function start() {
    $("login").hidden = true;
    $("board").hidden = false;
    $("forget").hidden = false;
    if (!timer && !polling) poll();
  }
  $("ranking-metric").addEventListener("change", () => {
    if (timer) { clearTimeout(timer); timer = null; poll(); }
  });

  // A #token=… link opened in a tab already on the page changes only the fragment.
  window.addEventListener("hashchange", () => {
    takeTokenFromFragment();
    if (sessionStorage.getItem(TOKEN_KEY)) start();
  });
  takeTokenFromFragment();
  if (sessionStorage.getItem(TOKEN_KEY)) start();
  else showLogin();
})();
