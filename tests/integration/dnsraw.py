#!/usr/bin/python3
"""Raw DNS over loopback for the integration tests (standard library only).

Library: build queries byte by byte (valid or deliberately broken), send them
over UDP or TCP to a loopback address, parse replies strictly.

CLI (prints a parsed reply, or the line NOREPLY):
  dnsraw.py query [opts] SERVER PORT NAME TYPE
      --tcp --timeout S --id N --opcode N --qr --norec --class C
      --edns SIZE --ednsver V --do --opt CODE:HEX (repeatable)
  dnsraw.py send [--tcp] [--timeout S] SERVER PORT HEX
  dnsraw.py build [opts] NAME TYPE        (prints the query as hex)

Reply format, one item per line:
  HDR id=.. qr=.. opcode=.. aa=.. tc=.. rd=.. ra=.. z=.. ad=.. cd=.. rcode=NAME qd=.. an=.. ns=.. ar=.. len=..
  Q NAME TYPE CLASS
  AN|NS|AR OWNER TTL CLASS TYPE RDATA
  OPT udp=.. ver=.. do=.. ercode=.. opts=CODE:HEX,...
  QHEX hex of the question section as sent back
  RAW hex of the whole reply
Only loopback destinations are allowed.
"""
import select
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "OPT": 41, "DS": 43, "DNSKEY": 48, "HTTPS": 65,
         "IXFR": 251, "AXFR": 252, "ANY": 255, "CAA": 257}
TYPENAMES = {v: k for k, v in TYPES.items()}
CLASSES = {"IN": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255}
CLASSNAMES = {v: k for k, v in CLASSES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 16: "BADVERS"}


def family_of(host):
    """AF_INET for 127.0.0.0/8, AF_INET6 for ::1; anything else is refused."""
    try:
        if socket.inet_pton(socket.AF_INET, host)[0] == 127:
            return socket.AF_INET
    except OSError:
        pass
    try:
        if socket.inet_pton(socket.AF_INET6, host) == b"\0" * 15 + b"\1":
            return socket.AF_INET6
    except OSError:
        pass
    raise SystemExit("dnsraw: refusing non-loopback destination %s" % host)


def tnum(t):
    if isinstance(t, int):
        return t
    t = t.upper()
    if t in TYPES:
        return TYPES[t]
    if t.startswith("TYPE"):
        return int(t[4:])
    return int(t)


def cnum(c):
    if isinstance(c, int):
        return c
    c = c.upper()
    if c in CLASSES:
        return CLASSES[c]
    if c.startswith("CLASS"):
        return int(c[5:])
    return int(c)


def encode_name(name):
    """Wire form of a dotted name; no validation (tests build bad names too)."""
    out = b""
    name = name.rstrip(".")
    if name:
        for label in name.split("."):
            lb = label.encode()
            out += bytes([len(lb)]) + lb
    return out + b"\x00"


def header(qid=0x1234, qr=0, opcode=0, aa=0, tc=0, rd=1, ra=0, z=0, rcode=0,
           qd=1, an=0, ns=0, ar=0):
    flags = (qr << 15) | (opcode << 11) | (aa << 10) | (tc << 9) | (rd << 8) | \
            (ra << 7) | (z << 4) | rcode
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def opt_rr(size=1232, ver=0, do=False, ercode=0, options=(), owner=b"\x00", rdlen=None):
    rdata = b"".join(struct.pack(">HH", c, len(d)) + d for c, d in options)
    ttl = (ercode << 24) | (ver << 16) | (0x8000 if do else 0)
    if rdlen is None:
        rdlen = len(rdata)
    return owner + struct.pack(">HHIH", 41, size, ttl, rdlen) + rdata


def build_query(name, qtype="A", qclass="IN", qid=0x1234, opcode=0, qr=0, rd=1,
                edns=None, ednsver=0, do=False, options=()):
    q = encode_name(name) + struct.pack(">HH", tnum(qtype), cnum(qclass))
    add = b""
    ar = 0
    if edns is not None:
        add = opt_rr(edns, ednsver, do, 0, options)
        ar = 1
    return header(qid=qid, qr=qr, opcode=opcode, rd=rd, ar=ar) + q + add


# ---- transport --------------------------------------------------------------

def udp_exchange(host, port, data, timeout=1.0):
    """Send one datagram from a socket connected to host:port (so only a reply
    from exactly that address is received). Returns bytes or None."""
    fam = family_of(host)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.connect((host, port))
        s.send(data)
        s.settimeout(timeout)
        try:
            return s.recv(65535)
        except (socket.timeout, ConnectionRefusedError):
            return None
    finally:
        s.close()


def tcp_connect(host, port, timeout=2.0):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_read_msg(s):
    """One length-prefixed message, or None on close/timeout."""
    try:
        hdr = recv_exact(s, 2)
        if hdr is None:
            return None
        (n,) = struct.unpack(">H", hdr)
        return recv_exact(s, n)
    except (socket.timeout, ConnectionResetError):
        return None


def tcp_frame(msg):
    return struct.pack(">H", len(msg)) + msg


def tcp_exchange(host, port, data, timeout=2.0):
    try:
        s = tcp_connect(host, port, timeout)
    except OSError:
        return None
    try:
        s.sendall(tcp_frame(data))
        return tcp_read_msg(s)
    finally:
        s.close()


def exchange(host, port, data, tcp=False, timeout=1.0):
    if tcp:
        return tcp_exchange(host, port, data, timeout)
    return udp_exchange(host, port, data, timeout)


def wait_closed(s, bound):
    """Seconds until the peer closes s (recv returns b'' or reset), or None
    when still open after bound seconds. Data received is discarded."""
    t0 = time.monotonic()
    s.setblocking(False)
    while True:
        left = bound - (time.monotonic() - t0)
        if left <= 0:
            return None
        r, _, _ = select.select([s], [], [], left)
        if r:
            try:
                d = s.recv(65535)
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - t0
            except BlockingIOError:
                continue
            if not d:
                return time.monotonic() - t0


# ---- parsing ----------------------------------------------------------------

class ParseError(Exception):
    pass


def read_name(msg, off):
    """(name, offset after the name in place). Strict: pointer loops, labels
    over 63, names over 255 raise ParseError."""
    labels = []
    end = None
    jumps = 0
    total = 1
    while True:
        if off >= len(msg):
            raise ParseError("name past end")
        b = msg[off]
        if b & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ParseError("pointer past end")
            ptr = ((b & 0x3F) << 8) | msg[off + 1]
            if end is None:
                end = off + 2
            jumps += 1
            if jumps > 127 or ptr >= len(msg):
                raise ParseError("bad pointer")
            off = ptr
            continue
        if b & 0xC0:
            raise ParseError("bad label type")
        if b == 0:
            off += 1
            break
        if off + 1 + b > len(msg):
            raise ParseError("label past end")
        lab = msg[off + 1:off + 1 + b]
        labels.append("".join(
            chr(c) if 0x21 <= c <= 0x7e and c not in (0x2e, 0x5c) else
            ("\\" + chr(c) if c in (0x2e, 0x5c) else "\\%03d" % c) for c in lab))
        total += b + 1
        if total > 255:
            raise ParseError("name too long")
        off += 1 + b
    if end is None:
        end = off
    return (".".join(labels) + "."), end


def fmt_rdata(msg, rtype, rd_off, rdlen):
    rd = msg[rd_off:rd_off + rdlen]
    if rtype == 1 and rdlen == 4:
        return socket.inet_ntop(socket.AF_INET, rd)
    if rtype == 28 and rdlen == 16:
        return socket.inet_ntop(socket.AF_INET6, rd)
    if rtype in (2, 5, 12):
        n, e = read_name(msg, rd_off)
        if e != rd_off + rdlen:
            raise ParseError("rdata length mismatch")
        return n
    if rtype == 6:
        m, o = read_name(msg, rd_off)
        r, o = read_name(msg, o)
        if o + 20 != rd_off + rdlen:
            raise ParseError("SOA rdata length mismatch")
        vals = struct.unpack(">IIIII", msg[o:o + 20])
        return "%s %s %s" % (m, r, " ".join(str(v) for v in vals))
    return "\\# %d %s" % (rdlen, rd.hex())


def parse(msg):
    """A dict: header fields, question, sections, opt. Raises ParseError."""
    if len(msg) < 12:
        raise ParseError("short")
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    r = {"id": qid, "qr": flags >> 15, "opcode": (flags >> 11) & 15,
         "aa": (flags >> 10) & 1, "tc": (flags >> 9) & 1, "rd": (flags >> 8) & 1,
         "ra": (flags >> 7) & 1, "z": (flags >> 6) & 1, "ad": (flags >> 5) & 1,
         "cd": (flags >> 4) & 1, "rcode": flags & 15, "qd": qd, "an": an,
         "ns": ns, "ar": ar, "len": len(msg), "question": [], "AN": [], "NS": [],
         "AR": [], "opt": None, "raw": msg}
    off = 12
    for _ in range(qd):
        n, off = read_name(msg, off)
        if off + 4 > len(msg):
            raise ParseError("question past end")
        t, c = struct.unpack(">HH", msg[off:off + 4])
        off += 4
        r["question"].append((n, t, c))
    r["qbytes"] = msg[12:off]
    for sec, cnt in (("AN", an), ("NS", ns), ("AR", ar)):
        for _ in range(cnt):
            owner, o = read_name(msg, off)
            if o + 10 > len(msg):
                raise ParseError("rr past end")
            t, c, ttl, rdlen = struct.unpack(">HHIH", msg[o:o + 10])
            o += 10
            if o + rdlen > len(msg):
                raise ParseError("rdata past end")
            if t == 41:
                if sec != "AR" or r["opt"] is not None:
                    raise ParseError("misplaced OPT")
                opts = []
                p = o
                while p < o + rdlen:
                    if p + 4 > o + rdlen:
                        raise ParseError("bad option")
                    oc, ol = struct.unpack(">HH", msg[p:p + 4])
                    opts.append((oc, msg[p + 4:p + 4 + ol]))
                    p += 4 + ol
                if p != o + rdlen:
                    raise ParseError("bad option length")
                r["opt"] = {"owner": owner, "udp": c, "ercode": ttl >> 24,
                            "ver": (ttl >> 16) & 255, "do": (ttl >> 15) & 1,
                            "zflags": ttl & 0x7FFF, "opts": opts}
            else:
                r[sec].append((owner, ttl, c, t, fmt_rdata(msg, t, o, rdlen)))
            off = o + rdlen
    if off != len(msg):
        raise ParseError("%d trailing bytes" % (len(msg) - off))
    full = r["rcode"] | ((r["opt"]["ercode"] << 4) if r["opt"] else 0)
    r["rcodename"] = RCODES.get(full, "RCODE%d" % full)
    return r


def render(msg):
    if msg is None:
        return "NOREPLY"
    try:
        r = parse(msg)
    except ParseError as e:
        return "UNPARSEABLE %s\nRAW %s" % (e, msg.hex())
    lines = ["HDR id=%d qr=%d opcode=%d aa=%d tc=%d rd=%d ra=%d z=%d ad=%d cd=%d "
             "rcode=%s qd=%d an=%d ns=%d ar=%d len=%d" % (
                 r["id"], r["qr"], r["opcode"], r["aa"], r["tc"], r["rd"], r["ra"],
                 r["z"], r["ad"], r["cd"], r["rcodename"], r["qd"], r["an"],
                 r["ns"], r["ar"], r["len"])]
    for n, t, c in r["question"]:
        lines.append("Q %s %s %s" % (n, TYPENAMES.get(t, "TYPE%d" % t),
                                     CLASSNAMES.get(c, "CLASS%d" % c)))
    for sec in ("AN", "NS", "AR"):
        for owner, ttl, c, t, rd in r[sec]:
            lines.append("%s %s %d %s %s %s" % (
                sec, owner, ttl, CLASSNAMES.get(c, "CLASS%d" % c),
                TYPENAMES.get(t, "TYPE%d" % t), rd))
    if r["opt"]:
        o = r["opt"]
        lines.append("OPT udp=%d ver=%d do=%d ercode=%d owner=%s opts=%s" % (
            o["udp"], o["ver"], o["do"], o["ercode"], o["owner"],
            ",".join("%d:%s" % (c, d.hex()) for c, d in o["opts"])))
    lines.append("QHEX %s" % r["qbytes"].hex())
    lines.append("RAW %s" % msg.hex())
    return "\n".join(lines)


# ---- test helpers -----------------------------------------------------------

def report(name, ok, reason=""):
    """The same lines as tests/lib.sh's pass/fail."""
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, reason), flush=True)
    return ok


def ask(host, port, name, qtype="A", tcp=False, **kw):
    """Parsed reply to one query, or None (no reply / unparseable)."""
    m = exchange(host, port, build_query(name, qtype, **kw), tcp, 2.0)
    if m is None:
        return None
    try:
        return parse(m)
    except ParseError:
        return None


def rdatas(r, sec="AN", rtype=None):
    return [rd for _, _, _, t, rd in r[sec] if rtype is None or t == tnum(rtype)]


# ---- CLI --------------------------------------------------------------------

def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="dnsraw.py")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def qopts(p):
        p.add_argument("--id", type=lambda s: int(s, 0), default=0x1234)
        p.add_argument("--opcode", type=int, default=0)
        p.add_argument("--qr", action="store_true")
        p.add_argument("--norec", action="store_true")
        p.add_argument("--class", dest="qclass", default="IN")
        p.add_argument("--edns", type=int)
        p.add_argument("--ednsver", type=int, default=0)
        p.add_argument("--do", action="store_true")
        p.add_argument("--opt", action="append", default=[])
        p.add_argument("name")
        p.add_argument("type")

    def tr(p):
        p.add_argument("--tcp", action="store_true")
        p.add_argument("--timeout", type=float, default=2.0)
        p.add_argument("server")
        p.add_argument("port", type=int)

    pq = sub.add_parser("query")
    tr(pq)
    qopts(pq)
    ps = sub.add_parser("send")
    tr(ps)
    ps.add_argument("hex")
    pb = sub.add_parser("build")
    qopts(pb)
    a = ap.parse_args(argv)

    if a.cmd in ("query", "build"):
        opts = []
        for o in a.opt:
            c, _, d = o.partition(":")
            opts.append((int(c), bytes.fromhex(d)))
        data = build_query(a.name, a.type, a.qclass, a.id, a.opcode, 1 if a.qr else 0,
                           0 if a.norec else 1, a.edns, a.ednsver, a.do, opts)
        if a.cmd == "build":
            print(data.hex())
            return 0
    else:
        data = bytes.fromhex(a.hex)
    print(render(exchange(a.server, a.port, data, a.tcp, a.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
