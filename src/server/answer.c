#include "server/answer.h"

#include <string.h>

#include "dns/wire.h"

#define OPT_RR_LEN 11   /* root, type, class, ttl, rdlen 0 */
#define OPT_COOKIE 10   /* RFC 7873 option code */
#define CNAME_CHAIN_MAX 8

struct query {
	uint16_t id, flags;
	uint16_t qtype, qclass;
	size_t qend;             /* end of the question in the query */
	uint8_t *lname;          /* lowercase qname: the client's buffer or scratch */
	bool edns;
	uint16_t udp_size;
	uint8_t edns_version;
	bool do_bit;
	const uint8_t *cookie;   /* the first COOKIE option's data, NULL: none */
	uint16_t cookie_len;
	uint8_t cookie_out[COOKIE_OPT_MAX];
	size_t cookie_out_len;   /* 0: no COOKIE option in the reply */
	struct dns_client *cl;   /* NULL: nothing to tell */
};

struct reply {
	struct wr w;
	uint16_t an, ns, ar;
	bool tc;
	bool question; /* the question was echoed */
};

enum lookup { L_ANSWER, L_NODATA, L_NXDOMAIN };

/* Owner of a record: the qname (a pointer to offset 12) or a name of ours. */
struct owner {
	const uint8_t *name; /* NULL: the qname */
};

static void
put_owner(struct reply *rp, struct owner o)
{
	if (o.name == NULL)
		wr_ptr(&rp->w, DNS_HDR);
	else
		wr_name(&rp->w, o.name);
}

/* One record; rolled back whole when it does not fit. */
static bool
put_rr(struct reply *rp, struct owner o, uint16_t type, uint32_t ttl,
       const uint8_t *rdata, uint16_t rdlen, bool rdata_is_name)
{
	struct wr_mark m = wr_mark(&rp->w);

	put_owner(rp, o);
	wr_u16(&rp->w, type);
	wr_u16(&rp->w, DNS_C_IN);
	wr_u32(&rp->w, ttl);
	size_t lenpos = rp->w.off;
	wr_u16(&rp->w, 0);
	if (rdata_is_name)
		wr_name(&rp->w, rdata);
	else
		wr_bytes(&rp->w, rdata, rdlen);
	if (rp->w.err) {
		wr_rollback(&rp->w, m);
		return false;
	}
	wr_put_u16(&rp->w, lenpos, (uint16_t)(rp->w.off - lenpos - 2));
	return true;
}

static bool
put_soa(struct reply *rp, const struct zone *z, uint32_t ttl)
{
	struct wr_mark m = wr_mark(&rp->w);
	struct owner o = { z->apex };

	put_owner(rp, o);
	wr_u16(&rp->w, DNS_T_SOA);
	wr_u16(&rp->w, DNS_C_IN);
	wr_u32(&rp->w, ttl);
	size_t lenpos = rp->w.off;
	wr_u16(&rp->w, 0);
	wr_name(&rp->w, z->soa.mname);
	wr_name(&rp->w, z->soa.rname);
	wr_u32(&rp->w, zone_served_serial(z));
	wr_u32(&rp->w, z->soa.refresh);
	wr_u32(&rp->w, z->soa.retry);
	wr_u32(&rp->w, z->soa.expire);
	wr_u32(&rp->w, z->soa.minimum);
	if (rp->w.err) {
		wr_rollback(&rp->w, m);
		return false;
	}
	wr_put_u16(&rp->w, lenpos, (uint16_t)(rp->w.off - lenpos - 2));
	return true;
}

/* Node addresses of the apex: as many as fit, never TC (SPEC 4). */
static enum lookup
answer_nodes(struct reply *rp, struct zone *z, struct rng *r, struct owner o,
             int family, size_t max, struct dns_stats *st)
{
	const uint8_t *picks[1024];
	uint16_t type = family == AF_INET ? DNS_T_A : DNS_T_AAAA;
	uint16_t alen = family == AF_INET ? 4 : 16;

	if (max > sizeof(picks) / sizeof(picks[0]))
		max = sizeof(picks) / sizeof(picks[0]);
	/* Never pick more than fits: each record is the same size. */
	struct wr_mark m = wr_mark(&rp->w);
	put_owner(rp, o);
	size_t rrlen = (rp->w.off - m.off) + 10 + alen;
	wr_rollback(&rp->w, m);
	size_t fit = (rp->w.cap - rp->w.off) / rrlen;
	if (max > fit) {
		if (nodeset_count(zone_nodes(z, family)) > fit)
			st->shortened++;
		max = fit;
	}
	size_t n = nodeset_pick(zone_nodes(z, family), r, picks, max);
	if (o.name == NULL) {
		/* The hot path of a seeder: owner, type, class, TTL and length are the
		 * same 12 bytes in every record, and the room was counted above. */
		uint8_t tmpl[12] = { 0xc0, DNS_HDR, 0, (uint8_t)type, 0, DNS_C_IN,
		                     (uint8_t)(z->node_ttl >> 24), (uint8_t)(z->node_ttl >> 16),
		                     (uint8_t)(z->node_ttl >> 8), (uint8_t)z->node_ttl, 0, (uint8_t)alen };
		uint8_t *p = rp->w.p + rp->w.off;
		for (size_t i = 0; i < n; i++) {
			memcpy(p, tmpl, sizeof(tmpl));
			/* constant sizes: plain moves, not a string copy */
			if (alen == 4)
				memcpy(p + sizeof(tmpl), picks[i], 4);
			else
				memcpy(p + sizeof(tmpl), picks[i], 16);
			p += sizeof(tmpl) + alen;
		}
		rp->w.off += n * rrlen;
		rp->an = (uint16_t)(rp->an + n);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (!put_rr(rp, o, type, z->node_ttl, picks[i], alen, false))
				break; /* cannot happen: room was counted above */
			rp->an++;
		}
	}
	return rp->an > 0 ? L_ANSWER : L_NODATA;
}

static enum lookup answer_name(struct reply *rp, struct zone *z, struct rng *r,
                               struct owner o, const uint8_t *name, uint16_t qtype,
                               size_t answers, int depth, struct dns_stats *st);

/* Static records of one name: CNAME chased inside the zone, TC when they do not fit. */
static enum lookup
answer_static(struct reply *rp, struct zone *z, struct rng *r, struct owner o,
              const struct zone_name *zn, uint16_t qtype, size_t answers, int depth,
              struct dns_stats *st)
{
	const struct zone_rr *first = zone_rr_at(z, zn, 0);

	/* RFC 1034 3.6.2: a CNAME owner has no other data, so one row says it all. */
	if (first->type == DNS_T_CNAME && qtype != DNS_T_CNAME) {
		if (!put_rr(rp, o, DNS_T_CNAME, ZONE_STATIC_TTL, first->rdata, first->rdlen, true)) {
			rp->tc = true;
			return L_ANSWER;
		}
		rp->an++;
		if (depth >= CNAME_CHAIN_MAX || !dname_in_zone(first->rdata, z->apex))
			return L_ANSWER;
		struct owner t = { first->rdata };
		enum lookup l = answer_name(rp, z, r, t, first->rdata, qtype, answers, depth + 1, st);
		/* RFC 6604: the rcode belongs to the last name of the chain. */
		return l == L_NXDOMAIN ? L_NXDOMAIN : L_ANSWER;
	}
	/* RFC 8482: ANY gets one RRset, the A records when there are any. */
	uint16_t want = qtype;
	if (qtype == DNS_T_ANY) {
		want = first->type;
		for (uint32_t i = 0; i < zn->count; i++)
			if (zone_rr_at(z, zn, i)->type == DNS_T_A)
				want = DNS_T_A;
	}
	uint16_t before = rp->an;
	for (uint32_t i = 0; i < zn->count; i++) {
		const struct zone_rr *rr = zone_rr_at(z, zn, i);
		if (rr->type != want)
			continue;
		if (!put_rr(rp, o, rr->type, ZONE_STATIC_TTL, rr->rdata, rr->rdlen,
		            rr->type == DNS_T_CNAME)) {
			rp->tc = true;
			return L_ANSWER;
		}
		rp->an++;
	}
	return rp->an > before ? L_ANSWER : L_NODATA;
}

static bool
is_apex_like(const struct zone *z, const uint8_t *name)
{
	return z->wildcard && dname_labels(name) == dname_labels(z->apex) + 1;
}

static enum lookup
answer_apex(struct reply *rp, struct zone *z, struct rng *r, struct owner o,
            uint16_t qtype, size_t answers, bool apex, struct dns_stats *st)
{
	switch (qtype) {
	case DNS_T_A:
	case DNS_T_ANY: /* RFC 8482: the apex's A records only */
		return answer_nodes(rp, z, r, o, AF_INET, answers, st);
	case DNS_T_AAAA:
		return answer_nodes(rp, z, r, o, AF_INET6, answers, st);
	case DNS_T_SOA:
		if (!apex)
			return L_NODATA;
		if (put_soa(rp, z, ZONE_STATIC_TTL))
			rp->an++;
		else
			rp->tc = true;
		return L_ANSWER;
	case DNS_T_NS:
		if (!apex)
			return L_NODATA;
		/* Without --ns the apex NS is the SOA MNAME, so the two always agree. */
		int nns = z->nns > 0 ? z->nns : 1;
		const uint8_t(*ns)[DNAME_MAX] = z->nns > 0 ? z->ns : &z->soa.mname;
		for (int i = 0; i < nns; i++) {
			if (!put_rr(rp, o, DNS_T_NS, ZONE_STATIC_TTL, ns[i], 0, true)) {
				rp->tc = true;
				return L_ANSWER;
			}
			rp->an++;
		}
		/* Glue for in-zone NS names; leaving it out when it does not fit is fine. */
		for (int i = 0; i < nns; i++) {
			const struct zone_name *zn = zone_find(z, ns[i]);
			for (uint32_t j = 0; zn != NULL && j < zn->count; j++) {
				const struct zone_rr *rr = zone_rr_at(z, zn, j);
				if (rr->type != DNS_T_A && rr->type != DNS_T_AAAA)
					continue;
				struct owner g = { ns[i] };
				if (put_rr(rp, g, rr->type, ZONE_STATIC_TTL, rr->rdata, rr->rdlen, false))
					rp->ar++;
			}
		}
		return L_ANSWER;
	default:
		return L_NODATA;
	}
}

static enum lookup
answer_name(struct reply *rp, struct zone *z, struct rng *r, struct owner o,
            const uint8_t *name, uint16_t qtype, size_t answers, int depth,
            struct dns_stats *st)
{
	if (dname_len(name) == dname_len(z->apex) &&
	    memcmp(name, z->apex, dname_len(name)) == 0)
		return answer_apex(rp, z, r, o, qtype, answers, true, st);
	const struct zone_name *zn = zone_find(z, name);
	if (zn != NULL && zn->count > 0)
		return answer_static(rp, z, r, o, zn, qtype, answers, depth, st);
	if (zn != NULL)
		return L_NODATA; /* RFC 8020: an empty non-terminal exists */
	if (is_apex_like(z, name))
		return answer_apex(rp, z, r, o, qtype, answers, false, st);
	return L_NXDOMAIN;
}

static enum dns_qt
qt_index(uint16_t t)
{
	switch (t) {
	case DNS_T_A: return DNS_QT_A;
	case DNS_T_AAAA: return DNS_QT_AAAA;
	case DNS_T_ANY: return DNS_QT_ANY;
	case DNS_T_SOA: return DNS_QT_SOA;
	case DNS_T_NS: return DNS_QT_NS;
	case DNS_T_CNAME: return DNS_QT_CNAME;
	default: return DNS_QT_OTHER;
	}
}

/* Skip one resource record; the reader's error says whether it was whole. */
static void
skip_rr(struct rd *rd)
{
	uint8_t name[DNAME_MAX];

	rd_name(rd, name);
	rd_skip(rd, 8); /* type, class, ttl */
	rd_skip(rd, rd_u16(rd));
}

/* RFC 6891 6.1: at most one OPT, owned by the root, options filling RDLEN exactly. */
static bool
parse_additional(struct rd *rd, uint16_t count, struct query *qy)
{
	uint8_t name[DNAME_MAX];

	for (uint16_t i = 0; i < count; i++) {
		size_t nlen = rd_name(rd, name);
		uint16_t type = rd_u16(rd);
		if (rd->err)
			return false;
		if (type != DNS_T_OPT) {
			rd_skip(rd, 6);
			rd_skip(rd, rd_u16(rd));
			continue;
		}
		if (qy->edns || nlen != 1)
			return false;
		qy->edns = true;
		qy->udp_size = rd_u16(rd);
		rd_u8(rd); /* extended rcode: meaningless in a query */
		qy->edns_version = rd_u8(rd);
		qy->do_bit = (rd_u16(rd) & 0x8000) != 0;
		uint16_t rdlen = rd_u16(rd);
		if (rd->err || rd->len - rd->off < rdlen)
			return false;
		struct rd opts;
		rd_init(&opts, rd->p + rd->off, rdlen);
		while (opts.off < opts.len && !opts.err) {
			uint16_t code = rd_u16(&opts); /* unknown option codes are ignored */
			uint16_t olen = rd_u16(&opts);
			if (!opts.err && code == OPT_COOKIE && qy->cookie == NULL &&
			    opts.len - opts.off >= olen) {
				qy->cookie = opts.p + opts.off; /* later COOKIE options ignored */
				qy->cookie_len = olen;
			}
			rd_skip(&opts, olen);
		}
		if (opts.err)
			return false;
		rd_skip(rd, rdlen);
	}
	return !rd->err;
}

/* Header of the reply; the question follows when there is one. */
static void
start_reply(struct reply *rp, const struct query *qy, const uint8_t *q, bool with_question)
{
	uint16_t flags = (uint16_t)(DNS_F_QR | (qy->flags & 0x7800));

	/* RD and CD are defined for QUERY only (RFC 1035 4.1.1, RFC 4035 3.2.2): clear for other opcodes. */
	if (DNS_OPCODE(qy->flags) == 0)
		flags |= qy->flags & (DNS_F_RD | DNS_F_CD);

	wr_u16(&rp->w, qy->id);
	wr_u16(&rp->w, flags);
	wr_u16(&rp->w, with_question ? 1 : 0);
	wr_u16(&rp->w, 0);
	wr_u16(&rp->w, 0);
	wr_u16(&rp->w, 0);
	rp->question = with_question;
	if (with_question) {
		/* Echo the question byte for byte: case preserved. */
		wr_bytes(&rp->w, q + DNS_HDR, qy->qend - DNS_HDR);
		wr_name_known(&rp->w, DNS_HDR);
	}
}

static size_t
finish(struct reply *rp, const struct query *qy, unsigned rcode, bool aa,
       struct dns_stats *st)
{
	uint16_t flags = (uint16_t)(rp->w.p[2] << 8 | rp->w.p[3]);

	flags = (uint16_t)((flags & 0xfff0u) | (rcode & 0xfu));
	if (aa)
		flags |= DNS_F_AA;
	if (rp->tc) {
		flags |= DNS_F_TC;
		st->truncated++;
	}
	size_t opt_off = rp->w.off;
	if (qy->edns) {
		/* Room for OPT (and its cookie) was held back from the writer's capacity. */
		size_t olen = qy->cookie_out_len ? 4 + qy->cookie_out_len : 0;
		rp->w.cap += OPT_RR_LEN + olen;
		wr_u8(&rp->w, 0);
		wr_u16(&rp->w, DNS_T_OPT);
		wr_u16(&rp->w, DNS_EDNS_SIZE);
		wr_u8(&rp->w, (uint8_t)(rcode >> 4));
		wr_u8(&rp->w, 0);                       /* version 0 */
		wr_u16(&rp->w, qy->do_bit ? 0x8000 : 0); /* RFC 3225: DO copied back */
		wr_u16(&rp->w, (uint16_t)olen);
		if (olen) {
			wr_u16(&rp->w, OPT_COOKIE);
			wr_u16(&rp->w, (uint16_t)qy->cookie_out_len);
			wr_bytes(&rp->w, qy->cookie_out, qy->cookie_out_len);
		}
		rp->ar++;
	}
	if (qy->cl != NULL) {
		qy->cl->opt_off = opt_off;
		qy->cl->opt_len = qy->edns ? rp->w.off - opt_off : 0;
		qy->cl->question_end = rp->question ? qy->qend : DNS_HDR;
	}
	wr_put_u16(&rp->w, 2, flags);
	wr_put_u16(&rp->w, 6, rp->an);
	wr_put_u16(&rp->w, 8, rp->ns);
	wr_put_u16(&rp->w, 10, rp->ar);
	st->rcode[rcode < 6 ? rcode : rcode == DNS_R_BADVERS ? DNS_RC_BADVERS : DNS_RC_BADCOOKIE]++;
	return rp->w.err ? 0 : rp->w.off;
}

/* Errors found before EDNS is known: header (and question if read), no OPT. */
static size_t
early_error(struct reply *rp, struct query *qy, const uint8_t *q, bool with_question,
            unsigned rcode, struct dns_stats *st)
{
	qy->edns = false;
	start_reply(rp, qy, q, with_question);
	return finish(rp, qy, rcode, false, st);
}

/* Class of the reply for RRL (SPEC 4): answers by name and type, wildcard
 * names as one, NXDOMAIN and NODATA per zone, errors together. */
static void
classify(struct dns_client *c, const struct zone *z, const struct query *qy, enum lookup l)
{
	if (c == NULL)
		return;
	if (l != L_ANSWER) {
		c->cls = RRL_NEGATIVE;
		c->cls_name = z->apex;
	} else if (is_apex_like(z, qy->lname) && zone_find(z, qy->lname) == NULL) {
		c->cls = RRL_WILDCARD;
		c->cls_name = z->apex;
	} else {
		c->cls = RRL_ANSWER;
		c->cls_name = qy->lname;
	}
	c->cls_type = qy->qtype;
}

/* RFC 7873 5.2: judge the COOKIE option and prepare ours; false: malformed. */
static bool
take_cookie(struct query *qy, struct dns_stats *st)
{
	struct dns_client *c = qy->cl;

	if (!qy->edns || qy->cookie == NULL || c == NULL || c->cookies == NULL || c->ip == NULL) {
		st->cookie[COOKIE_NONE]++;
		return true;
	}
	c->cookie = cookie_check(c->cookies, qy->cookie, qy->cookie_len, c->ip, c->iplen, c->now);
	st->cookie[c->cookie]++;
	if (c->cookie == COOKIE_MALFORMED)
		return false;
	qy->cookie_out_len = cookie_reply(c->cookies, qy->cookie, qy->cookie_len, c->cookie,
	                                  c->ip, c->iplen, c->now, qy->cookie_out);
	return true;
}

size_t
dns_answer(struct zone *z, struct rng *r, const uint8_t *q, size_t qlen,
           uint8_t *out, size_t outcap, bool tcp, struct dns_client *c,
           struct dns_stats *st)
{
	struct query qy;
	struct reply rp = { .an = 0 };
	struct rd rd;
	uint8_t scratch[DNAME_MAX];

	if (c != NULL) {
		c->cookie = COOKIE_NONE;
		c->cls = RRL_ERROR;
		c->cls_name = NULL;
		c->cls_type = 0;
		c->question_end = DNS_HDR;
		c->opt_off = c->opt_len = 0;
	}
	if (qlen < DNS_HDR || outcap < DNS_UDP_MIN) {
		st->drop[DNS_DROP_SHORT]++;
		return 0;
	}
	rd_init(&rd, q, qlen);
	qy.id = rd_u16(&rd);
	qy.flags = rd_u16(&rd);
	qy.edns = false;
	qy.qend = DNS_HDR;
	qy.qtype = qy.qclass = 0;
	qy.cookie = NULL;
	qy.cookie_len = 0;
	qy.cookie_out_len = 0;
	qy.cl = c;
	qy.lname = c != NULL ? c->qname : scratch;
	if (qy.flags & DNS_F_QR) {
		st->drop[DNS_DROP_QR]++;
		return 0;
	}
	uint16_t qd = rd_u16(&rd), an = rd_u16(&rd), ns = rd_u16(&rd), ar = rd_u16(&rd);
	wr_init(&rp.w, out, DNS_UDP_MIN);

	if (DNS_OPCODE(qy.flags) != 0) {
		st->notimp++;
		return early_error(&rp, &qy, q, false, DNS_R_NOTIMP, st);
	}
	if (qd > 1) {
		st->formerr++;
		return early_error(&rp, &qy, q, false, DNS_R_FORMERR, st);
	}
	if (qd == 1) {
		uint8_t qname[DNAME_MAX];
		size_t qnlen = rd_name(&rd, qname);
		qy.qtype = rd_u16(&rd);
		qy.qclass = rd_u16(&rd);
		if (rd.err) {
			st->formerr++;
			return early_error(&rp, &qy, q, false, DNS_R_FORMERR, st);
		}
		qy.qend = rd.off;
		memcpy(qy.lname, qname, qnlen);
		dname_lower(qy.lname);
		st->qtype[qt_index(qy.qtype)]++;
	}

	for (uint32_t i = 0; i < (uint32_t)an + ns && !rd.err; i++)
		skip_rr(&rd);
	if (rd.err || !parse_additional(&rd, ar, &qy)) {
		st->formerr++;
		return early_error(&rp, &qy, q, qd == 1, DNS_R_FORMERR, st);
	}
	/* RFC 7873 5.4: no question is allowed only to learn a server cookie. */
	if (qd == 0 && (!qy.edns || qy.cookie == NULL || c == NULL || c->cookies == NULL)) {
		st->formerr++;
		return early_error(&rp, &qy, q, false, DNS_R_FORMERR, st);
	}
	bool cookie_ok = take_cookie(&qy, st);

	/* How large a reply may be: RFC 1035 512, RFC 6891 the client's size up to ours. */
	size_t limit = DNS_UDP_MIN;
	if (tcp)
		limit = 65535;
	else if (qy.edns && qy.udp_size > DNS_UDP_MIN)
		limit = qy.udp_size < DNS_EDNS_SIZE ? qy.udp_size : DNS_EDNS_SIZE;
	if (limit > outcap)
		limit = outcap;
	if (qy.edns) {
		st->edns++;
		limit -= OPT_RR_LEN + (qy.cookie_out_len ? 4 + qy.cookie_out_len : 0);
	}
	wr_init(&rp.w, out, limit);
	start_reply(&rp, &qy, q, qd == 1);

	if (qy.edns && qy.edns_version > 0) {
		st->badvers++;
		return finish(&rp, &qy, DNS_R_BADVERS, false, st);
	}
	if (!cookie_ok) {
		st->formerr++;
		return finish(&rp, &qy, DNS_R_FORMERR, false, st);
	}
	/* RFC 7873 5.2.4: a bad server cookie over UDP gets BADCOOKIE and a good
	 * one to retry with; over TCP the source is proven, so it is answered. */
	if (qy.cookie_out_len && c->cookie == COOKIE_BAD && !tcp) {
		st->badcookie++;
		return finish(&rp, &qy, DNS_R_BADCOOKIE, false, st);
	}
	if (qd == 0)
		return finish(&rp, &qy, DNS_R_NOERROR, false, st);
	if (qy.qclass != DNS_C_IN && qy.qclass != DNS_C_ANY) {
		st->refused_class++;
		return finish(&rp, &qy, DNS_R_REFUSED, false, st);
	}
	if (!dname_in_zone(qy.lname, z->apex)) {
		st->refused_zone++;
		return finish(&rp, &qy, DNS_R_REFUSED, false, st);
	}
	if (qy.qtype == DNS_T_AXFR || qy.qtype == DNS_T_IXFR) {
		st->refused_xfr++;
		return finish(&rp, &qy, DNS_R_REFUSED, false, st);
	}

	struct owner o = { NULL };
	struct wr_mark after_question = wr_mark(&rp.w);
	enum lookup l = answer_name(&rp, z, r, o, qy.lname, qy.qtype, z->answers, 0, st);
	classify(c, z, &qy, l);
	if (rp.tc) {
		/* A static answer that does not fit: TC with the question only. */
		wr_rollback(&rp.w, after_question);
		rp.an = rp.ns = rp.ar = 0;
	} else if (l != L_ANSWER) {
		/* RFC 2308: negative answers carry the SOA, TTL min(SOA TTL, MINIMUM). */
		uint32_t ttl = z->soa.minimum < ZONE_STATIC_TTL ? z->soa.minimum : ZONE_STATIC_TTL;
		if (put_soa(&rp, z, ttl))
			rp.ns++;
	}
	return finish(&rp, &qy, l == L_NXDOMAIN ? DNS_R_NXDOMAIN : DNS_R_NOERROR, true, st);
}

size_t
dns_slip(uint8_t *reply, size_t len, const struct dns_client *c)
{
	size_t keep = c->question_end, opt = c->opt_len;

	/* Other opcodes get a bare header (QR, opcode, NOTIMP): nothing to cut, and TC means nothing there. */
	if (len < DNS_HDR || DNS_OPCODE(reply[2] << 8) != 0)
		return len;
	if (keep > len || c->opt_off < keep || c->opt_off + opt > len) {
		keep = DNS_HDR; /* not a reply dns_answer made for c: the bare header */
		opt = 0;
		reply[5] = 0;
	}
	memmove(reply + keep, reply + c->opt_off, opt);
	reply[2] |= DNS_F_TC >> 8;
	memset(reply + 6, 0, 6); /* QDCOUNT stays: the question is kept */
	reply[4] = 0;
	reply[11] = opt ? 1 : 0;
	return keep + opt;
}
