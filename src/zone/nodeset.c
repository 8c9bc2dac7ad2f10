#include "zone/nodeset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmix.h"
#include "base/prefault.h"

static uint64_t
hash_ip(const struct nodeset *s, const uint8_t *ip)
{
	uint64_t h = s->seed;

	for (size_t i = 0; i < s->alen; i += 4) {
		uint32_t w;
		memcpy(&w, ip + i, 4);
		h = hash_mix(h ^ w);
	}
	return h;
}

static uint32_t
prefix_key(const struct nodeset *s, const uint8_t *ip)
{
	if (s->alen == 4)
		return (uint32_t)ip[0] << 8 | ip[1];
	return (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
}

void
nodeset_init(struct nodeset *s, size_t alen, size_t max, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->alen = alen;
	s->max = max;
	s->seed = seed;
}

void
nodeset_clear(struct nodeset *s)
{
	for (size_t i = 0; i < s->nb; i++)
		free(s->buckets[i].members);
	free(s->ips);
	free(s->nodes);
	free(s->slots);
	free(s->buckets);
	free(s->bslots);
	free(s->order);
	nodeset_init(s, s->alen, s->max, s->seed);
}

const uint8_t *
nodeset_ip(const struct nodeset *s, size_t i)
{
	return s->ips + i * s->alen;
}

static bool
same_ip(const struct nodeset *s, size_t i, const uint8_t *ip)
{
	/* A fixed size lets the compiler compare in registers: this runs on every probe. */
	return s->alen == 4 ? memcmp(nodeset_ip(s, i), ip, 4) == 0 : memcmp(nodeset_ip(s, i), ip, 16) == 0;
}

/* Slot of ip in the address hash, or of the empty slot where it would go. */
static size_t
find_slot(const struct nodeset *s, const uint8_t *ip)
{
	size_t mask = s->nslots - 1, i = (size_t)hash_ip(s, ip) & mask;

	while (s->slots[i] != 0 && !same_ip(s, s->slots[i] - 1, ip))
		i = (i + 1) & mask;
	return i;
}

void
nodeset_prefetch(const struct nodeset *s, const uint8_t *ip)
{
	if (s->nslots > 0)
		__builtin_prefetch(&s->slots[(size_t)hash_ip(s, ip) & (s->nslots - 1)]);
}

static size_t
find_bslot(const struct nodeset *s, uint32_t key)
{
	size_t mask = s->nbslots - 1, i = (size_t)hash_mix(s->seed ^ key) & mask;

	while (s->bslots[i] != 0 && s->buckets[s->bslots[i] - 1].key != key)
		i = (i + 1) & mask;
	return i;
}

static int
rehash(struct nodeset *s, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	uint32_t *bslots = calloc(nslots, sizeof(*bslots));

	if (slots == NULL || bslots == NULL) {
		free(slots);
		free(bslots);
		return -1;
	}
	free(s->slots);
	free(s->bslots);
	s->slots = slots;
	s->bslots = bslots;
	s->nslots = s->nbslots = nslots;
	for (size_t i = 0; i < s->n; i++)
		s->slots[find_slot(s, nodeset_ip(s, i))] = (uint32_t)i + 1;
	for (size_t i = 0; i < s->nb; i++)
		s->bslots[find_bslot(s, s->buckets[i].key)] = (uint32_t)i + 1;
	return 0;
}

static int
grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, ncap * elem);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Room for need nodes: the address and position arrays share one capacity. */
static int
grow_nodes(struct nodeset *s, size_t need)
{
	size_t cap = s->cap;

	if (grow((void **)&s->nodes, &cap, need, sizeof(*s->nodes)) < 0)
		return -1;
	if (cap != s->cap) {
		uint8_t *ips = realloc(s->ips, cap * s->alen);
		if (ips == NULL)
			return -1; /* nodes is merely larger than cap says: harmless */
		s->ips = ips;
		s->cap = cap;
	}
	return 0;
}

int
nodeset_reserve(struct nodeset *s, size_t n)
{
	if (n > s->max)
		n = s->max;
	size_t ns = s->nslots ? s->nslots : 64;
	while (ns < n * 2)
		ns *= 2;
	if (ns > s->nslots && rehash(s, ns) < 0)
		return -1;
	if (grow_nodes(s, n) < 0)
		return -1;
	/* A load fills these whole (the hash at least a quarter: every page): fault them in at once. */
	prefault(s->slots, s->nslots * sizeof(*s->slots));
	if (n > s->n) {
		prefault(s->ips + s->n * s->alen, (n - s->n) * s->alen);
		prefault(s->nodes + s->n, (n - s->n) * sizeof(*s->nodes));
	}
	return 0;
}

size_t
nodeset_count(const struct nodeset *s)
{
	return s->n;
}

int
nodeset_has(const struct nodeset *s, const uint8_t *ip)
{
	return s->n > 0 && s->slots[find_slot(s, ip)] != 0;
}

int
nodeset_add(struct nodeset *s, const uint8_t *ip)
{
	size_t slot = 0;

	/* No hash yet (nothing added or reserved): the rehash below makes one. */
	if (s->nslots > 0 && s->slots[slot = find_slot(s, ip)] != 0)
		return 0;
	if (s->n >= s->max)
		return -1;
	/* Keep both hashes at most half full; buckets never outnumber nodes. */
	if ((s->n + 1) * 2 > s->nslots) {
		if (rehash(s, s->nslots ? s->nslots * 2 : 64) < 0)
			return -1;
		slot = find_slot(s, ip);
	}
	if (grow_nodes(s, s->n + 1) < 0)
		return -1;

	uint32_t key = prefix_key(s, ip);
	size_t bslot = find_bslot(s, key);
	struct nodeset_bucket *b;
	if (s->bslots[bslot] == 0) {
		size_t ocap = s->bcap;
		if (grow((void **)&s->buckets, &s->bcap, s->nb + 1, sizeof(*s->buckets)) < 0)
			return -1;
		if (s->bcap != ocap) {
			uint32_t *o = realloc(s->order, s->bcap * sizeof(*o));
			if (o == NULL)
				return -1;
			s->order = o;
		}
		b = &s->buckets[s->nb];
		memset(b, 0, sizeof(*b));
		b->key = key;
		b->order_pos = (uint32_t)s->nb;
		s->order[s->nb] = (uint32_t)s->nb;
		s->bslots[bslot] = (uint32_t)++s->nb;
	}
	b = &s->buckets[s->bslots[bslot] - 1];
	if (grow((void **)&b->members, &b->cap, (size_t)b->n + 1, sizeof(*b->members)) < 0)
		return -1;

	struct nodeset_node *nd = &s->nodes[s->n];
	memcpy(s->ips + s->n * s->alen, ip, s->alen);
	nd->bucket = s->bslots[bslot] - 1;
	nd->pos = b->n;
	b->members[b->n++] = (uint32_t)s->n;
	s->slots[slot] = (uint32_t)++s->n; /* slot: found above, after any rehash */
	return 1;
}

/* Linear-probing delete with backward shift: no tombstones. */
static void
slot_delete(uint32_t *slots, size_t nslots, size_t i,
            size_t (*home)(const struct nodeset *, uint32_t), const struct nodeset *s)
{
	size_t mask = nslots - 1, j = i;

	slots[i] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (slots[j] == 0)
			return;
		size_t h = home(s, slots[j]);
		/* Move slots[j] back to i if its home is not within (i, j]. */
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			slots[i] = slots[j];
			slots[j] = 0;
			i = j;
		}
	}
}

static size_t
node_home(const struct nodeset *s, uint32_t v)
{
	return (size_t)hash_ip(s, nodeset_ip(s, v - 1)) & (s->nslots - 1);
}

static size_t
bucket_home(const struct nodeset *s, uint32_t v)
{
	return (size_t)hash_mix(s->seed ^ s->buckets[v - 1].key) & (s->nbslots - 1);
}

int
nodeset_del(struct nodeset *s, const uint8_t *ip)
{
	if (s->n == 0)
		return 0;
	size_t slot = find_slot(s, ip);
	if (s->slots[slot] == 0)
		return 0;
	uint32_t idx = s->slots[slot] - 1;
	slot_delete(s->slots, s->nslots, slot, node_home, s);

	/* Out of its bucket. */
	struct nodeset_node *nd = &s->nodes[idx];
	uint32_t bi = nd->bucket;
	struct nodeset_bucket *b = &s->buckets[bi];
	uint32_t last = b->members[--b->n];
	b->members[nd->pos] = last;
	s->nodes[last].pos = nd->pos;
	if (b->n == 0) {
		/* Drop the bucket: from the prefix hash, the order and the array. */
		slot_delete(s->bslots, s->nbslots, find_bslot(s, b->key), bucket_home, s);
		uint32_t op = b->order_pos, olast = s->order[s->nb - 1];
		s->order[op] = olast;
		s->buckets[olast].order_pos = op;
		free(b->members);
		uint32_t mb = (uint32_t)s->nb - 1;
		if (bi != mb) {
			s->buckets[bi] = s->buckets[mb];
			s->order[s->buckets[bi].order_pos] = bi;
			for (uint32_t i = 0; i < s->buckets[bi].n; i++)
				s->nodes[s->buckets[bi].members[i]].bucket = bi;
			s->bslots[find_bslot(s, s->buckets[bi].key)] = bi + 1;
		}
		s->nb--;
	}

	/* Out of the node array: the last node moves into idx. */
	uint32_t ln = (uint32_t)s->n - 1;
	if (idx != ln) {
		s->nodes[idx] = s->nodes[ln];
		memcpy(s->ips + idx * s->alen, nodeset_ip(s, ln), s->alen);
		s->slots[find_slot(s, nodeset_ip(s, idx))] = idx + 1;
		s->buckets[s->nodes[idx].bucket].members[s->nodes[idx].pos] = idx;
	}
	s->n--;
	return 1;
}

static void
swap_order(struct nodeset *s, size_t i, size_t j)
{
	uint32_t a = s->order[i], b = s->order[j];
	s->order[i] = b;
	s->order[j] = a;
	s->buckets[b].order_pos = (uint32_t)i;
	s->buckets[a].order_pos = (uint32_t)j;
}

/* Partial Fisher-Yates step inside a bucket: a random unpicked member moves to pos. */
static const uint8_t *
take_member(struct nodeset *s, struct nodeset_bucket *b, uint32_t pos, struct rng *r)
{
	uint32_t j = pos + rng_below(r, b->n - pos);
	uint32_t a = b->members[pos], c = b->members[j];
	if (j != pos) {
		b->members[pos] = c;
		b->members[j] = a;
		s->nodes[c].pos = pos;
		s->nodes[a].pos = j;
	}
	return nodeset_ip(s, c);
}

size_t
nodeset_pick(struct nodeset *s, struct rng *r, const uint8_t **out, size_t k)
{
	size_t got = 0, first = k < s->nb ? k : s->nb;

	if (k > s->n)
		k = s->n;
	for (size_t i = 0; i < first; i++) {
		size_t j = i + rng_below(r, (uint32_t)(s->nb - i));
		if (j != i)
			swap_order(s, i, j);
		out[got++] = take_member(s, &s->buckets[s->order[i]], 0, r);
	}
	/* Fewer prefixes than wanted: every bucket was taken once, go round again. */
	for (uint32_t round = 1; got < k; round++)
		for (size_t i = 0; i < s->nb && got < k; i++) {
			struct nodeset_bucket *b = &s->buckets[s->order[i]];
			if (b->n > round)
				out[got++] = take_member(s, b, round, r);
		}
	return got;
}
