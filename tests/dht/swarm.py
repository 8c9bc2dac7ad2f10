#!/usr/bin/python3
"""A loopback swarm of real DHT nodes around seedd's DHT sniffer.

    swarm.py run   --work DIR [options]   run the swarm, write DIR/truth.json
    swarm.py check --work DIR --data DIR  compare truth.json with seedd's files

Run with Debian's /usr/bin/python3 (python3-libtorrent is built for it).
See README.md: which nodes, which workload, what is asserted. Every socket is
on 127.3.0.0/16; nothing here ever contacts another address.
"""
import argparse
import base64
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))



sys.path.insert(0, HERE)
from kbencode import bdecode, bencode, krpc  # noqa: E402,F401

# --- run: the swarm ----------------------------------------------------------

class Swarm:
    def __init__(self, a):
        self.a = a
        self.t0 = time.time()
        self.lock = threading.Lock()
        self.pkts = []      # [t, node, dir, ip, port, hex]
        self.events = []    # misc ground truth
        self.nodes = []     # {name, kind, ip, port, id}
        self.ann_alerts = []  # [t, node, ih, ip, port]  (libtorrent stored an announce)
        self.bans = []
        self.lt_log = []    # libtorrent's DHT log lines that mention seedd
        self.live = {}
        self.stats = {}
        self.jtables = {}
        self.jerrs = []
        self.jdone = []
        self.jready = {}
        self.ses = []       # (name, session)
        self.tmp = os.path.join(a.work, 'lt')
        os.makedirs(self.tmp, exist_ok=True)

    def log(self, *m):
        print('[%6.1f]' % (time.time() - self.t0), *m, file=sys.stderr, flush=True)

    # libtorrent
    def start_lt(self):
        import libtorrent as lt
        self.lt = lt
        cat = lt.alert.category_t
        mask = (cat.dht_notification | cat.dht_log_notification | cat.dht_operation_notification
                | cat.error_notification | cat.stats_notification)
        hub = None
        for i in range(self.a.nl):
            ip = '127.3.%d.1' % (i + 1)
            s = lt.session({
                'listen_interfaces': '%s:6881' % ip,
                'enable_dht': True,
                'enable_lsd': False,
                'enable_upnp': False,
                'enable_natpmp': False,
                'enable_ip_notifier': False,
                'dht_bootstrap_nodes': '',  # never the built-in router
                'dht_restrict_routing_ips': self.a.restrict,
                'dht_restrict_search_ips': self.a.restrict,
                'dht_sample_infohashes_interval': self.a.si_interval,
                'dht_announce_interval': 3600,  # one announce per torrent here
                # a torrent's announce sets implied_port when incoming uTP is on
                'enable_incoming_utp': i % 2 == 1,
                'active_downloads': -1,
                'active_seeds': -1,
                'active_limit': -1,
                'alert_queue_size': 200000,
                'alert_mask': mask,
            })
            name = 'L%d' % (i + 1)
            self.ses.append((name, s))
            self.nodes.append({'name': name, 'kind': 'lt', 'ip': ip, 'port': 6881, 'id': None})
            if hub is None:
                hub = ip
            else:
                s.add_dht_node((hub, 6881))

    def poll_lt(self):
        lt = self.lt
        now = time.time()
        for name, s in self.ses:
            for al in s.pop_alerts():
                if isinstance(al, lt.dht_pkt_alert):
                    m = re.match(r'(<==|==>) \[([0-9.]+):(\d+)\]', al.message())
                    if not m:
                        continue
                    d = 'in' if m.group(1) == '<==' else 'out'
                    self.pkts.append([now, name, d, m.group(2), int(m.group(3)), bytes(al.pkt_buf).hex()])
                elif isinstance(al, lt.dht_log_alert):
                    msg = al.log_message()
                    if 'BANNING' in msg:
                        self.bans.append([now, name, msg])
                    if self.a.seedd_ip in msg and len(self.lt_log) < 20000:
                        self.lt_log.append([now, name, msg])
                elif isinstance(al, lt.dht_announce_alert):
                    self.ann_alerts.append([now, name, str(al.info_hash), al.ip, al.port])
                elif isinstance(al, lt.dht_live_nodes_alert):
                    self.live[name] = [[str(n['nid']), n['endpoint'][0], n['endpoint'][1]] for n in al.nodes]
                elif isinstance(al, lt.session_stats_alert):
                    v = al.values
                    self.stats[name] = {k: v[k] for k in v if k.startswith('dht.')}

    # bittorrent-dht
    def start_js(self):
        if not self.a.nj:
            return
        addrs = ['127.3.%d.1:6881' % (11 + i) for i in range(self.a.nj)]
        self.js = subprocess.Popen(['node', os.path.join(HERE, 'jnode.mjs')] + addrs
                                   + ['--bootstrap', '127.3.1.1:6881'],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=open(os.path.join(self.a.work, 'jnode.log'), 'w'),
                                   cwd=HERE, text=True, bufsize=1)
        for i, a in enumerate(addrs):
            self.nodes.append({'name': 'J%d' % (i + 1), 'kind': 'js', 'ip': a.split(':')[0],
                               'port': 6881, 'id': None})
        threading.Thread(target=self.read_js, daemon=True).start()

    def read_js(self):
        for line in self.js.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            name = 'J%d' % (e.get('node', 0) + 1)
            with self.lock:
                ev = e['ev']
                if ev == 'pkt':
                    self.pkts.append([e['t'], name, e['dir'], e['ip'], e['port'],
                                      base64.b64decode(e['b64']).hex()])
                elif ev == 'ready':
                    self.jready[name] = e['id']
                elif ev == 'err':
                    e['name'] = name
                    self.jerrs.append(e)
                elif ev == 'done':
                    e['name'] = name
                    self.jdone.append(e)
                elif ev == 'table':
                    self.jtables[name] = e['nodes']

    def jcmd(self, **c):
        if self.a.nj:
            self.js.stdin.write(json.dumps(c) + '\n')
            self.js.stdin.flush()

    def jnode(self, name):
        return int(name[1:]) - 1

    # operations
    def add_torrent(self, s, ih, name):
        lt = self.lt
        p = lt.parse_magnet_uri('magnet:?xt=urn:btih:' + ih)
        p.save_path = os.path.join(self.tmp, name)
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        s.async_add_torrent(p)

    def op(self, o):
        kind, name, ih = o['op'], o['node'], o['ih']
        o['t'] = time.time()
        if name.startswith('L'):
            s = dict(self.ses)[name]
            if kind == 'announce':
                self.add_torrent(s, ih, name)
            else:
                s.dht_get_peers(self.lt.sha1_hash(bytes.fromhex(ih)))
        else:
            if kind == 'announce':
                self.jcmd(cmd='announce', node=self.jnode(name), ih=ih, port=o['port'])
            else:
                self.jcmd(cmd='lookup', node=self.jnode(name), ih=ih)
        self.events.append(o)

    def sleep(self, secs):
        end = time.time() + secs
        while time.time() < end:
            with self.lock:
                self.poll_lt()
            time.sleep(0.01)

    def plan(self, rng, nodes, hashes, kind, ops):
        """One operation per hash, rotating over the nodes."""
        k0 = len(ops)
        for n, ih in enumerate(hashes):
            node = nodes[(n * 5 + k0) % len(nodes)]
            o = {'op': kind, 'node': node, 'ih': ih}
            if kind == 'announce' and node.startswith('J'):
                # half the bittorrent-dht announces give a port, half use implied_port
                o['port'] = 0 if n % 2 else 20000 + rng.randrange(40000)
            ops.append(o)

    def run(self):
        a = self.a
        rng = random.Random(a.seed)
        mk = lambda n: [bytes(rng.randrange(256) for _ in range(20)).hex() for _ in range(n)]
        S, A, G = mk(a.s), mk(a.an), mk(a.g)
        self.start_lt()
        self.start_js()
        names_l = [n['name'] for n in self.nodes if n['kind'] == 'lt']
        names_j = [n['name'] for n in self.nodes if n['kind'] == 'js']
        self.log('swarm: %d libtorrent, %d bittorrent-dht' % (len(names_l), len(names_j)))
        self.sleep(a.form)
        # S: stored on the swarm before seedd exists; only BEP 51 can find them.
        # bittorrent-dht announces once to every node it knows (k = 20), so
        # every libtorrent node stores every S hash; a libtorrent torrent
        # would announce again a few seconds later, when seedd is up.
        s_ops = []
        for n, ih in enumerate(S):
            o = {'op': 'announce', 'node': names_j[n % len(names_j)], 'ih': ih, 'set': 'S',
                 'port': 20000 + rng.randrange(40000)}
            s_ops.append(o)
        for o in s_ops:
            self.op(o)
            self.sleep(0.2)
        end = time.time() + a.s_wait
        while time.time() < end:
            with self.lock:
                done = {e['ih'] for e in self.jdone if e['op'] == 'announce'}
            if all(ih in done for ih in S):
                break
            self.sleep(0.2)
        self.sleep(1)
        with self.lock:
            stored = {x[2] for x in self.ann_alerts}
        self.log('S: %d of %d stored on a libtorrent node' % (sum(ih in stored for ih in S), len(S)))
        # seedd starts now (the test script does it), then joins the swarm.
        open(a.ready_file, 'w').write('ready\n')
        end = time.time() + 30
        while not os.path.exists(a.go_file):
            if time.time() > end:
                self.log('no go file: giving up')
                return 1
            self.sleep(0.1)
        self.t_seedd = time.time()
        self.log('seedd is up')
        for name, s in self.ses:
            s.add_dht_node((a.seedd_ip, a.seedd_port))
            self.sleep(0.1)
        for j in names_j:
            self.jcmd(cmd='addnode', node=self.jnode(j), host=a.seedd_ip, port=a.seedd_port)
            self.sleep(0.1)
        self.sleep(a.join)
        # the workload: A announced, G only looked up, paced over a.work_secs
        ops = []
        self.plan(rng, names_l + names_j, A, 'announce', ops)
        self.plan(rng, names_l + names_j, G, 'get_peers', ops)
        order = list(range(len(ops)))
        rng.shuffle(order)
        # keep each node's operations apart: greedy pick of the next op
        # whose node has been idle longest
        last = {}
        seq = []
        pool = [ops[i] for i in order]
        while pool:
            pool.sort(key=lambda o: last.get(o['node'], -1))
            o = pool.pop(0)
            last[o['node']] = len(seq)
            seq.append(o)
        step = a.work_secs / max(1, len(seq))
        t1 = time.time()
        for n, o in enumerate(seq):
            o['set'] = 'A' if o['op'] == 'announce' else 'G'
            while time.time() < t1 + n * step:
                self.sleep(0.01)
            self.op(o)
        self.log('workload sent: %d ops' % len(seq))
        self.sleep(a.settle)
        # routing tables and counters
        for name, s in self.ses:
            nid = self.node_id(name)
            if nid:
                s.dht_live_nodes(self.lt.sha1_hash(bytes.fromhex(nid)))
            s.post_session_stats()
        self.jcmd(cmd='table')
        self.sleep(2)
        self.jcmd(cmd='quit')
        try:
            self.js.wait(timeout=5)
        except Exception:
            self.js.kill()
        self.write(S, A, G)
        return 0

    def node_id(self, name):
        for p in self.pkts:
            if p[1] == name and p[2] == 'out':
                m = krpc(bytes.fromhex(p[5]))
                if m is None:
                    continue
                body = m.get(b'a') if m.get(b'y') == b'q' else m.get(b'r')
                if isinstance(body, dict) and isinstance(body.get(b'id'), bytes) and len(body[b'id']) == 20:
                    return body[b'id'].hex()
        return None

    def write(self, S, A, G):
        with self.lock:
            for n in self.nodes:
                n['id'] = self.jready.get(n['name']) or self.node_id(n['name'])
            truth = {
                'seedd': [self.a.seedd_ip, self.a.seedd_port],
                'hub': '127.3.1.1:6881',
                'si_interval': self.a.si_interval,
                't_seedd': self.t_seedd,
                'nodes': self.nodes,
                'sets': {'S': S, 'A': A, 'G': G},
                'ops': self.events,
                'ann_alerts': self.ann_alerts,
                'bans': self.bans,
                'lt_log': self.lt_log,
                'live': self.live,
                'stats': self.stats,
                'jtables': self.jtables,
                'jerrs': self.jerrs,
                'jdone': self.jdone,
                'pkts': sorted(self.pkts, key=lambda p: p[0]),
            }
        tmp = os.path.join(self.a.work, 'truth.json.tmp')
        with open(tmp, 'w') as f:
            json.dump(truth, f)
        os.rename(tmp, os.path.join(self.a.work, 'truth.json'))
        self.log('truth written: %d packets' % len(truth['pkts']))


def cmd_run(a):
    os.makedirs(a.work, exist_ok=True)
    sw = Swarm(a)
    try:
        return sw.run()
    finally:
        if getattr(sw, 'js', None) and sw.js.poll() is None:
            sw.js.kill()


def cmd_check(a):
    from swarm_check import cmd_check as check
    return check(a)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('--work', required=True)
    r.add_argument('--ready-file', required=True)
    r.add_argument('--go-file', required=True)
    r.add_argument('--seedd-ip', default='127.3.0.1')
    r.add_argument('--seedd-port', type=int, default=6881)
    r.add_argument('--nl', type=int, default=8)
    r.add_argument('--nj', type=int, default=6)
    r.add_argument('--seed', type=int, default=1)
    r.add_argument('--s', type=int, default=16, help='infohashes stored before seedd starts')
    r.add_argument('--an', type=int, default=72, help='infohashes announced')
    r.add_argument('--g', type=int, default=36, help='infohashes looked up')
    r.add_argument('--si-interval', type=int, default=10)
    r.add_argument('--restrict', action='store_true',
                   help="libtorrent's defaults dht_restrict_routing_ips/dht_restrict_search_ips (one entry per /24)")
    r.add_argument('--form', type=float, default=5)
    r.add_argument('--s-wait', type=float, default=15)
    r.add_argument('--join', type=float, default=4)
    r.add_argument('--work-secs', type=float, default=54)
    r.add_argument('--settle', type=float, default=12)
    c = sub.add_parser('check')
    c.add_argument('--work', required=True)
    c.add_argument('--data', required=True)
    c.add_argument('--prefix', default='dht-swarm')
    a = p.parse_args()
    return cmd_run(a) if a.cmd == 'run' else cmd_check(a)


if __name__ == '__main__':
    sys.exit(main())
