#include "dht/ip_rate.h"

#include <stdlib.h>
#include <string.h>

int
iprate_init(struct iprate *r, size_t slots, const struct siphash_key *key)
{
	r->v = calloc(slots, sizeof(*r->v));
	if (!r->v)
		return -1;
	r->mask = slots - 1;
	r->key = *key;
	return 0;
}

void
iprate_free(struct iprate *r)
{
	free(r->v);
	r->v = NULL;
}

bool
iprate_take(struct iprate *r, const struct addr *a, int64_t now, unsigned limit)
{
	size_t alen = addr_len(a);
	size_t base = (size_t)siphash24(&r->key, a->ip, alen) & r->mask & ~(size_t)(IPRATE_WAYS - 1);
	struct iprate_slot *s = NULL, *oldest = NULL;

	for (size_t w = 0; w < IPRATE_WAYS; w++) {
		struct iprate_slot *c = &r->v[base + w];
		if (c->used && c->family == a->family && memcmp(c->ip, a->ip, alen) == 0) {
			s = c;
			break;
		}
		/* The newest send time tells how recently a slot was used. */
		if (!oldest || !c->used || (oldest->used && c->t[IPRATE_N - 1] < oldest->t[IPRATE_N - 1]))
			oldest = c;
	}
	if (!s) {
		s = oldest;
		memset(s, 0, sizeof(*s));
		for (int k = 0; k < IPRATE_N; k++)
			s->t[k] = INT64_MIN / 2;
		memcpy(s->ip, a->ip, alen);
		s->family = (uint8_t)a->family;
		s->used = 1;
	}
	if (limit > IPRATE_N)
		limit = IPRATE_N;
	if (limit == 0)
		return false;
	/* Sends in the last second: the limit-th newest must be at least 1 s old. */
	if (now - s->t[IPRATE_N - limit] < 1000)
		return false;
	memmove(s->t, s->t + 1, sizeof(s->t[0]) * (IPRATE_N - 1));
	s->t[IPRATE_N - 1] = now;
	return true;
}
