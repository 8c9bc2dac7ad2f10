#!/usr/bin/python3
"""check: what a crawl left behind, against a topology's expectations
(topo.py). Prints one line per assertion, "ok NAME" or "bad NAME WHY";
tests/sim/crawl.bash turns them into pass/fail lines.

    check.py crawl TOPO DIR --since EPOCH [--apex seed.test] [--port 32767]
                   [--dig FILE] [--log FILE] [--stats FILE] [--prefix P]
    check.py restart TOPO BEFORE.csv AFTER.csv --stats FILE [--prefix P]
    check.py rows DIR         "ip port good last_error" per nodes.csv row
    check.py overlap STATS [--ids PREFIX] [--shrink S]   most connections at once

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
          "reliability,last_error,dialect,banned_until,r2h,c2h,w2h,r8h,c8h,w8h,r1d,c1d,w1d,"
          "r1w,c1w,w1w,r30d,c30d,w30d,url,node_id,fails,run_start,last_down")
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
    for col in HEADER.split(",")[13:28] + ["reliability"]:
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
    a = ap.parse_args()
    PREFIX = getattr(a, "prefix", PREFIX)
    {"crawl": crawl, "restart": restart, "rows": rows, "overlap": overlap}[a.cmd](a)


if __name__ == "__main__":
    main()
