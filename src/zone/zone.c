#include "zone/zone.h"

#include <stdlib.h>
#include <string.h>

void
zone_init(struct zone *z, const uint8_t *apex, size_t max_nodes, uint64_t seed)
{
	memset(z, 0, sizeof(*z));
	memcpy(z->apex, apex, dname_len(apex));
	nodeset_init(&z->v4, 4, max_nodes, seed);
	nodeset_init(&z->v6, 16, max_nodes, seed ^ 0x9e3779b97f4a7c15ULL);
}

static void
free_index(struct zone *z)
{
	for (size_t i = 0; i < z->nnames; i++)
		if (z->names[i].count == 0)
			free((void *)z->names[i].name); /* empty non-terminals own a copy */
	free(z->names);
	free(z->rr_index);
	z->names = NULL;
	z->rr_index = NULL;
	z->nnames = 0;
}

void
zone_free(struct zone *z)
{
	free_index(z);
	free(z->rr);
	z->rr = NULL;
	z->nrr = 0;
	nodeset_clear(&z->v4);
	nodeset_clear(&z->v6);
}

/* Canonical enough: any total order on wire names serves the binary search. */
static int
name_cmp(const uint8_t *a, const uint8_t *b)
{
	size_t la = dname_len(a), lb = dname_len(b);
	int c = memcmp(a, b, la < lb ? la : lb);
	return c != 0 ? c : (la > lb) - (la < lb);
}

static const struct zone_rr *sort_rr;

static int
idx_cmp(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	int c = name_cmp(sort_rr[a].name, sort_rr[b].name);
	return c != 0 ? c : (a > b) - (a < b); /* stable: file order within a name */
}

static int
zname_cmp(const void *pa, const void *pb)
{
	const struct zone_name *a = pa, *b = pb;
	int c = name_cmp(a->name, b->name);
	/* A name with records sorts before its empty-non-terminal duplicate. */
	return c != 0 ? c : (a->count == 0) - (b->count == 0);
}

int
zone_set_static(struct zone *z, struct zone_rr *rr, size_t n)
{
	size_t cap = 0, nn = 0;
	struct zone_name *names = NULL;
	uint32_t *idx = n ? malloc(n * sizeof(*idx)) : NULL;

	if (n && idx == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	sort_rr = rr;
	if (n > 0) /* qsort wants a valid array even for no elements */
		qsort(idx, n, sizeof(*idx), idx_cmp);

	/* Every distinct name once, plus its ancestors below the apex as empty non-terminals. */
	size_t cur = 0; /* the entry of the name being counted (ENTs follow it) */
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && name_cmp(rr[idx[i]].name, rr[idx[i - 1]].name) == 0) {
			names[cur].count++;
			continue;
		}
		size_t depth = (size_t)(dname_labels(rr[idx[i]].name) - dname_labels(z->apex));
		if (nn + depth + 1 > cap) {
			cap = (nn + depth + 1) * 2;
			struct zone_name *np = realloc(names, cap * sizeof(*names));
			if (np == NULL)
				goto fail;
			names = np;
		}
		cur = nn;
		names[nn++] = (struct zone_name){ rr[idx[i]].name, (uint32_t)i, 1 };
		const uint8_t *p = dname_parent(rr[idx[i]].name);
		for (; depth > 1; depth--, p = dname_parent(p)) {
			uint8_t *copy = malloc(dname_len(p));
			if (copy == NULL)
				goto fail;
			memcpy(copy, p, dname_len(p));
			names[nn++] = (struct zone_name){ copy, 0, 0 };
		}
	}
	if (nn > 0)
		qsort(names, nn, sizeof(*names), zname_cmp);
	/* Drop duplicates: keep the first of each name (the one with records). */
	size_t w = 0;
	for (size_t i = 0; i < nn; i++) {
		if (w > 0 && name_cmp(names[w - 1].name, names[i].name) == 0) {
			if (names[i].count == 0)
				free((void *)names[i].name);
			continue;
		}
		names[w++] = names[i];
	}

	free_index(z);
	free(z->rr);
	z->rr = rr;
	z->nrr = n;
	z->names = names;
	z->nnames = w;
	z->rr_index = idx;
	return 0;
fail:
	for (size_t i = 0; i < nn; i++)
		if (names[i].count == 0)
			free((void *)names[i].name);
	free(names);
	free(idx);
	return -1;
}

const struct zone_name *
zone_find(const struct zone *z, const uint8_t *name)
{
	size_t lo = 0, hi = z->nnames;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(z->names[mid].name, name);
		if (c == 0)
			return &z->names[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct zone_rr *
zone_rr_at(const struct zone *z, const struct zone_name *n, uint32_t i)
{
	return &z->rr[z->rr_index[n->first + i]];
}

struct nodeset *
zone_nodes(struct zone *z, int family)
{
	return family == AF_INET ? &z->v4 : &z->v6;
}

int
zone_node_add(struct zone *z, const struct addr *a)
{
	return nodeset_add(zone_nodes(z, a->family), a->ip);
}

int
zone_node_reserve(struct zone *z, size_t n4, size_t n6)
{
	return nodeset_reserve(&z->v4, nodeset_count(&z->v4) + n4) < 0 ||
	       nodeset_reserve(&z->v6, nodeset_count(&z->v6) + n6) < 0 ? -1 : 0;
}

int
zone_node_del(struct zone *z, const struct addr *a)
{
	return nodeset_del(zone_nodes(z, a->family), a->ip);
}

uint32_t
zone_serial_next(uint32_t serial, uint32_t floor)
{
	uint32_t next = serial + 1;
	/* RFC 1982: take floor only when it is ahead of next in serial order. */
	if ((int32_t)(floor - next) > 0)
		next = floor;
	return next;
}
