#!/usr/bin/python3
"""Driver and checker for tests/integration/nodes_log_crash.sh (standard library only).

Addresses, all in 127.63.0.0/16 (this test's alone), port 32767:
  127.63.0-199.1-254  the nodes of the generated nodes.csv
  127.63.200-209.x    the pool: addresses the answering nodes report as peers
                      (learnt by seedd: rows that only the log has at first)
  127.63.215.x        rows of another network (kept as they are, never logged)
  127.63.216.x        the foreign row of a torn batch (must never be replayed)
  127.63.255.x        seedd itself (DNS), the resolver address (nothing there)

Node categories (gen): good (rows good, listen: simnet), dying (rows good,
listen until a moment spread over the run, then refused: good -> bad),
recover (rows bad, listen: bad -> good), dead (rows bad, refused), forget
(rows bad, last answer 8-20 days ago, due at spread times during the run:
forgotten at their check, a gone row), idle (rows bad with a 4 h backoff:
never due during the test, never change), pool.
The active ones (all but idle) have rows of about 820 bytes (a host name of
253 characters and a path of 255 in their URL), so that the log passes half
of nodes.csv within a few rounds.

STATE (a pickle): per node its category and its checks count as the last
replay found it (None: no row), the count the next load must show, the
raw rows of the other network, the torn batch last appended.

  gen DIR STATE TOPO [--nodes N] [--interval S] [--seed N] [--down-span S]
      DIR/nodes.csv (seedd's 33 columns), DIR/zone.csv, the simnet topology.
  drive --pid PID --log FILE --dir DIR --seconds T --out JSON
        [--hunt [--hunt-tmp S | --hunt-commit]] [--extend E]
        [--extend-frac F] [--term] [--seed N]
      Tails seedd's debug log (FILE), stamping each line with the moment it
      was read (never earlier than seedd wrote it). T seconds after seedd's
      crawler has loaded (its "crawl msg=started" line) sends SIGKILL (or
      SIGTERM with --term, then waits for the exit). --hunt: when
      nodes.csv.log.next appears (a compaction began), the kill comes when
      nodes.csv.tmp holds S of nodes.csv's size (--hunt-tmp; 0.9: written,
      being synced), or (--hunt-commit) when nodes.csv is the new file (its
      inode changed) while nodes.csv.log.next is still there; at the latest
      when that is gone. When T is over and the log is past F of the
      compaction threshold, waits up to E more seconds for one (E + 2 once
      past the threshold itself). The JSON holds every check seen (node,
      kind, age at the kill) and what was on disk at the kill; stdout, a summary as
      shell assignments (J_...).
  tear DIR MODE STATE         append a batch cut short to the log naming
                              nodes.csv (0: a row cut, 1: a wrong CRC, 2: a
                              trailer cut)
  check DIR STATE JSON [--clean] [--keep-state]
      a (nodes.csv complete, no row lost), then the replay of nodes.csv and
      its log (changelog.h's rules) and c (no change older than the cutoff
      lost, none invented); with --clean (after SIGTERM): d (the log is a
      bare header naming nodes.csv, no .log.next, no *.tmp) and every check
      of the run counted. Updates STATE (the replay is what the next start
      must load) unless --keep-state.
  loaded LOG DIR STATE        b: seedd's load (count, no error line, torn
                              batch dropped and cut off)
  after LOG DIR STATE JSON [--tear MODE] [--clean] [--keep-state]
                              loaded, tear, then check, in one process
Each check prints "ok NAME: DETAILS" or "bad NAME: DETAILS"; "info ..." lines
are for the summary; "end" once all ran.
"""
import json, math, os, pickle, random, re, shlex, signal, sys, time, zlib

NET = "127.63"
PORT = 32767
HEADER = (b"ip,good,last_check_time,port,network,first_seen,last_success,checks,successes,"
          b"reliability,last_error,dialect,banned_until,r1d,w1d,r1w,w1w,url,node_id,fails,run_start,"
          b"last_down\n")
NCOL = 22
CUTOFF_S = 2.0          # --snapshot-interval 1 s, and 1 s of slack
TORN_MARK = b",4000000000,"
OTHER_NET = "nlother"
TAU = (24 * 3600, 7 * 24 * 3600)
DAY = 86400
HOUR = 3600
CAP_S = 4 * 3600        # health.h HEALTH_CAP_S: a long-failing node's backoff

_TS = rb"(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)?"
_F = rb"[0-9][0-9.eE+-]*"
ROW = re.compile(rb"(\d+\.\d+\.\d+\.\d+),(?:yes|no)," + _TS + rb",(\d+),([a-z0-9]+)," + _TS + rb"," + _TS +
                 rb",(\d+),\d+," + _F + rb",[a-z_]*,(?:|0\.1|1\.1)," + _TS + (rb"," + _F) * 4 +
                 rb",[^,\n]*,[0-9a-f]*,\d+," + _TS + rb"," + _TS)
TRAILER = re.compile(rb"#batch (0|[1-9][0-9]*) ([0-9a-fA-F]{8})\n")
GONE = re.compile(rb"(\d+\.\d+\.\d+\.\d+),gone,,(\d+),([a-z0-9]+)")


def node_ip(i):
    net, host = divmod(i, 254)
    if net >= 200:
        raise ValueError("node %d: past 127.63.199.254" % i)
    return "%s.%d.%d" % (NET, net, host + 1)


def pool_ip(j):
    net, host = divmod(j, 254)
    if net >= 10:
        raise ValueError("pool address %d: past 127.63.209.254" % j)
    return "%s.%d.%d" % (NET, 200 + net, host + 1)


def ts(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) if t > 0 else ""


def load_state(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def save_state(path, st):
    with open(path + ".new", "wb") as f:
        pickle.dump(st, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".new", path)


# --- gen ---------------------------------------------------------------------

def windows(age, avail, since_bad):
    """The two windows (r, w) of a node seen for age seconds, up a share
    avail of the time; a failing one silent for since_bad seconds at the end
    (bench/scale_gen.py's model)."""
    out = []
    for tau in TAU:
        w = 1.0 - math.exp(-age / tau)
        if since_bad <= 0:
            r = w * avail
        else:
            r = max(0.0, (w - (1.0 - math.exp(-since_bad / tau))) * avail)
        out.append((min(r, w), w))
    return out


def long_url(i, ip):
    """ws://NAME:32767/PATH with a 253-character host name and a 255-character path:
    the longest row seedd writes for a node (the check connects to ip, the name
    only goes in Host)."""
    name = ".".join([("n%d" % i).ljust(63, "x"), "a" * 63, "b" * 63, "c" * 56, "test"])
    path = ("/p%d-%s-" % (i, ip.replace(".", "-"))).ljust(255, "q")
    assert len(name) == 253 and len(path) == 255
    return "ws://%s:%d%s" % (name, PORT, path)


def gen(a):
    rnd = random.Random(a.seed)
    now = int(time.time())
    iv = a.interval
    n = a.nodes
    counts = dict(good=n // 10, dying=n * 3 // 200, recover=n * 3 // 200, dead=n // 50, forget=n * 3 // 100)
    cats = [c for c, k in counts.items() for _ in range(k)]
    cats += ["idle"] * (n - len(cats))
    rnd.shuffle(cats)
    rows, zone, topo, nodes = [], [], [], {}
    npool = max(50, n * 3 // 100)
    pool = [pool_ip(j) for j in range(npool)]

    def peers_for(dialect):
        p = pool[rnd.randrange(npool)]
        return [{"address": p, "port": PORT} if dialect == "0.1" else "ws://%s:%d/" % (p, PORT)]

    for i, cat in enumerate(cats):
        ip = node_ip(i)
        dialect = "0.1" if rnd.random() < 0.5 else "1.1"
        url = long_url(i, ip) if cat != "idle" else "ws://%s:%d/" % (ip, PORT)
        if cat in ("good", "dying"):
            lc = now - rnd.uniform(0.3, iv - 0.3)      # due within one interval
            first = lc - rnd.uniform(3 * DAY, 90 * DAY)
            age = lc - first
            checks = max(3, int(age / 300 * rnd.uniform(0.8, 1.0)))
            avail = 1.0 if rnd.random() < 0.7 else rnd.uniform(0.95, 1.0)
            succ = max(1, min(checks, int(round(checks * avail))))
            w = windows(age, avail, 0)
            run_start = lc - rnd.uniform(0.2, 1.0) * min(age, 20 * DAY)
            last_down = run_start - rnd.uniform(600, 7200) if rnd.random() < 0.6 else 0
            f = [ip, "yes", ts(lc), str(PORT), "infnote", ts(first), ts(lc), str(checks), str(succ),
                 "%.3f" % w[0][0], "", dialect, ""]
            tail = [url, "", "0", ts(run_start), ts(last_down)]
            zone.append(ip)
        else:
            if cat in ("recover", "dead"):
                fails = 2 if cat == "recover" or rnd.random() < 0.6 else 3
                delay = iv if fails == 2 else 2 * iv        # health_delay: I, I, 2I, 4I (answered lately)
                lc = now - rnd.uniform(0.3, delay - 0.3)
                since = rnd.uniform(3 * HOUR, 20 * HOUR)
            elif cat == "forget":
                fails = 20
                lc = now - CAP_S + rnd.uniform(-iv, 75)     # due 0-75 s from now
                since = rnd.uniform(8 * DAY, 20 * DAY) - (now - lc)
            else:  # idle
                fails = 20
                lc = now - rnd.uniform(60, 3 * HOUR)        # due in 1-4 h
                since = rnd.uniform(3 * DAY, 6 * DAY)
            first = lc - since - rnd.uniform(3 * DAY, 60 * DAY)
            age = lc - first
            checks = max(fails + 1, int(age / 300 * rnd.uniform(0.5, 1.0)))
            avail = rnd.uniform(0.3, 0.9)
            succ = max(1, min(checks - fails, int(checks * avail)))
            w = windows(age, avail, since)
            last_ok = lc - since
            f = [ip, "no", ts(lc), str(PORT), "infnote", ts(first), ts(last_ok), str(checks), str(succ),
                 "%.3f" % w[0][0], "refused" if rnd.random() < 0.7 else "timeout", dialect, ""]
            tail = [url, "", str(fails), "", ts(last_ok + rnd.uniform(300, 3600))]
        for r, ww in w:
            f += ["%.6g" % r, "%.6g" % ww]
        f += tail
        assert len(f) == NCOL
        rows.append(",".join(f) + "\n")
        nodes[ip] = {"cat": cat, "cur": checks, "inbase": True}
        if cat in ("good", "recover"):
            topo.append({"id": "n%d" % i, "kind": "good01" if dialect == "0.1" else "good11", "host": ip,
                         "port": PORT, "dialect": dialect, "engine": "raw", "peers": peers_for(dialect)})
        elif cat == "dying":
            # Stops listening at some moment of the run: its checks fail from then on. Spread
            # out, never more than a few at once: the own-outage guard stays out of it.
            topo.append({"id": "n%d" % i, "kind": "good01" if dialect == "0.1" else "good11", "host": ip,
                         "port": PORT, "dialect": dialect, "engine": "raw", "peers": peers_for(dialect),
                         "down_at": round(rnd.uniform(4, a.down_span), 2)})
        elif cat in ("dead", "forget"):
            topo.append({"id": "n%d" % i, "kind": "dead", "host": ip, "port": PORT})
    for j, ip in enumerate(pool):
        nodes[ip] = {"cat": "pool", "cur": None}
        if j % 2 == 0:
            topo.append({"id": "p%d" % j, "kind": "good01", "host": ip, "port": PORT, "dialect": "0.1",
                         "engine": "raw", "peers": []})
        else:
            topo.append({"id": "p%d" % j, "kind": "dead", "host": ip, "port": PORT})
    # Another network's rows: seedd keeps them as they are through every whole write.
    other = []
    for k in range(20):
        lc = now - rnd.randint(60, DAY)
        other.append(("%s.215.%d,yes,%s,%d,%s,%s,%s,%d,%d,1.000,,,,1,1,1,1,,,0,%s,\n"
                      % (NET, k + 1, ts(lc), 6881, OTHER_NET, ts(lc - 9 * DAY), ts(lc), 50 + k, 50 + k,
                         ts(lc - 5 * DAY))).encode())
    rows[len(rows) // 2:len(rows) // 2] = [r.decode() for r in other]
    with open(os.path.join(a.dir, "nodes.csv"), "w") as f:
        f.write(HEADER.decode())
        f.writelines(rows)
    with open(os.path.join(a.dir, "zone.csv"), "w") as f:
        f.write("ns.nl.test,hostmaster.nl.test 2026010101 28800 7200 604800 86400\n")
        f.writelines("nl.test,%s\n" % ip for ip in zone)
        f.write("ns.nl.test,%s.255.1\n" % NET)
    with open(a.topo, "w") as f:
        json.dump({"nodes": topo}, f)
    st = {"nodes": nodes, "other": other, "expect": n, "torn": None, "interval": iv}
    save_state(a.state, st)
    c = {k: cats.count(k) for k in ("good", "dying", "recover", "dead", "forget", "idle")}
    c.update(pool=npool, listening=sum(1 for t in topo if t["kind"] != "dead"), other=len(other),
             bytes=os.path.getsize(os.path.join(a.dir, "nodes.csv")))
    print(json.dumps(c))


# --- drive -------------------------------------------------------------------

CHECK_LINE = re.compile(rb" debug crawl node=(\S+) result=(good|bad)")


def proc_alive(pid):
    """Running: an exited process may wait a while as a zombie for its reaper."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            s = f.read()
    except OSError:
        return False
    return s[s.rfind(b")") + 2:s.rfind(b")") + 3] not in (b"Z", b"X")


def fsize(p):
    try:
        return os.stat(p).st_size
    except OSError:
        return -1


def fino(p):
    try:
        return os.stat(p).st_ino
    except OSError:
        return -1


def drive(a):
    rnd = random.Random(a.seed)
    d = a.dir
    p_csv = os.path.join(d, "nodes.csv")
    p_log = p_csv + ".log"
    p_next = p_log + ".next"
    p_tmp = p_csv + ".tmp"
    f = open(a.log, "rb")
    pend = b""
    checks = []          # [node, kind, read time]; kind g good, b bad, o ours, x bad during an outage
    outage = False
    outages = []         # read times of "our network seems down"
    loaded_t = None
    err = None
    comps = []           # per compaction (.log.next's life): [seen, gone or None, nodes.csv's inode then]
    kill_at = None
    hunted_at = None

    def pump(now):
        nonlocal pend, outage, loaded_t
        data = f.read()
        if not data:
            return
        data = pend + data
        cut = data.rfind(b"\n") + 1
        pend = data[cut:]
        for line in data[:cut].split(b"\n"):
            m = CHECK_LINE.search(line)
            if m:
                if m.group(2) == b"good":
                    k = "g"
                elif b"no room for the message" in line:
                    k = "o"       # crawl_core_done: our memory budget, not counted
                else:
                    k = "x" if outage else "b"
                checks.append((m.group(1).decode(), k, now))
            elif b" crawl msg=started " in line:
                loaded_t = now
            elif b"our network seems down" in line:
                outage = True
                outages.append(now)
            elif b"our network is back" in line:
                outage = False

    t0 = time.monotonic()
    end = None
    while True:
        now = time.monotonic()
        pump(now)
        if not proc_alive(a.pid):
            err = "seedd exited by itself (%s)" % ("before loading" if loaded_t is None else
                                                  "%.2f s after loading" % (now - loaded_t))
            break
        if loaded_t is None:
            if now - t0 > 30:
                err = "no 'crawl msg=started' line in 30 s"
                break
            time.sleep(0.005)
            continue
        if end is None:
            end = loaded_t + a.seconds
        thr = max(fsize(p_csv) // 2, 1 << 20)
        logb = fsize(p_log)
        nx = os.path.exists(p_next)
        if nx and (not comps or comps[-1][1] is not None):
            comps.append([now, None, fino(p_csv)])
            if a.hunt and kill_at is None:
                # Hunting, with no sleep: nodes.csv.tmp being written reaches a share of
                # nodes.csv (--hunt-tmp; 0.9: written, being synced), or nodes.csv is the new
                # file while nodes.csv.log.next is still there (--hunt-commit: the commit's
                # directory fsync, then the switch); either way no later than the switch.
                hunted_at = now
                want = math.inf if a.hunt_commit else a.hunt_tmp * fsize(p_csv)
                lim = now + 3.0
                while (time.monotonic() < lim and fino(p_csv) == comps[-1][2] and os.path.exists(p_next) and
                       fsize(p_tmp) < want):
                    pass
                kill_at = time.monotonic()
                break
        elif not nx and comps and comps[-1][1] is None:
            comps[-1][1] = now
        if kill_at is not None and now >= kill_at:
            break
        if now >= end and kill_at is None:
            # Hunting: the log past the threshold means a compaction at the next snapshot; near it, soon.
            if not (a.hunt and ((logb > thr and now < end + a.extend + 2) or
                                (logb >= a.extend_frac * thr and now < end + a.extend))):
                break
        # Hot while a compaction is due at the next snapshot (the log is past the threshold).
        time.sleep(0.0002 if a.hunt and kill_at is None and logb > thr * 0.98 else 0.002)

    t_kill = time.monotonic()
    at = {"log_next": os.path.exists(p_next), "tmp": fsize(p_tmp), "log_bytes": fsize(p_log),
          "next_bytes": fsize(p_next), "ino": fino(p_csv), "csv_bytes": fsize(p_csv)}
    try:
        os.kill(a.pid, signal.SIGTERM if a.term else signal.SIGKILL)
    except OSError:
        pass
    limit = time.monotonic() + (30 if a.term else 10)
    while proc_alive(a.pid) and time.monotonic() < limit:
        time.sleep(0.01)
    if proc_alive(a.pid):
        err = (err or "") + " still running %s after the signal" % ("30 s" if a.term else "10 s")
    pump(time.monotonic())   # lines written before it died: read now, so age about 0
    if pend:  # a line cut short: seedd writes a line in one write(2)
        err = (err or "") + " log ends with a partial line %r" % pend[:80]
    ref = t_kill
    base = loaded_t if loaded_t is not None else t0
    n = len(checks)
    ran = max(t_kill - base, 0.001)
    out = {
        "error": err, "loaded": loaded_t is not None, "kill_s": round(t_kill - base, 3), "term": a.term,
        "checks": [[node, k, round(ref - t, 4)] for node, k, t in checks],
        "n_checks": n, "rate": round(n / ran), "outages": [round(ref - t, 3) for t in outages],
        "compactions": [[round(s - base, 3), None if g is None else round(g - base, 3)] for s, g, _ in comps],
        "hunted_at_s": None if hunted_at is None else round(hunted_at - base, 3),
        "at_kill": at,
    }
    # Where the kill cut the last compaction: nodes.csv.log.next names the new file
    # from before nodes.csv.tmp is written until the switch after its commit.
    where = "none"
    if comps and comps[-1][1] is None:
        if not at["log_next"]:
            where = "none (just after the switch)"
        elif at["ino"] == comps[-1][2]:
            where = "writing nodes.csv.tmp"
        else:
            where = "committed, before the switch"
    out["cut"] = where
    with open(a.out, "w") as fo:
        json.dump(out, fo)
    done = [g - s for s, g, _ in comps if g is not None]
    for k, v in (("error", err or ""), ("kill_s", out["kill_s"]), ("n", n), ("rate", out["rate"]),
                 ("ncomp", len(comps)), ("window", round(max(done), 3) if done else ""), ("cut", where),
                 ("comp_at", " ".join("%.2f" % c[0] for c in out["compactions"])),
                 ("hunted_at", "" if hunted_at is None else out["hunted_at_s"]), ("outages", len(outages)),
                 ("log_bytes", at["log_bytes"]), ("next_bytes", at["next_bytes"]), ("tmp", at["tmp"]),
                 ("ino", at["ino"])):
        print("J_%s=%s" % (k, shlex.quote(str(v))))


# --- the replay (changelog.h), independent of seedd ----------------------------

def log_batches(data, dev, ino):
    """(rows bytes, batches, torn) of a log naming (dev, ino), or None when it names another."""
    want = b"#seedd-log base=%d:%d\n" % (dev, ino)
    if not data.startswith(want):
        return None
    off, n, rows, torn = len(want), 0, [], False
    ln = len(data)
    while off < ln:
        # The trailer is the first line starting with '#' at or after off.
        scan, tl = off, None
        while scan < ln:
            if data[scan] == 0x23:
                # As changelog_append writes it: "#batch BYTES CRC\n", BYTES in decimal, CRC 8 hex digits.
                m = TRAILER.match(data, scan, scan + 40)
                if m:
                    tl = (int(m.group(1)), int(m.group(2), 16), m.end())
                break
            nl = data.find(b"\n", scan)
            if nl < 0:
                break
            scan = nl + 1
        if tl is None or tl[0] != scan - off or zlib.crc32(data[off:scan]) != tl[1] or b"\0" in data[off:scan]:
            torn = True
            break
        rows.append(data[off:scan])
        n += 1
        off = tl[2]
    return b"".join(rows), n, torn


def zone_replay(d, apex=b"nl.test"):
    """The published node rows seedd must serve from DIR at its next start:
    zone.csv's, then what zone.csv.log (or .log.next, when that is the one
    naming zone.csv) adds (+) and withdraws (-) in its good batches."""
    p = os.path.join(d, "zone.csv")
    s = os.stat(p)
    with open(p, "rb") as f:
        data = f.read()
    on = set(l[len(apex) + 1:] for l in data.split(b"\n")[1:] if l.startswith(apex + b","))
    for suffix in (".log.next", ".log"):
        try:
            with open(p + suffix, "rb") as f:
                got = log_batches(f.read(), s.st_dev, s.st_ino)
        except OSError:
            continue
        if got is None:
            continue
        for r in got[0].split(b"\n"):
            if r.startswith(b"+" + apex + b","):
                on.add(r[len(apex) + 2:])
            elif r.startswith(b"-" + apex + b","):
                on.discard(r[len(apex) + 2:])
        break
    return len(on)


def replay(d):
    """The nodes seedd must load from DIR: {ip: checks}, the raw rows of other
    networks, and how (which log applied...). Problems in nodes.csv go to probs."""
    probs = []
    p = os.path.join(d, "nodes.csv")
    s = os.stat(p)
    with open(p, "rb") as f:
        data = f.read()
    state, other, seen = {}, [], set()
    if not data.endswith(b"\n"):
        probs.append("nodes.csv does not end with a newline (%d bytes; last line %r)" % (
            len(data), data[data.rfind(b"\n") + 1:][:100]))
        data = data[:data.rfind(b"\n") + 1]
    if not data.startswith(HEADER):
        probs.append("nodes.csv's header is %r" % data[:120])
    lines = data[len(HEADER):].split(b"\n")[:-1] if data.startswith(HEADER) else []
    for k, line in enumerate(lines, 2):
        m = ROW.fullmatch(line)
        if not m:
            probs.append("nodes.csv line %d is not a whole row: %r" % (k, line[:160]))
            continue
        ip, port, net, checks = m.group(1).decode(), int(m.group(2)), m.group(3).decode(), int(m.group(4))
        key = (ip, port, net)
        if key in seen:
            probs.append("nodes.csv line %d repeats %s:%d %s" % (k, ip, port, net))
            continue
        seen.add(key)
        if net != "infnote":
            other.append(line + b"\n")
        elif port != PORT:
            probs.append("nodes.csv line %d: port %d" % (k, port))
        else:
            state[ip] = checks
    base = dict(state)
    how = {"applied": None, "batches": 0, "torn": False, "stale": [], "rows": 0, "gone": 0,
           "bad_rows": 0, "csv_rows": len(lines), "csv_bytes": len(data), "ino": s.st_ino}
    text = b""
    # The log that names this nodes.csv applies: nodes.csv.log.next when a compaction
    # committed nodes.csv and died before its switch (then nodes.csv.log names the
    # previous one), else nodes.csv.log. Should both name it, .next alone counts.
    for name in ("nodes.csv.log.next", "nodes.csv.log"):
        try:
            with open(os.path.join(d, name), "rb") as f:
                ld = f.read()
        except FileNotFoundError:
            continue
        r = log_batches(ld, s.st_dev, s.st_ino)
        if r is None:
            how["stale"].append(name)
            continue
        if how["applied"]:
            how["both"] = True
            continue
        text = r[0]
        how["applied"] = name
        how["batches"] = r[1]
        how["torn"] = r[2]
    for line in text.split(b"\n")[:-1]:
        m = GONE.fullmatch(line)
        if m:
            ip, port, net = m.group(1).decode(), int(m.group(2)), m.group(3).decode()
            how["gone"] += 1
            if net == "infnote" and port == PORT:
                state.pop(ip, None)
            continue
        m = ROW.fullmatch(line)
        if not m or m.group(3) != b"infnote" or int(m.group(2)) != PORT:
            how["bad_rows"] += 1
            if len(probs) < 20:
                probs.append("log row not one of ours: %r" % line[:160])
            continue
        how["rows"] += 1
        state[m.group(1).decode()] = int(m.group(4))
    return state, base, other, how, probs


# --- checks ------------------------------------------------------------------

def say(ok, name, detail):
    print("%s %s: %s" % ("ok" if ok else "bad", name, detail))
    return ok


def check(a):
    st = load_state(a.state)
    with open(a.json) as f:
        dr = json.load(f)
    nodes = st["nodes"]
    clean = a.clean
    # What this run did to each node, from its log.
    per = {}
    unknown_checked = set()
    for node, k, age in dr["checks"]:
        ip, _, port = node.rpartition(":")
        if ip not in nodes or port != str(PORT):
            unknown_checked.add(node)
            continue
        per.setdefault(ip, []).append((k, age))
    outage_round = bool(dr["outages"])
    for ip, ev in per.items():
        if nodes[ip]["cat"] == "forget" and any(k == "b" for k, _ in ev):
            nodes[ip]["maygone"] = True

    state, base, other, how, probs = replay(a.dir)
    fails = 0

    # a: nodes.csv is a complete file and no row of it was lost (but for gone rows).
    want_other = sorted(st["other"])
    # Only a forgotten node loses its row; a learnt one keeps it once nodes.csv has it.
    lost = [ip for ip, n in nodes.items() if ip not in base and not (n["cat"] == "forget" and n.get("maygone")) and
            (n["cat"] not in ("forget", "pool") or n.get("inbase"))]
    stranger = [ip for ip in base if ip not in nodes]
    msg = []
    if probs:
        msg.append("; ".join(probs[:3]) + ("; %d problems in all" % len(probs) if len(probs) > 3 else ""))
    if lost:
        msg.append("%d rows lost (%s)" % (len(lost), ", ".join("%s %s" % (ip, nodes[ip]["cat"]) for ip in lost[:4])))
    if stranger:
        msg.append("%d rows of no node we know (%s)" % (len(stranger), ", ".join(stranger[:4])))
    if sorted(other) != want_other:
        msg.append("the other network's rows changed: %d of %d kept as they were" % (
            len(set(other) & set(want_other)), len(want_other)))
    fails += not say(not msg, "a nodes.csv complete, no row lost", "; ".join(msg) if msg else
                     "%d rows, %d bytes, inode %d" % (how["csv_rows"], how["csv_bytes"], how["ino"]))

    # c: every check that finished before the cutoff is on disk, and nothing more.
    short, over, kept, stray, required = [], [], [], [], 0
    for ip in set(per) | {ip for ip, n in nodes.items() if n["cur"] is not None} | set(state):
        n = nodes.get(ip)
        if n is None:
            stray.append(ip)
            continue
        ev = per.get(ip, [])
        before = n["cur"] or 0
        counted = [age for k, age in ev if k in "gb" and (clean or age > CUTOFF_S)]
        # An outage undoes the failures of good nodes in its span (crawl_core.c outage_enter):
        # the counts of a node that failed in such a run may go back to what it loaded.
        if outage_round and any(k in "bx" for k, _ in ev):
            counted = []
        required += len(counted)
        lo = before + len(counted)
        hi = before + len(ev)
        got = state.get(ip)
        gone_due = n["cat"] == "forget" and any(k == "b" and (clean or age > CUTOFF_S) for k, age in ev)
        if got is None:
            if gone_due or (n["cat"] == "forget" and n.get("maygone")) or (n["cur"] is None and lo == 0):
                continue
            short.append("%s (%s) has no row; checks were %s, %d checked since (%d before the cutoff)" % (
                ip, n["cat"], n["cur"], len(ev), len(counted)))
        elif gone_due and not outage_round:
            kept.append("%s (forget) still has a row (checks=%d) though its failed check %.2f s before the kill "
                        "forgets it" % (ip, got, max(age for k, age in ev if k == "b")))
        elif got < lo:
            short.append("%s (%s) checks=%d < %d (%d loaded + %d checked before the cutoff; %s)" % (
                ip, n["cat"], got, lo, before, len(counted), ",".join("%s@-%.2fs" % (k, age) for k, age in ev[-4:])))
        elif got > hi:
            over.append("%s (%s) checks=%d > %d (%d loaded + %d checked in all)" % (
                ip, n["cat"], got, hi, before, len(ev)))
    msg = []
    if short:
        msg.append("%d nodes lost checks: %s" % (len(short), "; ".join(sorted(short)[:4])))
    if kept:
        msg.append("%d forgotten nodes kept: %s" % (len(kept), "; ".join(kept[:3])))
    if over:
        msg.append("%d nodes over-counted: %s" % (len(over), "; ".join(over[:4])))
    if stray:
        msg.append("%d rows of no node we know: %s" % (len(stray), ", ".join(sorted(stray)[:4])))
    if unknown_checked:
        msg.append("checks of addresses we never gave: %s" % ", ".join(sorted(unknown_checked)[:4]))
    name = "c every check of the run counted" if clean else "c no change older than %g s lost" % CUTOFF_S
    fails += not say(not msg, name, "; ".join(msg) if msg else
                     "%d nodes, %d checks required (%d seen), log %s: %d batches%s%s" % (
                         len(state), required, len(dr["checks"]), how["applied"] or "none", how["batches"],
                         ", torn tail" if how["torn"] else "", ", stale " + "+".join(how["stale"]) if how["stale"] else ""))

    if clean:
        # d: the clean stop compacted: nodes.csv whole, its log a bare header naming it.
        s = os.stat(os.path.join(a.dir, "nodes.csv"))
        want = b"#seedd-log base=%d:%d\n" % (s.st_dev, s.st_ino)
        try:
            with open(os.path.join(a.dir, "nodes.csv.log"), "rb") as f:
                got = f.read()
        except OSError as e:
            got = ("(%s)" % e).encode()
        left = sorted(x for x in os.listdir(a.dir) if x.endswith(".tmp") or x == "nodes.csv.log.next")
        fails += not say(got == want and not left, "d log is a bare header naming nodes.csv, no *.tmp",
                         "log %r, want %r; left: %s" % (got[:120], want, " ".join(left) or "none"))

    print("info replay count=%d csv_rows=%d applied=%s batches=%d torn=%s stale=%s log_rows=%d gone_rows=%d "
          "required=%d%s" % (len(state), how["csv_rows"], how["applied"] or "none", how["batches"],
                             "yes" if how["torn"] else "no", "+".join(how["stale"]) or "none", how["rows"],
                             how["gone"], required, " BOTH LOGS NAME nodes.csv" if how.get("both") else ""))
    if not a.keep_state:
        for ip, n in nodes.items():
            n["cur"] = state.get(ip)
            if ip in base:
                n["inbase"] = True
        st["expect"] = len(state)
        st["zone_expect"] = zone_replay(a.dir)
        save_state(a.state, st)
    return 1 if fails else 0


def loaded(a):
    """b: the start that followed: its count, no error line, the torn batch dropped."""
    st = load_state(a.state)
    with open(a.log, "rb") as f:
        text = f.read()
    n = r = None
    for line in text.split(b"\n"):
        m = re.search(rb" info crawl msg=loaded file=(nodes\.csv\S*) nodes=(\d+) ", line)
        if m:
            n = (m.group(1).decode(), int(m.group(2)))
        m = re.search(rb" info crawl msg=replayed file=nodes\.csv\.log batches=(\d+) torn_tail=(\S+) nodes=(\d+)", line)
        if m:
            r = (int(m.group(1)), m.group(2).decode(), int(m.group(3)))
    errs = [l.decode(errors="replace") for l in text.split(b"\n") if re.match(rb"\S+ error ", l)]
    warns = {}
    for l in text.split(b"\n"):
        m = re.match(rb"\S+ warn (\S+) (.*)", l)
        if m and b"running as root" not in l:
            k = re.sub(rb" (line|batches|rows)=\d+", b"", m.group(2)).decode(errors="replace")[:100]
            warns[k] = warns.get(k, 0) + 1
    got = None if n is None else (r[2] if r else n[1])
    detail = "loaded %s nodes=%s%s, expected %d" % (
        n[0] if n else "-", n[1] if n else "-",
        ", replayed batches=%d torn_tail=%s nodes=%d" % r if r else ", nothing replayed", st["expect"])
    if warns:
        detail += "; warned: " + "; ".join("%dx %s" % (c, w) for w, c in warns.items())
    bad = []
    if n is None or n[0] != "nodes.csv":
        bad.append("no 'msg=loaded file=nodes.csv' line")
    elif got != st["expect"]:
        bad.append("count %d != %d (the independent replay)" % (got, st["expect"]))
    if errs:
        bad.append("error lines: " + " | ".join(errs[:3]))
    if any("row skipped" in w for w in warns):
        bad.append("rows skipped")
    say(not bad, "b load with the replay's count, no error", "; ".join(bad + [detail]) if bad else detail)
    rc = 1 if bad else 0
    # The zone: zone.csv and zone.csv.log give the node rows published before the kill.
    z = None
    for line in text.split(b"\n"):
        m = re.search(rb" info zone msg=(loaded|replayed) file=\S*/(zone\.csv\S*) .*nodes4=(\d+)", line)
        if m:
            z = (m.group(2).decode(), int(m.group(3)))
    if "zone_expect" in st:
        ok = z is not None and z[0] in ("zone.csv", "zone.csv.log") and z[1] == st["zone_expect"]
        say(ok, "b zone: zone.csv and its log replayed",
            "served %s, the independent replay %d" % (z, st["zone_expect"]))
        rc |= 0 if ok else 1
    if st.get("torn"):
        left = []
        for name in ("nodes.csv.log", "nodes.csv.log.next"):
            try:
                with open(os.path.join(a.dir, name), "rb") as f:
                    if TORN_MARK in f.read():
                        left.append(name)
            except OSError:
                pass
        seen = any("torn tail dropped" in w for w in warns)
        ok = not left and seen
        say(ok, "b torn batch dropped and cut off", "%s (%s)%s%s" % (
            st["torn"], "warned" if seen else "no 'torn tail dropped' warning",
            "; still in " + ", ".join(left) if left else "", "" if ok else "; " + detail))
        rc |= 0 if ok else 1
        if not a.keep_state:
            st["torn"] = None
            save_state(a.state, st)
    return rc


def tear(a):
    """A batch cut short at the end of the log that names nodes.csv, as a crash in
    mid-append (or power loss) leaves it: a row of a never-checked node claiming
    4000000000 checks, a gone row of another, a row of a node we never gave
    (127.63.216.x); then (mode 0) a row cut in the middle, (1) a trailer with a
    wrong CRC, (2) a trailer cut short. Replayed, they would show."""
    st = load_state(a.state)
    s = os.stat(os.path.join(a.dir, "nodes.csv"))
    rnd = random.Random("%d %d %d" % (a.mode, s.st_ino, fsize(os.path.join(a.dir, "nodes.csv.log"))))
    want = b"#seedd-log base=%d:%d\n" % (s.st_dev, s.st_ino)
    for name in ("nodes.csv.log.next", "nodes.csv.log"):
        p = os.path.join(a.dir, name)
        try:
            with open(p, "rb") as f:
                head = f.read(len(want))
        except OSError:
            continue
        if head == want:
            break
    else:
        return 1
    idle = sorted(ip for ip, n in st["nodes"].items() if n["cat"] == "idle" and n["cur"] is not None)
    x1, x2 = rnd.sample(idle, 2)
    t = ts(int(time.time()))
    row = lambda ip: ("%s,yes,%s,%d,infnote,%s,%s,4000000000,4000000000,1.000,,1.1,,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
                      "ws://%s:%d/,,0,%s,\n" % (ip, t, PORT, t, t, ip, PORT, t))
    rows = (row(x1) + "%s,gone,,%d,infnote\n" % (x2, PORT) + row("%s.216.%d" % (NET, rnd.randint(1, 254)))).encode()
    crc = zlib.crc32(rows)
    if a.mode == 0:
        tail = rows + rows[:57]
    elif a.mode == 1:
        tail = rows + b"#batch %d %08x\n" % (len(rows), crc ^ 1)
    else:
        tail = rows + (b"#batch %d %08x\n" % (len(rows), crc))[:-4]
    with open(p, "ab") as f:
        f.write(tail)
    what = ["a row cut short", "a wrong CRC", "a trailer cut short"][a.mode]
    st["torn"] = "%s: %d bytes (%s) after %d" % (name, len(tail), what, os.path.getsize(p) - len(tail))
    save_state(a.state, st)
    print("info torn batch %s" % st["torn"])
    return 0


def after(a):
    """What follows a kill, in one process: b on the start of the run (its log),
    the torn batch (--tear MODE), then a and c."""
    rc = loaded(a)
    if a.tear is not None:
        a.mode = a.tear
        if tear(a):
            say(False, "tear", "no log names nodes.csv")
            rc = 1
    return rc | check(a)


def main():
    import argparse
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("gen")
    p.add_argument("dir")
    p.add_argument("state")
    p.add_argument("topo")
    p.add_argument("--nodes", type=int, default=20000)
    p.add_argument("--interval", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--down-span", type=float, default=75)
    p = sub.add_parser("drive")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--hunt", action="store_true")
    p.add_argument("--hunt-tmp", type=float, default=0.5)
    p.add_argument("--hunt-commit", action="store_true")
    p.add_argument("--extend", type=float, default=4.0)
    p.add_argument("--extend-frac", type=float, default=0.75)
    p.add_argument("--term", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("tear")
    p.add_argument("dir")
    p.add_argument("mode", type=int)
    p.add_argument("state")
    p = sub.add_parser("check")
    p.add_argument("dir")
    p.add_argument("state")
    p.add_argument("json")
    p.add_argument("--clean", action="store_true")
    p.add_argument("--keep-state", action="store_true")
    p = sub.add_parser("after")
    p.add_argument("log")
    p.add_argument("dir")
    p.add_argument("state")
    p.add_argument("json")
    p.add_argument("--tear", type=int)
    p.add_argument("--clean", action="store_true")
    p.add_argument("--keep-state", action="store_true")
    p = sub.add_parser("loaded")
    p.add_argument("log")
    p.add_argument("dir")
    p.add_argument("state")
    p.add_argument("--keep-state", action="store_true")
    a = ap.parse_args()
    rc = {"gen": gen, "drive": drive, "tear": tear, "check": check, "loaded": loaded, "after": after}[a.cmd](a) or 0
    if a.cmd in ("check", "loaded", "after"):
        print("end")  # the checks ran to the end (a traceback has no such line)
    sys.stdout.flush()
    os._exit(rc)


if __name__ == "__main__":
    main()
