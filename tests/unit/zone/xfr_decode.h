/*
 * xfr_decode: the transfer messages read back with dns/wire.h's reader,
 * for test_xfr.c and tests/fuzz/fuzz_xfr.c (static functions in a header:
 * the fuzz targets are built one file each).
 *
 * Each record becomes a canonical byte string, the same however it was
 * compressed: owner (lowercase) | type | class | TTL | RDATA with the
 * names of NS, CNAME and SOA written out in full and lowercase.
 */
#ifndef SEEDD_XFR_DECODE_H
#define SEEDD_XFR_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/wire.h"
#include "zone/xfr.h"

#define XD_REC_MAX (DNAME_MAX + 10 + 2 * DNAME_MAX + 20)

struct xd_rec {
	uint16_t len;
	uint8_t b[XD_REC_MAX];
};

struct xd_list {
	struct xd_rec *r;
	size_t n, cap;
};

struct xd_msg {
	uint16_t id, flags, qd, an, ns, ar;
	bool opt;                   /* one OPT, owned by the root, version 0 */
	uint8_t opt_ext;            /* its extended rcode bits */
	size_t qlen;                /* the question's bytes, 0 when none */
	uint8_t question[DNAME_MAX + 4];
};

static struct xd_rec *
xd_push(struct xd_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct xd_rec *r = realloc(l->r, cap * sizeof(*r));
		if (r == NULL)
			abort();
		l->r = r;
		l->cap = cap;
	}
	return &l->r[l->n++];
}

static void
xd_free(struct xd_list *l)
{
	free(l->r);
	memset(l, 0, sizeof(*l));
}

/* The canonical form of a record given by its parts (rdata uncompressed). */
static void
xd_make(struct xd_rec *r, const uint8_t *owner, uint16_t type, uint32_t ttl,
        const uint8_t *rdata, size_t rdlen)
{
	size_t o = dname_len(owner);

	memcpy(r->b, owner, o);
	r->b[o++] = (uint8_t)(type >> 8);
	r->b[o++] = (uint8_t)type;
	r->b[o++] = 0;
	r->b[o++] = DNS_C_IN;
	r->b[o++] = (uint8_t)(ttl >> 24);
	r->b[o++] = (uint8_t)(ttl >> 16);
	r->b[o++] = (uint8_t)(ttl >> 8);
	r->b[o++] = (uint8_t)ttl;
	memcpy(r->b + o, rdata, rdlen);
	r->len = (uint16_t)(o + rdlen);
}

static void
xd_make_soa(struct xd_rec *r, const uint8_t *apex, const struct zone_soa *soa, uint32_t serial)
{
	uint8_t rd[2 * DNAME_MAX + 20];
	size_t o = 0;
	uint32_t v[5] = { serial, soa->refresh, soa->retry, soa->expire, soa->minimum };

	memcpy(rd, soa->mname, dname_len(soa->mname));
	o += dname_len(soa->mname);
	memcpy(rd + o, soa->rname, dname_len(soa->rname));
	o += dname_len(soa->rname);
	for (int i = 0; i < 5; i++) {
		rd[o++] = (uint8_t)(v[i] >> 24);
		rd[o++] = (uint8_t)(v[i] >> 16);
		rd[o++] = (uint8_t)(v[i] >> 8);
		rd[o++] = (uint8_t)v[i];
	}
	xd_make(r, apex, DNS_T_SOA, ZONE_STATIC_TTL, rd, o);
}

static uint16_t
xd_type(const struct xd_rec *r)
{
	size_t o = dname_len(r->b);
	return (uint16_t)(r->b[o] << 8 | r->b[o + 1]);
}

static uint32_t
xd_ttl(const struct xd_rec *r)
{
	size_t o = dname_len(r->b) + 4;
	return (uint32_t)r->b[o] << 24 | (uint32_t)r->b[o + 1] << 16 | (uint32_t)r->b[o + 2] << 8 | r->b[o + 3];
}

static const uint8_t *
xd_rdata(const struct xd_rec *r, size_t *len)
{
	size_t o = dname_len(r->b) + 8;
	*len = r->len - o;
	return r->b + o;
}

/* A SOA's serial (the 20 bytes at the end of its rdata start with it). */
static uint32_t
xd_serial(const struct xd_rec *r)
{
	const uint8_t *p = r->b + r->len - 20;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool
xd_owner_is(const struct xd_rec *r, const uint8_t *name)
{
	size_t l = dname_len(name);
	return dname_len(r->b) == l && memcmp(r->b, name, l) == 0;
}

static int
xd_cmp(const void *pa, const void *pb)
{
	const struct xd_rec *a = pa, *b = pb;
	int c = memcmp(a->b, b->b, a->len < b->len ? a->len : b->len);
	return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

static void
xd_sort(struct xd_list *l)
{
	if (l->n > 1)
		qsort(l->r, l->n, sizeof(*l->r), xd_cmp);
}

/* Sorted l1 and l2 hold the same records. */
static bool
xd_same(const struct xd_list *a, const struct xd_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (xd_cmp(&a->r[i], &b->r[i]) != 0)
			return false;
	return true;
}

/* Sorted l has no record twice. */
static bool
xd_distinct(const struct xd_list *l)
{
	for (size_t i = 1; i < l->n; i++)
		if (xd_cmp(&l->r[i - 1], &l->r[i]) == 0)
			return false;
	return true;
}

/* Records of sorted a that sorted b lacks, into out (sorted). */
static void
xd_minus(const struct xd_list *a, const struct xd_list *b, struct xd_list *out)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && xd_cmp(&b->r[j], &a->r[i]) < 0)
			j++;
		if (j < b->n && xd_cmp(&b->r[j], &a->r[i]) == 0)
			continue;
		*xd_push(out) = a->r[i];
	}
}

static bool
xd_name(struct rd *rd, uint8_t *out, size_t *o)
{
	uint8_t n[DNAME_MAX];
	size_t l = rd_name(rd, n);

	if (rd->err)
		return false;
	dname_lower(n);
	memcpy(out + *o, n, l);
	*o += l;
	return true;
}

/*
 * One message: the header into h, its answer records appended to l. False
 * when anything is malformed: a section that does not parse, RDATA names
 * that do not end at RDLEN, anything but one OPT in the additional section,
 * an authority section, bytes after the last record.
 */
static bool
xd_parse(const uint8_t *m, size_t len, struct xd_msg *h, struct xd_list *l)
{
	struct rd rd;

	memset(h, 0, sizeof(*h));
	if (len < DNS_HDR)
		return false;
	rd_init(&rd, m, len);
	h->id = rd_u16(&rd);
	h->flags = rd_u16(&rd);
	h->qd = rd_u16(&rd);
	h->an = rd_u16(&rd);
	h->ns = rd_u16(&rd);
	h->ar = rd_u16(&rd);
	if (h->qd > 1 || h->ns != 0 || h->ar > 1)
		return false;
	if (h->qd == 1) {
		uint8_t n[DNAME_MAX];
		rd_name(&rd, n);
		rd_skip(&rd, 4);
		if (rd.err || rd.off - DNS_HDR > sizeof(h->question))
			return false;
		h->qlen = rd.off - DNS_HDR;
		memcpy(h->question, m + DNS_HDR, h->qlen);
	}
	for (uint16_t i = 0; i < h->an; i++) {
		struct xd_rec *r = xd_push(l);
		uint8_t owner[DNAME_MAX];
		size_t ol = rd_name(&rd, owner);
		uint16_t type = rd_u16(&rd), cls = rd_u16(&rd);
		uint32_t ttl = rd_u32(&rd);
		uint16_t rdlen = rd_u16(&rd);
		if (rd.err || cls != DNS_C_IN || rd.len - rd.off < rdlen)
			return false;
		dname_lower(owner);
		memcpy(r->b, owner, ol);
		size_t o = ol;
		uint8_t fixed[8] = { (uint8_t)(type >> 8), (uint8_t)type, 0, DNS_C_IN, (uint8_t)(ttl >> 24),
		                     (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8), (uint8_t)ttl };
		memcpy(r->b + o, fixed, 8);
		o += 8;
		size_t start = rd.off;
		if (type == DNS_T_NS || type == DNS_T_CNAME) {
			if (!xd_name(&rd, r->b, &o))
				return false;
		} else if (type == DNS_T_SOA) {
			if (!xd_name(&rd, r->b, &o) || !xd_name(&rd, r->b, &o) || rd.len - rd.off < 20)
				return false;
			memcpy(r->b + o, m + rd.off, 20);
			rd_skip(&rd, 20);
			o += 20;
		} else {
			if (rdlen > 2 * DNAME_MAX)
				return false;
			memcpy(r->b + o, m + rd.off, rdlen);
			rd_skip(&rd, rdlen);
			o += rdlen;
		}
		if (rd.err || rd.off - start != rdlen)
			return false;
		r->len = (uint16_t)o;
	}
	if (h->ar == 1) {
		uint8_t n[DNAME_MAX];
		size_t nl = rd_name(&rd, n);
		uint16_t type = rd_u16(&rd);
		rd_u16(&rd);
		h->opt_ext = rd_u8(&rd);
		uint8_t ver = rd_u8(&rd);
		rd_u16(&rd);
		uint16_t rdlen = rd_u16(&rd);
		rd_skip(&rd, rdlen);
		if (rd.err || nl != 1 || type != DNS_T_OPT || ver != 0)
			return false;
		h->opt = true;
	}
	return rd.off == len;
}

/*
 * Message number n (from 0) of a stream of at most cap bytes, into l: it
 * parses, has id, QR, AA, NOERROR, no TC, records, the question q (qlen
 * bytes) in the first message only, an OPT exactly when edns. False on a
 * broken rule (*why says which).
 */
static bool
xd_msg_ok(const uint8_t *m, size_t len, size_t cap, long n, uint16_t id, const uint8_t *q, size_t qlen,
          bool edns, struct xd_list *l, const char **why)
{
	struct xd_msg h;

	if (len > cap || len > 65535) {
		*why = "longer than cap";
		return false;
	}
	if (!xd_parse(m, len, &h, l)) {
		*why = "does not parse";
		return false;
	}
	if (h.id != id || !(h.flags & DNS_F_QR) || !(h.flags & DNS_F_AA) || (h.flags & DNS_F_TC) ||
	    (h.flags & 0xf) != 0 || DNS_OPCODE(h.flags) != 0) {
		*why = "header";
		return false;
	}
	if (h.an == 0) {
		*why = "no records";
		return false;
	}
	if ((n == 0) != (h.qd == 1) || (n == 0 && (h.qlen != qlen || memcmp(h.question, q, qlen) != 0))) {
		*why = "question";
		return false;
	}
	if (h.opt != edns || (h.opt && h.opt_ext != 0)) {
		*why = "opt";
		return false;
	}
	return true;
}

/* A whole stream with xd_msg_ok's rules; the message count, or -1. */
static long
xd_stream(struct xfr_stream *s, size_t cap, uint16_t id, const uint8_t *q, size_t qlen,
          bool edns, struct xd_list *l, const char **why)
{
	static uint8_t buf[65536];
	long n = 0;
	size_t len;

	*why = "";
	while ((len = xfr_stream_next(s, buf, cap)) > 0) {
		if (!xd_msg_ok(buf, len, cap, n, id, q, qlen, edns, l, why))
			return -1;
		n++;
	}
	if (xfr_stream_failed(s)) {
		*why = "failed";
		return -1;
	}
	return n;
}

#endif
