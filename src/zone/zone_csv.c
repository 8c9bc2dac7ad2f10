#include "zone/zone_csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/numfmt.h"
#include "dns/wire.h"
#include "base/sbuf.h"

static int
parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int
zonefile_parse_soa(const char *mname, const char *rest, struct zone_soa *soa)
{
	char buf[CSV_LINE_MAX], *tok[7], *save = NULL;
	int n = 0;

	if (strlen(rest) >= sizeof(buf))
		return -1;
	strcpy(buf, rest);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 7)
			return -1;
		tok[n++] = t;
	}
	if (n != 6)
		return -1;
	if (dname_from_text(soa->mname, mname) < 0 || dname_from_text(soa->rname, tok[0]) < 0)
		return -1;
	/* RFC 2181 8: the timers are 31-bit; the serial uses all 32. */
	if (parse_u32(tok[1], UINT32_MAX, &soa->serial) < 0 ||
	    parse_u32(tok[2], INT32_MAX, &soa->refresh) < 0 ||
	    parse_u32(tok[3], INT32_MAX, &soa->retry) < 0 ||
	    parse_u32(tok[4], INT32_MAX, &soa->expire) < 0 ||
	    parse_u32(tok[5], INT32_MAX, &soa->minimum) < 0)
		return -1;
	return 0;
}

static int
push_rr(struct zonefile_parsed *p, const struct zone_rr *rr)
{
	if (p->nrr == p->rrcap) {
		size_t ncap = p->rrcap ? p->rrcap * 2 : 16;
		struct zone_rr *n = realloc(p->rr, ncap * sizeof(*n));
		if (n == NULL)
			return -1;
		p->rr = n;
		p->rrcap = ncap;
	}
	p->rr[p->nrr++] = *rr;
	return 0;
}

/* Room for one more row of alen bytes; -1 when memory ran out. */
static int
node_room(uint8_t **v, size_t n, size_t *cap, size_t alen)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 64;
	uint8_t *nv = realloc(*v, ncap * alen);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int
push_node(struct zonefile_parsed *p, const struct addr *a)
{
	if (a->family == AF_INET) {
		if (node_room(&p->node4, p->n4, &p->cap4, 4) < 0)
			return -1;
		memcpy(p->node4 + 4 * p->n4++, a->ip, 4);
	} else {
		if (node_room(&p->node6, p->n6, &p->cap6, 16) < 0)
			return -1;
		memcpy(p->node6 + 16 * p->n6++, a->ip, 16);
	}
	p->nnodes++;
	return 0;
}

void
zonefile_node(const struct zonefile_parsed *p, size_t i, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (i < p->n4) {
		a->family = AF_INET;
		memcpy(a->ip, p->node4 + 4 * i, 4);
	} else {
		a->family = AF_INET6;
		memcpy(a->ip, p->node6 + 16 * (i - p->n4), 16);
	}
}

static const struct zone_rr *conflict_rr;

static int
conflict_cmp(const void *pa, const void *pb)
{
	const struct zone_rr *a = &conflict_rr[*(const size_t *)pa];
	const struct zone_rr *b = &conflict_rr[*(const size_t *)pb];
	size_t la = dname_len(a->name), lb = dname_len(b->name);
	int c = memcmp(a->name, b->name, la < lb ? la : lb);
	if (c == 0)
		c = (la > lb) - (la < lb);
	if (c == 0)
		c = (a->type > b->type) - (a->type < b->type);
	if (c == 0)
		c = (a->rdlen > b->rdlen) - (a->rdlen < b->rdlen);
	if (c == 0)
		c = memcmp(a->rdata, b->rdata, a->rdlen);
	return c != 0 ? c : (a->line > b->line) - (a->line < b->line);
}

static bool
same_name(const struct zone_rr *a, const struct zone_rr *b)
{
	return dname_len(a->name) == dname_len(b->name) &&
	       memcmp(a->name, b->name, dname_len(a->name)) == 0;
}

/*
 * RFC 1034 3.6.2 and RFC 2181 5: a CNAME owner has no other data, and an
 * RRset holds no duplicates. The earliest row of a name decides; later
 * rows that contradict it are dropped and reported. Sorting puts each
 * name's rows, and duplicates, side by side: linear after the sort.
 */
static int
drop_conflicts(struct zonefile_parsed *p, zonefile_report_fn *report, void *ctx)
{
	size_t *idx = malloc((p->nrr ? p->nrr : 1) * sizeof(*idx));
	uint8_t *drop = calloc(p->nrr ? p->nrr : 1, 1);

	if (idx == NULL || drop == NULL) {
		free(idx);
		free(drop);
		return -1;
	}
	for (size_t i = 0; i < p->nrr; i++)
		idx[i] = i;
	conflict_rr = p->rr;
	qsort(idx, p->nrr, sizeof(*idx), conflict_cmp);
	for (size_t g = 0; g < p->nrr;) {
		size_t e = g + 1, head = g;
		while (e < p->nrr && same_name(&p->rr[idx[e]], &p->rr[idx[g]])) {
			if (p->rr[idx[e]].line < p->rr[idx[head]].line)
				head = e;
			e++;
		}
		bool cname = p->rr[idx[head]].type == DNS_T_CNAME;
		for (size_t i = g; i < e; i++) {
			const struct zone_rr *r = &p->rr[idx[i]];
			const char *why = NULL;
			if (i != head && (cname || r->type == DNS_T_CNAME))
				why = "CNAME and other data at one name (RFC 1034 3.6.2)";
			else if (i > g &&
			         r->type == p->rr[idx[i - 1]].type && r->rdlen == p->rr[idx[i - 1]].rdlen &&
			         memcmp(r->rdata, p->rr[idx[i - 1]].rdata, r->rdlen) == 0)
				why = "duplicate record";
			if (why != NULL) {
				drop[idx[i]] = 1;
				report(ctx, r->line, why);
				p->skipped++;
			}
		}
		g = e;
	}
	size_t w = 0;
	for (size_t i = 0; i < p->nrr; i++)
		if (!drop[i])
			p->rr[w++] = p->rr[i];
	p->nrr = w;
	free(idx);
	free(drop);
	return 0;
}

/*
 * The row zonefile_format writes for an IPv4 node, exactly: the apex as
 * dname_to_text spells it, a comma, a dotted quad as inet_pton(3) takes
 * it (1-3 digits, no leading zero, at most 255), "\n" or the end. Its
 * length with the "\n", or 0 for anything else: the general path decides
 * those, so this only has to be right for what it accepts.
 */
static size_t
apex_ipv4_row(const char *p, size_t avail, const char *atext, size_t atl, uint8_t ip[4])
{
	const char *q, *end = p + avail;

	if (avail < atl + 8 || memcmp(p, atext, atl) != 0 || p[atl] != ',')
		return 0;
	q = p + atl + 1;
	for (int i = 0; i < 4; i++) {
		unsigned v = 0;
		int j = 0;
		for (; j < 3 && q + j < end && q[j] >= '0' && q[j] <= '9'; j++)
			v = v * 10 + (unsigned)(q[j] - '0');
		if (j == 0 || (j > 1 && q[0] == '0') || v > 255)
			return 0;
		ip[i] = (uint8_t)v;
		q += j;
		if (i < 3) {
			if (q == end || *q != '.')
				return 0;
			q++;
		}
	}
	if (q < end && *q != '\n')
		return 0; /* "\r\n", spaces, more fields: the general path */
	return (size_t)(q - p) + (q < end);
}

int
zonefile_parse(const char *buf, size_t len, const uint8_t *apex,
               struct zonefile_parsed *out, zonefile_report_fn *report, void *ctx)
{
	char line[CSV_LINE_MAX], *f[CSV_FIELDS_MAX];
	struct csv c;
	int n;

	memset(out, 0, sizeof(*out));
	if (memchr(buf, '\0', len) != NULL)
		return -1; /* binary, not a zone.csv */
	/* memchr, not a byte loop: a tenth of the time over 2.5 MB. */
	size_t lines = 1;
	for (const char *q = buf, *e = buf + len; (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++)
		lines++;
	csv_init(&c, buf, len);
	n = csv_next(&c, line, f);
	if (n != 2 || zonefile_parse_soa(f[0], f[1], &out->soa) < 0)
		return -1;
	/* Room for every line as an IPv4 node row (the bulk of a seeder's zone): no regrowth. */
	out->node4 = malloc(lines * 4);
	if (out->node4 == NULL)
		goto oom;
	out->cap4 = lines;

	/* The fast path reads apex rows as the general one would: only if the text names the apex. */
	char atext[DNAME_TEXT_MAX];
	uint8_t back[DNAME_MAX];
	dname_to_text(apex, atext, sizeof(atext));
	size_t atl = dname_from_text(back, atext) >= 0 && dname_len(back) == dname_len(apex) &&
	             memcmp(back, apex, dname_len(apex)) == 0 ? strlen(atext) : 0;

	for (;;) {
		struct zone_rr rr;
		struct addr a;
		const char *why = NULL;
		size_t used;

		uint8_t ip4[4];
		if (atl > 0 && (used = apex_ipv4_row(c.p + c.off, c.len - c.off, atext, atl, ip4)) > 0) {
			csv_skip_line(&c, used);
			a = (struct addr){ .family = AF_INET };
			memcpy(a.ip, ip4, 4);
			if (addr_is_unusable(&a)) {
				report(ctx, c.line, "unspecified, multicast or broadcast address");
				out->skipped++;
			} else if (push_node(out, &a) < 0) {
				goto oom;
			}
			continue;
		}
		if ((n = csv_next(&c, line, f)) == 0)
			break;

		memset(&rr, 0, sizeof(rr));
		rr.line = c.line;
		if (n != 2)
			why = "expected NAME,VALUE";
		else if (dname_from_text(rr.name, f[0]) < 0)
			why = "bad name";
		else if (f[1][0] == '\0')
			why = "empty value"; /* it would read as a CNAME to the root */
		else if (!dname_in_zone(rr.name, apex))
			why = "name not in the zone";
		else if (addr_parse_ip(&a, f[1]) == 0) {
			bool at_apex = memcmp(rr.name, apex, dname_len(apex)) == 0 &&
			               dname_len(rr.name) == dname_len(apex);
			if (at_apex) {
				if (addr_is_unusable(&a))
					why = "unspecified, multicast or broadcast address";
				else if (push_node(out, &a) < 0)
					goto oom;
			} else {
				rr.type = a.family == AF_INET ? DNS_T_A : DNS_T_AAAA;
				rr.rdlen = (uint16_t)addr_len(&a);
				memcpy(rr.rdata, a.ip, rr.rdlen);
				if (push_rr(out, &rr) < 0)
					goto oom;
			}
		} else {
			int tl = dname_from_text(rr.rdata, f[1]);
			char text[DNAME_TEXT_MAX];
			struct addr look;
			if (tl >= 0)
				dname_to_text(rr.rdata, text, sizeof(text));
			if (tl < 0)
				why = "value is neither an address nor a host name";
			else if (addr_parse_ip(&look, text) == 0)
				/* "1.2.3.4." would be written back as an A record */
				why = "a host name that reads as an address";
			else if (dname_len(rr.name) == dname_len(apex))
				why = "CNAME at the apex (it holds the SOA and NS)";
			else {
				rr.type = DNS_T_CNAME;
				rr.rdlen = (uint16_t)tl;
				if (push_rr(out, &rr) < 0)
					goto oom;
			}
		}
		if (n < 0)
			why = "line too long or too many fields";
		if (why != NULL) {
			report(ctx, c.line, why);
			out->skipped++;
		}
	}
	if (drop_conflicts(out, report, ctx) < 0)
		goto oom;
	return 0;
oom:
	zonefile_parsed_free(out);
	errno = ENOMEM;
	return -2;
}

void
zonefile_parsed_free(struct zonefile_parsed *p)
{
	free(p->rr);
	free(p->node4);
	free(p->node6);
	p->rr = NULL;
	p->node4 = p->node6 = NULL;
	p->nrr = p->nnodes = p->n4 = p->n6 = 0;
	p->cap4 = p->cap6 = 0;
}

static size_t sort_alen;

static int
ip_cmp(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, sort_alen);
}

/* IPv4 addresses as big-endian numbers, sorted by radix: qsort of 100,000 took longer than the rest. */
static void
sort_u32(uint32_t *v, uint32_t *tmp, size_t n)
{
	for (int shift = 0; shift < 32; shift += 8) {
		size_t count[257] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[((v[i] >> shift) & 0xff) + 1]++;
		for (int k = 0; k < 256; k++)
			count[k + 1] += count[k];
		for (size_t i = 0; i < n; i++)
			tmp[count[(v[i] >> shift) & 0xff]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
}

/* Text going out in pieces of at most ZONEFILE_PIECE bytes. */
struct emit {
	zonefile_out_fn *out;
	void *ctx;
	size_t len;
	int err;
	char buf[ZONEFILE_PIECE];
};

/* Room for n more bytes (n < ZONEFILE_PIECE): the pending piece goes out first when short. */
static char *
emit_room(struct emit *e, size_t n)
{
	if (ZONEFILE_PIECE - e->len < n) {
		if (!e->err && e->out(e->ctx, e->buf, e->len) < 0)
			e->err = 1;
		e->len = 0;
	}
	return e->buf + e->len;
}

static void
emit_str(struct emit *e, const char *s, size_t n)
{
	memcpy(emit_room(e, n), s, n);
	e->len += n;
}

static void
format_nodes(struct emit *e, const struct nodeset *s, int family, const char *apex)
{
	size_t al = strlen(apex), row = al + ADDR_STRLEN + 2;
	char ip[ADDR_STRLEN];

	if (s->n == 0)
		return;
	if (family == AF_INET) {
		uint32_t *v = malloc(2 * s->n * sizeof(*v));
		if (v == NULL) {
			e->err = 1;
			return;
		}
		for (size_t i = 0; i < s->n; i++) {
			const uint8_t *p = nodeset_ip(s, i);
			v[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		}
		sort_u32(v, v + s->n, s->n); /* stable files diff well */
		for (size_t i = 0; i < s->n; i++) {
			char *o = emit_room(e, row), *o0 = o;
			memcpy(o, apex, al);
			o += al;
			*o++ = ',';
			for (int k = 24; k >= 0; k -= 8) {
				o = numfmt_u(o, (v[i] >> k) & 0xff);
				*o++ = k ? '.' : '\n';
			}
			e->len += (size_t)(o - o0);
		}
		free(v);
		return;
	}
	const uint8_t **ips = malloc(s->n * sizeof(*ips));
	if (ips == NULL) {
		e->err = 1;
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		ips[i] = nodeset_ip(s, i);
	sort_alen = s->alen;
	qsort(ips, s->n, sizeof(*ips), ip_cmp); /* stable files diff well */
	for (size_t i = 0; i < s->n; i++) {
		struct addr a = { .family = (uint8_t)family };
		memcpy(a.ip, ips[i], s->alen);
		addr_ip_str(&a, ip, sizeof(ip));
		size_t il = strlen(ip);
		char *o = emit_room(e, row);
		memcpy(o, apex, al);
		o[al] = ',';
		memcpy(o + al + 1, ip, il);
		o[al + 1 + il] = '\n';
		e->len += al + il + 2;
	}
	free(ips);
}

int
zonefile_write(const struct zone *z, zonefile_out_fn *out, void *ctx)
{
	struct emit *e = malloc(sizeof(*e));
	char apex[DNAME_TEXT_MAX], n1[DNAME_TEXT_MAX], n2[DNAME_TEXT_MAX], line[3 * DNAME_TEXT_MAX + 64];

	if (e == NULL)
		return -1;
	e->out = out;
	e->ctx = ctx;
	e->len = 0;
	e->err = 0;
	dname_to_text(z->apex, apex, sizeof(apex));
	dname_to_text(z->soa.mname, n1, sizeof(n1));
	dname_to_text(z->soa.rname, n2, sizeof(n2));
	int n = snprintf(line, sizeof(line), "%s,%s %u %u %u %u %u\n", n1, n2, z->soa.serial, z->soa.refresh,
	                 z->soa.retry, z->soa.expire, z->soa.minimum);
	emit_str(e, line, (size_t)n);
	format_nodes(e, &z->v4, AF_INET, apex);
	format_nodes(e, &z->v6, AF_INET6, apex);
	for (size_t i = 0; i < z->nrr; i++) {
		const struct zone_rr *rr = &z->rr[i];
		dname_to_text(rr->name, n1, sizeof(n1));
		if (rr->type == DNS_T_CNAME) {
			dname_to_text(rr->rdata, n2, sizeof(n2));
		} else {
			struct addr a = { .family = rr->type == DNS_T_A ? AF_INET : AF_INET6 };
			memcpy(a.ip, rr->rdata, rr->rdlen);
			addr_ip_str(&a, n2, sizeof(n2));
		}
		n = snprintf(line, sizeof(line), "%s,%s\n", n1, n2);
		emit_str(e, line, (size_t)n);
	}
	if (!e->err && e->len > 0 && out(ctx, e->buf, e->len) < 0)
		e->err = 1;
	int err = e->err;
	free(e);
	return err ? -1 : 0;
}

static int
to_sbuf(void *ctx, const char *p, size_t n)
{
	struct sbuf *b = ctx;
	char *o = sb_room(b, n);

	if (o == NULL)
		return -1;
	memcpy(o, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

char *
zonefile_format(const struct zone *z, size_t *len)
{
	struct sbuf b;

	sb_init(&b, 4096);
	if (b.p == NULL)
		return NULL;
	if (zonefile_write(z, to_sbuf, &b) < 0 || b.err) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
