#include <string.h>

#include "base/rng.h"
#include "t.h"

/*
 * Chi-square over [0, n) for `draws` draws (fixed seed): the statistic has
 * mean n-1 and deviation sqrt(2(n-1)); a biased draw (e.g. a plain modulo)
 * lands far above mean + 6 deviations.
 */
#include <math.h>

static int
uniform(struct rng *r, uint32_t n, int draws)
{
	static int count[70000];

	memset(count, 0, n * sizeof(count[0]));
	for (int i = 0; i < draws; i++) {
		uint32_t v = rng_below(r, n);
		if (v >= n)
			return 0;
		count[v]++;
	}
	double want = (double)draws / n, chi = 0;
	for (uint32_t i = 0; i < n; i++)
		chi += (count[i] - want) * (count[i] - want) / want;
	return chi < (n - 1) + 6 * sqrt(2.0 * (n - 1));
}

void
test_rng(void)
{
	struct rng r;
	uint8_t seed[32] = { 3 };

	rng_init_seed(&r, seed);
	CHECK("below 1", rng_below(&r, 1) == 0);
	CHECK("uniform 2 (8-bit draws)", uniform(&r, 2, 200000));
	CHECK("uniform 25 (8-bit draws)", uniform(&r, 25, 500000));
	CHECK("uniform 33 (16-bit draws)", uniform(&r, 33, 500000));
	CHECK("uniform 1000 (16-bit draws)", uniform(&r, 1000, 4000000));
	CHECK("uniform 65536 (16-bit draws, edge)", uniform(&r, 65536, 65536 * 50));
	int big = 1;
	for (int i = 0; i < 100000; i++)
		big &= rng_below(&r, 4000000000u) < 4000000000u;
	CHECK("in range 4e9 (32-bit draws)", big);
	/* Same seed, same stream; different seeds differ. */
	struct rng a, b;
	uint8_t s2[32] = { 4 };
	rng_init_seed(&a, seed);
	rng_init_seed(&b, seed);
	CHECK("deterministic", rng_u32(&a) == rng_u32(&b));
	rng_init_seed(&b, s2);
	CHECK("seeded", rng_u32(&a) != rng_u32(&b));
	uint8_t buf[5000];
	rng_bytes(&a, buf, sizeof(buf)); /* spans a refill */
	int zeros = 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		zeros += buf[i] == 0;
	CHECK("bytes across refill", zeros < 60);
	CHECK("getrandom", rng_init(&a) == 0);
}
