/*
 * nodeset: a set of addresses of one family with O(1) add, remove and
 * membership, grouped in prefix buckets (/16 for IPv4, /32 for IPv6) so
 * that a random pick of k members that prefers distinct prefixes costs
 * O(k) however large the set. Hashes are keyed with a random seed so
 * addresses learnt from the network cannot aim at one chain.
 * Functions return -1 only when memory or the cap runs out.
 */
#ifndef SEEDD_NODESET_H
#define SEEDD_NODESET_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

/* Where node i sits; its address is apart, in ips, so that the hash probes read a dense array. */
struct nodeset_node {
	uint32_t bucket; /* index into buckets */
	uint32_t pos;    /* index into that bucket's members */
};

struct nodeset_bucket {
	uint32_t key;       /* the prefix */
	uint32_t order_pos; /* index into order */
	uint32_t n;
	size_t cap;
	uint32_t *members;  /* node indices */
};

struct nodeset {
	size_t alen; /* 4 or 16 */
	size_t max;
	uint64_t seed;
	uint8_t *ips;     /* alen bytes a node */
	struct nodeset_node *nodes;
	size_t n, cap;
	uint32_t *slots; /* address hash: node index + 1, 0 = empty */
	size_t nslots;
	struct nodeset_bucket *buckets;
	size_t nb, bcap;
	uint32_t *bslots; /* prefix hash: bucket index + 1 */
	size_t nbslots;
	uint32_t *order;  /* bucket indices, shuffled in place by picks */
};

void nodeset_init(struct nodeset *s, size_t alen, size_t max, uint64_t seed);
/* 1 added, 0 already present, -1 full or out of memory. */
int nodeset_add(struct nodeset *s, const uint8_t *ip);
/* Room for n members at once (a load): no rehash or regrowth on the way. -1: out of memory. */
int nodeset_reserve(struct nodeset *s, size_t n);
/*
 * A hint that ip is added or looked up soon: its hash slot is brought
 * into the cache meanwhile. A load of 100,000 rows waited on those random
 * reads more than it computed; a few rows ahead hides most of the wait.
 */
void nodeset_prefetch(const struct nodeset *s, const uint8_t *ip);
/* 1 removed, 0 absent. */
int nodeset_del(struct nodeset *s, const uint8_t *ip);
int nodeset_has(const struct nodeset *s, const uint8_t *ip);
size_t nodeset_count(const struct nodeset *s);
/* The address bytes of member i (0 <= i < count), valid until the next add or delete. */
const uint8_t *nodeset_ip(const struct nodeset *s, size_t i);
void nodeset_clear(struct nodeset *s);
/*
 * Up to k distinct members at random: first one from each of up to k
 * distinct prefixes in random order, then further rounds over the same
 * prefixes. Writes pointers to the address bytes; returns how many.
 */
size_t nodeset_pick(struct nodeset *s, struct rng *r, const uint8_t **out, size_t k);

#endif
