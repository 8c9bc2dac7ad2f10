/*
 * crawler: discovers and checks the network (SPEC 5) on the loop. It runs
 * the crawler core (crawl_core.h: the node table, the schedule, the health
 * model, the own-outage guard) with real checks (node_check.h, at most
 * --concurrency at once), keeps the published nodes of the zone in step
 * at once, resolves host names with the stub resolver, and keeps
 * nodes.csv. After start-up nothing here exits: failures are logged and
 * counted.
 */
#ifndef SEEDD_CRAWLER_H
#define SEEDD_CRAWLER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/loop.h"
#include "base/rng.h"
#include "base/url.h"
#include "crawl/crawl_core.h"
#include "crawl/crawl_store.h"
#include "crawl/node_check.h"
#include "crawl/tls.h"
#include "dns/resolver.h"
#include "zone/zone.h"
#include "zone/zone_store.h"

/* What the crawler takes of the command line (main fills it). */
struct crawler_config {
	const struct url *seeds;
	int nseeds;
	uint16_t port;
	uint32_t interval, timeout, concurrency, max_nodes;
	bool allow_private;
	const char *ca_file;
	bool ca_file_given;
	struct addr resolver;
	bool have_resolver;
};

struct crawler_inflight;
struct name_lookup;

struct crawler {
	const struct crawler_config *cfg;
	struct loop *loop;
	struct rng *rng;
	struct zone *zone;
	struct zonestore *store;
	int dirfd;
	int timer;
	bool on;
	bool loaded; /* nodes.csv read: a slice a turn from the loop's first, after the first answers */
	bool anchors_tried;
	struct tls_anchor_loader *anchor_loader; /* the bundle being read, a piece a turn */
	char anchor_err[512];
	struct crawl_core core; /* the node table and every decision */
	struct check_env env;
	struct tls_anchors anchors;
	bool have_anchors;
	struct resolver resolver;
	bool have_resolver;
	struct crawler_inflight *slots;
	uint32_t *free_slots;
	uint32_t nfree, inflight_fresh;
	uint32_t resolving; /* host-name lookups under way */
	struct name_lookup *lookups;
	/* the current crawl pass: from new nodes appearing to none left */
	bool pass_open;
	int64_t pass_start;
	uint64_t pass_checks;
	/* host names recently resolved (hash, unix s), so a name reported by many peers is asked once */
	uint64_t name_hash[256];
	int64_t name_time[256];
	int64_t next_summary, next_seed_resolve;
	bool zone_changed; /* published nodes changed since the serial last grew */
	struct crawl_store files; /* nodes.csv and zone.csv's node rows */
	struct crawl_stats st_minute; /* the counters at the last summary line */
	uint64_t passes_total, passes_minute;
};

/* Load nodes.csv, merge zone node rows, open the resolver and trust anchors. -1 on OOM. */
int crawler_init(struct crawler *c, const struct crawler_config *cfg, struct loop *l, struct rng *rng,
                 struct zone *z, struct zonestore *zs, int dirfd);
/* Begin checking (after sockets are bound). */
void crawler_start(struct crawler *c);
/* Node rows that appeared in zone.csv (after a reload) become candidates. */
void crawler_sync_zone(struct crawler *c);
/* Merge nodes.csv again when someone else changed it on disk. */
void crawler_poll(struct crawler *c);
/* nodes.csv rows of network come from fn from now on (the DHT's). */
void crawler_set_extra(struct crawler *c, const char *network, char *(*fn)(void *ctx, size_t *len),
                       int (*changes)(void *ctx, char **buf, size_t *len, size_t *cap), void *ctx);
/* Write nodes.csv when changed (or always with force): 0 or -1. */
int crawler_save(struct crawler *c, bool force);
void crawler_close(struct crawler *c);

#endif
