#include "dht/infohash.h"

#include <stdlib.h>
#include <string.h>

#define IH_MIN_SLOTS 1024u

void
ih_init(struct ih_table *t, uint32_t max, const struct siphash_key *key)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	t->key = *key;
	t->free_v6 = IH_NO_V6;
}

void
ih_free(struct ih_table *t)
{
	free(t->v);
	free(t->index);
	free(t->v6);
	free(t->dirty);
	t->v = NULL;
	t->index = NULL;
	t->v6 = NULL;
	t->dirty = NULL;
	t->n = t->cap = t->slots = t->nv6 = t->capv6 = t->announced = 0;
	t->ndirty = t->capdirty = 0;
	t->all_dirty = false;
}

static uint32_t
slot_of(const struct ih_table *t, const uint8_t h[IH_LEN])
{
	return (uint32_t)siphash24(&t->key, h, IH_LEN) & (t->slots - 1);
}

/* The index slot that holds h, or the empty slot where it would go. */
static uint32_t
probe(const struct ih_table *t, const uint8_t h[IH_LEN])
{
	uint32_t s = slot_of(t, h);

	while (t->index[s] && memcmp(t->v[t->index[s] - 1].h, h, IH_LEN) != 0)
		s = (s + 1) & (t->slots - 1);
	return s;
}

struct ih_entry *
ih_find(const struct ih_table *t, const uint8_t h[IH_LEN])
{
	if (!t->slots)
		return NULL;
	uint32_t s = probe(t, h);
	return t->index[s] ? &t->v[t->index[s] - 1] : NULL;
}

static bool
rehash(struct ih_table *t, uint32_t slots)
{
	uint32_t *ix = calloc(slots, sizeof(*ix));

	if (!ix)
		return false;
	free(t->index);
	t->index = ix;
	t->slots = slots;
	for (uint32_t i = 0; i < t->n; i++)
		t->index[probe(t, t->v[i].h)] = i + 1;
	return true;
}

static void
free_who(struct ih_table *t, struct ih_entry *e)
{
	if (e->who_family == 6) {
		memcpy(t->v6[e->who], &t->free_v6, sizeof(t->free_v6));
		t->free_v6 = e->who;
	}
	e->who_family = 0;
	e->who_port = 0;
	e->who = 0;
}

/* Remove the entry at index slot s: backward-shift the probe run, move the last entry into the hole. */
static void
remove_at(struct ih_table *t, uint32_t s)
{
	uint32_t i = t->index[s] - 1, mask = t->slots - 1;

	free_who(t, &t->v[i]);
	if (t->v[i].announces)
		t->announced--;
	t->index[s] = 0;
	for (uint32_t j = (s + 1) & mask; t->index[j]; j = (j + 1) & mask) {
		uint32_t home = slot_of(t, t->v[t->index[j] - 1].h);
		/* Entry at j may move to the hole at s when s lies on its path home..j. */
		if (((j - home) & mask) >= ((j - s) & mask)) {
			t->index[s] = t->index[j];
			t->index[j] = 0;
			s = j;
		}
	}
	uint32_t last = t->n - 1;
	if (i != last) {
		t->index[probe(t, t->v[last].h)] = i + 1;
		t->v[i] = t->v[last];
		/* A listed entry moved: list it where it is now. */
		if (t->v[i].dirty) {
			t->v[i].dirty = 0;
			ih_touch(t, &t->v[i]);
		}
	}
	t->n--;
}

static uint64_t
seen(const struct ih_entry *e)
{
	return (uint64_t)e->get_peers + e->announces + e->samples;
}

static void
evict_one(struct ih_table *t, struct rng *rng)
{
	uint32_t victim = rng_below(rng, t->n);

	for (int k = 1; k < IH_EVICT_SAMPLE; k++) {
		uint32_t c = rng_below(rng, t->n);
		const struct ih_entry *a = &t->v[c], *b = &t->v[victim];
		if (seen(a) < seen(b) || (seen(a) == seen(b) && a->last < b->last))
			victim = c;
	}
	remove_at(t, probe(t, t->v[victim].h));
	t->evicted++;
}

struct ih_entry *
ih_get(struct ih_table *t, const uint8_t h[IH_LEN], uint32_t now, struct rng *rng)
{
	struct ih_entry *e = ih_find(t, h);

	if (e)
		return e;
	if (t->max == 0)
		return NULL;
	if (t->n >= t->max)
		evict_one(t, rng);
	if (t->n == t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 256;
		if (nc > t->max)
			nc = t->max;
		struct ih_entry *nv = realloc(t->v, (size_t)nc * sizeof(*nv));
		if (!nv)
			return NULL;
		t->v = nv;
		t->cap = nc;
	}
	if ((uint64_t)(t->n + 1) * 2 > t->slots) {
		/*
		 * Past a quarter of the cap, straight to the index the cap needs: a
		 * rehash of half a million entries would hold the loop ~0.1 s.
		 */
		uint32_t ns = t->slots ? t->slots * 2 : IH_MIN_SLOTS;
		if (t->n >= t->max / 4)
			while ((uint64_t)ns < (uint64_t)t->max * 2)
				ns *= 2;
		if (!rehash(t, ns))
			return NULL;
	}
	e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	memcpy(e->h, h, IH_LEN);
	e->first = e->last = now;
	t->index[probe(t, h)] = ++t->n;
	return e;
}

void
ih_add_announces(struct ih_table *t, struct ih_entry *e, uint32_t n)
{
	if (n == 0)
		return;
	if (e->announces == 0)
		t->announced++;
	e->announces = e->announces > UINT32_MAX - n ? UINT32_MAX : e->announces + n;
}

void
ih_set_announces(struct ih_table *t, struct ih_entry *e, uint32_t n)
{
	if (e->announces == 0 && n > 0)
		t->announced++;
	else if (e->announces > 0 && n == 0)
		t->announced--;
	e->announces = n;
}

bool
ih_set_who(struct ih_table *t, struct ih_entry *e, const struct addr *a)
{
	if (a->family == AF_INET6) {
		if (e->who_family != 6) {
			uint32_t k;
			if (t->free_v6 != IH_NO_V6) {
				k = t->free_v6;
				memcpy(&t->free_v6, t->v6[k], sizeof(t->free_v6));
			} else {
				if (t->nv6 == t->capv6) {
					uint32_t nc = t->capv6 ? t->capv6 * 2 : 64;
					uint8_t(*nv)[16] = realloc(t->v6, (size_t)nc * 16);
					if (!nv)
						return false;
					t->v6 = nv;
					t->capv6 = nc;
				}
				k = t->nv6++;
			}
			free_who(t, e);
			e->who = k;
		}
		memcpy(t->v6[e->who], a->ip, 16);
		e->who_family = 6;
	} else {
		free_who(t, e);
		memcpy(&e->who, a->ip, 4);
		e->who_family = 4;
	}
	e->who_port = a->port;
	return true;
}

bool
ih_who(const struct ih_table *t, const struct ih_entry *e, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (e->who_family == 6) {
		out->family = AF_INET6;
		memcpy(out->ip, t->v6[e->who], 16);
	} else if (e->who_family == 4) {
		out->family = AF_INET;
		memcpy(out->ip, &e->who, 4);
	} else {
		return false;
	}
	out->port = e->who_port;
	return true;
}

void
ih_touch(struct ih_table *t, struct ih_entry *e)
{
	if (e->dirty)
		return;
	e->dirty = 1;
	if (t->all_dirty)
		return;
	if (t->ndirty == t->capdirty) {
		uint32_t nc = t->capdirty ? t->capdirty * 2 : 1024;
		uint32_t *nd = nc <= t->max + 1024 ? realloc(t->dirty, (size_t)nc * sizeof(*nd)) : NULL;
		if (!nd) {
			t->all_dirty = true; /* more than the table holds, or no memory: scan instead */
			return;
		}
		t->dirty = nd;
		t->capdirty = nc;
	}
	t->dirty[t->ndirty++] = (uint32_t)(e - t->v);
}

uint32_t
ih_take_dirty(struct ih_table *t, void (*fn)(void *ctx, const struct ih_entry *e), void *ctx)
{
	uint32_t n = 0;

	if (t->all_dirty) {
		for (uint32_t i = 0; i < t->n; i++)
			if (t->v[i].dirty) {
				t->v[i].dirty = 0;
				fn(ctx, &t->v[i]);
				n++;
			}
	} else {
		for (uint32_t k = 0; k < t->ndirty; k++) {
			uint32_t i = t->dirty[k];
			/* Stale: the entry left, or was taken already. */
			if (i >= t->n || !t->v[i].dirty)
				continue;
			t->v[i].dirty = 0;
			fn(ctx, &t->v[i]);
			n++;
		}
	}
	t->ndirty = 0;
	t->all_dirty = false;
	return n;
}

void
ih_clear_dirty(struct ih_table *t)
{
	if (t->all_dirty) {
		for (uint32_t i = 0; i < t->n; i++)
			t->v[i].dirty = 0;
	} else {
		for (uint32_t k = 0; k < t->ndirty; k++)
			if (t->dirty[k] < t->n)
				t->v[t->dirty[k]].dirty = 0;
	}
	t->ndirty = 0;
	t->all_dirty = false;
}
