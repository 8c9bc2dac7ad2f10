/*
 * crawl_core on a simulated clock: what a result does to a node (verdict,
 * zone, schedule), bans, port and address rules, forgetting, the
 * own-outage guard, the ours flag, nodes that arrive with a history and
 * zone rows. The publish callback records the zone's view.
 */
#include <string.h>

#include "crawl/crawl_core.h"
#include "t.h"

#define T0 1800000000

struct zone_view {
	int in[64];   /* by node index: 1 in the zone */
	int changes;
	int refuse;   /* the next adds fail (a full zone) */
};

static int
publish(void *ctx, uint32_t i, const struct addr *a, bool on)
{
	struct zone_view *z = ctx;

	(void)a;
	if (on && z->refuse)
		return -1;
	if (z->in[i] == on)
		return 0;
	z->in[i] = on;
	z->changes++;
	return 1;
}

static struct addr
ip(unsigned n, uint16_t port)
{
	struct addr a = { .family = AF_INET, .port = port };
	a.ip[0] = 11;
	a.ip[3] = (uint8_t)n;
	return a;
}

struct env {
	struct crawl_core k;
	struct rng rng;
	struct zone_view z;
	int64_t mono; /* ms */
};

static void
env_init(struct env *e, bool allow_private)
{
	uint8_t seed[32] = { 7 };
	struct crawl_params p = { .interval = 300, .port = 32767, .allow_private = allow_private };

	memset(e, 0, sizeof(*e));
	rng_init_seed(&e->rng, seed);
	crawl_core_init(&e->k, &p, &health_ours, &e->rng, 64, 1, publish, &e->z);
}

static int64_t
now_s(const struct env *e)
{
	return T0 + e->mono / 1000;
}

/* Check node i now with this result; returns the event bits. */
static unsigned
check(struct env *e, uint32_t i, bool good, enum node_error err, bool garbage)
{
	struct node *n = nodes_at(&e->k.nodes, i);
	struct crawl_result r = { .good = good, .err = (uint8_t)err, .garbage = garbage, .dialect = good ? 1 : 0 };

	n->flags |= NODE_INFLIGHT;
	e->k.inflight++;
	return crawl_core_done(&e->k, i, n->gen, &r, e->mono, now_s(e));
}

/* Run the schedule: take every due node, answer with up(i), until mono reaches end. */
static void
run(struct env *e, int64_t end, bool (*up)(uint32_t i, int64_t mono), int *checks)
{
	for (;;) {
		int64_t due = crawl_core_next_due(&e->k);
		if (due > end)
			break;
		if (due > e->mono)
			e->mono = due;
		uint32_t i = crawl_core_next(&e->k, e->mono, now_s(e));
		if (i == NODE_NONE)
			break;
		bool g = up(i, e->mono);
		struct crawl_result r = { .good = g, .err = g ? NODE_E_NONE : NODE_E_REFUSED };
		crawl_core_done(&e->k, i, nodes_at(&e->k.nodes, i)->gen, &r, e->mono, now_s(e));
		if (checks)
			checks[i]++;
	}
	e->mono = end;
}

static bool
all_up(uint32_t i, int64_t mono)
{
	(void)i;
	(void)mono;
	return true;
}

/* Node 0 dies at 1 h; the others stay up. */
static bool
zero_dies(uint32_t i, int64_t mono)
{
	return i != 0 || mono < 3600 * 1000;
}

static void
lifecycle(void)
{
	struct env e;
	bool fresh;
	int checks[64] = { 0 };

	env_init(&e, false);
	struct addr a = ip(1, 32767), priv = { .family = AF_INET, .port = 32767, .ip = { 10, 0, 0, 1 } };
	uint32_t i = crawl_core_learn(&e.k, &a, false, T0, &fresh);
	CHECK("learn: new", i == 0 && fresh && e.k.nodes.nfresh == 1);
	CHECK("learn: again is not new", crawl_core_learn(&e.k, &a, false, T0, &fresh) == 0 && !fresh);
	CHECK("learn: private filtered", crawl_core_learn(&e.k, &priv, false, T0, &fresh) == NODE_NONE &&
	      e.k.st.dropped_filtered == 1);
	CHECK("learn: a private seed is kept", crawl_core_learn(&e.k, &priv, true, T0, &fresh) == 1 && fresh);
	struct addr other = ip(2, 4000);
	crawl_core_learn(&e.k, &other, false, T0, &fresh);
	CHECK("never-checked nodes are due at once", crawl_core_next_due(&e.k) <= e.mono);

	run(&e, 1, all_up, checks);
	CHECK("first good check publishes", e.z.in[0] == 1 && (nodes_at(&e.k.nodes, 0)->flags & NODE_PUBLISHED));
	CHECK("a private address is good but not published", e.z.in[1] == 0 &&
	      (nodes_at(&e.k.nodes, 1)->flags & NODE_GOOD));
	CHECK("another port is good but not published", e.z.in[2] == 0 && (nodes_at(&e.k.nodes, 2)->flags & NODE_GOOD));

	/* An hour of checks: once per interval (+-10%), node 0 dies at 1 h. */
	memset(checks, 0, sizeof(checks));
	run(&e, 3600 * 1000, all_up, checks);
	CHECK("good nodes: 11 to 13 checks in an hour", checks[0] >= 11 && checks[0] <= 13);
	int64_t died = e.mono;
	int64_t gone = 0;
	for (int s = 0; s < 3600 && !gone; s++) {
		run(&e, e.mono + 1000, zero_dies, NULL);
		if (!e.z.in[0])
			gone = e.mono - died;
	}
	CHECK("a dead node leaves within 2 intervals", gone > 0 && gone <= 600 * 1000);
	CHECK("one early re-check was counted", e.k.st.rechecks == 1);
	CHECK("the others stay", e.z.in[1] == 0 && (nodes_at(&e.k.nodes, 2)->flags & NODE_GOOD));
	crawl_core_free(&e.k);
}

static void
bans_and_forgetting(void)
{
	struct env e;
	bool fresh;

	env_init(&e, true);
	struct addr a = ip(1, 32767), b = ip(2, 32767);
	crawl_core_learn(&e.k, &a, false, T0, &fresh);
	crawl_core_learn(&e.k, &b, true, T0, &fresh);
	check(&e, 0, true, NODE_E_NONE, false);
	CHECK("published", e.z.in[0]);
	unsigned ev = check(&e, 0, false, NODE_E_PROTOCOL, true);
	CHECK("garbage bans", (ev & CRAWL_EV_BANNED) && nodes_at(&e.k.nodes, 0)->banned_until == now_s(&e) + CRAWL_BAN_S);
	CHECK("a banned node is unpublished at once", !e.z.in[0]);
	CHECK("and not checked before the ban ends", nodes_due_at(&e.k.nodes, 0) >= e.mono + (int64_t)CRAWL_BAN_S * 1000);
	/* A node that never answers is forgotten after a day; a seed never is. */
	int rounds = 0;
	uint32_t ia = 0;
	bool forgotten = false;
	e.mono = 0;
	struct addr c = ip(3, 32767);
	ia = crawl_core_learn(&e.k, &c, false, now_s(&e), &fresh);
	while (!forgotten && rounds++ < 100) {
		forgotten = check(&e, ia, false, NODE_E_REFUSED, false) & CRAWL_EV_FORGOTTEN;
		check(&e, 1, false, NODE_E_REFUSED, false);
		e.mono += 3600 * 1000;
	}
	CHECK("never answering: forgotten after a day", forgotten && rounds >= 24 && rounds <= 26 &&
	      nodes_find(&e.k.nodes, &c) == NODE_NONE && e.k.st.forgotten == 1);
	CHECK("a seed is never forgotten", nodes_find(&e.k.nodes, &b) == 1);
	crawl_core_free(&e.k);
}

static void
outage(void)
{
	struct env e;
	bool fresh;

	env_init(&e, true);
	for (unsigned n = 0; n < 20; n++) {
		struct addr a = ip(n, 32767);
		crawl_core_learn(&e.k, &a, false, T0, &fresh);
	}
	for (uint32_t n = 0; n < 20; n++)
		check(&e, n, true, NODE_E_NONE, false);
	e.mono += 300 * 1000;
	for (uint32_t n = 0; n < 20; n++)
		check(&e, n, true, NODE_E_NONE, false);
	e.mono += 300 * 1000;
	/* Everyone fails at once: held (one failure), then the guard trips and restores them. */
	unsigned ev = 0;
	for (uint32_t n = 0; n < 20 && !(ev & CRAWL_EV_OUTAGE_BEGIN); n++)
		ev = check(&e, n, false, NODE_E_TIMEOUT, false);
	CHECK("outage: detected", (ev & CRAWL_EV_OUTAGE_BEGIN) && e.k.outage && e.k.undone >= 9);
	bool restored = true;
	for (uint32_t n = 0; n < 20; n++)
		restored &= e.z.in[n] && nodes_at(&e.k.nodes, n)->h.fails == 0;
	CHECK("outage: nodes restored and still published", restored);
	uint32_t before = nodes_at(&e.k.nodes, 15)->h.checks;
	check(&e, 15, false, NODE_E_TIMEOUT, false);
	CHECK("outage: failures not counted, retried soon", nodes_at(&e.k.nodes, 15)->h.checks == before &&
	      nodes_due_at(&e.k.nodes, 15) <= e.mono + CRAWL_RETRY_MS * 11 / 10);
	ev = check(&e, 16, true, NODE_E_NONE, false);
	CHECK("outage: ends at the first answer", (ev & CRAWL_EV_OUTAGE_END) && !e.k.outage);
	/* Ours: not counted either. */
	struct crawl_result r = { .good = false, .ours = true, .err = NODE_E_PROTOCOL };
	before = nodes_at(&e.k.nodes, 3)->h.checks;
	nodes_at(&e.k.nodes, 3)->flags |= NODE_INFLIGHT;
	e.k.inflight++;
	crawl_core_done(&e.k, 3, nodes_at(&e.k.nodes, 3)->gen, &r, e.mono, now_s(&e));
	CHECK("ours: not counted", nodes_at(&e.k.nodes, 3)->h.checks == before && e.z.in[3]);
	/* A stale generation (forgotten and reused meanwhile) is ignored. */
	struct crawl_result g = { .good = true };
	e.k.inflight++;
	CHECK("stale generation ignored", crawl_core_done(&e.k, 4, nodes_at(&e.k.nodes, 4)->gen + 1, &g, e.mono,
	                                                  now_s(&e)) == CRAWL_EV_NONE && e.k.inflight == 0);
	crawl_core_free(&e.k);
}

static void
history(void)
{
	struct env e;
	bool fresh;

	env_init(&e, true);
	struct addr a = ip(1, 32767), b = ip(2, 32767), z = ip(3, 32767);
	/* A node loaded with a month of answers, last checked 100 s ago. */
	uint32_t i = nodes_add(&e.k.nodes, &a);
	struct node *n = nodes_at(&e.k.nodes, i);
	for (int64_t t = T0 - 100 - 30 * 86400; t <= T0 - 100; t += 300)
		health_update(&n->h, t, true);
	crawl_core_loaded(&e.k, i, true, e.mono, T0);
	CHECK("loaded: published at once", e.z.in[i]);
	CHECK("loaded: due when its interval ends", nodes_due_at(&e.k.nodes, i) >= 180 * 1000 && nodes_due_at(&e.k.nodes, i) <= 220 * 1000);
	/* A loaded node with no checks goes on the never-checked stack. */
	uint32_t j = nodes_add(&e.k.nodes, &b);
	crawl_core_loaded(&e.k, j, true, e.mono, T0);
	CHECK("loaded: never checked is fresh", (nodes_at(&e.k.nodes, j)->flags & NODE_FRESH) && !e.z.in[j]);
	/* A zone row: kept as the last known state; its first failure unpublishes it (no history to hold). */
	uint32_t k = crawl_core_learn(&e.k, &z, false, T0, &fresh);
	e.z.in[k] = 1;
	crawl_core_zone_row(&e.k, k, e.mono, T0);
	CHECK("zone row: kept", (nodes_at(&e.k.nodes, k)->flags & (NODE_GOOD | NODE_PUBLISHED)) == (NODE_GOOD | NODE_PUBLISHED));
	check(&e, k, false, NODE_E_REFUSED, false);
	CHECK("zone row: unpublished at its first failure", !e.z.in[k]);
	/* A full zone: not published, and not marked so. */
	e.z.refuse = 1;
	check(&e, k, true, NODE_E_NONE, false);
	CHECK("full zone: good, not published", (nodes_at(&e.k.nodes, k)->flags & NODE_GOOD) &&
	      !(nodes_at(&e.k.nodes, k)->flags & NODE_PUBLISHED));
	crawl_core_free(&e.k);
}

void
test_crawl_core(void)
{
	lifecycle();
	bans_and_forgetting();
	outage();
	history();
}
