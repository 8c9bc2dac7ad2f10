/*
 * fuzz_ihcsv: one input = an infohashes.csv text for ihcsv_feed (dht/infohash_csv.h),
 * fed in two pieces cut at a line end chosen by the input.
 * Invariants:
 *   - the result is 0, -1 (no infohash column) or never -2 (memory is
 *     ample); the table holds at most its cap, every entry findable;
 *   - round trip: every entry written with ihcsv_row (no NUL, one line,
 *     at most IHCSV_ROW_MAX bytes) and read back into a new table gives
 *     the same infohashes, times, counts and announcer.
 */
#include <stdlib.h>
#include <string.h>

#include "dht/infohash_csv.h"

#include "fuzz.h"

#define CAP 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t seed[32] = { 1 };
	static const struct siphash_key key = { 1, 2 };
	struct ih_table t, u;
	struct ihcsv_reader r;
	struct rng rng;
	const char *p = (const char *)data;

	if (memchr(data, '\0', size))
		return 0; /* the loader refuses NUL bytes before parsing */
	rng_init_seed(&rng, seed);
	ih_init(&t, CAP, &key);
	ihcsv_reader_init(&r);
	/* Cut after the first line end at or past the middle. */
	size_t cut = size / 2;
	while (cut < size && p[cut] != '\n')
		cut++;
	if (cut < size)
		cut++;
	int rc = ihcsv_feed(&r, p, cut, &t, &rng, NULL, NULL);
	if (rc == 0)
		rc = ihcsv_feed(&r, p + cut, size - cut, &t, &rng, NULL, NULL);
	REQUIRE(rc == 0 || rc == -1);
	REQUIRE(t.n <= CAP);
	for (uint32_t i = 0; i < t.n; i++)
		REQUIRE(ih_find(&t, t.v[i].h) == &t.v[i]);

	size_t cap = strlen(IHCSV_HEADER) + (size_t)t.n * IHCSV_ROW_MAX, len = strlen(IHCSV_HEADER);
	char *out = malloc(cap);
	REQUIRE(out != NULL);
	memcpy(out, IHCSV_HEADER, len);
	for (uint32_t i = 0; i < t.n; i++) {
		size_t n = ihcsv_row(out + len, &t, &t.v[i]);
		REQUIRE(n <= IHCSV_ROW_MAX && !memchr(out + len, '\0', n) && memchr(out + len, '\n', n) == out + len + n - 1);
		len += n;
	}
	ih_init(&u, CAP, &key);
	ihcsv_reader_init(&r);
	REQUIRE(ihcsv_feed(&r, out, len, &u, &rng, NULL, NULL) == 0);
	REQUIRE(u.n == t.n && r.skipped == 0);
	for (uint32_t i = 0; i < t.n; i++) {
		const struct ih_entry *a = &t.v[i], *b = ih_find(&u, a->h);
		struct addr wa, wb;
		REQUIRE(b != NULL);
		REQUIRE(a->first == b->first && a->last == b->last && a->get_peers == b->get_peers &&
		        a->announces == b->announces && a->samples == b->samples);
		bool ha = ih_who(&t, a, &wa), hb = ih_who(&u, b, &wb);
		REQUIRE(ha == hb && (!ha || memcmp(&wa, &wb, sizeof(wa)) == 0));
	}
	free(out);
	ih_free(&t);
	ih_free(&u);
	return 0;
}
