#include <string.h>

#include "zone/nodeset.h"
#include "t.h"

void
test_nodeset(void)
{
	struct nodeset s;
	struct rng r;
	uint8_t seed[32] = { 7 }, ip[4];
	const uint8_t *out[64];

	rng_init_seed(&r, seed);
	nodeset_init(&s, 4, 5000, 99);
	int ok = 1;
	for (int i = 0; i < 4000; i++) {
		ip[0] = (uint8_t)(i % 7);
		ip[1] = (uint8_t)(i % 13);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		ok &= nodeset_add(&s, ip) == 1;
	}
	CHECK("add 4000", ok && s.n == 4000);
	ip[0] = 0; ip[1] = 0; ip[2] = 0; ip[3] = 0;
	CHECK("add duplicate", nodeset_add(&s, ip) == 0 && s.n == 4000);
	/* Remove every other one, checking membership as we go. */
	ok = 1;
	for (int i = 0; i < 4000; i += 2) {
		ip[0] = (uint8_t)(i % 7);
		ip[1] = (uint8_t)(i % 13);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		ok &= nodeset_del(&s, ip) == 1;
		ok &= !nodeset_has(&s, ip);
	}
	CHECK("delete half", ok && s.n == 2000);
	ok = 1;
	for (int i = 1; i < 4000; i += 2) {
		ip[0] = (uint8_t)(i % 7);
		ip[1] = (uint8_t)(i % 13);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		ok &= nodeset_has(&s, ip);
	}
	CHECK("others still there", ok);
	/* Structure invariants after churn. */
	ok = 1;
	size_t members = 0;
	for (size_t b = 0; b < s.nb; b++) {
		ok &= s.buckets[b].n > 0 && s.order[s.buckets[b].order_pos] == b;
		for (uint32_t m = 0; m < s.buckets[b].n; m++) {
			uint32_t ni = s.buckets[b].members[m];
			ok &= s.nodes[ni].bucket == b && s.nodes[ni].pos == m;
		}
		members += s.buckets[b].n;
	}
	CHECK("bucket invariants", ok && members == s.n);

	/* Picks: distinct members, distinct prefixes first. */
	size_t n = nodeset_pick(&s, &r, out, 25);
	ok = n == 25;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			ok &= memcmp(out[i], out[j], 4) != 0;
	CHECK("pick distinct", ok);
	ok = 1;
	size_t prefixes = s.nb < 25 ? s.nb : 25;
	for (size_t i = 0; i < prefixes; i++)
		for (size_t j = 0; j < i; j++)
			ok &= memcmp(out[i], out[j], 2) != 0;
	CHECK("pick prefers distinct /16", ok);
	CHECK("pick more than there are", nodeset_pick(&s, &r, out, 64) == 64);
	nodeset_clear(&s);

	/* Few prefixes: rounds come back to each prefix. */
	for (int i = 0; i < 10; i++) {
		ip[0] = 1; ip[1] = (uint8_t)(i % 2); ip[2] = 0; ip[3] = (uint8_t)i;
		nodeset_add(&s, ip);
	}
	n = nodeset_pick(&s, &r, out, 10);
	CHECK("pick all of two prefixes", n == 10 && out[0][1] != out[1][1]);
	/* Randomness: over many picks of 1 from 10, every member shows up. */
	int seen[10] = { 0 }, all = 1;
	for (int i = 0; i < 400; i++) {
		nodeset_pick(&s, &r, out, 1);
		seen[out[0][3]]++;
	}
	for (int i = 0; i < 10; i++)
		all &= seen[i] > 0;
	CHECK("picks vary", all);
	nodeset_clear(&s);

	nodeset_init(&s, 4, 2, 1);
	ip[0] = 1;
	ip[3] = 1;
	nodeset_add(&s, ip);
	ip[3] = 2;
	nodeset_add(&s, ip);
	ip[3] = 3;
	CHECK("cap", nodeset_add(&s, ip) == -1 && s.n == 2);
	nodeset_clear(&s);

	/* Regression: the first add after a reserve, or into a set emptied by deletes, went to slot 0. */
	nodeset_init(&s, 4, 100000, 5);
	CHECK("reserve", nodeset_reserve(&s, 100000) == 0);
	ip[0] = 8; ip[1] = 8; ip[2] = 8; ip[3] = 8;
	CHECK("first add after a reserve", nodeset_add(&s, ip) == 1 && nodeset_has(&s, ip));
	CHECK("...then a duplicate", nodeset_add(&s, ip) == 0 && s.n == 1);
	CHECK("emptied", nodeset_del(&s, ip) == 1 && s.n == 0);
	ip[3] = 9;
	CHECK("first add into an emptied set", nodeset_add(&s, ip) == 1 && nodeset_has(&s, ip));
	CHECK("...then a duplicate", nodeset_add(&s, ip) == 0 && s.n == 1);
	nodeset_clear(&s);
}
