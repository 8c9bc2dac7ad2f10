/*
 * resolver: the codec on fixed packets (golden query bytes, hex replies,
 * replies built with the writer for chains) and resolv.conf parsing; the
 * lookups against a fake server are in test_resolver_lookup.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/wire.h"
#include "base/log.h"
#include "base/loop.h"
#include "dns/resolver.h"
#include "base/rng.h"
#include "t.h"

/* seed.example.com as a wire name, and its question. */
#define QNAME "0473656564076578616d706c6503636f6d00"
#define QNAME_OK "047365656407" "6578616d706c65" "03636f6d00"
#define HDR_Q(id, flags, an) id flags "0001" an "0000" "0000" QNAME_OK
#define Q_A "00010001"
#define Q_AAAA "001c0001"
#define TTL "00000e10"

static const uint8_t seed_name[] = "\4seed\7example\3com";

/* Parse a hex reply to (id, seed.example.com, qtype). */
static int
parse_hex(const char *hex, uint16_t id, uint16_t qtype, struct addr *out, size_t max, size_t *n)
{
	static uint8_t pkt[4096];
	int len = t_hex(hex, pkt, sizeof(pkt));

	if (len < 0)
		return -100;
	return resolver_reply_parse(pkt, (size_t)len, id, seed_name, qtype, out, max, n);
}

static bool
is_v4(const struct addr *a, const char *s)
{
	struct addr want;

	addr_parse_ip(&want, s);
	return a->family == AF_INET && memcmp(a->ip, want.ip, 4) == 0;
}

static bool
is_v6(const struct addr *a, const char *s)
{
	struct addr want;

	addr_parse_ip(&want, s);
	return a->family == AF_INET6 && memcmp(a->ip, want.ip, 16) == 0;
}

/* --- a reply builder for chains (names compressed by wr_name) ------------- */

struct rb {
	struct wr w;
	uint8_t buf[4096];
	uint16_t an;
};

static void
rb_begin(struct rb *b, uint16_t id, uint16_t flags, const char *qname, uint16_t qtype)
{
	uint8_t name[DNAME_MAX];

	dname_from_text(name, qname);
	wr_init(&b->w, b->buf, sizeof(b->buf));
	b->an = 0;
	wr_u16(&b->w, id);
	wr_u16(&b->w, flags);
	wr_u16(&b->w, 1);
	wr_u16(&b->w, 0); /* ANCOUNT, set by rb_end */
	wr_u16(&b->w, 0);
	wr_u16(&b->w, 0);
	wr_name(&b->w, name);
	wr_u16(&b->w, qtype);
	wr_u16(&b->w, DNS_C_IN);
}

static void
rb_rr_head(struct rb *b, const char *owner, uint16_t type)
{
	uint8_t name[DNAME_MAX];

	dname_from_text(name, owner);
	wr_name(&b->w, name);
	wr_u16(&b->w, type);
	wr_u16(&b->w, DNS_C_IN);
	wr_u32(&b->w, 300);
	b->an++;
}

static void
rb_cname(struct rb *b, const char *owner, const char *target)
{
	uint8_t name[DNAME_MAX];

	rb_rr_head(b, owner, DNS_T_CNAME);
	size_t at = b->w.off;
	wr_u16(&b->w, 0);
	dname_from_text(name, target);
	wr_name(&b->w, name);
	wr_put_u16(&b->w, at, (uint16_t)(b->w.off - at - 2));
}

static void
rb_a(struct rb *b, const char *owner, const char *ip)
{
	struct addr a;

	addr_parse_ip(&a, ip);
	rb_rr_head(b, owner, a.family == AF_INET ? DNS_T_A : DNS_T_AAAA);
	wr_u16(&b->w, (uint16_t)addr_len(&a));
	wr_bytes(&b->w, a.ip, addr_len(&a));
}

static size_t
rb_end(struct rb *b)
{
	wr_put_u16(&b->w, 6, b->an);
	return b->w.err ? 0 : b->w.off;
}

/* A chain of hops CNAMEs from seed.example.com to c<hops>.example.net, which has A 192.0.2.7. */
static int
chain(int hops, bool loop, size_t *n, struct addr *out)
{
	struct rb b;
	char owner[64], target[64];

	rb_begin(&b, 7, DNS_F_QR | DNS_F_RD | DNS_F_RA, "seed.example.com", DNS_T_A);
	for (int i = 0; i < hops; i++) {
		if (i == 0)
			snprintf(owner, sizeof(owner), "seed.example.com");
		else
			snprintf(owner, sizeof(owner), "c%d.example.net", i);
		if (loop && i == hops - 1)
			snprintf(target, sizeof(target), "seed.example.com");
		else
			snprintf(target, sizeof(target), "c%d.example.net", i + 1);
		rb_cname(&b, owner, target);
	}
	snprintf(owner, sizeof(owner), "c%d.example.net", hops);
	rb_a(&b, owner, "192.0.2.7");
	size_t len = rb_end(&b);
	return resolver_reply_parse(b.buf, len, 7, seed_name, DNS_T_A, out, RESOLVER_MAX_ADDRS, n);
}

static void
test_codec(void)
{
	uint8_t buf[512], want[512];
	struct addr out[RESOLVER_MAX_ADDRS];
	size_t n;
	int wl, rc;

	/* Golden query: ID, RD only, one question, no OPT (RFC 1035 4.1.1, 4.1.2). */
	wl = t_hex("1234 0100 0001 0000 0000 0000" QNAME_OK Q_A, want, sizeof(want));
	size_t len = resolver_query_build(buf, sizeof(buf), 0x1234, seed_name, DNS_T_A);
	CHECK("query A golden", len == (size_t)wl && memcmp(buf, want, len) == 0);
	wl = t_hex("beef 0100 0001 0000 0000 0000" QNAME_OK Q_AAAA, want, sizeof(want));
	len = resolver_query_build(buf, sizeof(buf), 0xbeef, seed_name, DNS_T_AAAA);
	CHECK("query AAAA golden", len == (size_t)wl && memcmp(buf, want, len) == 0);
	CHECK("query does not fit", resolver_query_build(buf, 33, 1, seed_name, DNS_T_A) == 0);
	CHECK("query just fits", resolver_query_build(buf, 34, 1, seed_name, DNS_T_A) == 34);

	rc = parse_hex(HDR_Q("1234", "8180", "0001") Q_A "c00c 0001 0001" TTL "0004 01020304",
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("A", rc == RESOLVER_OK && n == 1 && is_v4(&out[0], "1.2.3.4") && out[0].port == 0);
	rc = parse_hex(HDR_Q("1234", "8180", "0001") Q_AAAA
	               "c00c 001c 0001" TTL "0010 20010db8000000000000000000000001",
	               0x1234, DNS_T_AAAA, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("AAAA", rc == RESOLVER_OK && n == 1 && is_v6(&out[0], "2001:db8::1") && out[0].port == 0);

	const char *three = HDR_Q("0001", "8180", "0003") Q_A
	                    "c00c 0001 0001" TTL "0004 01020301"
	                    "c00c 0001 0001" TTL "0004 01020302"
	                    "c00c 0001 0001" TTL "0004 01020303";
	rc = parse_hex(three, 1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("three A", rc == RESOLVER_OK && n == 3 && is_v4(&out[2], "1.2.3.3"));
	rc = parse_hex(three, 1, DNS_T_A, out, 2, &n);
	CHECK("max addresses", rc == RESOLVER_OK && n == 2 && is_v4(&out[1], "1.2.3.2"));
	rc = parse_hex(three, 1, DNS_T_A, NULL, 0, &n);
	CHECK("max 0 still OK", rc == RESOLVER_OK && n == 0);

	/* seed.example.com CNAME a.example.net (written out), a.example.net A. */
	rc = parse_hex(HDR_Q("0001", "8180", "0002") Q_A
	               "c00c 0005 0001" TTL "000f 0161 076578616d706c65 036e6574 00"
	               "c02e 0001 0001" TTL "0004 05060708",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("CNAME chain", rc == RESOLVER_OK && n == 1 && is_v4(&out[0], "5.6.7.8"));
	/* seed.example.com CNAME www.<ptr example.com>, owner of the A a pointer to it. */
	rc = parse_hex(HDR_Q("0001", "8180", "0002") Q_A
	               "c00c 0005 0001" TTL "0006 03777777 c011"
	               "c02e 0001 0001" TTL "0004 09090909",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("CNAME compressed", rc == RESOLVER_OK && n == 1 && is_v4(&out[0], "9.9.9.9"));
	/* The same with the A first: the chain is followed, not the order. */
	rc = parse_hex(HDR_Q("0001", "8180", "0002") Q_A
	               "03777777 c011 0001 0001" TTL "0004 09090909"
	               "c00c 0005 0001" TTL "0002 c022",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("CNAME after its target", rc == RESOLVER_OK && n == 1 && is_v4(&out[0], "9.9.9.9"));
	/* The CNAME target is longer than RDLENGTH says. */
	rc = parse_hex(HDR_Q("0001", "8180", "0001") Q_A
	               "c00c 0005 0001" TTL "0003 03777777 c011",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("CNAME past RDLENGTH", rc == -1);
	rc = parse_hex(HDR_Q("0001", "8180", "0001") Q_A
	               "c00c 0005 0001" TTL "0007 03777777 c011 00",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("CNAME short of RDLENGTH", rc == -1);
	/* A chain to a name without our type. */
	rc = parse_hex(HDR_Q("0001", "8180", "0001") Q_A
	               "c00c 0005 0001" TTL "0006 03777777 c011",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("CNAME dangling", rc == RESOLVER_NODATA && n == 0);

	CHECK("chain 1 hop", chain(1, false, &n, out) == RESOLVER_OK && n == 1 && is_v4(&out[0], "192.0.2.7"));
	CHECK("chain at the cap", chain(RESOLVER_CHAIN_MAX, false, &n, out) == RESOLVER_OK && n == 1);
	CHECK("chain over the cap", chain(RESOLVER_CHAIN_MAX + 1, false, &n, out) == RESOLVER_FAILED && n == 0);
	CHECK("CNAME loop of 2", chain(2, true, &n, out) == RESOLVER_FAILED && n == 0);
	CHECK("CNAME to itself", chain(1, true, &n, out) == RESOLVER_FAILED && n == 0);

	/* Records of other names, types and classes are skipped. */
	struct rb b;
	rb_begin(&b, 9, DNS_F_QR | DNS_F_RA, "seed.example.com", DNS_T_A);
	rb_a(&b, "other.example.com", "6.6.6.6");
	rb_cname(&b, "other.example.com", "seed.example.com");
	rb_a(&b, "seed.example.com", "2001:db8::6");
	rb_a(&b, "seed.example.com", "192.0.2.9");
	rb_a(&b, "x.seed.example.com", "6.6.6.7");
	len = rb_end(&b);
	rc = resolver_reply_parse(b.buf, len, 9, seed_name, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("other names skipped", rc == RESOLVER_OK && n == 1 && is_v4(&out[0], "192.0.2.9"));
	rc = resolver_reply_parse(b.buf, len, 9, seed_name, DNS_T_AAAA, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("other question type", rc == -1);
	rc = parse_hex(HDR_Q("0001", "8180", "0001") Q_A "c00c 0001 0003" TTL "0004 01020304",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("class CH skipped", rc == RESOLVER_NODATA && n == 0);
	rc = parse_hex(HDR_Q("0001", "8180", "0001") Q_A
	               "05 7065657273 c011 0001 0001" TTL "0004 01020304",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("only another name", rc == RESOLVER_NODATA && n == 0);

	/* RDLENGTH not that of an address: skipped, not taken in part. */
	rc = parse_hex(HDR_Q("0001", "8180", "0002") Q_A
	               "c00c 0001 0001" TTL "0005 0102030405"
	               "c00c 0001 0001" TTL "0004 0a000001",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("bad RDLENGTH skipped", rc == RESOLVER_OK && n == 1 && is_v4(&out[0], "10.0.0.1"));
	rc = parse_hex(HDR_Q("0001", "8180", "0001") Q_AAAA "c00c 001c 0001" TTL "0004 01020304",
	               1, DNS_T_AAAA, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("AAAA of 4 bytes", rc == RESOLVER_NODATA && n == 0);
	rc = parse_hex(HDR_Q("0001", "8180", "0001") Q_A "c00c 0001 0001" TTL "0010 01020304",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("RDLENGTH past the end", rc == -1);
	rc = parse_hex(HDR_Q("0001", "8180", "0001") Q_A "c0ff 0001 0001" TTL "0004 01020304",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("forward pointer in owner", rc == -1);
	rc = parse_hex(HDR_Q("0001", "8180", "0002") Q_A "c00c 0001 0001" TTL "0004 01020304",
	               1, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("ANCOUNT too high", rc == -1 && n == 0);

	/* Not a reply to our question: ignored (-1). */
	const char *good = HDR_Q("1234", "8180", "0001") Q_A "c00c 0001 0001" TTL "0004 01020304";
	CHECK("wrong ID", parse_hex(good, 0x1235, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n) == -1);
	CHECK("wrong ID (byte swap)", parse_hex(good, 0x3412, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n) == -1);
	rc = parse_hex(HDR_Q("1234", "0180", "0001") Q_A "c00c 0001 0001" TTL "0004 01020304",
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("QR clear", rc == -1);
	rc = parse_hex(HDR_Q("1234", "8980", "0001") Q_A "c00c 0001 0001" TTL "0004 01020304",
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("opcode 1", rc == -1);
	rc = parse_hex("1234 8180 0001 0001 0000 0000 0473656564 076578616d706c66 03636f6d00" Q_A
	               "c00c 0001 0001" TTL "0004 01020304",
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("other question name", rc == -1);
	rc = parse_hex(HDR_Q("1234", "8180", "0001") "00010003" "c00c 0001 0003" TTL "0004 01020304",
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("question class CH", rc == -1);
	rc = parse_hex("1234 8180 0000 0000 0000 0000", 0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("no question", rc == -1);
	rc = parse_hex("1234 8180 0002 0000 0000 0000" QNAME_OK Q_A QNAME_OK Q_A,
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("two questions", rc == -1);
	rc = parse_hex("1234 8180 0001 0001 0000 0000 0453454544 076558414d504c45 03434f4d00" Q_A
	               "c00c 0001 0001" TTL "0004 01020304",
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("question case ignored", rc == RESOLVER_OK && n == 1);

	/* Every strict prefix of a good reply is ignored. */
	uint8_t pkt[512];
	int plen = t_hex(good, pkt, sizeof(pkt));
	bool all = true;
	for (int i = 0; i < plen; i++)
		if (resolver_reply_parse(pkt, (size_t)i, 0x1234, seed_name, DNS_T_A, out,
		                         RESOLVER_MAX_ADDRS, &n) != -1 || n != 0)
			all = false;
	CHECK("truncated packets", all);
	CHECK("whole packet", resolver_reply_parse(pkt, (size_t)plen, 0x1234, seed_name, DNS_T_A, out,
	                                           RESOLVER_MAX_ADDRS, &n) == RESOLVER_OK);

	rc = parse_hex(HDR_Q("1234", "8380", "0001") Q_A "c00c 0001 0001" TTL "0004 01020304",
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("TC", rc == RESOLVER_FAILED && n == 0);
	rc = parse_hex(HDR_Q("1234", "8183", "0000") Q_A, 0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("NXDOMAIN", rc == RESOLVER_NXDOMAIN && n == 0);
	rc = parse_hex(HDR_Q("1234", "8180", "0000") Q_A, 0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("NODATA", rc == RESOLVER_NODATA && n == 0);
	rc = parse_hex(HDR_Q("1234", "8182", "0000") Q_A, 0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("SERVFAIL", rc == RESOLVER_FAILED && n == 0);
	rc = parse_hex(HDR_Q("1234", "8185", "0000") Q_A, 0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("REFUSED", rc == RESOLVER_FAILED);
	rc = parse_hex(HDR_Q("1234", "8182", "0001") Q_A "c00c 0001 0001" TTL "0004 01020304",
	               0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("SERVFAIL with an answer", rc == RESOLVER_FAILED && n == 0);
	rc = parse_hex("1234 81", 0x1234, DNS_T_A, out, RESOLVER_MAX_ADDRS, &n);
	CHECK("short header", rc == -1);
	CHECK("qtype not A/AAAA", parse_hex(good, 0x1234, DNS_T_MX, out, RESOLVER_MAX_ADDRS, &n) == -1);
}

static void
test_conf(void)
{
	struct addr a;

#define CONF(name, text, want)                                                        \
	CHECK(name, resolver_conf_parse(text, strlen(text), &a) == 0 && a.port == 53 && \
	            (strchr(want, ':') ? is_v6(&a, want) : is_v4(&a, want)))

	CONF("conf simple", "nameserver 9.9.9.9\n", "9.9.9.9");
	CONF("conf first of two", "nameserver 9.9.9.9\nnameserver 1.1.1.1\n", "9.9.9.9");
	CONF("conf comments", "# nameserver 1.1.1.1\n; nameserver 2.2.2.2\nsearch x\nnameserver 3.3.3.3 # x\n",
	     "3.3.3.3");
	CONF("conf IPv6", "options edns0\nnameserver 2001:4860:4860::8888\n", "2001:4860:4860::8888");
	CONF("conf scope skipped", "nameserver fe80::1%eth0\nnameserver 8.8.8.8\n", "8.8.8.8");
	CONF("conf junk skipped", "nameserver bogus.example\nnameserver 1.0.0.1", "1.0.0.1");
	CONF("conf tab, CRLF", "nameserver\t \t10.0.0.1\r\n", "10.0.0.1");
	CONF("conf semicolon", "nameserver 10.0.0.2;comment\n", "10.0.0.2");
	CONF("conf trailing words", "nameserver 10.0.0.3 10.0.0.4\n", "10.0.0.3");
	CHECK("conf none", resolver_conf_parse("search example.com\noptions ndots:1\n", 35, &a) == -1);
	CHECK("conf empty", resolver_conf_parse("", 0, &a) == -1);
	CHECK("conf keyword alone", resolver_conf_parse("nameserver\nnameserver \n", 23, &a) == -1);
	CHECK("conf no blank", resolver_conf_parse("nameserver1.2.3.4\n", 18, &a) == -1);
	CHECK("conf indented (glibc ignores)", resolver_conf_parse(" nameserver 1.2.3.4\n", 20, &a) == -1);
	CHECK("conf commented", resolver_conf_parse("#nameserver 1.2.3.4\n", 20, &a) == -1);
	/* (pointer, length): nothing read past len, no NUL needed. */
	CHECK("conf length bound", resolver_conf_parse("nameserver 1.2.3.45", 18, &a) == 0 && is_v4(&a, "1.2.3.4"));
	CHECK("conf long token", resolver_conf_parse("nameserver 1111111111111111111111111111111111111111111111111111111111111111111\n",
	                                             79, &a) == -1);
#undef CONF
}

void
test_resolver(void)
{
	test_codec();
	test_conf();
}
