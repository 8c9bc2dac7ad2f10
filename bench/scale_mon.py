#!/usr/bin/python3
"""scale_mon: what seedd writes to disk over a window (bench/scale.sh,
figure "writes per day").

    scale_mon.py --pid PID --dir DATA --start UNIX_T --seconds S --out FILE

Waits until UNIX_T, then for S seconds:

  * write_bytes of /proc/PID/io, plus that of every live child of PID (its
    infohashes.csv writer: the kernel adds a child's counts to the parent's
    only when it is reaped, see scale_iocheck.c). The two ends of the window
    are taken at a moment when no child is alive (waiting up to 20 s for
    one), so nothing is counted twice or missed. Also cancelled_write_bytes
    (pages dirtied, then truncated or deleted before they were written).
    A sample every second gives the most written in one minute.
  * What the files of the data directory became, polled every 0.25 s, a
    cross-check of write_bytes that needs no kernel accounting: a name whose
    inode changed was rewritten (seedd writes NAME.tmp and renames it into
    place; NAME.tmp itself is not followed): its new size counts; a file
    that grew in place (a change log) counts its growth; one that shrank in
    place counts its new size; a name that now holds a file seen before
    under another name (NAME.old, a hard link) counts nothing. Per name:
    rewrites, appends, links, bytes.
  * The data directory's block device: sectors written (/sys/dev/block/
    MAJ:MIN/stat, field 7): everything this machine wrote there, journal
    and other processes included; context only.
  * children of PID seen (forks).
  * with --dns IP:PORT --zone NAME --from IP: the apex A asked every 20 ms
    from IP (50 a second, under seedd's default --rrl of 100 per /24);
    the slowest answer and the answers slower than 100 ms show the loop's
    stalls (a snapshot written in the loop holds every DNS answer).

Writes FILE (JSON). Exit 1 when PID died during the window.
"""
import argparse
import json
import os
import socket
import struct
import threading
import time



def io(pid):
    out = {}
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            k, v = line.split(":")
            out[k.strip()] = int(v)
    return out


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        if int(rest[1]) == pid:
            kids.append(int(d))
    return kids


def total(pid):
    """(write_bytes, cancelled, live children) of pid and its live children."""
    a = io(pid)
    w, c = a["write_bytes"], a["cancelled_write_bytes"]
    kids = children(pid)
    for k in kids:
        try:
            b = io(k)
        except OSError:
            continue
        w += b["write_bytes"]
        c += b["cancelled_write_bytes"]
    return w, c, kids


def quiet_total(pid, limit=20.0):
    """total() at a moment with no child alive; (w, c, waited_s, kids_at_end)."""
    t0 = time.monotonic()
    while True:
        if not children(pid):
            w, c, kids = total(pid)
            if not kids and not children(pid):
                return w, c, round(time.monotonic() - t0, 2), []
        if time.monotonic() - t0 > limit:
            w, c, kids = total(pid)
            return w, c, round(time.monotonic() - t0, 2), kids
        time.sleep(0.05)


def snapshot(d):
    """{name: (inode, size, mtime)} of the regular files in d, .tmp files left out."""
    out = {}
    try:
        names = os.listdir(d)
    except OSError:
        return out
    for n in names:
        if n.endswith(".tmp"):
            continue
        try:
            s = os.stat(os.path.join(d, n))
        except OSError:
            continue
        if s.st_nlink >= 1 and os.path.isfile(os.path.join(d, n)):
            out[n] = (s.st_ino, s.st_size, s.st_mtime_ns)
    return out


def account(files, seen, cur):
    # Inode and mtime: a file seen before (an inode number alone may be
    # reused at once by the next file written).
    known = {(ino, mt): size for ino, size, mt in seen.values()}
    for n, (ino, size, mt) in cur.items():
        f = files.setdefault(n, {"rewrites": 0, "appends": 0, "bytes": 0, "links": 0})
        old = seen.get(n)
        if old is None or old[0] != ino:
            if (ino, mt) in known:
                # A file we saw under another name (NAME kept as NAME.old by a
                # hard link or a rename): no data written.
                f["links"] += 1
                continue
            f["rewrites"] += 1
            f["bytes"] += size
        elif size > old[1]:
            f["appends"] += 1
            f["bytes"] += size - old[1]
        elif size < old[1]:
            f["rewrites"] += 1
            f["bytes"] += size


def dev_sectors(path):
    st = os.stat(path)
    p = "/sys/dev/block/%d:%d/stat" % (os.major(st.st_dev), os.minor(st.st_dev))
    try:
        with open(p) as f:
            return int(f.read().split()[6])
    except (OSError, IndexError, ValueError):
        return None


class Prober(threading.Thread):
    """The apex A every 20 ms; the latency of each answer (lost: 2 s)."""

    def __init__(self, dns, zone, src):
        super().__init__(daemon=True)
        host, port = dns.rsplit(":", 1)
        self.to = (host, int(port))
        self.q = b"".join(bytes([len(l)]) + l.encode() for l in zone.strip(".").split(".")) + b"\0\0\1\0\1"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src, 0))
        self.sock.setblocking(False)
        self.stop = threading.Event()
        self.sent, self.answered, self.lost, self.slow, self.worst = 0, 0, 0, 0, 0.0
        self.pending = {}

    def run(self):
        qid = 0
        nxt = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= nxt:
                qid = (qid + 1) & 0xffff
                self.pending[qid] = now
                try:
                    self.sock.sendto(struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + self.q, self.to)
                    self.sent += 1
                except OSError:
                    pass
                nxt += 0.02
                if nxt < now:
                    nxt = now + 0.02
            while True:
                try:
                    data = self.sock.recv(4096)
                except OSError:
                    break
                if len(data) < 12:
                    continue
                t = self.pending.pop(struct.unpack(">H", data[:2])[0], None)
                if t is None:
                    continue
                lat = time.monotonic() - t
                self.answered += 1
                self.worst = max(self.worst, lat)
                if lat > 0.1:
                    self.slow += 1
            for k, t in list(self.pending.items()):
                if now - t > 2.0:
                    del self.pending[k]
                    self.lost += 1
                    self.worst = max(self.worst, 2.0)
            time.sleep(0.002)

    def result(self):
        return {"sent": self.sent, "answered": self.answered, "lost": self.lost,
                "slower_than_100ms": self.slow, "slowest_ms": round(self.worst * 1000, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--start", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dns")
    ap.add_argument("--zone")
    ap.add_argument("--from", dest="src")
    a = ap.parse_args()
    prober = Prober(a.dns, a.zone, a.src) if a.dns else None

    while time.time() < a.start:
        time.sleep(min(0.1, a.start - time.time()))
    w0, c0, wait0, kids0 = quiet_total(a.pid)
    d0 = dev_sectors(a.dir)
    if prober:
        prober.start()
    t0 = time.monotonic()
    end = t0 + a.seconds
    seen = snapshot(a.dir)
    files = {}
    kids_seen = set(kids0)
    samples = [(0.0, w0)]
    last_sample = t0
    died = False
    while time.monotonic() < end:
        time.sleep(0.25)
        try:
            os.kill(a.pid, 0)
        except OSError:
            died = True
            break
        cur = snapshot(a.dir)
        account(files, seen, cur)
        seen = cur
        kids_seen.update(children(a.pid))
        if time.monotonic() - last_sample >= 1.0:
            last_sample = time.monotonic()
            try:
                samples.append((last_sample - t0, total(a.pid)[0]))
            except OSError:
                pass
    if prober:
        prober.stop.set()
        prober.join()
    if died:
        out = {"error": "seedd (pid %d) died during the window" % a.pid}
    else:
        w1, c1, wait1, kids1 = quiet_total(a.pid)
        d1 = dev_sectors(a.dir)
        account(files, seen, snapshot(a.dir))
        secs = time.monotonic() - t0
        samples.append((secs, w1))
        # Most written in any 60 s of the window (from the 1 s samples).
        worst = 0
        for i, (ti, wi) in enumerate(samples):
            for tj, wj in samples[i:]:
                if tj - ti <= 60.0:
                    worst = max(worst, wj - wi)
        out = {"seconds": round(secs, 1), "write_bytes": w1 - w0, "cancelled_write_bytes": c1 - c0,
               "waited_for_quiet_s": [wait0, wait1], "children_alive_at_ends": [kids0, kids1],
               "children_seen": len(kids_seen),
               "files": {n: f for n, f in sorted(files.items()) if f["bytes"] or f["rewrites"] or f["appends"] or f["links"]},
               "file_bytes": sum(f["bytes"] for f in files.values()),
               "device_sectors_written": (d1 - d0) if d0 is not None and d1 is not None else None,
               "worst_minute_bytes": worst, "dns": prober.result() if prober else None}
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, a.out)
    return 1 if died else 0


if __name__ == "__main__":
    raise SystemExit(main())
