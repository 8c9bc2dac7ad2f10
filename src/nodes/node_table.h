/*
 * nodes: the crawler's node table (SPEC 5). A node is (address, port)
 * with its health history, the URL it is checked at, its dialect and its
 * schedule. Nodes live in one array indexed by uint32; a keyed hash finds
 * them by address; a free list reuses forgotten slots (gen tells a reused
 * slot from the old node). Two queues feed the checks: a stack of nodes
 * never checked (most recently learnt first) and a min-heap of known
 * nodes by due time. The table never grows past max; nothing here does I/O.
 * Functions return -1 only when memory or the cap runs out.
 */
#ifndef SEEDD_NODES_H
#define SEEDD_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "nodes/health.h"

#define NODE_NONE UINT32_MAX

enum node_error {
	NODE_E_NONE, NODE_E_REFUSED, NODE_E_UNREACHABLE, NODE_E_TIMEOUT, NODE_E_TLS,
	NODE_E_HANDSHAKE, NODE_E_PROTOCOL, NODE_E_CLOSED, NODE_E_ERROR, NODE_E_RESOLVE,
	NODE_E_BANNED, NODE_E_COUNT,
};

enum node_flag {
	NODE_USED = 1,      /* slot holds a node */
	NODE_INFLIGHT = 2,  /* a check is running */
	NODE_FRESH = 4,     /* on the never-checked stack */
	NODE_PUBLISHED = 8, /* in the zone */
	NODE_SEED = 16,     /* from --seed: never forgotten */
	NODE_GOOD = 32,     /* the health model's verdict (published when port and address allow) */
	NODE_DIRTY = 64,    /* its row changed since the last batch of nodes.csv.log */
	NODE_URL = 128,     /* checked at a URL of its own (nodes_url), not ws://address/ */
};

/*
 * 84 bytes (100,000 nodes: 8.4 MB): no padding but a byte here and the
 * health's tail. When a node is due is the heap's key alone
 * (nodes_due_at); its URL, when it has one of its own, is in t->urls.
 */
struct node {
	struct addr addr;
	uint32_t gen;
	uint32_t hnext;   /* hash chain, or free list */
	uint32_t banned_until; /* unix s; 0 = not banned (health_stamp) */
	uint8_t flags, dialect, last_error;
	struct health h;
};

struct nodes {
	struct node *v;
	size_t n, cap;    /* slots used at least once, allocated */
	size_t max, count;
	uint32_t free_head;
	uint64_t seed;
	uint32_t *buckets;
	size_t nbuckets;
	/* The due heap holds its keys, and positions live apart: a sift touches no node. */
	struct nodes_due { int64_t due; uint32_t i; } *heap;
	uint32_t *hpos;   /* by node: position in the heap + 1; 0 = not queued */
	size_t nheap;
	uint32_t *fresh;
	size_t nfresh;
	/*
	 * What changed since the last take, for nodes.csv.log: nodes touched
	 * (by index; a slot reused meanwhile is a new node, itself touched) and
	 * addresses forgotten. Off until track is set (a load is no change).
	 */
	bool track;
	bool all_dirty;   /* a list could not grow: every node counts, and forgetting was lost */
	uint32_t *dirty;
	size_t ndirty, capdirty;
	struct addr *gone;
	size_t ngone, capgone;
	/*
	 * The URLs of nodes checked at one of their own (a host name, wss, a
	 * path), by node index: few nodes have one, and a pointer in every
	 * node was 8 of its bytes. Open addressing, linear probing.
	 */
	struct nodes_url { uint32_t i; char *url; } *urls;
	size_t nurls, capurls; /* capurls: 0 or a power of two */
};

void nodes_init(struct nodes *t, size_t max, uint64_t seed);
void nodes_free(struct nodes *t);
uint32_t nodes_find(const struct nodes *t, const struct addr *a);
/* Room for n nodes (at most max) at once, e.g. before a load: 0 or -1. */
int nodes_reserve(struct nodes *t, size_t n);
/* A new node (zeroed history), not queued; NODE_NONE when full. */
uint32_t nodes_add(struct nodes *t, const struct addr *a);
/* Forget a node (it must not be in flight); its slot is reused later. */
void nodes_del(struct nodes *t, uint32_t i);
static inline struct node *
nodes_at(const struct nodes *t, uint32_t i)
{
	return &t->v[i];
}

/* The URL node i is checked at when not ws://address/, else NULL. */
const char *nodes_url(const struct nodes *t, uint32_t i);
/* Set it (a copy; NULL: the default again). -1 when memory ran out: the default then. */
int nodes_set_url(struct nodes *t, uint32_t i, const char *url);

/* Node i's row changed (a no-op unless t->track). */
void nodes_touch(struct nodes *t, uint32_t i);
/*
 * Hand over what changed since the last take and start afresh: each
 * forgotten address to gone_fn, then each changed node to node_fn (every
 * node when all_dirty). Returns the number of calls.
 */
size_t nodes_take_changes(struct nodes *t, void (*gone_fn)(void *ctx, const struct addr *a),
                          void (*node_fn)(void *ctx, uint32_t i), void *ctx);
/* Forget what changed (the whole table was just written). */
void nodes_clear_changes(struct nodes *t);

/* Queue on the never-checked stack (pushed last = taken first). */
void nodes_push_fresh(struct nodes *t, uint32_t i);
/* Queue (or re-queue) on the heap at due. */
void nodes_schedule(struct nodes *t, uint32_t i, int64_t due);
/* On the due heap? */
static inline bool
nodes_queued(const struct nodes *t, uint32_t i)
{
	return t->hpos[i] != 0;
}
/* When it is due (monotonic ms, as scheduled), or INT64_MAX when not on the heap. */
static inline int64_t
nodes_due_at(const struct nodes *t, uint32_t i)
{
	return t->hpos[i] ? t->heap[t->hpos[i] - 1].due : INT64_MAX;
}
/* Take it off whichever queue holds it. */
void nodes_unqueue(struct nodes *t, uint32_t i);
/* The next node to check at now (fresh first, then due heap), dequeued; NODE_NONE when none. */
uint32_t nodes_next(struct nodes *t, int64_t now);
/* The earliest due time in the heap, or INT64_MAX. */
int64_t nodes_next_due(const struct nodes *t);

const char *node_error_name(enum node_error e);
int node_error_parse(const char *s);

#endif
