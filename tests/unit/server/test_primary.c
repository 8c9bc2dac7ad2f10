/*
 * The hidden primary's policy (server/primary.c) on real bytes: requests
 * built and signed with dns/tsig.h's client half, replies read back and
 * their signatures checked. Who gets a transfer, who gets REFUSED or
 * NOTAUTH, what UDP gets, a signed SOA query, a stream cut short, and the
 * serial of the transferred zone in the SOA answers.
 */
#include <string.h>
#include <sys/socket.h>

#include "base/loop.h"
#include "base/rng.h"
#include "dns/dname.h"
#include "dns/tsig.h"
#include "dns/wire.h"
#include "server/answer.h"
#include "server/primary.h"
#include "zone/zone.h"
#include "t.h"

#define NOW 1796620000u

static const char key_text[] = "key \"xfr-key\" { algorithm hmac-sha256; secret "
                               "\"WFlG2OclNuko3/X2Tx2SGb+PuBmCOm/LQPy56ohFxQo=\"; };\n";
static const char other_text[] = "key \"xfr-key\" { algorithm hmac-sha256; secret "
                                 "\"AAAA2OclNuko3/X2Tx2SGb+PuBmCOm/LQPy56ohFxQo=\"; };\n";
static uint32_t bumps;

static uint32_t
bump(void *ctx, uint32_t floor)
{
	struct zone *z = ctx;

	bumps++;
	z->soa.serial = (int32_t)(floor - (z->soa.serial + 1)) > 0 ? floor : z->soa.serial + 1;
	return z->soa.serial;
}

/* A query for seed.test: qtype, with an IXFR's SOA (serial) in the authority section. */
static size_t
query(uint8_t *out, size_t cap, uint16_t id, uint16_t qtype, uint32_t serial)
{
	struct wr w;
	uint8_t apex[DNAME_MAX], m[DNAME_MAX];

	dname_from_text(apex, "seed.test");
	dname_from_text(m, "ns.seed.test");
	wr_init(&w, out, cap);
	wr_u16(&w, id);
	wr_u16(&w, 0);
	wr_u16(&w, 1);
	wr_u16(&w, 0);
	wr_u16(&w, qtype == DNS_T_IXFR ? 1 : 0);
	wr_u16(&w, 0);
	wr_name(&w, apex);
	wr_u16(&w, qtype);
	wr_u16(&w, DNS_C_IN);
	if (qtype == DNS_T_IXFR) {
		wr_name(&w, apex);
		wr_u16(&w, DNS_T_SOA);
		wr_u16(&w, DNS_C_IN);
		wr_u32(&w, 0);
		wr_u16(&w, (uint16_t)(dname_len(m) * 2 + 20));
		wr_bytes(&w, m, dname_len(m)); /* uncompressed: RDLENGTH as computed */
		wr_bytes(&w, m, dname_len(m));
		wr_u32(&w, serial);
		for (int i = 0; i < 4; i++)
			wr_u32(&w, 60);
	}
	return w.err ? 0 : w.off;
}

static unsigned
rcode(const uint8_t *m)
{
	return m[3] & 0xf;
}

static uint16_t
count(const uint8_t *m, int i)
{
	return (uint16_t)(m[4 + 2 * i] << 8 | m[5 + 2 * i]);
}

void
test_primary(void)
{
	static uint8_t q[4096], out[65535];
	static const uint8_t seed[32] = { 15 };
	struct loop l;
	struct rng r;
	struct zone z;
	struct primary p;
	struct primary_config pc = { .answers = 3, .rotate_s = 300 };
	struct tsig_key other;
	struct tsig_state cs;
	struct primary_req rq;
	uint8_t apex[DNAME_MAX], in4[4] = { 10, 9, 0, 1 }, out4[4] = { 10, 8, 0, 1 };
	char err[160];
	size_t ql, ol;

	rng_init_seed(&r, seed);
	dname_from_text(apex, "seed.test");
	zone_init(&z, apex, 100, 1);
	dname_from_text(z.soa.mname, "ns.seed.test");
	dname_from_text(z.soa.rname, "hostmaster.seed.test");
	z.soa.serial = 2026120701;
	z.soa.refresh = z.soa.retry = z.soa.expire = z.soa.minimum = 60;
	z.node_ttl = 60;
	z.answers = 25;
	for (int i = 1; i <= 20; i++) {
		struct addr a = { .family = AF_INET, .ip = { 11, (uint8_t)i, 0, 1 } };
		zone_node_add(&z, &a);
	}
	CHECK("setup: loop", loop_init(&l) == 0);
	CHECK("setup: keys", tsig_key_parse(&pc.key, key_text, strlen(key_text), err, sizeof(err)) == 0 &&
	      tsig_key_parse(&other, other_text, strlen(other_text), err, sizeof(err)) == 0);
	addr_parse_net(&pc.allow[0], "10.9.0.0/16");
	pc.nallow = 1;
	CHECK("init", primary_init(&p, &pc, &l, &z, &r, bump, &z, err, sizeof(err)) == 0);
	CHECK("start: a version under a new serial", primary_start(&p) == 0 && bumps == 1 && z.xfr_serial_on &&
	      z.xfr_serial == 2026120702 && z.soa.serial == 2026120702);

	/* SOA answers carry the transferred serial, not the zone's moving one. */
	z.soa.serial += 5;
	ql = query(q, sizeof(q), 1, DNS_T_SOA, 0);
	struct dns_stats st = { 0 };
	ol = dns_answer(&z, &r, q, ql, out, 512, false, NULL, &st);
	CHECK("SOA answer: the transferred serial", ol > 20 && count(out, 1) == 1 &&
	      out[ol - 20] == (uint8_t)(2026120702u >> 24) && out[ol - 17] == (uint8_t)2026120702u);

	/* Unsigned: dns_answer's (REFUSED there), counted. */
	ql = query(q, sizeof(q), 2, DNS_T_AXFR, 0);
	CHECK("unsigned AXFR: passed on", primary_query(&p, q, &ql, in4, 4, true, NOW, out, sizeof(out), &ol, &rq) ==
	      PRIMARY_PASS && p.st.refused_unsigned == 1);

	/* Signed, allowed, TCP: a stream of signed messages, SOA first and last. */
	ql = query(q, sizeof(q), 3, DNS_T_AXFR, 0);
	CHECK("signed AXFR: signed", tsig_sign_request(&cs, &pc.key, q, &ql, sizeof(q), NOW) == 0);
	CHECK("signed AXFR from an allowed source: a stream",
	      primary_query(&p, q, &ql, in4, 4, true, NOW, out, sizeof(out), &ol, &rq) == PRIMARY_STREAM);
	bool failed = true;
	size_t n = 0, msgs = 0, len;
	while ((len = primary_stream_next(&p, &rq, out, 1200, NOW, &failed)) > 0) {
		msgs++;
		n += count(out, 1);
		if (msgs == 1)
			CHECK("stream: the first message verifies with the client's state",
			      tsig_verify_response(&cs, &pc.key, out, len, NOW) == TSIG_OK);
		CHECK("stream: each message carries its TSIG", count(out, 3) >= 1 && rcode(out) == 0);
	}
	CHECK("stream: ended whole", !failed && msgs >= 1 && p.st.xfr_done == 1 && p.st.xfr_started[XFR_AXFR] == 1);
	/* SOA, NS, 3 sampled A, SOA. */
	CHECK("stream: the records", n == 6);

	/* Signed, from outside --xfr-allow: REFUSED, signed. */
	ql = query(q, sizeof(q), 4, DNS_T_AXFR, 0);
	tsig_sign_request(&cs, &pc.key, q, &ql, sizeof(q), NOW);
	CHECK("signed AXFR from another source: a reply",
	      primary_query(&p, q, &ql, out4, 4, true, NOW, out, sizeof(out), &ol, &rq) == PRIMARY_REPLY);
	CHECK("  REFUSED and signed", rcode(out) == DNS_R_REFUSED && tsig_verify_response(&cs, &pc.key, out, ol, NOW) ==
	      TSIG_OK && p.st.refused_source == 1);
	CHECK("  an IPv6 source is not in an IPv4 network", (ql = query(q, sizeof(q), 5, DNS_T_AXFR, 0)) > 0 &&
	      tsig_sign_request(&cs, &pc.key, q, &ql, sizeof(q), NOW) == 0 &&
	      primary_query(&p, q, &ql, (const uint8_t *)"\x0a\x09\0\x01\0\0\0\0\0\0\0\0\0\0\0\0", 16, true, NOW,
	                    out, sizeof(out), &ol, &rq) == PRIMARY_REPLY && rcode(out) == DNS_R_REFUSED);

	/* Another key: NOTAUTH, BADSIG in the TSIG RR, no MAC. */
	ql = query(q, sizeof(q), 6, DNS_T_AXFR, 0);
	tsig_sign_request(&cs, &other, q, &ql, sizeof(q), NOW);
	CHECK("wrong secret: NOTAUTH", primary_query(&p, q, &ql, in4, 4, true, NOW, out, sizeof(out), &ol, &rq) ==
	      PRIMARY_REPLY && rcode(out) == DNS_R_NOTAUTH && p.st.tsig[TSIG_BADSIG] == 1);
	CHECK("  the client sees BADSIG", tsig_verify_response(&cs, &other, out, ol, NOW) == TSIG_BADSIG);
	/* Out of time: NOTAUTH, BADTIME. */
	ql = query(q, sizeof(q), 7, DNS_T_AXFR, 0);
	tsig_sign_request(&cs, &pc.key, q, &ql, sizeof(q), NOW - 1000);
	CHECK("old signature: NOTAUTH, BADTIME", primary_query(&p, q, &ql, in4, 4, true, NOW, out, sizeof(out), &ol,
	      &rq) == PRIMARY_REPLY && rcode(out) == DNS_R_NOTAUTH && p.st.tsig[TSIG_BADTIME] == 1);

	/* UDP: AXFR refused, IXFR answered with the current SOA alone. */
	ql = query(q, sizeof(q), 8, DNS_T_AXFR, 0);
	tsig_sign_request(&cs, &pc.key, q, &ql, sizeof(q), NOW);
	CHECK("AXFR over UDP: REFUSED", primary_query(&p, q, &ql, in4, 4, false, NOW, out, 1232, &ol, &rq) ==
	      PRIMARY_REPLY && rcode(out) == DNS_R_REFUSED && p.st.refused_udp_axfr == 1);
	ql = query(q, sizeof(q), 9, DNS_T_IXFR, 2026120600);
	tsig_sign_request(&cs, &pc.key, q, &ql, sizeof(q), NOW);
	CHECK("IXFR over UDP: the current SOA alone, signed",
	      primary_query(&p, q, &ql, in4, 4, false, NOW, out, 1232, &ol, &rq) == PRIMARY_REPLY &&
	      rcode(out) == 0 && count(out, 1) == 1 && tsig_verify_response(&cs, &pc.key, out, ol, NOW) == TSIG_OK);

	/* A signed SOA query: answered by dns_answer from the query without its TSIG, then signed. */
	size_t full = ql = query(q, sizeof(q), 10, DNS_T_SOA, 0);
	tsig_sign_request(&cs, &pc.key, q, &ql, sizeof(q), NOW);
	CHECK("signed SOA query: to be signed", primary_query(&p, q, &ql, out4, 4, false, NOW, out, 1232, &ol, &rq) ==
	      PRIMARY_SIGN && ql == full && count(q, 3) == 0);
	ol = dns_answer(&z, &r, q, ql, out, 1232 - primary_reserve(&p), false, NULL, &st);
	ol = primary_sign(&p, &rq, out, ol, 1232, NOW);
	CHECK("  the reply verifies", ol > 0 && tsig_verify_response(&cs, &pc.key, out, ol, NOW) == TSIG_OK);

	/* A stream cut short holds no version; a rotation meanwhile changes nothing in it. */
	ql = query(q, sizeof(q), 11, DNS_T_IXFR, 2026120600);
	tsig_sign_request(&cs, &pc.key, q, &ql, sizeof(q), NOW);
	CHECK("IXFR from a serial gone: a stream",
	      primary_query(&p, q, &ql, in4, 4, true, NOW, out, sizeof(out), &ol, &rq) == PRIMARY_STREAM &&
	      rq.xs.kind == XFR_IXFR_FULL);
	primary_stream_cut(&p, &rq);
	CHECK("cut: counted, over", p.st.xfr_cut == 1 && !rq.streaming &&
	      primary_stream_next(&p, &rq, out, sizeof(out), NOW, &failed) == 0);

	primary_close(&p);
	loop_close(&l);
	zone_free(&z);
}
