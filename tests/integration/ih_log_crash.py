#!/usr/bin/python3
"""Driver and checker for tests/integration/ih_log_crash.sh (standard library only).

What the driver knows is kept in STATE (a pickle): for every infohash it
ever sent or wrote, lo = get_peers the file started with plus those
answered before a round's cutoff (kill - 1.5 s: what seedd must have on
disk by then), hi = what it started with plus every get_peers ever sent
(the most seedd can have counted); the first base_n are the base rows.

  gen N SEED CSV STATE
      a realistic infohashes.csv of N rows, and the state that goes with it
  drive --state S --to IP:PORT --pid PID --dir DIR --seconds T --out JSON
        [--rate R] [--new-frac F] [--hunt [--stall-writer] [--kill-writer]]
        [--src-net A.B --src-third C --src-blocks K] [--seed N]
      get_peers at R a second (default 5000) from 254*K loopback sources
      A.B.C.1 to A.B.(C+K-1).254 (default 127.62.16.1 to 127.62.47.254,
      each asked about once a second at most, under seedd's per-IP limit):
      F new infohashes, 0.2 new ones of earlier rounds, the rest base ones.
      After T seconds, SIGKILL to PID. --hunt: when DIR/infohashes.csv.log.next
      appears (a compaction began), the kill comes 0-0.15 s later; with
      --stall-writer, seedd's children (the writer) get SIGSTOP first and
      the kill comes 1.2-2.6 s later; the writer then gets SIGKILL
      (--kill-writer) or SIGCONT. Records when each answer came and what
      was in flight at the kill; updates STATE; writes a summary as JSON.
  csvcheck CSV STATE          check c: a complete infohashes.csv
  verify CSV STATE            check b: every count at least what was answered
                              before a cutoff, at most what was sent
  tear DIR MODE STATE SEED    append a batch cut short to the log naming
                              DIR/infohashes.csv (mode 0: a row cut, 1: a
                              wrong CRC, 2: a trailer cut)
  ping IP:PORT SRC SECONDS    a KRPC ping until seedd answers (loaded)
  expect STATE                the least infohashes a load must find
Each check prints "ok DETAILS" or "bad DETAILS" (exit 0 / 1).
"""
import array, json, os, pickle, random, re, select, signal, socket, sys, time

HEADER = b"infohash,first_seen,last_seen,get_peers,announces,samples,last_announcer"
ROW = re.compile(
    rb"[0-9a-f]{40},\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,"
    rb"\d+,\d+,\d+,(?:|\d+\.\d+\.\d+\.\d+:\d+|\[[0-9a-f:]+\]:\d+)")
CUTOFF_S = 1.5  # one --snapshot-interval (1 s) and 0.5 s of slack


def load_state(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def save_state(path, st):
    with open(path + ".new", "wb") as f:
        pickle.dump(st, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".new", path)


# --- gen ---------------------------------------------------------------------
# STATE: {"base_n": N, "keys": [infohash as 40 hex bytes], "lo": array, "hi": array,
# "rounds": [summary...]}; the first base_n keys are the rows of the file at the start.

def gen(n, seed, csv, state):
    rnd = random.Random(seed)
    now = int(time.time())
    fmt = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
    out = [HEADER.decode() + "\n"]
    seen = set()
    keys, gps = [], []
    while len(keys) < n:
        h = "%040x" % rnd.getrandbits(160)
        if h in seen:
            continue
        seen.add(h)
        first = now - rnd.randint(3600, 120 * 86400)
        last = min(now - 60, first + int(rnd.expovariate(1 / (5 * 86400))))
        gp = min(int(rnd.paretovariate(1.1)), 5000000)
        ann = int(rnd.paretovariate(1.5)) - 1 if rnd.random() < 0.35 else 0
        sam = rnd.randint(1, 6) if rnd.random() < 0.2 else 0
        who = ""
        if ann:
            if rnd.random() < 0.9:
                who = "%d.%d.%d.%d:%d" % (rnd.randint(1, 223), rnd.randint(0, 255), rnd.randint(0, 255),
                                          rnd.randint(1, 254), rnd.randint(1024, 65535))
            else:
                who = "[2001:db8:%x::%x]:%d" % (rnd.getrandbits(16) | 1, rnd.getrandbits(16) | 1,
                                                rnd.randint(1024, 65535))
        out.append("%s,%s,%s,%d,%d,%d,%s\n" % (h, fmt(first), fmt(last), gp, ann, sam, who))
        keys.append(h.encode())
        gps.append(gp)
    with open(csv, "w") as f:
        f.write("".join(out))
    save_state(state, {"base_n": n, "keys": keys, "lo": array.array("L", gps),
                       "hi": array.array("L", gps), "rounds": []})


# --- drive -------------------------------------------------------------------

def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def fsize(p):
    try:
        return os.stat(p).st_size
    except OSError:
        return -1


def drive(a):
    st = load_state(a.state)
    keys, lo, hi, base_n = st["keys"], st["lo"], st["hi"], st["base_n"]
    rnd = random.Random(a.seed)
    nbase, nolder = base_n, len(keys) - base_n
    to = a.to.rsplit(":", 1)
    to = (to[0], int(to[1]))
    socks, fdmap, prefix = [], {}, []
    ep = select.epoll()
    # One socket a source: raise the soft limit on descriptors (or use fewer sources).
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 254 * a.src_blocks + 64
    if soft != resource.RLIM_INFINITY and soft < need:
        soft = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        a.src_blocks = min(a.src_blocks, (soft - 64) // 254)
    for x in range(a.src_blocks):
        for y in range(1, 255):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.bind(("%s.%d.%d" % (a.src_net, a.src_third + x, y), 0))
            socks.append(s)
            fdmap[s.fileno()] = s
            ep.register(s.fileno(), select.EPOLLIN)
            # One stable node id per source, as a real node has.
            prefix.append(b"d1:ad2:id20:" + rnd.getrandbits(160).to_bytes(20, "big") + b"9:info_hash20:")
    ns = len(socks)
    mid = b"e1:q9:get_peers1:t4:"
    tail = b"1:y1:qe"
    q_key = array.array("q")   # index into keys, or -(1 + index into fresh)
    fresh = []                 # new infohashes of this round
    ans = array.array("d")
    sent_t = array.array("d")
    gap = [0.0, 0.0, 0.0]      # longest wait for an answer with queries outstanding: length, from, last answer
    errors = 0
    nfree = 0
    logn = os.path.join(a.dir, "infohashes.csv.log")
    nextn = logn + ".next"
    tmpn = os.path.join(a.dir, "infohashes.csv.tmp")

    def drain(now):
        nonlocal errors, nfree
        for fd, _ in ep.poll(0.0005):
            s = fdmap[fd]
            while True:
                try:
                    d = s.recv(4096)
                except BlockingIOError:
                    break
                if len(d) < 16 or d[-16:-11] != b"1:t4:":
                    nfree += 1  # seedd asking us find_node: not an answer
                    continue
                i = int.from_bytes(d[-11:-7], "big")
                if i >= len(ans):
                    continue
                if d.endswith(b"1:y1:re"):
                    if ans[i] == 0:
                        ans[i] = now
                        if now - gap[2] > gap[0] and gap[2]:
                            gap[0], gap[1] = now - gap[2], gap[2]
                        gap[2] = now
                elif d.endswith(b"1:y1:ee"):
                    errors += 1

    expect_before = base_n + sum(1 for k in range(base_n, len(keys)) if lo[k] > 0)
    stalled = []
    t0 = time.monotonic()
    kill_at = t0 + a.seconds
    hunted = None
    next_look = t0
    sent = 0
    while True:
        now = time.monotonic()
        if now >= kill_at:
            break
        if hunted is None and now >= next_look:
            next_look = now + 0.005
            if os.path.exists(nextn):
                hunted = now - t0
                if not a.hunt:
                    pass
                elif a.stall_writer:
                    # A slow writer (a busy disk, a starved core): seedd logs batches
                    # to both logs meanwhile; the kill comes before the writer is done.
                    stalled = children(a.pid)
                    for k in stalled:
                        os.kill(k, signal.SIGSTOP)
                    kill_at = now + rnd.uniform(1.2, 2.6)
                else:
                    kill_at = min(kill_at, now + rnd.uniform(0.0, a.hunt_max))
        due = min(int((now - t0) * a.rate) - sent, 400)
        for _ in range(due):
            r = rnd.random()
            if r < a.new_frac:
                h = rnd.getrandbits(160).to_bytes(20, "big")
                q_key.append(-1 - len(fresh))
                fresh.append(h)
            else:
                if r < a.new_frac + 0.2 and nolder:
                    k = base_n + rnd.randrange(nolder)
                else:
                    k = rnd.randrange(nbase)
                h = bytes.fromhex(keys[k].decode())
                q_key.append(k)
            k = sent % ns
            try:
                socks[k].sendto(prefix[k] + h + mid + sent.to_bytes(4, "big") + tail, to)
            except BlockingIOError:
                pass
            ans.append(0.0)
            sent_t.append(time.monotonic())
            sent += 1
        drain(time.monotonic())
    # What was in flight at the kill.
    kids = children(a.pid)
    log_next = os.path.exists(nextn)
    tmp_size = fsize(tmpn)
    log_size = fsize(logn)
    next_size = fsize(nextn)
    try:
        ino = os.stat(os.path.join(a.dir, "infohashes.csv")).st_ino
    except OSError:
        ino = -1
    t_kill = time.monotonic()
    os.kill(a.pid, signal.SIGKILL)
    # The writer: killed too, as when the whole group dies (a container's end, a
    # power cut); or left to finish alone, as when only seedd is killed.
    for k in set(kids) | set(stalled):
        try:
            os.kill(k, signal.SIGKILL if a.kill_writer else signal.SIGCONT)
        except OSError:
            pass
    end = time.monotonic() + 0.1
    while time.monotonic() < end:
        drain(time.monotonic())
    for s in socks:
        s.close()

    cutoff = t_kill - CUTOFF_S
    first_new = len(keys)
    for h in fresh:
        keys.append(h.hex().encode())
        lo.append(0)
        hi.append(0)
    answered = before = new_before = 0
    for i, k in enumerate(q_key):
        if k < 0:
            k = first_new - 1 - k
        hi[k] += 1
        t = ans[i]
        if t:
            answered += 1
            if t < cutoff:
                before += 1
                if lo[k] == 0 and k >= base_n:
                    new_before += 1
                lo[k] += 1
    lat = sorted(ans[i] - sent_t[i] for i in range(sent) if ans[i])
    pct = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None
    summary = {
        "latency_ms_p50": pct(0.5), "latency_ms_p99": pct(0.99), "latency_ms_max": pct(1.0),
        "longest_silence_ms": round(gap[0] * 1000), "longest_silence_at_s": round(gap[1] - t0, 3),
        "sources": ns, "sent": sent, "answered": answered, "answered_before_cutoff": before,
        "new_answered_before_cutoff": new_before, "errors": errors, "their_queries": nfree,
        "kill_s": round(t_kill - t0, 3), "rate": round(sent / max(t_kill - t0, 0.001)),
        "compaction_seen_at_s": None if hunted is None else round(hunted, 3),
        "log_next_at_kill": log_next, "tmp_at_kill": tmp_size, "log_bytes_at_kill": log_size,
        "next_bytes_at_kill": next_size, "children_at_kill": kids, "stalled": stalled, "ino_at_kill": ino,
        "expect_before": expect_before,
        "expect_infohashes": base_n + sum(1 for k in range(base_n, len(keys)) if lo[k] > 0),
    }
    st["rounds"].append(summary)
    save_state(a.state, st)
    with open(a.out, "w") as f:
        json.dump(summary, f)


# --- checks ------------------------------------------------------------------

def read_csv(path):
    """({infohash hex: get_peers as bytes}, problem or None)"""
    with open(path, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        return None, "does not end with a newline (%d bytes, last line %r)" % (
            len(data), data[data.rfind(b"\n") + 1:][:120])
    lines = data[:-1].split(b"\n")
    if lines[0] != HEADER:
        return None, "header is %r" % lines[0][:120]
    del lines[0]
    if not all(map(ROW.fullmatch, lines)):
        for n, line in enumerate(lines, 2):
            if not ROW.fullmatch(line):
                return None, "line %d is not a whole row: %r" % (n, line[:160])
    rows = {line[:40]: line.split(b",", 4)[3] for line in lines}
    if len(rows) != len(lines):
        return None, "%d rows repeat an infohash" % (len(lines) - len(rows))
    return rows, None


def csvcheck(path, state):
    st = load_state(state)
    rows, why = read_csv(path)
    if why:
        print("bad %s: %s" % (path, why))
        return 1
    keys = st["keys"]
    missing = [h for h in keys[:st["base_n"]] if h not in rows]
    known = set(keys)
    unknown = [h for h in rows if h not in known]
    if len(rows) < st["base_n"] or missing or unknown:
        print("bad %d rows; %d base infohashes missing (%s); %d unknown (%s)" % (
            len(rows), len(missing), missing[0].decode() if missing else "", len(unknown),
            unknown[0].decode() if unknown else ""))
        return 1
    print("ok rows=%d bytes=%d" % (len(rows), os.path.getsize(path)))
    return 0


def verify(path, state):
    st = load_state(state)
    rows, why = read_csv(path)
    if why:
        print("bad %s: %s" % (path, why))
        return 1
    keys, lo, hi, base_n = st["keys"], st["lo"], st["hi"], st["base_n"]
    lost, over, missing, checked = [], [], [], 0
    for k, h in enumerate(keys):
        got = rows.get(h)
        if got is None:
            if lo[k] > 0 or k < base_n:
                missing.append(k)
            continue
        checked += 1
        got = int(got)
        if got < lo[k]:
            lost.append((k, got))
        if got > hi[k]:
            over.append((k, got))
    unknown = len(rows) - checked
    if lost or over or missing or unknown:
        ex = []
        for k, got in lost[:3]:
            ex.append("%s get_peers=%d answered>=%d" % (keys[k].decode(), got, lo[k]))
        for k, got in over[:3]:
            ex.append("%s get_peers=%d sent<=%d" % (keys[k].decode(), got, hi[k]))
        for k in missing[:3]:
            ex.append("%s missing (answered %d)" % (keys[k].decode(), lo[k]))
        print("bad checked=%d infohashes short: %d (%d missing, %d get_peers short in all) over_counted=%d "
              "unknown=%d; e.g. %s" % (checked, len(lost) + len(missing), len(missing),
                                       sum(lo[k] - g for k, g in lost) + sum(lo[k] for k in missing),
                                       len(over), unknown, "; ".join(ex)))
        return 1
    print("ok rows=%d checked=%d" % (len(rows), checked))
    return 0


def ping(to, src, seconds):
    """A KRPC ping until seedd answers: its first turn (load and replay) is over."""
    h, p = to.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    q = b"d1:ad2:id20:" + os.urandom(20) + b"e1:q4:ping1:t2:pg1:y1:qe"
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.sendto(q, (h, int(p)))
        s.settimeout(0.5)
        try:
            while True:
                d = s.recv(4096)
                if d.endswith(b"1:t2:pg1:y1:re"):
                    print("ok")
                    return 0
        except socket.timeout:
            pass
    print("bad no answer to ping in %g s" % seconds)
    return 1


def tear(d, mode, state, seed):
    """A batch cut short, as a crash in mid-append (or a bad disk) leaves it, appended
    to the log that names infohashes.csv: three rows claiming 4000000000 get_peers,
    then (mode 0) a row cut in the middle, (1) a trailer with a wrong CRC, (2) a
    trailer cut in the middle. Replayed, they would show as over-counted."""
    import zlib
    st = load_state(state)
    rnd = random.Random(seed)
    s = os.stat(os.path.join(d, "infohashes.csv"))
    want = b"#seedd-log base=%d:%d\n" % (s.st_dev, s.st_ino)
    for name in ("infohashes.csv.log.next", "infohashes.csv.log"):
        p = os.path.join(d, name)
        try:
            with open(p, "rb") as f:
                head = f.readline()
        except OSError:
            continue
        if head == want:
            break
    else:
        print("no log names infohashes.csv")
        return 1
    keys = [st["keys"][rnd.randrange(st["base_n"])].decode() for _ in range(3)]
    rows = "".join("%s,2026-01-01 00:00:00,2026-01-02 00:00:00,4000000000,0,0,\n" % k for k in keys).encode()
    crc = zlib.crc32(rows)
    if mode == 0:
        tail = rows + rows[:57]
    elif mode == 1:
        tail = rows + b"#batch %d %08x\n" % (len(rows), crc ^ 1)
    else:
        tail = rows + (b"#batch %d %08x\n" % (len(rows), crc))[:-4]
    with open(p, "ab") as f:
        f.write(tail)
    print("%s: %d bytes (%s) appended after %d" % (name, len(tail), ["a row cut short", "a wrong CRC",
                                                                      "a trailer cut short"][mode],
                                                   os.path.getsize(p) - len(tail)))
    return 0


def expect(state):
    st = load_state(state)
    lo, base_n = st["lo"], st["base_n"]
    print(base_n + sum(1 for k in range(base_n, len(lo)) if lo[k] > 0))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = 0
    if cmd == "gen":
        gen(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "drive":
        import argparse
        ap = argparse.ArgumentParser()
        ap.add_argument("--state", required=True)
        ap.add_argument("--to", required=True)
        ap.add_argument("--pid", type=int, required=True)
        ap.add_argument("--dir", required=True)
        ap.add_argument("--seconds", type=float, required=True)
        ap.add_argument("--rate", type=float, default=5000)
        ap.add_argument("--new-frac", type=float, default=0.25)
        ap.add_argument("--hunt", action="store_true")
        ap.add_argument("--hunt-max", type=float, default=0.15)
        ap.add_argument("--kill-writer", action="store_true")
        ap.add_argument("--stall-writer", action="store_true")
        ap.add_argument("--src-net", default="127.62")
        ap.add_argument("--src-third", type=int, default=16)
        ap.add_argument("--src-blocks", type=int, default=32)
        ap.add_argument("--out", required=True)
        ap.add_argument("--seed", type=int, default=1)
        drive(ap.parse_args(sys.argv[2:]))
    elif cmd == "csvcheck":
        rc = csvcheck(sys.argv[2], sys.argv[3])
    elif cmd == "ping":
        rc = ping(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == "tear":
        rc = tear(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    elif cmd == "expect":
        expect(sys.argv[2])
    elif cmd == "verify":
        rc = verify(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
    sys.stdout.flush()
    os._exit(rc)  # skip freeing a few hundred thousand objects one by one


if __name__ == "__main__":
    main()
