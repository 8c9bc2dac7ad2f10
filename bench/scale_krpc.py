#!/usr/bin/python3
"""scale_krpc: the DHT trickle of bench/scale.sh (figure "writes per day").

    scale_krpc.py --to IP:PORT --existing N [--new-per-min 100]
                  [--old-per-min 1000] [--announce 0.3] [--seconds S]
                  [--src 127.61.160.0/19] --status FILE

Per minute, evenly spaced: --new-per-min lookups of infohashes seedd has
never heard of and --old-per-min of infohashes it holds (ih(i) of
scale_gen.py, i uniform in [0, N): its counts change). A lookup is a
get_peers; a share --announce of them is followed by an announce_peer
with the token of that answer (implied_port), from the same socket, as a
client announcing after its lookup. Each lookup leaves from the next
address of --src (hosts .1-.254 of each /24, each socket bound to its own
address, a stable node id per address), so no source comes near seedd's
per-IP limit (4 datagrams in a second). Every wait is bounded (1 s per
answer). Runs --seconds (default: until SIGTERM/SIGINT), then writes
--status as JSON: lookups and announces sent and answered, errors,
timeouts, new infohashes answered, and the last new infohash that got its
answers (it must be in infohashes.csv after seedd's shutdown).
"""
import argparse
import hashlib
import ipaddress
import json
import os
import random
import signal
import socket
import sys
import time

# The bencode of the tests' KRPC client: one copy of it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "dht"))
from krpc_client import bdec, benc  # noqa: E402

stop = False


def on_signal(signo, frame):
    global stop
    stop = True


def ih(i):
    return hashlib.sha1(b"seedd-scale-ih-%d" % i).digest()


def sources(spec):
    net = ipaddress.ip_network(spec)
    for a in net.hosts():
        last = int(a) & 0xff
        if 1 <= last <= 254:
            yield str(a)


def ask(sock, to, msg, tid):
    """Send msg, wait up to 1 s for the answer with transaction id tid; the
    decoded answer, or None."""
    sock.sendto(benc(msg), to)
    deadline = time.monotonic() + 1.0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data, frm = sock.recvfrom(2048)
        except socket.timeout:
            return None
        except OSError:
            return None
        if frm != to:
            continue
        try:
            d, _ = bdec(data)
        except (ValueError, IndexError):
            continue
        if isinstance(d, dict) and d.get(b"t") == tid and d.get(b"y") in (b"r", b"e"):
            return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--to", required=True)
    ap.add_argument("--existing", type=int, required=True)
    ap.add_argument("--new-per-min", type=int, default=100)
    ap.add_argument("--old-per-min", type=int, default=1000)
    ap.add_argument("--announce", type=float, default=0.3)
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--src", default="127.61.160.0/19")
    ap.add_argument("--status", required=True)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    to = (host, int(port))
    rnd = random.Random(a.seed)
    run = os.urandom(4).hex()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    srcs = list(sources(a.src))
    per_min = a.new_per_min + a.old_per_min
    gap = 60.0 / per_min
    st = {"lookups": 0, "lookups_new": 0, "lookups_old": 0, "answered": 0, "new_answered": 0, "tokens": 0,
          "announces": 0, "announced": 0, "errors": 0, "timeouts": 0, "late_ms_max": 0,
          "last_new": None, "sources": len(srcs), "run": run}
    t0 = time.monotonic()
    t_next = t0
    k = 0
    while not stop and not (a.seconds and time.monotonic() - t0 >= a.seconds):
        now = time.monotonic()
        if now < t_next:
            time.sleep(min(t_next - now, 0.2))
            continue
        st["late_ms_max"] = max(st["late_ms_max"], int((now - t_next) * 1000))
        t_next += gap
        if t_next < now - 5:
            t_next = now  # seedd or this machine stalled: no burst to catch up
        fresh = (k + 1) * a.new_per_min // per_min > k * a.new_per_min // per_min
        if fresh:
            h = hashlib.sha1(("seedd-scale-new-%s-%d" % (run, k)).encode()).digest()
        else:
            h = ih(rnd.randrange(a.existing))
        src = srcs[k % len(srcs)]
        k += 1
        nid = hashlib.sha1(b"seedd-scale-node-" + src.encode()).digest()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((src, 0))
            st["lookups"] += 1
            st["lookups_new" if fresh else "lookups_old"] += 1
            tid = os.urandom(2)
            r = ask(s, to, {b"t": tid, b"y": b"q", b"q": b"get_peers",
                            b"a": {b"id": nid, b"info_hash": h}}, tid)
            if r is None:
                st["timeouts"] += 1
                continue
            if r.get(b"y") == b"e":
                st["errors"] += 1
                continue
            st["answered"] += 1
            if fresh:
                st["new_answered"] += 1
            tok = r.get(b"r", {}).get(b"token") if isinstance(r.get(b"r"), dict) else None
            if tok:
                st["tokens"] += 1
            ok = True
            if tok and rnd.random() < a.announce:
                st["announces"] += 1
                tid = os.urandom(2)
                r = ask(s, to, {b"t": tid, b"y": b"q", b"q": b"announce_peer",
                                b"a": {b"id": nid, b"info_hash": h, b"implied_port": 1,
                                       b"port": 6881, b"token": tok}}, tid)
                if r is None:
                    st["timeouts"] += 1
                    ok = False
                elif r.get(b"y") == b"e":
                    st["errors"] += 1
                    ok = False
                else:
                    st["announced"] += 1
            if fresh and ok:
                st["last_new"] = h.hex()
    st["seconds"] = round(time.monotonic() - t0, 1)
    tmp = a.status + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f)
    os.replace(tmp, a.status)


if __name__ == "__main__":
    main()
