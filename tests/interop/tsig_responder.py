#!/usr/bin/python3
"""A tiny DNS responder for tests/interop/tsig.sh, standard library only.

    tsig_responder.py ADDR PORT KEYFILE OUTDIR TOOL

Listens on UDP and TCP. Every request is saved as OUTDIR/N-udp.bin or
N-tcp.bin; the answer comes from `TOOL serve KEYFILE` (tsig_interop), fed
the request on stdin, which prints the replies as a TCP stream (2-byte
length, message). Over UDP the first message is sent; over TCP all of
them. Each reply is saved too (N-reply.bin) with the tool's verdict line
in N-verdict.txt. Runs until killed.
"""
import os
import socket
import subprocess
import sys
import threading

addr, port, keyfile, outdir, tool = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
os.makedirs(outdir, exist_ok=True)
lock = threading.Lock()
count = [0]


def answer(req, kind):
    with lock:
        count[0] += 1
        n = count[0]
    with open(os.path.join(outdir, "%d-%s.bin" % (n, kind)), "wb") as f:
        f.write(req)
    p = subprocess.run([tool, "serve", keyfile], input=req, capture_output=True)
    with open(os.path.join(outdir, "%d-verdict.txt" % n), "wb") as f:
        f.write(p.stderr)
    out, msgs = p.stdout, []
    while len(out) >= 2:
        ln = out[0] << 8 | out[1]
        msgs.append(out[2:2 + ln])
        out = out[2 + ln:]
    with open(os.path.join(outdir, "%d-reply.bin" % n), "wb") as f:
        f.write(p.stdout)
    return msgs


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        req, peer = s.recvfrom(65535)
        msgs = answer(req, "udp")
        if msgs:
            s.sendto(msgs[0], peer)


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b


def tcp_client(c):
    with c:
        while True:
            hdr = recv_exact(c, 2)
            if hdr is None:
                return
            req = recv_exact(c, hdr[0] << 8 | hdr[1])
            if req is None:
                return
            for m in answer(req, "tcp"):
                c.sendall(len(m).to_bytes(2, "big") + m)


def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_client, args=(c,), daemon=True).start()


threading.Thread(target=udp, daemon=True).start()
tcp()
