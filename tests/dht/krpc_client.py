#!/usr/bin/python3
"""A raw KRPC client and a fake DHT node for tests/integration/dht_files.sh.

  krpc_client.py --to HOST:PORT --from IP announce INFOHASH [--port P | --implied]
      get_peers for the token, then announce_peer from the same socket;
      prints "source PORT", "token HEX", then "announced" or "error CODE MSG".
  krpc_client.py --to HOST:PORT --from IP get_peers INFOHASH
      prints "source PORT", "token HEX" and one "values IP:PORT" per peer.
  krpc_client.py --fake-node IP:PORT --seconds N
      answers every query with its id and no nodes; prints "id HEX" first.
Loopback only; every wait is bounded.
"""
import argparse, os, socket, sys, time


def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, str):
        return benc(v.encode())
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    raise TypeError(v)


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        i, out = i + 1, []
        while b[i:i + 1] != b"e":
            v, i = bdec(b, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i, out = i + 1, {}
        while b[i:i + 1] != b"e":
            k, i = bdec(b, i)
            v, i = bdec(b, i)
            out[k] = v
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def ask(sock, to, msg):
    sock.sendto(benc(msg), to)
    end = time.time() + 3
    while time.time() < end:
        sock.settimeout(max(0.05, end - time.time()))
        try:
            data, src = sock.recvfrom(4096)
        except socket.timeout:
            break
        m = bdec(data)[0]
        # seedd may ask us find_node (we queried it, so it learnt us): not our answer.
        if src == to and m.get(b"y") in (b"r", b"e") and m.get(b"t") == msg["t"]:
            return m
    sys.exit("no answer from %s:%d" % to)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to")
    ap.add_argument("--from", dest="src", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6881)
    ap.add_argument("--implied", action="store_true")
    ap.add_argument("--fake-node")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("op", nargs="?")
    ap.add_argument("infohash", nargs="?")
    a = ap.parse_args()
    myid = os.urandom(20)
    if a.fake_node:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(hostport(a.fake_node))
        print("id", myid.hex(), flush=True)
        end = time.time() + a.seconds
        while time.time() < end:
            s.settimeout(0.2)
            try:
                data, src = s.recvfrom(4096)
                m = bdec(data)[0]
            except (socket.timeout, ValueError, IndexError):
                continue
            if isinstance(m, dict) and m.get(b"y") == b"q" and b"t" in m:
                s.sendto(benc({"t": m[b"t"], "y": "r", "r": {"id": myid, "nodes": b""}}), src)
        return
    to = hostport(a.to)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.src, 0))
    print("source", s.getsockname()[1])
    ih = bytes.fromhex(a.infohash)
    r = ask(s, to, {"t": b"gp", "y": "q", "q": "get_peers", "a": {"id": myid, "info_hash": ih}})
    tok = r[b"r"][b"token"]
    print("token", tok.hex())
    for v in r[b"r"].get(b"values", []):
        print("values %s:%d" % (socket.inet_ntoa(v[:4]), int.from_bytes(v[4:6], "big")))
    if a.op == "announce":
        time.sleep(0.3)  # stay well under 4 packets a second
        args = {"id": myid, "info_hash": ih, "port": a.port, "token": tok}
        if a.implied:
            args["implied_port"] = 1
        r = ask(s, to, {"t": b"ap", "y": "q", "q": "announce_peer", "a": args})
        if r.get(b"y") == b"r" and r.get(b"t") == b"ap":
            print("announced")
        else:
            print("error", *r.get(b"e", ["?"]))


if __name__ == "__main__":
    main()
