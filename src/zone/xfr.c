#include "zone/xfr.h"

#include <stdlib.h>
#include <string.h>

#include "dns/wire.h"
#include "zone/xfr_int.h"

#define REC_MAX (DNAME_MAX + 4 + DNAME_MAX) /* owner, type, rdlen, a name as rdata */

/* The groups of a version's records, in the order a transfer sends them. */
enum group { G_SET, G_A, G_AAAA, G_WA, G_WAAAA, G_END };

bool
xfr_serial_gt(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;
	/* RFC 1982 3.2: d == 2^31 is undefined, which we take as "not greater". */
	return d != 0 && d < 0x80000000u;
}

static bool
name_eq(const uint8_t *a, const uint8_t *b)
{
	size_t l = dname_len(a);
	return l == dname_len(b) && memcmp(a, b, l) == 0;
}

static size_t
rec_len(const uint8_t *r)
{
	size_t o = dname_len(r);
	return o + 4 + (size_t)(r[o + 2] << 8 | r[o + 3]);
}

/* Bytewise with the shorter first: any total order serves the merges. */
static int
rec_cmp(const uint8_t *a, const uint8_t *b)
{
	size_t la = rec_len(a), lb = rec_len(b);
	int c = memcmp(a, b, la < lb ? la : lb);
	return c != 0 ? c : (la > lb) - (la < lb);
}

static size_t
rec_put(uint8_t *out, const uint8_t *owner, uint16_t type, const uint8_t *rdata, size_t rdlen)
{
	size_t o = dname_len(owner);

	memcpy(out, owner, o);
	out[o] = (uint8_t)(type >> 8);
	out[o + 1] = (uint8_t)type;
	out[o + 2] = (uint8_t)(rdlen >> 8);
	out[o + 3] = (uint8_t)rdlen;
	memcpy(out + o + 4, rdata, rdlen);
	return o + 4 + rdlen;
}

/*
 * A static row as a record of the transfer, or 0 when answers never give
 * it: rows of the apex (answer.c answers the apex from the node sets, and
 * zone.csv makes its address rows node rows), rows outside the zone, and
 * anything but a well-formed A, AAAA or CNAME.
 */
static size_t
row_encode(const struct zone *z, const struct zone_rr *rr, uint8_t out[REC_MAX])
{
	if (name_eq(rr->name, z->apex) || !dname_in_zone(rr->name, z->apex))
		return 0;
	if (!(rr->type == DNS_T_A && rr->rdlen == 4) && !(rr->type == DNS_T_AAAA && rr->rdlen == 16) &&
	    !(rr->type == DNS_T_CNAME && rr->rdlen == dname_len(rr->rdata)))
		return 0;
	return rec_put(out, rr->name, rr->type, rr->rdata, rr->rdlen);
}

/* answer.c's rule: without --ns the apex NS is the SOA MNAME, so the two always agree. */
static int
ns_names(const struct zone *z, const uint8_t (**ns)[DNAME_MAX])
{
	if (z->nns > 0) {
		*ns = z->ns;
		return z->nns < ZONE_NS_MAX ? z->nns : ZONE_NS_MAX;
	}
	*ns = &z->soa.mname;
	return 1;
}

static void
set_unref(struct xfr_set *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	free(s->arena);
	free(s->rec);
	free(s->rowmap);
	free(s);
}

static const uint8_t *sort_arena; /* qsort has no context argument in C11 */

static int
off_cmp(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return rec_cmp(sort_arena + a, sort_arena + b);
}

/* Index of record r in s->rec, or XFR_ROW_SKIP. */
static uint32_t
set_find(const struct xfr_set *s, const uint8_t *r)
{
	size_t lo = 0, hi = s->nrec;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rec_cmp(s->arena + s->rec[mid], r);
		if (c == 0)
			return (uint32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return XFR_ROW_SKIP;
}

static struct xfr_set *
set_build(const struct zone *z)
{
	uint8_t buf[REC_MAX];
	const uint8_t(*ns)[DNAME_MAX];
	int nns = ns_names(z, &ns);
	size_t total = 0, n = 0;

	/* Two passes over the rows: the arena is allocated at its exact size. */
	for (int i = 0; i < nns; i++, n++)
		total += rec_put(buf, z->apex, DNS_T_NS, ns[i], dname_len(ns[i]));
	for (size_t i = 0; i < z->nrr; i++) {
		size_t l = row_encode(z, &z->rr[i], buf);
		total += l;
		n += l > 0;
	}
	if (total > UINT32_MAX)
		return NULL;
	struct xfr_set *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->refs = 1;
	s->arena = malloc(total);
	s->rec = malloc(n * sizeof(*s->rec));
	s->rowmap = malloc((z->nrr > 0 ? z->nrr : 1) * sizeof(*s->rowmap));
	if (s->arena == NULL || s->rec == NULL || s->rowmap == NULL) {
		set_unref(s);
		return NULL;
	}
	size_t off = 0, k = 0;
	for (int i = 0; i < nns; i++) {
		s->rec[k++] = (uint32_t)off;
		off += rec_put(s->arena + off, z->apex, DNS_T_NS, ns[i], dname_len(ns[i]));
	}
	for (size_t i = 0; i < z->nrr; i++) {
		size_t l = row_encode(z, &z->rr[i], buf);
		if (l > 0) {
			memcpy(s->arena + off, buf, l);
			s->rec[k++] = (uint32_t)off;
			off += l;
		}
	}
	sort_arena = s->arena;
	if (k > 1)
		qsort(s->rec, k, sizeof(*s->rec), off_cmp);
	/* An RRset holds no duplicates (RFC 2181 5): a record twice is sent once. */
	size_t w = 0;
	for (size_t i = 0; i < k; i++)
		if (w == 0 || rec_cmp(s->arena + s->rec[w - 1], s->arena + s->rec[i]) != 0)
			s->rec[w++] = s->rec[i];
	s->nrec = w;
	s->nrows = z->nrr;
	for (size_t i = 0; i < z->nrr; i++)
		s->rowmap[i] = row_encode(z, &z->rr[i], buf) > 0 ? set_find(s, buf) : XFR_ROW_SKIP;

	memcpy(s->apex, z->apex, dname_len(z->apex));
	s->soa = z->soa;
	s->soa.serial = 0;
	s->nns = z->nns;
	for (int i = 0; i < z->nns && i < ZONE_NS_MAX; i++)
		memcpy(s->ns[i], z->ns[i], dname_len(z->ns[i]));
	s->node_ttl = z->node_ttl;
	s->wildcard = z->wildcard;
	size_t al = dname_len(z->apex);
	if (z->wildcard && al + 2 <= DNAME_MAX) {
		s->wname[0] = 1;
		s->wname[1] = '*';
		memcpy(s->wname + 2, z->apex, al);
		/* A static row at *.<apex> would answer there, not the sample. */
		s->wild = true;
		for (size_t i = 0; i < s->nrec && s->wild; i++)
			s->wild = !name_eq(s->arena + s->rec[i], s->wname);
	}
	return s;
}

/* Would set_build(z) give s again? */
static bool
set_matches(const struct xfr_set *s, const struct zone *z)
{
	uint8_t buf[REC_MAX];

	if (!name_eq(s->apex, z->apex) || s->node_ttl != z->node_ttl || s->wildcard != z->wildcard ||
	    s->nns != z->nns || s->nrows != z->nrr)
		return false;
	if (!name_eq(s->soa.mname, z->soa.mname) || !name_eq(s->soa.rname, z->soa.rname) ||
	    s->soa.refresh != z->soa.refresh || s->soa.retry != z->soa.retry ||
	    s->soa.expire != z->soa.expire || s->soa.minimum != z->soa.minimum)
		return false;
	for (int i = 0; i < z->nns && i < ZONE_NS_MAX; i++)
		if (!name_eq(s->ns[i], z->ns[i]))
			return false;
	/* Row by row in file order: the same rows give the same records. */
	for (size_t i = 0; i < z->nrr; i++) {
		size_t l = row_encode(z, &z->rr[i], buf);
		uint32_t m = s->rowmap[i];
		if (l == 0 ? m != XFR_ROW_SKIP
		           : m == XFR_ROW_SKIP || rec_len(s->arena + s->rec[m]) != l ||
		                     memcmp(s->arena + s->rec[m], buf, l) != 0)
			return false;
	}
	return true;
}

void
xfr_version_ref(struct xfr_version *v)
{
	v->refs++;
}

void
xfr_version_unref(struct xfr_version *v)
{
	if (v == NULL || --v->refs > 0)
		return;
	set_unref(v->set);
	free(v->ip4);
	free(v);
}

void
xfr_init(struct xfr *x)
{
	memset(x, 0, sizeof(*x));
}

void
xfr_free(struct xfr *x)
{
	for (size_t i = 0; i < XFR_HISTORY; i++)
		xfr_version_unref(x->v[i]);
	xfr_init(x);
}

static int
cmp4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int
cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* k addresses picked as an apex answer picks them, copied into out and sorted (for the merges). */
static size_t
take_sample(struct nodeset *ns, struct rng *r, size_t k, uint8_t *out)
{
	const uint8_t *picks[XFR_SAMPLE_MAX];
	size_t n = k > 0 ? nodeset_pick(ns, r, picks, k) : 0;

	for (size_t i = 0; i < n; i++)
		memcpy(out + i * ns->alen, picks[i], ns->alen);
	if (n > 1)
		qsort(out, n, ns->alen, ns->alen == 4 ? cmp4 : cmp16);
	return n;
}

int
xfr_new_version(struct xfr *x, struct zone *z, struct rng *r, size_t answers, uint32_t serial)
{
	struct xfr_version *cur = x->v[0];

	if (cur != NULL && !xfr_serial_gt(serial, cur->serial))
		return XFR_E_SERIAL;
	struct xfr_version *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return XFR_E_NOMEM;
	v->refs = 1;
	v->serial = serial;
	if (cur != NULL && set_matches(cur->set, z)) {
		v->set = cur->set;
		v->set->refs++;
	} else if ((v->set = set_build(z)) == NULL) {
		free(v);
		return XFR_E_NOMEM;
	}
	size_t k = answers < XFR_SAMPLE_MAX ? answers : XFR_SAMPLE_MAX;
	size_t k4 = k < nodeset_count(&z->v4) ? k : nodeset_count(&z->v4);
	size_t k6 = k < nodeset_count(&z->v6) ? k : nodeset_count(&z->v6);
	if (k4 + k6 > 0) {
		if ((v->ip4 = malloc(k4 * 4 + k6 * 16)) == NULL) {
			xfr_version_unref(v);
			return XFR_E_NOMEM;
		}
		v->ip6 = v->ip4 + k4 * 4;
	}
	v->n4 = take_sample(&z->v4, r, k4, v->ip4);
	v->n6 = take_sample(&z->v6, r, k6, v->ip6);

	xfr_version_unref(x->v[XFR_HISTORY - 1]);
	memmove(&x->v[1], &x->v[0], (XFR_HISTORY - 1) * sizeof(x->v[0]));
	x->v[0] = v;
	/* Past a wrap of the serial space an old version can hold this serial: it must not answer an IXFR. */
	size_t w = 1;
	for (size_t i = 1; i < XFR_HISTORY; i++) {
		if (x->v[i] != NULL && x->v[i]->serial == serial)
			xfr_version_unref(x->v[i]);
		else if (x->v[i] != NULL)
			x->v[w++] = x->v[i];
	}
	while (w < XFR_HISTORY)
		x->v[w++] = NULL;
	return 0;
}

bool
xfr_static_changed(const struct xfr *x, const struct zone *z)
{
	return x->v[0] == NULL || !set_matches(x->v[0]->set, z);
}

size_t
xfr_sample_gone(const struct xfr *x, const struct zone *z)
{
	const struct xfr_version *v = x->v[0];
	size_t gone = 0;

	if (v == NULL)
		return 0;
	for (size_t i = 0; i < v->n4; i++)
		gone += !nodeset_has(&z->v4, v->ip4 + i * 4);
	for (size_t i = 0; i < v->n6; i++)
		gone += !nodeset_has(&z->v6, v->ip6 + i * 16);
	return gone;
}

bool
xfr_current(const struct xfr *x, struct xfr_info *info)
{
	const struct xfr_version *v = x->v[0];

	memset(info, 0, sizeof(*info));
	if (v == NULL)
		return false;
	info->serial = v->serial;
	info->sample4 = v->n4;
	info->sample6 = v->n6;
	info->records = 2 + v->set->nrec + (v->n4 + v->n6) * (v->set->wild ? 2 : 1);
	for (size_t i = 0; i < XFR_HISTORY && x->v[i] != NULL; i++)
		info->versions++;
	return true;
}

/* One group of a version: a sorted list of records, or of addresses (off NULL). */
struct seq {
	const uint8_t *base;
	const uint32_t *off;
	size_t n, alen;
};

static const uint8_t *
seq_at(const struct seq *q, size_t k)
{
	return q->off != NULL ? q->base + q->off[k] : q->base + k * q->alen;
}

static int
seq_cmp(const struct seq *q, const uint8_t *a, const uint8_t *b)
{
	return q->off != NULL ? rec_cmp(a, b) : memcmp(a, b, q->alen);
}

/* Group g of v; false when v has no such group (no wildcard). */
static bool
group_seq(const struct xfr_version *v, int g, struct seq *q)
{
	if ((g == G_WA || g == G_WAAAA) && !v->set->wild)
		return false;
	switch (g) {
	case G_SET:
		*q = (struct seq){ v->set->arena, v->set->rec, v->set->nrec, 0 };
		break;
	case G_A:
	case G_WA:
		*q = (struct seq){ v->ip4, NULL, v->n4, 4 };
		break;
	default:
		*q = (struct seq){ v->ip6, NULL, v->n6, 16 };
		break;
	}
	return true;
}

static const uint8_t *
group_owner(const struct xfr_version *v, int g)
{
	return g == G_A || g == G_AAAA ? v->set->apex : v->set->wname;
}

/* Does an address stand for the same record in a's and b's group g? */
static bool
comparable(const struct xfr_version *a, const struct xfr_version *b, int g)
{
	return g == G_SET ||
	       (a->set->node_ttl == b->set->node_ttl && name_eq(group_owner(a, g), group_owner(b, g)));
}

static void
describe(const struct xfr_version *v, int g, const uint8_t *e, struct xfr_rr *rr)
{
	if (g == G_SET) {
		size_t o = dname_len(e);
		rr->owner = e;
		rr->type = (uint16_t)(e[o] << 8 | e[o + 1]);
		rr->rdlen = (uint16_t)(e[o + 2] << 8 | e[o + 3]);
		rr->rdata = e + o + 4;
		rr->ttl = ZONE_STATIC_TTL;
		return;
	}
	bool v4 = g == G_A || g == G_WA;
	rr->owner = group_owner(v, g);
	rr->type = v4 ? DNS_T_A : DNS_T_AAAA;
	rr->rdlen = v4 ? 4 : 16;
	rr->rdata = e;
	rr->ttl = v->set->node_ttl;
}

bool
xfr_minus_peek(const struct xfr_version *a, const struct xfr_version *b,
               struct xfr_cursor *c, struct xfr_rr *rr)
{
	for (; c->group < G_END; c->group++, c->i = c->j = 0) {
		struct seq qa, qb = { NULL, NULL, 0, 0 };
		if (!group_seq(a, c->group, &qa))
			continue;
		if (b != NULL) {
			/* One shared static part: nothing of it differs (a rotation). */
			if (c->group == G_SET && a->set == b->set)
				continue;
			if (!group_seq(b, c->group, &qb) || !comparable(a, b, c->group))
				qb.n = 0;
		}
		/* A merge of two sorted lists: the next element of a that b lacks. */
		while (c->i < qa.n) {
			const uint8_t *e = seq_at(&qa, c->i);
			while (c->j < qb.n && seq_cmp(&qa, seq_at(&qb, c->j), e) < 0)
				c->j++;
			if (c->j < qb.n && seq_cmp(&qa, seq_at(&qb, c->j), e) == 0) {
				c->i++;
				c->j++;
				continue;
			}
			describe(a, c->group, e, rr);
			return true;
		}
	}
	return false;
}

void
xfr_minus_take(struct xfr_cursor *c)
{
	c->i++;
}
