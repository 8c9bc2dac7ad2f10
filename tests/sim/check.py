#!/usr/bin/python3
"""check: what a crawl left behind, against a topology's expectations
(topo.py). Prints one line per assertion, "ok NAME" or "bad NAME WHY";
tests/sim/crawl.bash turns them into pass/fail lines.

    check.py crawl TOPO DIR --since EPOCH [--apex seed.test] [--port 32767]
                   [--dig FILE] [--log FILE] [--stats FILE] [--prefix P]
    check.py restart TOPO BEFORE.csv AFTER.csv --stats FILE [--prefix P]
    check.py rows DIR         "ip port good last_error" per nodes.csv row
    check.py overlap STATS [--ids PREFIX] [--shrink S]   most connections at once
    check.py churn TOPO --samples FILE --nodes NODES.csv --log FILE --stats FILE
                   --start EPOCH --end EPOCH [--interval S] [--timeout S] [--prefix P]
                   the churn topology over a run (crawl_churn.sh: the bounds are there)

Columns are found by header name (SPEC 3).
"""
import argparse
import calendar
import csv
import json
import re
import sys
import time

HEADER = ("ip,good,last_check_time,port,network,first_seen,last_success,checks,successes,"
          "reliability,last_error,dialect,banned_until,r1d,w1d,r1w,w1w,url,node_id,fails,run_start,"
          "last_down")
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
PREFIX = "crawl"


def say(ok, name, why=""):
    if ok:
        print("ok %s/%s" % (PREFIX, name))
    else:
        why = " ".join(str(why).split())
        print("bad %s/%s %s" % (PREFIX, name, why[:1500]))


def utc(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S"))


def read_nodes(path):
    try:
        with open(path, newline="") as f:
            text = f.read()
    except OSError as e:
        return None, [], str(e)
    lines = text.split("\n")
    rows = list(csv.DictReader(lines))
    return lines[0], rows, ""


def num(r, k):
    try:
        return float(r.get(k) or "")
    except ValueError:
        return None


def check_row(n, r, since, now):
    e = n["expect"]
    bad = []

    def want(col, val):
        if r.get(col, "<missing>") != val:
            bad.append("%s=%r want %r" % (col, r.get(col), val))
    want("good", e["good"])
    want("port", str(e["port"]))
    want("network", "infnote")
    want("dialect", e["dialect"])
    want("url", e["url"])
    if r.get("last_error") not in e["last_error"]:
        bad.append("last_error=%r want %s" % (r.get("last_error"), " or ".join(map(repr, e["last_error"]))))
    bu = r.get("banned_until", "")
    if e["banned"] is True:
        if not TIME.match(bu or ""):
            bad.append("banned_until=%r want a time a day ahead" % bu)
        elif not since + 86400 - 3600 <= utc(bu) <= now + 86400 + 3600:
            bad.append("banned_until=%r is not about a day after the check" % bu)
    elif e["banned"] is False and bu:
        bad.append("banned_until=%r want empty (not garbage)" % bu)
    lc = r.get("last_check_time", "")
    if not TIME.match(lc):
        bad.append("last_check_time=%r" % lc)
    elif not since - 5 <= utc(lc) <= now + 5:
        bad.append("last_check_time=%r outside the test's run (UTC)" % lc)
    fs = r.get("first_seen", "")
    if not TIME.match(fs) or (TIME.match(lc) and utc(fs) > utc(lc)):
        bad.append("first_seen=%r" % fs)
    ls = r.get("last_success", "")
    if e["good"] == "yes" and not TIME.match(ls):
        bad.append("last_success=%r want a time" % ls)
    if e["good"] == "no" and ls:
        bad.append("last_success=%r want empty" % ls)
    checks, succ = num(r, "checks"), num(r, "successes")
    if checks is None or checks < 1:
        bad.append("checks=%r want >= 1" % r.get("checks"))
    if succ is None or (e["good"] == "yes" and not 1 <= succ <= (checks or 0)) or (e["good"] == "no" and succ != 0):
        bad.append("successes=%r" % r.get("successes"))
    for col in HEADER.split(",")[13:17] + ["reliability"]:
        v = num(r, col)
        if v is None or v < 0 or (col[0] in "rw" and v > 1.0001):
            bad.append("%s=%r not a number in range" % (col, r.get(col)))
    return bad


def crawl(a):
    with open(a.topo) as f:
        t = json.load(f)
    now = time.time()
    nodes = t["nodes"]
    by_key = {(n["host"], n["port"]): n for n in nodes}
    header, rows, err = read_nodes(a.dir + "/nodes.csv")
    say(header == HEADER, "nodes-csv/header", err or "got %r" % header)
    keyed = {}
    dups = []
    for r in rows:
        try:
            k = (r.get("ip"), int(r.get("port") or -1))
        except ValueError:
            k = (r.get("ip"), r.get("port"))
        if k in keyed:
            dups.append("%s:%s" % k)
        keyed[k] = r
    say(not dups, "nodes-csv/one-row-per-node", "duplicate rows: %s" % " ".join(dups))
    strangers = ["%s:%s" % k for k, r in keyed.items()
                 if k not in by_key and r.get("url") not in t["optional_urls"] and r.get("ip") not in t["never_kept"]]
    say(not strangers, "nodes-csv/no-strangers", "rows for no node of the network: %s" % " ".join(strangers))
    never = ["%s:%s" % k for k in keyed if k[0] in t["never_kept"]]
    say(not never, "nodes-csv/never-kept",
        "unspecified/multicast/broadcast/port-0 peers got rows: %s" % " ".join(never))
    for n in nodes:
        e, k = n["expect"], (n["host"], n["port"])
        if e["row"] == "absent":
            say(k not in keyed, "nodes-csv/not-found/%s" % n["id"],
                "%s:%s is only reported by a node that answers no peers, yet has a row" % k)
            continue
        if k not in keyed:
            say(False, "nodes-csv/row/%s" % n["id"], "no row for %s:%s (%s %s)" % (k[0], k[1], n["kind"], e["url"]))
            continue
        bad = check_row(n, keyed[k], a.since, now)
        say(not bad, "nodes-csv/row/%s" % n["id"], "%s (%s %s:%s): %s" % (n["kind"], n["id"], k[0], k[1], "; ".join(bad)))

    want = sorted(n["host"] for n in nodes if n["expect"]["published"])

    def diff(got):
        gs, ws = set(got), set(want)
        out = []
        if gs - ws:
            out.append("published but should not be: %s" % " ".join(sorted(gs - ws)))
        if ws - gs:
            out.append("missing: %s" % " ".join(sorted(ws - gs)))
        if len(got) != len(gs):
            out.append("duplicates")
        return "; ".join(out)
    try:
        with open(a.dir + "/zone.csv") as f:
            zl = f.read().splitlines()
        zrows = [l.split(",", 1)[1] for l in zl[1:] if l.split(",", 1)[0] == a.apex
                 and re.match(r"^[0-9.]+$|^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$", l.split(",", 1)[1])]
        d = diff(zrows)
        say(not d, "zone-csv/published", d)
    except (OSError, IndexError) as e:
        say(False, "zone-csv/published", e)
    if a.dig:
        with open(a.dig) as f:
            got = [l.strip() for l in f if l.strip() and not l.startswith(";")]
        d = diff(got)
        say(not d, "dns/published", d + (" (dig said: %s)" % " ".join(got[:5]) if d else ""))

    if a.log:
        with open(a.log, errors="replace") as f:
            logl = [l for l in f if " crawl " in l and "node=" in l and "result=" in l]
        bad = []
        for n in nodes:
            e = n["expect"]
            if e["row"] != "required":
                continue
            addr = "%s:%d" % (n["host"], n["port"])
            mine = [l for l in logl if re.search(r"\bnode=%s(\s|$)" % re.escape(addr), l)]
            if not mine:
                bad.append("%s: no line" % addr)
                continue
            l = mine[-1]
            res = re.search(r"\bresult=(\S+)", l)
            res = res.group(1) if res else None
            if res != ("good" if e["good"] == "yes" else "bad"):
                bad.append("%s: result=%s" % (addr, res))
            elif e["good"] == "no":
                m = re.search(r"\breason=(\S+)", l)
                if not m or m.group(1) not in e["last_error"]:
                    bad.append("%s: reason=%s want %s" % (addr, m and m.group(1), e["last_error"][0]))
            else:
                m = re.search(r"\bdialect=(\S+)", l)
                if not m or m.group(1) != e["dialect"]:
                    bad.append("%s: dialect=%s want %s" % (addr, m and m.group(1), e["dialect"]))
            if not re.search(r"\bms=\d+", l):
                bad.append("%s: no ms=" % addr)
        say(not bad, "log/one-line-per-check", "; ".join(bad))

    if a.stats:
        with open(a.stats) as f:
            st = json.load(f)
        sim_checks(t, st)


def sim_checks(t, st):
    nodes = [n for n in t["nodes"] if n["expect"]["row"] == "required"]
    sn = st["nodes"]
    say(not st["problems"], "sim/client-follows-rfc6455", "; ".join(st["problems"][:10]))
    bad = []
    for n in nodes:
        if n["expect"]["good"] == "yes" and n["expect"]["dialect"] == "1.1":
            lg = sn[n["id"]]["log"]
            if not lg or lg[0][:2] != ["01:want_peers", "11:request:peers"]:
                bad.append("%s: first connection got %s" % (n["id"], lg[0] if lg else "nothing"))
            elif sn[n["id"]]["conns"] != 1:
                bad.append("%s: %d connections" % (n["id"], sn[n["id"]]["conns"]))
    say(not bad, "sim/11-asked-again-on-same-connection", "; ".join(bad))
    bad = []
    for n in nodes:
        c = sn[n["id"]]["conns"]
        if n["expect"]["good"] == "yes" and not (c == 1 or (n["kind"] == "infoonly" and c == 2)):
            bad.append("%s: %d connections" % (n["id"], c))
    say(not bad, "sim/one-check-per-node", "; ".join(bad))
    bad = ["%s: %s" % (n["id"], sn[n["id"]]["log"][:1]) for n in nodes
           if n["expect"]["good"] == "yes" and n["kind"] not in ("slow",)
           and not any("close" in c for c in sn[n["id"]]["log"])]
    say(not bad, "sim/closed-with-close-frame", "no close frame from: %s" % "; ".join(bad))
    frag = [n for n in nodes if n["kind"] == "fragmented"]
    bad = ["%s: %d pongs" % (n["id"], sn[n["id"]]["pongs"]) for n in frag if sn[n["id"]]["pongs"] < 2]
    if frag:
        say(not bad, "sim/pings-answered", "want a pong for each of the 2 pings sent inside the answer: %s" % "; ".join(bad))
    tls = [n for n in nodes if n["kind"] in ("tls", "tlsbad")]
    bad = ["%s: SNI %s want %s" % (n["id"], sn[n["id"]]["sni"], n.get("name")) for n in tls
           if not sn[n["id"]]["sni"] or any(s != n.get("name") for s in sn[n["id"]]["sni"])]
    if tls:
        say(not bad, "sim/tls-sni", "; ".join(bad))


def restart(a):
    with open(a.topo) as f:
        t = json.load(f)
    _, before, e1 = read_nodes(a.before)
    _, after, e2 = read_nodes(a.after)
    if e1 or e2:
        say(False, "nodes-csv", e1 or e2)
        return
    b = {(r["ip"], r["port"]): r for r in before}
    c = {(r["ip"], r["port"]): r for r in after}
    say(set(b) == set(c), "same-nodes",
        "before %s after %s" % (sorted(set(b) - set(c)), sorted(set(c) - set(b))))
    bad = []
    for k in sorted(set(b) & set(c)):
        x, y = b[k], c[k]
        if x.get("first_seen") != y.get("first_seen"):
            bad.append("%s:%s first_seen %s -> %s" % (k + (x.get("first_seen"), y.get("first_seen"))))
        for col in ("checks", "successes"):
            if (num(y, col) or 0) < (num(x, col) or 0):
                bad.append("%s:%s %s %s -> %s" % (k + (col, x.get(col), y.get(col))))
    say(not bad, "history-kept", "; ".join(bad))
    goods = [n for n in t["nodes"] if n["expect"]["good"] == "yes"]
    bad = []
    for n in goods:
        k = (n["host"], str(n["port"]))
        if k in b and k in c and not (num(c[k], "checks") or 0) > (num(b[k], "checks") or 0):
            bad.append("%s: checks %s -> %s" % (n["id"], b[k].get("checks"), c[k].get("checks")))
    say(not bad, "good-nodes-rechecked", "; ".join(bad))
    with open(a.stats) as f:
        st = json.load(f)
    bad = []
    for n in goods:
        if n["expect"]["dialect"] != "1.1":
            continue
        lg = st["nodes"][n["id"]]["log"]
        if len(lg) < 2:
            bad.append("%s: %d connections, no re-check" % (n["id"], len(lg)))
        elif not lg[1] or lg[1][0] != "11:request:peers":
            bad.append("%s: the re-check began with %s" % (n["id"], lg[1][:1]))
        k = (n["host"], str(n["port"]))
        if k in c and c[k].get("dialect") != "1.1":
            bad.append("%s: dialect=%r after restart" % (n["id"], c[k].get("dialect")))
    say(not bad, "dialect-remembered", "; ".join(bad))


def overlap(a):
    """Most connections open at once among nodes whose id starts with
    --ids, each counted from accept to close minus --shrink seconds (the
    simulator notices a close a moment after the crawler made it)."""
    with open(a.stats) as f:
        st = json.load(f)
    ev = []
    for nid, t0, t1 in st["spans"]:
        if nid.startswith(a.ids):
            t1 = 1e18 if t1 is None else max(t0, t1 - a.shrink)
            ev += [(t0, 1), (t1, -1)]
    cur = top = 0
    for _, d in sorted(ev, key=lambda e: (e[0], e[1])):
        cur += d
        top = max(top, cur)
    print(top)


def churn(a):
    """The churn topology (topo.py churn) over one run of seedd from --start
    to --end (unix seconds). --samples has one line per sample of the
    published set: "dig|zone T_BEFORE T_AFTER ADDR..." (the set was seen at
    some moment between the two times; "zone ... NOFILE" when zone.csv was
    not there yet, "dig ... ERR ..." when dig got no answer). The stats are
    the simulator's, written when that seedd had stopped. The bounds are
    explained in tests/integration/crawl_churn.sh."""
    with open(a.topo) as f:
        t = json.load(f)
    with open(a.stats) as f:
        st = json.load(f)
    iv, to = a.interval, a.timeout
    t0 = st["t0"]
    role = {}
    for n in t["nodes"]:
        role.setdefault(n["role"], []).append(n)
    always = role["always"]
    survivors = role["long"]
    dead = role["long-dead"]
    new = role["new"]
    down_at = t0 + dead[0]["down_at"]
    up_at = t0 + new[0]["up_at"]
    addr = lambda n: n["host"]
    ip_re = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
    samples = {"dig": [], "zone": []}
    failed = {"dig": 0, "zone": 0}
    with open(a.samples) as f:
        for line in f:
            w = line.split()
            if len(w) < 3 or w[0] not in samples:
                continue
            src, tb, ta, got = w[0], float(w[1]), float(w[2]), w[3:]
            if got == ["NOFILE"] or not all(ip_re.match(x) for x in got):
                failed[src] += 1
                continue
            samples[src].append((tb, ta, set(got)))
    rel = lambda x: "t0%+.1fs" % (x - t0)

    # Bounds, from tests/integration/crawl_churn.sh (slack: zone.csv is
    # written once a --snapshot-interval, 1 s, and read once a second).
    dead_bound = 3 * iv + to                 # 16 s
    new_bound = 4 * iv * 1.1 + to + 2        # 25 s
    for src, extra in (("dig", 0), ("zone", 2)):
        ss = samples[src]
        n_all = len(ss) + failed[src]
        say(n_all and failed[src] <= max(3, n_all // 10), "%s/samples" % src,
            "%d of %d samples without an answer (or zone.csv)" % (failed[src], n_all))
        if not ss:
            continue
        first_ok = a.start + 3 + extra  # the seed's peers: checked at once when its answer comes
        miss = ["%s missing at %s" % (n["id"], rel(tb)) for n in always for tb, ta, got in ss
                if tb >= first_ok and addr(n) not in got]
        say(not miss, "%s/always-up-never-leave" % src, "; ".join(miss[:8]))
        miss = ["%s missing at %s" % (n["id"], rel(tb)) for n in survivors for tb, ta, got in ss
                if addr(n) not in got]
        say(not miss, "%s/long-reliable-survivors-never-leave" % src, "; ".join(miss[:8]))
        miss = ["%s missing at %s" % (n["id"], rel(tb)) for n in dead for tb, ta, got in ss
                if ta < down_at and addr(n) not in got]
        say(not miss, "%s/long-reliable-published-until-they-die" % src, "; ".join(miss[:8]))
        lim = down_at + dead_bound + extra
        late = ["%s still published at %s" % (n["id"], rel(tb)) for n in dead for tb, ta, got in ss
                if tb >= lim and addr(n) in got]
        gone = {}
        for n in dead:
            seen = [tb for tb, ta, got in ss if addr(n) in got]
            gone[n["id"]] = "%.1fs" % (max(seen) - down_at) if seen else "never seen"
        after = [1 for tb, ta, got in ss if tb >= lim]
        say(not late and after, "%s/dead-leave-within-%ds" % (src, dead_bound + extra),
            "%s (last seen after down_at: %s)" % ("; ".join(late[:8]) or "no sample after the bound", gone))
        early = ["%s published at %s" % (n["id"], rel(tb)) for n in new for tb, ta, got in ss
                 if ta < up_at and addr(n) in got]
        say(not early, "%s/new-not-published-before-up" % src, "; ".join(early[:8]))
        lim = up_at + new_bound + extra
        miss = ["%s missing at %s" % (n["id"], rel(tb)) for n in new for tb, ta, got in ss
                if tb >= lim and addr(n) not in got]
        came = {}
        for n in new:
            first = [tb for tb, ta, got in ss if addr(n) in got]
            came[n["id"]] = "%.1fs" % (min(first) - up_at) if first else "never"
        after = [1 for tb, ta, got in ss if tb >= lim]
        say(not miss and after, "%s/new-appear-within-%ds-and-stay" % (src, new_bound + extra),
            "%s (first seen after up_at: %s)" % ("; ".join(miss[:8]) or "no sample after the bound", came))
        print("info %s/%s first seen after up_at: %s; dead last seen after down_at: %s" % (
            PREFIX, src, " ".join("%s=%s" % kv for kv in sorted(came.items())),
            " ".join("%s=%s" % kv for kv in sorted(gone.items()))))

    # seedd's debug log: one line per check, "node=IP:PORT result=good|bad".
    checks = {}
    with open(a.log, errors="replace") as f:
        for l in f:
            m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z debug crawl node=(\S+):(\d+) result=(\w+)", l)
            if m:
                ts = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
                checks.setdefault(m.group(2), []).append((ts, m.group(4) == "good"))
    bad = ["%s: %d good checks" % (n["id"], sum(g for _, g in checks.get(addr(n), [])))
           for n in new if sum(g for _, g in checks.get(addr(n), [])) < 15]
    say(not bad, "log/new-checked-15-times", "; ".join(bad))
    # A node that never answered is published at its first answer: every dig
    # sample from a second after it (the log's time has whole seconds) has it.
    bad = []
    for n in new:
        goods = [ts for ts, g in checks.get(addr(n), []) if g]
        if not goods:
            bad.append("%s: never answered" % n["id"])
            continue
        miss = [rel(tb) for tb, ta, got in samples["dig"] if tb >= goods[0] + 2 and addr(n) not in got]
        if miss:
            bad.append("%s: first answer at %s, missing at %s" % (n["id"], rel(goods[0]), " ".join(miss[:3])))
    say(not bad, "new-published-at-first-answer", "; ".join(bad))
    # Backoff: a node that never answered is not checked before its step. Its
    # 3 failures in nodes.csv make the next steps 2, 4, 8 ... intervals.
    bad = []
    for n in new:
        cs = checks.get(addr(n), [])
        fails = 3
        for (ta_, ga), (tb_, gb) in zip(cs, cs[1:]):
            if ga:
                break
            fails += 1
            step = iv * 2 ** (fails - 2)
            if tb_ - ta_ < 0.9 * step - 1:
                bad.append("%s: checked %ds after its failure number %d (step %ds)" % (n["id"], tb_ - ta_, fails, step))
    say(not bad, "log/new-backoff-kept", "; ".join(bad))
    # A published node that fails is re-checked early (interval/10, at least 1 s)
    # and unpublished when that fails too.
    bad = []
    for n in dead:
        cs = [c for c in checks.get(addr(n), []) if c[0] >= down_at - 1]
        fl = [ts for ts, g in cs if not g]
        if len(fl) < 2:
            bad.append("%s: %d failed checks after down_at" % (n["id"], len(fl)))
        elif fl[1] - fl[0] > 1.1 * max(1, iv // 10) + 1:
            bad.append("%s: re-checked %ds after its first failure" % (n["id"], fl[1] - fl[0]))
        else:
            miss = [rel(tb) for tb, ta, got in samples["dig"] if tb >= fl[1] + 2 and addr(n) in got]
            if miss:
                bad.append("%s: second failure at %s, still published at %s" % (n["id"], rel(fl[1]), " ".join(miss[:3])))
    say(not bad, "log/dead-rechecked-early-then-unpublished", "; ".join(bad))

    # nodes.csv written at SIGTERM.
    _, rows_, err = read_nodes(a.nodes)
    by_ip = {r.get("ip"): r for r in rows_}
    bad = []
    for n in dead:
        r = by_ip.get(addr(n))
        if r is None:
            bad.append("%s: no row" % n["id"])
            continue
        ld = r.get("last_down") or ""
        if (num(r, "fails") or 0) < 2 or r.get("good") != "no" or not TIME.match(ld) \
                or not down_at - 1 <= utc(ld) <= a.end + 1 or r.get("run_start"):
            bad.append("%s: good=%s fails=%s last_down=%r run_start=%r" % (
                n["id"], r.get("good"), r.get("fails"), ld, r.get("run_start")))
    say(not err and not bad, "nodes-csv/dead-down", err or "; ".join(bad))
    bad = []
    for n in survivors + always + new:
        r = by_ip.get(addr(n))
        if r is None:
            bad.append("%s: no row" % n["id"])
            continue
        why = []
        if r.get("fails") != "0" or r.get("good") != "yes" or r.get("last_down"):
            why.append("good=%s fails=%s last_down=%r" % (r.get("good"), r.get("fails"), r.get("last_down")))
        h = n.get("history")
        if n["role"] == "long":
            fs = r.get("first_seen") or ""
            if not TIME.match(fs) or abs(utc(fs) - (a.start - 30 * 86400)) > 5:
                why.append("first_seen=%r, not 30 days ago" % fs)
            if (num(r, "checks") or 0) <= h["checks"] or r.get("checks") != r.get("successes"):
                why.append("checks=%s successes=%s" % (r.get("checks"), r.get("successes")))
        if n["role"] == "new":
            rs = r.get("run_start") or ""
            if not TIME.match(rs) or utc(rs) < up_at - 1:
                why.append("run_start=%r before up_at" % rs)
            if (num(r, "successes") or 0) < 15 or (num(r, "checks") or 0) - (num(r, "successes") or 0) < h["checks"]:
                why.append("checks=%s successes=%s" % (r.get("checks"), r.get("successes")))
        if why:
            bad.append("%s: %s" % (n["id"], ", ".join(why)))
    say(not err and not bad, "nodes-csv/survivors-and-new-up", err or "; ".join(bad))

    # The simulator's side: connections accepted per node (a check is one
    # connection; dead listeners accept none).
    sn = st["nodes"]
    say(not st["problems"], "sim/client-follows-rfc6455", "; ".join(st["problems"][:10]))
    run = a.end - a.start
    bad = []
    for n in always + survivors:
        c, want = sn[n["id"]]["conns"], run / iv
        if not 0.8 * want <= c <= 1.25 * want:
            bad.append("%s: %d connections in %.0fs (want %.1f to %.1f)" % (n["id"], c, run, 0.8 * want, 1.25 * want))
    for n in new:
        c, want = sn[n["id"]]["conns"], (a.end - up_at) / iv
        if c > 1.25 * want + 1:
            bad.append("%s: %d connections in the %.0fs it was up" % (n["id"], c, a.end - up_at))
    say(not bad, "sim/checked-once-an-interval", "; ".join(bad))
    # No node is checked twice within 0.8 interval: the jitter is +-10%, the
    # early re-check follows a failure, which listening nodes do not give.
    opened = {}
    for nid, o, c in st["spans"]:
        opened.setdefault(nid, []).append(o)
    bad = []
    for nid, os_ in sorted(opened.items()):
        os_.sort()
        gaps = [y - x for x, y in zip(os_, os_[1:])]
        if gaps and min(gaps) < 0.8 * iv:
            bad.append("%s: two connections %.2fs apart" % (nid, min(gaps)))
    say(not bad, "sim/no-check-sooner-than-0.8-interval", "; ".join(bad))


def rows(a):
    _, rs, err = read_nodes(a.dir + "/nodes.csv")
    if err:
        sys.exit(err)
    for r in rs:
        print(r.get("ip"), r.get("port"), r.get("good"), r.get("last_error") or "-")


def main():
    global PREFIX
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("crawl")
    p.add_argument("topo")
    p.add_argument("dir")
    p.add_argument("--since", type=float, required=True)
    p.add_argument("--apex", default="seed.test")
    p.add_argument("--dig")
    p.add_argument("--log")
    p.add_argument("--stats")
    p.add_argument("--prefix", default="crawl")
    p = sub.add_parser("restart")
    p.add_argument("topo")
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--stats", required=True)
    p.add_argument("--prefix", default="crawl")
    p = sub.add_parser("overlap")
    p.add_argument("stats")
    p.add_argument("--ids", default="")
    p.add_argument("--shrink", type=float, default=0.005)
    p = sub.add_parser("rows")
    p.add_argument("dir")
    p = sub.add_parser("churn")
    p.add_argument("topo")
    for x in ("samples", "nodes", "log", "stats"):
        p.add_argument("--" + x, required=True)
    p.add_argument("--start", type=float, required=True)
    p.add_argument("--end", type=float, required=True)
    p.add_argument("--interval", type=float, default=5)
    p.add_argument("--timeout", type=float, default=1)
    p.add_argument("--prefix", default="crawl")
    a = ap.parse_args()
    PREFIX = getattr(a, "prefix", PREFIX)
    {"crawl": crawl, "restart": restart, "rows": rows, "overlap": overlap, "churn": churn}[a.cmd](a)


if __name__ == "__main__":
    main()
