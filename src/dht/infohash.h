/*
 * infohash: what the DHT sniffer heard about each infohash (SPEC 3, 6):
 * first and last seen, separate counts by provenance (get_peers,
 * announce_peer, BEP 51 samples) and the last announcer. Entries live in
 * one dense array; an open-addressing index keyed with SipHash finds them
 * (infohashes come from the network, so a crafted set must not collide).
 * The table never holds more than max entries: a new one then evicts the
 * least seen of a few sampled at random (fewest sightings, then the
 * oldest). 48 bytes an entry, 8 bytes an index slot; IPv6 announcers in a
 * side array. Entries changed since the last ih_take_dirty are listed, so
 * a change log writes them without scanning the table. No I/O.
 */
#ifndef SEEDD_INFOHASH_H
#define SEEDD_INFOHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/rng.h"
#include "base/siphash.h"

#define IH_LEN 20
#define IH_EVICT_SAMPLE 8
#define IH_NO_V6 UINT32_MAX

struct ih_entry {
	uint8_t h[IH_LEN];
	uint32_t first, last;            /* unix s */
	uint32_t get_peers, announces, samples;
	uint32_t who;                    /* announcer: IPv4 (network order bytes) or index of an IPv6 one */
	uint16_t who_port;               /* 0: no announcer */
	uint8_t who_family;              /* 0, 4 or 6 */
	uint8_t dirty;                   /* changed since the last ih_take_dirty */
};

struct ih_table {
	struct ih_entry *v;
	uint32_t n, cap, max;
	uint32_t *index;                 /* entry index + 1; 0 = empty */
	uint32_t slots;                  /* power of two, at least 2 * n */
	uint8_t (*v6)[16];               /* IPv6 announcers */
	uint32_t nv6, capv6, free_v6;    /* free list through the first 4 bytes */
	struct siphash_key key;
	uint64_t evicted;
	uint32_t announced;              /* entries with announces > 0 */
	uint32_t *dirty;                 /* indexes of dirty entries (some may be stale) */
	uint32_t ndirty, capdirty;
	bool all_dirty;                  /* the list overflowed: every entry counts */
};

void ih_init(struct ih_table *t, uint32_t max, const struct siphash_key *key);
void ih_free(struct ih_table *t);
struct ih_entry *ih_find(const struct ih_table *t, const uint8_t h[IH_LEN]);
/*
 * The entry of h, made (zeroed, first = last = now) when absent; a full
 * table first evicts one. NULL only when memory runs out.
 */
struct ih_entry *ih_get(struct ih_table *t, const uint8_t h[IH_LEN], uint32_t now, struct rng *rng);
/* announces += n (saturating), keeping the count of announced entries. */
void ih_add_announces(struct ih_table *t, struct ih_entry *e, uint32_t n);
/* announces = n, likewise. */
void ih_set_announces(struct ih_table *t, struct ih_entry *e, uint32_t n);
/* Set or read the announcer (a's port included). Set returns false on OOM. */
bool ih_set_who(struct ih_table *t, struct ih_entry *e, const struct addr *a);
bool ih_who(const struct ih_table *t, const struct ih_entry *e, struct addr *out);

/* e changed: it goes in the next batch of the change log. */
void ih_touch(struct ih_table *t, struct ih_entry *e);
/*
 * The changed entries since the last call, each once, through fn; their
 * marks are cleared. Returns how many.
 */
uint32_t ih_take_dirty(struct ih_table *t, void (*fn)(void *ctx, const struct ih_entry *e), void *ctx);
/* Forget the marks (everything is being written whole). */
void ih_clear_dirty(struct ih_table *t);

#endif
