/*
 * Server cookies: the RFC 9018 appendix A vectors byte for byte, the
 * lifetime window in serial arithmetic, the secret rotation, and what a
 * reply carries back.
 */
#include <string.h>

#include "server/cookie.h"
#include "t.h"

static void
hex(const char *h, uint8_t *out, int len)
{
	int n = t_hex(h, out, len);
	(void)n;
}

/* A.1-A.4 as server cookies made from scratch. */
static void
vectors_make(void)
{
	static const struct {
		const char *name, *secret, *cc, *want;
		uint8_t ip[16];
		size_t iplen;
		uint32_t ts;
	} v[] = {
		{ "A.1 new cookie, IPv4", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957",
		  "010000005cf79f111f8130c3eee29480", { 198, 51, 100, 100 }, 4, 1559731985 },
		{ "A.2 renewed cookie, IPv4", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957",
		  "010000005cf7a871d4a564a1442aca77", { 198, 51, 100, 100 }, 4, 1559734385 },
		{ "A.3 another client, IPv4", "e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86",
		  "010000005cf7a9acf73a7810aca2381e", { 203, 0, 113, 203 }, 4, 1559734700 },
		{ "A.4 IPv6 after the secret rolled", "445536bcd2513298075a5d379663c962", "22681ab97d52c298",
		  "010000005cf7c609a6bb79d16625507a",
		  { 0x20, 0x01, 0x0d, 0xb8, 0x02, 0x20, 0x00, 0x01, 0x59, 0xde, 0xd0, 0xf4, 0x87, 0x69, 0x82, 0xb8 },
		  16, 1559741961 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t secret[16], cc[8], want[16], got[16];
		hex(v[i].secret, secret, 16);
		hex(v[i].cc, cc, 8);
		hex(v[i].want, want, 16);
		cookie_make(secret, cc, v[i].ip, v[i].iplen, v[i].ts, got);
		CHECK(v[i].name, memcmp(got, want, 16) == 0);
	}
}

/* The queries of the appendix, judged, and the replies they get. */
static void
vectors_check(void)
{
	struct cookie_secrets s;
	uint8_t secret[16], old[16], opt[40], out[COOKIE_OPT_MAX], want[24];
	const uint8_t ip1[4] = { 198, 51, 100, 100 }, ip3[4] = { 203, 0, 113, 203 };
	const uint8_t ip4[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x02, 0x20, 0x00, 0x01,
	                          0x59, 0xde, 0xd0, 0xf4, 0x87, 0x69, 0x82, 0xb8 };

	hex("e5e973e5a6b2a43f48e7dc849e37bfcf", secret, 16);
	cookie_init(&s, secret);

	/* A.1: a client cookie alone gets a server cookie made now. */
	hex("2464c4abcf10c957", opt, 8);
	CHECK("A.1 client only", cookie_check(&s, opt, 8, ip1, 4, 1559731985) == COOKIE_CLIENT_ONLY);
	size_t n = cookie_reply(&s, opt, 8, COOKIE_CLIENT_ONLY, ip1, 4, 1559731985, out);
	hex("2464c4abcf10c957010000005cf79f111f8130c3eee29480", want, 24);
	CHECK("A.1 reply byte for byte", n == 24 && memcmp(out, want, 24) == 0);

	/* A.2: 40 minutes later the cookie is valid but worn: renewed. */
	memcpy(opt, want, 24);
	CHECK("A.2 valid at 40 min", cookie_check(&s, opt, 24, ip1, 4, 1559734385) == COOKIE_VALID);
	n = cookie_reply(&s, opt, 24, COOKIE_VALID, ip1, 4, 1559734385, out);
	hex("2464c4abcf10c957010000005cf7a871d4a564a1442aca77", want, 24);
	CHECK("A.2 renewed reply byte for byte", n == 24 && memcmp(out, want, 24) == 0);
	/* The same cookie 10 minutes after it was made is echoed unchanged. */
	hex("2464c4abcf10c957010000005cf79f111f8130c3eee29480", opt, 24);
	n = cookie_reply(&s, opt, 24, COOKIE_VALID, ip1, 4, 1559731985 + 600, out);
	CHECK("fresh cookie echoed", n == 24 && memcmp(out, opt, 24) == 0);

	/*
	 * A.3: reserved bytes set by another server are hashed as sent. The
	 * appendix's server still takes this cookie 1 h 52 min after its stamp
	 * (1559727985); we keep the one-hour lifetime of RFC 9018 4.3, so it is
	 * valid within the hour and bad at the example's time, and either way
	 * the reply carries the appendix's fresh cookie.
	 */
	hex("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", opt, 24);
	CHECK("A.3 valid with reserved bytes, within the hour",
	      cookie_check(&s, opt, 24, ip3, 4, 1559727985 + 600) == COOKIE_VALID);
	CHECK("A.3 at the example's time: past our lifetime",
	      cookie_check(&s, opt, 24, ip3, 4, 1559734700) == COOKIE_BAD);
	n = cookie_reply(&s, opt, 24, COOKIE_BAD, ip3, 4, 1559734700, out);
	hex("fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e", want, 24);
	CHECK("A.3 reply byte for byte", n == 24 && memcmp(out, want, 24) == 0);
	CHECK("A.3 from another address: bad", cookie_check(&s, opt, 24, ip1, 4, 1559727985 + 600) == COOKIE_BAD);

	/* A.4: made with the old secret, accepted after the roll, renewed with the new one. */
	hex("dd3bdf9344b678b185a6f5cb60fca715", old, 16);
	hex("445536bcd2513298075a5d379663c962", secret, 16);
	cookie_init(&s, old);
	cookie_rotate(&s, secret);
	hex("22681ab97d52c298010000005cf7c57926556bd0934c72f8", opt, 24);
	CHECK("A.4 previous secret accepted", cookie_check(&s, opt, 24, ip4, 16, 1559741961) == COOKIE_VALID);
	n = cookie_reply(&s, opt, 24, COOKIE_VALID, ip4, 16, 1559741961, out);
	hex("22681ab97d52c298010000005cf7c609a6bb79d16625507a", want, 24);
	CHECK("A.4 reply with the new secret, byte for byte", n == 24 && memcmp(out, want, 24) == 0);
	cookie_rotate(&s, secret);
	CHECK("two rotations later the old secret is gone",
	      cookie_check(&s, opt, 24, ip4, 16, 1559741961) == COOKIE_BAD);
}

static void
window(void)
{
	struct cookie_secrets s;
	uint8_t secret[16] = { 7 }, cc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, opt[24];
	const uint8_t ip[4] = { 192, 0, 2, 1 };
	static const struct { const char *name; uint32_t ts, now; enum cookie_verdict v; } w[] = {
		{ "made this second", 1000000, 1000000, COOKIE_VALID },
		{ "an hour old: the last second", 1000000, 1003600, COOKIE_VALID },
		{ "an hour and a second old", 1000000, 1003601, COOKIE_BAD },
		{ "five minutes ahead", 1000300, 1000000, COOKIE_VALID },
		{ "five minutes and a second ahead", 1000301, 1000000, COOKIE_BAD },
		{ "an hour old across the 2^32 wrap", 4294964696u, 1000, COOKIE_VALID },
		{ "two hours old across the wrap", 4294964696u, 4600, COOKIE_BAD },
	};

	cookie_init(&s, secret);
	memcpy(opt, cc, 8);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		cookie_make(secret, cc, ip, 4, w[i].ts, opt + 8);
		CHECK(w[i].name, cookie_check(&s, opt, 24, ip, 4, w[i].now) == w[i].v);
	}
	/* Lengths (RFC 7873 5.2.2): 8 alone, 16 to 40 with a server cookie, else malformed. */
	static const struct { size_t len; enum cookie_verdict v; } l[] = {
		{ 0, COOKIE_MALFORMED }, { 7, COOKIE_MALFORMED }, { 8, COOKIE_CLIENT_ONLY },
		{ 9, COOKIE_MALFORMED }, { 15, COOKIE_MALFORMED }, { 16, COOKIE_BAD },
		{ 40, COOKIE_BAD }, { 41, COOKIE_MALFORMED },
	};
	uint8_t big[41] = { 0 };
	int bad = 0;
	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if (cookie_check(&s, big, l[i].len, ip, 4, 1000) != l[i].v)
			bad++;
	CHECK("option lengths: 8, 16..40 well formed, others malformed", bad == 0);
	/* A version other than 1 is someone else's cookie. */
	cookie_make(secret, cc, ip, 4, 1000, opt + 8);
	opt[8] = 2;
	CHECK("version 2: bad", cookie_check(&s, opt, 24, ip, 4, 1000) == COOKIE_BAD);
	/* A bad cookie's reply is a fresh one of ours for the same client cookie. */
	uint8_t out[COOKIE_OPT_MAX], fresh[16];
	size_t n = cookie_reply(&s, opt, 24, COOKIE_BAD, ip, 4, 5000, out);
	cookie_make(secret, cc, ip, 4, 5000, fresh);
	CHECK("bad cookie: fresh one back", n == 24 && memcmp(out, cc, 8) == 0 && memcmp(out + 8, fresh, 16) == 0);
}

void
test_cookie(void)
{
	vectors_make();
	vectors_check();
	window();
}
