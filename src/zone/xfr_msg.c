#include "zone/xfr.h"

#include <string.h>

#include "dns/wire.h"
#include "zone/xfr_int.h"

#define OPT_RR_LEN 11         /* root, type, class, ttl, rdlen 0 */
#define XFR_EDNS_SIZE 1232    /* what we advertise, as the answers do */
#define XFR_RCODE_NOTAUTH 9   /* RFC 2136 2.2 */
#define MSG_MAX 65535         /* RFC 1035 4.2.2: the TCP length field */

/* Sections of a reply (xfr_stream.plan). */
enum section { S_SOA_NEW, S_SOA_OLD, S_ALL, S_DELETED, S_ADDED };

static const char *const verdict_names[XFR_REQ_VERDICTS] = {
	"ok", "not_xfr", "drop", "formerr", "badvers", "notauth",
};

const char *
xfr_verdict_name(enum xfr_verdict v)
{
	return (unsigned)v < XFR_REQ_VERDICTS ? verdict_names[v] : "?";
}

/* RFC 1995 3: the authority section of an IXFR is the client's SOA, and only it. */
static bool
read_client_soa(struct rd *rd, uint16_t nscount, const uint8_t *name, size_t nlen,
                uint16_t type, uint16_t cls, uint16_t rdlen, const uint8_t *apex,
                struct xfr_request *rq, bool *at_apex)
{
	uint8_t scratch[DNAME_MAX], owner[DNAME_MAX];

	if (nscount != 1 || type != DNS_T_SOA || cls != DNS_C_IN)
		return false;
	size_t start = rd->off;
	rd_name(rd, scratch); /* MNAME */
	rd_name(rd, scratch); /* RNAME */
	rq->serial = rd_u32(rd);
	rd_skip(rd, 16);      /* refresh, retry, expire, minimum */
	if (rd->err || rd->off - start != rdlen)
		return false;
	memcpy(owner, name, nlen);
	dname_lower(owner);
	*at_apex = nlen == dname_len(apex) && memcmp(owner, apex, nlen) == 0;
	return true;
}

enum xfr_verdict
xfr_parse_request(const uint8_t *q, size_t len, const uint8_t *apex, struct xfr_request *rq)
{
	struct rd rd;
	uint8_t qname[DNAME_MAX], name[DNAME_MAX];
	bool soa = false, soa_at_apex = false;
	uint8_t version = 0;

	memset(rq, 0, sizeof(*rq));
	if (len < DNS_HDR)
		return XFR_REQ_DROP;
	rd_init(&rd, q, len);
	rq->id = rd_u16(&rd);
	rq->flags = rd_u16(&rd);
	if (rq->flags & DNS_F_QR)
		return XFR_REQ_DROP; /* never answer a response */
	if (DNS_OPCODE(rq->flags) != 0)
		return XFR_REQ_NOT_XFR;
	uint16_t qd = rd_u16(&rd), an = rd_u16(&rd), ns = rd_u16(&rd), ar = rd_u16(&rd);
	if (qd == 0)
		return XFR_REQ_NOT_XFR;
	if (qd > 1)
		return XFR_REQ_FORMERR;
	size_t qnlen = rd_name(&rd, qname);
	uint16_t qtype = rd_u16(&rd), qclass = rd_u16(&rd);
	if (rd.err)
		return XFR_REQ_FORMERR;
	if (qtype != DNS_T_AXFR && qtype != DNS_T_IXFR)
		return XFR_REQ_NOT_XFR;
	/* The question cannot be compressed (no earlier name to point at): it fits. */
	if (rd.off - DNS_HDR > sizeof(rq->question))
		return XFR_REQ_FORMERR;
	rq->qtype = qtype;
	rq->qlen = rd.off - DNS_HDR;
	memcpy(rq->question, q + DNS_HDR, rq->qlen);

	/* RFC 5936 2.1 and RFC 1995 3: a transfer request carries no answers. */
	if (an != 0)
		return XFR_REQ_FORMERR;
	for (uint16_t i = 0; i < ns; i++) {
		size_t nlen = rd_name(&rd, name);
		uint16_t type = rd_u16(&rd), cls = rd_u16(&rd);
		rd_skip(&rd, 4); /* TTL */
		uint16_t rdlen = rd_u16(&rd);
		if (rd.err || rd.len - rd.off < rdlen)
			return XFR_REQ_FORMERR;
		if (qtype == DNS_T_IXFR) {
			if (!read_client_soa(&rd, ns, name, nlen, type, cls, rdlen, apex, rq, &soa_at_apex))
				return XFR_REQ_FORMERR;
			soa = true;
		} else {
			rd_skip(&rd, rdlen);
		}
	}
	if (qtype == DNS_T_IXFR && !soa)
		return XFR_REQ_FORMERR;
	for (uint16_t i = 0; i < ar; i++) {
		size_t nlen = rd_name(&rd, name);
		uint16_t type = rd_u16(&rd);
		rd_skip(&rd, 2);                /* CLASS: the OPT's UDP size, unused over TCP */
		rd_u8(&rd);                     /* extended rcode: meaningless in a request */
		uint8_t ver = rd_u8(&rd);
		rd_skip(&rd, 2);                /* flags */
		uint16_t rdlen = rd_u16(&rd);
		if (rd.err || rd.len - rd.off < rdlen)
			return XFR_REQ_FORMERR;
		if (type == DNS_T_OPT) {
			/* RFC 6891 6.1.1: one OPT at most, owned by the root. */
			if (rq->edns || nlen != 1)
				return XFR_REQ_FORMERR;
			rq->edns = true;
			version = ver;
		}
		rd_skip(&rd, rdlen); /* options: none matters to a transfer */
	}
	if (rq->edns && version > 0)
		return XFR_REQ_BADVERS; /* RFC 6891 6.1.3 */
	dname_lower(qname);
	if (qclass != DNS_C_IN || qnlen != dname_len(apex) || memcmp(qname, apex, qnlen) != 0)
		return XFR_REQ_NOTAUTH;
	if (qtype == DNS_T_IXFR && !soa_at_apex)
		return XFR_REQ_FORMERR;
	return XFR_REQ_OK;
}

static void
put_opt(struct wr *w, unsigned rcode)
{
	wr_u8(w, 0);
	wr_u16(w, DNS_T_OPT);
	wr_u16(w, XFR_EDNS_SIZE);
	wr_u8(w, (uint8_t)(rcode >> 4)); /* RFC 6891 6.1.3: the upper 8 bits of the rcode */
	wr_u8(w, 0);                     /* version 0 */
	wr_u16(w, 0);
	wr_u16(w, 0);
}

/* QR, the request's opcode, RD and CD copied (RFC 5936 2.2.1), the low rcode bits. */
static uint16_t
reply_flags(uint16_t req, unsigned rcode, bool aa)
{
	uint16_t f = (uint16_t)(DNS_F_QR | (req & 0x7800) | (req & (DNS_F_RD | DNS_F_CD)) | (rcode & 0xf));
	return aa ? (uint16_t)(f | DNS_F_AA) : f;
}

size_t
xfr_error_reply(const struct xfr_request *rq, enum xfr_verdict v, uint8_t *out, size_t cap)
{
	struct wr w;
	unsigned rcode;

	switch (v) {
	case XFR_REQ_FORMERR: rcode = DNS_R_FORMERR; break;
	case XFR_REQ_BADVERS: rcode = DNS_R_BADVERS; break;
	case XFR_REQ_NOTAUTH: rcode = XFR_RCODE_NOTAUTH; break;
	default: return 0;
	}
	wr_init(&w, out, cap < MSG_MAX ? cap : MSG_MAX);
	wr_u16(&w, rq->id);
	wr_u16(&w, reply_flags(rq->flags, rcode, false));
	wr_u16(&w, rq->qlen > 0 ? 1 : 0);
	wr_u16(&w, 0);
	wr_u16(&w, 0);
	wr_u16(&w, rq->edns ? 1 : 0);
	wr_bytes(&w, rq->question, rq->qlen < sizeof(rq->question) ? rq->qlen : sizeof(rq->question));
	if (rq->edns)
		put_opt(&w, rcode);
	return w.err ? 0 : w.off;
}

/* RFC 1995 2 and 4: what an IXFR from serial gets; *old: the client's version for a difference. */
static enum xfr_kind
ixfr_kind(const struct xfr *x, uint32_t serial, struct xfr_version **old)
{
	if (serial == x->v[0]->serial)
		return XFR_IXFR_UPTODATE;
	for (size_t i = 1; i < XFR_HISTORY && x->v[i] != NULL; i++)
		if (x->v[i]->serial == serial) {
			*old = x->v[i];
			return XFR_IXFR_DIFF;
		}
	/* RFC 1995 2: "the same or newer version number" gets the current SOA alone. */
	if (xfr_serial_gt(serial, x->v[0]->serial))
		return XFR_IXFR_UPTODATE;
	return XFR_IXFR_FULL; /* RFC 1995 4: a whole zone may answer any IXFR */
}

int
xfr_stream_start(struct xfr_stream *s, const struct xfr *x, const struct xfr_request *rq)
{
	static const uint8_t full[] = { S_SOA_NEW, S_ALL, S_SOA_NEW };
	static const uint8_t diff[] = { S_SOA_NEW, S_SOA_OLD, S_DELETED, S_SOA_NEW, S_ADDED, S_SOA_NEW };
	struct xfr_version *old = NULL;

	memset(s, 0, sizeof(*s));
	if (x->v[0] == NULL) {
		s->done = true;
		return -1;
	}
	s->id = rq->id;
	s->flags = rq->flags;
	s->edns = rq->edns;
	s->qlen = rq->qlen < sizeof(s->question) ? rq->qlen : sizeof(s->question);
	memcpy(s->question, rq->question, s->qlen);
	s->kind = rq->qtype == DNS_T_IXFR ? ixfr_kind(x, rq->serial, &old) : XFR_AXFR;
	/* References: whatever x does next, this transfer sends these versions. */
	s->cur = x->v[0];
	xfr_version_ref(s->cur);
	switch (s->kind) {
	case XFR_IXFR_UPTODATE:
		s->plan[0] = S_SOA_NEW;
		s->nplan = 1;
		break;
	case XFR_IXFR_DIFF:
		s->old = old;
		xfr_version_ref(old);
		memcpy(s->plan, diff, sizeof(diff));
		s->nplan = (int)sizeof(diff);
		break;
	default:
		memcpy(s->plan, full, sizeof(full));
		s->nplan = (int)sizeof(full);
		break;
	}
	return 0;
}

static void
put_soa(struct wr *w, const struct xfr_version *v)
{
	const struct zone_soa *soa = &v->set->soa;

	wr_name(w, v->set->apex);
	wr_u16(w, DNS_T_SOA);
	wr_u16(w, DNS_C_IN);
	wr_u32(w, ZONE_STATIC_TTL); /* as answers give it */
	size_t lenpos = w->off;
	wr_u16(w, 0);
	wr_name(w, soa->mname);
	wr_name(w, soa->rname);
	wr_u32(w, v->serial);
	wr_u32(w, soa->refresh);
	wr_u32(w, soa->retry);
	wr_u32(w, soa->expire);
	wr_u32(w, soa->minimum);
	if (!w->err)
		wr_put_u16(w, lenpos, (uint16_t)(w->off - lenpos - 2));
}

static void
put_rr(struct wr *w, const struct xfr_rr *rr)
{
	wr_name(w, rr->owner);
	wr_u16(w, rr->type);
	wr_u16(w, DNS_C_IN);
	wr_u32(w, rr->ttl);
	size_t lenpos = w->off;
	wr_u16(w, 0);
	/* RFC 1035 3.3: NS and CNAME targets may be compressed. */
	if (rr->type == DNS_T_NS || rr->type == DNS_T_CNAME)
		wr_name(w, rr->rdata);
	else
		wr_bytes(w, rr->rdata, rr->rdlen);
	if (!w->err)
		wr_put_u16(w, lenpos, (uint16_t)(w->off - lenpos - 2));
}

/* Write the next item of the plan; false when it did not fit (rolled back) or none is left. */
static bool
put_next(struct xfr_stream *s, struct wr *w)
{
	while (s->step < s->nplan) {
		int sec = s->plan[s->step];
		struct wr_mark m = wr_mark(w);
		if (sec == S_SOA_NEW || sec == S_SOA_OLD) {
			put_soa(w, sec == S_SOA_NEW ? s->cur : s->old);
			if (w->err) {
				wr_rollback(w, m);
				return false;
			}
			s->step++;
			return true;
		}
		/* deleted: what the client has that we lack; added: the other way round */
		const struct xfr_version *a = sec == S_DELETED ? s->old : s->cur;
		const struct xfr_version *b = sec == S_ALL ? NULL : sec == S_DELETED ? s->cur : s->old;
		struct xfr_rr rr;
		if (!xfr_minus_peek(a, b, &s->at, &rr)) {
			s->step++;
			memset(&s->at, 0, sizeof(s->at));
			continue;
		}
		put_rr(w, &rr);
		if (w->err) {
			wr_rollback(w, m);
			return false;
		}
		xfr_minus_take(&s->at);
		return true;
	}
	return false;
}

size_t
xfr_stream_next(struct xfr_stream *s, uint8_t *out, size_t cap)
{
	struct wr w;
	size_t room = s->edns ? OPT_RR_LEN : 0;
	uint16_t an = 0;

	if (s->done || s->failed)
		return 0;
	if (cap > MSG_MAX)
		cap = MSG_MAX;
	if (cap < DNS_HDR + room) {
		s->failed = true;
		xfr_stream_end(s);
		return 0;
	}
	bool first = s->messages == 0;
	wr_init(&w, out, cap - room);
	wr_u16(&w, s->id);
	wr_u16(&w, reply_flags(s->flags, DNS_R_NOERROR, true));
	wr_u16(&w, first && s->qlen > 0 ? 1 : 0);
	wr_u16(&w, 0);
	wr_u16(&w, 0);
	wr_u16(&w, 0);
	if (first && s->qlen > 0) {
		/* RFC 5936 2.2.1: the question in the first message, as sent; later ones go without. */
		wr_bytes(&w, s->question, s->qlen);
		wr_name_known(&w, DNS_HDR);
	}
	while (!w.err && put_next(s, &w))
		an++;
	if (s->step == s->nplan)
		s->done = true;
	if (an == 0 || w.err) {
		/* Not one record fits: cap is under XFR_MSG_MIN. */
		s->failed = true;
		xfr_stream_end(s);
		return 0;
	}
	w.cap += room;
	if (s->edns)
		put_opt(&w, DNS_R_NOERROR);
	wr_put_u16(&w, 6, an);
	wr_put_u16(&w, 10, s->edns ? 1 : 0);
	s->messages++;
	s->records += an;
	if (s->done)
		xfr_stream_end(s); /* the versions are no longer needed */
	return w.off;
}

bool
xfr_stream_failed(const struct xfr_stream *s)
{
	return s->failed;
}

void
xfr_stream_end(struct xfr_stream *s)
{
	xfr_version_unref(s->cur);
	xfr_version_unref(s->old);
	s->cur = s->old = NULL;
	s->done = true;
}
