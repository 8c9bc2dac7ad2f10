/*
 * fuzz_dns: one input = one DNS query handed to dns_answer, over UDP
 * (1232-byte buffer) and over TCP (16384 bytes). The zone is built once:
 * nodes in many prefixes (so answers get shortened), static A/AAAA rows,
 * a CNAME chain, a CNAME loop, a dangling and an out-of-zone CNAME, an
 * empty non-terminal, a name with too many rows for 512 bytes (TC), in-zone
 * NS names with glue, and --wildcard on.
 *
 * A second zone has the other settings: no static rows at all (an empty
 * tree), no --ns (the NS is the SOA MNAME), no wildcard, --answers 1024
 * over 1100 IPv4 and 300 IPv6 nodes (shortened over TCP too).
 *
 * Every reply is read back with the project's own reader (dns/wire.h): each
 * record it announces must parse completely and the records must fill the
 * reply exactly, so a broken compression pointer or a miscounted section
 * traps here.
 *
 * Cookies are on (a fixed secret, client 192.0.2.1 or 2001:db8::1 as the
 * input's first byte says): an OPT in a reply holds nothing or one COOKIE
 * option echoing the query's client cookie with our 16-byte server cookie;
 * BADCOOKIE only over UDP. Every UDP reply is also cut to an RRL slip,
 * which must parse too: TC, the question, the OPT and nothing else.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "dns/dname.h"
#include "server/answer.h"
#include "server/cookie.h"
#include "dns/wire.h"
#include "base/rng.h"
#include "zone/zone.h"

#include "fuzz.h"

#define APEX "seed.example.com"
#define UDP_CAP DNS_EDNS_SIZE
#define TCP_CAP 16384

static struct zone zone, bare;
static bool ready;

static void
wire(uint8_t out[DNAME_MAX], const char *text)
{
	REQUIRE(dname_from_text(out, text) > 0);
}

/* NAME,VALUE as in zone.csv: an address is A/AAAA, anything else a CNAME. */
static void
row(struct zone_rr *rr, size_t *n, const char *name, const char *value)
{
	struct zone_rr *r = &rr[(*n)++];
	struct addr a;

	memset(r, 0, sizeof(*r));
	wire(r->name, name);
	r->line = (uint32_t)*n + 1;
	if (addr_parse_ip(&a, value) == 0) {
		r->type = a.family == AF_INET ? DNS_T_A : DNS_T_AAAA;
		r->rdlen = (uint16_t)addr_len(&a);
		memcpy(r->rdata, a.ip, r->rdlen);
	} else {
		int l = dname_from_text(r->rdata, value);
		REQUIRE(l > 0);
		r->type = DNS_T_CNAME;
		r->rdlen = (uint16_t)l;
	}
}

static void
node(struct zone *z, const char *ip)
{
	struct addr a;

	REQUIRE(addr_parse_ip(&a, ip) == 0);
	REQUIRE(zone_node_add(z, &a) == 1);
}

static void
build_zone(void)
{
	uint8_t apex[DNAME_MAX];
	struct zone_rr *rr = calloc(128, sizeof(*rr));
	size_t n = 0;
	char name[DNAME_TEXT_MAX], value[64];

	REQUIRE(rr != NULL);
	wire(apex, APEX);
	zone_init(&zone, apex, 1000, 0x5eedULL);
	wire(zone.soa.mname, "ns." APEX);
	wire(zone.soa.rname, "hostmaster." APEX);
	zone.soa.serial = 2026112201;
	zone.soa.refresh = 28800;
	zone.soa.retry = 7200;
	zone.soa.expire = 604800;
	zone.soa.minimum = 86400;
	wire(zone.ns[0], "ns." APEX);
	wire(zone.ns[1], "ns2." APEX);
	wire(zone.ns[2], "ns.example.net");
	zone.nns = 3;
	zone.node_ttl = 60;
	zone.answers = 40; /* 40 A records do not fit in 512 bytes: shortened */
	zone.wildcard = true;

	row(rr, &n, "ns." APEX, "198.51.100.53");
	row(rr, &n, "ns." APEX, "2001:db8::53");
	row(rr, &n, "ns2." APEX, "198.51.100.54");
	row(rr, &n, "www." APEX, APEX);                      /* CNAME to the apex */
	row(rr, &n, "a." APEX, "b." APEX);                   /* chain a -> b -> c */
	row(rr, &n, "b." APEX, "c." APEX);
	row(rr, &n, "c." APEX, "192.0.2.1");
	row(rr, &n, "c." APEX, "2001:db8::c");
	row(rr, &n, "loop1." APEX, "loop2." APEX);           /* a loop: depth cap */
	row(rr, &n, "loop2." APEX, "loop1." APEX);
	row(rr, &n, "ext." APEX, "target.example.net");      /* out of zone */
	row(rr, &n, "dangling." APEX, "nothere.x." APEX);    /* NXDOMAIN at the end */
	row(rr, &n, "wild." APEX, "anything." APEX);         /* lands on the wildcard */
	row(rr, &n, "x.y.z." APEX, "192.0.2.7");             /* y.z and z: empty non-terminals */
	row(rr, &n, "v6only." APEX, "2001:db8::6");
	for (int i = 0; i < 40; i++) {                       /* too big for 512 bytes: TC */
		snprintf(value, sizeof(value), "192.0.2.%d", 100 + i);
		row(rr, &n, "big." APEX, value);
	}
	/* An owner of exactly 255 bytes (three 63-byte labels and a 44-byte one), and a CNAME to it. */
	size_t o = 0;
	for (int l = 0; l < 4; l++) {
		int len = l < 3 ? 63 : 44;
		for (int i = 0; i < len; i++)
			name[o++] = (char)('a' + (l * 7 + i) % 26);
		name[o++] = '.';
	}
	memcpy(name + o, APEX, sizeof(APEX));
	row(rr, &n, name, "192.0.2.9");
	REQUIRE(dname_len(rr[n - 1].name) == DNAME_MAX);
	row(rr, &n, "long." APEX, name);
	REQUIRE(n <= 128);
	REQUIRE(zone_set_static(&zone, rr, n) == 0);

	/* 60 IPv4 nodes over 20 /16 prefixes, 30 IPv6 nodes over 10 /32s. */
	for (int i = 0; i < 60; i++) {
		snprintf(value, sizeof(value), "%d.%d.%d.%d", 11 + i % 20, 7, i, 1 + i);
		node(&zone, value);
	}
	for (int i = 0; i < 30; i++) {
		snprintf(value, sizeof(value), "2a0%d:%x::%x", i % 10, 0x100 + i, i + 1);
		node(&zone, value);
	}
}

static void
build_bare(void)
{
	uint8_t apex[DNAME_MAX];
	char value[64];

	wire(apex, APEX);
	zone_init(&bare, apex, 2000, 0xba5eULL);
	wire(bare.soa.mname, "ns1.example.net");
	wire(bare.soa.rname, "hostmaster.example.net");
	bare.soa.serial = 1;
	bare.soa.refresh = 900;
	bare.soa.retry = 300;
	bare.soa.expire = 604800;
	bare.soa.minimum = 60;
	bare.node_ttl = 0;
	bare.answers = 1024;
	REQUIRE(zone_set_static(&bare, NULL, 0) == 0);
	for (int i = 0; i < 1100; i++) {
		snprintf(value, sizeof(value), "%d.%d.%d.%d", 11 + i % 150, i % 3, i / 256, i % 256);
		node(&bare, value);
	}
	for (int i = 0; i < 300; i++) {
		snprintf(value, sizeof(value), "2a01:%x:%x::1", i % 40, i);
		node(&bare, value);
	}
}

/*
 * One resource record of the reply at the reader's offset; returns its type.
 * Names in RDATA are read against the whole message (they may point back),
 * and must end exactly where RDLEN says.
 */
static uint16_t
check_rr(struct rd *rd, bool *opt_seen)
{
	uint8_t name[DNAME_MAX];
	size_t nlen = rd_name(rd, name);
	uint16_t type = rd_u16(rd);
	rd_u16(rd); /* class, or the OPT payload size */
	rd_u32(rd);
	uint16_t rdlen = rd_u16(rd);

	REQUIRE(rd->err == RD_OK);
	REQUIRE(nlen >= 1 && nlen <= DNAME_MAX);
	REQUIRE(rd->len - rd->off >= rdlen);
	size_t end = rd->off + rdlen;
	switch (type) {
	case DNS_T_A:
		REQUIRE(rdlen == 4);
		break;
	case DNS_T_AAAA:
		REQUIRE(rdlen == 16);
		break;
	case DNS_T_CNAME:
	case DNS_T_NS:
		rd_name(rd, name);
		break;
	case DNS_T_SOA:
		rd_name(rd, name);
		rd_name(rd, name);
		rd_skip(rd, 20);
		break;
	case DNS_T_OPT:
		REQUIRE(!*opt_seen);
		REQUIRE(nlen == 1); /* RFC 6891 6.1.2: owned by the root */
		*opt_seen = true;
		/* Nothing, or one COOKIE: client cookie and our version-1 server cookie. */
		REQUIRE(rdlen == 0 || rdlen == 4 + COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN);
		if (rdlen) {
			REQUIRE(rd->p[rd->off] == 0 && rd->p[rd->off + 1] == 10);
			REQUIRE(rd->p[rd->off + 3] == COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN);
			REQUIRE(rd->p[rd->off + 4 + COOKIE_CLIENT_LEN] == 1);
		}
		break;
	default:
		__builtin_trap(); /* we never write any other type */
	}
	if (type == DNS_T_A || type == DNS_T_AAAA || type == DNS_T_OPT)
		rd_skip(rd, rdlen);
	REQUIRE(rd->err == RD_OK);
	REQUIRE(rd->off == end);
	return type;
}

/* The first COOKIE option of the query's OPT, found by a reader of our own; NULL: none. */
static const uint8_t *
query_cookie(const uint8_t *q, size_t qlen)
{
	struct rd rd;
	uint8_t name[DNAME_MAX];

	rd_init(&rd, q, qlen);
	rd_skip(&rd, 4);
	uint16_t qd = rd_u16(&rd), an = rd_u16(&rd), ns = rd_u16(&rd), ar = rd_u16(&rd);
	for (uint16_t i = 0; i < qd && !rd.err; i++) {
		rd_name(&rd, name);
		rd_skip(&rd, 4);
	}
	for (uint32_t i = 0; i < (uint32_t)an + ns + ar && !rd.err; i++) {
		size_t nl = rd_name(&rd, name);
		uint16_t type = rd_u16(&rd);
		rd_skip(&rd, 6);
		uint16_t rdlen = rd_u16(&rd);
		if (rd.err || rd.len - rd.off < rdlen)
			return NULL;
		if (type == DNS_T_OPT && nl == 1 && i >= (uint32_t)an + ns) {
			struct rd o;
			rd_init(&o, rd.p + rd.off, rdlen);
			while (o.off < o.len && !o.err) {
				uint16_t code = rd_u16(&o), len = rd_u16(&o);
				if (!o.err && code == 10 && o.len - o.off >= len && len >= COOKIE_CLIENT_LEN)
					return o.p + o.off;
				rd_skip(&o, len);
			}
			return NULL;
		}
		rd_skip(&rd, rdlen);
	}
	return NULL;
}

static void
check_reply(const uint8_t *q, size_t qlen, const uint8_t *r, size_t rlen, size_t cap, bool tcp)
{
	struct rd rd;
	uint8_t name[DNAME_MAX];
	bool opt = false;

	REQUIRE(rlen <= cap);
	if (rlen == 0)
		return;
	REQUIRE(rlen >= DNS_HDR);
	REQUIRE(qlen >= DNS_HDR);
	rd_init(&rd, r, rlen);
	uint16_t id = rd_u16(&rd), flags = rd_u16(&rd);
	uint16_t qd = rd_u16(&rd), an = rd_u16(&rd), ns = rd_u16(&rd), ar = rd_u16(&rd);
	uint16_t qflags = (uint16_t)(q[2] << 8 | q[3]);

	REQUIRE(id == (uint16_t)(q[0] << 8 | q[1]));
	REQUIRE(flags & DNS_F_QR);
	REQUIRE(!(qflags & DNS_F_QR)); /* responses get no reply */
	REQUIRE(!(flags & DNS_F_RA));  /* never recursive */
	REQUIRE(!(flags & 0x0040));    /* Z */
	REQUIRE(DNS_OPCODE(flags) == DNS_OPCODE(qflags));
	/* RD and CD copied for QUERY; for other opcodes only QR, the opcode and the rcode (NOTIMP). */
	if (DNS_OPCODE(qflags) == 0)
		REQUIRE((flags & DNS_F_RD) == (qflags & DNS_F_RD) && (flags & DNS_F_CD) == (qflags & DNS_F_CD));
	else
		REQUIRE((flags & 0x07ff) == DNS_R_NOTIMP && an == 0 && ns == 0 && ar == 0);
	REQUIRE(qd <= 1);
	if ((flags & 0xf) == (DNS_R_BADCOOKIE & 0xf))
		REQUIRE(!tcp && an == 0 && ns == 0);
	if (qd == 1) {
		rd_name(&rd, name);
		rd_skip(&rd, 4);
		REQUIRE(rd.err == RD_OK);
		/* The question echoed byte for byte, case preserved. */
		REQUIRE(rd.off <= qlen);
		REQUIRE(memcmp(r + DNS_HDR, q + DNS_HDR, rd.off - DNS_HDR) == 0);
	}
	for (uint32_t i = 0; i < (uint32_t)an + ns + ar; i++) {
		size_t at = rd.off;
		uint16_t t = check_rr(&rd, &opt);
		if (t == DNS_T_OPT) {
			REQUIRE(i >= (uint32_t)an + ns); /* OPT only in additional */
			/* A COOKIE in the reply echoes the query's client cookie. */
			if (rd.off - at > 11) {
				const uint8_t *cc = query_cookie(q, qlen);
				REQUIRE(cc != NULL && memcmp(r + at + 15, cc, COOKIE_CLIENT_LEN) == 0);
			}
		}
	}
	REQUIRE(rd.off == rlen); /* nothing after the last record */
	if (flags & DNS_F_TC)
		REQUIRE(an == 0 && ns == 0); /* TC: the question only */
	/* RFC 1035 4.2.1: 512 bytes over UDP unless EDNS says more. */
	if (!tcp && !opt)
		REQUIRE(rlen <= DNS_UDP_MIN);
	if (!tcp)
		REQUIRE(rlen <= DNS_EDNS_SIZE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t seed[32] = { 's', 'e', 'e', 'd', 'd' };
	static uint8_t udp[UDP_CAP], tcp[TCP_CAP];
	struct dns_stats st;
	struct rng rng;

	if (!ready) {
		build_zone();
		build_bare();
		ready = true;
	}
	memset(&st, 0, sizeof(st));
	/* gen_corpus.py makes valid cookies for these: keep them in step. */
	static const uint8_t prev[COOKIE_SECRET_LEN] = { 'c', 'o', 'o', 'k', 'i', 'e' };
	static const uint8_t cur[COOKIE_SECRET_LEN] = { 'o', 'o', 'k', 'i', 'e' };
	static const uint8_t ip4[4] = { 192, 0, 2, 1 };
	static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct cookie_secrets cs;
	cookie_init(&cs, prev);
	cookie_rotate(&cs, cur);
	bool v6 = size > 0 && (data[0] & 1);
	struct dns_client c = { .ip = v6 ? ip6 : ip4, .iplen = v6 ? 16 : 4, .now = 1800000000u,
	                        .cookies = &cs };
	/* Same generator per input: a crash reproduces from its file alone. */
	rng_init_seed(&rng, seed);

	struct zone *zones[] = { &zone, &bare };
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		size_t n = dns_answer(zones[i], &rng, data, size, udp, sizeof(udp), false, &c, &st);
		check_reply(data, size, udp, n, sizeof(udp), false);
		if (n > 0) {
			/* The RRL slip of this reply: TC, the question and the OPT only. */
			size_t sn = dns_slip(udp, n, &c);
			REQUIRE(sn >= DNS_HDR && sn <= n);
			if (DNS_OPCODE(data[2] << 8) == 0)
				REQUIRE(udp[2] & (DNS_F_TC >> 8));
			else
				REQUIRE(sn == n && n == DNS_HDR); /* NOTIMP: the bare header as it was */
			check_reply(data, size, udp, sn, sizeof(udp), false);
			REQUIRE(udp[6] == 0 && udp[7] == 0 && udp[8] == 0 && udp[9] == 0 && udp[11] <= 1);
		}
		n = dns_answer(zones[i], &rng, data, size, tcp, sizeof(tcp), true, &c, &st);
		check_reply(data, size, tcp, n, sizeof(tcp), true);
		n = dns_answer(zones[i], &rng, data, size, tcp, sizeof(tcp), true, NULL, &st);
		check_reply(data, size, tcp, n, sizeof(tcp), true);
	}
	return 0;
}
