#!/usr/bin/python3
"""A spoof-free amplification flood from loopback, for RRL tests and benches.

256 UDP sockets, each bound to its own loopback address, in four /24s:
127.51.0.1-64, 127.51.1.1-64, 127.51.2.1-64 and 127.51.3.1-64 (every
address of 127/8 is local on Linux, nothing needs configuring). Each /24
sends --rate queries a second, spread evenly over its 64 sockets and over
time, for --seconds: every query the same question (NAME A, EDNS(0) with a
UDP size of 4096 and no cookie, what an amplification attacker sends).
Meanwhile a legitimate client on 127.52.0.1 asks the same question
--legit-rate times a second and waits up to 2 s for each reply (matched by
ID and question).

One thread, one epoll loop; sends are non-blocking and scheduled on a fixed
timetable (query k is due at k / (4 * rate) seconds), so a late loop sends
its backlog at once and the achieved rate and the worst lag are reported.
Replies still in flight when the flood stops are collected for --grace
seconds.

Output: one JSON object on stdout:
  params        what was asked
  send          achieved total send rate, worst lag behind the timetable,
                send errors, the loop's CPU seconds
  prefixes      per /24 ("127.51.N.0/24"): queries, bytes_out (query bytes
                sent, DNS payload), replies, bytes_in (reply bytes received),
                tc (replies with TC=1), full (TC=0 and at least one answer
                record), answered (replies with an answer record), other
                (replies neither TC nor with an answer: refused, empty...),
                unmatched (replies whose ID no query had), amplification
                (bytes_in / bytes_out)
  total         the same summed over the four /24s
  timeline      per second of the flood, all /24s together: sent, replies,
                tc, full (by the second the reply arrived)
  reply_sizes   {"tc": {bytes: count}, "full": {bytes: count}} of flood replies
  samples       the first TC reply and the first full reply, as hex
  legit         sent, answered, full, tc, with_records, lost, rtt_ms_max
Only loopback destinations are accepted.
"""
import argparse
import json
import os
import random
import resource
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsraw import build_query, encode_name, family_of  # noqa: E402

PREFIXES = ["127.51.%d" % n for n in range(4)]
PER_PREFIX = 64
LEGIT_ADDR = "127.52.0.1"
TC = 0x0200
QR = 0x8000


def new_counts():
    return {"queries": 0, "bytes_out": 0, "send_errors": 0, "replies": 0,
            "bytes_in": 0, "tc": 0, "full": 0, "answered": 0, "other": 0,
            "unmatched": 0}


def open_socket(addr, server, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
    s.bind((addr, 0))
    # Connected: the kernel hands this socket only datagrams from the server.
    s.connect((server, port))
    s.setblocking(False)
    return s


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", default="seed.example.com")
    ap.add_argument("--rate", type=float, default=200.0,
                    help="queries a second from each /24 (default 200)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--legit-rate", type=float, default=5.0)
    ap.add_argument("--legit-timeout", type=float, default=2.0)
    ap.add_argument("--edns", type=int, default=4096,
                    help="EDNS UDP size of the flood's queries (0: no EDNS)")
    ap.add_argument("--grace", type=float, default=1.0,
                    help="seconds to keep collecting replies after the flood")
    a = ap.parse_args(argv)
    if family_of(a.server) != socket.AF_INET:
        raise SystemExit("rrlflood: the server must be an IPv4 loopback address")
    if a.rate <= 0 or a.seconds <= 0:
        raise SystemExit("rrlflood: --rate and --seconds must be positive")

    ep = select.epoll()
    socks = []              # (socket, prefix index)
    by_fd = {}
    for p, pfx in enumerate(PREFIXES):
        for i in range(1, PER_PREFIX + 1):
            s = open_socket("%s.%d" % (pfx, i), a.server, a.port)
            socks.append((s, p))
            by_fd[s.fileno()] = (s, p)
            ep.register(s.fileno(), select.EPOLLIN)
    legit = open_socket(LEGIT_ADDR, a.server, a.port)
    ep.register(legit.fileno(), select.EPOLLIN)

    edns = a.edns if a.edns > 0 else None
    # One template; only the ID changes (the first two bytes).
    tmpl = build_query(a.name, "A", qid=0, edns=edns)[2:]
    counts = [new_counts() for _ in PREFIXES]
    # IDs in flight per flood socket are not tracked one by one (a socket
    # sends rate/64 a second); a reply counts as matched when its ID is one
    # of the last IDs that socket sent.
    recent = {s.fileno(): [] for s, _ in socks}
    RECENT = 64
    nsec = int(a.seconds + 0.999) + int(a.grace + 0.999) + 1
    timeline = [{"sent": 0, "replies": 0, "tc": 0, "full": 0} for _ in range(nsec)]

    lg = {"sent": 0, "answered": 0, "full": 0, "tc": 0, "with_records": 0,
          "lost": 0, "late_or_unmatched": 0, "rtt_ms_max": 0.0}
    lpending = {}           # id -> send time
    lquery_tmpl = build_query(a.name, "A", qid=0, edns=1232)[2:]
    # The question a reply must echo (RFC 1035 4.1.1), after its 12-byte header.
    lqsec = encode_name(a.name) + struct.pack(">HH", 1, 1)

    total_rate = a.rate * len(PREFIXES)
    interval = 1.0 / total_rate
    nflood = int(round(total_rate * a.seconds))
    linterval = 1.0 / a.legit_rate if a.legit_rate > 0 else None
    nlegit = int(round(a.legit_rate * a.seconds)) if linterval else 0

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic() + 0.05
    k = 0                   # next flood query
    lk = 0                  # next legit query
    max_lag = 0.0
    end_flood = None
    rng = random.Random()
    tc_sizes = {}
    full_sizes = {}
    samples = {"tc": None, "full": None}
    send_err_kinds = {}

    def on_reply(fd, data, now):
        sec = min(int(now - t0), nsec - 1) if now >= t0 else 0
        if fd == legit.fileno():
            if len(data) < 12:
                lg["late_or_unmatched"] += 1
                return
            qid, flags, qd, an = struct.unpack_from(">HHHH", data)
            sent_at = lpending.pop(qid, None)
            if sent_at is None or not (flags & QR) or data[12:12 + len(lqsec)] != lqsec:
                lg["late_or_unmatched"] += 1
                return
            lg["answered"] += 1
            lg["rtt_ms_max"] = max(lg["rtt_ms_max"], (now - sent_at) * 1000)
            if flags & TC:
                lg["tc"] += 1
            if an > 0:
                lg["with_records"] += 1
                if not flags & TC:
                    lg["full"] += 1
            return
        _, p = by_fd[fd]
        c = counts[p]
        c["replies"] += 1
        c["bytes_in"] += len(data)
        tl = timeline[sec]
        tl["replies"] += 1
        if len(data) < 12:
            c["other"] += 1
            return
        qid, flags, qd, an = struct.unpack_from(">HHHH", data)
        if qid not in recent[fd]:
            c["unmatched"] += 1
        if flags & TC:
            c["tc"] += 1
            tl["tc"] += 1
            tc_sizes[len(data)] = tc_sizes.get(len(data), 0) + 1
            if samples["tc"] is None:
                samples["tc"] = data.hex()
        if an > 0:
            c["answered"] += 1
            if not flags & TC:
                c["full"] += 1
                tl["full"] += 1
                full_sizes[len(data)] = full_sizes.get(len(data), 0) + 1
                if samples["full"] is None:
                    samples["full"] = data.hex()
        elif not flags & TC:
            c["other"] += 1

    def drain(fd, now):
        s = legit if fd == legit.fileno() else by_fd[fd][0]
        while True:
            try:
                data = s.recv(65535)
            except BlockingIOError:
                return
            except ConnectionRefusedError:
                # ICMP port unreachable: nobody listens (any more).
                continue
            on_reply(fd, data, now)

    while True:
        now = time.monotonic()
        # Flood queries that are due.
        while k < nflood and t0 + k * interval <= now:
            lag = now - (t0 + k * interval)
            if lag > max_lag:
                max_lag = lag
            p = k % len(PREFIXES)
            s, _ = socks[p * PER_PREFIX + (k // len(PREFIXES)) % PER_PREFIX]
            qid = rng.getrandbits(16)
            q = struct.pack(">H", qid) + tmpl
            c = counts[p]
            try:
                s.send(q)
                c["queries"] += 1
                c["bytes_out"] += len(q)
                r = recent[s.fileno()]
                r.append(qid)
                if len(r) > RECENT:
                    del r[0]
                timeline[min(int(now - t0), nsec - 1)]["sent"] += 1
            except OSError as e:
                c["send_errors"] += 1
                send_err_kinds[e.__class__.__name__] = send_err_kinds.get(e.__class__.__name__, 0) + 1
            k += 1
        if k >= nflood and end_flood is None:
            end_flood = now
        # Legitimate queries that are due.
        while lk < nlegit and t0 + lk * linterval <= now:
            qid = rng.getrandbits(16)
            while qid in lpending:
                qid = rng.getrandbits(16)
            try:
                legit.send(struct.pack(">H", qid) + lquery_tmpl)
                lpending[qid] = now
                lg["sent"] += 1
            except OSError:
                lg["lost"] += 1
            lk += 1
        # Legitimate queries given up on.
        for qid, at in list(lpending.items()):
            if now - at > a.legit_timeout:
                del lpending[qid]
                lg["lost"] += 1
        if end_flood is not None and lk >= nlegit and not lpending \
                and now >= end_flood + a.grace:
            break
        if end_flood is not None and now >= end_flood + max(a.grace, a.legit_timeout) + 0.1:
            break
        # Sleep until the next thing is due, or a reply comes.
        due = []
        if k < nflood:
            due.append(t0 + k * interval)
        if lk < nlegit:
            due.append(t0 + lk * linterval)
        if end_flood is not None:
            due.append(end_flood + a.grace)
        wait = max(0.0, min(due) - now) if due else 0.05
        # epoll rounds the wait up to a whole millisecond: at thousands of
        # queries a second the queries due meanwhile go out together, a few
        # at a time, instead of the loop spinning on a core the server needs.
        for fd, _ in ep.poll(wait):
            drain(fd, time.monotonic())

    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    for fd, _ in ep.poll(0):
        drain(fd, time.monotonic())
    lg["lost"] += len(lpending)
    send_dur = (end_flood or time.monotonic()) - t0
    sent = sum(c["queries"] for c in counts)

    out_prefixes = {}
    total = new_counts()
    for p, pfx in enumerate(PREFIXES):
        c = counts[p]
        for key in total:
            total[key] += c[key]
        c = dict(c)
        c["amplification"] = round(c["bytes_in"] / c["bytes_out"], 3) if c["bytes_out"] else None
        out_prefixes[pfx + ".0/24"] = c
    total["amplification"] = round(total["bytes_in"] / total["bytes_out"], 3) if total["bytes_out"] else None
    while len(timeline) > 1 and timeline[-1] == {"sent": 0, "replies": 0, "tc": 0, "full": 0}:
        timeline.pop()
    res = {
        "params": {"server": a.server, "port": a.port, "name": a.name,
                   "rate_per_prefix": a.rate, "seconds": a.seconds, "edns": a.edns,
                   "legit_rate": a.legit_rate, "sockets_per_prefix": PER_PREFIX,
                   "query_bytes": len(tmpl) + 2},
        "send": {"planned": nflood, "sent": sent,
                 "duration_s": round(send_dur, 3),
                 "achieved_rate": round(sent / send_dur, 1) if send_dur > 0 else None,
                 "target_rate": total_rate,
                 "max_lag_ms": round(max_lag * 1000, 2),
                 "send_errors": dict(send_err_kinds),
                 "cpu_s": round(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime, 2)},
        "prefixes": out_prefixes,
        "total": total,
        "timeline": timeline,
        "reply_sizes": {"tc": tc_sizes, "full": full_sizes},
        "samples": samples,
        "legit": {**lg, "rtt_ms_max": round(lg["rtt_ms_max"], 1), "source": LEGIT_ADDR},
    }
    json.dump(res, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
