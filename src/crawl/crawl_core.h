/*
 * crawl_core: the crawler's decisions without I/O (SPEC 5). It owns the
 * node table and decides which node is checked next, what a check's
 * result does to the node (health, ban, publish, schedule, forget), and
 * when a burst of failures is our own outage. Time is an argument (mono:
 * monotonic ms for the schedule; now: unix s for the history); results
 * come in as plain values. The crawler (crawler.c) runs it on the loop
 * with real checks; the churn simulator (tests/churn) on a simulated clock.
 *
 * A node's verdict (NODE_GOOD) is the model's alone; it is published
 * (NODE_PUBLISHED, through the publish callback) when it is also on
 * --port, its address may be published, and it is not banned.
 */
#ifndef SEEDD_CRAWL_CORE_H
#define SEEDD_CRAWL_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "nodes/health.h"
#include "nodes/node_table.h"
#include "base/rng.h"

#define CRAWL_BAN_S 86400          /* SPEC 5: garbage bans a node for a day */
#define CRAWL_RETRY_MS 30000       /* a check not counted (our outage, our memory) is retried this soon */
#define CRAWL_OUTAGE_SPAN_S 60     /* the span the own-outage guard looks at */
#define CRAWL_OUTAGE_MIN 10        /* checks of good nodes needed to decide */
#define CRAWL_OUTAGE_RATIO 0.9     /* share of them failing at once */
#define CRAWL_RING 64

struct crawl_params {
	int64_t interval; /* --interval, s */
	uint16_t port;    /* --port: only nodes on it are published */
	bool allow_private;
};

/* What one check found. */
struct crawl_result {
	bool good;
	bool garbage; /* bad frames, messages or handshake: ban the node */
	bool ours;    /* failed for want of our own resources: count nothing */
	uint8_t err;  /* enum node_error */
	uint8_t dialect; /* what the node spoke; 0 unknown */
};

/* Put a node's address in the zone (on) or take it out: >0 changed, 0 not, <0 could not. */
typedef int crawl_publish_fn(void *ctx, uint32_t i, const struct addr *a, bool on);

struct crawl_recent {
	int64_t t; /* unix s */
	bool failed;
	uint32_t idx, gen;
	bool had_prior; /* a failure: the state before it, to undo */
	struct health prior;
	uint8_t prior_error, prior_flags;
};

struct crawl_stats {
	uint64_t checks, good, bad, learnt, dropped_full, dropped_filtered, forgotten, banned, rechecks;
	uint64_t by_error[NODE_E_COUNT];
};

/* What crawl_core_done did that the caller may want to log. */
enum crawl_event {
	CRAWL_EV_NONE = 0,
	CRAWL_EV_BANNED = 1,
	CRAWL_EV_FORGOTTEN = 2,
	CRAWL_EV_OUTAGE_BEGIN = 4, /* our network seems down; undone says how many nodes were restored */
	CRAWL_EV_OUTAGE_END = 8,
	CRAWL_EV_CHANGED = 16,     /* the node's published state changed */
};

struct crawl_core {
	struct crawl_params p;
	const struct health_model *model;
	struct rng *rng;
	struct nodes nodes;
	crawl_publish_fn *publish;
	void *ctx;
	uint32_t inflight;
	bool outage;
	int64_t outage_since; /* unix s */
	unsigned undone;      /* nodes restored when the outage began */
	struct crawl_recent recent[CRAWL_RING];
	unsigned nrecent, recent_pos;
	struct crawl_stats st;
};

void crawl_core_init(struct crawl_core *k, const struct crawl_params *p, const struct health_model *m,
                     struct rng *rng, size_t max_nodes, uint64_t seed, crawl_publish_fn *fn, void *ctx);
void crawl_core_free(struct crawl_core *k);

/* The address may be kept and published (global, or allow_private). */
bool crawl_core_publishable(const struct crawl_core *k, const struct addr *a);
/*
 * A node to check: known ones are left alone (a seed is marked so); new
 * ones go on the never-checked stack. *fresh tells a new one. NODE_NONE
 * when the address is filtered or the table is full.
 */
uint32_t crawl_core_learn(struct crawl_core *k, const struct addr *a, bool seed, int64_t now, bool *fresh);
/* The next node to check at mono (never-checked first, then due), taken off its queue; NODE_NONE when none. */
uint32_t crawl_core_next(struct crawl_core *k, int64_t mono, int64_t now);
/* When the next known node is due (mono ms), INT64_MAX when none; the never-checked are due at once. */
int64_t crawl_core_next_due(const struct crawl_core *k);
/* A check of node i (generation gen) ended: returns crawl_event bits. */
unsigned crawl_core_done(struct crawl_core *k, uint32_t i, uint32_t gen, const struct crawl_result *r,
                         int64_t mono, int64_t now);
/* Publish node i or not: its verdict, port, address and ban decide. */
void crawl_core_sync(struct crawl_core *k, uint32_t i, int64_t now);
/* A node loaded with its history (nodes.csv): verdict, publish, and a due time spread over an interval. */
void crawl_core_loaded(struct crawl_core *k, uint32_t i, bool good, int64_t mono, int64_t now);
/* A node the zone file lists (it is in the zone): kept as the last known state; checked at once unless good. */
void crawl_core_zone_row(struct crawl_core *k, uint32_t i, int64_t mono, int64_t now);

#endif
