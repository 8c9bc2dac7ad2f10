#!/usr/bin/python3
"""topo: topologies of the simulated network (simnet.py), with what a
correct crawler must conclude about each node (SPEC 5).

    topo.py kinds   --out FILE --certs DIR [--timeout S]
    topo.py restart --out FILE
    topo.py limits  --out FILE
    topo.py churn   --out FILE [--up-at S] [--down-at S]
    topo.py bench   --out FILE [--nodes N] [--dead F] [--blackholes F]
                    [--peers N] [--base 127.2] [--seed N]
    topo.py get FILE seeds|zone-rows|published|count KIND...
    topo.py get FILE nodes-csv [NOW]     the churn topology's nodes.csv at NOW
                                         (unix seconds, default the present)

Every node carries "expect": {"row": "required"|"absent", "good": "yes"|"no",
"port": N, "ip": addr, "url": canonical URL, "dialect": "0.1"|"1.1"|"",
"last_error": [accepted values], "banned": true|false|null (null: either),
"published": bool}. The file also has "seeds" (URLs for --seed),
"zone_rows" (NAME,IP rows for the net.test resolver), "optional_urls"
(names that do not resolve: a row is allowed, never published) and
"never_kept" (addresses that must never get a row).
"""
import argparse
import json
import random
import sys
import time

PORT = 32767
GOOD = {"good01", "good11", "infoonly", "silentinfo", "chatty", "otherport", "tls", "fragmented", "big"}
GARBAGE = {"badjson", "binary", "oversized", "badbits", "badaccept"}
ERROR = {"dead": "refused", "blackhole": "timeout", "slow": "timeout", "badjson": "protocol",
         "binary": "protocol", "oversized": "protocol", "badbits": "protocol",
         "badaccept": "handshake", "tlsbad": "tls"}


def node(id, kind, host, port=PORT, peers=(), **kw):
    d = {"id": id, "kind": kind, "host": host, "port": port, "peers": list(peers)}
    d.update(kw)
    return d


def dialect_of(n):
    return n.get("dialect") or ("1.1" if n["kind"] == "good11" else "0.1")


def canonical_url(n):
    scheme = "wss" if n["kind"] in ("tls", "tlsbad") else "ws"
    host = n.get("name") or n["host"]
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s:%d/" % (scheme, host, n["port"])


def add_expect(nodes, timeout, reachable):
    for n in nodes:
        k = n["kind"]
        good = k in GOOD or (k == "slow" and n.get("delay", 0) < timeout)
        e = {"row": "required" if n["id"] in reachable else "absent",
             "good": "yes" if good else "no", "port": n["port"], "ip": n["host"],
             "url": canonical_url(n), "dialect": dialect_of(n) if good else "",
             "last_error": [""] if good else [ERROR[k]],
             "banned": k in GARBAGE,
             "published": good and n["port"] == PORT and n["id"] in reachable}
        n["expect"] = e


def reachable_from(nodes, seed_ids):
    """Nodes a crawler can find: follow the peers of nodes that answer peers."""
    byid = {n["id"]: n for n in nodes}
    seen, todo = set(seed_ids), list(seed_ids)
    while todo:
        n = byid[todo.pop()]
        if n["kind"] not in GOOD - {"infoonly", "silentinfo"} and n["kind"] != "slow":
            continue
        for p in n["peers"]:
            if isinstance(p, str) and p in byid and p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


def finish(nodes, seeds, timeout, **extra):
    byid = {n["id"]: n for n in nodes}
    reach = reachable_from(nodes, seeds)
    add_expect(nodes, timeout, reach)
    br = lambda h: "[%s]" % h if ":" in h else h
    t = {"seeds": ["ws://%s:%d" % (br(byid[s]["host"]), byid[s]["port"]) for s in seeds],
         "timeout": timeout, "zone_rows": [], "optional_urls": [], "never_kept": [], "nodes": nodes}
    for n in nodes:
        if n.get("name"):
            t["zone_rows"].append("%s,%s" % (n["name"], n["host"]))
    t.update(extra)
    return t


# --- presets -------------------------------------------------------------------

def kinds(a):
    c = a.certs.rstrip("/")
    never01 = [{"address": "0.0.0.0", "port": PORT}, {"address": "224.0.0.1", "port": PORT},
               {"address": "255.255.255.255", "port": PORT}, {"address": "127.1.10.99", "port": 0}]
    never11 = ["ws://0.0.0.0:32767/", "ws://239.1.2.3:32767", "ws://127.1.10.98:0/"]
    nx = {"address": "nx.net.test", "port": PORT}
    N = [
        node("s", "good01", "127.1.10.1", peers=["g01a", "g11a", "info", "dead1", "bh1", "slowok",
             "slowbad", "chatty", "frag", "badjson", "binary", "over", "overfrag", "big",
             "badaccept", "badbits", "other", "n1", "silent"] + never01 + [nx]),
        node("g01a", "good01", "127.1.10.2", peers=["s", "dead2"]),
        node("g11a", "good11", "127.1.10.3", peers=["tls1", "tls4", "tlsbad", "tlsself", "g11b",
             "g01a", "chatty11", "s"] + never11),
        node("g11b", "good11", "127.1.10.4", peers=["n2", "g11a"]),
        node("info", "infoonly", "127.1.10.5", peers=["hidden"]),
        node("bh1", "blackhole", "127.1.10.6"),
        node("slowok", "slow", "127.1.10.7", delay=0.4, peers=["s"]),
        node("slowbad", "slow", "127.1.10.8", delay=a.timeout + 4, peers=["s"]),
        node("chatty", "chatty", "127.1.10.9", peers=["chattypeer"]),
        node("chatty11", "chatty", "127.1.10.10", dialect="1.1", peers=["s"]),
        node("frag", "fragmented", "127.1.10.11", peers=["fragpeer", "s", "g01a"]),
        node("badjson", "badjson", "127.1.10.12", peers=["s"]),
        node("binary", "binary", "127.1.10.13", peers=["s"]),
        node("over", "oversized", "127.1.10.14", peers=["s"]),
        node("overfrag", "oversized", "127.1.10.15", fragments=32, peers=["s"]),
        node("big", "big", "127.1.10.16", peers=["bigpeer"]),
        node("badaccept", "badaccept", "127.1.10.17", peers=["s"]),
        node("badbits", "badbits", "127.1.10.18", peers=["s"]),
        node("silent", "silentinfo", "127.1.10.19", peers=["s"]),
        node("dead1", "dead", "127.1.10.31"),
        node("dead2", "dead", "127.1.10.32"),
        node("dead3", "dead", "127.1.10.33"),
        node("other", "otherport", "127.1.10.40", port=32800, peers=["dead3", "o2"]),
        node("o2", "otherport", "127.1.10.41", port=32801, dialect="1.1", peers=["other"]),
        node("hidden", "good01", "127.1.10.50"),
        node("fragpeer", "good01", "127.1.10.51"),
        node("bigpeer", "good01", "127.1.10.52"),
        node("chattypeer", "good01", "127.1.10.53"),
        node("tlspeer", "good11", "127.1.10.54"),
        node("n1", "good01", "127.1.11.1", name="n1.net.test"),
        node("n2", "good11", "127.1.11.2", name="n2.net.test", peers=["g11b"]),
        node("tls1", "tls", "127.1.12.1", name="tls1.net.test", sni="tls1.net.test",
             cert=c + "/tls1.pem", key=c + "/tls1.key"),
        node("tls4", "tls", "127.1.12.4", name="tls4.net.test", sni="tls4.net.test", dialect="1.1",
             cert=c + "/tls4.pem", key=c + "/tls4.key", peers=["tlspeer", "g11a"]),
        node("tlsbad", "tlsbad", "127.1.12.2", name="tls2.net.test",
             cert=c + "/wrongname.pem", key=c + "/wrongname.key"),
        node("tlsself", "tlsbad", "127.1.12.3", name="tls3.net.test",
             cert=c + "/selfsigned.pem", key=c + "/selfsigned.key"),
    ]
    return finish(N, ["s"], a.timeout, optional_urls=["ws://nx.net.test:32767/"],
                  never_kept=["0.0.0.0", "224.0.0.1", "255.255.255.255", "127.1.10.99",
                              "239.1.2.3", "127.1.10.98"])


def restart(a):
    N = [node("s", "good01", "127.1.13.1", peers=["a", "b", "c", "d"]),
         node("a", "good11", "127.1.13.2", peers=["e", "s"]),
         node("b", "good01", "127.1.13.3", peers=["s", "a"]),
         node("c", "dead", "127.1.13.4"),
         node("d", "blackhole", "127.1.13.5"),
         node("e", "good11", "127.1.13.6", peers=["a"])]
    return finish(N, ["s"], a.timeout)


def outage(a):
    # 14 good nodes that all go away at once when the simulator stops: the
    # own-outage guard must see its own network down, not 14 dead nodes.
    ids = ["o%d" % i for i in range(14)]
    N = [node("oseed", "good01", "127.1.25.1", peers=ids)]
    N += [node(o, "good01", "127.1.25.%d" % (10 + i), peers=["oseed"]) for i, o in enumerate(ids)]
    return finish(N, ["oseed"], a.timeout)


def ipv6(a):
    # IPv6 nodes on ::1: a 0.1 seed, a 1.1 node, a node on another port, and a
    # dead port; the seed reports IPv4 and IPv6 peers alike.
    N = [node("v6seed", "good01", "::1", port=32767, peers=["v6b", "v6other", "v6dead", "v4a"]),
         node("v6b", "good11", "::1", port=32771, peers=["v6seed"]),
         node("v6other", "good01", "::1", port=32772, peers=[]),
         node("v6dead", "dead", "::1", port=32773),
         node("v4a", "good01", "127.1.26.1", peers=["v6seed"])]
    return finish(N, ["v6seed"], a.timeout)


def churn(a):
    # Availability that changes during the run (crawl_churn.sh, 127.1.27.0/24).
    # Every node has a "role": "always" (up all the time, learnt from the
    # seed), "long" (30 days of answers in nodes.csv; "long-dead" ones stop at
    # down_at), "new" (only failures in nodes.csv, never an answer; up from
    # up_at). "history" is what nodes.csv says of it, in seconds relative to
    # the moment the file is written (topo.py get FILE nodes-csv).
    day = 86400
    always = ["a1", "a2", "a3"]
    longs = ["L%d" % i for i in range(1, 7)]
    new = ["n%d" % i for i in range(1, 5)]
    N = [node("s", "good01", "127.1.27.1", peers=always + longs + new, role="always")]
    N += [node(x, "good11" if i == 1 else "good01", "127.1.27.%d" % (2 + i), peers=["s"], role="always")
          for i, x in enumerate(always)]
    for i, x in enumerate(longs):
        kw = {"down_at": a.down_at, "role": "long-dead"} if i < 3 else {"role": "long"}
        # Checked every 300 s for 30 days, every check answered; last checked
        # 1 to 3 s ago (staggered, so they are not all due at once).
        kw["history"] = {"first_seen": -30 * day, "last_check": -1 - i % 3, "last_success": -1 - i % 3,
                         "checks": 8640, "successes": 8640, "fails": 0, "run_start": -30 * day,
                         "reliability": 1}
        N.append(node(x, "good11" if i % 2 else "good01", "127.1.27.%d" % (11 + i), peers=["s"], **kw))
    for i, x in enumerate(new):
        # Seen 15 minutes ago, three checks, all refused, the last 5 s ago.
        N.append(node(x, "good01" if i % 2 else "good11", "127.1.27.%d" % (21 + i), peers=["s"],
                      up_at=a.up_at, role="new",
                      history={"first_seen": -900, "last_check": -5, "checks": 3, "successes": 0,
                               "fails": 3, "reliability": 0, "last_error": "refused"}))
    return finish(N, ["s"], a.timeout)


def nodes_csv(t, now):
    """nodes.csv with the "history" of the topology's nodes, at unix time now."""
    def ts(rel):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now + rel)) if rel is not None else ""
    out = ["ip,good,last_check_time,port,network,first_seen,last_success,checks,successes,"
           "reliability,last_error,dialect,url,fails,run_start,last_down"]
    for n in t["nodes"]:
        h = n.get("history")
        if h is None:
            continue
        good = "yes" if h["fails"] == 0 and h["successes"] else "no"
        out.append(",".join(str(v) for v in (
            n["host"], good, ts(h["last_check"]), n["port"], "infnote", ts(h["first_seen"]),
            ts(h.get("last_success")), h["checks"], h["successes"], h["reliability"],
            h.get("last_error", ""), dialect_of(n) if h["successes"] else "",
            canonical_url(n), h["fails"], ts(h.get("run_start")), ts(h.get("last_down")))))
    return "\n".join(out)


def limits(a):
    N = []
    # cap: 12 black holes beside 12 good nodes, for --concurrency 3.
    bh = ["capbh%d" % i for i in range(12)]
    gd = ["capgd%d" % i for i in range(12)]
    N.append(node("capseed", "good01", "127.1.14.1", peers=[x for p in zip(bh, gd) for x in p], group="cap"))
    N += [node(b, "blackhole", "127.1.14.%d" % (10 + i), group="cap") for i, b in enumerate(bh)]
    N += [node(g, "good01", "127.1.14.%d" % (30 + i), group="cap") for i, g in enumerate(gd)]
    # max: 30 good nodes for --max-nodes 10.
    mx = ["max%d" % i for i in range(30)]
    N.append(node("maxseed", "good01", "127.1.15.1", peers=mx, group="max"))
    N += [node(m, "good01", "127.1.15.%d" % (10 + i), group="max") for i, m in enumerate(mx)]
    # wide: one answer of 1100 peers (our raw framing: cheap to host).
    wd = ["wide%d" % i for i in range(1100)]
    N.append(node("wideseed", "good01", "127.1.16.1", peers=wd, group="wide"))
    N += [node(w, "good01", "127.1.%d.%d" % (20 + i // 250, 1 + i % 250), engine="raw", group="wide")
          for i, w in enumerate(wd)]
    # off: a seed that --concurrency 0 must never contact.
    N.append(node("offseed", "good01", "127.1.17.1", peers=["offpeer"], group="off"))
    N.append(node("offpeer", "good01", "127.1.17.2", group="off"))
    t = finish(N, ["capseed"], a.timeout)
    t["group_seeds"] = {g: "ws://%s:%d" % (n["host"], n["port"]) for g in ("cap", "max", "wide", "off")
                        for n in N if n["id"] == g + "seed"}
    return t


def bench(a):
    rnd = random.Random(a.seed)
    n = a.nodes
    base = [int(x) for x in a.base.split(".")]
    if len(base) != 2 or base[0] != 127:
        sys.exit("topo: --base must be 127.X")

    def addr(i):  # 254 hosts per /24, from 127.X.0.1 on
        return "127.%d.%d.%d" % (base[1] + i // (254 * 256), (i // 254) % 256, 1 + i % 254)
    ndead, nbh = round(n * a.dead), round(n * a.blackholes)
    kinds_ = ["dead"] * ndead + ["blackhole"] * nbh
    kinds_ += [rnd.choice(("good01", "good11")) for _ in range(n - 1 - len(kinds_))]
    rnd.shuffle(kinds_)
    kinds_ = ["good01"] + kinds_
    N = [node("n%d" % i, k, addr(i), engine="raw") for i, k in enumerate(kinds_)]
    good = [i for i, k in enumerate(kinds_) if k.startswith("good")]
    # A random tree rooted at the seed: every node is reported by a good node
    # met before it, so the whole network is reachable; then random peers
    # up to about --peers each.
    order = list(range(1, n))
    rnd.shuffle(order)
    placed_good = [0]
    peers = {i: set() for i in good}
    for i in order:
        peers[rnd.choice(placed_good)].add(i)
        if kinds_[i].startswith("good"):
            placed_good.append(i)
    for i in good:
        want = max(1, a.peers + rnd.randint(-5, 5))
        while len(peers[i]) < want:
            j = rnd.randrange(n)
            if j != i:
                peers[i].add(j)
        N[i]["peers"] = ["n%d" % j for j in sorted(peers[i], key=lambda _: rnd.random())]
    return finish(N, ["n0"], a.timeout)


# --- queries on a topology file --------------------------------------------------

def get(a):
    with open(a.file) as f:
        t = json.load(f)
    if a.what == "seeds":
        print("\n".join(t["seeds"]))
    elif a.what == "group-seed":
        print(t["group_seeds"][a.args[0]])
    elif a.what == "zone-rows":
        print("\n".join(t["zone_rows"]))
    elif a.what == "published":
        print("\n".join(sorted(n["host"] for n in t["nodes"] if n["expect"]["published"])))
    elif a.what == "count":
        print(sum(1 for n in t["nodes"] if not a.args or n["kind"] in a.args))
    elif a.what == "nodes-csv":
        print(nodes_csv(t, float(a.args[0]) if a.args else time.time()))
    elif a.what == "ids":
        print("\n".join(n["id"] for n in t["nodes"] if not a.args or n["kind"] in a.args))
    else:
        sys.exit("topo: unknown query %s" % a.what)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("kinds", "restart", "limits", "bench", "outage", "ipv6", "churn"):
        p = sub.add_parser(name)
        p.add_argument("--out", required=True)
        p.add_argument("--timeout", type=float, default=2, help="the --timeout seedd runs with")
        if name == "kinds":
            p.add_argument("--certs", required=True)
        if name == "churn":
            p.add_argument("--up-at", type=float, default=12, help="when the new nodes come up (s after t0)")
            p.add_argument("--down-at", type=float, default=20, help="when 3 long-reliable nodes die")
        if name == "bench":
            p.add_argument("--nodes", type=int, default=5000)
            p.add_argument("--dead", type=float, default=0.20)
            p.add_argument("--blackholes", type=float, default=0.05)
            p.add_argument("--peers", type=int, default=30)
            p.add_argument("--base", default="127.2")
            p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("get")
    p.add_argument("file")
    p.add_argument("what")
    p.add_argument("args", nargs="*")
    a = ap.parse_args()
    if a.cmd == "get":
        return get(a)
    t = globals()[a.cmd](a)
    with open(a.out, "w") as f:
        json.dump(t, f, indent=1)


if __name__ == "__main__":
    main()
