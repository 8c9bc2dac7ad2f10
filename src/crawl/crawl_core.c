/*
 * crawl_core: what a check's result does, and which node goes next.
 * The health model decides the verdict and the delay; this file adds
 * what is not the model's: bans, port and address rules, jitter, the
 * own-outage guard, and the queues.
 */
#include <string.h>

#include "crawl/crawl_core.h"

void
crawl_core_init(struct crawl_core *k, const struct crawl_params *p, const struct health_model *m,
                struct rng *rng, size_t max_nodes, uint64_t seed, crawl_publish_fn *fn, void *ctx)
{
	memset(k, 0, sizeof(*k));
	k->p = *p;
	if (k->p.interval < 1)
		k->p.interval = 1;
	k->model = m;
	k->rng = rng;
	k->publish = fn;
	k->ctx = ctx;
	nodes_init(&k->nodes, max_nodes, seed);
}

void
crawl_core_free(struct crawl_core *k)
{
	nodes_free(&k->nodes);
}

bool
crawl_core_publishable(const struct crawl_core *k, const struct addr *a)
{
	return k->p.allow_private || addr_is_global(a);
}

void
crawl_core_sync(struct crawl_core *k, uint32_t i, int64_t now)
{
	struct node *n = nodes_at(&k->nodes, i);
	bool want = (n->flags & NODE_GOOD) && n->banned_until <= now && n->addr.port == k->p.port &&
	            crawl_core_publishable(k, &n->addr);

	if (want == !!(n->flags & NODE_PUBLISHED))
		return;
	if (k->publish(k->ctx, i, &n->addr, want) < 0 && want)
		return; /* no room in the zone: not published, tried again at its next check */
	if (want)
		n->flags |= NODE_PUBLISHED;
	else
		n->flags &= (uint8_t)~NODE_PUBLISHED;
}

/* The model's verdict at now, then the zone to match. */
static void
judge(struct crawl_core *k, uint32_t i, int64_t now)
{
	struct node *n = nodes_at(&k->nodes, i);

	if (k->model->publish(&n->h, now, n->flags & NODE_GOOD, k->p.interval))
		n->flags |= NODE_GOOD;
	else
		n->flags &= (uint8_t)~NODE_GOOD;
	crawl_core_sync(k, i, now);
}

uint32_t
crawl_core_learn(struct crawl_core *k, const struct addr *a, bool seed, int64_t now, bool *fresh)
{
	uint32_t i;

	*fresh = false;
	if (a->port == 0 || addr_is_unusable(a)) {
		k->st.dropped_filtered++;
		return NODE_NONE;
	}
	/* An operator's seed is crawled whatever its address; only learnt peers are filtered. */
	if (!seed && !crawl_core_publishable(k, a)) {
		k->st.dropped_filtered++;
		return NODE_NONE;
	}
	i = nodes_find(&k->nodes, a);
	if (i != NODE_NONE) {
		if (seed)
			nodes_at(&k->nodes, i)->flags |= NODE_SEED;
		return i;
	}
	i = nodes_add(&k->nodes, a);
	if (i == NODE_NONE) {
		k->st.dropped_full++;
		return NODE_NONE;
	}
	struct node *n = nodes_at(&k->nodes, i);
	if (seed)
		n->flags |= NODE_SEED;
	n->h.first_seen = health_stamp(now);
	nodes_touch(&k->nodes, i);
	nodes_push_fresh(&k->nodes, i);
	k->st.learnt++;
	*fresh = true;
	return i;
}

uint32_t
crawl_core_next(struct crawl_core *k, int64_t mono, int64_t now)
{
	for (;;) {
		uint32_t i = nodes_next(&k->nodes, mono);
		if (i == NODE_NONE)
			return NODE_NONE;
		struct node *n = nodes_at(&k->nodes, i);
		if (n->banned_until > now) {
			nodes_schedule(&k->nodes, i, mono + (n->banned_until - now) * 1000);
			continue;
		}
		n->flags |= NODE_INFLIGHT;
		k->inflight++;
		return i;
	}
}

int64_t
crawl_core_next_due(const struct crawl_core *k)
{
	return k->nodes.nfresh ? INT64_MIN : nodes_next_due(&k->nodes);
}

/* +-10%: checks of nodes learnt together drift apart instead of marching in step. */
static int64_t
jitter(struct crawl_core *k, int64_t ms)
{
	int64_t span = ms / 5;

	if (span <= 0)
		return ms;
	return ms - ms / 10 + (int64_t)rng_below(k->rng, (uint32_t)(span > UINT32_MAX ? UINT32_MAX : span));
}

/* --- the own-outage guard ------------------------------------------------- */

static void
recent_push(struct crawl_core *k, const struct crawl_recent *r)
{
	k->recent[k->recent_pos] = *r;
	k->recent_pos = (k->recent_pos + 1) % CRAWL_RING;
	if (k->nrecent < CRAWL_RING)
		k->nrecent++;
}

/* Nearly every recent check of a good node failed at once: the fault is ours. */
static bool
outage_now(const struct crawl_core *k, int64_t now)
{
	unsigned total = 0, failed = 0;

	for (unsigned j = 0; j < k->nrecent; j++) {
		const struct crawl_recent *r = &k->recent[j];
		if (now - r->t > CRAWL_OUTAGE_SPAN_S)
			continue;
		total++;
		failed += r->failed;
	}
	return total >= CRAWL_OUTAGE_MIN && (double)failed >= CRAWL_OUTAGE_RATIO * total;
}

static void
outage_enter(struct crawl_core *k, int64_t now)
{
	k->outage = true;
	k->outage_since = now;
	k->undone = 0;
	/* Undo what the failures of this span did to the nodes. */
	for (unsigned j = 0; j < k->nrecent; j++) {
		struct crawl_recent *r = &k->recent[j];
		if (!r->failed || !r->had_prior || now - r->t > CRAWL_OUTAGE_SPAN_S)
			continue;
		r->had_prior = false;
		if (r->idx >= k->nodes.n)
			continue;
		struct node *n = nodes_at(&k->nodes, r->idx);
		if (!(n->flags & NODE_USED) || n->gen != r->gen)
			continue;
		n->h = r->prior;
		n->last_error = r->prior_error;
		n->flags = (uint8_t)((n->flags & ~NODE_GOOD) | (r->prior_flags & NODE_GOOD));
		nodes_touch(&k->nodes, r->idx);
		crawl_core_sync(k, r->idx, now);
		k->undone++;
	}
}

static bool
connection_failure(enum node_error e)
{
	return e == NODE_E_REFUSED || e == NODE_E_UNREACHABLE || e == NODE_E_TIMEOUT;
}

/* --- results -------------------------------------------------------------- */

unsigned
crawl_core_done(struct crawl_core *k, uint32_t i, uint32_t gen, const struct crawl_result *r,
                int64_t mono, int64_t now)
{
	unsigned ev = CRAWL_EV_NONE;

	k->inflight--;
	if (i >= k->nodes.n)
		return ev;
	struct node *n = nodes_at(&k->nodes, i);
	if (!(n->flags & NODE_USED) || n->gen != gen)
		return ev; /* forgotten meanwhile */
	n->flags &= (uint8_t)~NODE_INFLIGHT;
	k->st.checks++;
	if (r->good) {
		k->st.good++;
	} else {
		k->st.bad++;
		k->st.by_error[r->err < NODE_E_COUNT ? r->err : NODE_E_ERROR]++;
	}
	bool was_good = n->flags & NODE_GOOD, was_pub = n->flags & NODE_PUBLISHED;

	/* The guard looks at nodes that were good: when they all fail together, it is us. */
	if (was_good) {
		struct crawl_recent rec = {
			.t = now, .failed = !r->good && connection_failure(r->err), .idx = i, .gen = gen,
			.had_prior = !r->good, .prior = n->h, .prior_error = n->last_error, .prior_flags = n->flags,
		};
		recent_push(k, &rec);
	}
	if (r->good && k->outage) {
		k->outage = false;
		k->nrecent = 0;
		k->recent_pos = 0;
		ev |= CRAWL_EV_OUTAGE_END;
	}
	/* Our memory budget or our network, not the node: try again soon, count nothing. */
	if (!r->good && (r->ours || (k->outage && connection_failure(r->err)))) {
		nodes_schedule(&k->nodes, i, mono + jitter(k, CRAWL_RETRY_MS));
		return ev;
	}

	health_update(&n->h, now, r->good);
	nodes_touch(&k->nodes, i);
	n->last_error = r->err;
	if (r->dialect)
		n->dialect = r->dialect;
	if (r->garbage) {
		n->banned_until = health_stamp(now + CRAWL_BAN_S);
		k->st.banned++;
		ev |= CRAWL_EV_BANNED;
	}
	judge(k, i, now);

	if (!k->outage && was_good && !r->good && outage_now(k, now)) {
		outage_enter(k, now);
		ev |= CRAWL_EV_OUTAGE_BEGIN;
		nodes_schedule(&k->nodes, i, mono + CRAWL_RETRY_MS);
		if (was_pub != !!(n->flags & NODE_PUBLISHED))
			ev |= CRAWL_EV_CHANGED;
		return ev;
	}
	if (was_pub != !!(n->flags & NODE_PUBLISHED))
		ev |= CRAWL_EV_CHANGED;

	if (!(n->flags & NODE_SEED) && k->model->forget(&n->h, now)) {
		n->flags &= (uint8_t)~NODE_GOOD;
		crawl_core_sync(k, i, now);
		nodes_del(&k->nodes, i);
		k->st.forgotten++;
		return ev | CRAWL_EV_FORGOTTEN;
	}
	int64_t delay_s = k->model->delay(&n->h, now, n->flags & NODE_GOOD, k->p.interval);
	if (!r->good && n->h.fails == 1 && (n->flags & NODE_GOOD))
		k->st.rechecks++;
	int64_t due_ms = jitter(k, delay_s * 1000);
	if (n->banned_until > now && (n->banned_until - now) * 1000 > due_ms)
		due_ms = (n->banned_until - now) * 1000;
	nodes_schedule(&k->nodes, i, mono + due_ms);
	return ev;
}

/* --- nodes that arrive with a history ------------------------------------- */

void
crawl_core_loaded(struct crawl_core *k, uint32_t i, bool good, int64_t mono, int64_t now)
{
	struct node *n = nodes_at(&k->nodes, i);

	if (n->h.checks == 0) {
		nodes_push_fresh(&k->nodes, i);
		return;
	}
	if (good)
		n->flags |= NODE_GOOD;
	judge(k, i, now);
	/* Due when its delay since the last check ends (jittered); overdue ones spread over one interval. */
	int64_t iv = k->p.interval;
	int64_t wait = k->model->delay(&n->h, now, n->flags & NODE_GOOD, iv) - (now - n->h.last_check);
	int64_t due_ms = wait > 0 ? jitter(k, wait * 1000) : (int64_t)rng_below(k->rng, (uint32_t)(iv < 4294967 ? iv * 1000 : UINT32_MAX));
	nodes_schedule(&k->nodes, i, mono + due_ms);
}

void
crawl_core_zone_row(struct crawl_core *k, uint32_t i, int64_t mono, int64_t now)
{
	struct node *n = nodes_at(&k->nodes, i);

	(void)now;
	/* The zone holds it; with no history it is taken as good, the last known state. */
	n->flags |= NODE_PUBLISHED;
	if (n->h.checks == 0 && !(n->flags & NODE_GOOD)) {
		n->flags |= NODE_GOOD;
		nodes_touch(&k->nodes, i); /* its good column */
	}
	/* Not good by its history: checked at once, and its result decides. */
	if (!(n->flags & NODE_GOOD) && nodes_queued(&k->nodes, i) && !(n->flags & NODE_INFLIGHT))
		nodes_schedule(&k->nodes, i, mono);
}
