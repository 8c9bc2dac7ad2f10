/*
 * engine: one model over the simulated population. An event loop on a
 * simulated clock drives the crawler core exactly as the crawler does on
 * the real loop: while fewer than CHURN_CONCURRENCY checks are in flight
 * and a node is due, take it and start its check; a check's result is an
 * event at its end (50 ms for an answer, --timeout for a failure), and
 * results reach the core in time order. Between checks: node up/down
 * transitions, "up for an hour" marks, arrivals, the hourly re-report of
 * every up node by its peers, and the minute samples.
 *
 * The zone as a client sees it is tracked through the core's publish
 * callback; the counters of struct live change with every transition and
 * every publish, so a sample costs O(kinds).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churn.h"

/* A check in flight, until its result arrives at t. */
struct flight {
	int64_t t;
	uint32_t node, idx, gen;
	bool good;
};

/*
 * Checks of one duration end in the order they started: a ring each for
 * answers and for failures saves a heap push and pop per check.
 */
struct fifo {
	struct flight v[CHURN_CONCURRENCY];
	unsigned head, n;
};

struct sim {
	const struct churn_opts *o;
	struct metrics *m;
	struct crawl_core k;
	struct rng rng;
	struct pnode *pn;
	size_t npn, cap;
	struct evq q;
	struct fifo ok, ko; /* answers, failures */
	int64_t mono, end, warmup;
	uint64_t arrivals; /* the newcomers' stream */
	uint32_t inflight; /* ours, to check the core's */
};

static int64_t
sim_now(const struct sim *s)
{
	return CHURN_T0 + s->mono / 1000;
}

/* Node id is 11.x.y.z from id + 1 (11/8 is global unicast), on the published port. */
static struct addr
addr_of(uint32_t id)
{
	struct addr a;
	uint32_t v = id + 1;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.port = CHURN_PORT;
	a.ip[0] = 11;
	a.ip[1] = (uint8_t)(v >> 16);
	a.ip[2] = (uint8_t)(v >> 8);
	a.ip[3] = (uint8_t)v;
	return a;
}

static uint32_t
id_of(const struct addr *a)
{
	return ((uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3]) - 1;
}

static void
push(struct sim *s, int64_t t, enum ev_type type, uint32_t node, uint32_t arg)
{
	struct ev e = { .t = t, .node = node, .arg = arg, .type = type };

	evq_push(&s->q, e);
}

static int64_t
fifo_top(const struct fifo *f)
{
	return f->n ? f->v[f->head].t : INT64_MAX;
}

static bool
fifo_push(struct fifo *f, const struct flight *c)
{
	if (f->n == CHURN_CONCURRENCY)
		return false;
	f->v[(f->head + f->n++) % CHURN_CONCURRENCY] = *c;
	return true;
}

static struct flight
fifo_pop(struct fifo *f)
{
	struct flight c = f->v[f->head];

	f->head = (f->head + 1) % CHURN_CONCURRENCY;
	f->n--;
	return c;
}

/* --- the zone and the live counters ---------------------------------------- */

static void
mark_allgood_unpub(struct sim *s, struct pnode *n)
{
	if (n->flags & P_ALLGOOD_UNPUB)
		return;
	n->flags |= P_ALLGOOD_UNPUB;
	s->m->allgood_unpub++;
	s->m->allgood_by_kind[n->kind]++;
}

static void
set_pub(struct sim *s, struct pnode *n, bool on)
{
	struct live *l = &s->m->live;
	int d = on ? 1 : -1;

	n->pub = on;
	l->pub[n->kind] += d;
	if (n->up)
		l->pub_up[n->kind] += d;
	if (n->mature)
		l->pub_mat[n->kind] += d;
	if (on) {
		if (n->first_pub < 0) {
			n->first_pub = s->mono;
			if ((n->flags & P_NEWCOMER) && n->born >= s->warmup)
				i64v_push(&s->m->to_publish, s->mono - n->born);
		}
		return;
	}
	if (n->checks > 0 && n->failed == 0)
		mark_allgood_unpub(s, n);
	if (n->flags & P_DEATH_WATCH) {
		n->flags &= (uint8_t)~P_DEATH_WATCH;
		i64v_push(&s->m->to_unpublish, s->mono - n->died);
	}
}

static int
on_publish(void *ctx, uint32_t i, const struct addr *a, bool on)
{
	struct sim *s = ctx;
	uint32_t id = id_of(a);

	if (id >= s->npn || s->pn[id].idx != i) {
		s->m->errors++; /* a slot the simulator does not know */
		return -1;
	}
	struct pnode *n = &s->pn[id];
	if (n->pub == on)
		return 0;
	set_pub(s, n, on);
	return 1;
}

static void
node_mature(struct sim *s, struct pnode *n)
{
	struct live *l = &s->m->live;

	n->mature = 1;
	l->mat[n->kind]++;
	if (n->pub)
		l->pub_mat[n->kind]++;
}

static void
node_up(struct sim *s, struct pnode *n, uint32_t id)
{
	struct live *l = &s->m->live;

	l->up[n->kind]++;
	if (n->pub)
		l->pub_up[n->kind]++;
	n->epoch++;
	if (n->up_since + CHURN_MATURE_MS <= s->mono)
		node_mature(s, n);
	else
		push(s, n->up_since + CHURN_MATURE_MS, EV_MATURE, id, n->epoch);
}

static void
node_down(struct sim *s, struct pnode *n)
{
	struct live *l = &s->m->live;

	l->up[n->kind]--;
	if (n->pub)
		l->pub_up[n->kind]--;
	if (n->mature) {
		l->mat[n->kind]--;
		if (n->pub)
			l->pub_mat[n->kind]--;
	}
	n->mature = 0;
	n->epoch++;
	if ((n->flags & P_GONE) && n->pub && n->died >= s->warmup)
		n->flags |= P_DEATH_WATCH;
}

/* --- the core -------------------------------------------------------------- */

static void
learn(struct sim *s, uint32_t id)
{
	struct pnode *n = &s->pn[id];
	struct addr a = addr_of(id);
	bool fresh;
	uint32_t i = crawl_core_learn(&s->k, &a, false, sim_now(s), &fresh);

	if (i == NODE_NONE) {
		s->m->dropped++;
		return;
	}
	if (!fresh) {
		if (n->idx != i)
			s->m->errors++;
		return;
	}
	if (n->idx != NODE_NONE)
		s->m->errors++; /* forgotten without CRAWL_EV_FORGOTTEN */
	n->idx = i;
	n->gen = nodes_at(&s->k.nodes, i)->gen;
	s->m->learnt++;
	if (n->flags & P_LEARNT)
		s->m->relearnt++;
	n->flags |= P_LEARNT;
}

static void
start_check(struct sim *s, uint32_t i)
{
	const struct node *cn = nodes_at(&s->k.nodes, i);
	uint32_t id = id_of(&cn->addr);
	struct metrics *m = s->m;

	if (id >= s->npn || s->pn[id].idx != i || s->pn[id].gen != cn->gen) {
		m->errors++;
		return;
	}
	struct pnode *n = &s->pn[id];
	/* Up at the start of the check decides; 1% of checks of up nodes fail anyway. */
	bool good = n->up && !pop_spurious(n);
	if (n->up && !good)
		m->spurious++;
	m->checks++;
	if (s->mono >= s->warmup) {
		int64_t hour = s->mono / MS_H;
		m->checks_after++;
		m->checks_after_by_kind[n->kind]++;
		if (n->hour != hour) {
			n->hour = hour;
			n->hour_checks = n->hour_failed = n->hour_early = 0;
		}
		/* Sooner than an interval less its jitter (-10%) after the last: an early re-check. */
		bool early = n->last_chk >= 0 && s->mono - n->last_chk < s->o->interval * 900;
		n->hour_checks++;
		n->hour_early = (uint16_t)(n->hour_early + early);
		if (early && n->last_good)
			m->early_after_good++;
		n->hour_failed = (uint16_t)(n->hour_failed + !good);
		uint32_t regular = (uint32_t)(n->hour_checks - n->hour_early);
		if (!early && regular == (uint32_t)(3600 * 10 / (9 * s->o->interval)) + 2)
			m->hours_over_cap++;
		if (regular > m->max_hour_regular)
			m->max_hour_regular = regular;
		if (n->hour_early > m->max_hour_early)
			m->max_hour_early = n->hour_early;
		if (n->hour_checks > m->max_hour_checks) {
			m->max_hour_checks = n->hour_checks;
			m->max_hour_failed = n->hour_failed;
			m->max_hour_kind = n->kind;
		}
	}
	n->last_chk = s->mono;
	n->last_good = good;
	if (++s->inflight > CHURN_CONCURRENCY || s->inflight != s->k.inflight)
		m->errors++;
	struct flight f = {
		.t = s->mono + (good ? CHURN_SUCCESS_MS : s->o->timeout * 1000),
		.node = id, .idx = i, .gen = cn->gen, .good = good,
	};
	if (!fifo_push(good ? &s->ok : &s->ko, &f))
		m->errors++;
}

static void
on_done(struct sim *s, const struct flight *e)
{
	struct pnode *n = &s->pn[e->node];
	struct crawl_result r = {
		.good = e->good, .err = e->good ? NODE_E_NONE : NODE_E_TIMEOUT, .dialect = e->good ? 1 : 0,
	};

	s->inflight--;
	n->checks++;
	if (!e->good)
		n->failed++;
	if (n->idx != e->idx || n->gen != e->gen)
		s->m->errors++;
	unsigned ev = crawl_core_done(&s->k, e->idx, e->gen, &r, s->mono, sim_now(s));
	if (s->inflight != s->k.inflight)
		s->m->errors++;
	if (ev & CRAWL_EV_OUTAGE_BEGIN)
		s->m->outages++;
	if (ev & CRAWL_EV_FORGOTTEN) {
		s->m->forgotten++;
		n->idx = NODE_NONE;
		if (n->pub) {
			s->m->errors++; /* forgotten, yet still in the zone */
			set_pub(s, n, false);
		}
		return;
	}
	if (!!(nodes_at(&s->k.nodes, e->idx)->flags & NODE_PUBLISHED) != n->pub)
		s->m->errors++;
	if (e->good && n->failed == 0 && !n->pub)
		mark_allgood_unpub(s, n);
}

static void
dispatch(struct sim *s)
{
	while (s->k.inflight < CHURN_CONCURRENCY && crawl_core_next_due(&s->k) <= s->mono) {
		uint32_t i = crawl_core_next(&s->k, s->mono, sim_now(s));
		if (i == NODE_NONE) {
			s->m->errors++;
			return;
		}
		start_check(s, i);
	}
}

/* --- the population --------------------------------------------------------- */

static uint32_t
grow(struct sim *s)
{
	if (s->npn == s->cap) {
		size_t cap = s->cap * 2;
		struct pnode *v = realloc(s->pn, cap * sizeof(*v));
		if (!v) {
			fprintf(stderr, "churn: out of memory\n");
			exit(2);
		}
		s->pn = v;
		s->cap = cap;
	}
	return (uint32_t)s->npn++;
}

/* The node starts to exist (t = 0, or its arrival): count it, queue its life. */
static void
exist(struct sim *s, uint32_t id)
{
	struct pnode *n = &s->pn[id];

	n->flags |= P_BORN;
	if (n->up)
		node_up(s, n, id);
	if (n->next != INT64_MAX)
		push(s, n->next, EV_TRANS, id, 0);
}

static void
on_trans(struct sim *s, uint32_t id)
{
	struct pnode *n = &s->pn[id];

	pop_step(n);
	if (n->up)
		node_up(s, n, id);
	else
		node_down(s, n);
	if (n->next != INT64_MAX)
		push(s, n->next, EV_TRANS, id, 0);
}

static void
on_newcomer(struct sim *s)
{
	uint32_t id = grow(s);
	struct pnode *n = &s->pn[id];

	pop_init(n, s->o->seed, id, false, s->mono);
	n->flags |= P_NEWCOMER;
	if (s->mono >= s->warmup)
		s->m->newcomers++;
	exist(s, id);
	learn(s, id);
}

static int64_t
next_arrival(struct sim *s)
{
	double per_ms = CHURN_NEWCOMERS * (double)s->o->nodes / (double)MS_D;
	double gap = -log1p(-pop_unif(&s->arrivals)) / per_ms;

	return s->mono + 1 + (int64_t)gap;
}

static void
on_report(struct sim *s)
{
	for (uint32_t id = 0; id < s->npn; id++)
		if ((s->pn[id].flags & P_BORN) && s->pn[id].up)
			learn(s, id);
}

static void
setup(struct sim *s, const struct health_model *model)
{
	const struct churn_opts *o = s->o;
	uint8_t key[32];
	uint64_t ks = pop_stream(o->seed, 0, 3);
	size_t max = (size_t)((double)o->nodes * (1.0 + 2.0 * CHURN_NEWCOMERS * (double)o->days)) + 1024;
	struct crawl_params p = { .interval = o->interval, .port = CHURN_PORT, .allow_private = true };

	for (size_t j = 0; j < sizeof(key); j += 8) {
		uint64_t w = pop_next64(&ks);
		memcpy(key + j, &w, 8);
	}
	rng_init_seed(&s->rng, key);
	crawl_core_init(&s->k, &p, model, &s->rng, max, pop_stream(o->seed, 0, 4), on_publish, s);
	sipa_attach(&s->k.nodes);
	evq_init(&s->q);
	s->end = o->days * MS_D;
	s->warmup = o->warmup_days * MS_D;
	s->arrivals = pop_stream(o->seed, 0, 5);
	s->cap = (size_t)o->nodes + 1024;
	s->pn = malloc(s->cap * sizeof(*s->pn));
	if (!s->pn) {
		fprintf(stderr, "churn: out of memory\n");
		exit(2);
	}
	for (uint32_t j = 0; j < o->nodes; j++) {
		uint32_t id = grow(s);
		struct pnode *n = &s->pn[id];
		pop_init(n, o->seed, id, true, 0);
		if (n->born > 0) {
			push(s, n->born, EV_ARRIVE, id, 0);
			continue;
		}
		exist(s, id);
		learn(s, id);
	}
	push(s, s->end, EV_END, 0, 0);
	push(s, next_arrival(s), EV_NEWCOMER, 0, 0);
	push(s, CHURN_REPORT_MS, EV_REPORT, 0, 0);
	push(s, s->warmup, EV_SAMPLE, 0, 0);
}

static void
finish(struct sim *s)
{
	struct metrics *m = s->m;

	for (uint32_t id = 0; id < s->npn; id++) {
		struct pnode *n = &s->pn[id];
		if (!(n->flags & P_BORN))
			continue;
		m->population++;
		int64_t from = n->born > s->warmup ? n->born : s->warmup;
		if (from < s->end) {
			double h = (double)(s->end - from) / (double)MS_H;
			m->node_hours += h;
			m->node_hours_by_kind[n->kind] += h;
		}
		if (n->flags & P_DEATH_WATCH) {
			m->dead_still_published++;
			i64v_push(&m->to_unpublish, s->end - n->died);
		}
		if ((n->flags & P_NEWCOMER) && n->born >= s->warmup && n->first_pub < 0) {
			m->never_published++;
			i64v_push(&m->to_publish, INT64_MAX);
		}
	}
	metrics_finish(m);
}

void
churn_run(const struct churn_opts *o, const struct health_model *model, struct churn_result *res)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct timespec t0, t1;

	if (!s) {
		fprintf(stderr, "churn: out of memory\n");
		exit(2);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	res->name = model->name;
	metrics_init(&res->m);
	s->o = o;
	s->m = &res->m;
	setup(s, model);
	for (;;) {
		dispatch(s);
		int64_t tev = evq_top(&s->q), tok = fifo_top(&s->ok), tko = fifo_top(&s->ko);
		int64_t tdone = tok <= tko ? tok : tko;
		int64_t tdue = s->k.inflight < CHURN_CONCURRENCY ? crawl_core_next_due(&s->k) : INT64_MAX;
		if (tdue <= s->mono)
			tdue = INT64_MAX; /* dispatch found nothing to take: counted as an error there */
		/* At the same millisecond: results, then other events, then new checks. */
		if (tdue < tdone && tdue < tev) {
			s->mono = tdue;
			continue;
		}
		if (tdone <= tev) {
			struct flight f = fifo_pop(tok <= tko ? &s->ok : &s->ko);
			s->mono = f.t;
			on_done(s, &f);
			continue;
		}
		struct ev e = evq_pop(&s->q);
		s->mono = e.t;
		switch (e.type) {
		case EV_TRANS:
			on_trans(s, e.node);
			break;
		case EV_MATURE:
			if (s->pn[e.node].up && s->pn[e.node].epoch == e.arg && !s->pn[e.node].mature)
				node_mature(s, &s->pn[e.node]);
			break;
		case EV_ARRIVE:
			exist(s, e.node);
			learn(s, e.node);
			break;
		case EV_NEWCOMER:
			on_newcomer(s);
			push(s, next_arrival(s), EV_NEWCOMER, 0, 0);
			break;
		case EV_REPORT:
			on_report(s);
			push(s, s->mono + CHURN_REPORT_MS, EV_REPORT, 0, 0);
			break;
		case EV_SAMPLE:
			metrics_sample(s->m);
			push(s, s->mono + CHURN_SAMPLE_MS, EV_SAMPLE, 0, 0);
			break;
		default:
			break;
		}
		if (e.type == EV_END)
			break;
	}
	finish(s);
	res->m.errors += sipa_unfollowed();
	sipa_attach(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->m.wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	crawl_core_free(&s->k);
	evq_free(&s->q);
	free(s->pn);
	free(s);
}
