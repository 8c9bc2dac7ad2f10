/*
 * crawler: the crawler core on the loop. Decisions are crawl_core.c's,
 * the checks node_check.c's, the files crawl_store.c's; here: dispatch,
 * results, host names, the zone, passes and the minute summary.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crawl/crawler.h"
#include "base/log.h"
#include "crawl/infnote_msg.h"

#define TICK_MS 100
#define SUMMARY_MS 60000

struct crawler_inflight {
	uint32_t idx, gen;
	int64_t start;   /* monotonic ms */
	bool fresh;      /* never checked before */
	struct crawler *c;
};

/* The core's publish callback: the zone's answers change now; the serial once per batch (flush_zone). */
static int
on_publish(void *ctx, uint32_t i, const struct addr *a, bool on)
{
	struct crawler *c = ctx;
	int changed = on ? zone_node_add(c->zone, a) : zone_node_del(c->zone, a);

	(void)i;
	if (changed > 0) {
		zonestore_node(c->store, a, on); /* for zone.csv.log */
		c->zone_changed = true;
	}
	return changed;
}

static void
flush_zone(struct crawler *c)
{
	if (!c->zone_changed)
		return;
	c->zone_changed = false;
	zonestore_touch(c->store, c->zone, time(NULL));
}

static void
crawler_wake(struct crawler *c, int64_t in_ms)
{
	/* Before crawler_start (loading snapshots) there is no timer yet: start wakes it. */
	if (c->on && c->timer >= 0)
		loop_timer_arm(c->loop, c->timer, in_ms);
}

static void
pass_open(struct crawler *c)
{
	if (c->pass_open)
		return;
	c->pass_open = true;
	c->pass_start = c->loop->now;
	c->pass_checks = 0;
}

/* A node to check: known ones are left alone; new ones queued first. */
static uint32_t
crawler_learn(struct crawler *c, const struct addr *a, const struct url *u, bool seed)
{
	char buf[512];
	bool fresh;
	uint32_t i = crawl_core_learn(&c->core, a, seed, (int64_t)time(NULL), &fresh);

	if (!fresh)
		return i;
	if (u && (u->tls || !u->is_ip || strcmp(u->path, "/") != 0) && url_format(u, buf, sizeof(buf)))
		nodes_set_url(&c->core.nodes, i, buf); /* out of memory: checked at ws://address/ */
	pass_open(c);
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
	pass_open(c);
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

/* --- checks --------------------------------------------------------------- */

static void
release_slot(struct crawler *c, struct crawler_inflight *f)
{
	c->free_slots[c->nfree++] = (uint32_t)(f - c->slots);
	if (f->fresh)
		c->inflight_fresh--;
}

static void
pass_maybe_done(struct crawler *c)
{
	if (!c->pass_open || c->core.nodes.nfresh || c->inflight_fresh || c->resolving)
		return;
	c->pass_open = false;
	/* The first pass fills the zone: an event. Later ones (each new node opens one) are debug. */
	log_msg(c->passes_total++ ? LOG_DEBUG : LOG_INFO, "crawl",
	        "msg=\"crawl pass done\" nodes=%zu good=%zu checks=%llu ms=%lld", c->core.nodes.count,
	        nodeset_count(&c->zone->v4) + nodeset_count(&c->zone->v6), (unsigned long long)c->pass_checks,
	        (long long)(c->loop->now - c->pass_start));
}

static void
on_done(void *arg, void *user, const struct check_result *r)
{
	struct crawler *c = arg;
	struct crawler_inflight *f = user;
	uint32_t i = f->idx;
	int64_t now = (int64_t)time(NULL), mono = c->loop->now, ms = mono - f->start;
	struct crawl_result cr = {
		.good = r->good, .garbage = r->garbage, .ours = r->ours, .err = (uint8_t)r->err, .dialect = r->dialect,
	};

	release_slot(c, f);
	crawler_wake(c, 0);
	if (log_on(LOG_DEBUG)) {
		char as[ADDR_STRLEN];
		addr_str(&nodes_at(&c->core.nodes, i)->addr, as, sizeof(as));
		if (r->good)
			log_debug("crawl", "node=%s result=good peers=%u ms=%lld dialect=%s detail=\"%s\"", as, r->peers,
			          (long long)ms, r->dialect == 2 ? "1.1" : "0.1", r->detail ? r->detail : "");
		else
			log_debug("crawl", "node=%s result=bad reason=%s ms=%lld garbage=%s detail=\"%s\"", as,
			          node_error_name(r->err), (long long)ms, r->garbage ? "yes" : "no", r->detail ? r->detail : "");
	}
	c->pass_checks++;
	unsigned ev = crawl_core_done(&c->core, i, f->gen, &cr, mono, now);
	if (ev & CRAWL_EV_OUTAGE_END)
		log_info("crawl", "msg=\"checks succeed again: our network is back\" outage_s=%lld",
		         (long long)(now - c->core.outage_since));
	if (ev & CRAWL_EV_OUTAGE_BEGIN)
		log_warn("crawl", "msg=\"nearly every check of good nodes fails: our network seems down; failures are not counted against nodes\" undone=%u",
		         c->core.undone);
	pass_maybe_done(c);
}

static void
node_url(const struct nodes *t, uint32_t i, struct url *u)
{
	const struct node *n = nodes_at(t, i);
	const char *s = nodes_url(t, i);

	if (s && url_parse(u, s, strlen(s), n->addr.port) == 0)
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

	while (c->core.inflight < c->cfg->concurrency) {
		uint32_t i = crawl_core_next(&c->core, mono, now);
		if (i == NODE_NONE)
			break;
		struct node *n = nodes_at(&c->core.nodes, i);
		struct crawler_inflight *f = &c->slots[c->free_slots[--c->nfree]];
		struct check_result r;
		struct url u;
		*f = (struct crawler_inflight){ .idx = i, .gen = n->gen, .start = mono, .fresh = n->h.checks == 0, .c = c };
		if (f->fresh)
			c->inflight_fresh++;
		node_url(&c->core.nodes, i, &u);
		if (!check_start(&c->env, &n->addr, &u, n->dialect, mono + (int64_t)c->cfg->timeout * 1000, f, &r))
			on_done(c, f, &r);
	}
}

/* Once a minute at info: what the crawler did in that minute, and where it stands. */
static void
summary(struct crawler *c)
{
	const struct crawl_stats *st = &c->core.st, *m = &c->st_minute;

	log_info("crawl", "msg=summary checked=%llu good=%llu bad=%llu rechecks=%llu new=%llu banned=%llu forgotten=%llu passes=%llu inflight=%u nodes=%zu published=%zu queued_new=%zu outage=%s",
	         (unsigned long long)(st->checks - m->checks), (unsigned long long)(st->good - m->good),
	         (unsigned long long)(st->bad - m->bad), (unsigned long long)(st->rechecks - m->rechecks),
	         (unsigned long long)(st->learnt - m->learnt), (unsigned long long)(st->banned - m->banned),
	         (unsigned long long)(st->forgotten - m->forgotten), (unsigned long long)(c->passes_total - c->passes_minute),
	         c->core.inflight, c->core.nodes.count, nodeset_count(&c->zone->v4) + nodeset_count(&c->zone->v6),
	         c->core.nodes.nfresh, c->core.outage ? "yes" : "no");
	c->st_minute = *st;
	c->passes_minute = c->passes_total;
}

static bool crawler_load(struct crawler *c);

static void
on_tick(struct loop *l, void *arg)
{
	struct crawler *c = arg;
	int64_t next;

	if (!c->loaded && crawler_load(c)) {
		loop_timer_arm(l, c->timer, 0); /* the next slice after the next DNS answers */
		return;
	}
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
	if (c->core.inflight < c->cfg->concurrency && crawl_core_next_due(&c->core) < next)
		next = crawl_core_next_due(&c->core);
	loop_timer_arm(l, c->timer, next > l->now ? next - l->now : 0);
}

/* --- life ------------------------------------------------------------------ */

int
crawler_init(struct crawler *c, const struct crawler_config *cfg, struct loop *l, struct rng *rng,
             struct zone *z, struct zonestore *zs, int dirfd)
{
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
	struct crawl_params p = { .interval = cfg->interval, .port = cfg->port, .allow_private = cfg->allow_private };
	crawl_core_init(&c->core, &p, &health_ours, rng, cfg->max_nodes, seed, on_publish, c);
	c->core.nodes.track = true; /* nodes.csv.log: what changes from here on */
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
	if (resolver_init(&c->resolver, l, rng, cfg->have_resolver ? &cfg->resolver : NULL) == 0) {
		c->have_resolver = true;
	} else {
		log_warn("crawl", "msg=\"no resolver: host names will not be crawled\" error=\"%s\"", strerror(errno));
	}
	c->pass_start = l->now;
	crawl_store_init(&c->files, dirfd, cfg->port);
	return 0;
}

/*
 * What takes time at start: the trust anchors and nodes.csv. Done in the
 * loop's turns after the first DNS answers, nodes.csv a slice a turn:
 * zone.csv is served from the first query on, the history joins as it
 * is read. true while there is more to read.
 */
static bool
crawler_load(struct crawler *c)
{
	const struct crawler_config *cfg = c->cfg;
	bool want_tls = cfg->ca_file_given;
	int rc = 2; /* 2: the anchors were done with in an earlier turn */

	/* The trust anchors first, a piece a turn: a CA bundle is tens of milliseconds of CPU. */
	if (!c->anchors_tried) {
		c->anchors_tried = true;
		c->anchor_loader = tls_anchors_open(&c->anchors, cfg->ca_file, c->anchor_err, sizeof(c->anchor_err));
		if (c->anchor_loader)
			return true;
		rc = -1;
	} else if (c->anchor_loader) {
		rc = tls_anchors_step(c->anchor_loader, &c->anchors, c->anchor_err, sizeof(c->anchor_err));
		if (rc == 1)
			return true;
		c->anchor_loader = NULL;
	}
	if (rc == 0) {
		c->have_anchors = true;
		c->env.anchors = &c->anchors;
		log_info("crawl", "msg=\"trust anchors loaded\" file=%s count=%zu", cfg->ca_file, c->anchors.n);
	} else if (rc == -1) {
		for (int i = 0; i < cfg->nseeds; i++)
			want_tls |= cfg->seeds[i].tls;
		if (want_tls)
			log_warn("crawl", "msg=\"no trust anchors: wss:// nodes will fail; give --ca-file\" error=\"%s\"",
			         c->anchor_err);
		else
			log_debug("crawl", "msg=\"no trust anchors; wss:// nodes will fail\" error=\"%s\"", c->anchor_err);
	}
	if (crawl_store_load_step(&c->files, &c->core, c->loop->now))
		return true;
	c->loaded = true;
	crawler_sync_zone(c);
	flush_zone(c);
	c->pass_start = c->loop->now;
	c->next_summary = c->loop->now + SUMMARY_MS;
	c->next_seed_resolve = c->loop->now;
	if (c->core.nodes.nfresh)
		pass_open(c);
	log_info("crawl", "msg=started seeds=%d nodes=%zu concurrency=%u timeout=%u interval=%u port=%u",
	         cfg->nseeds, c->core.nodes.count, cfg->concurrency, cfg->timeout, cfg->interval, cfg->port);
	return false;
}

void
crawler_start(struct crawler *c)
{
	if (!c->on) {
		log_info("crawl", "msg=\"crawler off (--concurrency 0): zone.csv is served as it is\"");
		return;
	}
	c->timer = loop_timer_new(c->loop, on_tick, c);
	crawler_wake(c, 0); /* the first tick loads (crawler_load) */
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
	if (c->anchor_loader)
		tls_anchors_abandon(c->anchor_loader, &c->anchors);
	c->anchor_loader = NULL;
	if (c->have_anchors)
		tls_anchors_free(&c->anchors);
	crawl_core_free(&c->core);
	free(c->slots);
	free(c->free_slots);
	crawl_store_free(&c->files);
}

/* --- files ----------------------------------------------------------------- */

void
crawler_sync_zone(struct crawler *c)
{
	/* Before the load ends, nodes.csv's rows come first: the load syncs when done. */
	if (!c->on || !c->loaded)
		return;
	if (crawl_store_zone_rows(&c->core, c->zone, c->cfg->port, c->loop->now, (int64_t)time(NULL))) {
			pass_open(c);
		crawler_wake(c, 0);
	}
}

void
crawler_poll(struct crawler *c)
{
	if (c->on && c->loaded && crawl_store_poll(&c->files, &c->core, c->loop->now))
		crawler_wake(c, 0);
}

int
crawler_save(struct crawler *c, bool force)
{
	/* Not loaded yet (stopped in the first moment): nodes.csv on disk is still the truth. */
	return c->on && c->loaded ? crawl_store_save(&c->files, &c->core, force) : 0;
}

void
crawler_set_extra(struct crawler *c, const char *network, char *(*fn)(void *ctx, size_t *len),
                  int (*changes)(void *ctx, char **buf, size_t *len, size_t *cap), void *ctx)
{
	crawl_store_set_extra(&c->files, network, fn, changes, ctx);
}
