#include "rng.h"

#include <bearssl.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

static void
refill(struct rng *r)
{
	uint8_t iv[12] = { 0 };

	memset(r->buf, 0, sizeof(r->buf));
	memcpy(iv, &r->blocks, sizeof(r->blocks));
	r->blocks++;
	br_chacha20_ct_run(r->key, iv, 0, r->buf, sizeof(r->buf));
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

uint32_t
rng_u32(struct rng *r)
{
	uint32_t v;

	rng_bytes(r, &v, sizeof(v));
	return v;
}

uint32_t
rng_below(struct rng *r, uint32_t n)
{
	/* Lemire's multiply-shift with rejection: unbiased. */
	uint64_t m = (uint64_t)rng_u32(r) * n;
	uint32_t low = (uint32_t)m;

	if (low < n) {
		uint32_t threshold = (uint32_t)(-n) % n;
		while (low < threshold) {
			m = (uint64_t)rng_u32(r) * n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}
