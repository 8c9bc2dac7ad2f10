#!/usr/bin/env python3
"""Capture the real query packets dig and kdig send, as fuzz_dns seeds.

    tests/fuzz/capture_queries.py tests/fuzz/corpus/fuzz_dns

Listens on 127.0.0.1 (UDP and TCP, one random port; loopback only), runs
each client command below against it, and writes the first query each one
sends to OUTDIR/<name> (the DNS message alone, without the TCP length
prefix). Every query is answered REFUSED at once so the clients finish
without waiting for a timeout. Commands whose tool is missing are skipped.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

ZONE = "seed.example.com"

# (file name, argv after the tool's server/port arguments)
DIG = [
    ("dig_a", [ZONE, "A"]),
    ("dig_a_noedns", ["+noedns", ZONE, "A"]),
    ("dig_a_nocookie", ["+nocookie", ZONE, "A"]),
    ("dig_a_dnssec", ["+dnssec", ZONE, "A"]),
    ("dig_a_ednsopt", ["+ednsopt=65001:deadbeef", "+ednsopt=3", ZONE, "A"]),
    ("dig_a_nsid", ["+nsid", ZONE, "A"]),
    ("dig_a_subnet", ["+subnet=203.0.113.0/24", ZONE, "A"]),
    ("dig_a_padding", ["+padding=128", ZONE, "A"]),
    ("dig_a_edns1", ["+edns=1", "+noednsneg", ZONE, "A"]),
    ("dig_a_ednsflags", ["+ednsflags=0x7fff", ZONE, "A"]),
    ("dig_a_bufsize512", ["+bufsize=512", ZONE, "A"]),
    ("dig_a_bufsize4096", ["+bufsize=4096", ZONE, "A"]),
    ("dig_a_bufsize0", ["+bufsize=0", ZONE, "A"]),
    ("dig_a_norec_cd_ad", ["+norecurse", "+cdflag", "+adflag", ZONE, "A"]),
    ("dig_a_zflag", ["+zflag", ZONE, "A"]),
    ("dig_a_tcp", ["+tcp", ZONE, "A"]),
    ("dig_aaaa", [ZONE, "AAAA"]),
    ("dig_any", [ZONE, "ANY"]),
    ("dig_ns", [ZONE, "NS"]),
    ("dig_soa", [ZONE, "SOA"]),
    ("dig_mx", [ZONE, "MX"]),
    ("dig_txt", [ZONE, "TXT"]),
    ("dig_https", [ZONE, "TYPE65"]),
    ("dig_cname_www", ["www." + ZONE, "CNAME"]),
    ("dig_a_www", ["www." + ZONE, "A"]),
    ("dig_a_mixed_case", ["SeEd.ExAmPlE.CoM", "A"]),
    ("dig_a_wildcard", ["x7f3a9." + ZONE, "A"]),
    ("dig_a_deep", ["a.b.c.d.e." + ZONE, "A"]),
    ("dig_a_out_of_zone", ["example.org", "A"]),
    ("dig_ns_root", [".", "NS"]),
    ("dig_a_longlabel", ["x" * 63 + "." + ZONE, "A"]),
    ("dig_class_any", ["-c", "ANY", ZONE, "A"]),
    ("dig_class_hs", ["-c", "HS", ZONE, "A"]),
    ("dig_chaos_version_bind", ["-c", "CH", "version.bind", "TXT"]),
    ("dig_opcode_status", ["+opcode=status", ZONE, "A"]),
    ("dig_opcode_notify", ["+opcode=notify", ZONE, "SOA"]),
    ("dig_opcode_update", ["+opcode=update", ZONE, "SOA"]),
    ("dig_axfr", [ZONE, "AXFR"]),
    ("dig_ixfr", [ZONE, "IXFR=2026112201"]),
]

KDIG = [
    ("kdig_a", [ZONE, "A"]),
    ("kdig_a_edns", ["+edns=0", ZONE, "A"]),
    ("kdig_a_dnssec_nsid", ["+dnssec", "+nsid", ZONE, "A"]),
    ("kdig_a_cookie", ["+cookie", ZONE, "A"]),
    ("kdig_a_padding", ["+padding=64", ZONE, "A"]),
    ("kdig_a_subnet", ["+subnet=2001:db8::/48", ZONE, "A"]),
    ("kdig_a_ednsopt", ["+ednsopt=65002:0102", ZONE, "A"]),
    ("kdig_aaaa_tcp", ["+tcp", ZONE, "AAAA"]),
    ("kdig_any", [ZONE, "ANY"]),
    ("kdig_soa_norec", ["+norecurse", ZONE, "SOA"]),
    ("kdig_ns", [ZONE, "NS"]),
    ("kdig_a_0x20", ["sEED.eXAMPLE.cOM", "A"]),
    ("kdig_ch_txt", ["-c", "CH", "version.bind", "TXT"]),
    ("kdig_axfr", [ZONE, "AXFR"]),
]


def refused(query):
    """The query turned into a REFUSED response (enough for clients to stop)."""
    if len(query) < 12:
        return b""
    flags = struct.unpack("!H", query[2:4])[0] | 0x8000
    flags = (flags & 0xFFF0) | 5
    return query[:2] + struct.pack("!H", flags) + query[4:]


class Listener:
    def __init__(self):
        self.packets = []
        self.lock = threading.Lock()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(8)
        for fn in (self.serve_udp, self.serve_tcp):
            threading.Thread(target=fn, daemon=True).start()

    def keep(self, pkt):
        with self.lock:
            self.packets.append(pkt)

    def serve_udp(self):
        while True:
            pkt, peer = self.udp.recvfrom(65535)
            self.keep(pkt)
            self.udp.sendto(refused(pkt), peer)

    def serve_tcp(self):
        while True:
            conn, _ = self.tcp.accept()
            conn.settimeout(3)
            try:
                head = conn.recv(2, socket.MSG_WAITALL)
                if len(head) == 2:
                    n = struct.unpack("!H", head)[0]
                    pkt = conn.recv(n, socket.MSG_WAITALL)
                    self.keep(pkt)
                    r = refused(pkt)
                    conn.sendall(struct.pack("!H", len(r)) + r)
            except OSError:
                pass
            finally:
                conn.close()

    def take(self):
        with self.lock:
            p, self.packets = self.packets, []
            return p


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: capture_queries.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    ln = Listener()
    runs = []
    if shutil.which("dig"):
        runs += [(n, ["dig", "@127.0.0.1", "-p", str(ln.port), "+tries=1", "+timeout=2"] + a) for n, a in DIG]
    if shutil.which("kdig"):
        runs += [(n, ["kdig", "@127.0.0.1", "-p", str(ln.port), "+retry=0", "+timeout=2"] + a) for n, a in KDIG]
    for name, argv in runs:
        ln.take()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
        time.sleep(0.05)
        pkts = ln.take()
        if not pkts:
            print(f"{name}: no packet", file=sys.stderr)
            continue
        with open(os.path.join(out, name), "wb") as f:
            f.write(pkts[0])
        print(f"{name}: {len(pkts[0])} bytes")


if __name__ == "__main__":
    main()
