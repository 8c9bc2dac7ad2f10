#!/usr/bin/python3
"""scale_gen: the data of bench/scale.sh, in the exact formats seedd writes.

    scale_gen.py nodes --dir DIR --zone NAME [--nodes N] [--interval S]
                       [--bad F] [--dying F] [--window S] [--topo FILE]
                       [--no-nodes-csv] [--seed N] [--now T]
        DIR/zone.csv (SOA, one node row per good node, two static rows) and
        DIR/nodes.csv (N rows: src/nodes/nodes_csv.c's 33 columns), node i
        at addr(i) in 127.60.0.0/16 then 127.61.0.0/16 (hosts .1-.254; never
        127.60.255.0/24, the bench's servers, nor 127.61.160.0 and above, the
        KRPC driver's sources), port 32767, network infnote.

        History as a long-running seedd with --interval S leaves it: every
        node was last checked within the last S seconds (uniformly), so
        about N/S checks fall due each second from the start (seedd's
        crawl_core_loaded: due when S has passed since the last check).
        A fraction --bad of the nodes is failing (good=no, refused or
        timeout, 2-5 failures in a row, last answer 2.1-2.7 days before the
        last check: not "up lately", so their backoff is capped at S and
        they are due once per S as well, and not silent long enough to be
        forgotten at their next check). The others are good: answering for
        days to weeks, availability 95-100%, published (zone.csv rows).

        --topo FILE: a tests/sim/simnet.py topology of the nodes that fall
        due within --window seconds of --now (+10% for seedd's jitter, +60 s):
        the good ones listen (dialect as in nodes.csv, each reporting 8 known
        peers), except a fraction --dying that stays silent (their checks
        fail: refused); bad nodes never listen. Prints the counts as JSON.

    scale_gen.py infohashes --out FILE [--rows N] [--seed N] [--now T]
        infohashes.csv (src/dht/infohash_csv.c): N distinct infohashes
        ih(0)..ih(N-1), seen over the last 30 days, get_peers counts skewed
        (most small, a few large), 30% announced (1-20 times) with a last
        announcer in 127.61.0.0/16 (data only), 20% sampled.

    ih(i) = SHA-1("seedd-scale-ih-%d" % i): scale_krpc.py asks about the
    same hashes.
"""
import argparse
import hashlib
import json
import math
import os
import random
import sys
import time

PORT = 32767
HOSTS = 254          # .1 - .254 in each /24
NETS_60 = 255        # 127.60.0-254 (127.60.255/24: the bench's servers)
NETS_61 = 160        # 127.61.0-159 (127.61.160/24 and up: the KRPC driver)
MAX_NODES = (NETS_60 + NETS_61) * HOSTS
TAU = (24 * 3600, 7 * 24 * 3600)
DAY = 86400


def addr(i):
    net, host = divmod(i, HOSTS)
    if net < NETS_60:
        return "127.60.%d.%d" % (net, host + 1)
    net -= NETS_60
    if net >= NETS_61:
        raise ValueError("node %d: out of the bench's node range" % i)
    return "127.61.%d.%d" % (net, host + 1)


def ih(i):
    return hashlib.sha1(b"seedd-scale-ih-%d" % i).hexdigest()


def ts(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) if t > 0 else ""


def g6(x):
    return "%.6g" % x


def windows(rnd, age, avail, last_ok, since_bad):
    """The two decaying windows (r, w) of a node observed for age seconds,
    answering a share avail of the time; a failing node's windows have seen
    since_bad seconds of silence at the end."""
    out = []
    for tau in TAU:
        w = 1.0 - math.exp(-age / tau)
        if last_ok:
            r = w * avail
        else:
            # Answered until since_bad ago, silent since.
            f = math.exp(-since_bad / tau)
            r = max(0.0, (w - (1.0 - f)) * avail)
        out.append((min(r, w), w))
    return out


def nodes(a):
    rnd = random.Random(a.seed)
    now = int(a.now or time.time())
    n = a.nodes
    if n > MAX_NODES:
        sys.exit("scale_gen: at most %d nodes" % MAX_NODES)
    iv = a.interval
    os.makedirs(a.dir, exist_ok=True)
    rows, zone_ips, due_soon = [], [], []
    horizon = (a.window * 1.1) + 60 if a.topo else -1
    hdr = ("ip,good,last_check_time,port,network,first_seen,last_success,checks,successes,"
           "reliability,last_error,dialect,banned_until,r1d,w1d,r1w,w1w,url,node_id,fails,run_start,"
           "last_down\n")
    for i in range(n):
        ip = addr(i)
        bad = rnd.random() < a.bad
        age_check = rnd.uniform(1, iv - 1)          # seconds since the last check
        lc = now - int(age_check)
        first = lc - int(rnd.uniform(3 * DAY, 90 * DAY))
        dialect = "0.1" if rnd.random() < 0.5 else "1.1"
        age = lc - first
        checks = max(3, int(age / 300 * rnd.uniform(0.8, 1.0)))
        if not bad:
            # Most good nodes answered every check lately: r = w in every window.
            avail = 1.0 if rnd.random() < 0.7 else rnd.uniform(0.95, 1.0)
            succ = max(1, min(checks, int(round(checks * avail))))
            wins = windows(rnd, age, avail, True, 0)
            run_start = lc - int(rnd.uniform(0.2, 1.0) * min(age, 20 * DAY))
            last_down = run_start - int(rnd.uniform(600, 7200)) if rnd.random() < 0.6 else 0
            row = [ip, "yes", ts(lc), str(PORT), "infnote", ts(first), ts(lc), str(checks), str(succ),
                   "%.3f" % wins[0][0], "", dialect, ""]
            tail = ["ws://%s:%d/" % (ip, PORT), "", "0", ts(run_start), ts(last_down)]
            zone_ips.append(i)
        else:
            avail = rnd.uniform(0.3, 0.9)
            since = int(rnd.uniform(2.1 * DAY, 2.7 * DAY))
            last_ok = lc - since
            fails = rnd.randint(2, 5)
            succ = max(1, min(checks - fails, int(checks * avail)))
            wins = windows(rnd, age, avail, False, since)
            err = "refused" if rnd.random() < 0.7 else "timeout"
            row = [ip, "no", ts(lc), str(PORT), "infnote", ts(first), ts(last_ok), str(checks), str(succ),
                   "%.3f" % wins[0][0], err, dialect, ""]
            tail = ["ws://%s:%d/" % (ip, PORT), "", str(fails), "", ts(last_ok + rnd.randint(300, 3600))]
        for r, w in wins:
            row += [g6(r), g6(w)]
        row += tail
        rows.append(",".join(row) + "\n")
        wait = iv - age_check                     # seconds until it is due
        if wait <= horizon:
            due_soon.append((i, bad, dialect))
    if not a.no_nodes_csv:
        with open(os.path.join(a.dir, "nodes.csv"), "w") as f:
            f.write(hdr)
            f.writelines(rows)
    zone = a.zone.lower().rstrip(".")
    serial = int(time.strftime("%Y%m%d", time.gmtime(now))) * 100 + 1
    with open(os.path.join(a.dir, "zone.csv"), "w") as f:
        f.write("ns.%s,hostmaster.%s %d 28800 7200 604800 86400\n" % (zone, zone, serial))
        f.writelines("%s,%s\n" % (zone, addr(i)) for i in zone_ips)   # addr(i) grows with i: sorted
        f.write("ns.%s,127.60.255.3\n" % zone)
        f.write("www.%s,%s\n" % (zone, zone))
    out = {"nodes": n, "good": len(zone_ips), "bad": n - len(zone_ips), "now": now}
    if a.topo:
        topo, listen, dying, bad_due = [], 0, 0, 0
        for i, bad, dialect in due_soon:
            if bad:
                bad_due += 1
                continue
            if rnd.random() < a.dying:
                dying += 1
                continue
            peers = []
            for _ in range(8):
                j = rnd.randrange(n)
                peers.append({"address": addr(j), "port": PORT} if dialect == "0.1"
                             else "ws://%s:%d/" % (addr(j), PORT))
            topo.append({"id": "n%d" % i, "kind": "good01" if dialect == "0.1" else "good11",
                         "host": addr(i), "port": PORT, "dialect": dialect, "engine": "raw", "peers": peers})
        with open(a.topo, "w") as f:
            json.dump({"nodes": topo}, f)
        out.update(due_within=len(due_soon), horizon_s=int(horizon), listening=len(topo),
                   dying=dying, bad_due=bad_due)
    print(json.dumps(out))


def infohashes(a):
    rnd = random.Random(a.seed)
    now = int(a.now or time.time())
    with open(a.out, "w") as f:
        f.write("infohash,first_seen,last_seen,get_peers,announces,samples,last_announcer\n")
        buf = []
        for i in range(a.rows):
            first = now - int(rnd.uniform(3600, 30 * DAY))
            last = first + int(rnd.random() ** 2 * (now - first))
            gp = int(rnd.paretovariate(1.2))                 # 1, 1, 2, ... a few in the thousands
            ann = rnd.randint(1, 20) if rnd.random() < 0.3 else 0
            samples = rnd.randint(1, 6) if rnd.random() < 0.2 else 0
            who = "127.61.%d.%d:%d" % (rnd.randrange(256), rnd.randint(1, 254),
                                       rnd.randint(1024, 65535)) if ann else ""
            buf.append("%s,%s,%s,%d,%d,%d,%s\n" % (ih(i), ts(first), ts(last), gp, ann, samples, who))
            if len(buf) >= 10000:
                f.writelines(buf)
                buf = []
        f.writelines(buf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("nodes")
    p.add_argument("--dir", required=True)
    p.add_argument("--zone", required=True)
    p.add_argument("--nodes", type=int, default=100000)
    p.add_argument("--interval", type=int, default=360000)
    p.add_argument("--bad", type=float, default=0.0)
    p.add_argument("--dying", type=float, default=0.0)
    p.add_argument("--window", type=float, default=0)
    p.add_argument("--topo")
    p.add_argument("--no-nodes-csv", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--now", type=int)
    p = sub.add_parser("infohashes")
    p.add_argument("--out", required=True)
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--now", type=int)
    a = ap.parse_args()
    globals()[a.cmd](a)


if __name__ == "__main__":
    main()
