/*
 * hashmix: the 64-bit finalizer of murmur3, the mixing step of our keyed
 * hashes (node sets, the node table). Keys come from the network, so every
 * table seeds it with a random value.
 */
#ifndef SEEDD_HASHMIX_H
#define SEEDD_HASHMIX_H

#include <stdint.h>

static inline uint64_t
hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

#endif
