#include "server/cookie.h"

#include <string.h>

#include "base/siphash.h"

void
cookie_init(struct cookie_secrets *s, const uint8_t secret[COOKIE_SECRET_LEN])
{
	memcpy(s->cur, secret, COOKIE_SECRET_LEN);
	memset(s->prev, 0, COOKIE_SECRET_LEN);
	s->have_prev = false;
}

void
cookie_rotate(struct cookie_secrets *s, const uint8_t fresh[COOKIE_SECRET_LEN])
{
	memcpy(s->prev, s->cur, COOKIE_SECRET_LEN);
	memcpy(s->cur, fresh, COOKIE_SECRET_LEN);
	s->have_prev = true;
}

/* RFC 9018 4.4: the hash over cc | version | reserved | time | client IP. */
static void
cookie_hash(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t cc[COOKIE_CLIENT_LEN],
            const uint8_t head[8], const uint8_t *ip, size_t iplen, uint8_t out[8])
{
	struct siphash_key k = siphash_key_from(secret);
	uint8_t in[COOKIE_CLIENT_LEN + 8 + 16];

	memcpy(in, cc, COOKIE_CLIENT_LEN);
	memcpy(in + COOKIE_CLIENT_LEN, head, 8);
	memcpy(in + COOKIE_CLIENT_LEN + 8, ip, iplen);
	uint64_t h = siphash24(&k, in, COOKIE_CLIENT_LEN + 8 + iplen);
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(h >> (8 * i)); /* SipHash's output is little-endian */
}

void
cookie_make(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t cc[COOKIE_CLIENT_LEN],
            const uint8_t *ip, size_t iplen, uint32_t ts, uint8_t out[COOKIE_SERVER_LEN])
{
	out[0] = 1; /* version */
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(ts >> 24);
	out[5] = (uint8_t)(ts >> 16);
	out[6] = (uint8_t)(ts >> 8);
	out[7] = (uint8_t)ts;
	cookie_hash(secret, cc, out, ip, iplen, out + 8);
}

/* Seconds since the cookie's stamp, in serial arithmetic (RFC 1982): negative is from the future. */
static int64_t
cookie_age(const uint8_t sc[COOKIE_SERVER_LEN], uint32_t now)
{
	uint32_t ts = (uint32_t)sc[4] << 24 | (uint32_t)sc[5] << 16 | (uint32_t)sc[6] << 8 | sc[7];
	uint32_t d = now - ts;

	return d < 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000LL;
}

static bool
hash_matches(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t *opt, const uint8_t *ip,
             size_t iplen)
{
	uint8_t h[8];
	uint8_t diff = 0;

	cookie_hash(secret, opt, opt + COOKIE_CLIENT_LEN, ip, iplen, h);
	for (int i = 0; i < 8; i++)
		diff |= (uint8_t)(h[i] ^ opt[COOKIE_CLIENT_LEN + 8 + i]);
	return diff == 0; /* every byte compared: no timing hint to a forger */
}

/* 0: not ours; 1: made with the current secret; 2: with the previous one. */
static int
which_secret(const struct cookie_secrets *s, const uint8_t *opt, size_t len,
             const uint8_t *ip, size_t iplen, uint32_t now)
{
	if (len != COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN || opt[COOKIE_CLIENT_LEN] != 1)
		return 0; /* another server's format, or another version */
	int64_t age = cookie_age(opt + COOKIE_CLIENT_LEN, now);
	if (age > COOKIE_LIFETIME || age < -COOKIE_SKEW)
		return 0;
	if (hash_matches(s->cur, opt, ip, iplen))
		return 1;
	if (s->have_prev && hash_matches(s->prev, opt, ip, iplen))
		return 2;
	return 0;
}

enum cookie_verdict
cookie_check(const struct cookie_secrets *s, const uint8_t *opt, size_t len,
             const uint8_t *ip, size_t iplen, uint32_t now)
{
	if (len == COOKIE_CLIENT_LEN)
		return COOKIE_CLIENT_ONLY;
	if (len < COOKIE_CLIENT_LEN + 8 || len > COOKIE_OPT_MAX)
		return COOKIE_MALFORMED;
	return which_secret(s, opt, len, ip, iplen, now) ? COOKIE_VALID : COOKIE_BAD;
}

size_t
cookie_reply(const struct cookie_secrets *s, const uint8_t *opt, size_t len,
             enum cookie_verdict v, const uint8_t *ip, size_t iplen, uint32_t now,
             uint8_t out[COOKIE_OPT_MAX])
{
	memcpy(out, opt, COOKIE_CLIENT_LEN);
	if (v == COOKIE_VALID && which_secret(s, opt, len, ip, iplen, now) == 1) {
		int64_t age = cookie_age(opt + COOKIE_CLIENT_LEN, now);
		if (age >= 0 && age <= COOKIE_RENEW) {
			memcpy(out + COOKIE_CLIENT_LEN, opt + COOKIE_CLIENT_LEN, COOKIE_SERVER_LEN);
			return COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN;
		}
	}
	cookie_make(s->cur, opt, ip, iplen, now, out + COOKIE_CLIENT_LEN);
	return COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN;
}
