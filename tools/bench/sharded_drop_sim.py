#!/usr/bin/env python3
"""A first-come-first-served coupon drop with its stock split over K Redis shards, simulated
(docs/scaling.md). Standard library only; a few seconds per run.

    python3 tools/bench/sharded_drop_sim.py --total 10000 --users 50000 --requests 100000 --compare

What it models:
  * R requests from U users (uniform) arrive in one global order (Poisson, --rate per second) at
    --instances service instances (chosen at random).
  * Each user has a home shard (a hash of the user id). Skew: the hash is weighted so that shard k
    holds 1 + skew * k / (K - 1) parts of the users, so the last shard's users outnumber the first's
    (--skew 1: twice as many) and it runs dry first.
  * Each shard is one Redis thread: one queue, calls decided in the order they reach it, each
    taking a service time (--win-us, --lose-us, --claim-us; the batched per-request costs of
    docs/benchmarks.md §2) times the shard's own speed factor (1 +- --speed-spread / 2; 1 for
    K = 1), so shards drain at different speeds. A call reaches a shard --rtt-us / 2 after it is
    sent; its answer comes back as long.
  * The issue script on the home shard: a user at the limit hears 409 (or "pending" while a claim
    of theirs is open: retried after --retry-us); stock left: a win; dry: a claim (the user's count
    is raised at home, the request moves on) if the instance knows some other shard not dry, else
    410.
  * A claimed request goes to a donor: a shard neither known dry by its instance nor tried yet,
    picked at random weighted by the stock the instance last saw there. The donor takes a unit
    (a win, then an asynchronous "settle" of the claim at home) or answers dry (remembered by the
    instance; the request tries the next donor). No donor left: "release" at home (the count goes
    back) and 410.
  * Once an instance knows every shard dry it answers from memory (the sold-out memo): 409 for a
    user at the limit, 410 for others, without a call.
  * position = (shard-local seq - 1) * K + shard + 1 (shard k holds N // K units, one more for the
    first N % K shards), so the positions of a sold-out drop are 1..N, each once.

Checks (exit status 1 if any fails): issued = min(N, sum over users of min(limit, requests)); no
duplicate position or (user, n); no user over the limit; no 410 while stock remained anywhere; no
409 to a user under the limit; positions 1..N once at a sell-out; K = 1 is exactly FIFO.

Fairness: "eligible" requests are each user's first `limit` requests, ranked by arrival (a). Wins
are ranked by the time their shard decided them (g). "beyond N" is the share of winners with
a > issued (a later arrival won while an earlier one lost); displacement is |a - g|; position error
|position - g|.
"""

import argparse
import heapq
import math
import random
import sys

MASK = (1 << 64) - 1


def mix64(x):
    """splitmix64 finaliser: the user-id hash that picks a home shard."""
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def percentile(values, p):
    if not values:
        return 0
    s = sorted(values)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]  # nearest rank


class Shard:
    def __init__(self, k, stock, speed):
        self.k, self.stock, self.speed = k, stock, speed
        self.seq = 0
        self.count = {}    # user -> coupons held + claims open (homes only)
        self.claims = {}   # user -> claims open
        self.queue = []    # calls waiting, FIFO (index self.head is next)
        self.head = 0
        self.busy = False


class Request:
    __slots__ = ("i", "t", "user", "inst", "home", "tried", "n", "result", "t_answer")

    def __init__(self, i, t, user, inst, home):
        self.i, self.t, self.user, self.inst, self.home = i, t, user, inst, home
        self.tried, self.n, self.result, self.t_answer = set(), 0, None, None


class Instance:
    def __init__(self, stocks):
        self.dry = set()                # shards this instance has heard answer "dry"
        self.remaining = list(stocks)   # stock last seen per shard


def workload(a):
    """Arrivals, users and instances: the same for every K."""
    rng = random.Random(a.seed)
    t, out = 0.0, []
    for i in range(a.requests):
        t += rng.expovariate(a.rate) * 1e6  # microseconds
        out.append((t, rng.randrange(a.users), rng.randrange(a.instances)))
    return out


def run(a, K, arrivals):
    rng = random.Random(a.seed * 7919 + K)
    N, L = a.total, a.limit
    stocks = [N // K + (1 if k < N % K else 0) for k in range(K)]
    speeds = [1.0 + a.speed_spread * (rng.random() - 0.5) if K > 1 else 1.0 for _ in range(K)]
    shards = [Shard(k, stocks[k], speeds[k]) for k in range(K)]
    weights = [1.0 + (a.skew * k / (K - 1) if K > 1 else 0.0) for k in range(K)]
    bounds, acc = [], 0.0
    for w in weights:
        acc += w / sum(weights)
        bounds.append(acc)
    home_of = {}

    def home(u):
        h = home_of.get(u)
        if h is None:
            x = mix64(u ^ (a.seed << 32)) / float(1 << 64)
            h = next((k for k, b in enumerate(bounds) if x < b), K - 1)
            home_of[u] = h
        return h

    instances = [Instance(stocks) for _ in range(a.instances)]
    half = a.rtt_us / 2.0
    events, tick = [], [0]
    state = {"stock": N, "sold_out_at": None}
    wins = []          # (t decided, request, shard, seq, n)
    user_wins = {}
    calls = {"ISSUE": 0, "TAKE": 0, "SETTLE": 0, "RELEASE": 0}
    answers = {"202": 0, "409": 0, "410": 0, "memo": 0}
    fallback_wins = [0]
    # Redis time: decisions at home and donor wins; the fallback's extra calls (claims, dry answers
    # to a take, settles, releases)
    busy = {"decide": 0.0, "extra": 0.0}
    failures = []      # what went wrong (the first 20)
    violations = {"410": 0, "409": 0}

    def check(cond, what):
        if not cond and len(failures) < 20:
            failures.append(what)
        return cond

    def push(t, kind, *payload):
        tick[0] += 1
        heapq.heappush(events, (t, tick[0], kind, payload))

    def send(t, k, op, req, arg=None):
        calls[op] += 1
        push(t + half, "enq", k, (op, req, arg))

    def answer(t, req, result):
        req.result, req.t_answer = result, t
        answers[result] += 1
        if result == "410" and not check(state["stock"] == 0,
                                         "410 at %.0f us while %d units remained" % (t, state["stock"])):
            violations["410"] += 1
        held = user_wins.get(req.user, 0)
        if result == "409" and not check(held >= L, "409 to user %d holding %d" % (req.user, held)):
            violations["409"] += 1

    def to_donor(t, req):
        inst = instances[req.inst]
        cands = [k for k in range(K) if k not in inst.dry and k not in req.tried]
        if not cands:
            send(t, req.home, "RELEASE", req)
            answer(t, req, "410")
            return
        w = [max(1, inst.remaining[k]) for k in cands]
        j = rng.choices(cands, weights=w)[0]
        req.tried.add(j)
        send(t, j, "TAKE", req)

    def issue(t, req):
        inst = instances[req.inst]
        if len(inst.dry) == K:  # the sold-out memo: no call
            s = shards[req.home]
            if s.claims.get(req.user, 0) > 0:
                push(t + a.retry_us, "arrive", req)
                return
            answers["memo"] += 1
            answer(t, req, "409" if s.count.get(req.user, 0) >= L else "410")
            return
        claim_ok = any(k != req.home and k not in inst.dry for k in range(K))
        send(t, req.home, "ISSUE", req, claim_ok)

    def decide(s, call):
        """Runs one call on shard s (atomically, as a script): returns (cost us, result)."""
        op, req, arg = call
        u = req.user
        if op == "ISSUE":
            c, cl = s.count.get(u, 0), s.claims.get(u, 0)
            if c >= L:
                return a.lose_us, ("PENDING",) if cl > 0 else ("409",)
            if s.stock > 0:
                s.stock -= 1
                s.seq += 1
                s.count[u] = c + 1
                return a.win_us, ("WIN", s.seq, c + 1, s.stock)
            if arg:  # dry, and the instance knows a shard that is not
                s.count[u] = c + 1
                s.claims[u] = cl + 1
                return a.claim_us, ("CLAIMED", c + 1)
            return a.lose_us, ("410",)
        if op == "TAKE":
            if s.stock > 0:
                s.stock -= 1
                s.seq += 1
                return a.win_us, ("WIN", s.seq, req.n, s.stock)
            return a.lose_us, ("DRY",)
        if op == "SETTLE":
            s.claims[u] -= 1
            return a.lose_us, None
        if op == "RELEASE":
            s.claims[u] -= 1
            s.count[u] -= 1
            return a.lose_us, None
        raise AssertionError(op)

    def start(t, s):
        call = s.queue[s.head]
        cost, result = decide(s, call)
        if result and result[0] == "WIN":
            state["stock"] -= 1
            if state["stock"] == 0:
                state["sold_out_at"] = t
        s.busy = True
        extra = call[0] in ("SETTLE", "RELEASE") or result[0] in ("CLAIMED", "DRY")
        busy["extra" if extra else "decide"] += cost * s.speed
        push(t + cost * s.speed, "done", s, call, result)

    requests = [Request(r_i, t, u, inst, home(u)) for r_i, (t, u, inst) in enumerate(arrivals)]
    for req in requests:
        push(req.t, "arrive", req)

    while events:
        t, _, kind, p = heapq.heappop(events)
        if kind == "arrive":
            issue(t, p[0])
        elif kind == "enq":
            s = shards[p[0]]
            s.queue.append(p[1])
            if not s.busy:
                start(t, s)
        elif kind == "done":
            s, call, result = p
            s.head += 1
            s.busy = False
            if s.head < len(s.queue):
                start(t, s)
            if s.head > 4096:  # drop the decided calls
                del s.queue[:s.head]
                s.head = 0
            op, req, _ = call
            if result and result[0] == "WIN":
                wins.append((t, req, s.k, result[1], result[2]))
                user_wins[req.user] = user_wins.get(req.user, 0) + 1
                if op == "TAKE":
                    fallback_wins[0] += 1
            if result is not None:
                push(t + half, "answer", s.k, op, req, result)
        elif kind == "answer":
            k, op, req, result = p
            inst = instances[req.inst]
            what = result[0]
            if what == "WIN":
                inst.remaining[k] = result[3]
                answer(t, req, "202")
                if op == "TAKE":
                    send(t, req.home, "SETTLE", req)
            elif what == "409":
                answer(t, req, "409")
            elif what == "410":
                inst.dry.add(k)
                answer(t, req, "410")
            elif what == "PENDING":
                push(t + a.retry_us, "arrive", req)
            elif what == "CLAIMED":
                inst.dry.add(k)
                inst.remaining[k] = 0
                req.n = result[1]
                req.tried = {k}
                to_donor(t, req)
            elif what == "DRY":
                inst.dry.add(k)
                inst.remaining[k] = 0
                to_donor(t, req)

    # Exactness.
    asked = {}
    for _, u, _ in arrivals:
        asked[u] = asked.get(u, 0) + 1
    expected = min(N, sum(min(L, c) for c in asked.values()))
    issued = len(wins)
    check(issued == expected, "issued %d, expected min(N, demand) = %d" % (issued, expected))
    positions = [(seq - 1) * K + k + 1 for _, _, k, seq, _ in wins]
    dup = (len(positions) - len(set(positions))) + (issued - len({(r.user, n) for _, r, _, _, n in wins}))
    over = sum(1 for c in user_wins.values() if c > L)
    check(dup == 0, "%d duplicates" % dup)
    check(over == 0, "%d users over the limit" % over)
    if issued == N:
        check(sorted(positions) == list(range(1, N + 1)), "positions are not 1..N once each")
    for s in shards:
        check(all(v == 0 for v in s.claims.values()), "claims left open on shard %d" % s.k)
        check(all(s.count.get(u, 0) == user_wins.get(u, 0) for u in s.count), "home counts != wins on shard %d" % s.k)

    # Fairness.
    rank, seen, r_rank = 0, {}, {}
    for r_i, (_, u, _) in enumerate(arrivals):
        seen[u] = seen.get(u, 0) + 1
        if seen[u] <= L:
            rank += 1
            r_rank[r_i] = rank
    wins.sort(key=lambda w: w[0])
    disp, perr, beyond = [], [], 0
    for g, (_, req, k, seq, _) in enumerate(wins, 1):
        ar = r_rank.get(req.i, rank + 1)  # not eligible: behind every eligible request
        if ar > issued:
            beyond += 1
        disp.append(abs(ar - g))
        perr.append(abs((seq - 1) * K + k + 1 - g))
    if K == 1:
        check(beyond == 0 and max(disp or [0]) == 0, "K = 1 is not FIFO")
        check(max(perr or [0]) == 0, "K = 1 positions differ from the grant order")
    check(all(r.result is not None for r in requests), "a request was never answered")
    latency = [(r.t_answer - r.t) / 1000.0 for r in requests]
    return {
        "K": K, "issued": issued, "expected": expected, "dup": dup, "over": over,
        "early410": violations["410"], "bad409": violations["409"],
        "beyond": beyond / issued if issued else 0.0,
        "disp_p99": percentile(disp, 99), "disp_max": max(disp or [0]),
        "perr_p99": percentile(perr, 99), "perr_max": max(perr or [0]),
        "fallback": fallback_wins[0] / issued if issued else 0.0,
        "redis_ms": (busy["decide"] + busy["extra"]) / 1000.0,
        "extra_time": busy["extra"] / max(1e-9, busy["decide"] + busy["extra"]),
        "sold_out_ms": state["sold_out_at"] / 1000.0 if state["sold_out_at"] is not None else None,
        "lat_p99": percentile(latency, 99),
        "calls_by_op": calls, "answers": answers, "failures": failures,
        "speeds": speeds, "stocks": stocks,
    }


HEADER = ("| K | issued | dup | over limit | 410 early | 409 wrong | beyond N | disp p99 | disp max "
          "| pos err p99 | pos err max | fallback wins | fallback extra Redis time | sold out at | p99 answer |")


def row(m):
    return ("| %d | %d | %d | %d | %d | %d | %.2f %% | %d | %d | %d | %d | %.1f %% | %.1f %% | %s | %.1f ms |"
            % (m["K"], m["issued"], m["dup"], m["over"], m["early410"], m["bad409"], 100 * m["beyond"],
               m["disp_p99"], m["disp_max"], m["perr_p99"], m["perr_max"], 100 * m["fallback"],
               100 * m["extra_time"], "-" if m["sold_out_ms"] is None else "%.1f ms" % m["sold_out_ms"], m["lat_p99"]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--total", type=int, default=10000, help="coupons (N)")
    p.add_argument("--users", type=int, default=50000, help="distinct users (U)")
    p.add_argument("--requests", type=int, default=100000, help="requests (R)")
    p.add_argument("--shards", type=int, default=4, help="K")
    p.add_argument("--compare", action="store_true", help="run K = 1, 4, 16")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=1, help="per-user limit")
    p.add_argument("--rate", type=float, default=1e6, help="arrivals per second, all instances")
    p.add_argument("--instances", type=int, default=4, help="service instances (each its own dry memory)")
    p.add_argument("--skew", type=float, default=1.0, help="the last shard has 1 + skew times the first's users")
    p.add_argument("--speed-spread", type=float, default=0.5, help="shard service times x 1 +- this / 2")
    p.add_argument("--win-us", type=float, default=6.4, help="Redis time of a win")
    p.add_argument("--lose-us", type=float, default=1.4, help="of a loser, a dry answer, a settle, a release")
    p.add_argument("--claim-us", type=float, default=2.8, help="of a claim at a dry home")
    p.add_argument("--rtt-us", type=float, default=100.0, help="service <-> Redis round trip")
    p.add_argument("--retry-us", type=float, default=5000.0, help="retry of a request whose claim is open")
    a = p.parse_args()
    if min(a.total, a.users, a.requests, a.shards, a.limit, a.instances) < 1:
        p.error("--total, --users, --requests, --shards, --limit, --instances must be >= 1")

    arrivals = workload(a)
    ks = [1, 4, 16] if a.compare else [a.shards]
    print("N=%d U=%d R=%d limit=%d seed=%d rate=%.0f/s instances=%d skew=%.2f speed-spread=%.2f "
          "win/lose/claim=%.1f/%.1f/%.1f us rtt=%.0f us"
          % (a.total, a.users, a.requests, a.limit, a.seed, a.rate, a.instances, a.skew,
             a.speed_spread, a.win_us, a.lose_us, a.claim_us, a.rtt_us))
    results = [run(a, k, arrivals) for k in ks]
    print(HEADER)
    print("|" + "---|" * 15)
    for m in results:
        print(row(m))
    bad = False
    for m in results:
        print("K=%d: expected issued %d; calls %s; answers %s (memo: answered without a call); Redis busy %.1f ms"
              % (m["K"], m["expected"], m["calls_by_op"], m["answers"], m["redis_ms"]))
        for f in m["failures"]:
            print("  FAIL: " + f)
            bad = True
    if bad:
        print("exactness violated", file=sys.stderr)
        sys.exit(1)
    print("all exactness checks passed")


if __name__ == "__main__":
    main()
