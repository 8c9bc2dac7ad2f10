/*
 * rng: the one random generator of the process. ChaCha20 keystream
 * (BearSSL) keyed from getrandom(2), with fast key erasure: every refill
 * replaces the key with the first 32 bytes of fresh output, so a later
 * memory disclosure does not reveal earlier outputs.
 * rng_init returns -1 with errno set when getrandom fails; nothing else fails.
 */
#ifndef SEEDD_RNG_H
#define SEEDD_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint8_t key[32];
	uint8_t buf[4096]; /* keystream, overwritten whole at each refill */
	size_t pos;
	uint64_t blocks;
};

int rng_init(struct rng *r);
/* Deterministic generator for tests and fuzzing only. */
void rng_init_seed(struct rng *r, const uint8_t seed[32]);
void rng_bytes(struct rng *r, void *out, size_t n);
uint32_t rng_u32(struct rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t rng_below(struct rng *r, uint32_t n);

#endif
