/*
 * fuzz_nodeset: the input as a program of add / del / has / pick / clear
 * on one nodeset with a small cap, over 256 addresses in 16 prefixes,
 * cross-checked against a plain array of booleans:
 *   - add says 1, 0 or -1 (full) exactly when the reference says so, del 1 or 0;
 *   - the member count, the prefix count and every membership agree;
 *   - pick returns min(k, n) distinct members, the first min(k, prefixes)
 *     of them from distinct prefixes (nodeset.h).
 * Byte 0 chooses the family (bit 0) and the cap (1..32); then two bytes per op.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "zone/nodeset.h"
#include "base/rng.h"

#include "fuzz.h"

#define NADDR 256
#define NPREFIX 16
#define PICK_MAX 40

/* Address number a: prefix a >> 4 (the /16 or /32 bucket), host a & 15. */
static void
make_ip(uint8_t ip[16], size_t alen, unsigned a)
{
	unsigned pfx = a >> 4, host = a & 15;

	memset(ip, 0, 16);
	ip[0] = (uint8_t)(alen == 4 ? 11 + pfx : 0x2a);
	ip[1] = (uint8_t)(pfx * 17);
	if (alen == 16)
		ip[3] = (uint8_t)pfx;
	ip[alen - 1] = (uint8_t)(host + 1);
	ip[alen - 2] = (uint8_t)(host * 3); /* outside the prefix: same bucket */
}

static unsigned
addr_of(const uint8_t *ip, size_t alen)
{
	unsigned pfx = alen == 4 ? (unsigned)ip[0] - 11 : ip[3];
	unsigned host = (unsigned)ip[alen - 1] - 1;

	REQUIRE(pfx < NPREFIX && host < 16);
	return pfx << 4 | host;
}

static void
check_all(const struct nodeset *s, const bool *ref, size_t n)
{
	uint8_t ip[16];
	bool pfx[NPREFIX] = { false };
	size_t npfx = 0;

	REQUIRE(s->n == n);
	for (unsigned a = 0; a < NADDR; a++) {
		make_ip(ip, s->alen, a);
		REQUIRE((nodeset_has(s, ip) != 0) == ref[a]);
		if (ref[a] && !pfx[a >> 4]) {
			pfx[a >> 4] = true;
			npfx++;
		}
	}
	REQUIRE(s->nb == npfx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t seed[32] = { 'n', 'o', 'd', 'e', 's' };
	struct nodeset s;
	struct rng rng;
	bool ref[NADDR] = { false };
	size_t n = 0;
	uint8_t ip[16];

	if (size < 1)
		return 0;
	size_t alen = (data[0] & 1) ? 16 : 4;
	size_t max = 1 + (size_t)(data[0] >> 1) % 32;
	nodeset_init(&s, alen, max, 0x5eedULL ^ data[0]);
	rng_init_seed(&rng, seed);

	for (size_t pc = 1; pc + 1 < size; pc += 2) {
		uint8_t op = data[pc], arg = data[pc + 1];
		make_ip(ip, alen, arg);
		switch (op % 8) {
		case 0:
		case 1:
		case 2: {
			int want = ref[arg] ? 0 : n >= max ? -1 : 1;
			REQUIRE(nodeset_add(&s, ip) == want);
			if (want == 1) {
				ref[arg] = true;
				n++;
			}
			break;
		}
		case 3:
		case 4:
			REQUIRE(nodeset_del(&s, ip) == (ref[arg] ? 1 : 0));
			if (ref[arg]) {
				ref[arg] = false;
				n--;
			}
			break;
		case 5:
			REQUIRE((nodeset_has(&s, ip) != 0) == ref[arg]);
			break;
		case 6: {
			const uint8_t *out[PICK_MAX];
			bool seen[NADDR] = { false }, pseen[NPREFIX] = { false };
			size_t k = arg % PICK_MAX;
			size_t got = nodeset_pick(&s, &rng, out, k);
			size_t first = k < s.nb ? k : s.nb;
			REQUIRE(got == (k < n ? k : n));
			for (size_t i = 0; i < got; i++) {
				unsigned a = addr_of(out[i], alen);
				REQUIRE(ref[a] && !seen[a]);
				seen[a] = true;
				if (i < first) {
					REQUIRE(!pseen[a >> 4]);
					pseen[a >> 4] = true;
				}
			}
			break;
		}
		default:
			if (arg < 8) {
				nodeset_clear(&s);
				memset(ref, 0, sizeof(ref));
				n = 0;
			}
			break;
		}
		REQUIRE(s.n == n);
		if ((pc & 127) == 1)
			check_all(&s, ref, n);
	}
	check_all(&s, ref, n);
	nodeset_clear(&s);
	return 0;
}
