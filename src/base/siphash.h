/*
 * siphash: SipHash-2-4 (Aumasson and Bernstein), a keyed pseudo-random
 * function of short inputs. The DHT uses it where an outsider must not be
 * able to predict or forge the output: tokens (a MAC over the asker's
 * address), the tails of our neighbour ids, and the infohash table's hash.
 */
#ifndef SEEDD_SIPHASH_H
#define SEEDD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash24(const struct siphash_key *k, const void *data, size_t len);
/* A 16-byte key as the reference implementation reads it (two little-endian words). */
struct siphash_key siphash_key_from(const uint8_t bytes[16]);

#endif
