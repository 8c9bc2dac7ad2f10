/*
 * dht_walk: the queries seedd sends, driven by simulated time against
 * simulated nodes that answer through dht_input: 2-byte tids to the nodes
 * learned, answers matched by tid and address, timeouts, --dht-rate, at
 * most 2 of our queries a second to one IP, and BEP 51: a new node is
 * asked for samples within seconds and then once per its interval.
 */
#include <stddef.h>
#include <string.h>

#include "dht/dht.h"
#include "t.h"
#include "dht/tdht.h"

static size_t
err(struct krpc_bytes t, int code, const char *m)
{
	struct benc_w w;
	benc_w_init(&w, td_qbuf, sizeof(td_qbuf));
	krpc_error(&w, t, code, m);
	return w.len;
}

static void
tick(struct dht *d, int64_t ms)
{
	td_at(ms);
	dht_tick(d, td_now_ms, td_now_s);
}

/* --- simulated nodes ----------------------------------------------------------------- */

enum { SI_SAMPLES, SI_EMPTY, SI_ERROR };

struct sim {
	struct addr a;
	uint8_t id[20];
	int si_mode;
	int64_t interval;           /* in our BEP 51 answers */
	bool pick_iv;               /* si_lost(): choose the interval at the first SI */
	int64_t si_due;             /* when that interval makes the next SI due */
	struct krpc_bytes samples;
	uint8_t shown[20];          /* the id we showed it first */
	bool have_shown, shown_changed;
	int held;                   /* a find_node left unanswered (index in td_cap), or -1 */
};

struct ev {
	int64_t ms;
	int node;                   /* index in sims, -1: none of them */
	int method;
};

static struct ev evs[CAPN];
static int nev, g_seen, bad_tid, strays;
static bool first_si_ok, first_si_seen;

static int
sim_of(struct sim *s, int ns, const struct addr *a)
{
	for (int i = 0; i < ns; i++)
		if (td_addr_eq(&s[i].a, a))
			return i;
	return -1;
}

static void
answer(struct dht *d, struct sim *s, int ci)
{
	size_t len;
	struct addr from = s->a;

	if (!td_dec(ci))
		return;
	if (td_msg.method == KRPC_M_SAMPLE_INFOHASHES && s->si_mode == SI_ERROR)
		len = err(td_msg.t, 204, "Method Unknown");
	else if (td_msg.method == KRPC_M_SAMPLE_INFOHASHES)
		len = td_resp(td_msg.t, s->id, BY("", 0), s->interval, s->si_mode == SI_EMPTY ? BY("", 0) : s->samples,
		              NULL);
	else
		len = td_resp(td_msg.t, s->id, BY("", 0), -1, NOBYTES, NULL);
	dht_input(d, &from, td_qbuf, len, td_now_ms, td_now_s);
}

/* Pick an interval (60..64 s) that makes the next SI due 1-4 s after a reseed find_node. */
static void
pick_interval(struct sim *s, int node)
{
	int64_t last_fn = -1;
	for (int i = 0; i < nev; i++)
		if (evs[i].node == node && evs[i].method == KRPC_M_FIND_NODE)
			last_fn = evs[i].ms;
	for (int64_t iv = 60; iv < 65 && last_fn >= 0; iv++) {
		int64_t ph = (td_now_ms + iv * 1000 - last_fn) % 5000;
		if (ph >= 1000 && ph <= 4000) {
			s->interval = iv;
			break;
		}
	}
	s->si_due = td_now_ms + s->interval * 1000;
	s->pick_iv = false;
}

/* Answer every new datagram of ours at once (except a held find_node); record events. */
static void
pump(struct dht *d, struct sim *s, int ns)
{
	for (; g_seen < td_n; g_seen++) {
		int i = g_seen;
		if (!td_dec(i))
			continue;
		int k = sim_of(s, ns, &td_cap[i].to);
		if (nev < CAPN)
			evs[nev++] = (struct ev){ td_cap[i].ms, k, (int)td_msg.method };
		bad_tid += td_msg.y != 'q' || td_msg.t.len != 2;
		if (k < 0) {
			strays++;
			continue;
		}
		if (!s[k].have_shown) {
			memcpy(s[k].shown, td_msg.id, 20);
			s[k].have_shown = true;
		}
		s[k].shown_changed |= memcmp(s[k].shown, td_msg.id, 20) != 0;
		if (td_msg.method == KRPC_M_FIND_NODE && s[k].si_due && s[k].held < 0 && td_now_ms < s[k].si_due &&
		    td_now_ms > s[k].si_due - 5000) {
			s[k].held = i;
			continue;
		}
		if (td_msg.method == KRPC_M_SAMPLE_INFOHASHES && s[k].pick_iv)
			pick_interval(&s[k], k);
		answer(d, &s[k], i);
		if (k == 0 && td_msg.method == KRPC_M_SAMPLE_INFOHASHES && !first_si_seen) {
			first_si_seen = true;
			const struct ih_entry *e1 = ih_find(&d->ih, s[0].samples.p);
			const struct ih_entry *e2 = ih_find(&d->ih, s[0].samples.p + 20);
			first_si_ok = e1 && e2 && e1->samples == 1 && e2->samples == 1 && !e1->get_peers && !e2->announces;
		}
	}
}

static void
sim_init(struct sim *s, const char *addr, const char *id, int mode, int64_t interval)
{
	memset(s, 0, sizeof(*s));
	s->a = td_ap(addr);
	memcpy(s->id, id, 20);
	s->si_mode = mode;
	s->interval = interval;
	s->held = -1;
}

static void
sim_reset(void)
{
	nev = g_seen = bad_tid = strays = 0;
	first_si_seen = first_si_ok = false;
}

/* At most `lim` events to node k (or to IP of addr) in any 1000 ms. */
static bool
per_second(int k, int lim)
{
	for (int i = 0; i < nev; i++) {
		if (evs[i].node != k)
			continue;
		int n = 0;
		for (int j = i; j < nev && evs[j].ms < evs[i].ms + 1000; j++)
			n += evs[j].node == k;
		if (n > lim)
			return false;
	}
	return true;
}

static int
count(int k, int method, int64_t from, int64_t to, int64_t *first)
{
	int n = 0;
	for (int i = 0; i < nev; i++)
		if (evs[i].node == k && evs[i].method == method && evs[i].ms >= from && evs[i].ms < to) {
			if (!n && first)
				*first = evs[i].ms;
			n++;
		}
	return n;
}

/* --- scenarios ----------------------------------------------------------------------- */

#define IDA "node-A-id-0123456789"
#define IDB "node-B-id-0123456789"
#define IDC "node-C-id-0123456789"
#define SAMPLES "sample-infohash-0001" "sample-infohash-0002"

static void
walk(void)
{
	struct sim s[3];
	struct addr d1 = td_ap("127.7.0.2:7002"), d2 = td_ap("127.7.0.3:7003"), bind = td_ap("127.3.0.1:6881");
	uint8_t nodes[52], tid[2] = { 0, 0 };
	int ia = -1;

	td_at(MS0);
	struct dht *d = td_mk(true, 1000);
	sim_reset();
	sim_init(&s[0], "127.7.0.1:7001", IDA, SI_SAMPLES, 100);
	s[0].samples = BY(SAMPLES, 40);
	sim_init(&s[1], "127.8.0.1:8001", IDB, SI_EMPTY, 21600);
	sim_init(&s[2], "127.8.0.2:8002", IDC, SI_ERROR, -1);
	krpc_node_put(nodes, (const uint8_t *)IDB, &s[1].a);
	krpc_node_put(nodes + 26, (const uint8_t *)IDC, &s[2].a);

	dht_learn(d, (const uint8_t *)IDA, &s[0].a);
	dht_learn(d, (const uint8_t *)"silent-node-00000001", &d1);
	dht_learn(d, NULL, &d2);
	CHECK("3 nodes queued", d->qlen == 3);
	tick(d, MS0);
	bool ok = td_n == 3, nb = false;
	int seen_mask = 0;
	uint16_t tids[3] = { 0, 0, 0 };
	for (int i = 0; ok && i < td_n; i++) {
		ok = td_dec(i) && td_msg.y == 'q' && td_msg.method == KRPC_M_FIND_NODE && td_msg.t.len == 2 &&
		     td_msg.target;
		if (!ok)
			break;
		tids[i] = (uint16_t)(td_msg.t.p[0] << 8 | td_msg.t.p[1]);
		if (td_addr_eq(&td_cap[i].to, &s[0].a)) {
			seen_mask |= 1;
			ia = i;
			memcpy(tid, td_msg.t.p, 2);
			nb = memcmp(td_msg.id, IDA, 15) == 0 && memcmp(td_msg.id, IDA, 20) != 0;
		} else {
			seen_mask |= td_addr_eq(&td_cap[i].to, &d1) ? 2 : td_addr_eq(&td_cap[i].to, &d2) ? 4 : 8;
		}
	}
	CHECK("tick: one find_node with a 2-byte tid to each learned node", ok && seen_mask == 7);
	CHECK("to A with a neighbour id of A's", ia >= 0 && nb);
	CHECK("3 in flight, queue empty", d->inflight == 3 && d->qlen == 0);
	CHECK("tids differ", ok && tids[0] != tids[1] && tids[0] != tids[2] && tids[1] != tids[2]);
	g_seen = td_n;

	/* A's answer: nodes B and C, and the BEP 42 ip. Wrong tid, port or source first. */
	uint64_t un0 = d->st.c[DHT_C_DROP_UNMATCHED];
	uint8_t wrong[2] = { tid[0], (uint8_t)(tid[1] ^ 1) };
	struct addr a_port = td_ap("127.7.0.1:7009");
	size_t len = td_resp(BY(wrong, 2), IDA, BY(nodes, 52), -1, NOBYTES, &bind);
	dht_input(d, &s[0].a, td_qbuf, len, td_now_ms, td_now_s);
	CHECK("wrong tid: dropped as unmatched", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 1 && d->nodes.count == 0 &&
	                                             d->inflight == 3 && d->qlen == 0);
	len = td_resp(BY(tid, 2), IDA, BY(nodes, 52), -1, NOBYTES, &bind);
	dht_input(d, &a_port, td_qbuf, len, td_now_ms, td_now_s);
	CHECK("right tid from another port: dropped", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 2 && d->nodes.count == 0);
	dht_input(d, &d1, td_qbuf, len, td_now_ms, td_now_s);
	CHECK("right tid from another node: dropped", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 3 && d->nodes.count == 0);
	len = td_resp(BY("\x00\x00\x00\x00", 4), IDA, BY(nodes, 52), -1, NOBYTES, &bind);
	dht_input(d, &s[0].a, td_qbuf, len, td_now_ms, td_now_s);
	CHECK("4-byte tid: dropped", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 4 && d->nodes.count == 0);
	td_at(td_now_ms + 30);
	len = td_resp(BY(tid, 2), IDA, BY(nodes, 52), -1, NOBYTES, &bind);
	dht_input(d, &s[0].a, td_qbuf, len, td_now_ms, td_now_s);
	int64_t t_resp = td_now_ms;
	CHECK("A's answer: A in the node table", d->nodes.count == 1 && d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 4 &&
	                                            d->inflight == 2);
	CHECK("A's nodes learned", d->qlen == 2);
	CHECK("BEP 42 ip noted", d->have_seen_as && td_addr_eq(&d->seen_as, &bind));
	dht_input(d, &s[0].a, td_qbuf, len, td_now_ms, td_now_s);
	CHECK("the same answer again: unmatched", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 5 && d->nodes.count == 1);
	s[0].have_shown = true;
	td_dec(ia);
	memcpy(s[0].shown, td_msg.id, 20);

	/* 250 simulated seconds, every node answering at once. */
	for (int64_t t = t_resp + 50; t < t_resp + 250000; t += 50) {
		tick(d, t);
		pump(d, s, 3);
	}
	int64_t si1 = 0, si2 = 0;
	int nsi = count(0, KRPC_M_SAMPLE_INFOHASHES, 0, INT64_MAX, &si1);
	CHECK("B and C asked and in the table", count(1, KRPC_M_FIND_NODE, 0, INT64_MAX, NULL) >= 1 &&
	                                            count(2, KRPC_M_FIND_NODE, 0, INT64_MAX, NULL) >= 1 &&
	                                            d->nodes.count == 3);
	CHECK("sample_infohashes to A within 1-3 s of its answer", nsi >= 1 && si1 - t_resp >= 1000 &&
	                                                               si1 - t_resp <= 3100);
	CHECK("both samples recorded with samples=1", first_si_ok);
	CHECK("no second sample_infohashes to A before its interval (100 s)",
	      count(0, KRPC_M_SAMPLE_INFOHASHES, si1 + 1, si1 + 100000, NULL) == 0);
	CHECK("... and one soon after", count(0, KRPC_M_SAMPLE_INFOHASHES, si1 + 100000, si1 + 101000, &si2) == 1);
	CHECK("A asked at most 3 times in 250 s", nsi <= 3);
	CHECK("B (interval 21600) and C (204) asked for samples once",
	      count(1, KRPC_M_SAMPLE_INFOHASHES, 0, INT64_MAX, NULL) == 1 &&
	          count(2, KRPC_M_SAMPLE_INFOHASHES, 0, INT64_MAX, NULL) == 1);
	int all_si = count(0, KRPC_M_SAMPLE_INFOHASHES, 0, INT64_MAX, NULL) +
	             count(1, KRPC_M_SAMPLE_INFOHASHES, 0, INT64_MAX, NULL) +
	             count(2, KRPC_M_SAMPLE_INFOHASHES, 0, INT64_MAX, NULL);
	CHECK("sample_infohashes counter", d->st.q_out[KRPC_M_SAMPLE_INFOHASHES] == (uint64_t)all_si);
	CHECK("only learned nodes were asked; 2-byte tids", strays == 0 && bad_tid == 0);
	CHECK("the same id shown to each node in every query",
	      !s[0].shown_changed && !s[1].shown_changed && !s[2].shown_changed);
	CHECK("at most 2 of our queries a second to one IP", per_second(0, 2) && per_second(1, 2) && per_second(2, 2));
	CHECK("the silent nodes timed out", d->st.c[DHT_C_TIMEOUTS] >= 2 && d->inflight == 0);

	/* Others asking for A's neighbourhood get A. */
	struct benc_w w;
	benc_w_init(&w, td_qbuf, sizeof(td_qbuf));
	krpc_q_find_node(&w, BY("zz", 2), (const uint8_t *)"a-querier-id-0000001", (const uint8_t *)IDA);
	struct addr qa = td_ap("127.5.0.9:1");
	int before = td_n;
	dht_input(d, &qa, td_qbuf, w.len, td_now_ms, td_now_s);
	CHECK("find_node answer: A first among the nodes", td_n == before + 1 && td_dec(td_n - 1) &&
	                                                        td_msg.nodes.len >= 26 && td_msg.nodes.len % 26 == 0 &&
	                                                        memcmp(td_msg.nodes.p, IDA, 20) == 0);
	struct addr got;
	uint8_t gid[20];
	CHECK("... with A's address", krpc_node_get(td_msg.nodes, 4, 0, gid, &got) && td_addr_eq(&got, &s[0].a));
	/* A asking for its own neighbourhood never gets itself (libtorrent would query itself and ban itself). */
	benc_w_init(&w, td_qbuf, sizeof(td_qbuf));
	krpc_q_find_node(&w, BY("zy", 2), (const uint8_t *)IDA, (const uint8_t *)IDA);
	td_at(td_now_ms + 2000);
	before = td_n;
	dht_input(d, &s[0].a, td_qbuf, w.len, td_now_ms, td_now_s);
	bool self = false;
	for (size_t k = 0; td_n == before + 1 && td_dec(td_n - 1) && krpc_node_get(td_msg.nodes, 4, k, gid, &got); k++)
		self |= td_addr_eq(&got, &s[0].a);
	CHECK("find_node from A: answered, without A among the nodes",
	      td_n == before + 1 && td_msg.y == 'r' && td_msg.nodes.len >= 26 && !self);
	td_rm(d);
}

static void
timeouts(void)
{
	struct addr x = td_ap("127.9.0.1:9001");

	td_at(MS0);
	struct dht *d = td_mk(true, 1000);
	dht_learn(d, (const uint8_t *)IDA, &x);
	tick(d, MS0);
	CHECK("one query in flight", td_n == 1 && d->inflight == 1 && td_dec(0) && td_msg.t.len == 2);
	uint8_t tid[2] = { td_msg.t.p[0], td_msg.t.p[1] };
	tick(d, MS0 + 4000);
	CHECK("still in flight at 4 s", d->inflight == 1 && d->st.c[DHT_C_TIMEOUTS] == 0);
	tick(d, MS0 + 5001);
	CHECK("timed out after DHT_TIMEOUT_MS: slot free", d->inflight == 0 && d->st.c[DHT_C_TIMEOUTS] == 1);
	size_t len = td_resp(BY(tid, 2), IDA, NOBYTES, -1, NOBYTES, NULL);
	dht_input(d, &x, td_qbuf, len, td_now_ms, td_now_s);
	CHECK("a late answer is unmatched", d->st.c[DHT_C_DROP_UNMATCHED] == 1 && d->nodes.count == 0);
	td_rm(d);
}

/* --dht-rate 20 over 10 simulated seconds, 500 nodes on 100 IPs. */
static void
rate(void)
{
	char buf[64];

	td_at(MS0);
	struct dht *d = td_mk(true, 20);
	for (int p = 0; p < 5; p++)
		for (int i = 0; i < 100; i++) {
			snprintf(buf, sizeof(buf), "127.10.%d.%d:%d", i / 10, 1 + i % 10, 1000 + p);
			struct addr a = td_ap(buf);
			dht_learn(d, NULL, &a);
		}
	for (int64_t t = MS0; t < MS0 + 10000; t += 10)
		tick(d, t);
	bool ok = true;
	int maxwin = 0, maxip = 0;
	for (int i = 0; i < td_n; i++) {
		ok &= td_dec(i) && td_msg.y == 'q' && td_msg.method == KRPC_M_FIND_NODE && td_msg.t.len == 2 &&
		      td_cap[i].to.ip[0] == 127 && td_cap[i].to.ip[1] == 10;
		int w = 0, ip = 0;
		for (int j = i; j < td_n && td_cap[j].ms < td_cap[i].ms + 1000; j++) {
			w++;
			ip += memcmp(td_cap[j].to.ip, td_cap[i].to.ip, 4) == 0;
		}
		maxwin = w > maxwin ? w : maxwin;
		maxip = ip > maxip ? ip : maxip;
	}
	CHECK("rate: all find_node to learned nodes, 2-byte tids", ok);
	CHECK("rate 20/s over 10 s: 180..202 queries (burst of rate/10)", td_n >= 180 && td_n <= 202);
	CHECK("rate: at most 22 in any second (20 + burst 2)", maxwin <= 22);
	CHECK("rate: at most 2 a second to one IP", maxip <= 2);
	CHECK("rate: counter", d->st.c[DHT_C_QUERIES_OUT] == (uint64_t)td_n);
	td_rm(d);

	/* Ten nodes behind one IP: 2 queries in the first second, no more. */
	td_at(MS0);
	d = td_mk(true, 1000);
	for (int p = 0; p < 10; p++) {
		snprintf(buf, sizeof(buf), "127.11.0.1:%d", 1 + p);
		struct addr a = td_ap(buf);
		dht_learn(d, NULL, &a);
	}
	for (int64_t t = MS0; t < MS0 + 999; t += 10)
		tick(d, t);
	CHECK("10 nodes on one IP: at most 2 queries in a second", td_n >= 1 && td_n <= 2);
	td_rm(d);
}

/*
 * A node whose BEP 51 query falls due while another query to it (a
 * reseed find_node) is in flight, answered 100 ms after the due time.
 */
static void
si_lost(void)
{
	struct sim s[1];
	int64_t t;

	td_at(MS0);
	struct dht *d = td_mk(true, 1000);
	sim_reset();
	sim_init(&s[0], "127.12.0.1:7001", IDA, SI_SAMPLES, 60);
	s[0].samples = BY(SAMPLES, 40);
	s[0].pick_iv = true;
	dht_learn(d, (const uint8_t *)IDA, &s[0].a);
	for (t = MS0; t < MS0 + 30000; t += 100) {
		tick(d, t);
		pump(d, s, 1);
	}
	CHECK("si_lost setup: A in the table, asked for samples", d->nodes.count == 1 && s[0].si_due > 0);
	while (t < s[0].si_due + 1000000) {
		tick(d, t);
		pump(d, s, 1);
		if (s[0].held >= 0 && t >= s[0].si_due + 100) {
			answer(d, &s[0], s[0].held);
			s[0].held = -2;
		}
		t += t < s[0].si_due + 2000 ? 100 : 1000;
	}
	CHECK("si_lost setup: a find_node to A was in flight at the due time", s[0].held == -2);
	CHECK("si_lost: find_node to A goes on", count(0, KRPC_M_FIND_NODE, s[0].si_due + 500000, INT64_MAX, NULL) > 0);
	/* A node whose sample query falls due while another query is out to it is re-armed, not
	 * dropped from the BEP 51 schedule (found as a bug). */
	CHECK("si_lost: A asked for samples again after the due time",
	      count(0, KRPC_M_SAMPLE_INFOHASHES, s[0].si_due, INT64_MAX, NULL) >= 1);
	td_rm(d);
}

void
test_dht_walk(void)
{
	td_begin(0x60);
	walk();
	timeouts();
	rate();
	si_lost();
	CHECK("capture complete", td_lost == 0);
	td_end();
}
