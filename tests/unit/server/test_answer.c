#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "server/answer.h"
#include "dns/wire.h"
#include "t.h"

static struct zone z;
static struct rng rng;
static struct dns_stats st;
static uint8_t q[4096], out[16384];

static void
add_rr(struct zone_rr *rr, size_t *n, const char *name, const char *value)
{
	struct zone_rr *r = &rr[(*n)++];
	struct addr a;

	memset(r, 0, sizeof(*r));
	dname_from_text(r->name, name);
	if (addr_parse_ip(&a, value) == 0) {
		r->type = a.family == AF_INET ? DNS_T_A : DNS_T_AAAA;
		r->rdlen = (uint16_t)addr_len(&a);
		memcpy(r->rdata, a.ip, r->rdlen);
	} else {
		r->type = DNS_T_CNAME;
		r->rdlen = (uint16_t)dname_from_text(r->rdata, value);
	}
}

static void
setup(void)
{
	uint8_t apex[DNAME_MAX], seed[32] = { 1 };
	struct zone_rr *rr = calloc(16, sizeof(*rr));
	size_t n = 0;
	struct addr a;

	dname_from_text(apex, "seed.example.com");
	zone_init(&z, apex, 1000, 42);
	rng_init_seed(&rng, seed);
	z.node_ttl = 60;
	z.answers = 25;
	dname_from_text(z.soa.mname, "ns.seed.example.com");
	dname_from_text(z.soa.rname, "hostmaster.seed.example.com");
	z.soa.serial = 2026112201;
	z.soa.refresh = 28800;
	z.soa.retry = 7200;
	z.soa.expire = 604800;
	z.soa.minimum = 300;
	add_rr(rr, &n, "ns.seed.example.com", "1.2.3.4");
	add_rr(rr, &n, "www.seed.example.com", "seed.example.com");
	add_rr(rr, &n, "out.seed.example.com", "example.org");
	add_rr(rr, &n, "a.b.seed.example.com", "1.1.1.1");
	add_rr(rr, &n, "a.b.seed.example.com", "2001:4860::1");
	zone_set_static(&z, rr, n);
	addr_parse_ip(&a, "47.74.45.239");
	zone_node_add(&z, &a);
}

/* A query: header, one question, optional OPT (size 0 = none). */
static size_t
query(uint16_t id, uint16_t flags, const char *name, uint16_t type, uint16_t klass,
      uint16_t edns_size, uint8_t version, int do_bit)
{
	struct wr w;
	uint8_t wire[DNAME_MAX];

	wr_init(&w, q, sizeof(q));
	wr_u16(&w, id);
	wr_u16(&w, flags);
	wr_u16(&w, 1);
	wr_u16(&w, 0);
	wr_u16(&w, 0);
	wr_u16(&w, edns_size ? 1 : 0);
	/* keep the case as given: build the wire form by hand */
	size_t o = 0;
	for (const char *s = name; *s;) {
		size_t l = strcspn(s, ".");
		wire[o++] = (uint8_t)l;
		memcpy(wire + o, s, l);
		o += l;
		s += l;
		if (*s == '.')
			s++;
	}
	wire[o++] = 0;
	wr_bytes(&w, wire, o);
	wr_u16(&w, type);
	wr_u16(&w, klass);
	if (edns_size) {
		wr_u8(&w, 0);
		wr_u16(&w, DNS_T_OPT);
		wr_u16(&w, edns_size);
		wr_u8(&w, 0);
		wr_u8(&w, version);
		wr_u16(&w, do_bit ? 0x8000 : 0);
		wr_u16(&w, 0);
	}
	return w.off;
}

static size_t
ask(size_t qlen, bool tcp)
{
	return dns_answer(&z, &rng, q, qlen, out, tcp ? sizeof(out) : 1232, tcp, NULL, &st);
}

#define RCODE(p) ((p)[3] & 0xf)
#define COUNT(p, i) ((uint16_t)((p)[4 + 2 * (i)] << 8 | (p)[5 + 2 * (i)]))

/* Append a COOKIE option to the OPT that ends the query of length ql. */
static size_t
add_cookie(size_t ql, const uint8_t *data, size_t len)
{
	q[ql - 2] = 0;
	q[ql - 1] = (uint8_t)(4 + len);
	q[ql] = 0;
	q[ql + 1] = 10;
	q[ql + 2] = 0;
	q[ql + 3] = (uint8_t)len;
	memcpy(q + ql + 4, data, len);
	return ql + 4 + len;
}

static size_t
ask_as(size_t qlen, bool tcp, struct dns_client *c)
{
	return dns_answer(&z, &rng, q, qlen, out, tcp ? sizeof(out) : 1232, tcp, c, &st);
}

/* The COOKIE option data of a reply whose last record is an OPT holding only it, or NULL. */
static const uint8_t *
reply_cookie(size_t n, size_t *len)
{
	size_t at = n - 39; /* OPT: 11 bytes, then code, length and 24 bytes of cookie */

	if (n < 12 + 39 || out[at] != 0 || out[at + 1] != 0 || out[at + 2] != 41 || out[at + 9] != 0 ||
	    out[at + 10] != 28 || out[at + 11] != 0 || out[at + 12] != 10 || out[at + 14] != 24)
		return NULL;
	*len = 24;
	return out + n - 24;
}

static void
answer_cookies(void)
{
	struct cookie_secrets cs;
	const uint8_t secret[16] = { 9, 9, 9 }, ip[4] = { 192, 0, 2, 55 };
	const uint8_t cc[8] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8 };
	struct dns_client c = { .ip = ip, .iplen = 4, .now = 1800000000u, .cookies = &cs };
	uint8_t good[24], bad[24], nine[9] = { 0 };
	const uint8_t *rc;
	size_t n, ql, rl = 0;

	cookie_init(&cs, secret);
	memcpy(good, cc, 8);
	cookie_make(secret, cc, ip, 4, c.now - 60, good + 8);
	memcpy(bad, good, 24);
	bad[23] ^= 1;

	ql = add_cookie(query(40, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0), cc, 8);
	n = ask_as(ql, false, &c);
	rc = reply_cookie(n, &rl);
	CHECK("client cookie: answered with ours", n > 0 && RCODE(out) == 0 && COUNT(out, 1) >= 1 && rc != NULL &&
	      rl == 24 && memcmp(rc, cc, 8) == 0 && c.cookie == COOKIE_CLIENT_ONLY &&
	      cookie_check(&cs, rc, rl, ip, 4, c.now) == COOKIE_VALID);

	ql = add_cookie(query(41, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0), good, 24);
	n = ask_as(ql, false, &c);
	rc = reply_cookie(n, &rl);
	CHECK("valid cookie: answered, echoed, told", n > 0 && COUNT(out, 1) >= 1 && c.cookie == COOKIE_VALID &&
	      rc != NULL && rl == 24 && memcmp(rc, good, 24) == 0);

	ql = add_cookie(query(42, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0), bad, 24);
	n = ask_as(ql, false, &c);
	rc = reply_cookie(n, &rl);
	CHECK("bad cookie over UDP: BADCOOKIE (23) with a good one, no records",
	      n > 0 && RCODE(out) == (DNS_R_BADCOOKIE & 0xf) && COUNT(out, 1) == 0 && COUNT(out, 2) == 0 &&
	      COUNT(out, 0) == 1 && rc != NULL && rc[-10] == DNS_R_BADCOOKIE >> 4 /* the OPT's extended rcode */ &&
	      cookie_check(&cs, rc, rl, ip, 4, c.now) == COOKIE_VALID && (out[2] & 0x04) == 0);
	n = ask_as(ql, true, &c);
	CHECK("bad cookie over TCP: answered", n > 0 && RCODE(out) == 0 && COUNT(out, 1) >= 1 &&
	      reply_cookie(n, &rl) != NULL);

	ql = add_cookie(query(43, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0), nine, 9);
	n = ask_as(ql, false, &c);
	CHECK("9-byte cookie: FORMERR", n > 0 && RCODE(out) == DNS_R_FORMERR && COUNT(out, 1) == 0 &&
	      reply_cookie(n, &rl) == NULL);

	/* RFC 7873 5.4: no question, a cookie: NOERROR and our cookie. */
	ql = add_cookie(query(44, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0), cc, 8);
	size_t qend = 12 + 18 + 4;
	memmove(q + 12, q + qend, ql - qend);
	q[5] = 0;
	n = ask_as(ql - (qend - 12), false, &c);
	rc = reply_cookie(n, &rl);
	CHECK("no question, a client cookie: NOERROR with ours", n > 0 && RCODE(out) == 0 && COUNT(out, 0) == 0 &&
	      rc != NULL && memcmp(rc, cc, 8) == 0);
	n = ask(ql - (qend - 12), false);
	CHECK("no question and cookies off: FORMERR", n == 12 && RCODE(out) == DNS_R_FORMERR);

	c.cookies = NULL;
	ql = add_cookie(query(45, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0), cc, 8);
	n = ask_as(ql, false, &c);
	CHECK("cookies off: the option is ignored", n > 0 && COUNT(out, 1) >= 1 && reply_cookie(n, &rl) == NULL &&
	      out[n - 1] == 0 && out[n - 2] == 0);
	c.cookies = &cs;

	/* RRL classes. */
	n = ask_as(query(46, 0, "SEED.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false, &c);
	CHECK("class: apex A", c.cls == RRL_ANSWER && c.cls_type == DNS_T_A &&
	      dname_len(c.cls_name) == dname_len(z.apex) && memcmp(c.cls_name, z.apex, dname_len(z.apex)) == 0);
	n = ask_as(query(47, 0, "nothere.seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false, &c);
	CHECK("class: NXDOMAIN per zone", c.cls == RRL_NEGATIVE && c.cls_name == z.apex);
	n = ask_as(query(48, 0, "seed.example.com", DNS_T_MX, DNS_C_IN, 0, 0, 0), false, &c);
	CHECK("class: NODATA per zone", c.cls == RRL_NEGATIVE && c.cls_name == z.apex);
	n = ask_as(query(49, 0, "example.org", DNS_T_A, DNS_C_IN, 0, 0, 0), false, &c);
	CHECK("class: REFUSED is an error", c.cls == RRL_ERROR && c.cls_name == NULL);
	n = ask_as(query(50, 0, "ns.seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false, &c);
	CHECK("class: a static name", c.cls == RRL_ANSWER && c.cls_name[1] == 'n' && c.cls_name[2] == 's');
	z.wildcard = true;
	n = ask_as(query(51, 0, "x1.seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false, &c);
	bool w1 = c.cls == RRL_WILDCARD && c.cls_name == z.apex;
	n = ask_as(query(52, 0, "y2.seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false, &c);
	CHECK("class: wildcard labels are one name", w1 && c.cls == RRL_WILDCARD && c.cls_name == z.apex);
	z.wildcard = false;

	/* The slip: header with TC, the question, the OPT with its cookie; nothing else. */
	ql = add_cookie(query(53, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0), cc, 8);
	n = ask_as(ql, false, &c);
	uint8_t ck[24];
	memcpy(ck, out + n - 24, 24);
	size_t sn = dns_slip(out, n, &c);
	CHECK("slip: TC, question, OPT with the cookie", sn == 12 + 22 + 11 + 28 && (out[2] & 0x02) &&
	      COUNT(out, 0) == 1 && COUNT(out, 1) == 0 && COUNT(out, 2) == 0 && COUNT(out, 3) == 1 &&
	      memcmp(out + sn - 24, ck, 24) == 0 && RCODE(out) == 0);
	n = ask_as(query(54, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false, &c);
	sn = dns_slip(out, n, &c);
	CHECK("slip without EDNS: TC and the question", sn == 12 + 22 && (out[2] & 0x02) && COUNT(out, 3) == 0);
}

void
test_dns_answer(void)
{
	size_t n;

	setup();

	/* Golden reply for the apex SOA: every byte, compression included. */
	n = ask(query(0x1234, DNS_F_RD, "seed.example.com", DNS_T_SOA, DNS_C_IN, 0, 0, 0), false);
	uint8_t gold[200];
	int gl = t_hex("1234 8500 0001 0001 0000 0000"
	               "04 73656564 07 6578616d706c65 03 636f6d 00 0006 0001"
	               "c00c 0006 0001 00000e10 0026"
	               "02 6e73 c00c"
	               "0a 686f73746d6173746572 c00c"
	               "78c404c9 00007080 00001c20 00093a80 0000012c", gold, sizeof(gold));
	CHECK("SOA golden", (int)n == gl && memcmp(out, gold, n) == 0);

	/* Apex A: one node, TTL 60, owner compressed to the question. */
	n = ask(query(7, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	gl = t_hex("0007 8400 0001 0001 0000 0000"
	           "04 73656564 07 6578616d706c65 03 636f6d 00 0001 0001"
	           "c00c 0001 0001 0000003c 0004 2f4a2def", gold, sizeof(gold));
	CHECK("A golden", (int)n == gl && memcmp(out, gold, n) == 0);

	/* CNAME to the apex: CNAME then the apex A, target compressed. */
	n = ask(query(8, 0, "www.seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	gl = t_hex("0008 8400 0001 0002 0000 0000"
	           "03 777777 04 73656564 07 6578616d706c65 03 636f6d 00 0001 0001"
	           "c00c 0005 0001 00000e10 0002 c010"
	           "c010 0001 0001 0000003c 0004 2f4a2def", gold, sizeof(gold));
	CHECK("CNAME golden", (int)n == gl && memcmp(out, gold, n) == 0);

	/* AAAA of a static name. */
	n = ask(query(9, 0, "a.b.seed.example.com", DNS_T_AAAA, DNS_C_IN, 0, 0, 0), false);
	gl = t_hex("0009 8400 0001 0001 0000 0000"
	           "01 61 01 62 04 73656564 07 6578616d706c65 03 636f6d 00 001c 0001"
	           "c00c 001c 0001 00000e10 0010 20014860000000000000000000000001", gold, sizeof(gold));
	CHECK("AAAA golden", (int)n == gl && memcmp(out, gold, n) == 0);

	/* NS with glue. */
	n = ask(query(10, 0, "seed.example.com", DNS_T_NS, DNS_C_IN, 0, 0, 0), false);
	gl = t_hex("000a 8400 0001 0001 0000 0001"
	           "04 73656564 07 6578616d706c65 03 636f6d 00 0002 0001"
	           "c00c 0002 0001 00000e10 0005 02 6e73 c00c"
	           "c02e 0001 0001 00000e10 0004 01020304", gold, sizeof(gold));
	CHECK("NS golden", (int)n == gl && memcmp(out, gold, n) == 0);

	/* EDNS: OPT echoed with our size and the DO bit. */
	n = ask(query(11, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 4096, 0, 1), false);
	CHECK("EDNS OPT appended", n > 11 && COUNT(out, 3) == 1 &&
	      memcmp(out + n - 11, "\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00", 11) == 0);
	n = ask(query(12, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 512, 1, 0), false);
	CHECK("BADVERS", n > 0 && RCODE(out) == 0 && COUNT(out, 1) == 0 &&
	      memcmp(out + n - 11, "\x00\x00\x29\x04\xd0\x01\x00\x00\x00\x00\x00", 11) == 0);

	/* Negative answers. */
	n = ask(query(13, 0, "nope.seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	CHECK("NXDOMAIN", n > 0 && RCODE(out) == DNS_R_NXDOMAIN && COUNT(out, 1) == 0 && COUNT(out, 2) == 1 &&
	      (out[2] & 0x04) != 0);
	/* SOA TTL in authority: min(3600, MINIMUM=300) = 0x12c */
	CHECK("negative TTL", n > 0 && memmem(out, n, "\x00\x06\x00\x01\x00\x00\x01\x2c", 8) != NULL);
	n = ask(query(14, 0, "b.seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	CHECK("empty non-terminal NODATA", n > 0 && RCODE(out) == 0 && COUNT(out, 1) == 0 && COUNT(out, 2) == 1);
	n = ask(query(15, 0, "ns.seed.example.com", DNS_T_AAAA, DNS_C_IN, 0, 0, 0), false);
	CHECK("NODATA", n > 0 && RCODE(out) == 0 && COUNT(out, 1) == 0 && COUNT(out, 2) == 1);
	n = ask(query(16, 0, "example.org", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	CHECK("REFUSED out of zone", n > 0 && RCODE(out) == DNS_R_REFUSED && (out[2] & 0x04) == 0);
	n = ask(query(17, 0, "seed.example.com", DNS_T_TXT, DNS_C_CH, 0, 0, 0), false);
	CHECK("REFUSED class CH with question", n > 0 && RCODE(out) == DNS_R_REFUSED && COUNT(out, 0) == 1);
	n = ask(query(18, 0, "seed.example.com", DNS_T_AXFR, DNS_C_IN, 0, 0, 0), true);
	CHECK("AXFR refused", n > 0 && RCODE(out) == DNS_R_REFUSED);
	n = ask(query(19, 0x2000, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	CHECK("NOTIMP", n > 0 && RCODE(out) == DNS_R_NOTIMP && (out[2] & 0x78) == 0x20);
	/*
	 * Header hygiene: opcodes 1-15 with every flag but QR set (AA TC RD RA
	 * Z AD CD and rcode bits) get the ID, QR and the opcode back, every
	 * other flag clear, rcode NOTIMP; QUERY keeps only RD and CD of them.
	 */
	int bad_op = 0;
	for (uint16_t op = 1; op < 16; op++) {
		uint16_t f = (uint16_t)(op << 11 | 0x07ff);
		n = ask(query((uint16_t)(100 + op), f, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
		uint16_t got = (uint16_t)(out[2] << 8 | out[3]);
		if (n < 12 || got != (uint16_t)(DNS_F_QR | op << 11 | DNS_R_NOTIMP) || out[0] != 0 || out[1] != 100 + op)
			bad_op++;
	}
	CHECK("opcodes 1-15, every flag set: only QR, the opcode and NOTIMP come back", bad_op == 0);
	n = ask(query(99, 0x07ff, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	CHECK("QUERY, every flag set: QR AA RD CD, not TC RA Z AD",
	      n > 0 && (uint16_t)(out[2] << 8 | out[3]) == (DNS_F_QR | DNS_F_AA | DNS_F_RD | DNS_F_CD | DNS_R_NOERROR));
	n = ask(query(20, 0, "seed.example.com", DNS_T_ANY, DNS_C_IN, 0, 0, 0), false);
	CHECK("ANY gives A only", n > 0 && COUNT(out, 1) == 1 && out[n - 16 + 2] == 0 && out[n - 16 + 3] == 1);
	n = ask(query(21, 0, "out.seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	CHECK("CNAME out of zone only", n > 0 && RCODE(out) == 0 && COUNT(out, 1) == 1);

	/* Case is echoed as sent. */
	n = ask(query(22, 0, "SeEd.ExAmPlE.cOm", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	CHECK("question case kept", n > 0 && memcmp(out + 13, "SeEd", 4) == 0 && COUNT(out, 1) == 1);

	/* The ladder's early rungs. */
	uint8_t hdr[12] = { 0 };
	CHECK("short dropped", dns_answer(&z, &rng, hdr, 11, out, 512, false, NULL, &st) == 0);
	size_t ql = query(23, DNS_F_QR, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0);
	CHECK("QR dropped", ask(ql, false) == 0);
	ql = query(24, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0);
	q[5] = 0;
	CHECK("QDCOUNT 0 FORMERR", ask(ql, false) == 12 && RCODE(out) == DNS_R_FORMERR);
	q[5] = 2;
	CHECK("QDCOUNT 2 FORMERR", ask(ql, false) == 12 && RCODE(out) == DNS_R_FORMERR);
	q[5] = 1;
	CHECK("truncated question FORMERR", ask(ql - 3, false) == 12 && RCODE(out) == DNS_R_FORMERR);
	/* Two OPT records. */
	ql = query(25, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0);
	memcpy(q + ql, q + ql - 11, 11);
	q[11] = 2;
	CHECK("two OPT FORMERR", ask(ql + 11, false) > 0 && RCODE(out) == DNS_R_FORMERR);
	/* OPT owned by a non-root name. */
	ql = query(26, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0);
	memmove(q + ql - 10 + 2, q + ql - 10, 10);
	q[ql - 11] = 1;
	q[ql - 10] = 'x';
	q[ql - 9] = 0;
	CHECK("OPT non-root FORMERR", ask(ql + 2, false) > 0 && RCODE(out) == DNS_R_FORMERR);
	/* OPT option overrunning RDLEN. */
	ql = query(27, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0);
	q[ql - 1] = 4;
	memcpy(q + ql, "\xfd\xe9\x00\x05", 4);
	CHECK("OPT option overrun FORMERR", ask(ql + 4, false) > 0 && RCODE(out) == DNS_R_FORMERR);
	/* Unknown option inside RDLEN: ignored. */
	q[ql - 1] = 6;
	memcpy(q + ql, "\xfd\xe9\x00\x02\xab\xcd", 6);
	CHECK("unknown option ignored", ask(ql + 6, false) > 0 && RCODE(out) == 0 && COUNT(out, 1) == 1);

	/* Node answers shrink instead of truncating; 512 without EDNS. */
	for (int i = 0; i < 200; i++) {
		struct addr a = { .family = AF_INET, .ip = { 11, (uint8_t)i, 0, 1 } };
		zone_node_add(&z, &a);
	}
	z.answers = 200;
	n = ask(query(28, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	CHECK("512 without EDNS, no TC", n > 400 && n <= 512 && (out[2] & 0x02) == 0 && COUNT(out, 1) == (n - 34) / 16);
	n = ask(query(29, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 1232, 0, 0), false);
	CHECK("1232 with EDNS", n > 1100 && n <= 1232 && (out[2] & 0x02) == 0);
	n = ask(query(30, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), true);
	CHECK("TCP all 200", n > 0 && COUNT(out, 1) == 200);
	n = ask(query(31, 0, "seed.example.com", DNS_T_A, DNS_C_IN, 0, 0, 0), false);
	{
		/* distinct /16 prefixes: every 11.x /16 differs, so all picks differ */
		int distinct = 1;
		for (int i = 0; i < COUNT(out, 1) && distinct; i++)
			for (int j = 0; j < i; j++)
				if (out[34 + 16 * i + 13] == out[34 + 16 * j + 13] &&
				    out[34 + 16 * i + 12] == out[34 + 16 * j + 12])
					distinct = 0;
		CHECK("distinct prefixes", distinct);
	}
	answer_cookies();
	zone_free(&z);
}
