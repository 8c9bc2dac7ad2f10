"""swarm.py check: truth.json (what the harness nodes sent and received)
against seedd's infohashes.csv and nodes.csv; prints PASS/FAIL and # lines."""
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

from kbencode import bdecode, bencode, krpc  # noqa: E402,F401

# --- check: truth.json against seedd's files ---------------------------------

def read_csv(path):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return []
    if not lines:
        return []
    head = lines[0].split(',')
    return [dict(zip(head, ln.split(','))) for ln in lines[1:] if ln]


class Checker:
    def __init__(self, a):
        self.a = a
        self.t = json.load(open(os.path.join(a.work, 'truth.json')))
        self.prefix = a.prefix
        self.fails = 0
        sip, sport = self.t['seedd']
        self.seedd = (sip, sport)
        self.byname = {n['name']: n for n in self.t['nodes']}
        self.addr = {n['name']: '%s:%d' % (n['ip'], n['port']) for n in self.t['nodes']}
        # decode once
        self.msgs = []  # (t, node, dir, ip, port, msg-or-None, raw)
        for t, node, d, ip, port, hx in self.t['pkts']:
            raw = bytes.fromhex(hx)
            self.msgs.append((t, node, d, ip, port, krpc(raw), raw))
        self.rows = {r['infohash']: r for r in read_csv(os.path.join(a.data, 'infohashes.csv'))}
        self.nodes_csv = read_csv(os.path.join(a.data, 'nodes.csv'))

    def ok(self, name, cond, why):
        if cond:
            print('PASS %s/%s' % (self.prefix, name))
        else:
            self.fails += 1
            print('FAIL %s/%s: %s' % (self.prefix, name, why))

    def info(self, *m):
        print('#', *m)

    def is_seedd(self, ip, port):
        return ip == self.seedd[0] and port == self.seedd[1]

    def to_seedd(self):
        """Queries harness nodes sent to seedd, each with seedd's answer."""
        replies = {}
        for t, node, d, ip, port, m, raw in self.msgs:
            if d == 'in' and self.is_seedd(ip, port) and m and m.get(b'y') in (b'r', b'e'):
                replies.setdefault((node, m.get(b't')), []).append((t, m))
        out = []
        for t, node, d, ip, port, m, raw in self.msgs:
            if d == 'out' and self.is_seedd(ip, port) and m and m.get(b'y') == b'q':
                rs = [r for r in replies.get((node, m.get(b't')), []) if r[0] >= t - 0.05]
                out.append((t, node, m, rs[0][1] if rs else None))
        return out

    def check(self):
        t = self.t
        qs = self.to_seedd()
        sets = t['sets']
        S, A, G = set(sets['S']), set(sets['A']), set(sets['G'])
        info = self.info
        info('infohashes.csv rows: %d, nodes.csv rows: %d' % (len(self.rows), len(self.nodes_csv)))

        outside = sorted({ip for tt, node, d, ip, port, m, raw in self.msgs if not ip.startswith('127.')})
        self.ok('loopback-only', not outside, 'packets to or from %s' % ' '.join(outside[:5]))

        # 1. announce_peer queries that reached seedd are recorded
        all_ap = 0
        for tt, node, d, ip, port, m, raw in self.msgs:
            if d == 'out' and m and m.get(b'y') == b'q' and m.get(b'q') == b'announce_peer':
                all_ap += 1
        aps = [(tt, node, m, r) for tt, node, m, r in qs if m.get(b'q') == b'announce_peer']
        answered = [x for x in aps if x[3] is not None and x[3].get(b'y') == b'r']
        errored = [x for x in aps if x[3] is not None and x[3].get(b'y') == b'e']
        silent = [x for x in aps if x[3] is None]
        info('announce_peer sent by harness nodes: %d; to seedd: %d (%.0f%%); answered %d, errors %d, unanswered %d'
             % (all_ap, len(aps), 100.0 * len(aps) / max(1, all_ap), len(answered), len(errored), len(silent)))
        by_node_ap = {}
        for x in aps:
            by_node_ap.setdefault(x[1], 0)
            by_node_ap[x[1]] += 1
        info('announce_peer to seedd by node: %s' % ' '.join('%s=%d' % kv for kv in sorted(by_node_ap.items())))
        self.ok('announces-reach-seedd', len(aps) >= 10,
                'only %d announce_peer queries reached seedd (of %d sent in the swarm)' % (len(aps), all_ap))
        self.ok('announces-no-error', not errored,
                '%d valid announce_peer got an error, e.g. %s from %s: %r' % (
                    len(errored), errored[0][2].get(b'a', {}).get(b'info_hash', b'').hex(), errored[0][1],
                    errored[0][3].get(b'e')) if errored else '')
        # seedd may leave some unanswered (its per-address cap): informational
        info('announce_peer to seedd left unanswered: %d of %d' % (len(silent), len(aps)))

        def expect(group):
            """infohash -> [(t, announcer ip:port)] for the announces in group."""
            want = {}
            for tt, node, m, r in group:
                a = m.get(b'a', {})
                n = self.byname[node]
                port = n['port'] if a.get(b'implied_port') else a.get(b'port')
                want.setdefault(a.get(b'info_hash', b'').hex(), []).append((tt, '%s:%s' % (n['ip'], port)))
            return want

        def recorded(want):
            good, bad = 0, []
            for ih, who in want.items():
                r = self.rows.get(ih)
                if r and int(r.get('announces') or 0) >= 1 and r.get('last_announcer') in {w[1] for w in who}:
                    good += 1
                else:
                    bad.append('%s want %s got %s' % (ih[:12], max(who)[1], 'no row' if not r else
                               'announces=%s last_announcer=%s' % (r.get('announces'), r.get('last_announcer'))))
            return good, bad

        want = expect(answered)
        good, bad = recorded(want)
        want_all = expect(answered + silent)
        good_all, _ = recorded(want_all)
        recorded_a = sum(1 for ih in A if ih in self.rows and int(self.rows[ih].get('announces') or 0) >= 1)
        info('infohashes announced to seedd and answered: %d, recorded right: %d; counting unanswered ones too: '
             '%d, recorded right %d; set A recorded as announced: %d of %d'
             % (len(want), good, len(want_all), good_all, recorded_a, len(A)))
        self.ok('announce-recall', want and good >= 0.95 * len(want),
                '%d of %d recorded right; %s' % (good, len(want), '; '.join(bad[:4])))
        implied = [x for x in answered if x[2].get(b'a', {}).get(b'implied_port')]
        imp_ok = 0
        for tt, node, m, r in implied:
            row = self.rows.get(m[b'a'][b'info_hash'].hex())
            if row and row.get('last_announcer') == self.addr[node]:
                imp_ok += 1
        zero = sum(1 for x in implied if not x[2][b'a'].get(b'port'))
        info('implied_port announces answered: %d (%d with port 0, from bittorrent-dht), recorded with the UDP '
             'source port: %d' % (len(implied), zero, imp_ok))
        self.ok('implied-port', implied and imp_ok >= 0.95 * len(implied),
                '%d of %d implied_port announces recorded with the source port' % (imp_ok, len(implied)))

        # 2. get_peers
        gp = {}
        for tt, node, m, r in qs:
            if m.get(b'q') == b'get_peers' and r is not None and r.get(b'y') == b'r':
                gp.setdefault(m.get(b'a', {}).get(b'info_hash', b'').hex(), 0)
        g_reached = [ih for ih in G if ih in gp]
        g_ok = [ih for ih in g_reached if ih in self.rows and int(self.rows[ih].get('get_peers') or 0) >= 1]
        info('G: %d looked up, %d reached seedd, %d recorded with get_peers>=1; get_peers hashes seen by seedd: %d'
             % (len(G), len(g_reached), len(g_ok), len(gp)))
        self.ok('get-peers-recorded', g_reached and len(g_ok) == len(g_reached),
                'missing: %s' % ' '.join(ih[:12] for ih in set(g_reached) - set(g_ok)))
        gp_all_ok = sum(1 for ih in gp if ih in self.rows and int(self.rows[ih].get('get_peers') or 0) >= 1)
        self.ok('get-peers-all-recorded', gp_all_ok >= 0.95 * len(gp) and gp,
                '%d of %d answered get_peers hashes recorded' % (gp_all_ok, len(gp)))

        # 3. BEP 51
        lt_names = set(self.ses_names())
        sampled = {}   # node -> [t of seedd's SI queries]
        samples = set()
        for tt, node, d, ip, port, m, raw in self.msgs:
            if not self.is_seedd(ip, port) or not m:
                continue
            if d == 'in' and m.get(b'y') == b'q' and m.get(b'q') == b'sample_infohashes':
                sampled.setdefault(node, []).append(tt)
            if d == 'out' and m.get(b'y') == b'r' and isinstance(m.get(b'r'), dict) and b'samples' in m[b'r']:
                s = m[b'r'][b'samples']
                for k in range(0, len(s) - 19, 20):
                    samples.add(s[k:k + 20].hex())
        lt_sampled = {n: ts for n, ts in sampled.items() if n in lt_names}
        s_found = [ih for ih in S if ih in self.rows and int(self.rows[ih].get('samples') or 0) >= 1]
        smp_ok = [ih for ih in samples if ih in self.rows and int(self.rows[ih].get('samples') or 0) >= 1]
        info('BEP 51: seedd sampled %d libtorrent nodes %d times (and sent %d sample_infohashes to bittorrent-dht '
             'nodes, which ignore it); %d hashes in the answers, %d recorded with samples>=1; S found %d of %d'
             % (len(lt_sampled), sum(map(len, lt_sampled.values())),
                sum(len(ts) for n, ts in sampled.items() if n not in lt_names),
                len(samples), len(smp_ok), len(s_found), len(S)))
        self.ok('bep51-sampled', len(lt_sampled) >= 0.75 * len(lt_names),
                'seedd sent sample_infohashes to %d libtorrent nodes: %s' % (len(lt_sampled), sorted(lt_sampled)))
        self.ok('bep51-recorded', samples and len(smp_ok) == len(samples),
                '%d of %d sampled hashes recorded with samples>=1' % (len(smp_ok), len(samples)))
        self.ok('bep51-found-S', len(s_found) >= 0.9 * len(S),
                'S hashes with samples>=1: %d of %d' % (len(s_found), len(S)))
        iv = t['si_interval']
        early = []
        for node, ts in lt_sampled.items():
            for x, y in zip(ts, ts[1:]):
                if y - x < iv - 0.5:
                    early.append('%s after %.1fs' % (node, y - x))
        self.ok('bep51-interval', not early,
                'sample_infohashes again before the interval (%ds): %s' % (iv, ', '.join(early[:5])))

        # 4. nodes.csv
        answered_seedd = set()
        for tt, node, d, ip, port, m, raw in self.msgs:
            if d == 'out' and self.is_seedd(ip, port) and m and m.get(b'y') == b'r':
                answered_seedd.add(node)
        dht_rows = {'%s:%s' % (r.get('ip'), r.get('port')) for r in self.nodes_csv if r.get('network') == 'dht'}
        missing = sorted(n for n in answered_seedd if self.addr[n] not in dht_rows)
        info('harness nodes that answered seedd: %d; nodes.csv dht rows: %d' % (len(answered_seedd), len(dht_rows)))
        self.ok('nodes-csv', answered_seedd and not missing,
                'answered seedd but not in nodes.csv as dht: %s' % ' '.join(missing))
        allnames = [n['name'] for n in t['nodes']]
        self.ok('talked-with-all', len(answered_seedd) == len(allnames),
                'seedd never got an answer from %s' % ' '.join(n for n in allnames if n not in answered_seedd))

        # 5. politeness
        # A ban names the banned ip ("BANNING PEER [ ip: A.B.C.D ..."): seedd's must never appear.
        def banned_ip(msg):
            m = re.search(r'ip: ([0-9.]+)', msg)
            return m.group(1) if m else '?'
        of_seedd = [b for b in t['bans'] if banned_ip(b[2]) in (self.seedd[0], '?')]
        others = [b for b in t['bans'] if b not in of_seedd]
        self.ok('no-ban', not of_seedd, 'libtorrent: %s' % '; '.join('%s %s' % (b[1], b[2]) for b in of_seedd[:3]))
        for b in others[:3]:
            # Not seedd's doing (seedd never hands a node its own address; checked by its unit
            # tests and fuzz target): reported, and the drop counter below then counts those.
            info('a harness node banned another address: %s %s' % (b[1], b[2]))
        dropped = {n: s.get('dht.dht_messages_in_dropped', 0) for n, s in t['stats'].items()}
        banned_nodes = {b[1] for b in others}
        self.ok('no-dropped', len(dropped) == len(self.ses_names()) and
                not any(v for n, v in dropped.items() if n not in banned_nodes),
                'dht_messages_in_dropped: %s' % dropped)
        # Packets from seedd per harness node in any 1 s (libtorrent's times
        # are when its alerts were popped, every 10 ms: a 30 ms allowance),
        # and in any 10 s (libtorrent bans at 50 in 10 s).
        per = {}
        for tt, node, d, ip, port, m, raw in self.msgs:
            if d == 'in' and ip == self.seedd[0]:
                per.setdefault(node, []).append(tt)

        def most(span):
            worst, where = 0, ''
            for node, ts in per.items():
                j = 0
                for i in range(len(ts)):
                    while ts[i] - ts[j] >= span:
                        j += 1
                    if i - j + 1 > worst:
                        worst, where = i - j + 1, '%s at +%.1fs' % (node, ts[i] - t['t_seedd'])
            return worst, where
        per = {}
        for tt, node, d, ip, port, m, raw in self.msgs:
            if d == 'out' and ip == self.seedd[0]:
                per.setdefault(node, []).append(tt)
        h1, hat1 = most(0.97)
        info('most packets from one harness node to seedd in 1 s: %d (%s)' % (h1, hat1))
        per = {}
        for tt, node, d, ip, port, m, raw in self.msgs:
            if d == 'in' and ip == self.seedd[0]:
                per.setdefault(node, []).append(tt)
        w1, at1 = most(0.97)
        w10, at10 = most(10.0)
        info('packets from seedd: %d; most to one node in 1 s: %d (%s), in 10 s: %d (%s)'
             % (sum(map(len, per.values())), w1, at1, w10, at10))
        self.ok('rate-per-node', w1 <= 5, '%d packets in 1 s to %s' % (w1, at1))
        self.ok('rate-per-node-10s', w10 < 50, '%d packets in 10 s to %s' % (w10, at10))
        # seedd's own queries use 2-byte tids; it answers only queries
        asked = set()
        bad_tid, unsolicited = [], []
        for tt, node, d, ip, port, m, raw in self.msgs:
            if not self.is_seedd(ip, port) or not m:
                continue
            if d == 'out' and m.get(b'y') == b'q':
                asked.add((node, m.get(b't')))
            elif d == 'in' and m.get(b'y') == b'q' and len(m.get(b't') or b'') != 2:
                bad_tid.append('%s %r' % (node, m.get(b't')))
            elif d == 'in' and m.get(b'y') in (b'r', b'e') and (node, m.get(b't')) not in asked:
                unsolicited.append('%s %s t=%r' % (node, m.get(b'y'), m.get(b't')))
        self.ok('seedd-tid-2', not bad_tid, 'queries with other tids: %s' % ', '.join(bad_tid[:5]))
        self.ok('no-unsolicited-replies', not unsolicited,
                'replies to nothing we asked: %s' % ', '.join(unsolicited[:5]))
        unans = {}
        for tt, node, m, r in qs:
            c = unans.setdefault(node[0], [0, 0])
            c[0] += 1
            c[1] += r is None
        info('queries to seedd left unanswered: libtorrent %d of %d, bittorrent-dht %d of %d'
             % (unans.get('L', [0, 0])[1], unans.get('L', [0, 0])[0], unans.get('J', [0, 0])[1], unans.get('J', [0, 0])[0]))
        ev = sum(1 for x in t.get('lt_log', []) if 'changed ID' in x[2])
        nf = sum(1 for x in t.get('lt_log', []) if 'NODE FAILED' in x[2])
        info('libtorrent log about seedd: %d "evicting node (changed ID)", %d "NODE FAILED"' % (ev, nf))
        # libtorrent keeps seedd in its routing table
        have = [n for n, nodes in t['live'].items() if any(ip == self.seedd[0] and p == self.seedd[1]
                                                            for _, ip, p in nodes)]
        info('libtorrent routing tables with seedd: %d of %d (%s)' % (len(have), len(t['live']), ' '.join(sorted(have))))
        self.ok('lt-keeps-seedd', t['live'] and len(have) >= 0.75 * len(t['live']),
                'seedd in the routing table of %d of %d libtorrent nodes' % (len(have), len(t['live'])))
        jhave = [n for n, nodes in t['jtables'].items() if any(x.get('host') == self.seedd[0] for x in nodes)]
        info('bittorrent-dht routing tables with seedd: %d of %d' % (len(jhave), len(t['jtables'])))
        shown = self.shown_ids()
        own, alias = [], []
        for e in t['jerrs']:
            if e.get('ip') != self.seedd[0]:
                continue
            if e.get('kind') == 'unexpected-node-id':
                # was the id k-rpc expected one seedd showed this node, or one
                # it showed another node (learned from that node's answers)?
                exp = e.get('expected')
                (own if exp in shown.get(e['name'], set()) or not exp else alias).append(e)
            else:
                own.append(e)
        if alias:
            info('bittorrent-dht "Unexpected node id" for seedd under an id seedd showed another node: %d' % len(alias))
        self.ok('js-no-errors', not own, '; '.join('%s %s %s' % (e['name'], e['kind'], e.get('msg', ''))
                                                  for e in own[:4]))

        # 6. one stable id per remote
        bad = []
        for name, ids in shown.items():
            n = self.byname[name]
            if len(ids) != 1:
                bad.append('%s saw %d ids' % (name, len(ids)))
                continue
            sid = next(iter(ids))
            if sid == '00' * 20:
                bad.append('%s saw an all-zero id' % name)
            elif '%s:%d' % (n['ip'], n['port']) != t['hub'] and n['id'] and sid[:30] != n['id'][:30]:
                bad.append('%s id %s, seedd showed %s' % (name, n['id'], sid))
        info('ids seedd showed: %d nodes' % len(shown))
        self.ok('stable-ids', shown and not bad, '; '.join(bad[:5]))

        # 7. the raw probe's announces
        pj = os.path.join(self.a.work, 'probe.json')
        if os.path.exists(pj):
            pr = json.load(open(pj))
            want = pr['want']
            miss = []
            for ih in pr['not_announced']:
                r = self.rows.get(ih)
                if r and int(r.get('announces') or 0):
                    miss.append('%s recorded from an announce with a bad token' % ih[:12])
            for ih, who in want.items():
                r = self.rows.get(ih)
                if not r or int(r.get('announces') or 0) < 1 or r.get('last_announcer') != who:
                    miss.append('%s want %s got %s' % (ih[:12], who, r.get('last_announcer') if r else 'no row'))
            self.ok('probe-recorded', want and not miss, '; '.join(miss))
        return 1 if self.fails else 0

    def ses_names(self):
        return [n['name'] for n in self.t['nodes'] if n['kind'] == 'lt']

    def shown_ids(self):
        """node -> ids seedd put in its messages to that node."""
        shown = {}
        for tt, node, d, ip, port, m, raw in self.msgs:
            if d != 'in' or not self.is_seedd(ip, port) or not m:
                continue
            body = m.get(b'a') if m.get(b'y') == b'q' else m.get(b'r') if m.get(b'y') == b'r' else None
            if isinstance(body, dict) and isinstance(body.get(b'id'), bytes):
                shown.setdefault(node, set()).add(body[b'id'].hex())
        return shown


def cmd_check(a):
    return Checker(a).check()



def cmd_check(a):
    return Checker(a).check()
