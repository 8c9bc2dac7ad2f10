#include "server/primary.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "dns/wire.h"
#include "server/answer.h"

#define TICK_MS 1000
#define NOTIFY_BUF (NOTIFY_MSG_MAX + TSIG_RR_MAX)

static void on_tick(struct loop *l, void *arg);
static void on_notify_reply(struct loop *l, struct loop_io *io, uint32_t events);

static int
open_notify_socket(struct primary *p, int k, const struct addr *src, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(src, &ss);
	char as[ADDR_STRLEN];
	int fd = socket(src->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	addr_ip_str(src, as, sizeof(as));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		snprintf(err, errlen, "cannot open the NOTIFY socket from %s: %s", as, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p->nio[k].fd = fd;
	p->nio[k].cb = on_notify_reply;
	p->nio[k].arg = p;
	if (loop_add(p->loop, &p->nio[k], EPOLLIN) < 0) {
		snprintf(err, errlen, "cannot watch the NOTIFY socket: %s", strerror(errno));
		close(fd);
		p->nio[k].fd = -1;
		return -1;
	}
	return 0;
}

int
primary_init(struct primary *p, const struct primary_config *c, struct loop *l, struct zone *z,
             struct rng *r, primary_bump_fn *bump, void *bump_ctx, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->loop = l;
	p->z = z;
	p->rng = r;
	p->cfg = *c;
	p->bump = bump;
	p->bump_ctx = bump_ctx;
	p->timer = -1;
	p->nio[0].fd = p->nio[1].fd = -1;
	xfr_init(&p->x);
	notify_init(&p->nt, z->apex, r);
	bool fam[2] = { false, false };
	for (int i = 0; i < c->nnotify; i++) {
		char as[ADDR_STRLEN];
		addr_str(&c->notify[i], as, sizeof(as));
		if (notify_add(&p->nt, &c->notify[i], l->now) < 0) {
			snprintf(err, errlen, "--notify %s: given twice or not usable", as);
			return -1;
		}
		fam[c->notify[i].family == AF_INET6] = true;
	}
	if (fam[0] && open_notify_socket(p, 0, &c->src4, err, errlen) < 0)
		return -1;
	if (fam[1] && open_notify_socket(p, 1, &c->src6, err, errlen) < 0)
		return -1;
	return 0;
}

static void
new_version(struct primary *p, const char *why)
{
	struct xfr_info info;
	bool have = xfr_current(&p->x, &info);
	uint32_t floor = (have ? info.serial : p->z->soa.serial) + 1;
	uint32_t serial = p->bump(p->bump_ctx, floor);

	if (have && !xfr_serial_gt(serial, info.serial))
		serial = floor;
	if (xfr_new_version(&p->x, p->z, p->rng, p->cfg.answers, serial) < 0) {
		/* Out of memory: secondaries keep the last version; tried again in a second. */
		log_warn("xfr", "msg=\"cannot make a new version of the zone: out of memory\"");
		p->next_rotate_ms = p->loop->now + TICK_MS;
		return;
	}
	xfr_current(&p->x, &info);
	p->z->xfr_serial_on = true;
	p->z->xfr_serial = serial;
	p->st.versions++;
	p->next_rotate_ms = p->loop->now + (int64_t)p->cfg.rotate_s * 1000;
	notify_serial(&p->nt, serial, p->loop->now);
	log_info("xfr", "msg=\"zone version\" why=%s serial=%u records=%zu sample4=%zu sample6=%zu", why, serial,
	         info.records, info.sample4, info.sample6);
}

int
primary_start(struct primary *p)
{
	p->timer = loop_timer_new(p->loop, on_tick, p);
	if (p->timer < 0)
		return -1;
	new_version(p, "start");
	loop_timer_arm(p->loop, p->timer, 0);
	return 0;
}

void
primary_close(struct primary *p)
{
	for (int k = 0; k < 2; k++)
		if (p->nio[k].fd >= 0)
			close(p->nio[k].fd);
	xfr_free(&p->x);
}

size_t
primary_reserve(const struct primary *p)
{
	return tsig_rr_len(&p->cfg.key);
}

/* --- NOTIFY ---------------------------------------------------------------- */

static void
drain_events(struct primary *p)
{
	struct notify_event ev;
	char as[ADDR_STRLEN];

	while (notify_event(&p->nt, &ev)) {
		addr_str(&ev.to, as, sizeof(as));
		switch (ev.kind) {
		case NOTIFY_EV_ACKED:
			log_info("xfr", "msg=\"notify acknowledged\" to=%s serial=%u tries=%u ms=%lld", as, ev.serial,
			         ev.tries, (long long)ev.elapsed_ms);
			break;
		case NOTIFY_EV_REJECTED:
			log_warn("xfr", "msg=\"notify refused\" to=%s serial=%u rcode=%u", as, ev.serial, ev.rcode);
			break;
		case NOTIFY_EV_FAILED:
			log_warn("xfr", "msg=\"notify not answered; gave up\" to=%s serial=%u tries=%u", as, ev.serial,
			         ev.tries);
			break;
		case NOTIFY_EV_SUPERSEDED:
			log_debug("xfr", "msg=\"notify superseded\" to=%s serial=%u tries=%u", as, ev.serial, ev.tries);
			break;
		}
	}
}

static void
send_notifies(struct primary *p)
{
	uint8_t buf[NOTIFY_BUF];
	struct notify_out o;
	size_t len;
	uint64_t now = (uint64_t)time(NULL);

	while ((len = notify_next(&p->nt, p->loop->now, &p->z->soa, buf, sizeof(buf), TSIG_RR_MAX, &o)) > 0) {
		int fd = p->nio[o.to.family == AF_INET6].fd;
		struct sockaddr_storage ss;
		socklen_t sl = addr_to_sockaddr(&o.to, &ss);
		if (fd < 0 || tsig_sign_request(&p->nts[o.target], &p->cfg.key, buf, &len, sizeof(buf), now) < 0 ||
		    sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0)
			p->st.notify_send_errors++; /* the retry comes with the backoff */
	}
	drain_events(p);
}

static void
on_notify_reply(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct primary *p = io->arg;
	uint8_t buf[4096];

	(void)l;
	(void)events;
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(io->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
		if (n < 0)
			break;
		struct addr from;
		if (!addr_from_sockaddr(&from, &ss))
			continue;
		int t = notify_find(&p->nt, &from);
		enum notify_sig sig = NOTIFY_SIG_BAD;
		if (t >= 0 && tsig_verify_response(&p->nts[t], &p->cfg.key, buf, (size_t)n, (uint64_t)time(NULL)) == TSIG_OK)
			sig = NOTIFY_SIG_GOOD;
		else if (t >= 0)
			p->st.notify_bad_sig++;
		notify_reply(&p->nt, &from, buf, (size_t)n, p->loop->now, sig);
	}
	drain_events(p);
}

static void
on_tick(struct loop *l, void *arg)
{
	struct primary *p = arg;

	if (l->now >= p->next_rotate_ms)
		new_version(p, "rotate");
	else if (xfr_static_changed(&p->x, p->z))
		new_version(p, "static");
	send_notifies(p);
	int64_t next = p->next_rotate_ms - l->now, due = notify_due(&p->nt);
	if (next > TICK_MS)
		next = TICK_MS; /* the static part is looked at every second */
	if (due != INT64_MAX && due - l->now < next)
		next = due - l->now;
	loop_timer_arm(l, p->timer, next < 0 ? 0 : next);
}

/* --- queries -------------------------------------------------------------- */

/* A reply of header and question (when readable) with rcode; 0 when none fits. */
static size_t
bare_reply(const uint8_t *q, size_t len, uint8_t rcode, uint8_t *out, size_t cap)
{
	struct rd r;
	uint8_t name[DNAME_MAX];
	size_t qend = DNS_HDR;

	if (len < DNS_HDR || cap < DNS_HDR)
		return 0;
	rd_init(&r, q, len);
	rd_skip(&r, 4);
	uint16_t qd = rd_u16(&r);
	rd_skip(&r, 6);
	if (qd == 1) {
		rd_name(&r, name);
		rd_u16(&r);
		rd_u16(&r);
		if (!r.err && r.off <= cap)
			qend = r.off;
	}
	memcpy(out, q, qend);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79)); /* QR, the opcode and RD */
	out[3] = rcode;
	memset(out + 4, 0, 8);
	out[5] = qend > DNS_HDR ? 1 : 0;
	return qend;
}

static bool
allowed(const struct primary *p, const uint8_t *ip, size_t iplen)
{
	for (int i = 0; i < p->cfg.nallow; i++)
		if (ip && addr_net_has(&p->cfg.allow[i], ip, iplen))
			return true;
	return false;
}

/* Sign a reply built in out for a verified request: PRIMARY_REPLY, or PRIMARY_DROP when it cannot be. */
static enum primary_act
signed_reply(struct primary *p, struct primary_req *rq, uint8_t *out, size_t len, size_t cap, uint64_t now,
             size_t *outlen)
{
	if (len == 0 || tsig_sign(&rq->ts, &p->cfg.key, out, &len, cap, now) < 0)
		return PRIMARY_DROP;
	p->st.signed_replies++;
	*outlen = len;
	return PRIMARY_REPLY;
}

enum primary_act
primary_query(struct primary *p, uint8_t *q, size_t *qlen, const uint8_t *ip, size_t iplen, bool tcp,
              uint64_t now, uint8_t *out, size_t cap, size_t *outlen, struct primary_req *rq)
{
	size_t reserve = primary_reserve(p);

	*outlen = 0;
	rq->streaming = false;
	/*
	 * Responses are dns_answer's to drop. Every buffer the server hands in
	 * (UDP's 1232, TCP's 65535) holds a UDP-sized reply, a transfer message
	 * and any TSIG RR; a smaller one is not ours to use.
	 */
	if (*qlen < DNS_HDR || (q[2] & 0x80) || cap < XFR_MSG_MIN + reserve || cap < DNS_UDP_MIN + TSIG_RR_MAX)
		return PRIMARY_PASS;
	enum tsig_result tr = tsig_verify_request(&rq->ts, &p->cfg.key, q, *qlen, now);
	if (tr == TSIG_NONE) {
		struct xfr_request xr;
		if (xfr_parse_request(q, *qlen, p->z->apex, &xr) == XFR_REQ_OK)
			p->st.refused_unsigned++; /* dns_answer refuses it */
		return PRIMARY_PASS;
	}
	p->st.tsig[tr]++;
	if (tr == TSIG_FORMERR)
		return PRIMARY_PASS; /* records that do not parse: dns_answer's FORMERR (its ladder, its counters) */
	if (tr != TSIG_OK) {
		/* RFC 8945 5.2: NOTAUTH with the TSIG error, unsigned but for BADTIME and BADTRUNC. */
		size_t len = bare_reply(q, *qlen, DNS_R_NOTAUTH, out, cap - TSIG_RR_MAX);
		if (len == 0 || tsig_sign_error(&rq->ts, &p->cfg.key, out, &len, cap, now) < 0)
			return PRIMARY_DROP;
		*outlen = len;
		return PRIMARY_REPLY;
	}
	tsig_strip(&rq->ts, q, qlen);
	struct xfr_request xr;
	enum xfr_verdict v = xfr_parse_request(q, *qlen, p->z->apex, &xr);
	switch (v) {
	case XFR_REQ_NOT_XFR:
		return PRIMARY_SIGN;
	case XFR_REQ_OK:
		break;
	case XFR_REQ_DROP:
		return PRIMARY_DROP;
	default:
		p->st.xfr_errors++;
		return signed_reply(p, rq, out, xfr_error_reply(&xr, v, out, cap - reserve), cap, now, outlen);
	}
	if (!allowed(p, ip, iplen)) {
		p->st.refused_source++;
		return signed_reply(p, rq, out, bare_reply(q, *qlen, DNS_R_REFUSED, out, cap - reserve), cap, now, outlen);
	}
	struct xfr_info info;
	if (!xfr_current(&p->x, &info))
		return signed_reply(p, rq, out, bare_reply(q, *qlen, DNS_R_SERVFAIL, out, cap - reserve), cap, now, outlen);
	if (!tcp) {
		/* AXFR is TCP's (RFC 5936 4.2); an IXFR over UDP gets the current SOA alone: ask again over TCP (RFC 1995 2). */
		if (xr.qtype == DNS_T_AXFR) {
			p->st.refused_udp_axfr++;
			return signed_reply(p, rq, out, bare_reply(q, *qlen, DNS_R_REFUSED, out, cap - reserve), cap, now,
			                    outlen);
		}
		xr.serial = info.serial;
		if (xfr_stream_start(&rq->xs, &p->x, &xr) < 0)
			return PRIMARY_DROP;
		size_t len = xfr_stream_next(&rq->xs, out, cap - reserve);
		xfr_stream_end(&rq->xs);
		p->st.xfr_started[XFR_IXFR_UPTODATE]++;
		return signed_reply(p, rq, out, len, cap, now, outlen);
	}
	if (xfr_stream_start(&rq->xs, &p->x, &xr) < 0)
		return PRIMARY_DROP;
	rq->streaming = true;
	rq->peerlen = iplen <= sizeof(rq->peer) ? iplen : 0;
	memcpy(rq->peer, ip, rq->peerlen);
	p->st.xfr_started[rq->xs.kind]++;
	return PRIMARY_STREAM;
}

size_t
primary_sign(struct primary *p, struct primary_req *rq, uint8_t *msg, size_t len, size_t cap, uint64_t now)
{
	if (tsig_sign(&rq->ts, &p->cfg.key, msg, &len, cap, now) < 0)
		return 0;
	p->st.signed_replies++;
	return len;
}

static const char *const kind_name[PRIMARY_XFR_KINDS] = { "axfr", "ixfr-uptodate", "ixfr-diff", "ixfr-full" };

size_t
primary_stream_next(struct primary *p, struct primary_req *rq, uint8_t *out, size_t cap, uint64_t now,
                    bool *failed)
{
	*failed = false;
	if (!rq->streaming)
		return 0;
	size_t len = xfr_stream_next(&rq->xs, out, cap - primary_reserve(p));
	if (len > 0 && tsig_sign(&rq->ts, &p->cfg.key, out, &len, cap, now) < 0)
		len = 0;
	if (len == 0) {
		*failed = xfr_stream_failed(&rq->xs) || !rq->xs.done;
		if (*failed) {
			p->st.xfr_cut++;
		} else {
			p->st.xfr_done++;
			p->st.xfr_records += rq->xs.records;
			struct addr a = { .family = rq->peerlen == 16 ? AF_INET6 : AF_INET };
			char peer[ADDR_STRLEN] = "?";
			memcpy(a.ip, rq->peer, rq->peerlen);
			if (rq->peerlen)
				addr_ip_str(&a, peer, sizeof(peer));
			log_info("xfr", "msg=\"transfer sent\" to=%s kind=%s messages=%zu records=%zu", peer,
			         kind_name[rq->xs.kind], rq->xs.messages, rq->xs.records);
		}
		xfr_stream_end(&rq->xs);
		rq->streaming = false;
		return 0;
	}
	p->st.xfr_messages++;
	p->st.signed_replies++;
	return len;
}

void
primary_stream_cut(struct primary *p, struct primary_req *rq)
{
	if (!rq->streaming)
		return;
	p->st.xfr_cut++;
	xfr_stream_end(&rq->xs);
	rq->streaming = false;
}
