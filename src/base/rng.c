#include "base/rng.h"

#include <bearssl.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

static br_chacha20_run chacha;

static void
refill(struct rng *r)
{
	uint8_t iv[12] = { 0 };

	/* The SSE2 implementation where the CPU has it, else the portable one. */
	if (chacha == NULL) {
		chacha = br_chacha20_sse2_get();
		if (chacha == NULL)
			chacha = br_chacha20_ct_run;
	}
	memset(r->buf, 0, sizeof(r->buf));
	memcpy(iv, &r->blocks, sizeof(r->blocks));
	r->blocks++;
	chacha(r->key, iv, 0, r->buf, sizeof(r->buf));
	memcpy(r->key, r->buf, sizeof(r->key));
	r->pos = sizeof(r->key);
}

void
rng_init_seed(struct rng *r, const uint8_t seed[32])
{
	memset(r, 0, sizeof(*r));
	memcpy(r->key, seed, sizeof(r->key));
	refill(r);
}

int
rng_init(struct rng *r)
{
	uint8_t seed[32];
	size_t got = 0;

	while (got < sizeof(seed)) {
		ssize_t n = getrandom(seed + got, sizeof(seed) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	rng_init_seed(r, seed);
	memset(seed, 0, sizeof(seed));
	return 0;
}

void
rng_bytes(struct rng *r, void *out, size_t n)
{
	uint8_t *o = out;

	while (n > 0) {
		if (r->pos == sizeof(r->buf))
			refill(r);
		size_t take = sizeof(r->buf) - r->pos;
		if (take > n)
			take = n;
		memcpy(o, r->buf + r->pos, take);
		memset(r->buf + r->pos, 0, take);
		r->pos += take;
		o += take;
		n -= take;
	}
}

/*
 * w (1, 2 or 4) bytes of keystream as a number: the hot path of node picks.
 * Consumed bytes are not wiped one by one: the next refill overwrites the
 * whole buffer, and the key itself is never kept (fast key erasure).
 */
static uint32_t
draw(struct rng *r, size_t w)
{
	if (sizeof(r->buf) - r->pos < w)
		refill(r);
	const uint8_t *p = r->buf + r->pos;
	r->pos += w;
	switch (w) {
	case 1:
		return p[0];
	case 2:
		return (uint32_t)p[0] | (uint32_t)p[1] << 8;
	default:
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	}
}

uint32_t
rng_u32(struct rng *r)
{
	return draw(r, 4);
}

uint32_t
rng_below(struct rng *r, uint32_t n)
{
	/*
	 * Lemire's multiply-shift with rejection, unbiased for any width of
	 * draw W with 2^W >= n: small ranges spend one or two bytes, not four.
	 * Rejection stays rare: under n / 2^W (at most 1/8 with these widths).
	 */
	size_t w = n <= 32 ? 1 : n <= 65536 ? 2 : 4;
	unsigned bits = (unsigned)w * 8;
	uint64_t mask = (1ULL << bits) - 1;

	if (n <= 1)
		return 0; /* nothing to choose: spend no randomness */
	uint64_t m = (uint64_t)draw(r, w) * n;
	if ((m & mask) < n) {
		uint64_t threshold = ((mask + 1) - n) % n;
		while ((m & mask) < threshold)
			m = (uint64_t)draw(r, w) * n;
	}
	return (uint32_t)(m >> bits);
}
