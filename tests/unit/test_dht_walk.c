/*
 * dht_walk: the queries seedd sends, driven by simulated time against
 * simulated nodes that answer through dht_input: 2-byte tids to the nodes
 * learned, answers matched by tid and address, timeouts, --dht-rate, at
 * most 2 of our queries a second to one IP, and BEP 51: a new node is
 * asked for samples within seconds and then once per its interval.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dht.h"
#include "t.h"

#define MS0 10000000LL
#define S0 1700000000LL
#define CAPN 8192

struct cap {
	struct addr to;
	int64_t ms;
	size_t len;
	uint8_t p[KRPC_SEND_MAX];
};

static struct cap *g_cap;
static int g_n, g_lost;
static int64_t now_ms, now_s;
static struct krpc_msg msg;
static struct rng rngs[16];
static int nrng;
static uint8_t qbuf[KRPC_SEND_MAX];

#define BY(s, n) ((struct krpc_bytes){ (const uint8_t *)(s), (n) })
#define NOBYTES ((struct krpc_bytes){ NULL, 0 })

static void
emit(void *arg, const struct addr *to, const uint8_t *p, size_t len)
{
	(void)arg;
	if (g_n == CAPN || len > KRPC_SEND_MAX) {
		g_lost++;
		return;
	}
	g_cap[g_n].to = *to;
	g_cap[g_n].ms = now_ms;
	g_cap[g_n].len = len;
	memcpy(g_cap[g_n].p, p, len);
	g_n++;
}

static void
at(int64_t ms)
{
	now_ms = ms;
	now_s = S0 + (ms - MS0) / 1000;
}

static struct addr
ap(const char *s)
{
	struct addr a;
	memset(&a, 0, sizeof(a));
	addr_parse_hostport(&a, s, 0);
	return a;
}

static bool
addr_eq(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, addr_len(a)) == 0;
}

static struct dht *
mk(uint32_t rate)
{
	struct dht *d = calloc(1, sizeof(*d));
	struct dht_config c;
	uint8_t seed[32];

	memset(&c, 0, sizeof(c));
	c.bind = ap("127.3.0.1:6881");
	c.rate = rate;
	c.allow_private = true;
	c.max_nodes = 1000;
	c.max_infohashes = 1000;
	memset(seed, 0x60 + nrng, sizeof(seed));
	rng_init_seed(&rngs[nrng], seed);
	if (dht_core_init(d, &c, &rngs[nrng++], now_s) < 0)
		CHECK("dht_core_init", 0);
	d->emit = emit;
	g_n = 0;
	return d;
}

static void
rm(struct dht *d)
{
	dht_core_free(d);
	free(d);
}

static bool
dec(int i)
{
	const char *why;
	return i >= 0 && i < g_n && krpc_decode(&msg, g_cap[i].p, g_cap[i].len, &why) == KRPC_OK;
}

static size_t
resp(struct krpc_bytes t, const void *id, struct krpc_bytes nodes, int64_t interval, struct krpc_bytes samples,
     const struct addr *ip)
{
	struct benc_w w;
	struct krpc_r r = { .id = id, .interval = interval, .nodes = nodes, .num = -1, .samples = samples, .ip = ip };
	if (samples.p)
		r.num = (int64_t)(samples.len / 20);
	benc_w_init(&w, qbuf, sizeof(qbuf));
	krpc_response(&w, t, &r);
	return w.len;
}

static size_t
err(struct krpc_bytes t, int code, const char *m)
{
	struct benc_w w;
	benc_w_init(&w, qbuf, sizeof(qbuf));
	krpc_error(&w, t, code, m);
	return w.len;
}

static void
tick(struct dht *d, int64_t ms)
{
	at(ms);
	dht_tick(d, now_ms, now_s);
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
	int held;                   /* a find_node left unanswered (index in g_cap), or -1 */
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
		if (addr_eq(&s[i].a, a))
			return i;
	return -1;
}

static void
answer(struct dht *d, struct sim *s, int ci)
{
	size_t len;
	struct addr from = s->a;

	if (!dec(ci))
		return;
	if (msg.method == KRPC_M_SAMPLE_INFOHASHES && s->si_mode == SI_ERROR)
		len = err(msg.t, 204, "Method Unknown");
	else if (msg.method == KRPC_M_SAMPLE_INFOHASHES)
		len = resp(msg.t, s->id, BY("", 0), s->interval, s->si_mode == SI_EMPTY ? BY("", 0) : s->samples, NULL);
	else
		len = resp(msg.t, s->id, BY("", 0), -1, NOBYTES, NULL);
	dht_input(d, &from, qbuf, len, now_ms, now_s);
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
		int64_t ph = (now_ms + iv * 1000 - last_fn) % 5000;
		if (ph >= 1000 && ph <= 4000) {
			s->interval = iv;
			break;
		}
	}
	s->si_due = now_ms + s->interval * 1000;
	s->pick_iv = false;
}

/* Answer every new datagram of ours at once (except a held find_node); record events. */
static void
pump(struct dht *d, struct sim *s, int ns)
{
	for (; g_seen < g_n; g_seen++) {
		int i = g_seen;
		if (!dec(i))
			continue;
		int k = sim_of(s, ns, &g_cap[i].to);
		if (nev < CAPN)
			evs[nev++] = (struct ev){ g_cap[i].ms, k, (int)msg.method };
		bad_tid += msg.y != 'q' || msg.t.len != 2;
		if (k < 0) {
			strays++;
			continue;
		}
		if (!s[k].have_shown) {
			memcpy(s[k].shown, msg.id, 20);
			s[k].have_shown = true;
		}
		s[k].shown_changed |= memcmp(s[k].shown, msg.id, 20) != 0;
		if (msg.method == KRPC_M_FIND_NODE && s[k].si_due && s[k].held < 0 && now_ms < s[k].si_due &&
		    now_ms > s[k].si_due - 5000) {
			s[k].held = i;
			continue;
		}
		if (msg.method == KRPC_M_SAMPLE_INFOHASHES && s[k].pick_iv)
			pick_interval(&s[k], k);
		answer(d, &s[k], i);
		if (k == 0 && msg.method == KRPC_M_SAMPLE_INFOHASHES && !first_si_seen) {
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
	s->a = ap(addr);
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
	struct addr d1 = ap("127.7.0.2:7002"), d2 = ap("127.7.0.3:7003"), bind = ap("127.3.0.1:6881");
	uint8_t nodes[52], tid[2] = { 0, 0 };
	int ia = -1;

	at(MS0);
	struct dht *d = mk(1000);
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
	bool ok = g_n == 3, nb = false;
	int seen_mask = 0;
	uint16_t tids[3] = { 0, 0, 0 };
	for (int i = 0; ok && i < g_n; i++) {
		ok = dec(i) && msg.y == 'q' && msg.method == KRPC_M_FIND_NODE && msg.t.len == 2 && msg.target;
		if (!ok)
			break;
		tids[i] = (uint16_t)(msg.t.p[0] << 8 | msg.t.p[1]);
		if (addr_eq(&g_cap[i].to, &s[0].a)) {
			seen_mask |= 1;
			ia = i;
			memcpy(tid, msg.t.p, 2);
			nb = memcmp(msg.id, IDA, 15) == 0 && memcmp(msg.id, IDA, 20) != 0;
		} else {
			seen_mask |= addr_eq(&g_cap[i].to, &d1) ? 2 : addr_eq(&g_cap[i].to, &d2) ? 4 : 8;
		}
	}
	CHECK("tick: one find_node with a 2-byte tid to each learned node", ok && seen_mask == 7);
	CHECK("to A with a neighbour id of A's", ia >= 0 && nb);
	CHECK("3 in flight, queue empty", d->inflight == 3 && d->qlen == 0);
	CHECK("tids differ", ok && tids[0] != tids[1] && tids[0] != tids[2] && tids[1] != tids[2]);
	g_seen = g_n;

	/* A's answer: nodes B and C, and the BEP 42 ip. Wrong tid, port or source first. */
	uint64_t un0 = d->st.c[DHT_C_DROP_UNMATCHED];
	uint8_t wrong[2] = { tid[0], (uint8_t)(tid[1] ^ 1) };
	struct addr a_port = ap("127.7.0.1:7009");
	size_t len = resp(BY(wrong, 2), IDA, BY(nodes, 52), -1, NOBYTES, &bind);
	dht_input(d, &s[0].a, qbuf, len, now_ms, now_s);
	CHECK("wrong tid: dropped as unmatched", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 1 && d->nodes.count == 0 &&
	                                             d->inflight == 3 && d->qlen == 0);
	len = resp(BY(tid, 2), IDA, BY(nodes, 52), -1, NOBYTES, &bind);
	dht_input(d, &a_port, qbuf, len, now_ms, now_s);
	CHECK("right tid from another port: dropped", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 2 && d->nodes.count == 0);
	dht_input(d, &d1, qbuf, len, now_ms, now_s);
	CHECK("right tid from another node: dropped", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 3 && d->nodes.count == 0);
	len = resp(BY("\x00\x00\x00\x00", 4), IDA, BY(nodes, 52), -1, NOBYTES, &bind);
	dht_input(d, &s[0].a, qbuf, len, now_ms, now_s);
	CHECK("4-byte tid: dropped", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 4 && d->nodes.count == 0);
	at(now_ms + 30);
	len = resp(BY(tid, 2), IDA, BY(nodes, 52), -1, NOBYTES, &bind);
	dht_input(d, &s[0].a, qbuf, len, now_ms, now_s);
	int64_t t_resp = now_ms;
	CHECK("A's answer: A in the node table", d->nodes.count == 1 && d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 4 &&
	                                            d->inflight == 2);
	CHECK("A's nodes learned", d->qlen == 2);
	CHECK("BEP 42 ip noted", d->have_seen_as && addr_eq(&d->seen_as, &bind));
	dht_input(d, &s[0].a, qbuf, len, now_ms, now_s);
	CHECK("the same answer again: unmatched", d->st.c[DHT_C_DROP_UNMATCHED] == un0 + 5 && d->nodes.count == 1);
	s[0].have_shown = true;
	dec(ia);
	memcpy(s[0].shown, msg.id, 20);

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
	benc_w_init(&w, qbuf, sizeof(qbuf));
	krpc_q_find_node(&w, BY("zz", 2), (const uint8_t *)"a-querier-id-0000001", (const uint8_t *)IDA);
	struct addr qa = ap("127.5.0.9:1");
	int before = g_n;
	dht_input(d, &qa, qbuf, w.len, now_ms, now_s);
	CHECK("find_node answer: A first among the nodes", g_n == before + 1 && dec(g_n - 1) &&
	                                                        msg.nodes.len >= 26 && msg.nodes.len % 26 == 0 &&
	                                                        memcmp(msg.nodes.p, IDA, 20) == 0);
	struct addr got;
	uint8_t gid[20];
	CHECK("... with A's address", krpc_node_get(msg.nodes, 4, 0, gid, &got) && addr_eq(&got, &s[0].a));
	rm(d);
}

static void
timeouts(void)
{
	struct addr x = ap("127.9.0.1:9001");

	at(MS0);
	struct dht *d = mk(1000);
	dht_learn(d, (const uint8_t *)IDA, &x);
	tick(d, MS0);
	CHECK("one query in flight", g_n == 1 && d->inflight == 1 && dec(0) && msg.t.len == 2);
	uint8_t tid[2] = { msg.t.p[0], msg.t.p[1] };
	tick(d, MS0 + 4000);
	CHECK("still in flight at 4 s", d->inflight == 1 && d->st.c[DHT_C_TIMEOUTS] == 0);
	tick(d, MS0 + 5001);
	CHECK("timed out after DHT_TIMEOUT_MS: slot free", d->inflight == 0 && d->st.c[DHT_C_TIMEOUTS] == 1);
	size_t len = resp(BY(tid, 2), IDA, NOBYTES, -1, NOBYTES, NULL);
	dht_input(d, &x, qbuf, len, now_ms, now_s);
	CHECK("a late answer is unmatched", d->st.c[DHT_C_DROP_UNMATCHED] == 1 && d->nodes.count == 0);
	rm(d);
}

/* --dht-rate 20 over 10 simulated seconds, 500 nodes on 100 IPs. */
static void
rate(void)
{
	char buf[64];

	at(MS0);
	struct dht *d = mk(20);
	for (int p = 0; p < 5; p++)
		for (int i = 0; i < 100; i++) {
			snprintf(buf, sizeof(buf), "127.10.%d.%d:%d", i / 10, 1 + i % 10, 1000 + p);
			struct addr a = ap(buf);
			dht_learn(d, NULL, &a);
		}
	for (int64_t t = MS0; t < MS0 + 10000; t += 10)
		tick(d, t);
	bool ok = true;
	int maxwin = 0, maxip = 0;
	for (int i = 0; i < g_n; i++) {
		ok &= dec(i) && msg.y == 'q' && msg.method == KRPC_M_FIND_NODE && msg.t.len == 2 &&
		      g_cap[i].to.ip[0] == 127 && g_cap[i].to.ip[1] == 10;
		int w = 0, ip = 0;
		for (int j = i; j < g_n && g_cap[j].ms < g_cap[i].ms + 1000; j++) {
			w++;
			ip += memcmp(g_cap[j].to.ip, g_cap[i].to.ip, 4) == 0;
		}
		maxwin = w > maxwin ? w : maxwin;
		maxip = ip > maxip ? ip : maxip;
	}
	CHECK("rate: all find_node to learned nodes, 2-byte tids", ok);
	CHECK("rate 20/s over 10 s: 180..202 queries (burst of rate/10)", g_n >= 180 && g_n <= 202);
	CHECK("rate: at most 22 in any second (20 + burst 2)", maxwin <= 22);
	CHECK("rate: at most 2 a second to one IP", maxip <= 2);
	CHECK("rate: counter", d->st.c[DHT_C_QUERIES_OUT] == (uint64_t)g_n);
	rm(d);

	/* Ten nodes behind one IP: 2 queries in the first second, no more. */
	at(MS0);
	d = mk(1000);
	for (int p = 0; p < 10; p++) {
		snprintf(buf, sizeof(buf), "127.11.0.1:%d", 1 + p);
		struct addr a = ap(buf);
		dht_learn(d, NULL, &a);
	}
	for (int64_t t = MS0; t < MS0 + 999; t += 10)
		tick(d, t);
	CHECK("10 nodes on one IP: at most 2 queries in a second", g_n >= 1 && g_n <= 2);
	rm(d);
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

	at(MS0);
	struct dht *d = mk(1000);
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
	rm(d);
}

void
test_dht_walk(void)
{
	g_cap = calloc(CAPN, sizeof(*g_cap));
	walk();
	timeouts();
	rate();
	si_lost();
	CHECK("capture complete", g_lost == 0);
	free(g_cap);
}
