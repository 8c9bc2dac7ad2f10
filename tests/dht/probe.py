#!/usr/bin/python3
"""Raw KRPC probe of a DHT node (seedd's sniffer, in the swarm test).

    probe.py --target IP:PORT --bind IP --out probe.json [--prefix NAME]

From its own loopback address it sends hand-made datagrams and prints one
PASS/FAIL line per expectation: malformed query -> error 203 echoing t
(also when the damage comes after t);
unknown method -> 204; 4-byte and 1-byte transaction ids echoed verbatim; a
response and an error get no reply; announce_peer with a bad token -> 203;
get_peers then announce_peer with the token (explicit port, and
implied_port) -> answered. probe.json lists the infohashes the target must
then have recorded (and with which announcer), for swarm.py check.
"""
import argparse
import json
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kbencode import bdecode, bencode  # noqa: E402

GAP = 0.35  # keep well under 4 queries/s from one address


class Probe:
    def __init__(self, a):
        self.a = a
        ip, port = a.target.rsplit(':', 1)
        self.target = (ip, int(port))
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((a.bind, 0))
        self.me = '%s:%d' % self.s.getsockname()
        self.id = b'probe-node-id-000001'
        self.fails = 0
        self.last = 0.0

    def result(self, name, ok, why=''):
        if ok:
            print('PASS %s/%s' % (self.a.prefix, name))
        else:
            self.fails += 1
            print('FAIL %s/%s: %s' % (self.a.prefix, name, why))
        sys.stdout.flush()

    def send(self, raw):
        wait = self.last + GAP - time.time()
        if wait > 0:
            time.sleep(wait)
        self.last = time.time()
        self.s.sendto(raw, self.target)

    def replies(self, secs):
        """Responses and errors that arrive within secs (queries the target
        sends us on its own are ignored)."""
        out = []
        end = time.time() + secs
        while True:
            left = end - time.time()
            if left <= 0:
                return out
            self.s.settimeout(left)
            try:
                data, src = self.s.recvfrom(65536)
            except socket.timeout:
                return out
            if src != self.target:
                continue
            try:
                m = bdecode(data)
            except ValueError:
                out.append({b'y': b'?', b'raw': data})
                continue
            if isinstance(m, dict) and m.get(b'y') in (b'r', b'e'):
                out.append(m)

    def ask(self, raw, t, secs=2.0):
        """Send raw and wait for the reply carrying transaction id t."""
        self.send(raw)
        end = time.time() + secs
        while time.time() < end:
            for m in self.replies(end - time.time()):
                if m.get(b't') == t:
                    return m
        return None

    def query(self, q, args, t):
        a = {'id': self.id}
        a.update(args)
        return self.ask(bencode({'t': t, 'y': 'q', 'q': q, 'a': a}), t)

    def err_code(self, m):
        if not m or m.get(b'y') != b'e' or not isinstance(m.get(b'e'), list) or not m[b'e']:
            return None
        return m[b'e'][0]

    def run(self):
        ih = lambda c: bytes([c]) * 19 + b'\x01'
        # malformed queries with a transaction id: 203, t echoed
        m = self.query('find_node', {}, b'mf1')  # no target
        self.result('probe-malformed-203', self.err_code(m) == 203 and m.get(b't') == b'mf1',
                    'find_node without target: %r' % m)
        m = self.query('get_peers', {'info_hash': b'x' * 19}, b'mf2')
        self.result('probe-bad-infohash-203', self.err_code(m) == 203 and m.get(b't') == b'mf2',
                    'get_peers with a 19-byte info_hash: %r' % m)
        # damage after t (a string overrunning the datagram): 203 echoing t (SPEC 6)
        raw = bencode({'t': b'dm', 'y': 'q', 'q': 'ping', 'a': {'id': self.id}})
        m = self.ask(raw[:-7] + b'1:y99:q', b'dm')
        self.result('probe-damaged-after-t-203', self.err_code(m) == 203 and m.get(b't') == b'dm',
                    'a query whose last string overruns the datagram: %r' % m)
        # unknown method: 204
        m = self.query('frobnicate', {}, b'un')
        self.result('probe-unknown-204', self.err_code(m) == 204, 'reply to an unknown method: %r' % m)
        # transaction ids of any length echoed verbatim
        for t, name in ((b'\x01\x02\x03\x04', 'probe-tid-4'), (b'Z', 'probe-tid-1'), (b'\x00\xff\x00\xff\x00\xff', 'probe-tid-6')):
            m = self.query('ping', {}, t)
            self.result(name, m is not None and m.get(b'y') == b'r' and m.get(b't') == t,
                        'ping with tid %s: %r' % (t.hex(), m))
        # responses and errors are never answered
        self.send(bencode({'t': b'rr', 'y': 'r', 'r': {'id': self.id}}))
        got = self.replies(1.5)
        self.result('probe-no-reply-to-response', not got, 'answered a response: %r' % got[:2])
        self.send(bencode({'t': b'ee', 'y': 'e', 'e': [201, 'a generic error']}))
        got = self.replies(1.5)
        self.result('probe-no-reply-to-error', not got, 'answered an error: %r' % got[:2])
        # announce_peer with a bad token: 203, and nothing recorded
        bad = ih(0xb1)
        m = self.query('announce_peer', {'info_hash': bad, 'port': 1234, 'token': b'nope'}, b'bt')
        self.result('probe-bad-token-203', self.err_code(m) == 203, 'announce_peer with a bad token: %r' % m)
        # get_peers, then announce_peer with its token
        want = {}
        for n, (h, implied) in enumerate(((ih(0xa1), 0), (ih(0xa2), 1))):
            t = b'g%d' % n
            m = self.query('get_peers', {'info_hash': h}, t)
            r = m.get(b'r') if m and m.get(b'y') == b'r' else None
            tok = r.get(b'token') if isinstance(r, dict) else None
            self.result('probe-get-peers-token-%d' % n, isinstance(tok, bytes) and tok,
                        'get_peers answer without a token: %r' % m)
            if not tok:
                continue
            args = {'info_hash': h, 'port': 23456, 'token': tok}
            if implied:
                args['implied_port'] = 1
                args['port'] = 9
            m = self.query('announce_peer', args, b'a%d' % n)
            self.result('probe-announce-%s' % ('implied' if implied else 'port'),
                        m is not None and m.get(b'y') == b'r', 'announce_peer with the token: %r' % m)
            want[h.hex()] = self.me if implied else '%s:23456' % self.a.bind
        with open(self.a.out, 'w') as f:
            json.dump({'want': want, 'not_announced': [bad.hex()]}, f)
        return 1 if self.fails else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--target', required=True)
    p.add_argument('--bind', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--prefix', default='dht-swarm')
    return Probe(p.parse_args()).run()


if __name__ == '__main__':
    sys.exit(main())
