#!/usr/bin/python3
"""refcrawl: a small reference crawler (SPEC 5) over the websockets library,
used only to validate the simulated network (simnet.py) and the checks of
tests/integration/crawl_*.sh, never to judge seedd.

Crawl mode takes seedd's flags (those it does not use are ignored), walks
the network once from --seed (or from DIR/nodes.csv when there is no
--seed, speaking each node's remembered dialect first), and writes
DIR/nodes.csv and DIR/zone.csv as seedd would; on stderr it logs seedd's
lines "debug crawl node=... result=..." and "info crawl msg="crawl pass
done" nodes=N good=N ms=N":

    refcrawl.py --zone seed.test --data-dir DIR --seed ws://127.1.0.1:32767 \\
        [--port 32767] [--timeout 2] [--concurrency 64] [--max-nodes N] \\
        [--ca-file PEM] [--resolver 127.0.0.1:PORT]

Probe mode measures how fast the simulator serves: every good01/good11
node of a topology is checked ROUNDS times at --concurrency by a lean raw
client (the websockets client is slower than the simulator), and the rate
printed; with --sim-pid also the simulator's CPU per check:

    refcrawl.py --probe TOPO.json [--rounds 1] [--concurrency 256] [--shard K/N] [--sim-pid PID]
"""
import argparse
import asyncio
import base64
import csv
import ipaddress
import json
import math
import os
import random
import socket
import ssl
import string
import struct
import sys
import time
from urllib.parse import urlsplit

import websockets
import websockets.exceptions as wse

MAX_MESSAGE = 2 * 1024 * 1024
MAX_PEERS = 1000
HEADER = ("ip,good,last_check_time,port,network,first_seen,last_success,checks,successes,"
          "reliability,last_error,dialect,banned_until,r1d,w1d,r1w,w1w,url,node_id,fails,run_start,"
          "last_down").split(",")
WINDOWS = (("1d", 86400), ("1w", 604800))
ALNUM = string.ascii_letters + string.digits
T0 = time.monotonic()


def rid(n=10):
    return "".join(random.choices(ALNUM, k=n))


def now_utc(t=None):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t if t is not None else time.time()))


def logline(level, rest):
    sys.stderr.write("%s %s crawl %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), level, rest))
    sys.stderr.flush()


class Fail(Exception):
    def __init__(self, reason, ban=False):
        super().__init__(reason)
        self.reason, self.ban = reason, ban


class Node:
    def __init__(self, scheme, host, port, path="/"):
        self.scheme, self.host, self.port, self.path = scheme, host, port, path or "/"
        self.ip = None
        self.rec = {}

    @property
    def url(self):
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d%s" % (self.scheme, h, self.port, self.path)


def parse_peer(p, default_port):
    """A peer entry of either dialect -> (scheme, host, port, path) or None."""
    if isinstance(p, dict):
        host, port = p.get("address"), p.get("port", default_port)
        if not isinstance(host, str) or not isinstance(port, int):
            return None
        return ("ws", host.lower(), port, "/")
    if not isinstance(p, str):
        return None
    if "://" not in p:
        p = "ws://" + p
    try:
        u = urlsplit(p)
        port = u.port if u.port is not None else default_port
    except ValueError:
        return None
    if u.scheme not in ("ws", "wss") or not u.hostname or u.username or u.fragment:
        return None
    return (u.scheme, u.hostname.lower(), port, u.path or "/")


def keepable(ip, port):
    if not 0 < port < 65536:
        return False
    a = ipaddress.ip_address(ip)
    if a.is_unspecified or a.is_multicast or (a.version == 4 and a == ipaddress.ip_address("255.255.255.255")):
        return False
    return True


def is_ip(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


class Resolver:
    """A stub resolver for A records: one UDP query, retried, to --resolver."""

    def __init__(self, addr):
        if addr.startswith("["):
            host, _, port = addr[1:].partition("]:")
        elif addr.count(":") == 1:
            host, port = addr.split(":")
        else:
            host, port = addr, "53"
        self.addr = (host, int(port or 53))
        self.cache = {}

    async def a(self, name, timeout):
        if name in self.cache:
            return self.cache[name]
        loop = asyncio.get_running_loop()
        q = struct.pack(">HHHHHH", random.getrandbits(16), 0x0100, 1, 0, 0, 0)
        q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
        s = socket.socket(socket.AF_INET6 if ":" in self.addr[0] else socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            for _ in range(3):
                await loop.sock_sendto(s, q, self.addr)
                try:
                    r = await asyncio.wait_for(loop.sock_recv(s, 4096), timeout / 3)
                except asyncio.TimeoutError:
                    continue
                if r[:2] != q[:2]:
                    continue
                ips = self.parse(r)
                self.cache[name] = ips
                return ips
        finally:
            s.close()
        return None

    @staticmethod
    def parse(r):
        qd, an = struct.unpack(">HH", r[4:8])
        off = 12

        def skip_name(off):
            while True:
                l = r[off]
                if l >= 0xC0:
                    return off + 2
                if l == 0:
                    return off + 1
                off += 1 + l
        for _ in range(qd):
            off = skip_name(off) + 4
        ips = []
        for _ in range(an):
            off = skip_name(off)
            typ, cls, ttl, rdl = struct.unpack(">HHIH", r[off:off + 10])
            off += 10
            if typ == 1 and rdl == 4:
                ips.append(socket.inet_ntoa(r[off:off + 4]))
            off += rdl
        return ips


class Crawler:
    def __init__(self, a):
        self.a = a
        self.timeout = a.timeout
        self.nodes = {}          # (ip, port) -> Node
        self.queue = []          # LIFO of Node to check
        self.inflight = 0
        self.idle = asyncio.Event()
        self.sem = asyncio.Semaphore(max(1, a.concurrency))
        self.resolver = Resolver(a.resolver) if a.resolver else None
        self.ctx = ssl.create_default_context(cafile=a.ca_file) if a.ca_file else ssl.create_default_context()
        self.checks = 0

    # --- discovery ----------------------------------------------------------
    def learn(self, entry):
        p = parse_peer(entry, self.a.port)
        if p is None:
            return
        nd = Node(*p)
        if is_ip(nd.host):
            self.add(nd, nd.host)
        else:
            self.spawn(self.resolve(nd))

    async def resolve(self, nd):
        ips = await self.resolver.a(nd.host, self.timeout) if self.resolver else None
        if not ips:
            logline("debug", "node=%s result=bad reason=resolve" % nd.url)
            return
        self.add(nd, ips[0])

    def add(self, nd, ip, rec=None):
        if not keepable(ip, nd.port):
            return
        key = (ip, nd.port)
        if key in self.nodes or len(self.nodes) >= self.a.max_nodes:
            return
        nd.ip = ip
        nd.rec = rec or {}
        self.nodes[key] = nd
        self.queue.append(nd)
        self.pump()

    def spawn(self, coro):
        self.inflight += 1

        async def run():
            try:
                await coro
            finally:
                self.inflight -= 1
                self.pump()
        asyncio.get_running_loop().create_task(run())

    def pump(self):
        while self.queue:
            self.spawn(self.check(self.queue.pop()))
        if self.inflight == 0 and not self.queue:
            self.idle.set()

    # --- one check ------------------------------------------------------------
    async def check(self, nd):
        async with self.sem:
            t0 = time.monotonic()
            rec = nd.rec
            res = {"peers": 0}
            try:
                async with asyncio.timeout(self.timeout):
                    res = await self.talk(nd, rec.get("dialect", ""))
                good, reason = True, ""
            except TimeoutError:
                good, reason = False, "timeout"
            except Fail as f:
                good, reason = False, f.reason
                if f.ban:
                    rec["banned_until"] = now_utc(time.time() + 86400)
            ms = int((time.monotonic() - t0) * 1000)
            self.checks += 1
            t = time.time()
            rec["checks"] = rec.get("checks", 0) + 1
            rec.setdefault("first_seen", now_utc(t))
            rec["last_check_time"] = now_utc(t)
            rec["good"] = "yes" if good else "no"
            rec["last_error"] = reason
            if good:
                rec["successes"] = rec.get("successes", 0) + 1
                rec["last_success"] = now_utc(t)
                rec["dialect"] = res["dialect"]
            rec.setdefault("successes", 0)
            addr = "[%s]:%d" % (nd.ip, nd.port) if ":" in nd.ip else "%s:%d" % (nd.ip, nd.port)
            if good:
                logline("debug", "node=%s result=good peers=%d ms=%d dialect=%s" % (addr, res["peers"], ms, res["dialect"]))
            else:
                logline("debug", "node=%s result=bad reason=%s ms=%d" % (addr, reason, ms))

    async def talk(self, nd, dialect):
        kw = dict(host=nd.ip or nd.host, port=nd.port, compression=None, max_size=None,
                  ping_interval=None, open_timeout=None, close_timeout=1)
        if nd.scheme == "wss":
            kw["ssl"] = self.ctx
            kw["server_hostname"] = nd.host
        try:
            ws = await websockets.connect(nd.url, **kw)
        except ConnectionRefusedError:
            raise Fail("refused")
        except ssl.SSLError:
            raise Fail("tls")
        except wse.InvalidHandshake:
            raise Fail("handshake", ban=True)
        except OSError:
            raise Fail("unreachable")
        try:
            out = await self.ask(ws, dialect)
        except wse.ConnectionClosedError as e:
            code = e.sent.code if e.sent else None
            if code in (1002, 1007, 1009):
                raise Fail("protocol", ban=True)
            raise Fail("closed")
        except wse.ConnectionClosed:
            raise Fail("closed")
        try:
            await ws.close()
        except Exception:
            pass
        return out

    async def recv(self, ws):
        m = await ws.recv()
        if isinstance(m, bytes) or len(m.encode()) > MAX_MESSAGE:
            raise Fail("protocol", ban=True)
        try:
            j = json.loads(m)
        except ValueError:
            raise Fail("protocol", ban=True)
        if not isinstance(j, dict):
            raise Fail("protocol", ban=True)
        return j

    def peers_of(self, lst):
        if not isinstance(lst, list):
            raise Fail("protocol", ban=True)
        for p in lst[:MAX_PEERS]:
            self.learn(p)
        return min(len(lst), MAX_PEERS)

    async def ask(self, ws, dialect):
        if dialect != "1.1":
            ident = rid()
            await ws.send(json.dumps({"identifier": ident, "type": "question",
                                      "content": {"type": "want_peers", "count": 10000}}))
            while True:
                try:  # silence to want_peers counts as failing it: ask info (SPEC 5)
                    m = await asyncio.wait_for(self.recv(ws), self.timeout / 2)
                except asyncio.TimeoutError:
                    return await self.ask_info(ws)
                if "id" in m and "data" in m:
                    if m.get("type") in ("error", "response:peers"):
                        break  # a reply shaped like 1.1: ask again in 1.1
                    continue  # their own 1.1 question or a broadcast
                c = m.get("content") if isinstance(m.get("content"), dict) else {}
                if m.get("identifier") != ident:
                    continue  # their own question, a broadcast...
                if m.get("type") == "answer" and c.get("type") == "peers":
                    return {"dialect": "0.1", "peers": self.peers_of(c.get("peers"))}
                if m.get("type") == "error":
                    return await self.ask_info(ws)
        await ws.send(json.dumps({"id": rid(8), "type": "request:peers", "data": {"count": 10000}}))
        while True:
            m = await self.recv(ws)
            d = m.get("data") if isinstance(m.get("data"), dict) else {}
            if m.get("type") == "response:peers":
                return {"dialect": "1.1", "peers": self.peers_of(d.get("peers"))}
            if m.get("type") == "error":
                raise Fail("error")

    async def ask_info(self, ws):
        ident = rid()
        await ws.send(json.dumps({"identifier": ident, "type": "question", "content": {
            "type": "info", "version": "0.1", "peers": 0, "chains": {},
            "platform": {"system": "refcrawl"}, "full_node": False}}))
        while True:
            m = await self.recv(ws)
            c = m.get("content") if isinstance(m.get("content"), dict) else {}
            if m.get("identifier") == ident:
                if m.get("type") == "answer" and c.get("type") == "info":
                    return {"dialect": "0.1", "peers": 0}
                raise Fail("protocol")

    # --- files ----------------------------------------------------------------
    def load_nodes(self, path):
        with open(path) as f:
            for row in csv.DictReader(f):
                u = parse_peer(row.get("url") or "%s:%s" % (row["ip"], row["port"]), self.a.port)
                nd = Node(*u)
                rec = {k: row.get(k, "") for k in ("first_seen", "dialect", "banned_until")}
                rec["checks"] = int(row.get("checks") or 0)
                rec["successes"] = int(row.get("successes") or 0)
                self.add(nd, row["ip"], rec)

    def write(self, d):
        rows = []
        for (ip, port), nd in sorted(self.nodes.items()):
            r = nd.rec
            if "checks" not in r:
                continue
            ok = r["good"] == "yes"
            f = math.exp(-1000 / 86400)
            w = {}
            for name, tau in WINDOWS:
                ff = math.exp(-1000 / tau)
                w["r" + name] = "%.3f" % ((1 - ff) if ok else 0)
                w["w" + name] = "%.3f" % (1 - ff)
            row = dict(ip=ip, good=r["good"], last_check_time=r["last_check_time"], port=port,
                       network="infnote", first_seen=r["first_seen"], last_success=r.get("last_success", ""),
                       checks=r["checks"], successes=r["successes"],
                       reliability="%.3f" % ((1 - f) if ok else 0), last_error=r["last_error"],
                       dialect=r.get("dialect", ""), banned_until=r.get("banned_until", ""), url=nd.url, **w)
            rows.append(row)
        with open(os.path.join(d, "nodes.csv.tmp"), "w", newline="") as f:
            wr = csv.DictWriter(f, HEADER, lineterminator="\n", restval="")
            wr.writeheader()
            wr.writerows(rows)
        os.replace(os.path.join(d, "nodes.csv.tmp"), os.path.join(d, "nodes.csv"))
        z = self.a.zone
        static = []
        zp = os.path.join(d, "zone.csv")
        soa = "ns.%s,hostmaster.%s %s 900 300 604800 60" % (z, z, time.strftime("%Y%m%d01"))
        if os.path.exists(zp):
            with open(zp) as f:
                lines = f.read().splitlines()
            if lines:
                soa = lines[0]
                for l in lines[1:]:
                    name, _, val = l.partition(",")
                    if not (name == z and is_ip(val)):
                        static.append(l)
        good = [r["ip"] for r in rows if r["good"] == "yes" and int(r["port"]) == self.a.port]
        with open(zp + ".tmp", "w") as f:
            f.write("\n".join([soa] + static + ["%s,%s" % (z, ip) for ip in good]) + "\n")
        os.replace(zp + ".tmp", zp)
        return rows, good

    async def run(self):
        if self.a.seed:
            for s in self.a.seed:
                self.learn(s)
        else:
            self.load_nodes(os.path.join(self.a.data_dir, "nodes.csv"))
        self.pump()
        await self.idle.wait()
        rows, good = self.write(self.a.data_dir)
        logline("info", 'msg="crawl pass done" nodes=%d good=%d ms=%d' % (
            len(rows), sum(r["good"] == "yes" for r in rows), int((time.monotonic() - T0) * 1000)))


class RawCheck(asyncio.Protocol):
    """A lean check over our own framing, for probe mode: the websockets
    library's client is slower than the simulator it is meant to measure.
    Speaks 0.1 first; a 1.1 error leads to asking again in 1.1."""

    def __init__(self, done):
        self.done, self.buf, self.state, self.tr = done, bytearray(), "hs", None

    def connection_made(self, tr):
        self.tr = tr
        key = base64.b64encode(os.urandom(16))
        tr.write(b"GET / HTTP/1.1\r\nHost: probe\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")

    def send(self, op, payload):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes((0x80 | op, 0x80 | n)) if n < 126 else bytes((0x80 | op, 0xFE)) + n.to_bytes(2, "big")
        m = (mask * (n // 4 + 1))[:n]
        body = (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big") if n else b""
        self.tr.write(hdr + mask + body)

    def data_received(self, data):
        self.buf += data
        if self.state == "hs":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in self.buf[:end].split(b"\r\n")[0]:
                return self.finish(False)
            del self.buf[:end + 4]
            self.state = "01"
            self.send(1, json.dumps({"identifier": rid(), "type": "question",
                                     "content": {"type": "want_peers", "count": 10000}}).encode())
        while len(self.buf) >= 2:
            n, off = self.buf[1] & 0x7F, 2
            if n == 126:
                n, off = int.from_bytes(self.buf[2:4], "big"), 4
            elif n == 127:
                n, off = int.from_bytes(self.buf[2:10], "big"), 10
            if len(self.buf) < off + n:
                return
            p = bytes(self.buf[off:off + n])
            del self.buf[:off + n]
            if b'"peers"' in p and (b'"answer"' in p or b'"response:peers"' in p):
                self.send(8, b"\x03\xe8")
                return self.finish(True)
            if b'"error"' in p and b'"data"' in p and self.state == "01":
                self.state = "11"
                self.send(1, json.dumps({"id": rid(8), "type": "request:peers", "data": {"count": 10000}}).encode())

    def finish(self, ok):
        if not self.done.done():
            self.done.set_result(ok)
        self.tr.close()

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(False)


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return int(v[11]) + int(v[12])
    except (OSError, ValueError, IndexError):
        return None


async def probe(a):
    """Check every good node of a topology --rounds times at --concurrency;
    print the rate, and with --sim-pid the simulator's CPU per check."""
    with open(a.probe) as f:
        topo = json.load(f)
    k, n = (int(x) for x in a.shard.split("/"))
    goods = [x for i, x in enumerate(topo["nodes"]) if i % n == k and x["expect"]["good"] == "yes"
             and x["kind"] in ("good01", "good11")]
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(a.concurrency)
    bad = 0

    async def one(x):
        nonlocal bad
        async with sem:
            done = loop.create_future()
            try:
                async with asyncio.timeout(10):
                    await loop.create_connection(lambda: RawCheck(done), x["host"], x["port"])
                    ok = await done
            except (OSError, TimeoutError):
                ok = False
            bad += not ok
    c0 = cpu_ticks(a.sim_pid) if a.sim_pid else None
    t0 = time.monotonic()
    for _ in range(a.rounds):
        await asyncio.gather(*(one(x) for x in goods))
    dt = time.monotonic() - t0
    c1 = cpu_ticks(a.sim_pid) if a.sim_pid else None
    total = len(goods) * a.rounds
    out = {"checks": total, "failed": bad, "seconds": round(dt, 3), "per_second": round(total / dt, 1)}
    if c0 is not None and c1 is not None:
        cpu = (c1 - c0) / os.sysconf("SC_CLK_TCK")
        out["sim_cpu_seconds"] = round(cpu, 2)
        out["sim_busy"] = round(cpu / dt, 2)
        out["sim_capacity_per_second"] = round(total / cpu) if cpu > 0 else None
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-z", "--zone", default="seed.test")
    ap.add_argument("-d", "--data-dir", default=".")
    ap.add_argument("-s", "--seed", action="append")
    ap.add_argument("--port", type=int, default=32767)
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--concurrency", type=int, default=256)
    ap.add_argument("--max-nodes", type=int, default=100000)
    ap.add_argument("--ca-file")
    ap.add_argument("--resolver")
    ap.add_argument("--probe")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--shard", default="0/1")
    ap.add_argument("--sim-pid", type=int)
    a, _ignored = ap.parse_known_args()
    if a.probe:
        asyncio.run(probe(a))
    else:
        asyncio.run(Crawler(a).run())


if __name__ == "__main__":
    main()
