/*
 * siphash: the reference SipHash-2-4 vectors (key 00 01 .. 0f, message
 * 00 01 .. (n-1) for n = 0..63; the 64-bit outputs of the reference
 * implementation's vectors_sip64, read as little-endian words), then the
 * properties the DHT relies on: every key bit and message byte matters,
 * no read outside [data, data + len), alignment does not change the result.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/siphash.h"
#include "t.h"

static const uint64_t vec[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

/* Key bytes 00..0f as two little-endian words. */
static const struct siphash_key K = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };

static void
vectors(void)
{
	uint8_t msg[64];
	int bad = -1, nbad = 0;
	char name[64];

	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* The three values of the paper's appendix and README, one by one. */
	CHECK("n=0", siphash24(&K, msg, 0) == 0x726fdb47dd0e0e31ULL);
	CHECK("n=1", siphash24(&K, msg, 1) == 0x74f839c593dc67fdULL);
	CHECK("n=15 (paper appendix)", siphash24(&K, msg, 15) == 0xa129ca6149be45e5ULL);
	/* Every tail length 0..7 and whole blocks 8, 16, ... each once. */
	for (int n = 0; n < 64; n++) {
		/* An exact-size heap copy: ASan catches a read past len. */
		uint8_t *p = malloc(n ? (size_t)n : 1);
		memcpy(p, msg, (size_t)n);
		if (siphash24(&K, p, (size_t)n) != vec[n]) {
			if (bad < 0)
				bad = n;
			nbad++;
		}
		free(p);
	}
	snprintf(name, sizeof(name), "all 64 reference vectors (first bad n=%d, %d bad)", bad, nbad);
	CHECK(name, nbad == 0);
	CHECK("n=7 (longest tail)", siphash24(&K, msg, 7) == 0xab0200f58b01d137ULL);
	CHECK("n=8 (one block, empty tail)", siphash24(&K, msg, 8) == 0x93f5f5799a932462ULL);
	CHECK("n=63", siphash24(&K, msg, 63) == 0x958a324ceb064572ULL);
}

static void
properties(void)
{
	uint8_t msg[64], buf[72];
	bool all = true;

	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* Unaligned input: the same words. */
	for (int off = 1; off < 8; off++) {
		memcpy(buf + off, msg, 40);
		all &= siphash24(&K, buf + off, 40) == vec[40];
	}
	CHECK("unaligned input", all);

	/* Every one of the 128 key bits changes the output of the same message. */
	all = true;
	for (int b = 0; b < 128; b++) {
		struct siphash_key k = K;
		if (b < 64)
			k.k0 ^= 1ULL << b;
		else
			k.k1 ^= 1ULL << (b - 64);
		all &= siphash24(&k, msg, 20) != vec[20];
	}
	CHECK("each key bit matters", all);

	/* Every byte of a 20-byte infohash-sized message matters, high bit too. */
	all = true;
	for (int i = 0; i < 20; i++) {
		uint8_t m2[20];
		memcpy(m2, msg, 20);
		m2[i] ^= 0x80;
		all &= siphash24(&K, m2, 20) != vec[20];
	}
	CHECK("each message byte matters", all);

	/* Length is part of the input: a trailing zero byte is not ignored. */
	uint8_t z[9] = { 0 };
	CHECK("length counts (8 vs 9 zero bytes)", siphash24(&K, z, 8) != siphash24(&K, z, 9));
	CHECK("empty vs one zero byte", siphash24(&K, z, 0) != siphash24(&K, z, 1));

	/* Deterministic: the same call twice. */
	CHECK("deterministic", siphash24(&K, msg, 33) == siphash24(&K, msg, 33));
}

void
test_siphash(void)
{
	vectors();
	properties();
}
