#!/usr/bin/python3
"""An independent TSIG (RFC 8945, hmac-sha256) check, standard library only.

    tsig_check.py SECRET_B64 REQUEST [REPLIES]

REQUEST is one DNS message (as a client sent it); REPLIES a TCP stream of
replies (2-byte length, message), e.g. what tsig_interop serve wrote.
Checks the request's MAC, then the replies' chain: the first over the
request MAC + message + all TSIG variables, each later one over the
previous MAC + message + timers (5.3.1). Prints one line per message;
exits 1 when any MAC does not match.
"""
import base64
import hashlib
import hmac
import struct
import sys


def skip_name(m, o):
    while True:
        c = m[o]
        if c & 0xC0 == 0xC0:
            return o + 2
        if c == 0:
            return o + 1
        o += c + 1


def read_name(m, o):
    """The name at o, lowercase and uncompressed, and the offset after it."""
    labels, end = [], None
    while True:
        c = m[o]
        if c & 0xC0 == 0xC0:
            if end is None:
                end = o + 2
            o = (c & 0x3F) << 8 | m[o + 1]
            continue
        if c == 0:
            wire = b"".join(bytes([len(x)]) + x for x in labels) + b"\0"
            return wire.lower(), (o + 1 if end is None else end)
        labels.append(m[o + 1:o + 1 + c])
        o += c + 1


def split_tsig(m):
    """(offset of the TSIG RR, its fields) or None."""
    qd, an, ns, ar = struct.unpack("!4H", m[4:12])
    o = 12
    for _ in range(qd):
        o = skip_name(m, o) + 4
    for i in range(an + ns + ar):
        start = o
        name, o = read_name(m, o)
        typ, cls, ttl, rdlen = struct.unpack("!HHIH", m[o:o + 10])
        o += 10
        if typ == 250:
            assert i == an + ns + ar - 1, "TSIG not last"
            alg, p = read_name(m, o)
            hi, lo, fudge, maclen = struct.unpack("!HIHH", m[p:p + 10])
            p += 10
            mac = m[p:p + maclen]
            p += maclen
            orig, err, olen = struct.unpack("!HHH", m[p:p + 6])
            other = m[p + 6:p + 6 + olen]
            return start, dict(name=name, alg=alg, time=hi << 32 | lo, fudge=fudge, mac=mac,
                               orig=orig, error=err, other=other)
        o += rdlen
    return None


def stripped(m, off, orig):
    ar = struct.unpack("!H", m[10:12])[0] - 1
    return struct.pack("!H", orig) + m[2:10] + struct.pack("!H", ar) + m[12:off]


def variables(t):
    return (t["name"] + struct.pack("!HI", 255, 0) + t["alg"] +
            struct.pack("!HIHHH", t["time"] >> 32, t["time"] & 0xFFFFFFFF, t["fudge"], t["error"],
                        len(t["other"])) + t["other"])


def timers(t):
    return struct.pack("!HIH", t["time"] >> 32, t["time"] & 0xFFFFFFFF, t["fudge"])


def main():
    key = base64.b64decode(sys.argv[1], validate=True)
    req = open(sys.argv[2], "rb").read()
    bad = 0
    off, t = split_tsig(req)
    want = hmac.new(key, stripped(req, off, t["orig"]) + variables(t), hashlib.sha256).digest()
    ok = hmac.compare_digest(want[:len(t["mac"])], t["mac"])
    bad += not ok
    print("request: time signed %d, fudge %d, mac %d bytes: %s" %
          (t["time"], t["fudge"], len(t["mac"]), "MAC ok" if ok else "MAC BAD"))
    prior = t["mac"]
    if len(sys.argv) > 3:
        stream = open(sys.argv[3], "rb").read()
        n = 0
        while len(stream) >= 2:
            ln = stream[0] << 8 | stream[1]
            m, stream = stream[2:2 + ln], stream[2 + ln:]
            off, r = split_tsig(m)
            body = stripped(m, off, r["orig"])
            tail = variables(r) if n == 0 else timers(r)
            want = hmac.new(key, struct.pack("!H", len(prior)) + prior + body + tail,
                            hashlib.sha256).digest()
            ok = hmac.compare_digest(want, r["mac"])
            bad += not ok
            n += 1
            print("reply %d: %d bytes, time signed %d, error %d, orig id %d: %s" %
                  (n, ln, r["time"], r["error"], r["orig"], "MAC ok" if ok else "MAC BAD"))
            prior = r["mac"]
    sys.exit(1 if bad else 0)


main()
