#!/usr/bin/python3
"""simnet: a simulated network of websocket nodes on loopback, for testing
and benchmarking seedd's crawler (SPEC 5).

    simnet.py TOPO.json --ready FILE [--stats FILE] [--shard K/N]
              [--engine mixed|fast] [--light] [--max-seconds S]

TOPO.json (written by topo.py) holds {"nodes": [...]}; each node:
    id      unique name                 kind    see KINDS below
    host    IPv4 literal in 127/8 (or ::1)      port    TCP port
    name    optional DNS name that other nodes report it by
    dialect "0.1" or "1.1" (kinds that answer)  delay   seconds before answering
    peers   list: node ids (rendered in the reporter's dialect) or literals
            (a dict for 0.1 reporters, a URL string for 1.1 reporters)
    cert, key, sni   TLS kinds: PEM files, and the SNI the node insists on
    up_at   optional: seconds after t0 (below) when the node starts to listen;
            until then nothing listens (connections are refused, checked at start)
    down_at optional: seconds after t0 when the node stops listening and closes
            its open connections (the library's close code 1001, a plain close in
            the raw framing); refused afterwards (checked). With both, up_at < down_at.

Kinds:
    good01 good11 infoonly silentinfo slow chatty otherport tls tlsbad: well-behaved
    (infoonly answers want_peers with an error, silentinfo not at all; both answer info)
    websocket servers (the websockets library in the default "mixed" engine,
    an independent implementation; our own raw framing in "fast");
    fragmented badjson binary oversized big badaccept badbits: our raw
    framing, misbehaving on purpose; blackhole: accepts TCP, never answers;
    dead: no listener (checked to be refused at start).

The ready file is written once every listener that is up from the start
is up (nodes with up_at are not waited for); that moment is t0, the origin
of up_at and down_at, given in the ready file as "t0" (unix seconds).
SIGTERM or SIGINT writes the stats file and exits 0; SIGUSR1 writes it and
goes on. The process also stops by itself after --max-seconds.

Stats: {"hwm": most connections open at once, "conns": accepted, "problems":
[client misbehaviour seen: bad handshake, unmasked frame...], "spans":
[[node id, opened, closed] per connection, monotonic seconds], "nodes":
{id: {"conns": n, "pongs": n, "sni": [SNI per TLS handshake], "log":
[[tag, ...] per connection]}}}; tags are what the client sent, in order:
"01:want_peers", "01:info", "11:request:peers", "binary", "close" (a close
frame), "pong", "badjson", "other:..." (spans, log and sni are left out
with --light). Library-engine connections are counted from the end of the
websocket handshake, raw ones from the TCP accept. "t0" and "t0_mono": t0
in unix and in monotonic seconds (to place spans in time); nodes with up_at
or down_at also have "up" and "down": when that happened (unix seconds, null
until it did).
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import resource
import signal
import socket
import ssl
import string
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_CLIENT_MESSAGE = 1 << 20
TWO_MIB = 2 * 1024 * 1024
LIB_KINDS = {"good01", "good11", "infoonly", "silentinfo", "slow", "chatty", "otherport", "tls", "tlsbad"}
RAW_KINDS = {"fragmented", "badjson", "binary", "oversized", "big", "badaccept", "badbits"}
ALL_KINDS = LIB_KINDS | RAW_KINDS | {"blackhole", "dead"}
ALNUM = string.ascii_letters + string.digits


def rid(n=10):
    return "".join(random.choices(ALNUM, k=n))


def log(msg):
    sys.stderr.write("simnet: %s\n" % msg)
    sys.stderr.flush()


# --- nodes and what they say -------------------------------------------------

class Node:
    __slots__ = ("id", "kind", "host", "port", "name", "dialect", "delay", "peers_json",
                 "cert", "key", "sni", "fragments", "engine", "st", "up_at", "down_at",
                 "server", "live")

    def __init__(self, d):
        self.id = d["id"]
        self.kind = d["kind"]
        if self.kind not in ALL_KINDS:
            raise ValueError("node %s: unknown kind %r" % (self.id, self.kind))
        self.host = d["host"]
        self.port = int(d.get("port", 32767))
        self.name = d.get("name")
        self.dialect = d.get("dialect") or ("1.1" if self.kind == "good11" else "0.1")
        self.delay = float(d.get("delay", 0))
        self.cert, self.key, self.sni = d.get("cert"), d.get("key"), d.get("sni")
        self.fragments = int(d.get("fragments", 1))
        self.engine = d.get("engine")
        self.peers_json = "[]"
        self.st = {"conns": 0, "pongs": 0, "sni": [], "log": []}
        self.up_at = float(d["up_at"]) if d.get("up_at") is not None else None
        self.down_at = float(d["down_at"]) if d.get("down_at") is not None else None
        if self.kind == "dead" and (self.up_at is not None or self.down_at is not None):
            raise ValueError("node %s: a dead node has no up_at or down_at" % self.id)
        if (self.up_at is not None and self.up_at < 0) or (self.down_at is not None and self.down_at < 0):
            raise ValueError("node %s: up_at and down_at are seconds after t0, not negative" % self.id)
        if self.up_at is not None and self.down_at is not None and self.down_at <= self.up_at:
            raise ValueError("node %s: down_at must come after up_at" % self.id)
        if self.up_at is not None or self.down_at is not None:
            self.st["up"] = self.st["down"] = None
        self.server = None   # the listener while it is up
        self.live = set()    # open raw-framing connections, closed at down_at

    @property
    def listens_at_start(self):
        return self.kind != "dead" and self.up_at is None

    @property
    def tls(self):
        return self.kind in ("tls", "tlsbad")

    def advertised(self, dialect):
        """How another node reports this one, in the reporter's dialect."""
        host = self.name or self.host
        if dialect == "0.1":
            if self.tls:
                raise ValueError("node %s: a wss node cannot be reported in dialect 0.1" % self.id)
            return {"address": host, "port": self.port}
        if ":" in host:
            host = "[%s]" % host
        # Half with a trailing slash, half without, as real 1.1 nodes do.
        slash = "/" if sum(map(ord, self.id)) % 2 == 0 else ""
        return "%s://%s:%d%s" % ("wss" if self.tls else "ws", host, self.port, slash)

    # Messages, as text.
    def peers_answer(self, ident):
        if self.dialect == "1.1":
            return '{"id":"%s","type":"response:peers","data":{"peers":%s}}' % (rid(8), self.peers_json)
        return '{"identifier":%s,"type":"answer","content":{"type":"peers","peers":%s}}' % (
            json.dumps(ident), self.peers_json)

    def info_answer(self, ident):
        return json.dumps({"identifier": ident, "type": "answer", "content": {
            "type": "info", "version": "0.1", "peers": 3, "chains": {},
            "platform": {"system": "simnet"}, "full_node": True}})

    def error(self, ident):
        if self.dialect == "1.1":
            return json.dumps({"id": rid(8), "type": "error",
                               "data": {"Code": "BadRequestError", "Desc": "invalid message type"}})
        return json.dumps({"identifier": ident if isinstance(ident, str) else rid(),
                           "type": "error", "content": {"type": "error", "code": 1,
                                                        "desc": "unknown question"}})

    def chatter(self):
        """Unrelated traffic: the node's own question and a broadcast."""
        if self.dialect == "1.1":
            return [json.dumps({"id": rid(8), "type": "request:info", "data": {}}),
                    json.dumps({"id": rid(8), "type": "broadcast:block",
                                "data": {"chain_id": "x", "height": 7, "payload": "abc"}})]
        return [json.dumps({"identifier": rid(), "type": "question", "content": {
                    "type": "info", "version": "0.1", "peers": 3, "chains": {},
                    "platform": {"system": "simnet"}, "full_node": True}}),
                json.dumps({"identifier": rid(), "type": "broadcast", "content": {
                    "type": "block", "chain_id": "x", "height": 7, "payload": "abc"}})]

    def respond(self, text, tag):
        """Texts to send back for one text message from the client."""
        try:
            m = json.loads(text)
        except ValueError:
            tag("badjson")
            return []
        if not isinstance(m, dict):
            tag("other:nonobject")
            return []
        typ = m.get("type")
        if "id" in m and "data" in m:
            tag("11:%s" % typ)
            if self.dialect == "1.1" and typ == "request:peers":
                return self._chatty([self.peers_answer(None)])
            if self.dialect == "1.1" and typ == "response:info":
                return []
            return [self.error(m.get("identifier"))]
        ident = m.get("identifier")
        content = m.get("content")
        if typ == "question" and isinstance(content, dict):
            q = content.get("type")
            tag("01:%s" % q)
            if self.dialect == "1.1":
                return [self.error(None)]
            if q == "want_peers" and self.kind == "silentinfo":
                return []  # ignores it without an error: only info gets an answer
            if q == "want_peers" and self.kind != "infoonly":
                return self._chatty([self.peers_answer(ident)])
            if q == "info":
                return [self.info_answer(ident)]
            return [self.error(ident)]
        tag("01:%s" % typ if "identifier" in m else "other:%s" % typ)
        if self.dialect == "0.1" and typ == "answer":
            return []  # e.g. the client answering our own info question
        return [self.error(ident)]

    def _chatty(self, out):
        if self.kind == "chatty":
            return self.chatter()[1:] + out
        return out


class Sim:
    def __init__(self, light):
        self.light = light
        self.t0 = self.t0_mono = None
        self.open = 0
        self.hwm = 0
        self.conns = 0
        self.handshakes = 0
        self.answers = 0
        self.problems = []
        self.nodes = {}
        self.spans = []

    def conn_open(self, node):
        """A connection came: returns (tags, span), its log and its
        [node id, opened, closed] in monotonic seconds (None, None with --light)."""
        self.open += 1
        self.conns += 1
        if self.open > self.hwm:
            self.hwm = self.open
        node.st["conns"] += 1
        if self.light:
            return None, None
        tags = []
        node.st["log"].append(tags)
        span = [node.id, round(time.monotonic(), 4), None]
        if len(self.spans) < 100000:
            self.spans.append(span)
        return tags, span

    def conn_close(self, span):
        self.open -= 1
        if span is not None:
            span[2] = round(time.monotonic(), 4)

    def problem(self, node, what):
        if len(self.problems) < 200:
            self.problems.append("%s: %s" % (node.id, what))

    def stats(self):
        out = {"hwm": self.hwm, "conns": self.conns, "open": self.open,
               "handshakes": self.handshakes, "answers": self.answers,
               "problems": self.problems, "spans": self.spans, "nodes": {},
               "t0": self.t0, "t0_mono": self.t0_mono}
        for n in self.nodes.values():
            s = {"conns": n.st["conns"], "pongs": n.st["pongs"]}
            if "up" in n.st:
                s["up"], s["down"] = n.st["up"], n.st["down"]
            if not self.light:
                s["log"] = n.st["log"]
                s["sni"] = n.st["sni"]
            out["nodes"][n.id] = s
        return out


def tagger(tags):
    if tags is None:
        return lambda t: None
    return lambda t: len(tags) < 50 and tags.append(t)


# --- our own websocket server framing (RFC 6455) ----------------------------

def frame(op, payload, fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    if n < 126:
        hdr = bytes((b0, n))
    elif n < 65536:
        hdr = bytes((b0, 126)) + n.to_bytes(2, "big")
    else:
        hdr = bytes((b0, 127)) + n.to_bytes(8, "big")
    return hdr + payload


def unmask(mask, data):
    n = len(data)
    if n == 0:
        return b""
    m = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")


class RawWS(asyncio.Protocol):
    """One server connection. Checks what the client sends as strictly as
    RFC 6455 asks of a server (masking, handshake headers) and records any
    fault in the stats' problems."""

    def __init__(self, sim, node):
        self.sim, self.node = sim, node
        self.buf = bytearray()
        self.state = "handshake"
        self.frag = None
        self.timers = []
        self.tr = None
        self.tag = None
        self.span = None

    def connection_made(self, tr):
        self.tr = tr
        self.node.live.add(self)
        tags, self.span = self.sim.conn_open(self.node)
        self.tag = tagger(tags)
        if self.node.kind == "blackhole":
            self.state = "blackhole"

    def connection_lost(self, exc):
        self.node.live.discard(self)
        self.sim.conn_close(self.span)
        for t in self.timers:
            t.cancel()
        self.state = "closed"

    def eof_received(self):
        return False

    def data_received(self, data):
        if self.state in ("blackhole", "closed", "closing"):
            return
        self.buf += data
        if self.state == "handshake":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 8192:
                    self.reject("handshake over 8 KiB")
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[:end + 4]
            if not self.handshake(head):
                return
            self.state = "open"
            if self.node.kind == "chatty":
                for t in self.node.chatter():
                    self.send_text(t)
        self.frames()

    def reject(self, why):
        self.sim.problem(self.node, "client handshake: " + why)
        self.tr.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        self.state = "closing"
        self.tr.close()

    def handshake(self, head):
        lines = head.split("\r\n")
        req = lines[0].split(" ")
        if len(req) != 3 or req[0] != "GET" or not req[1].startswith("/") or req[2] != "HTTP/1.1":
            self.reject("request line %r" % lines[0])
            return False
        h = {}
        for line in lines[1:]:
            k, sep, v = line.partition(":")
            if not sep:
                self.reject("header line %r" % line)
                return False
            h[k.strip().lower()] = v.strip()
        key = h.get("sec-websocket-key", "")
        try:
            keyok = len(base64.b64decode(key, validate=True)) == 16
        except ValueError:
            keyok = False
        if ("host" not in h or h.get("upgrade", "").lower() != "websocket"
                or "upgrade" not in [t.strip().lower() for t in h.get("connection", "").split(",")]
                or h.get("sec-websocket-version") != "13" or not keyok):
            self.reject("headers %r" % h)
            return False
        if self.node.kind == "badaccept":
            key += "x"
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        self.tr.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
        self.sim.handshakes += 1
        return True

    def fail(self, why, code=1002):
        self.sim.problem(self.node, why)
        self.tr.write(frame(8, code.to_bytes(2, "big")))
        self.state = "closing"
        self.tr.close()

    def frames(self):
        buf = self.buf
        while self.state == "open" and len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n = b1 & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n = int.from_bytes(buf[2:4], "big")
                off = 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n = int.from_bytes(buf[2:10], "big")
                off = 10
            if not b1 & 0x80:
                return self.fail("client frame not masked")
            if b0 & 0x70:
                return self.fail("client frame with RSV bits")
            if n > MAX_CLIENT_MESSAGE:
                return self.fail("client frame of %d bytes" % n, 1009)
            if len(buf) < off + 4 + n:
                return
            mask = bytes(buf[off:off + 4])
            payload = unmask(mask, bytes(buf[off + 4:off + 4 + n]))
            del buf[:off + 4 + n]
            self.on_frame(b0 & 0x80, b0 & 0x0F, payload)

    def on_frame(self, fin, op, payload):
        if op == 8:
            self.tag("close")
            self.tr.write(frame(8, payload[:2]))
            self.state = "closing"
            self.tr.close()
        elif op == 9:
            self.tr.write(frame(10, payload))
        elif op == 10:
            self.tag("pong")
            self.node.st["pongs"] += 1
        elif op in (1, 2):
            if self.frag is not None:
                return self.fail("new data frame inside a fragmented message")
            if op == 2:
                self.tag("binary")
                return
            if fin:
                self.on_text(payload)
            else:
                self.frag = bytearray(payload)
        elif op == 0:
            if self.frag is None:
                return self.fail("continuation without a message")
            self.frag += payload
            if fin:
                p, self.frag = bytes(self.frag), None
                self.on_text(p)
        else:
            self.fail("client opcode %d" % op)

    def on_text(self, payload):
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return self.fail("client text not UTF-8", 1007)
        out = self.node.respond(text, self.tag)
        if not out:
            return
        if self.node.delay > 0:
            self.timers.append(asyncio.get_running_loop().call_later(
                self.node.delay, self.send_answers, out))
        else:
            self.send_answers(out)

    def send_text(self, text):
        self.tr.write(frame(1, text.encode()))

    def send_answers(self, out):
        if self.state != "open":
            return
        self.sim.answers += 1
        for t in out[:-1]:
            self.send_text(t)
        self.send_last(out[-1].encode())

    def send_last(self, p):
        kind, w = self.node.kind, self.tr.write
        if kind == "fragmented":
            # Four pieces: text FIN=0, ping, continuation, ping, continuation,
            # final continuation; the client must answer the pings.
            q = max(1, len(p) // 4)
            parts = [p[:q], p[q:2 * q], p[2 * q:3 * q], p[3 * q:]]
            w(frame(1, parts[0], fin=False))
            w(frame(9, b"ping-1"))
            w(frame(0, parts[1], fin=False))
            w(frame(9, b"ping-2"))
            w(frame(0, parts[2], fin=False))
            w(frame(0, parts[3], fin=True))
        elif kind == "badjson":
            w(frame(1, p[:len(p) // 2]))
        elif kind == "binary":
            w(frame(2, p))
        elif kind in ("oversized", "big"):
            size = TWO_MIB + (1 if kind == "oversized" else 0)
            p = p + b" " * (size - len(p))  # valid JSON, only too long
            k = self.node.fragments
            if k <= 1:
                w(frame(1, p))
            else:
                step = -(-len(p) // k)
                chunks = [p[i:i + step] for i in range(0, len(p), step)]
                for i, c in enumerate(chunks):
                    w(frame(1 if i == 0 else 0, c, fin=i == len(chunks) - 1))
        elif kind == "badbits":
            w(frame(1, p, rsv=0x40))
        else:
            w(frame(1, p))


# --- the same nodes through the websockets library --------------------------

def lib_server(sim, node, ctx):
    import websockets

    async def handler(ws, path=None):
        tags, span = sim.conn_open(node)
        tag = tagger(tags)
        sim.handshakes += 1
        try:
            if node.kind == "chatty":
                for t in node.chatter():
                    await ws.send(t)
            async for msg in ws:
                if isinstance(msg, bytes):
                    tag("binary")
                    continue
                out = node.respond(msg, tag)
                if not out:
                    continue
                if node.delay > 0:
                    await asyncio.sleep(node.delay)
                sim.answers += 1
                for t in out:
                    await ws.send(t)
        except websockets.ConnectionClosed:
            pass
        finally:
            if ws.close_rcvd is not None:
                tag("close")
            sim.conn_close(span)

    return websockets.serve(handler, node.host, node.port, ssl=ctx, compression=None,
                            ping_interval=None, max_size=MAX_CLIENT_MESSAGE,
                            close_timeout=2, reuse_address=True)


# --- main --------------------------------------------------------------------

def tls_context(node):
    """Records the SNI of every TLS handshake; refuses a wrong or missing
    one when the node has "sni" (SPEC 5: the client sends SNI)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(node.cert, node.key)

    def on_sni(sslobj, name, c):
        if len(node.st["sni"]) < 50:
            node.st["sni"].append(name)
        if node.sni and name != node.sni:
            log("node %s: SNI %r, want %r: refusing" % (node.id, name, node.sni))
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        return None
    ctx.sni_callback = on_sni
    return ctx


async def listen(sim, nd, engine):
    """Start node nd's listener: the websockets library's server or our raw framing."""
    loop = asyncio.get_running_loop()
    ctx = tls_context(nd) if nd.tls else None
    try:
        if nd.kind in LIB_KINDS and engine == "mixed" and nd.engine != "raw":
            return await lib_server(sim, nd, ctx)
        return await loop.create_server(lambda: RawWS(sim, nd), nd.host, nd.port, ssl=ctx,
                                        reuse_address=True, backlog=512)
    except OSError as e:
        raise OSError("node %s: cannot listen on %s:%d: %s" % (nd.id, nd.host, nd.port, e)) from None


def refused(nd):
    """Nothing listens on nd's address (a blocking connect: loopback answers at once)."""
    fam = socket.AF_INET6 if ":" in nd.host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex((nd.host, nd.port)) != 0


async def churn(sim, nd, engine):
    """Node nd's availability over time: up at t0 + up_at, down at t0 + down_at."""
    async def until(t):
        await asyncio.sleep(max(0.0, sim.t0_mono + t - time.monotonic()))
    if nd.up_at is not None:
        await until(nd.up_at)
        try:
            nd.server = await listen(sim, nd, engine)
        except OSError as e:  # the node stays down; the stats say why
            sim.problem(nd, "simnet: %s" % e)
            log(str(e))
            return
        nd.st["up"] = round(time.time(), 3)
        log("node %s up at t0+%.2fs" % (nd.id, time.monotonic() - sim.t0_mono))
    if nd.down_at is not None:
        await until(nd.down_at)
        srv, nd.server = nd.server, None
        srv.close()  # the library's server also closes its connections (1001)
        for c in list(nd.live):
            c.tr.close()
        try:
            await asyncio.wait_for(srv.wait_closed(), 5)
        except asyncio.TimeoutError:
            sim.problem(nd, "simnet: connections still open 5 s after down_at")
        nd.st["down"] = round(time.time(), 3)
        if not refused(nd):
            sim.problem(nd, "simnet: something still listens after down_at")
        log("node %s down at t0+%.2fs" % (nd.id, time.monotonic() - sim.t0_mono))


def load(path, shard):
    with open(path) as f:
        topo = json.load(f)
    nodes = [Node(d) for d in topo["nodes"]]
    byid = {n.id: n for n in nodes}
    if len(byid) != len(nodes):
        raise ValueError("duplicate node ids")
    raw = {d["id"]: d.get("peers", []) for d in topo["nodes"]}
    k, n = shard
    mine = [nd for i, nd in enumerate(nodes) if i % n == k]
    for nd in mine:
        out = []
        for p in raw[nd.id]:
            if isinstance(p, str) and p in byid:
                out.append(byid[p].advertised(nd.dialect))
            else:
                out.append(p)
        nd.peers_json = json.dumps(out, separators=(",", ":"))
    return mine


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("topo")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--stats")
    ap.add_argument("--shard", default="0/1")
    ap.add_argument("--engine", choices=("mixed", "fast"), default="mixed")
    ap.add_argument("--light", action="store_true", help="counts only, no per-connection log")
    ap.add_argument("--max-seconds", type=float, default=900)
    a = ap.parse_args()
    k, n = (int(x) for x in a.shard.split("/"))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sim = Sim(a.light)
    nodes = load(a.topo, (k, n))
    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    for nd in nodes:
        if not (nd.host.startswith("127.") or nd.host == "::1"):
            raise SystemExit("simnet: node %s: %s is not a loopback address" % (nd.id, nd.host))
        sim.nodes[nd.id] = nd
        if nd.listens_at_start:
            try:
                nd.server = await listen(sim, nd, a.engine)
            except OSError as e:
                raise SystemExit("simnet: %s" % e)
    # A dead node, or one not up yet, must really be unreachable: nothing else may listen there.
    for nd in nodes:
        if not nd.listens_at_start and not refused(nd):
            raise SystemExit("simnet: %s node %s: something listens on %s:%d" % (
                "dead" if nd.kind == "dead" else "not yet up", nd.id, nd.host, nd.port))
    servers = [nd for nd in nodes if nd.server is not None]

    def write_stats():
        if a.stats:
            tmp = a.stats + ".tmp"
            with open(tmp, "w") as f:
                json.dump(sim.stats(), f)
            os.replace(tmp, a.stats)

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, write_stats)
    sim.t0_mono, sim.t0 = round(time.monotonic(), 4), round(time.time(), 3)
    churning = [asyncio.create_task(churn(sim, nd, a.engine)) for nd in nodes
                if nd.up_at is not None or nd.down_at is not None]
    for nd in nodes:
        if nd.down_at is not None and nd.up_at is None:
            nd.st["up"] = sim.t0  # up from the start
    with open(a.ready + ".tmp", "w") as f:
        json.dump({"pid": os.getpid(), "nodes": len(nodes), "listeners": len(servers),
                   "later": len(churning), "t0": sim.t0,
                   "seconds": round(time.monotonic() - t0, 3)}, f)
    os.replace(a.ready + ".tmp", a.ready)
    log("shard %d/%d: %d nodes, %d listeners up in %.2fs%s" % (
        k, n, len(nodes), len(servers), time.monotonic() - t0,
        ", %d with up_at or down_at" % len(churning) if churning else ""))
    try:
        await asyncio.wait_for(stop.wait(), a.max_seconds)
    except asyncio.TimeoutError:
        log("--max-seconds passed, stopping")
    write_stats()
    for t in churning:
        t.cancel()
    for nd in nodes:
        if nd.server is not None:
            nd.server.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
