/*
 * Response rate limiting on a simulated clock: the burst, the slip
 * rhythm, no trickle under a sustained flood, recovery after it, prefixes
 * and classes as separate buckets, a bounded table under a flood of
 * sources, and the minute's top prefixes.
 */
#include <string.h>
#include <sys/socket.h>

#include "dns/dname.h"
#include "server/rrl.h"
#include "t.h"

static const uint8_t key[16] = { 1, 2, 3 };
static uint8_t apex[DNAME_MAX];

static enum rrl_verdict
one(struct rrl *r, int64_t t, const uint8_t *ip, size_t iplen)
{
	return rrl_account(r, t, ip, iplen, RRL_ANSWER, apex, 1);
}

static void
basics(void)
{
	struct rrl r;
	struct rrl_config c = { .rate = 10, .slip = 2, .v4_prefix = 24, .v6_prefix = 56 };
	const uint8_t ip[4] = { 192, 0, 2, 1 };
	int sent = 0;

	rrl_init(&r, &c, key);
	for (int i = 0; i < 10; i++)
		sent += one(&r, 1000, ip, 4) == RRL_SEND;
	CHECK("a second's burst goes out", sent == 10);
	enum rrl_verdict v1 = one(&r, 1000, ip, 4), v2 = one(&r, 1000, ip, 4), v3 = one(&r, 1000, ip, 4),
	                 v4 = one(&r, 1000, ip, 4);
	CHECK("over the limit: drop, slip, drop, slip", v1 == RRL_DROP && v2 == RRL_SLIP && v3 == RRL_DROP && v4 == RRL_SLIP);
	CHECK("counted", r.stats.limited == 4 && r.stats.slipped == 2 && r.stats.dropped == 2);
	rrl_free(&r);

	/* At the rate exactly, evenly spread, for an hour: every response goes out. */
	rrl_init(&r, &c, key);
	int limited = 0;
	for (int64_t t = 1; t < 3600 * 1000; t += 100)
		limited += one(&r, t, ip, 4) != RRL_SEND;
	CHECK("at the rate for an hour: nothing limited", limited == 0);
	rrl_free(&r);

	/* Off: everything goes. */
	c.rate = 0;
	rrl_init(&r, &c, key);
	sent = 0;
	for (int i = 0; i < 1000; i++)
		sent += one(&r, 5, ip, 4) == RRL_SEND;
	CHECK("rate 0: off", sent == 1000 && r.table == NULL);
	rrl_free(&r);

	/* Slip 0 never slips; slip 1 slips every limited response. */
	c.rate = 1;
	c.slip = 0;
	rrl_init(&r, &c, key);
	for (int i = 0; i < 20; i++)
		one(&r, 5, ip, 4);
	CHECK("slip 0: all limited dropped", r.stats.slipped == 0 && r.stats.dropped == 19);
	rrl_free(&r);
	c.slip = 1;
	rrl_init(&r, &c, key);
	for (int i = 0; i < 20; i++)
		one(&r, 5, ip, 4);
	CHECK("slip 1: all limited slipped", r.stats.slipped == 19 && r.stats.dropped == 0);
	rrl_free(&r);
}

/* 10x the rate for 60 s: after the first second no full answer, then recovery. */
static void
flood(void)
{
	struct rrl r;
	struct rrl_config c = { .rate = 20, .slip = 2, .v4_prefix = 24, .v6_prefix = 56 };
	const uint8_t ip[4] = { 198, 51, 100, 7 };
	int early = 0, late = 0, slips = 0, n = 0;
	int64_t t;

	rrl_init(&r, &c, key);
	for (t = 1000; t < 61000; t += 5) { /* 200 a second */
		enum rrl_verdict v = one(&r, t, ip, 4);
		n++;
		if (v == RRL_SEND && t < 2000)
			early++;
		else if (v == RRL_SEND)
			late++;
		slips += v == RRL_SLIP;
	}
	CHECK("flood: the first second's burst and refill only", early >= 20 && early <= 25);
	CHECK("flood: no steady trickle of full answers", late == 0);
	CHECK("flood: half the limited responses slip", slips >= (n - early) / 2 - 1 && slips <= (n - early) / 2 + 1);
	/* Debt is at most RRL_WINDOW seconds: answered again after that. */
	CHECK("still limited 10 s after the flood", one(&r, t + 10000, ip, 4) != RRL_SEND);
	CHECK("answered again a window after the flood", one(&r, t + (RRL_WINDOW + 1) * 1000, ip, 4) == RRL_SEND);
	rrl_free(&r);
}

static void
buckets(void)
{
	struct rrl r;
	struct rrl_config c = { .rate = 1, .slip = 2, .v4_prefix = 24, .v6_prefix = 56 };
	const uint8_t a[4] = { 192, 0, 2, 1 }, b[4] = { 192, 0, 2, 200 }, other[4] = { 192, 0, 3, 1 };
	const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 99 };
	const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0xff, 0x00, [15] = 1 };
	const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0xff, 0xff, [15] = 2 };
	const uint8_t v6c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0xfe, 0x00, [15] = 1 };
	uint8_t www[DNAME_MAX];

	dname_from_text(www, "www.seed.example.com");
	rrl_init(&r, &c, key);
	CHECK("first of a /24", one(&r, 10, a, 4) == RRL_SEND);
	CHECK("same /24: same bucket", one(&r, 10, b, 4) != RRL_SEND);
	CHECK("IPv4-mapped IPv6: same bucket", one(&r, 10, mapped, 16) != RRL_SEND);
	CHECK("another /24: its own bucket", one(&r, 10, other, 4) == RRL_SEND);
	CHECK("another name: its own bucket", rrl_account(&r, 10, a, 4, RRL_ANSWER, www, 1) == RRL_SEND);
	CHECK("another type: its own bucket", rrl_account(&r, 10, a, 4, RRL_ANSWER, apex, 28) == RRL_SEND);
	CHECK("negative answers: a bucket per zone", rrl_account(&r, 10, a, 4, RRL_NEGATIVE, apex, 1) == RRL_SEND &&
	      rrl_account(&r, 10, a, 4, RRL_NEGATIVE, apex, 28) != RRL_SEND);
	CHECK("wildcard answers: not the apex's bucket", rrl_account(&r, 10, a, 4, RRL_WILDCARD, apex, 1) == RRL_SEND);
	CHECK("errors: one bucket, names ignored", rrl_account(&r, 10, a, 4, RRL_ERROR, NULL, 0) == RRL_SEND &&
	      rrl_account(&r, 10, a, 4, RRL_ERROR, www, 5) != RRL_SEND);
	CHECK("IPv6 /56", one(&r, 10, v6a, 16) == RRL_SEND && one(&r, 10, v6b, 16) != RRL_SEND &&
	      one(&r, 10, v6c, 16) == RRL_SEND);
	rrl_free(&r);

	c.v4_prefix = 32;
	rrl_init(&r, &c, key);
	CHECK("--rrl-ipv4-prefix 32: per address", one(&r, 10, a, 4) == RRL_SEND && one(&r, 10, b, 4) == RRL_SEND);
	rrl_free(&r);
	c.v4_prefix = 20;
	rrl_init(&r, &c, key);
	CHECK("--rrl-ipv4-prefix 20: 192.0.2/24 and 192.0.3/24 together",
	      one(&r, 10, a, 4) == RRL_SEND && one(&r, 10, other, 4) != RRL_SEND);
	rrl_free(&r);
}

/* A flood from a million /24s: the table stays its size and the busiest bucket stays limited. */
static void
bounded(void)
{
	struct rrl r;
	struct rrl_config c = { .rate = 5, .slip = 2, .v4_prefix = 24, .v6_prefix = 56 };
	const uint8_t hot[4] = { 203, 0, 113, 1 };
	int hot_sent_late = 0;

	rrl_init(&r, &c, key);
	for (uint32_t i = 0; i < 1000000; i++) {
		int64_t t = 1 + i / 20; /* 20,000 responses a second */
		uint8_t ip[4] = { (uint8_t)(10 + (i >> 16) % 200), (uint8_t)(i >> 8), (uint8_t)i, 9 };
		one(&r, t, ip, 4);
		if (i % 100 == 0) { /* the hot source: 200 a second */
			enum rrl_verdict v = one(&r, t, hot, 4);
			hot_sent_late += v == RRL_SEND && t > 2000;
		}
	}
	CHECK("a million sources: buckets were evicted", r.stats.evicted > 0);
	CHECK("the busy bucket survives the churn: no trickle", hot_sent_late == 0);
	rrl_free(&r);
}

static void
top(void)
{
	struct rrl r;
	struct rrl_config c = { .rate = 1, .slip = 2, .v4_prefix = 24, .v6_prefix = 56 };
	const uint8_t a[4] = { 192, 0, 2, 1 }, b[4] = { 198, 51, 100, 1 };
	struct rrl_top t[3];

	rrl_init(&r, &c, key);
	for (int i = 0; i < 11; i++)
		one(&r, 10, a, 4);
	for (int i = 0; i < 31; i++)
		one(&r, 10, b, 4);
	for (int i = 0; i < 6; i++)
		rrl_account(&r, 10, b, 4, RRL_ERROR, NULL, 0);
	size_t n = rrl_top(&r, t, 3);
	CHECK("top: two prefixes, busiest first, classes added up",
	      n == 2 && t[0].limited == 35 && t[0].prefix[0] == 198 && t[0].prefix[3] == 0 && t[0].bits == 24 &&
	      t[1].limited == 10 && t[1].prefix[0] == 192);
	CHECK("top: counts cleared", rrl_top(&r, t, 3) == 0);
	rrl_free(&r);
}

void
test_rrl(void)
{
	dname_from_text(apex, "seed.example.com");
	basics();
	flood();
	buckets();
	bounded();
	top();
}
