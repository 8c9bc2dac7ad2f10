/*
 * zone/xfr: versions, requests and the AXFR/IXFR message stream. Every
 * stream is read back with dns/wire.h's reader (xfr_decode.h) and compared
 * with records computed here from the zone, not by xfr.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "dns/wire.h"
#include "zone/xfr.h"
#include "t.h"
#include "xfr_decode.h"

#define ID 0x4242

static uint8_t apex[DNAME_MAX];
static struct rng rng;
static uint8_t qbuf[2048];

static void
add_row(struct zone_rr *rr, size_t *n, const char *name, const char *value)
{
	struct addr a;
	struct zone_rr *r = &rr[(*n)++];

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
	r->line = (uint32_t)*n;
}

static void
node4(uint8_t ip[4], unsigned i, unsigned prefixes)
{
	unsigned p = i % prefixes, h = i / prefixes;

	ip[0] = (uint8_t)(11 + p / 250);
	ip[1] = (uint8_t)(p % 250);
	ip[2] = (uint8_t)(h >> 8);
	ip[3] = (uint8_t)(h + 1);
}

static void
node6(uint8_t ip[16], unsigned i, unsigned prefixes)
{
	unsigned p = i % prefixes, h = i / prefixes;

	memset(ip, 0, 16);
	ip[0] = 0x2a;
	ip[1] = 0x01;
	ip[2] = (uint8_t)(p >> 8);
	ip[3] = (uint8_t)p;
	ip[14] = (uint8_t)(h >> 8);
	ip[15] = (uint8_t)(h + 1);
}

/* seed.test: a few named rows, nhosts host rows, n4 and n6 nodes over the given prefixes. */
static void
make_zone(struct zone *z, size_t nhosts, unsigned n4, unsigned n6, unsigned prefixes)
{
	struct zone_rr *rr = calloc(nhosts + 8, sizeof(*rr));
	size_t n = 0;
	char name[64], value[64];
	struct addr a;

	dname_from_text(apex, "seed.test");
	zone_init(z, apex, 100000, 42);
	dname_from_text(z->soa.mname, "ns1.seed.test");
	dname_from_text(z->soa.rname, "hostmaster.seed.test");
	z->soa.serial = 1;
	z->soa.refresh = 600;
	z->soa.retry = 300;
	z->soa.expire = 86400;
	z->soa.minimum = 60;
	z->node_ttl = 60;
	z->answers = 25;
	add_row(rr, &n, "ns1.seed.test", "192.0.2.53");
	add_row(rr, &n, "ns1.seed.test", "2001:db8::53");
	add_row(rr, &n, "www.seed.test", "seed.test");
	add_row(rr, &n, "out.seed.test", "example.org");
	add_row(rr, &n, "a.b.seed.test", "192.0.2.1");
	for (size_t i = 0; i < nhosts; i++) {
		snprintf(name, sizeof(name), "h%zu.seed.test", i);
		if (i % 2)
			snprintf(value, sizeof(value), "198.51.%zu.%zu", i >> 8 & 255, i & 255);
		else
			snprintf(value, sizeof(value), "2001:db8:1::%zx", i);
		add_row(rr, &n, name, value);
	}
	zone_set_static(z, rr, n);
	for (unsigned i = 0; i < n4; i++) {
		a.family = AF_INET;
		node4(a.ip, i, prefixes);
		zone_node_add(z, &a);
	}
	for (unsigned i = 0; i < n6; i++) {
		a.family = AF_INET6;
		node6(a.ip, i, prefixes);
		zone_node_add(z, &a);
	}
}

/* An AXFR or IXFR request; serial < 0: no SOA in the authority section. */
static size_t
request(uint16_t id, const char *name, uint16_t type, uint16_t cls, int64_t serial, bool edns)
{
	struct wr w;
	uint8_t wire[DNAME_MAX];

	dname_from_text(wire, name);
	wr_init(&w, qbuf, sizeof(qbuf));
	wr_u16(&w, id);
	wr_u16(&w, 0);
	wr_u16(&w, 1);
	wr_u16(&w, 0);
	wr_u16(&w, serial >= 0 ? 1 : 0);
	wr_u16(&w, edns ? 1 : 0);
	wr_bytes(&w, wire, dname_len(wire));
	wr_u16(&w, type);
	wr_u16(&w, cls);
	if (serial >= 0) {
		/* as dig sends it: the owner a pointer to the question, root MNAME and RNAME */
		wr_ptr(&w, DNS_HDR);
		wr_u16(&w, DNS_T_SOA);
		wr_u16(&w, DNS_C_IN);
		wr_u32(&w, 0);
		wr_u16(&w, 22);
		wr_u8(&w, 0);
		wr_u8(&w, 0);
		wr_u32(&w, (uint32_t)serial);
		for (int i = 0; i < 4; i++)
			wr_u32(&w, 0);
	}
	if (edns) {
		wr_u8(&w, 0);
		wr_u16(&w, DNS_T_OPT);
		wr_u16(&w, 4096);
		wr_u32(&w, 0);
		wr_u16(&w, 0);
	}
	return w.off;
}

/* A whole transfer of x for an AXFR (serial < 0) or an IXFR from serial, into l. */
static long
transfer(struct xfr *x, int64_t serial, size_t cap, bool edns, struct xd_list *l, enum xfr_kind *kind)
{
	struct xfr_request rq;
	struct xfr_stream s;
	const char *why;
	size_t len = request(ID, "seed.test", serial < 0 ? DNS_T_AXFR : DNS_T_IXFR, DNS_C_IN, serial, edns);

	if (xfr_parse_request(qbuf, len, apex, &rq) != XFR_REQ_OK || xfr_stream_start(&s, x, &rq) < 0)
		return -1;
	*kind = s.kind;
	long n = xd_stream(&s, cap, ID, rq.question, rq.qlen, edns, l, &why);
	if (n < 0)
		printf("# transfer: %s\n", why);
	if (n > 0 && (s.messages != (size_t)n || s.records != l->n))
		n = -1;
	xfr_stream_end(&s);
	return n;
}

/* A full transfer: SOA(serial), records, the same SOA; body: the records between, sorted and distinct. */
static bool
full_body(const struct xd_list *l, uint32_t serial, struct xd_list *body)
{
	if (l->n < 2 || xd_type(&l->r[0]) != DNS_T_SOA || xd_serial(&l->r[0]) != serial ||
	    xd_cmp(&l->r[0], &l->r[l->n - 1]) != 0)
		return false;
	for (size_t i = 1; i + 1 < l->n; i++) {
		if (xd_type(&l->r[i]) == DNS_T_SOA)
			return false;
		*xd_push(body) = l->r[i];
	}
	xd_sort(body);
	return xd_distinct(body);
}

/* RFC 1995 4: SOA(new), SOA(old), deleted, SOA(new), added, SOA(new); del and add sorted. */
static bool
diff_parts(const struct xd_list *l, uint32_t new, uint32_t old, struct xd_list *del, struct xd_list *add)
{
	size_t i = 2;

	if (l->n < 4 || xd_type(&l->r[0]) != DNS_T_SOA || xd_serial(&l->r[0]) != new ||
	    xd_type(&l->r[1]) != DNS_T_SOA || xd_serial(&l->r[1]) != old)
		return false;
	for (; i < l->n && xd_type(&l->r[i]) != DNS_T_SOA; i++)
		*xd_push(del) = l->r[i];
	if (i >= l->n || xd_cmp(&l->r[i], &l->r[0]) != 0)
		return false;
	for (i++; i < l->n && xd_type(&l->r[i]) != DNS_T_SOA; i++)
		*xd_push(add) = l->r[i];
	if (i != l->n - 1 || xd_cmp(&l->r[i], &l->r[0]) != 0)
		return false;
	xd_sort(del);
	xd_sort(add);
	return xd_distinct(del) && xd_distinct(add);
}

/* The NS and static records answers give, from the zone itself. */
static void
expect_static(const struct zone *z, struct xd_list *l)
{
	int nns = z->nns > 0 ? z->nns : 1;
	const uint8_t(*ns)[DNAME_MAX] = z->nns > 0 ? z->ns : &z->soa.mname;

	for (int i = 0; i < nns; i++)
		xd_make(xd_push(l), z->apex, DNS_T_NS, ZONE_STATIC_TTL, ns[i], dname_len(ns[i]));
	for (size_t i = 0; i < z->nrr; i++)
		xd_make(xd_push(l), z->rr[i].name, z->rr[i].type, ZONE_STATIC_TTL, z->rr[i].rdata,
		        z->rr[i].rdlen);
	xd_sort(l);
}

/* The current version's body, checked as a whole transfer; empty on failure. */
static bool
axfr_body(struct xfr *x, size_t cap, struct xd_list *body)
{
	struct xd_list l = { 0 };
	struct xfr_info info;
	enum xfr_kind k;

	bool ok = xfr_current(x, &info) && transfer(x, -1, cap, false, &l, &k) > 0 && k == XFR_AXFR &&
	          full_body(&l, info.serial, body) && l.n == info.records;
	xd_free(&l);
	return ok;
}

/* Records at owner of type t: how many, all with TTL ttl, all node addresses of z. */
static size_t
count_at(const struct xd_list *l, const uint8_t *owner, uint16_t t, uint32_t ttl, struct zone *z, bool *ok)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (!xd_owner_is(&l->r[i], owner) || xd_type(&l->r[i]) != t)
			continue;
		size_t rl;
		const uint8_t *rd = xd_rdata(&l->r[i], &rl);
		*ok = *ok && xd_ttl(&l->r[i]) == ttl && rl == (t == DNS_T_A ? 4u : 16u) &&
		      nodeset_has(zone_nodes(z, t == DNS_T_A ? AF_INET : AF_INET6), rd);
		n++;
	}
	return n;
}

/* Distinct /16 (A) or /32 (AAAA) prefixes among the records at owner. */
static size_t
prefixes_at(const struct xd_list *l, const uint8_t *owner, uint16_t t)
{
	uint32_t seen[XFR_SAMPLE_MAX];
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (!xd_owner_is(&l->r[i], owner) || xd_type(&l->r[i]) != t)
			continue;
		size_t rl;
		const uint8_t *rd = xd_rdata(&l->r[i], &rl);
		uint32_t p = t == DNS_T_A ? (uint32_t)rd[0] << 8 | rd[1]
		                          : (uint32_t)rd[0] << 24 | (uint32_t)rd[1] << 16 | (uint32_t)rd[2] << 8 | rd[3];
		size_t k = 0;
		while (k < n && seen[k] != p)
			k++;
		if (k == n && n < XFR_SAMPLE_MAX)
			seen[n++] = p;
	}
	return n;
}

static void
test_serial(void)
{
	struct zone z;
	struct xfr x;
	struct xfr_info info;

	CHECK("serial gt", xfr_serial_gt(2, 1) && !xfr_serial_gt(1, 2) && !xfr_serial_gt(1, 1));
	CHECK("serial gt wraps", xfr_serial_gt(0, 0xffffffffu) && xfr_serial_gt(5, 0xfffffff0u) &&
	                             !xfr_serial_gt(0xfffffff0u, 5));
	CHECK("serial gt 2^31 apart is undefined", !xfr_serial_gt(0x80000000u, 0) && !xfr_serial_gt(0, 0x80000000u) &&
	                                               xfr_serial_gt(0x7fffffffu, 0));
	make_zone(&z, 4, 30, 10, 10);
	xfr_init(&x);
	CHECK("first version: any serial", xfr_new_version(&x, &z, &rng, 5, 0xfffffff0u) == 0);
	CHECK("same serial refused", xfr_new_version(&x, &z, &rng, 5, 0xfffffff0u) == XFR_E_SERIAL);
	CHECK("lower serial refused", xfr_new_version(&x, &z, &rng, 5, 0xffffff00u) == XFR_E_SERIAL);
	CHECK("2^31 ahead refused", xfr_new_version(&x, &z, &rng, 5, 0x7ffffff0u) == XFR_E_SERIAL);
	CHECK("refusals change nothing", xfr_current(&x, &info) && info.serial == 0xfffffff0u && info.versions == 1);
	CHECK("serial wraps past 0", xfr_new_version(&x, &z, &rng, 5, 3) == 0 && xfr_current(&x, &info) &&
	                                 info.serial == 3 && info.versions == 2);
	for (uint32_t s = 4; s < 20; s++)
		xfr_new_version(&x, &z, &rng, 5, s);
	CHECK("history is bounded", xfr_current(&x, &info) && info.serial == 19 && info.versions == XFR_HISTORY);
	xfr_free(&x);
	CHECK("freed", !xfr_current(&x, &info));
	zone_free(&z);
}

static void
test_versions(void)
{
	struct zone z;
	struct xfr x;
	struct xfr_info info;
	struct xd_list body = { 0 }, st = { 0 }, sample = { 0 }, extra = { 0 };
	uint8_t wname[DNAME_MAX] = { 1, '*' };
	bool ok = true;

	make_zone(&z, 50, 500, 200, 100);
	memcpy(wname + 2, apex, dname_len(apex));
	xfr_init(&x);
	CHECK("no version yet", xfr_static_changed(&x, &z) && !xfr_current(&x, &info) && xfr_sample_gone(&x, &z) == 0);
	CHECK("version", xfr_new_version(&x, &z, &rng, 25, 100) == 0);
	CHECK("info", xfr_current(&x, &info) && info.serial == 100 && info.sample4 == 25 && info.sample6 == 25 &&
	                  info.versions == 1 && info.records == 2 + 1 + 55 + 50);
	CHECK("static unchanged", !xfr_static_changed(&x, &z));
	CHECK("axfr", axfr_body(&x, 65535, &body));
	expect_static(&z, &st);
	xd_minus(&body, &st, &sample);
	xd_minus(&st, &body, &extra);
	CHECK("every static row and the NS (MNAME) present", extra.n == 0 && st.n == 1 + 55);
	CHECK("the rest is the sample", sample.n == 50 && count_at(&sample, apex, DNS_T_A, 60, &z, &ok) == 25 &&
	                                    count_at(&sample, apex, DNS_T_AAAA, 60, &z, &ok) == 25 && ok);
	CHECK("sample: distinct prefixes", prefixes_at(&sample, apex, DNS_T_A) == 25 &&
	                                       prefixes_at(&sample, apex, DNS_T_AAAA) == 25);

	/* A sampled node withdrawn from the zone. */
	size_t rl;
	const uint8_t *rd = xd_rdata(&sample.r[0], &rl);
	struct addr a = { .family = rl == 4 ? AF_INET : AF_INET6 };
	memcpy(a.ip, rd, rl);
	zone_node_del(&z, &a);
	CHECK("sample gone", xfr_sample_gone(&x, &z) == 1 && !xfr_static_changed(&x, &z));
	zone_node_add(&z, &a);

	/* --ns: those names, not the MNAME. */
	z.nns = 2;
	dname_from_text(z.ns[0], "ns.example.net");
	dname_from_text(z.ns[1], "ns1.seed.test");
	CHECK("ns change seen", xfr_static_changed(&x, &z));
	xd_free(&body);
	xd_free(&st);
	xfr_new_version(&x, &z, &rng, 25, 101);
	CHECK("ns axfr", axfr_body(&x, 65535, &body));
	expect_static(&z, &st);
	xd_free(&extra);
	xd_minus(&st, &body, &extra);
	size_t nns = 0;
	for (size_t i = 0; i < body.n; i++)
		nns += xd_type(&body.r[i]) == DNS_T_NS;
	CHECK("ns: the two names", extra.n == 0 && nns == 2);

	/* --wildcard: the sample again at *.<apex>. */
	z.wildcard = true;
	CHECK("wildcard change seen", xfr_static_changed(&x, &z));
	xfr_new_version(&x, &z, &rng, 25, 102);
	xd_free(&body);
	CHECK("wildcard axfr", axfr_body(&x, 65535, &body));
	ok = true;
	size_t wa = count_at(&body, wname, DNS_T_A, 60, &z, &ok), w6 = count_at(&body, wname, DNS_T_AAAA, 60, &z, &ok);
	bool same = true;
	for (size_t i = 0; i < body.n; i++) {
		if (!xd_owner_is(&body.r[i], wname))
			continue;
		/* its twin at the apex */
		struct xd_rec twin;
		const uint8_t *wd = xd_rdata(&body.r[i], &rl);
		xd_make(&twin, apex, xd_type(&body.r[i]), 60, wd, rl);
		same = same && bsearch(&twin, body.r, body.n, sizeof(twin), xd_cmp) != NULL;
	}
	CHECK("wildcard copies", ok && wa == 25 && w6 == 25 && same && xfr_current(&x, &info) &&
	                             info.records == 2 + 2 + 55 + 100);

	/* A static row owning *.<apex>: no copies. */
	struct zone_rr *rr = calloc(z.nrr + 1, sizeof(*rr));
	memcpy(rr, z.rr, z.nrr * sizeof(*rr));
	size_t n = z.nrr;
	add_row(rr, &n, "x.seed.test", "192.0.2.99");
	memcpy(rr[n - 1].name, wname, dname_len(wname));
	zone_set_static(&z, rr, n);
	CHECK("static row change seen", xfr_static_changed(&x, &z));
	xfr_new_version(&x, &z, &rng, 25, 103);
	xd_free(&body);
	CHECK("owned wildcard axfr", axfr_body(&x, 65535, &body));
	ok = true;
	size_t at_w = 0;
	for (size_t i = 0; i < body.n; i++)
		at_w += xd_owner_is(&body.r[i], wname);
	CHECK("owned wildcard: the row only", at_w == 1 && xfr_current(&x, &info) && info.records == 2 + 2 + 56 + 50);

	/* What xfr_static_changed watches, and what it does not. */
	z.soa.serial++;
	CHECK("soa serial alone: no change", !xfr_static_changed(&x, &z));
	z.soa.refresh++;
	CHECK("soa refresh: change", xfr_static_changed(&x, &z));
	z.soa.refresh--;
	z.node_ttl = 61;
	CHECK("node ttl: change", xfr_static_changed(&x, &z));
	z.node_ttl = 60;
	z.rr[3].rdata[1] ^= 1;
	CHECK("row rdata: change", xfr_static_changed(&x, &z));
	z.rr[3].rdata[1] ^= 1;
	CHECK("all back: no change", !xfr_static_changed(&x, &z));
	/* Rows of the apex are node rows to answers: not transferred, no change. */
	memcpy(z.rr[0].name, apex, dname_len(apex));
	CHECK("apex row: a change of rows", xfr_static_changed(&x, &z));
	xfr_new_version(&x, &z, &rng, 25, 104);
	xd_free(&body);
	CHECK("apex row axfr", axfr_body(&x, 65535, &body));
	ok = true;
	CHECK("apex row not sent", count_at(&body, apex, DNS_T_A, 60, &z, &ok) == 25 && ok &&
	                               xfr_current(&x, &info) && info.records == 2 + 2 + 55 + 50);
	xfr_free(&x);
	zone_free(&z);

	/* Fewer prefixes than N, fewer nodes than N, N = 0, N over the cap. */
	make_zone(&z, 0, 1500, 40, 4);
	xfr_init(&x);
	xfr_new_version(&x, &z, &rng, 10, 1);
	xd_free(&body);
	ok = axfr_body(&x, 65535, &body);
	CHECK("few prefixes", ok && count_at(&body, apex, DNS_T_A, 60, &z, &ok) == 10 && ok &&
	                          prefixes_at(&body, apex, DNS_T_A) == 4 && prefixes_at(&body, apex, DNS_T_AAAA) == 4);
	xfr_new_version(&x, &z, &rng, 100, 2);
	CHECK("fewer nodes than N", xfr_current(&x, &info) && info.sample4 == 100 && info.sample6 == 40);
	xfr_new_version(&x, &z, &rng, 0, 3);
	CHECK("N = 0", xfr_current(&x, &info) && info.sample4 == 0 && info.sample6 == 0 && info.records == 2 + 1 + 5);
	xfr_new_version(&x, &z, &rng, 5000, 4);
	CHECK("N capped", xfr_current(&x, &info) && info.sample4 == XFR_SAMPLE_MAX && info.sample6 == 40);
	xfr_free(&x);
	zone_free(&z);
	xd_free(&body);
	xd_free(&st);
	xd_free(&sample);
	xd_free(&extra);
}

static void
test_axfr(void)
{
	struct zone z;
	struct xfr x;
	struct xfr_info info;
	struct xd_list l = { 0 }, body = { 0 }, ref = { 0 }, st = { 0 }, extra = { 0 }, sample = { 0 };
	enum xfr_kind k;
	bool ok = true;

	make_zone(&z, 3000, 500, 300, 120);
	z.wildcard = true;
	xfr_init(&x);
	xfr_new_version(&x, &z, &rng, 200, 7);
	xfr_current(&x, &info);
	CHECK("large: reference", axfr_body(&x, 65535, &ref) && ref.n == info.records - 2);
	expect_static(&z, &st);
	xd_minus(&st, &ref, &extra);
	xd_minus(&ref, &st, &sample);
	uint8_t wname[DNAME_MAX] = { 1, '*' };
	memcpy(wname + 2, apex, dname_len(apex));
	CHECK("large: static rows, NS, sample, copies", extra.n == 0 && sample.n == 800 &&
	                                                  count_at(&sample, apex, DNS_T_A, 60, &z, &ok) == 200 &&
	                                                  count_at(&sample, wname, DNS_T_AAAA, 60, &z, &ok) == 200 && ok);

	static const size_t caps[] = { 65535, 16384, 4096 - 100, XFR_MSG_MIN };
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		for (int edns = 0; edns < 2; edns++) {
			char name[80];
			xd_free(&l);
			xd_free(&body);
			long n = transfer(&x, -1, caps[c], edns, &l, &k);
			snprintf(name, sizeof(name), "large axfr cap %zu%s", caps[c], edns ? " edns" : "");
			/* xd_stream checked: every message <= cap, parses whole, header, question first only, OPT */
			CHECK(name, n > 1 && k == XFR_AXFR && full_body(&l, 7, &body) && xd_same(&body, &ref));
		}
	}
	/* Compression: the messages hold less than the records written out in full. */
	struct xfr_request rq;
	struct xfr_stream s;
	static uint8_t m[65535];
	size_t total = 0, full = 0, len;
	xfr_parse_request(qbuf, request(ID, "seed.test", DNS_T_AXFR, DNS_C_IN, -1, false), apex, &rq);
	xfr_stream_start(&s, &x, &rq);
	while ((len = xfr_stream_next(&s, m, sizeof(m))) > 0)
		total += len;
	for (size_t i = 0; i < ref.n; i++)
		full += ref.r[i].len + 2u;
	CHECK("names compressed", total > 0 && total < full * 8 / 10);
	printf("# axfr of %zu records: %zu bytes in %zu messages (uncompressed records %zu bytes)\n", ref.n + 2,
	       total, s.messages, full);

	/* Caps too small for a record: the stream fails, and says so. */
	xfr_stream_start(&s, &x, &rq);
	CHECK("cap under a header", xfr_stream_next(&s, m, 11) == 0 && xfr_stream_failed(&s));
	xfr_stream_end(&s);
	xfr_stream_start(&s, &x, &rq);
	CHECK("cap under the first record", xfr_stream_next(&s, m, 40) == 0 && xfr_stream_failed(&s) &&
	                                        xfr_stream_next(&s, m, 65535) == 0);
	xfr_stream_end(&s);
	xfr_stream_end(&s);
	xfr_free(&x);
	zone_free(&z);

	/* The longest names: XFR_MSG_MIN still holds the SOA. */
	static const char *l63a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char *l63b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	static const char *l63c = "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
	static const char *l61 = "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
	char t[300];
	make_zone(&z, 0, 200, 3, 3);
	snprintf(t, sizeof(t), "%s.%s.%s.%s", l63a, l63a, l63a, l61);
	dname_from_text(z.apex, t);
	memcpy(apex, z.apex, DNAME_MAX);
	snprintf(t, sizeof(t), "%s.%s.%s.%.61s", l63b, l63b, l63b, l63b);
	dname_from_text(z.soa.mname, t);
	snprintf(t, sizeof(t), "%s.%s.%s.%.61s", l63c, l63c, l63c, l63c);
	dname_from_text(z.soa.rname, t);
	zone_set_static(&z, NULL, 0);
	xfr_init(&x);
	xfr_new_version(&x, &z, &rng, 200, 9);
	CHECK("255-byte names", dname_len(z.apex) == 255 && dname_len(z.soa.mname) == 255 &&
	                            dname_len(z.soa.rname) == 255);
	dname_to_text(z.apex, t, sizeof(t));
	xd_free(&l);
	size_t qlen = request(ID, t, DNS_T_AXFR, DNS_C_IN, -1, true);
	xfr_parse_request(qbuf, qlen, apex, &rq);
	xfr_stream_start(&s, &x, &rq);
	const char *why;
	long n = xd_stream(&s, XFR_MSG_MIN, ID, rq.question, rq.qlen, true, &l, &why);
	if (n < 0)
		printf("# longest names: %s\n", why);
	CHECK("longest names fit XFR_MSG_MIN", n >= 2 && l.n == 2 + 1 + 203);
	xfr_stream_end(&s);
	/* The first message's worst case: header, a 259-byte question, the SOA (its owner a pointer), OPT. */
	qlen = request(ID, t, DNS_T_IXFR, DNS_C_IN, 9, true);
	xfr_parse_request(qbuf, qlen, apex, &rq);
	xfr_stream_start(&s, &x, &rq);
	size_t worst = DNS_HDR + 259 + 2 + 10 + 255 + 255 + 20 + 11;
	CHECK("one byte short of the worst SOA", xfr_stream_next(&s, m, worst - 1) == 0 && xfr_stream_failed(&s));
	xfr_stream_end(&s);
	xfr_stream_start(&s, &x, &rq);
	CHECK("the worst SOA", s.kind == XFR_IXFR_UPTODATE && xfr_stream_next(&s, m, worst) == worst &&
	                           worst <= XFR_MSG_MIN);
	xfr_stream_end(&s);
	xfr_free(&x);
	zone_free(&z);
	dname_from_text(apex, "seed.test");

	xd_free(&l);
	xd_free(&body);
	xd_free(&ref);
	xd_free(&st);
	xd_free(&extra);
	xd_free(&sample);
}

/* An IXFR from `from`: a condensed difference equal to the difference of the two full bodies. */
static bool
ixfr_diff_ok(struct xfr *x, uint32_t from, uint32_t to, const struct xd_list *old, const struct xd_list *new,
             size_t cap, size_t *ndel, size_t *nadd, bool *only_sample)
{
	struct xd_list l = { 0 }, del = { 0 }, add = { 0 }, wdel = { 0 }, wadd = { 0 };
	enum xfr_kind k;

	bool ok = transfer(x, from, cap, false, &l, &k) > 0 && k == XFR_IXFR_DIFF &&
	          diff_parts(&l, to, from, &del, &add);
	xd_minus(old, new, &wdel);
	xd_minus(new, old, &wadd);
	ok = ok && xd_same(&del, &wdel) && xd_same(&add, &wadd);
	*ndel = del.n;
	*nadd = add.n;
	*only_sample = true;
	for (size_t i = 0; i < del.n + add.n; i++) {
		const struct xd_rec *r = i < del.n ? &del.r[i] : &add.r[i - del.n];
		*only_sample = *only_sample && (xd_type(r) == DNS_T_A || xd_type(r) == DNS_T_AAAA) &&
		               xd_ttl(r) != ZONE_STATIC_TTL;
	}
	xd_free(&l);
	xd_free(&del);
	xd_free(&add);
	xd_free(&wdel);
	xd_free(&wadd);
	return ok;
}

static void
test_ixfr(void)
{
	struct zone z;
	struct xfr x;
	struct xd_list l = { 0 }, b[8] = { { 0 } }, body = { 0 };
	enum xfr_kind k;
	size_t nd, na;
	bool only;

	make_zone(&z, 200, 400, 100, 60);
	xfr_init(&x);
	xfr_new_version(&x, &z, &rng, 25, 10);
	axfr_body(&x, 65535, &b[0]);
	CHECK("ixfr current: one SOA", transfer(&x, 10, 65535, false, &l, &k) == 1 && k == XFR_IXFR_UPTODATE &&
	                                  l.n == 1 && xd_type(&l.r[0]) == DNS_T_SOA && xd_serial(&l.r[0]) == 10);
	xd_free(&l);
	CHECK("ixfr newer: one SOA (RFC 1995 2)", transfer(&x, 11, 65535, false, &l, &k) == 1 &&
	                                               k == XFR_IXFR_UPTODATE && l.n == 1 && xd_serial(&l.r[0]) == 10);
	xd_free(&l);

	/* A rotation: only addresses change. */
	xfr_new_version(&x, &z, &rng, 25, 11);
	axfr_body(&x, 65535, &b[1]);
	CHECK("rotation", ixfr_diff_ok(&x, 10, 11, &b[0], &b[1], 65535, &nd, &na, &only) && only && nd > 0 &&
	                      nd == na && nd <= 50);
	CHECK("rotation, small cap", ixfr_diff_ok(&x, 10, 11, &b[0], &b[1], XFR_MSG_MIN, &nd, &na, &only));

	/* More rotations and a static edit between: one condensed difference. */
	xfr_new_version(&x, &z, &rng, 25, 12);
	axfr_body(&x, 65535, &b[2]);
	struct zone_rr *rr = calloc(z.nrr + 1, sizeof(*rr));
	memcpy(rr, z.rr, z.nrr * sizeof(*rr));
	size_t n = z.nrr;
	rr[7] = rr[--n];          /* a row gone */
	add_row(rr, &n, "new.seed.test", "203.0.113.7");
	zone_set_static(&z, rr, n);
	xfr_new_version(&x, &z, &rng, 25, 13);
	axfr_body(&x, 65535, &b[3]);
	xfr_new_version(&x, &z, &rng, 25, 14);
	axfr_body(&x, 65535, &b[4]);
	CHECK("static edit", ixfr_diff_ok(&x, 12, 14, &b[2], &b[4], 65535, &nd, &na, &only) && !only);
	CHECK("four versions apart", ixfr_diff_ok(&x, 10, 14, &b[0], &b[4], 4000, &nd, &na, &only) && !only);
	CHECK("rotation after the edit", ixfr_diff_ok(&x, 13, 14, &b[3], &b[4], 65535, &nd, &na, &only) && only);

	/* node_ttl and --wildcard change every sample record. */
	z.node_ttl = 120;
	z.wildcard = true;
	xfr_new_version(&x, &z, &rng, 25, 15);
	axfr_body(&x, 65535, &b[5]);
	CHECK("ttl and wildcard", ixfr_diff_ok(&x, 14, 15, &b[4], &b[5], 65535, &nd, &na, &only) && nd == 50 &&
	                              na == 100);

	/* Unknown serials get a full transfer. */
	CHECK("ixfr older unknown: full", transfer(&x, 9, 65535, false, &l, &k) > 0 && k == XFR_IXFR_FULL &&
	                                      full_body(&l, 15, &body) && xd_same(&body, &b[5]) &&
	                                      xd_type(&l.r[1]) != DNS_T_SOA);
	for (uint32_t s = 16; s < 16 + XFR_HISTORY - 1; s++)
		xfr_new_version(&x, &z, &rng, 25, s);
	xd_free(&body);
	axfr_body(&x, 65535, &b[6]);
	CHECK("oldest kept", ixfr_diff_ok(&x, 15, 15 + XFR_HISTORY - 1, &b[5], &b[6], 65535, &nd, &na, &only));
	xd_free(&l);
	CHECK("history gone: full", transfer(&x, 14, 65535, false, &l, &k) > 0 && k == XFR_IXFR_FULL &&
	                                full_body(&l, 15 + XFR_HISTORY - 1, &body) && xd_same(&body, &b[6]));
	xfr_free(&x);
	zone_free(&z);

	/* Every node in the sample: a rotation changes nothing but the SOA. */
	make_zone(&z, 10, 20, 5, 20);
	xfr_init(&x);
	xfr_new_version(&x, &z, &rng, 25, 1);
	xfr_new_version(&x, &z, &rng, 25, 2);
	xd_free(&l);
	CHECK("nothing new: four SOAs", transfer(&x, 1, 65535, false, &l, &k) == 1 && k == XFR_IXFR_DIFF &&
	                                    l.n == 4 && xd_serial(&l.r[0]) == 2 && xd_serial(&l.r[1]) == 1 &&
	                                    xd_serial(&l.r[2]) == 2 && xd_serial(&l.r[3]) == 2);
	/* The SOA's fields travel with each version: the old SOA is the old one. */
	z.soa.refresh = 1234;
	xfr_new_version(&x, &z, &rng, 25, 3);
	xd_free(&l);
	struct xd_rec want_old, want_new;
	struct zone_soa old_soa = z.soa;
	old_soa.refresh = 600;
	xd_make_soa(&want_old, apex, &old_soa, 2);
	xd_make_soa(&want_new, apex, &z.soa, 3);
	CHECK("soa fields per version", transfer(&x, 2, 65535, false, &l, &k) == 1 && l.n == 4 &&
	                                    xd_cmp(&l.r[0], &want_new) == 0 && xd_cmp(&l.r[1], &want_old) == 0);
	xfr_free(&x);
	zone_free(&z);

	xd_free(&l);
	xd_free(&body);
	for (int i = 0; i < 8; i++)
		xd_free(&b[i]);
}

/* Versions made, the zone edited and xfr freed while a stream is under way change nothing it sends. */
static void
test_midstream(void)
{
	struct zone z;
	struct xfr x;
	struct xd_list l = { 0 }, ref = { 0 }, body = { 0 }, old = { 0 }, del = { 0 }, add = { 0 }, wdel = { 0 },
	               wadd = { 0 };
	struct xfr_request rq;
	struct xfr_stream s;
	static uint8_t m[65535];
	struct xd_msg h;
	size_t len;
	bool ok = true;

	make_zone(&z, 3000, 500, 200, 100);
	xfr_init(&x);
	xfr_new_version(&x, &z, &rng, 100, 50);
	axfr_body(&x, 65535, &ref);

	xfr_parse_request(qbuf, request(ID, "seed.test", DNS_T_AXFR, DNS_C_IN, -1, false), apex, &rq);
	xfr_stream_start(&s, &x, &rq);
	len = xfr_stream_next(&s, m, 2000);
	ok = len > 0 && xd_parse(m, len, &h, &l);
	/* Rotations, a static edit, the old version out of the history. */
	for (uint32_t v = 51; v < 51 + XFR_HISTORY + 2; v++) {
		struct addr a = { .family = AF_INET };
		node4(a.ip, v, 100);
		zone_node_del(&z, &a);
		z.rr[v].rdata[0] ^= 0x55;
		xfr_new_version(&x, &z, &rng, 100, v);
	}
	while ((len = xfr_stream_next(&s, m, 2000)) > 0)
		ok = ok && xd_parse(m, len, &h, &l);
	CHECK("axfr across rotations", ok && !xfr_stream_failed(&s) && s.messages > 10 && full_body(&l, 50, &body) &&
	                                   xd_same(&body, &ref));

	/* An IXFR whose versions both leave the history, then xfr itself is freed. */
	struct xfr_info info;
	xfr_current(&x, &info);
	axfr_body(&x, 65535, &old);
	uint32_t from = info.serial;
	xfr_new_version(&x, &z, &rng, 100, from + 1);
	xd_free(&ref);
	axfr_body(&x, 65535, &ref);
	xd_free(&l);
	xfr_parse_request(qbuf, request(ID, "seed.test", DNS_T_IXFR, DNS_C_IN, from, false), apex, &rq);
	xfr_stream_start(&s, &x, &rq);
	len = xfr_stream_next(&s, m, XFR_MSG_MIN);
	ok = s.kind == XFR_IXFR_DIFF && len > 0 && xd_parse(m, len, &h, &l);
	for (uint32_t v = from + 2; v < from + 2 + XFR_HISTORY; v++)
		xfr_new_version(&x, &z, &rng, 100, v);
	xfr_free(&x);
	while ((len = xfr_stream_next(&s, m, XFR_MSG_MIN)) > 0)
		ok = ok && xd_parse(m, len, &h, &l);
	ok = ok && diff_parts(&l, from + 1, from, &del, &add);
	xd_minus(&old, &ref, &wdel);
	xd_minus(&ref, &old, &wadd);
	CHECK("ixfr across rotations and xfr_free", ok && s.messages > 1 && xd_same(&del, &wdel) &&
	                                              xd_same(&add, &wadd) && del.n > 0);
	xfr_stream_end(&s);
	CHECK("no version: no stream", xfr_stream_start(&s, &x, &rq) == -1 && xfr_stream_next(&s, m, 65535) == 0);
	zone_free(&z);
	xd_free(&l);
	xd_free(&ref);
	xd_free(&body);
	xd_free(&old);
	xd_free(&del);
	xd_free(&add);
	xd_free(&wdel);
	xd_free(&wadd);
}

static void
test_requests(void)
{
	struct xfr_request rq;
	struct xd_list l = { 0 };
	struct xd_msg h;
	uint8_t out[1024];
	size_t len, rl;

	dname_from_text(apex, "seed.test");
	len = request(0x1234, "seed.test", DNS_T_AXFR, DNS_C_IN, -1, false);
	CHECK("axfr", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_OK && rq.id == 0x1234 &&
	                  rq.qtype == DNS_T_AXFR && !rq.edns && rq.qlen == 11 + 4 &&
	                  memcmp(rq.question, qbuf + DNS_HDR, rq.qlen) == 0);
	len = request(0x1234, "SeEd.TEST", DNS_T_AXFR, DNS_C_IN, -1, true);
	memcpy(qbuf + DNS_HDR, "\4SeEd\4TEST", 10);
	CHECK("axfr, mixed case, edns", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_OK && rq.edns &&
	                                    memcmp(rq.question, "\4SeEd\4TEST", 10) == 0);
	len = request(7, "seed.test", DNS_T_IXFR, DNS_C_IN, 2026010199, false);
	CHECK("ixfr with serial", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_OK && rq.qtype == DNS_T_IXFR &&
	                              rq.serial == 2026010199);
	/* Every cut of it is refused without a read past the cut (ASan would see one). */
	bool cut_ok = true;
	for (size_t i = 0; i < len; i++) {
		uint8_t *cut = malloc(i ? i : 1);
		memcpy(cut, qbuf, i);
		enum xfr_verdict v = xfr_parse_request(cut, i, apex, &rq);
		cut_ok = cut_ok && v != XFR_REQ_OK && (i < DNS_HDR ? v == XFR_REQ_DROP : v == XFR_REQ_FORMERR);
		free(cut);
	}
	CHECK("ixfr cut anywhere", cut_ok);
	len = request(7, "seed.test", DNS_T_IXFR, DNS_C_IN, -1, false);
	CHECK("ixfr without SOA", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_FORMERR);
	len = request(7, "seed.test", DNS_T_IXFR, DNS_C_IN, 5, false);
	qbuf[len - 22 - 2] = 0;
	qbuf[len - 22 - 1] = 21; /* RDLEN one short */
	CHECK("ixfr SOA rdlen wrong", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_FORMERR);
	len = request(7, "seed.test", DNS_T_IXFR, DNS_C_IN, 5, false);
	qbuf[len - 22 - 9] = DNS_T_NS;
	CHECK("ixfr authority not a SOA", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_FORMERR);
	len = request(7, "seed.test", DNS_T_IXFR, DNS_C_IN, 5, false);
	qbuf[len - 22 - 11] = 0x11; /* the owner points at "test" */
	CHECK("ixfr SOA of another name", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_FORMERR);
	len = request(7, "seed.test", DNS_T_AXFR, DNS_C_IN, 5, false);
	CHECK("axfr with a SOA: ignored", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_OK);
	len = request(7, "other.test", DNS_T_AXFR, DNS_C_IN, -1, true);
	CHECK("wrong name", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_NOTAUTH && rq.edns);
	rl = xfr_error_reply(&rq, XFR_REQ_NOTAUTH, out, sizeof(out));
	CHECK("notauth reply", rl > 0 && xd_parse(out, rl, &h, &l) && h.id == 7 && (h.flags & 0xf) == 9 &&
	                           (h.flags & DNS_F_QR) && h.qd == 1 && h.qlen == rq.qlen && h.opt && h.an == 0);
	len = request(7, "www.seed.test", DNS_T_AXFR, DNS_C_IN, -1, false);
	CHECK("a name below the apex", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_NOTAUTH);
	len = request(7, "seed.test", DNS_T_AXFR, DNS_C_CH, -1, false);
	CHECK("wrong class", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_NOTAUTH);
	len = request(7, "seed.test", DNS_T_IXFR, DNS_C_ANY, 5, false);
	CHECK("class ANY", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_NOTAUTH);
	len = request(7, "seed.test", DNS_T_A, DNS_C_IN, -1, false);
	CHECK("a plain query", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_NOT_XFR);
	len = request(7, "seed.test", DNS_T_AXFR, DNS_C_IN, -1, false);
	qbuf[2] = 4 << 3; /* NOTIFY */
	CHECK("another opcode", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_NOT_XFR);
	qbuf[2] = 0x80;
	CHECK("a response", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_DROP);
	CHECK("short", xfr_parse_request(qbuf, 11, apex, &rq) == XFR_REQ_DROP);
	qbuf[2] = 0;
	qbuf[5] = 2;
	CHECK("two questions", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_FORMERR);
	rl = xfr_error_reply(&rq, XFR_REQ_FORMERR, out, sizeof(out));
	CHECK("formerr reply: no question read", rl == DNS_HDR && out[3] == 1 && out[0] == 0 && out[1] == 7 &&
	                                             out[5] == 0);
	qbuf[5] = 0;
	CHECK("no question", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_NOT_XFR);
	qbuf[5] = 1;
	qbuf[7] = 1;
	CHECK("an answer", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_FORMERR);
	qbuf[7] = 0;
	len = request(7, "seed.test", DNS_T_AXFR, DNS_C_IN, -1, true);
	qbuf[len - 11 + 6] = 1; /* EDNS version 1 */
	CHECK("edns version 1", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_BADVERS);
	xd_free(&l);
	rl = xfr_error_reply(&rq, XFR_REQ_BADVERS, out, sizeof(out));
	CHECK("badvers reply", rl > 0 && xd_parse(out, rl, &h, &l) && h.opt && h.opt_ext == 1 && (h.flags & 0xf) == 0);
	CHECK("no reply for ok", xfr_error_reply(&rq, XFR_REQ_OK, out, sizeof(out)) == 0 &&
	                             xfr_error_reply(&rq, XFR_REQ_FORMERR, out, 5) == 0);
	memcpy(qbuf + len, qbuf + len - 11, 11);
	qbuf[len - 11 + 6] = 0;
	qbuf[11] = 2;
	CHECK("two OPTs", xfr_parse_request(qbuf, len + 11, apex, &rq) == XFR_REQ_FORMERR);
	len = request(7, "seed.test", DNS_T_AXFR, DNS_C_IN, -1, false);
	memcpy(qbuf + len, "\1a\0\0\x29\x10\0\0\0\0\0\0\0", 13); /* an OPT owned by a. */
	qbuf[11] = 1;
	len += 13;
	CHECK("OPT not at the root", xfr_parse_request(qbuf, len, apex, &rq) == XFR_REQ_FORMERR);
	/* Garbage: random bytes, a header with huge counts, a bad name. */
	uint8_t junk[300];
	bool never_ok = true;
	for (int t = 0; t < 2000; t++) {
		size_t jl = rng_below(&rng, sizeof(junk));
		rng_bytes(&rng, junk, jl);
		if (jl > 3)
			junk[2] &= 0x07; /* a query, opcode 0: past the first rungs */
		never_ok = never_ok && xfr_parse_request(junk, jl, apex, &rq) != XFR_REQ_OK;
	}
	CHECK("garbage", never_ok);
	memcpy(junk, "\x00\x01\x00\x00\x00\x01\xff\xff\xff\xff\xff\xff\x04seed\x04test\x00\x00\xfc\x00\x01", 27);
	CHECK("huge counts", xfr_parse_request(junk, 27, apex, &rq) == XFR_REQ_FORMERR);
	memcpy(junk, "\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04seed\xc0\x0c\x00\xfc\x00\x01", 23);
	CHECK("self pointer", xfr_parse_request(junk, 23, apex, &rq) == XFR_REQ_FORMERR);
	CHECK("verdict names", strcmp(xfr_verdict_name(XFR_REQ_NOTAUTH), "notauth") == 0 &&
	                           strcmp(xfr_verdict_name((enum xfr_verdict)99), "?") == 0);
	xd_free(&l);
}

void
test_xfr(void)
{
	uint8_t seed[32] = { 'x', 'f', 'r' };

	rng_init_seed(&rng, seed);
	test_serial();
	test_requests();
	test_versions();
	test_axfr();
	test_ixfr();
	test_midstream();
}
