/*
 * crawler: scheduling, results and the zone. The checks themselves are
 * check.c, nodes.csv and zone.csv node rows crawler_store.c, the health
 * arithmetic health.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crawler.h"
#include "crawler_int.h"
#include "log.h"
#include "nodescsv.h"
#include "peers.h"

#define TICK_MS 100
#define SUMMARY_MS 60000
#define BAN_S 86400                /* SPEC 5: garbage bans a node for a day */
#define OUTAGE_RETRY_MS 30000      /* a check not counted during our outage is retried this soon */
#define BACKOFF_MAX_S (4 * 3600)

struct crawler_inflight {
	uint32_t idx, gen;
	int64_t start;   /* monotonic ms */
	bool fresh;      /* never checked before */
	bool was_good;
	struct crawler *c;
};

bool
crawler_publishable(const struct crawler *c, const struct addr *a)
{
	return c->cfg->allow_private || addr_is_global(a);
}

bool
crawler_node_good(const struct crawler *c, const struct node *n, int64_t now)
{
	(void)c;
	return health_good(&n->h) && n->banned_until <= now;
}

bool
crawler_good_for_csv(void *ctx, const struct node *n)
{
	return crawler_node_good(ctx, n, (int64_t)time(NULL));
}

/* Put the node in the zone or take it out, as its state says. */
void
crawler_publish(struct crawler *c, uint32_t i, bool want)
{
	struct node *n = nodes_at(&c->nodes, i);

	want = want && n->addr.port == c->cfg->port && crawler_publishable(c, &n->addr);
	if (want == !!(n->flags & NODE_PUBLISHED))
		return;
	int changed;
	if (want) {
		changed = zone_node_add(c->zone, &n->addr);
		if (changed < 0)
			return;
		n->flags |= NODE_PUBLISHED;
	} else {
		changed = zone_node_del(c->zone, &n->addr);
		n->flags &= (uint8_t)~NODE_PUBLISHED;
	}
	/* Answers change now; the serial grows once per batch of changes (flush_zone). */
	if (changed > 0)
		c->zone_changed = true;
}

static void
flush_zone(struct crawler *c)
{
	if (!c->zone_changed)
		return;
	c->zone_changed = false;
	zonestore_touch(c->store, c->zone, time(NULL));
}

void
crawler_wake(struct crawler *c, int64_t in_ms)
{
	/* Before crawler_start (loading snapshots) there is no timer yet: start wakes it. */
	if (c->on && c->timer >= 0)
		loop_timer_arm(c->loop, c->timer, in_ms);
}

/* A node to check: known ones are left alone; new ones queued first. */
uint32_t
crawler_learn(struct crawler *c, const struct addr *a, const struct url *u, bool seed)
{
	char buf[512];
	uint32_t i;

	if (a->port == 0 || addr_is_unusable(a)) {
		c->st.dropped_filtered++;
		return NODE_NONE;
	}
	/* An operator's seed is crawled whatever its address; only learnt peers are filtered. */
	if (!seed && !crawler_publishable(c, a)) {
		c->st.dropped_filtered++;
		return NODE_NONE;
	}
	i = nodes_find(&c->nodes, a);
	if (i != NODE_NONE) {
		if (seed)
			nodes_at(&c->nodes, i)->flags |= NODE_SEED;
		return i;
	}
	i = nodes_add(&c->nodes, a);
	if (i == NODE_NONE) {
		c->st.dropped_full++;
		return NODE_NONE;
	}
	struct node *n = nodes_at(&c->nodes, i);
	if (u && (u->tls || !u->is_ip || strcmp(u->path, "/") != 0) && url_format(u, buf, sizeof(buf)))
		n->url = strdup(buf);
	if (seed)
		n->flags |= NODE_SEED;
	n->h.first_seen = (int64_t)time(NULL);
	nodes_push_fresh(&c->nodes, i);
	c->st.learnt++;
	c->dirty = true;
	if (!c->pass_open) {
		c->pass_open = true;
		c->pass_start = c->loop->now;
		c->pass_checks = 0;
	}
	crawler_wake(c, 0);
	return i;
}

static void pass_maybe_done(struct crawler *c);

/* --- host names ----------------------------------------------------------- */

struct name_lookup {
	struct crawler *c;
	struct name_lookup *next, *prev; /* the crawler's list, so shutdown frees every one */
	struct resolver_lookup *handle;
	struct url url;
	bool seed;
};

static void
lookup_unlink(struct crawler *c, struct name_lookup *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		c->lookups = q->next;
	if (q->next)
		q->next->prev = q->prev;
}

static void
on_resolved(void *arg, enum resolver_status st, const struct addr *addrs, size_t n)
{
	struct name_lookup *q = arg;

	q->c->resolving--;
	lookup_unlink(q->c, q);
	if (st != RESOLVER_OK)
		log_debug("crawl", "msg=\"cannot resolve\" host=%s status=%s", q->url.host, resolver_status_name(st));
	for (size_t k = 0; k < n; k++) {
		struct addr a = addrs[k];
		a.port = q->url.port;
		crawler_learn(q->c, &a, &q->url, q->seed);
	}
	pass_maybe_done(q->c);
	free(q);
}

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h | 1;
}

static void
resolve(struct crawler *c, const struct url *u, bool seed)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t h = name_hash(u->host) ^ u->port ^ (u->tls ? 0x100000000ULL : 0);
	size_t slot = (size_t)(h % 256);

	/* A name many peers report is asked once per --interval. */
	if (!seed && c->name_hash[slot] == h && now - c->name_time[slot] < (int64_t)c->cfg->interval)
		return;
	c->name_hash[slot] = h;
	c->name_time[slot] = now;
	if (!c->have_resolver)
		return;
	struct name_lookup *q = malloc(sizeof(*q));
	if (!q)
		return;
	q->c = c;
	q->url = *u;
	q->seed = seed;
	q->handle = resolver_lookup(&c->resolver, u->host, on_resolved, q);
	if (!q->handle) {
		log_debug("crawl", "msg=\"name not resolved\" host=%s error=\"%s\"", u->host, strerror(errno));
		c->name_hash[slot] = 0;
		free(q);
		return;
	}
	q->prev = NULL;
	q->next = c->lookups;
	if (c->lookups)
		c->lookups->prev = q;
	c->lookups = q;
	/* A pass is not over while names learnt in it are being resolved. */
	c->resolving++;
	if (!c->pass_open) {
		c->pass_open = true;
		c->pass_start = c->loop->now;
		c->pass_checks = 0;
	}
}

static void
on_peer(void *arg, const struct url *u)
{
	struct crawler *c = arg;
	struct addr a;

	if (!u->is_ip) {
		resolve(c, u, false);
		return;
	}
	if (addr_parse_ip(&a, u->host) < 0)
		return;
	a.port = u->port;
	crawler_learn(c, &a, u, false);
}

static void
resolve_seeds(struct crawler *c)
{
	for (int i = 0; i < c->cfg->nseeds; i++) {
		const struct url *u = &c->cfg->seeds[i];
		struct addr a;
		if (u->is_ip && addr_parse_ip(&a, u->host) == 0) {
			a.port = u->port;
			crawler_learn(c, &a, u, true);
		} else if (!u->is_ip) {
			resolve(c, u, true);
		}
	}
}

/* --- the own-outage guard ------------------------------------------------- */

static void
recent_push(struct crawler *c, const struct crawler_recent *r)
{
	c->recent[c->recent_pos] = *r;
	c->recent_pos = (c->recent_pos + 1) % CRAWLER_RING;
	if (c->nrecent < CRAWLER_RING)
		c->nrecent++;
}

/* Nearly every recent check of a good node failed at once: the fault is ours. */
static bool
outage_now(struct crawler *c, int64_t now)
{
	unsigned total = 0, failed = 0;

	for (unsigned k = 0; k < c->nrecent; k++) {
		const struct crawler_recent *r = &c->recent[k];
		if (now - r->t > CRAWLER_OUTAGE_SPAN_S)
			continue;
		total++;
		failed += r->failed;
	}
	return total >= CRAWLER_OUTAGE_MIN && (double)failed >= CRAWLER_OUTAGE_RATIO * total;
}

static void
outage_enter(struct crawler *c, int64_t now)
{
	unsigned undone = 0;

	c->outage = true;
	c->outage_since = now;
	/* Undo what the failures of this span did to the nodes. */
	for (unsigned k = 0; k < c->nrecent; k++) {
		struct crawler_recent *r = &c->recent[k];
		if (!r->failed || !r->had_prior || now - r->t > CRAWLER_OUTAGE_SPAN_S)
			continue;
		r->had_prior = false;
		struct node *n = nodes_at(&c->nodes, r->idx);
		if (r->idx >= c->nodes.n || !(n->flags & NODE_USED) || n->gen != r->gen)
			continue;
		n->h = r->prior;
		n->fails = r->prior_fails;
		n->last_error = r->prior_error;
		crawler_publish(c, r->idx, crawler_node_good(c, n, now));
		undone++;
	}
	log_warn("crawl", "msg=\"nearly every check of good nodes fails: our network seems down; failures are not counted against nodes\" undone=%u", undone);
}

static void
outage_leave(struct crawler *c, int64_t now)
{
	c->outage = false;
	c->nrecent = 0;
	c->recent_pos = 0;
	log_info("crawl", "msg=\"checks succeed again: our network is back\" outage_s=%lld",
	         (long long)(now - c->outage_since));
}

/* --- results -------------------------------------------------------------- */

static bool
connection_failure(enum node_error e)
{
	return e == NODE_E_REFUSED || e == NODE_E_UNREACHABLE || e == NODE_E_TIMEOUT;
}

static int64_t
jitter(struct crawler *c, int64_t ms)
{
	/* +-10%: checks of nodes learnt together drift apart instead of marching in step. */
	int64_t span = ms / 5;
	return span > 0 ? ms - ms / 10 + (int64_t)rng_below(c->rng, (uint32_t)(span > UINT32_MAX ? UINT32_MAX : span)) : ms;
}

static void
release_slot(struct crawler *c, struct crawler_inflight *f)
{
	c->free_slots[c->nfree++] = (uint32_t)(f - c->slots);
	c->inflight--;
	if (f->fresh)
		c->inflight_fresh--;
}

static void
pass_maybe_done(struct crawler *c)
{
	if (!c->pass_open || c->nodes.nfresh || c->inflight_fresh || c->resolving)
		return;
	c->pass_open = false;
	log_info("crawl", "msg=\"crawl pass done\" nodes=%zu good=%zu checks=%llu ms=%lld",
	         c->nodes.count, nodeset_count(&c->zone->v4) + nodeset_count(&c->zone->v6),
	         (unsigned long long)c->pass_checks, (long long)(c->loop->now - c->pass_start));
}

static void
on_done(void *arg, void *user, const struct check_result *r)
{
	struct crawler *c = arg;
	struct crawler_inflight *f = user;
	struct node *n = nodes_at(&c->nodes, f->idx);
	int64_t now = (int64_t)time(NULL), mono = c->loop->now;
	char as[ADDR_STRLEN];

	release_slot(c, f);
	crawler_wake(c, 0);
	if (!(n->flags & NODE_USED) || n->gen != f->gen)
		return; /* forgotten meanwhile */
	n->flags &= (uint8_t)~NODE_INFLIGHT;
	c->st.checks++;
	c->pass_checks++;
	addr_str(&n->addr, as, sizeof(as));
	if (r->good) {
		c->st.good++;
		log_debug("crawl", "node=%s result=good peers=%u ms=%lld dialect=%s detail=\"%s\"", as, r->peers,
		          (long long)(mono - f->start), r->dialect == 2 ? "1.1" : "0.1", r->detail ? r->detail : "");
	} else {
		c->st.bad++;
		c->st.by_error[r->err]++;
		log_debug("crawl", "node=%s result=bad reason=%s ms=%lld detail=\"%s\"", as, node_error_name(r->err),
		          (long long)(mono - f->start), r->detail ? r->detail : "");
	}

	/* The guard looks at nodes that were good: when they all fail together, it is us. */
	if (f->was_good) {
		struct crawler_recent rec = {
			.t = now, .failed = !r->good && connection_failure(r->err), .idx = f->idx, .gen = f->gen,
			.had_prior = !r->good, .prior = n->h, .prior_fails = n->fails, .prior_error = n->last_error,
		};
		recent_push(c, &rec);
	}
	if (r->good && c->outage)
		outage_leave(c, now);
	if (!r->good && r->ours) {
		/* Our memory budget, not the node: try again soon, count nothing. */
		nodes_schedule(&c->nodes, f->idx, mono + jitter(c, OUTAGE_RETRY_MS));
		pass_maybe_done(c);
		return;
	}
	if (!r->good && connection_failure(r->err) && c->outage) {
		/* Not the node's fault: try again later, count nothing. */
		nodes_schedule(&c->nodes, f->idx, mono + OUTAGE_RETRY_MS);
		pass_maybe_done(c);
		return;
	}

	health_update(&n->h, now, r->good);
	n->last_error = (uint8_t)r->err;
	if (r->dialect)
		n->dialect = r->dialect;
	n->fails = r->good ? 0 : (uint8_t)(n->fails < 255 ? n->fails + 1 : 255);
	if (r->garbage) {
		n->banned_until = now + BAN_S;
		c->st.banned++;
		log_info("crawl", "msg=\"node banned for a day: garbage\" node=%s detail=\"%s\"", as, r->detail ? r->detail : "");
	}
	c->dirty = true;

	bool good = crawler_node_good(c, n, now);
	crawler_publish(c, f->idx, good);

	if (!c->outage && f->was_good && outage_now(c, now)) {
		outage_enter(c, now);
		nodes_schedule(&c->nodes, f->idx, mono + OUTAGE_RETRY_MS);
		pass_maybe_done(c);
		return;
	}

	int64_t delay_s;
	enum health_fate fate = health_fate(&n->h, &delay_s);
	if (fate == HEALTH_FORGET && !(n->flags & NODE_SEED)) {
		crawler_publish(c, f->idx, false);
		nodes_del(&c->nodes, f->idx);
		c->st.forgotten++;
		pass_maybe_done(c);
		return;
	}
	int64_t due_ms;
	if (good) {
		due_ms = jitter(c, (int64_t)c->cfg->interval * 1000);
	} else {
		/* Exponential backoff from min(--interval, 60 s), capped; the rules' ignore periods win. */
		int64_t base = c->cfg->interval < 60 ? c->cfg->interval : 60;
		int64_t s = base << (n->fails > 12 ? 12 : n->fails - 1);
		if (s > BACKOFF_MAX_S)
			s = BACKOFF_MAX_S;
		if (fate == HEALTH_IGNORE && delay_s > s)
			s = delay_s;
		due_ms = jitter(c, s * 1000);
	}
	if (n->banned_until > now && (n->banned_until - now) * 1000 > due_ms)
		due_ms = (n->banned_until - now) * 1000;
	nodes_schedule(&c->nodes, f->idx, mono + due_ms);
	pass_maybe_done(c);
}

/* --- dispatch ------------------------------------------------------------- */

static void
node_url(const struct node *n, struct url *u)
{
	if (n->url && url_parse(u, n->url, strlen(n->url), n->addr.port) == 0)
		return;
	memset(u, 0, sizeof(*u));
	u->is_ip = true;
	addr_ip_str(&n->addr, u->host, sizeof(u->host));
	u->port = n->addr.port;
	strcpy(u->path, "/");
}

static void
dispatch(struct crawler *c)
{
	int64_t mono = c->loop->now, now = (int64_t)time(NULL);

	while (c->inflight < c->cfg->concurrency) {
		uint32_t i = nodes_next(&c->nodes, mono);
		if (i == NODE_NONE)
			break;
		struct node *n = nodes_at(&c->nodes, i);
		if (n->banned_until > now) {
			nodes_schedule(&c->nodes, i, mono + (n->banned_until - now) * 1000);
			continue;
		}
		struct crawler_inflight *f = &c->slots[c->free_slots[--c->nfree]];
		struct check_result r;
		struct url u;
		*f = (struct crawler_inflight){
			.idx = i, .gen = n->gen, .start = mono, .fresh = n->h.checks == 0,
			.was_good = crawler_node_good(c, n, now), .c = c,
		};
		c->inflight++;
		if (f->fresh)
			c->inflight_fresh++;
		n->flags |= NODE_INFLIGHT;
		node_url(n, &u);
		if (!check_start(&c->env, &n->addr, &u, n->dialect, mono + (int64_t)c->cfg->timeout * 1000, f, &r))
			on_done(c, f, &r);
	}
}

static void
summary(struct crawler *c)
{
	struct crawler_stats *m = &c->st_minute;

	log_info("crawl", "msg=summary checked=%llu good=%llu bad=%llu new=%llu inflight=%u nodes=%zu published=%zu queued_new=%zu outage=%s",
	         (unsigned long long)(c->st.checks - m->checks), (unsigned long long)(c->st.good - m->good),
	         (unsigned long long)(c->st.bad - m->bad), (unsigned long long)(c->st.learnt - m->learnt),
	         c->inflight, c->nodes.count, nodeset_count(&c->zone->v4) + nodeset_count(&c->zone->v6),
	         c->nodes.nfresh, c->outage ? "yes" : "no");
	*m = c->st;
}

static void
on_tick(struct loop *l, void *arg)
{
	struct crawler *c = arg;
	int64_t next;

	check_sweep(&c->env, l->now);
	if (l->now >= c->next_seed_resolve) {
		resolve_seeds(c);
		c->next_seed_resolve = l->now + (int64_t)c->cfg->interval * 1000;
	}
	dispatch(c);
	if (l->now >= c->next_summary) {
		summary(c);
		c->next_summary = l->now + SUMMARY_MS;
	}
	pass_maybe_done(c);
	flush_zone(c);
	/* Sleep until the next due node, a deadline to enforce, or the next minute. */
	next = c->next_summary;
	if (c->next_seed_resolve < next)
		next = c->next_seed_resolve;
	if (c->env.nlive)
		next = l->now + TICK_MS;
	if (c->inflight < c->cfg->concurrency && nodes_next_due(&c->nodes) < next)
		next = nodes_next_due(&c->nodes);
	if (c->inflight < c->cfg->concurrency && c->nodes.nfresh)
		next = l->now;
	loop_timer_arm(l, c->timer, next > l->now ? next - l->now : 0);
}

/* --- life ------------------------------------------------------------------ */

int
crawler_init(struct crawler *c, const struct config *cfg, struct loop *l, struct rng *rng,
             struct zone *z, struct zonestore *zs, int dirfd)
{
	char err[512];

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->loop = l;
	c->rng = rng;
	c->zone = z;
	c->store = zs;
	c->dirfd = dirfd;
	c->timer = -1;
	c->on = cfg->concurrency > 0;
	if (!c->on)
		return 0;
	uint64_t seed;
	rng_bytes(rng, &seed, sizeof(seed));
	nodes_init(&c->nodes, cfg->max_nodes, seed);
	c->slots = calloc(cfg->concurrency, sizeof(*c->slots));
	c->free_slots = calloc(cfg->concurrency, sizeof(*c->free_slots));
	if (!c->slots || !c->free_slots)
		return -1;
	for (uint32_t k = 0; k < cfg->concurrency; k++)
		c->free_slots[c->nfree++] = cfg->concurrency - 1 - k;
	c->env = (struct check_env){
		.loop = l, .rng = rng, .anchors = NULL, .ca_file = cfg->ca_file,
		.default_port = cfg->port, .on_peer = on_peer, .on_done = on_done, .arg = c,
	};
	bool want_tls = cfg->ca_file_given;
	for (int i = 0; i < cfg->nseeds; i++)
		want_tls |= cfg->seeds[i].tls;
	if (tls_anchors_load(&c->anchors, cfg->ca_file, err, sizeof(err)) == 0) {
		c->have_anchors = true;
		c->env.anchors = &c->anchors;
		log_info("crawl", "msg=\"trust anchors loaded\" file=%s count=%zu", cfg->ca_file, c->anchors.n);
	} else if (want_tls) {
		log_warn("crawl", "msg=\"no trust anchors: wss:// nodes will fail; give --ca-file\" error=\"%s\"", err);
	} else {
		log_debug("crawl", "msg=\"no trust anchors; wss:// nodes will fail\" error=\"%s\"", err);
	}
	if (resolver_init(&c->resolver, l, rng, cfg->have_resolver ? &cfg->resolver : NULL) == 0) {
		c->have_resolver = true;
	} else {
		log_warn("crawl", "msg=\"no resolver: host names will not be crawled\" error=\"%s\"", strerror(errno));
	}
	c->pass_start = l->now;
	crawler_load_nodes(c);
	crawler_sync_zone(c);
	flush_zone(c);
	return 0;
}

void
crawler_start(struct crawler *c)
{
	if (!c->on) {
		log_info("crawl", "msg=\"crawler off (--concurrency 0): zone.csv is served as it is\"");
		return;
	}
	c->timer = loop_timer_new(c->loop, on_tick, c);
	c->next_summary = c->loop->now + SUMMARY_MS;
	c->next_seed_resolve = c->loop->now;
	if (!c->pass_open && c->nodes.nfresh) {
		c->pass_open = true;
		c->pass_start = c->loop->now;
	}
	log_info("crawl", "msg=started seeds=%d nodes=%zu concurrency=%u timeout=%u interval=%u port=%u",
	         c->cfg->nseeds, c->nodes.count, c->cfg->concurrency, c->cfg->timeout, c->cfg->interval, c->cfg->port);
	crawler_wake(c, 0);
}

void
crawler_close(struct crawler *c)
{
	if (!c->on)
		return;
	check_abort_all(&c->env);
	while (c->lookups) {
		struct name_lookup *q = c->lookups;
		resolver_cancel(&c->resolver, q->handle);
		lookup_unlink(c, q);
		free(q);
	}
	if (c->have_resolver)
		resolver_close(&c->resolver);
	if (c->have_anchors)
		tls_anchors_free(&c->anchors);
	nodes_free(&c->nodes);
	free(c->slots);
	free(c->free_slots);
	free(c->other);
}
