/*
 * iprate: at most IPRATE_N (4) packets in any sliding second to one IP;
 * a smaller limit leaves room under the full one; addresses are
 * independent, ports are not; a tiny table evicts the least recently used
 * address and never fails.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dht/ip_rate.h"
#include "t.h"

static const struct siphash_key KEY = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };

static struct addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct addr x = { .family = AF_INET, .port = port };
	x.ip[0] = a;
	x.ip[1] = b;
	x.ip[2] = c;
	x.ip[3] = d;
	return x;
}

static void
window(void)
{
	struct iprate r;
	struct addr a = v4(203, 0, 113, 1, 1000);
	const int64_t T = 1000000;

	CHECK("init", iprate_init(&r, 1024, &KEY) == 0);
	/* Four sends spread over 750 ms; the fifth refused until the first is 1 s old. */
	CHECK("1st", iprate_take(&r, &a, T, IPRATE_N));
	CHECK("2nd", iprate_take(&r, &a, T + 250, IPRATE_N));
	CHECK("3rd", iprate_take(&r, &a, T + 500, IPRATE_N));
	CHECK("4th", iprate_take(&r, &a, T + 750, IPRATE_N));
	CHECK("5th refused", !iprate_take(&r, &a, T + 751, IPRATE_N));
	CHECK("still refused at 999 ms", !iprate_take(&r, &a, T + 999, IPRATE_N));
	CHECK("allowed 1000 ms after the oldest", iprate_take(&r, &a, T + 1000, IPRATE_N));
	/* Now the oldest in the window is T+250. */
	CHECK("refused again at once", !iprate_take(&r, &a, T + 1001, IPRATE_N));
	CHECK("refused at T+1249", !iprate_take(&r, &a, T + 1249, IPRATE_N));
	CHECK("allowed at T+1250", iprate_take(&r, &a, T + 1250, IPRATE_N));

	/* A burst in one millisecond: exactly 4. */
	struct addr b = v4(203, 0, 113, 2, 1000);
	int ok = 0;
	for (int i = 0; i < 10; i++)
		ok += iprate_take(&r, &b, T, IPRATE_N);
	CHECK("burst of 10 in 1 ms: 4 pass", ok == 4);

	/* Ports do not matter: the IP is limited. */
	struct addr c1 = v4(203, 0, 113, 3, 1), c2 = v4(203, 0, 113, 3, 2), c3 = v4(203, 0, 113, 3, 65535);
	ok = iprate_take(&r, &c1, T, IPRATE_N) + iprate_take(&r, &c2, T, IPRATE_N) +
	     iprate_take(&r, &c3, T, IPRATE_N) + iprate_take(&r, &c1, T, IPRATE_N);
	CHECK("four sends over three ports pass", ok == 4);
	CHECK("a fifth to another port is refused", !iprate_take(&r, &c2, T + 10, IPRATE_N));

	/* Other IPs are independent of an exhausted one. */
	ok = 0;
	for (uint8_t i = 10; i < 20; i++) {
		struct addr o = v4(203, 0, 113, i, 1000);
		for (int k = 0; k < 4; k++)
			ok += iprate_take(&r, &o, T + 10, IPRATE_N);
	}
	CHECK("10 other IPs get 4 each", ok == 40);
	CHECK("exhausted IP still refused", !iprate_take(&r, &b, T + 10, IPRATE_N));

	/* IPv6 with the same first four bytes is another address. */
	struct addr six = { .family = AF_INET6, .port = 1000 };
	memcpy(six.ip, b.ip, 4);
	ok = 0;
	for (int k = 0; k < 4; k++)
		ok += iprate_take(&r, &six, T + 10, IPRATE_N);
	CHECK("IPv6 sharing the v4 bytes is independent", ok == 4);
	CHECK("and limited too", !iprate_take(&r, &six, T + 10, IPRATE_N));
	iprate_free(&r);
	CHECK("free clears", r.v == NULL);
}

static void
limits(void)
{
	struct iprate r;
	struct addr a = v4(198, 51, 100, 1, 6881), b = v4(198, 51, 100, 2, 6881), c = v4(198, 51, 100, 3, 6881);
	const int64_t T = 5000;

	iprate_init(&r, 64, &KEY);
	/* Limit 2 (our own queries) leaves two for answers. */
	CHECK("limit 2: 1st", iprate_take(&r, &a, T, 2));
	CHECK("limit 2: 2nd", iprate_take(&r, &a, T, 2));
	CHECK("limit 2: 3rd refused", !iprate_take(&r, &a, T, 2));
	CHECK("limit 4 after two: passes", iprate_take(&r, &a, T, IPRATE_N));
	CHECK("limit 4 after three: passes", iprate_take(&r, &a, T, IPRATE_N));
	CHECK("limit 4 after four: refused", !iprate_take(&r, &a, T, IPRATE_N));
	CHECK("limit 2 after four: refused", !iprate_take(&r, &a, T + 999, 2));
	CHECK("limit 2 a second later", iprate_take(&r, &a, T + 1000, 2));

	/* The other way round: two sends under the full limit use up a limit of 2. */
	iprate_take(&r, &b, T, IPRATE_N);
	iprate_take(&r, &b, T, IPRATE_N);
	CHECK("limit 2 counts every send to the IP", !iprate_take(&r, &b, T, 2));
	CHECK("limit 1: one send, the second refused", iprate_take(&r, &c, T, 1) && !iprate_take(&r, &c, T, 1));
	CHECK("limit 0 refuses", !iprate_take(&r, &c, T + 5000, 0));
	/* A limit above IPRATE_N is IPRATE_N. */
	struct addr d = v4(198, 51, 100, 4, 6881);
	int ok = 0;
	for (int i = 0; i < 10; i++)
		ok += iprate_take(&r, &d, T, 100);
	CHECK("limit 100 is capped at 4", ok == IPRATE_N);
	iprate_free(&r);
}

/* A stream of attempts every 10 ms for 10 s: sends never exceed 4 per sliding second. */
static void
sliding(void)
{
	struct iprate r;
	struct addr a = v4(192, 0, 2, 1, 53);
	int64_t sent[200];
	int n = 0;

	iprate_init(&r, 16, &KEY);
	for (int64_t t = 0; t < 10000; t += 10)
		if (iprate_take(&r, &a, t, IPRATE_N) && n < 200)
			sent[n++] = t;
	bool ok = true;
	for (int i = 0; i + IPRATE_N < n; i++)
		ok &= sent[i + IPRATE_N] - sent[i] >= 1000;
	CHECK("no 5 sends within 1000 ms", ok);
	CHECK("greedy: 40 sends in 10 s", n == 40);
	CHECK("first four at once", n >= 5 && sent[3] == 30 && sent[4] == 1000);
	iprate_free(&r);
}

static void
tiny(void)
{
	struct iprate r;
	const int64_t T = 100000;
	bool ok = true;

	CHECK("4-slot table", iprate_init(&r, 4, &KEY) == 0);
	/* Many addresses through 4 slots: nothing breaks, each new one starts afresh. */
	for (unsigned i = 0; i < 5000; i++) {
		struct addr x = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 1);
		ok &= iprate_take(&r, &x, T + i, IPRATE_N);
	}
	for (unsigned i = 0; i < 500; i++) {
		struct addr x = { .family = AF_INET6, .port = 2 };
		x.ip[0] = 0x20;
		x.ip[15] = (uint8_t)i;
		x.ip[14] = (uint8_t)(i >> 8);
		ok &= iprate_take(&r, &x, T + 6000 + i, IPRATE_N);
	}
	CHECK("5500 addresses through 4 slots all pass once", ok);

	/* LRU: A is used up first; B, C, D fill the other slots; E evicts A (oldest use). */
	iprate_free(&r);
	iprate_init(&r, 4, &KEY);
	struct addr A = v4(1, 0, 0, 1, 1), B = v4(1, 0, 0, 2, 1), C = v4(1, 0, 0, 3, 1), D = v4(1, 0, 0, 4, 1),
		    E = v4(1, 0, 0, 5, 1);
	for (int k = 0; k < 4; k++)
		iprate_take(&r, &A, T, IPRATE_N);
	CHECK("A used up", !iprate_take(&r, &A, T, IPRATE_N));
	iprate_take(&r, &B, T + 1, IPRATE_N);
	iprate_take(&r, &C, T + 2, IPRATE_N);
	iprate_take(&r, &D, T + 3, IPRATE_N);
	CHECK("A still used up with 4 slots full", !iprate_take(&r, &A, T + 4, IPRATE_N));
	CHECK("E gets a slot", iprate_take(&r, &E, T + 5, IPRATE_N));
	CHECK("A evicted: starts afresh", iprate_take(&r, &A, T + 6, IPRATE_N));
	/* B was the least recently used now, so it went when A came back. */
	for (int k = 0; k < 3; k++)
		iprate_take(&r, &C, T + 7, IPRATE_N);
	CHECK("C (3 more sends) used up, not evicted", !iprate_take(&r, &C, T + 8, IPRATE_N));

	/* Four used-up addresses fill the table: each stays refused (no self-eviction). */
	iprate_free(&r);
	iprate_init(&r, 4, &KEY);
	struct addr all[4] = { A, B, C, D };
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 4; k++)
			iprate_take(&r, &all[i], T, IPRATE_N);
	ok = true;
	for (int i = 0; i < 4; i++)
		ok &= !iprate_take(&r, &all[i], T + 500, IPRATE_N);
	CHECK("4 used-up addresses in 4 slots all refused", ok);
	iprate_free(&r);
}

void
test_iprate(void)
{
	window();
	limits();
	sliding();
	tiny();
}
