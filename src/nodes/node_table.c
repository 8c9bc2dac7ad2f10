/*
 * nodes: the node table. Hash chains of indices keyed with a random seed
 * (addresses come from the network and must not aim at one chain); a
 * binary min-heap on due; a LIFO for never-checked nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "base/hashmix.h"

#include "nodes/node_table.h"

_Static_assert(sizeof(struct node) <= 144, "struct node grew: 100,000 of them are most of the crawler's memory");

static const char *const error_names[NODE_E_COUNT] = {
	"", "refused", "unreachable", "timeout", "tls", "handshake",
	"protocol", "closed", "error", "resolve", "banned",
};

const char *
node_error_name(enum node_error e)
{
	return (unsigned)e < NODE_E_COUNT ? error_names[e] : "";
}

int
node_error_parse(const char *s)
{
	for (int i = 0; i < NODE_E_COUNT; i++)
		if (strcmp(s, error_names[i]) == 0)
			return i;
	return -1;
}


static size_t
bucket_of(const struct nodes *t, const struct addr *a)
{
	uint64_t h = t->seed ^ (uint64_t)a->port << 32 ^ (uint64_t)a->family;

	for (size_t i = 0; i < addr_len(a); i += 4) {
		uint32_t w;
		memcpy(&w, a->ip + i, 4);
		h = hash_mix(h ^ w);
	}
	return (size_t)(hash_mix(h) & (t->nbuckets - 1));
}

static bool
same(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, addr_len(a)) == 0;
}

void
nodes_init(struct nodes *t, size_t max, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	t->seed = seed;
	t->free_head = NODE_NONE;
}

void
nodes_free(struct nodes *t)
{
	for (size_t j = 0; j < t->capurls; j++)
		free(t->urls[j].url);
	free(t->urls);
	free(t->v);
	free(t->buckets);
	free(t->heap);
	free(t->hpos);
	free(t->fresh);
	free(t->dirty);
	free(t->gone);
	nodes_init(t, t->max, t->seed);
}

uint32_t
nodes_find(const struct nodes *t, const struct addr *a)
{
	if (!t->nbuckets)
		return NODE_NONE;
	for (uint32_t i = t->buckets[bucket_of(t, a)]; i != NODE_NONE; i = t->v[i].hnext)
		if (same(&t->v[i].addr, a))
			return i;
	return NODE_NONE;
}

static int
rehash(struct nodes *t, size_t nb)
{
	uint32_t *b = malloc(nb * sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < nb; i++)
		b[i] = NODE_NONE;
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
	for (uint32_t i = 0; i < t->n; i++) {
		struct node *nd = &t->v[i];
		if (!(nd->flags & NODE_USED))
			continue;
		size_t k = bucket_of(t, &nd->addr);
		nd->hnext = b[k];
		b[k] = i;
	}
	return 0;
}

static int
grow_to(struct nodes *t, size_t cap)
{
	if (cap > t->max)
		cap = t->max;
	if (cap <= t->cap)
		return -1;
	struct node *v = realloc(t->v, cap * sizeof(*v));
	if (v)
		t->v = v;
	struct nodes_due *heap = v ? realloc(t->heap, cap * sizeof(*heap)) : NULL;
	if (heap)
		t->heap = heap;
	uint32_t *hpos = heap ? realloc(t->hpos, cap * sizeof(*hpos)) : NULL;
	if (hpos)
		t->hpos = hpos;
	uint32_t *fresh = hpos ? realloc(t->fresh, cap * sizeof(*fresh)) : NULL;
	if (fresh)
		t->fresh = fresh;
	if (!fresh)
		return -1;
	memset(t->hpos + t->cap, 0, (cap - t->cap) * sizeof(*hpos));
	t->cap = cap;
	return 0;
}

static int
grow(struct nodes *t)
{
	return grow_to(t, t->cap ? t->cap * 2 : 1024);
}

int
nodes_reserve(struct nodes *t, size_t n)
{
	size_t nb = 1024;

	if (n > t->max)
		n = t->max;
	if (n > t->cap && grow_to(t, n) < 0)
		return -1;
	while (nb < n)
		nb *= 2;
	return nb > t->nbuckets ? rehash(t, nb) : 0;
}

uint32_t
nodes_add(struct nodes *t, const struct addr *a)
{
	uint32_t i;

	if (t->count >= t->max)
		return NODE_NONE;
	if (t->free_head != NODE_NONE) {
		i = t->free_head;
		t->free_head = t->v[i].hnext;
	} else {
		if (t->n == t->cap && grow(t) < 0)
			return NODE_NONE;
		i = (uint32_t)t->n++;
		t->v[i].gen = 0;
	}
	/* Keep the load factor at most 1. */
	if (t->count + 1 > t->nbuckets && rehash(t, t->nbuckets ? t->nbuckets * 2 : 1024) < 0) {
		t->v[i].flags = 0;
		t->v[i].hnext = t->free_head;
		t->free_head = i;
		return NODE_NONE;
	}
	struct node *nd = &t->v[i];
	uint32_t gen = nd->gen + 1;
	memset(nd, 0, sizeof(*nd));
	nd->addr = *a;
	nd->gen = gen;
	nd->flags = NODE_USED;
	size_t k = bucket_of(t, a);
	nd->hnext = t->buckets[k];
	t->buckets[k] = i;
	t->count++;
	return i;
}

void
nodes_del(struct nodes *t, uint32_t i)
{
	struct node *nd = &t->v[i];
	uint32_t *pp = &t->buckets[bucket_of(t, &nd->addr)];

	nodes_unqueue(t, i);
	if (t->track && !t->all_dirty) {
		if (t->ngone == t->capgone) {
			size_t nc = t->capgone ? t->capgone * 2 : 256;
			struct addr *g = nc <= t->max + 256 ? realloc(t->gone, nc * sizeof(*g)) : NULL;
			if (g) {
				t->gone = g;
				t->capgone = nc;
			}
		}
		if (t->ngone < t->capgone)
			t->gone[t->ngone++] = nd->addr;
		else
			t->all_dirty = true; /* the caller writes the file whole */
	}
	while (*pp != i)
		pp = &t->v[*pp].hnext;
	*pp = nd->hnext;
	nodes_set_url(t, i, NULL);
	nd->flags = 0;
	nd->hnext = t->free_head;
	t->free_head = i;
	t->count--;
}

/* --- URLs of their own ---------------------------------------------------- */

static size_t
url_slot(const struct nodes *t, uint32_t i)
{
	return (size_t)hash_mix(t->seed ^ i) & (t->capurls - 1);
}

const char *
nodes_url(const struct nodes *t, uint32_t i)
{
	if (!(t->v[i].flags & NODE_URL))
		return NULL;
	for (size_t j = url_slot(t, i);; j = (j + 1) & (t->capurls - 1))
		if (t->urls[j].url && t->urls[j].i == i)
			return t->urls[j].url;
}

static void
url_remove(struct nodes *t, uint32_t i)
{
	size_t j = url_slot(t, i), mask = t->capurls - 1;

	while (t->urls[j].i != i || !t->urls[j].url)
		j = (j + 1) & mask;
	free(t->urls[j].url);
	t->urls[j].url = NULL;
	t->nurls--;
	/* Backward shift: an entry after the hole moves into it unless it sits between its slot and the hole. */
	for (size_t k = (j + 1) & mask; t->urls[k].url; k = (k + 1) & mask) {
		size_t home = url_slot(t, t->urls[k].i);
		if (((k - home) & mask) >= ((k - j) & mask)) {
			t->urls[j] = t->urls[k];
			t->urls[k].url = NULL;
			j = k;
		}
	}
}

static void
url_put(struct nodes *t, uint32_t i, char *url)
{
	size_t j = url_slot(t, i);

	while (t->urls[j].url)
		j = (j + 1) & (t->capurls - 1);
	t->urls[j] = (struct nodes_url){ i, url };
	t->nurls++;
}

int
nodes_set_url(struct nodes *t, uint32_t i, const char *url)
{
	if (t->v[i].flags & NODE_URL) {
		url_remove(t, i);
		t->v[i].flags &= (uint8_t)~NODE_URL;
	}
	if (!url)
		return 0;
	/* At most half full. */
	if (2 * (t->nurls + 1) > t->capurls) {
		size_t nc = t->capurls ? 2 * t->capurls : 64, oc = t->capurls;
		struct nodes_url *nu = calloc(nc, sizeof(*nu)), *old = t->urls;
		if (!nu)
			return -1;
		t->urls = nu;
		t->capurls = nc;
		t->nurls = 0;
		for (size_t j = 0; j < oc; j++)
			if (old[j].url)
				url_put(t, old[j].i, old[j].url);
		free(old);
	}
	char *copy = strdup(url);
	if (!copy)
		return -1;
	url_put(t, i, copy);
	t->v[i].flags |= NODE_URL;
	return 0;
}

/* --- changes ------------------------------------------------------------- */

void
nodes_touch(struct nodes *t, uint32_t i)
{
	struct node *nd = &t->v[i];

	if (!t->track || (nd->flags & NODE_DIRTY))
		return;
	nd->flags |= NODE_DIRTY;
	if (t->all_dirty)
		return;
	if (t->ndirty == t->capdirty) {
		/* Stale entries (slots forgotten and reused) can pass the table's size: bounded anyway. */
		size_t nc = t->capdirty ? t->capdirty * 2 : 1024;
		uint32_t *d = nc <= 2 * t->max + 1024 ? realloc(t->dirty, nc * sizeof(*d)) : NULL;
		if (!d) {
			t->all_dirty = true;
			return;
		}
		t->dirty = d;
		t->capdirty = nc;
	}
	t->dirty[t->ndirty++] = i;
}

size_t
nodes_take_changes(struct nodes *t, void (*gone_fn)(void *ctx, const struct addr *a),
                   void (*node_fn)(void *ctx, uint32_t i), void *ctx)
{
	size_t calls = 0;

	for (size_t k = 0; k < t->ngone; k++, calls++)
		gone_fn(ctx, &t->gone[k]);
	if (t->all_dirty) {
		for (uint32_t i = 0; i < t->n; i++)
			if (t->v[i].flags & NODE_USED) {
				t->v[i].flags &= (uint8_t)~NODE_DIRTY;
				node_fn(ctx, i);
				calls++;
			}
	} else {
		for (size_t k = 0; k < t->ndirty; k++) {
			uint32_t i = t->dirty[k];
			/* Forgotten since, or listed twice (forgotten, its slot reused): once, if at all. */
			if ((t->v[i].flags & (NODE_USED | NODE_DIRTY)) != (NODE_USED | NODE_DIRTY))
				continue;
			t->v[i].flags &= (uint8_t)~NODE_DIRTY;
			node_fn(ctx, i);
			calls++;
		}
	}
	t->ndirty = t->ngone = 0;
	t->all_dirty = false;
	return calls;
}

void
nodes_clear_changes(struct nodes *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		t->v[i].flags &= (uint8_t)~NODE_DIRTY;
	t->ndirty = t->ngone = 0;
	t->all_dirty = false;
}

/* --- queues --------------------------------------------------------------- */

static void
heap_set(struct nodes *t, size_t pos, struct nodes_due e)
{
	t->heap[pos] = e;
	t->hpos[e.i] = (uint32_t)pos + 1;
}

static void
heap_up(struct nodes *t, size_t pos)
{
	struct nodes_due e = t->heap[pos];

	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (t->heap[parent].due <= e.due)
			break;
		heap_set(t, pos, t->heap[parent]);
		pos = parent;
	}
	heap_set(t, pos, e);
}

static void
heap_down(struct nodes *t, size_t pos)
{
	struct nodes_due e = t->heap[pos];

	for (;;) {
		size_t c = 2 * pos + 1;
		if (c >= t->nheap)
			break;
		if (c + 1 < t->nheap && t->heap[c + 1].due < t->heap[c].due)
			c++;
		if (e.due <= t->heap[c].due)
			break;
		heap_set(t, pos, t->heap[c]);
		pos = c;
	}
	heap_set(t, pos, e);
}

static void
heap_remove(struct nodes *t, uint32_t i)
{
	size_t pos = t->hpos[i] - 1;
	struct nodes_due last = t->heap[--t->nheap];

	t->hpos[i] = 0;
	if (last.i == i)
		return;
	heap_set(t, pos, last);
	heap_up(t, pos);
	heap_down(t, t->hpos[last.i] - 1);
}

void
nodes_unqueue(struct nodes *t, uint32_t i)
{
	struct node *nd = &t->v[i];

	if (t->hpos[i])
		heap_remove(t, i);
	if (nd->flags & NODE_FRESH) {
		/* Rare (forgetting a fresh node): a linear scan is fine. */
		for (size_t k = t->nfresh; k-- > 0;)
			if (t->fresh[k] == i) {
				memmove(&t->fresh[k], &t->fresh[k + 1], (t->nfresh - k - 1) * sizeof(uint32_t));
				t->nfresh--;
				break;
			}
		nd->flags &= (uint8_t)~NODE_FRESH;
	}
}

void
nodes_push_fresh(struct nodes *t, uint32_t i)
{
	nodes_unqueue(t, i);
	t->fresh[t->nfresh++] = i;
	t->v[i].flags |= NODE_FRESH;
}

void
nodes_schedule(struct nodes *t, uint32_t i, int64_t due)
{
	struct node *nd = &t->v[i];
	struct nodes_due e = { due, i };

	if (nd->flags & NODE_FRESH)
		nodes_unqueue(t, i);
	if (t->hpos[i]) {
		size_t pos = t->hpos[i] - 1;
		t->heap[pos].due = due;
		heap_up(t, pos);
		heap_down(t, t->hpos[i] - 1);
		return;
	}
	heap_set(t, t->nheap++, e);
	heap_up(t, t->nheap - 1);
}

uint32_t
nodes_next(struct nodes *t, int64_t now)
{
	if (t->nfresh) {
		uint32_t i = t->fresh[--t->nfresh];
		t->v[i].flags &= (uint8_t)~NODE_FRESH;
		return i;
	}
	if (t->nheap && t->heap[0].due <= now) {
		uint32_t i = t->heap[0].i;
		heap_remove(t, i);
		return i;
	}
	return NODE_NONE;
}

int64_t
nodes_next_due(const struct nodes *t)
{
	return t->nheap ? t->heap[0].due : INT64_MAX;
}
