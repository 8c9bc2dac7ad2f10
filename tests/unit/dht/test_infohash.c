/*
 * infohash: the table: find/insert, announcers of both families and the
 * IPv6 side array's slot reuse, eviction of the least seen, and a
 * reference model over thousands of random operations. infohashes.csv is
 * in test_ihcsv.c.
 */
#include <stdlib.h>
#include <string.h>

#include "dht/infohash.h"
#include "t.h"
#include "dht/tdht.h"

static const struct siphash_key KEY = { 0x1111111122222222ULL, 0x3333333344444444ULL };

static uint32_t
num_of(const uint8_t h[IH_LEN])
{
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

/* --- the table ----------------------------------------------------------------- */

static void
basic(void)
{
	struct ih_table t;
	struct rng rng;
	uint8_t h1[IH_LEN], h2[IH_LEN];
	struct addr w;

	td_seed_rng(&rng, 1);
	ih_init(&t, 100, &KEY);
	td_mkh(1, h1);
	memcpy(h2, h1, IH_LEN);
	h2[IH_LEN - 1] ^= 1;
	CHECK("find in an empty table", ih_find(&t, h1) == NULL);
	struct ih_entry *e = ih_get(&t, h1, 1000, &rng);
	CHECK("get makes an entry", e && t.n == 1 && memcmp(e->h, h1, IH_LEN) == 0);
	CHECK("fresh entry: first = last = now, zero counts, no announcer",
	      e && e->first == 1000 && e->last == 1000 && !e->get_peers && !e->announces && !e->samples &&
	          e->who_family == 0 && !ih_who(&t, e, &w));
	CHECK("find returns it", ih_find(&t, h1) == e);
	e->get_peers = 3;
	e->announces = 2;
	e->samples = 1;
	struct ih_entry *e2 = ih_get(&t, h1, 2000, &rng);
	CHECK("get again: same entry, untouched", e2 == e && t.n == 1 && e2->first == 1000 && e2->get_peers == 3 &&
	                                             e2->announces == 2 && e2->samples == 1);
	CHECK("a hash one bit away is absent", ih_find(&t, h2) == NULL);
	CHECK("and gets its own entry", ih_get(&t, h2, 3000, &rng) != NULL && t.n == 2);
	CHECK("first still there", ih_find(&t, h1) && ih_find(&t, h1)->get_peers == 3);
	ih_free(&t);
	CHECK("free empties", t.n == 0 && t.v == NULL);

	ih_init(&t, 0, &KEY);
	CHECK("max 0: nothing kept", ih_get(&t, h1, 1, &rng) == NULL && t.n == 0);
	ih_free(&t);
}

static void
who(void)
{
	struct ih_table t;
	struct rng rng;
	uint8_t h[4][IH_LEN];
	struct ih_entry *e[4];
	struct addr w;
	struct addr a4 = td_ap("198.51.100.7:51413"), b4 = td_ap("203.0.113.9:1");
	struct addr a6 = td_ap("[2001:db8::2]:6881"), b6 = td_ap("[2001:db8::3]:65535"), c6 = td_ap("[2001:db8::4]:7");

	td_seed_rng(&rng, 2);
	ih_init(&t, 100, &KEY);
	for (uint32_t i = 0; i < 4; i++) {
		td_mkh(i, h[i]);
		ih_get(&t, h[i], 10, &rng);
	}
	/* Entries do not move while no one is evicted: pointers stay good. */
	for (int i = 0; i < 4; i++)
		e[i] = ih_find(&t, h[i]);
	CHECK("set v4", ih_set_who(&t, e[0], &a4) && e[0]->who_family == 4);
	CHECK("read v4", ih_who(&t, e[0], &w) && td_addr_eq(&w, &a4) && w.family == AF_INET);
	CHECK("set v6", ih_set_who(&t, e[1], &a6) && e[1]->who_family == 6 && t.nv6 == 1);
	CHECK("read v6", ih_who(&t, e[1], &w) && td_addr_eq(&w, &a6) && w.family == AF_INET6);
	CHECK("v6 -> v6 keeps its slot", ih_set_who(&t, e[1], &b6) && t.nv6 == 1 && ih_who(&t, e[1], &w) &&
	                                     td_addr_eq(&w, &b6));
	CHECK("v4 -> v4", ih_set_who(&t, e[0], &b4) && ih_who(&t, e[0], &w) && td_addr_eq(&w, &b4));
	/* v6 -> v4 frees the slot; the next v6 announcer reuses it. */
	uint32_t slot = e[1]->who;
	CHECK("v6 -> v4", ih_set_who(&t, e[1], &a4) && e[1]->who_family == 4 && ih_who(&t, e[1], &w) &&
	                      td_addr_eq(&w, &a4));
	CHECK("freed slot on the free list", t.free_v6 == slot);
	CHECK("another entry reuses the slot", ih_set_who(&t, e[2], &c6) && t.nv6 == 1 && e[2]->who == slot &&
	                                           t.free_v6 == IH_NO_V6);
	CHECK("reused slot reads back", ih_who(&t, e[2], &w) && td_addr_eq(&w, &c6));
	CHECK("the v4 entry unaffected", ih_who(&t, e[1], &w) && td_addr_eq(&w, &a4));
	CHECK("a second v6 announcer gets a new slot",
	      ih_set_who(&t, e[3], &a6) && t.nv6 == 2 && e[3]->who != e[2]->who);
	CHECK("both v6 announcers intact", ih_who(&t, e[2], &w) && td_addr_eq(&w, &c6) && ih_who(&t, e[3], &w) &&
	                                       td_addr_eq(&w, &a6));
	CHECK("v4 -> v6 -> v6 port change", ih_set_who(&t, e[0], &b6) && ih_who(&t, e[0], &w) && td_addr_eq(&w, &b6) &&
	                                        t.nv6 == 3);
	ih_free(&t);

	/* Eviction frees the evicted entry's v6 slot. */
	ih_init(&t, 1, &KEY);
	struct ih_entry *x = ih_get(&t, h[0], 1, &rng);
	ih_set_who(&t, x, &a6);
	x = ih_get(&t, h[1], 2, &rng);
	CHECK("max 1: the only entry is evicted", t.n == 1 && t.evicted == 1 && !ih_find(&t, h[0]) &&
	                                             ih_find(&t, h[1]) == x);
	CHECK("new entry has no announcer", x->who_family == 0);
	CHECK("evicted entry's v6 slot is reused", ih_set_who(&t, x, &b6) && t.nv6 == 1 && ih_who(&t, x, &w) &&
	                                               td_addr_eq(&w, &b6));
	ih_free(&t);
}

/* Which of the 8 hashes 0..7 is missing from t (-1: none). */
static int
missing(const struct ih_table *t, int n)
{
	uint8_t h[IH_LEN];
	for (int i = 0; i < n; i++) {
		td_mkh((uint32_t)i, h);
		if (!ih_find(t, h))
			return i;
	}
	return -1;
}

static void
eviction(void)
{
	struct ih_table t;
	struct rng rng;
	uint8_t h[IH_LEN];
	int ev[8] = { 0 }, tie[8] = { 0 };
	bool ok = true;

	/*
	 * 8 entries, 7 seen 100 times, #5 never: the new one evicts #5 whenever
	 * it is among the 8 sampled (1 - (7/8)^8 = 66%), a given hot one about 5%.
	 */
	td_seed_rng(&rng, 3);
	for (int trial = 0; trial < 1000; trial++) {
		ih_init(&t, 8, &KEY);
		for (uint32_t i = 0; i < 8; i++) {
			td_mkh(i, h);
			struct ih_entry *e = ih_get(&t, h, 100, &rng);
			e->get_peers = i == 5 ? 0 : 100;
		}
		td_mkh(99, h);
		ok &= ih_get(&t, h, 200, &rng) != NULL && t.n == 8 && t.evicted == 1;
		int m = missing(&t, 8);
		if (m >= 0)
			ev[m]++;
		ih_free(&t);
	}
	CHECK("full table: new entry in, one out, n = max", ok);
	CHECK("the never-seen entry evicted in > 55% of trials", ev[5] > 550);
	bool hot = true;
	for (int i = 0; i < 8; i++)
		if (i != 5)
			hot &= ev[i] < 100;
	CHECK("each often-seen entry evicted in < 10%", hot);

	/* Equal counts: the oldest (smallest last) goes. */
	for (int trial = 0; trial < 1000; trial++) {
		ih_init(&t, 8, &KEY);
		for (uint32_t i = 0; i < 8; i++) {
			td_mkh(i, h);
			struct ih_entry *e = ih_get(&t, h, 100, &rng);
			e->announces = 1;
			e->last = i == 2 ? 50 : 1000;
		}
		td_mkh(99, h);
		ih_get(&t, h, 2000, &rng);
		int m = missing(&t, 8);
		if (m >= 0)
			tie[m]++;
		ih_free(&t);
	}
	CHECK("equal counts: the oldest evicted in > 55% of trials", tie[2] > 550);

	/* 500 seen + 500 never seen, then 500 new: the seen ones survive. */
	ih_init(&t, 1000, &KEY);
	for (uint32_t i = 0; i < 1000; i++) {
		td_mkh(i, h);
		ih_get(&t, h, 100, &rng)->samples = i < 500 ? 10 : 0;
	}
	for (uint32_t i = 0; i < 500; i++) {
		td_mkh(100000 + i, h);
		ok &= ih_get(&t, h, 200 + i, &rng) != NULL;
	}
	int alive = 0;
	for (uint32_t i = 0; i < 500; i++) {
		td_mkh(i, h);
		alive += ih_find(&t, h) != NULL;
	}
	CHECK("500 evictions, n stays 1000", ok && t.n == 1000 && t.evicted == 500);
	CHECK("at least 480 of 500 seen entries survive", alive >= 480);
	ih_free(&t);
}

/* The table against a plain array model: every entry findable, counts and announcers kept. */
#define U 1000
#define MAXN 300
static void
model(void)
{
	static uint32_t gp[U];
	static struct addr mw[U];
	static bool in[U];
	struct ih_table t;
	struct rng rng;
	uint8_t h[IH_LEN];
	uint32_t count = 0, bad_get = 0, bad_evict = 0, bad_verify = 0, verifies = 0;

	memset(in, 0, sizeof(in));
	memset(gp, 0, sizeof(gp));
	memset(mw, 0, sizeof(mw));
	td_seed_rng(&rng, 4);
	ih_init(&t, MAXN, &KEY);
	for (int op = 0; op < 20000; op++) {
		uint32_t r = rng_below(&rng, 20), k = rng_below(&rng, U);
		td_mkh(k, h);
		if (r < 14) {
			uint64_t before = t.evicted;
			struct ih_entry *e = ih_get(&t, h, (uint32_t)op, &rng);
			if (!e || memcmp(e->h, h, IH_LEN) != 0) {
				bad_get++;
				continue;
			}
			if (in[k]) {
				bad_get += e->get_peers != gp[k] || t.evicted != before;
			} else {
				bad_get += e->get_peers != 0;
				if (count == MAXN) {
					/* Exactly one other entry went: find it. */
					int gone = 0;
					for (uint32_t j = 0; j < U; j++) {
						if (!in[j] || j == k)
							continue;
						uint8_t hj[IH_LEN];
						td_mkh(j, hj);
						if (!ih_find(&t, hj)) {
							in[j] = false;
							gone++;
							count--;
						}
					}
					bad_evict += gone != 1 || t.evicted != before + 1;
				}
				in[k] = true;
				gp[k] = 0;
				memset(&mw[k], 0, sizeof(mw[k]));
				count++;
			}
			e->get_peers++;
			gp[k]++;
		} else if (r < 19) {
			struct ih_entry *e = ih_find(&t, h);
			if (!in[k]) {
				bad_get += e != NULL;
				continue;
			}
			struct addr a = { .family = rng_below(&rng, 2) ? AF_INET6 : AF_INET };
			rng_bytes(&rng, a.ip, 16);
			if (a.family == AF_INET)
				memset(a.ip + 4, 0, 12);
			a.port = (uint16_t)(1 + rng_below(&rng, 65535));
			bad_get += !e || !ih_set_who(&t, e, &a);
			mw[k] = a;
		} else {
			/* Full check. */
			verifies++;
			uint32_t nv6_used = 0, free_len = 0;
			bool ok = t.n == count && t.n <= MAXN;
			for (uint32_t j = 0; j < U && ok; j++) {
				uint8_t hj[IH_LEN];
				td_mkh(j, hj);
				struct ih_entry *e = ih_find(&t, hj);
				struct addr w;
				if (!in[j]) {
					ok = e == NULL;
					continue;
				}
				ok = e && e->get_peers == gp[j] &&
				     (mw[j].family ? ih_who(&t, e, &w) && td_addr_eq(&w, &mw[j]) : !ih_who(&t, e, &w));
			}
			for (uint32_t i = 0; i < t.n && ok; i++) {
				ok = num_of(t.v[i].h) < U && in[num_of(t.v[i].h)] && ih_find(&t, t.v[i].h) == &t.v[i];
				nv6_used += t.v[i].who_family == 6;
			}
			for (uint32_t s = t.free_v6; s != IH_NO_V6 && free_len <= t.nv6; free_len++)
				memcpy(&s, t.v6[s], sizeof(s));
			ok = ok && nv6_used + free_len == t.nv6;
			bad_verify += !ok;
		}
	}
	CHECK("model: gets agree", bad_get == 0);
	CHECK("model: each eviction removes exactly one entry", bad_evict == 0);
	CHECK("model: full checks agree (entries, counts, announcers, v6 slots)", verifies > 100 && bad_verify == 0);
	CHECK("model: table filled and evicted", t.evicted > 1000 && t.n == MAXN);
	ih_free(&t);

	/* Growth past the first index size: 5000 entries all findable. */
	ih_init(&t, 1000000, &KEY);
	bool ok = true;
	for (uint32_t i = 0; i < 5000; i++) {
		td_mkh(i * 7919u, h);
		ok &= ih_get(&t, h, i, &rng) != NULL;
	}
	for (uint32_t i = 0; i < 5000; i++) {
		td_mkh(i * 7919u, h);
		ok &= ih_find(&t, h) != NULL && ih_find(&t, h)->first == i;
	}
	CHECK("5000 entries: all findable after growth", ok && t.n == 5000 && t.evicted == 0);
	CHECK("index at least twice n, a power of two", t.slots >= 2 * t.n && (t.slots & (t.slots - 1)) == 0);
	ih_free(&t);
}

/* The change log's list: each changed entry once, kept through evictions that move entries. */
static uint32_t taken[4096];
static uint32_t ntaken;

static void
take(void *ctx, const struct ih_entry *e)
{
	(void)ctx;
	if (ntaken < 4096)
		taken[ntaken++] = num_of(e->h);
}

static void
dirty(void)
{
	struct ih_table t;
	struct rng rng;
	uint8_t h[IH_LEN];
	bool want[2000] = { false };

	td_seed_rng(&rng, 7);
	ih_init(&t, 500, &KEY);
	for (uint32_t i = 0; i < 500; i++) {
		td_mkh(i, h);
		ih_get(&t, h, 1, &rng);
	}
	CHECK("loaded entries are not dirty", ih_take_dirty(&t, take, NULL) == 0);
	/* Touch some, then insert past the cap so evictions move entries around. */
	ntaken = 0;
	for (uint32_t i = 0; i < 500; i += 3) {
		td_mkh(i, h);
		ih_touch(&t, ih_find(&t, h));
		ih_touch(&t, ih_find(&t, h)); /* twice: listed once */
	}
	for (uint32_t i = 500; i < 900; i++) {
		td_mkh(i, h);
		struct ih_entry *e = ih_get(&t, h, 2, &rng);
		if (e && i % 2 == 0)
			ih_touch(&t, e);
	}
	/* Every entry still in the table that was touched, once; nothing else. */
	int bad = 0, expect = 0;
	for (uint32_t i = 0; i < 900; i++) {
		td_mkh(i, h);
		want[i] = ih_find(&t, h) != NULL && ((i < 500 && i % 3 == 0) || (i >= 500 && i % 2 == 0));
		expect += want[i];
	}
	uint32_t n = ih_take_dirty(&t, take, NULL);
	bool seen[2000] = { false };
	for (uint32_t k = 0; k < ntaken; k++) {
		if (taken[k] >= 900 || !want[taken[k]] || seen[taken[k]])
			bad++;
		seen[taken[k]] = true;
	}
	CHECK("through evictions: every changed entry once, nothing else", n == ntaken && (int)n == expect && bad == 0 &&
	      t.evicted > 0);
	ntaken = 0;
	CHECK("taken: the marks are cleared", ih_take_dirty(&t, take, NULL) == 0);
	ih_free(&t);

	/* A list longer than the table can hold falls back to a scan. */
	ih_init(&t, 8, &KEY);
	for (uint32_t round = 0; round < 300; round++)
		for (uint32_t i = 0; i < 16; i++) {
			td_mkh(round * 16 + i, h);
			struct ih_entry *e = ih_get(&t, h, round, &rng);
			if (e)
				ih_touch(&t, e);
		}
	ntaken = 0;
	n = ih_take_dirty(&t, take, NULL);
	CHECK("overflowed list: every dirty entry of the table, once", n == t.n && ntaken == t.n);
	ih_free(&t);
}

void
test_infohash(void)
{
	basic();
	who();
	eviction();
	model();
	dirty();
}
