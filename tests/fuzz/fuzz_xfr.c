/*
 * fuzz_xfr: zone transfers (zone/xfr.h).
 *
 * 1. The input as a transfer request for seed.test: the verdict is one of
 *    the enum; on OK the question is the input's own bytes and a stream of
 *    a small fixed zone answers it (the checks of 2); FORMERR, BADVERS and
 *    NOTAUTH replies parse, with the ID, QR and the rcode.
 * 2. The input as a program over a small zone (static rows at in-zone,
 *    apex, wildcard and outside names; nodes in a few prefixes; wildcard,
 *    node_ttl, SOA and NS changes), new versions (serials accepted exactly
 *    when RFC 1982 says greater) and transfers: AXFR, IXFR from the
 *    current, a kept, an unknown or a newer serial, any cap, with or
 *    without EDNS, and zone edits, new versions and xfr_free between the
 *    messages of a transfer. Every message parses (tests/unit/zone/
 *    xfr_decode.h), is at most cap, never splits a record; a transfer
 *    fails only under XFR_MSG_MIN; a full transfer is SOA, records, SOA
 *    and equals the records of its version as made: the zone's NS and
 *    static rows (computed here), the sample (apex A/AAAA: min(N, nodes)
 *    node addresses of the zone, min(that, prefixes) distinct prefixes)
 *    and its copy at *.seed.test with --wildcard unless a row owns it; an
 *    IXFR is the kind RFC 1995 calls for, and a difference deletes and
 *    adds exactly the set differences of the two versions.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "dns/dname.h"
#include "dns/wire.h"
#include "zone/xfr.h"
#include "zone/zone.h"

#include "../unit/zone/xfr_decode.h"
#include "fuzz.h"

#define MAX_ROWS 24
#define MAX_OPS 96
#define ID 0x5eed

static const char *const names[] = {
	"seed.test", "a.seed.test", "b.seed.test", "c.a.seed.test", "*", "x.other.test",
};

static uint8_t apex[DNAME_MAX], wname[DNAME_MAX];
static uint8_t msg[65536];

/* What was true of a version when it was made. */
struct kept {
	uint32_t serial;
	struct xd_list body;
};

struct state {
	struct zone z;
	struct xfr x;
	struct rng rng;
	struct zone_rr rows[MAX_ROWS];
	size_t nrows;
	struct kept k[XFR_HISTORY]; /* mirrors x.v: k[0] the current one */
	size_t nk;
	const uint8_t *p;           /* the program */
	size_t left;
};

static uint8_t
next(struct state *s)
{
	if (s->left == 0)
		return 0;
	s->left--;
	return *s->p++;
}

static void
name_of(uint8_t out[DNAME_MAX], unsigned i)
{
	if (strcmp(names[i], "*") == 0)
		memcpy(out, wname, dname_len(wname));
	else
		dname_from_text(out, names[i]);
}

static void
set_rows(struct state *s)
{
	struct zone_rr *rr = malloc((s->nrows ? s->nrows : 1) * sizeof(*rr));

	REQUIRE(rr != NULL);
	memcpy(rr, s->rows, s->nrows * sizeof(*rr));
	REQUIRE(zone_set_static(&s->z, rr, s->nrows) == 0);
}

static void
node_addr(struct addr *a, int family, uint8_t arg)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	/* 8 prefixes of 32 addresses */
	a->ip[0] = family == AF_INET ? 10 : 0x2a;
	a->ip[1] = (uint8_t)(arg >> 5);
	if (family == AF_INET6)
		a->ip[3] = (uint8_t)(arg >> 5);
	a->ip[family == AF_INET ? 3 : 15] = (uint8_t)(arg & 31);
}

/* The NS and static records answers give: computed here, apart from xfr.c. */
static void
expect_static(const struct zone *z, struct xd_list *l)
{
	int nns = z->nns > 0 ? z->nns : 1;
	const uint8_t(*ns)[DNAME_MAX] = z->nns > 0 ? z->ns : &z->soa.mname;
	struct xd_list all = { 0 };

	for (int i = 0; i < nns; i++)
		xd_make(xd_push(&all), z->apex, DNS_T_NS, ZONE_STATIC_TTL, ns[i], dname_len(ns[i]));
	for (size_t i = 0; i < z->nrr; i++) {
		const struct zone_rr *r = &z->rr[i];
		if (!dname_in_zone(r->name, z->apex) || dname_len(r->name) == dname_len(z->apex))
			continue;
		xd_make(xd_push(&all), r->name, r->type, ZONE_STATIC_TTL, r->rdata, r->rdlen);
	}
	xd_sort(&all);
	for (size_t i = 0; i < all.n; i++)
		if (i == 0 || xd_cmp(&all.r[i - 1], &all.r[i]) != 0)
			*xd_push(l) = all.r[i];
	xd_free(&all);
}

static size_t
prefix_count(const struct xd_list *l, const uint8_t *owner, uint16_t type)
{
	uint32_t seen[64];
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		size_t rl;
		const uint8_t *rd = xd_rdata(&l->r[i], &rl);
		if (!xd_owner_is(&l->r[i], owner) || xd_type(&l->r[i]) != type)
			continue;
		uint32_t p = (uint32_t)rd[0] << 24 | (uint32_t)rd[1] << 16 | (type == DNS_T_AAAA ? (uint32_t)rd[2] << 8 | rd[3] : 0);
		size_t k = 0;
		while (k < n && seen[k] != p)
			k++;
		REQUIRE(k < 64);
		if (k == n)
			seen[n++] = p;
	}
	return n;
}

/* A new version's body against the zone it was made from. */
static void
check_version(struct state *s, const struct xd_list *body, size_t answers)
{
	struct xd_list st = { 0 }, rest = { 0 }, missing = { 0 };
	bool owned = false;

	expect_static(&s->z, &st);
	for (size_t i = 0; i < st.n; i++)
		owned = owned || xd_owner_is(&st.r[i], wname);
	bool wild = s->z.wildcard && !owned;
	xd_minus(body, &st, &rest);
	xd_minus(&st, body, &missing);
	REQUIRE(missing.n == 0);
	size_t n[2] = { 0, 0 }, w[2] = { 0, 0 };
	for (size_t i = 0; i < rest.n; i++) {
		const struct xd_rec *r = &rest.r[i];
		uint16_t t = xd_type(r);
		size_t rl;
		const uint8_t *rd = xd_rdata(r, &rl);
		REQUIRE(t == DNS_T_A || t == DNS_T_AAAA);
		REQUIRE(rl == (t == DNS_T_A ? 4u : 16u) && xd_ttl(r) == s->z.node_ttl);
		REQUIRE(nodeset_has(zone_nodes(&s->z, t == DNS_T_A ? AF_INET : AF_INET6), rd));
		if (xd_owner_is(r, apex)) {
			n[t == DNS_T_AAAA]++;
		} else {
			REQUIRE(wild && xd_owner_is(r, wname));
			w[t == DNS_T_AAAA]++;
			/* its twin at the apex */
			struct xd_rec twin;
			xd_make(&twin, apex, t, s->z.node_ttl, rd, rl);
			REQUIRE(bsearch(&twin, body->r, body->n, sizeof(twin), xd_cmp) != NULL);
		}
	}
	for (int f = 0; f < 2; f++) {
		const struct nodeset *ns = f ? &s->z.v6 : &s->z.v4;
		size_t want = answers < nodeset_count(ns) ? answers : nodeset_count(ns);
		REQUIRE(n[f] == want);
		REQUIRE(w[f] == (wild ? want : 0));
		size_t pf = prefix_count(&rest, apex, f ? DNS_T_AAAA : DNS_T_A);
		REQUIRE(pf == (want < ns->nb ? want : ns->nb));
	}
	xd_free(&st);
	xd_free(&rest);
	xd_free(&missing);
}

static size_t
request(uint8_t *q, uint16_t type, int64_t serial, bool edns)
{
	struct wr w;

	wr_init(&w, q, 512);
	wr_u16(&w, ID);
	wr_u16(&w, 0);
	wr_u16(&w, 1);
	wr_u16(&w, 0);
	wr_u16(&w, serial >= 0 ? 1 : 0);
	wr_u16(&w, edns ? 1 : 0);
	wr_bytes(&w, apex, dname_len(apex));
	wr_u16(&w, type);
	wr_u16(&w, DNS_C_IN);
	if (serial >= 0) {
		wr_ptr(&w, DNS_HDR);
		wr_u16(&w, DNS_T_SOA);
		wr_u16(&w, DNS_C_IN);
		wr_u32(&w, 0);
		wr_u16(&w, 22);
		wr_u16(&w, 0);
		wr_u32(&w, (uint32_t)serial);
		for (int i = 0; i < 4; i++)
			wr_u32(&w, 0);
	}
	if (edns) {
		wr_u8(&w, 0);
		wr_u16(&w, DNS_T_OPT);
		wr_u16(&w, 1232);
		wr_u32(&w, 0);
		wr_u16(&w, 0);
	}
	REQUIRE(!w.err);
	return w.off;
}

/* A full transfer's records between the SOAs, sorted and distinct. */
static void
full_body(const struct xd_list *l, uint32_t serial, struct xd_list *body)
{
	REQUIRE(l->n >= 2);
	REQUIRE(xd_type(&l->r[0]) == DNS_T_SOA && xd_serial(&l->r[0]) == serial);
	REQUIRE(xd_cmp(&l->r[0], &l->r[l->n - 1]) == 0);
	for (size_t i = 1; i + 1 < l->n; i++) {
		REQUIRE(xd_type(&l->r[i]) != DNS_T_SOA);
		*xd_push(body) = l->r[i];
	}
	xd_sort(body);
	REQUIRE(xd_distinct(body));
}

static void edit(struct state *s, uint8_t op, uint8_t a, uint8_t b);

/*
 * One transfer of s->x from rq; between its messages the program may
 * edit the zone, make versions, or free xfr. Returns its records.
 */
static void
run_stream(struct state *s, const struct xfr_request *rq, size_t cap, bool midway, struct xd_list *l)
{
	struct xfr_stream st;
	const char *why;
	long n = 0;
	size_t len;

	REQUIRE(xfr_stream_start(&st, &s->x, rq) == 0);
	while ((len = xfr_stream_next(&st, msg, cap)) > 0) {
		REQUIRE(xd_msg_ok(msg, len, cap, n, rq->id, rq->question, rq->qlen, rq->edns, l, &why));
		n++;
		if (midway && s->left >= 3) {
			uint8_t op = next(s), a = next(s), b = next(s);
			edit(s, op, a, b);
		}
	}
	REQUIRE(st.done);
	if (xfr_stream_failed(&st)) {
		REQUIRE(cap < XFR_MSG_MIN);
		l->n = 0;
	} else {
		REQUIRE(st.messages == (size_t)n && st.records == l->n);
	}
	xfr_stream_end(&st);
}

static void
kept_drop(struct state *s, size_t i)
{
	xd_free(&s->k[i].body);
	memmove(&s->k[i], &s->k[i + 1], (s->nk - i - 1) * sizeof(s->k[0]));
	s->nk--;
}

static void
new_version(struct state *s, size_t answers, uint32_t serial)
{
	struct xfr_info info;
	bool had = xfr_current(&s->x, &info);
	bool ok = !had || xfr_serial_gt(serial, info.serial);
	int rc = xfr_new_version(&s->x, &s->z, &s->rng, answers, serial);

	REQUIRE(rc == (ok ? 0 : XFR_E_SERIAL));
	if (!ok)
		return;
	REQUIRE(!xfr_static_changed(&s->x, &s->z));
	/* The mirror of the history: newest first, XFR_HISTORY at most, no serial twice. */
	if (s->nk == XFR_HISTORY)
		kept_drop(s, s->nk - 1);
	for (size_t i = 0; i < s->nk; i++)
		if (s->k[i].serial == serial)
			kept_drop(s, i--);
	memmove(&s->k[1], &s->k[0], s->nk * sizeof(s->k[0]));
	s->nk++;
	memset(&s->k[0], 0, sizeof(s->k[0]));
	s->k[0].serial = serial;
	REQUIRE(xfr_current(&s->x, &info) && info.versions == s->nk && info.serial == serial);

	struct xfr_request rq;
	struct xd_list l = { 0 };
	uint8_t q[512];
	size_t ql = request(q, DNS_T_AXFR, -1, false);
	REQUIRE(xfr_parse_request(q, ql, apex, &rq) == XFR_REQ_OK);
	run_stream(s, &rq, 65535, false, &l);
	REQUIRE(l.n == info.records);
	full_body(&l, serial, &s->k[0].body);
	check_version(s, &s->k[0].body, answers < XFR_SAMPLE_MAX ? answers : XFR_SAMPLE_MAX);
	xd_free(&l);
}

static void
forget(struct state *s)
{
	xfr_free(&s->x);
	while (s->nk > 0)
		kept_drop(s, 0);
}

/* Zone edits and new versions: the program's steps, and what may happen in the middle of a transfer. */
static void
edit(struct state *s, uint8_t op, uint8_t a, uint8_t b)
{
	struct addr ad;
	struct xfr_info info;

	switch (op % 10) {
	case 0:
		if (s->nrows < MAX_ROWS) {
			struct zone_rr *r = &s->rows[s->nrows++];
			memset(r, 0, sizeof(*r));
			name_of(r->name, a % 6);
			if (b % 3 == 0) {
				r->type = DNS_T_A;
				r->rdlen = 4;
				r->rdata[0] = 192;
				r->rdata[3] = a;
			} else if (b % 3 == 1) {
				r->type = DNS_T_AAAA;
				r->rdlen = 16;
				r->rdata[0] = 0x20;
				r->rdata[15] = a;
			} else {
				r->type = DNS_T_CNAME;
				name_of(r->rdata, (unsigned)(b / 3) % 6);
				r->rdlen = (uint16_t)dname_len(r->rdata);
			}
			set_rows(s);
		}
		break;
	case 1:
		if (s->nrows > 0) {
			s->rows[a % s->nrows] = s->rows[--s->nrows];
			set_rows(s);
		}
		break;
	case 2:
	case 3:
		node_addr(&ad, op % 10 == 2 ? AF_INET : AF_INET6, a);
		if (b & 1)
			zone_node_del(&s->z, &ad);
		else
			zone_node_add(&s->z, &ad);
		break;
	case 4:
		switch (a % 5) {
		case 0: s->z.wildcard = !s->z.wildcard; break;
		case 1: s->z.node_ttl = 30 + (b & 3); break;
		case 2: s->z.soa.refresh = b; break;
		case 3: s->z.nns = b % 3; break;
		default: s->z.soa.serial = b; break; /* not a change of the transfer */
		}
		break;
	case 5:
	case 6:
	case 7: {
		bool had = xfr_current(&s->x, &info);
		uint32_t base = had ? info.serial : 0x7ffffff0u;
		uint32_t d = b < 200 ? 1u + b % 4 : b < 230 ? 0 : b < 250 ? 0x80000000u : 0x7fffffffu;
		new_version(s, a % 40, base + d);
		break;
	}
	case 8:
		if (a == 0x42)
			forget(s);
		break;
	default:
		break;
	}
}

/* A transfer of the current version, checked against the mirror. */
static void
transfer(struct state *s, uint8_t a, uint8_t b)
{
	struct xfr_info info;
	struct xfr_request rq;
	struct xd_list l = { 0 }, body = { 0 }, del = { 0 }, add = { 0 }, wdel = { 0 }, wadd = { 0 }, want = { 0 },
	               old = { 0 };
	uint8_t q[512];
	int64_t serial = -1;

	if (!xfr_current(&s->x, &info))
		return;
	REQUIRE(info.versions == s->nk && s->k[0].serial == info.serial);
	switch (a % 6) {
	case 0: break;                                            /* AXFR */
	case 1: serial = info.serial; break;                      /* up to date */
	case 2: serial = s->k[(a / 6) % s->nk].serial; break;     /* kept */
	case 3: serial = (uint32_t)(info.serial - 100); break;    /* unknown */
	case 4: serial = (uint32_t)(info.serial + 1 + b); break;  /* newer */
	default: serial = (uint32_t)(info.serial - 1 - (a / 6) % 12); break;
	}
	bool edns = b & 1;
	size_t cap = b < 24 ? 12 + (size_t)b * 40 : XFR_MSG_MIN + (size_t)(b - 24) * 280;
	bool midway = (a & 0x80) != 0;
	size_t ql = request(q, serial < 0 ? DNS_T_AXFR : DNS_T_IXFR, serial, edns);
	REQUIRE(xfr_parse_request(q, ql, apex, &rq) == XFR_REQ_OK);

	/* What RFC 1995 calls for, from the mirror. */
	enum xfr_kind kind = XFR_AXFR;
	size_t from = 0;
	if (serial >= 0) {
		kind = XFR_IXFR_FULL;
		for (size_t i = 1; i < s->nk; i++)
			if (s->k[i].serial == (uint32_t)serial) {
				kind = XFR_IXFR_DIFF;
				from = i;
				break;
			}
		if ((uint32_t)serial == info.serial || (kind == XFR_IXFR_FULL && xfr_serial_gt((uint32_t)serial, info.serial)))
			kind = XFR_IXFR_UPTODATE;
	}
	/* Copies: the mirror may move while the transfer runs. */
	for (size_t i = 0; i < s->k[0].body.n; i++)
		*xd_push(&want) = s->k[0].body.r[i];
	for (size_t i = 0; kind == XFR_IXFR_DIFF && i < s->k[from].body.n; i++)
		*xd_push(&old) = s->k[from].body.r[i];

	struct xfr_stream probe;
	REQUIRE(xfr_stream_start(&probe, &s->x, &rq) == 0 && probe.kind == kind);
	xfr_stream_end(&probe);
	run_stream(s, &rq, cap, midway, &l);
	if (l.n == 0)
		goto out; /* failed: cap under XFR_MSG_MIN */
	switch (kind) {
	case XFR_IXFR_UPTODATE:
		REQUIRE(l.n == 1 && xd_type(&l.r[0]) == DNS_T_SOA && xd_serial(&l.r[0]) == info.serial);
		break;
	case XFR_IXFR_DIFF: {
		size_t i = 2;
		REQUIRE(l.n >= 4 && xd_type(&l.r[0]) == DNS_T_SOA && xd_serial(&l.r[0]) == info.serial);
		REQUIRE(xd_type(&l.r[1]) == DNS_T_SOA && xd_serial(&l.r[1]) == (uint32_t)serial);
		for (; i < l.n && xd_type(&l.r[i]) != DNS_T_SOA; i++)
			*xd_push(&del) = l.r[i];
		REQUIRE(i < l.n && xd_cmp(&l.r[i], &l.r[0]) == 0);
		for (i++; i < l.n && xd_type(&l.r[i]) != DNS_T_SOA; i++)
			*xd_push(&add) = l.r[i];
		REQUIRE(i == l.n - 1 && xd_cmp(&l.r[i], &l.r[0]) == 0);
		xd_sort(&del);
		xd_sort(&add);
		xd_minus(&old, &want, &wdel);
		xd_minus(&want, &old, &wadd);
		REQUIRE(xd_same(&del, &wdel) && xd_same(&add, &wadd));
		break;
	}
	default:
		full_body(&l, info.serial, &body);
		REQUIRE(xd_same(&body, &want));
		break;
	}
out:
	xd_free(&l);
	xd_free(&body);
	xd_free(&del);
	xd_free(&add);
	xd_free(&wdel);
	xd_free(&wadd);
	xd_free(&want);
	xd_free(&old);
}

static void
setup(struct state *s, uint8_t flags)
{
	static const uint8_t seed[32] = { 'x', 'f', 'r' };

	memset(s, 0, sizeof(*s));
	zone_init(&s->z, apex, 1000, 7);
	rng_init_seed(&s->rng, seed);
	dname_from_text(s->z.soa.mname, "ns.seed.test");
	dname_from_text(s->z.soa.rname, "h.example.net");
	s->z.soa.refresh = 600;
	s->z.node_ttl = 60;
	s->z.wildcard = flags & 1;
	s->z.nns = (flags >> 1) % 3;
	dname_from_text(s->z.ns[0], "ns.seed.test");
	dname_from_text(s->z.ns[1], "ns.example.net");
	xfr_init(&s->x);
}

static void
teardown(struct state *s)
{
	forget(s);
	zone_free(&s->z);
}

/* 1: the input as a request. */
static void
as_request(const uint8_t *data, size_t size)
{
	struct xfr_request rq;
	uint8_t out[1024];
	enum xfr_verdict v = xfr_parse_request(data, size, apex, &rq);

	REQUIRE((unsigned)v < XFR_REQ_VERDICTS);
	REQUIRE(strcmp(xfr_verdict_name(v), "?") != 0);
	if (v == XFR_REQ_DROP) {
		REQUIRE(size < DNS_HDR || (data[2] & 0x80));
		return;
	}
	REQUIRE(rq.qlen <= sizeof(rq.question) && rq.qlen <= size - DNS_HDR);
	REQUIRE(memcmp(rq.question, data + DNS_HDR, rq.qlen) == 0);
	size_t rl = xfr_error_reply(&rq, v, out, sizeof(out));
	if (v == XFR_REQ_FORMERR || v == XFR_REQ_BADVERS || v == XFR_REQ_NOTAUTH) {
		struct xd_list l = { 0 };
		struct xd_msg h;
		unsigned rcode = v == XFR_REQ_FORMERR ? 1 : v == XFR_REQ_NOTAUTH ? 9 : 16;
		REQUIRE(rl >= DNS_HDR && xd_parse(out, rl, &h, &l));
		REQUIRE(h.id == rq.id && (h.flags & DNS_F_QR) && (h.flags & 0xf) == (rcode & 0xf) && h.an == 0);
		REQUIRE(h.opt == rq.edns && (!h.opt || h.opt_ext == rcode >> 4));
		REQUIRE(h.qlen == rq.qlen && memcmp(h.question, rq.question, rq.qlen) == 0);
		xd_free(&l);
	} else {
		REQUIRE(rl == 0);
	}
	if (v != XFR_REQ_OK)
		return;
	REQUIRE(rq.qtype == DNS_T_AXFR || rq.qtype == DNS_T_IXFR);
	/* Answer it from a small zone of two versions. */
	struct state s;
	setup(&s, 1);
	for (uint8_t i = 0; i < 12; i++)
		edit(&s, 2 + (i & 1), (uint8_t)(i * 37), 0);
	edit(&s, 0, 1, 2);
	new_version(&s, 3, 1);
	new_version(&s, 3, 2);
	struct xd_list l = { 0 };
	run_stream(&s, &rq, 65535, false, &l);
	REQUIRE(l.n >= 1 && xd_type(&l.r[0]) == DNS_T_SOA && xd_type(&l.r[l.n - 1]) == DNS_T_SOA);
	xd_free(&l);
	teardown(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s;

	dname_from_text(apex, "seed.test");
	wname[0] = 1;
	wname[1] = '*';
	memcpy(wname + 2, apex, dname_len(apex));
	as_request(data, size);

	/* 2: the input as a program of three-byte steps. */
	if (size < 1)
		return 0;
	setup(&s, data[0]);
	s.p = data + 1;
	s.left = size - 1;
	for (int ops = 0; ops < MAX_OPS && s.left >= 3; ops++) {
		uint8_t op = next(&s), a = next(&s), b = next(&s);
		if (op % 4 == 3)
			transfer(&s, a, b);
		else
			edit(&s, op / 4, a, b);
	}
	teardown(&s);
	return 0;
}
