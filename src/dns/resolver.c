#include "dns/resolver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/dname.h"
#include "dns/wire.h"
#include "base/log.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLV_CONF_MAX 65536 /* read no further: real files are a few lines */
#define REPLY_MAX 4096        /* RFC 1035 4.2.1 says 512 without EDNS; be lenient */
#define QUERY_MAX (DNS_HDR + DNAME_MAX + 4)
#define RECV_BATCH 16         /* datagrams per wake-up; epoll is level-triggered */

/* The two questions of a lookup, in merge order. */
enum { Q_A, Q_AAAA, Q_N };
static const uint16_t qtypes[Q_N] = { DNS_T_A, DNS_T_AAAA };

#define ST_WAITING (-1) /* no answer yet for this type */

/*
 * A lookup is NEW while resolver_lookup builds it, TRYING until both types
 * are answered or the tries run out, DOOMED when it failed before its
 * first query (reported from the timer, never from inside resolver_lookup),
 * and DONE once the callback ran or it was cancelled.
 */
enum lookup_state { LOOKUP_NEW, LOOKUP_TRYING, LOOKUP_DOOMED, LOOKUP_DONE };

struct resolver_lookup {
	struct loop_io io; /* first: the loop hands back &io */
	struct resolver *r;
	resolver_fn *fn;
	void *arg;
	enum lookup_state state;
	uint8_t name[DNAME_MAX];
	struct addr server;   /* where the socket is connected */
	uint16_t id[Q_N];
	int st[Q_N];          /* ST_WAITING or an enum resolver_status */
	struct addr addrs[Q_N][RESOLVER_MAX_ADDRS];
	size_t naddrs[Q_N];
	int tries;            /* tries started */
	bool sock_err;        /* a try failed with a socket error */
	int64_t deadline;     /* end of the current try (monotonic ms) */
};

const char *
resolver_status_name(enum resolver_status st)
{
	switch (st) {
	case RESOLVER_OK:
		return "ok";
	case RESOLVER_NODATA:
		return "nodata";
	case RESOLVER_NXDOMAIN:
		return "nxdomain";
	case RESOLVER_TIMEOUT:
		return "timeout";
	case RESOLVER_FAILED:
		return "failed";
	}
	return "unknown";
}

static const char *
lookup_state_name(enum lookup_state s)
{
	switch (s) {
	case LOOKUP_NEW:
		return "new";
	case LOOKUP_TRYING:
		return "trying";
	case LOOKUP_DOOMED:
		return "doomed";
	case LOOKUP_DONE:
		return "done";
	}
	return "unknown";
}

static void
lookup_enter(struct resolver_lookup *q, enum lookup_state s, const char *why)
{
	char text[DNAME_TEXT_MAX];

	dname_to_text(q->name, text, sizeof(text));
	log_debug("resolver", "msg=lookup name=%s from=%s to=%s why=\"%s\" tries=%d",
	          text, lookup_state_name(q->state), lookup_state_name(s), why, q->tries);
	q->state = s;
}

/* --- codec ---------------------------------------------------------------- */

size_t
resolver_query_build(uint8_t *out, size_t cap, uint16_t id, const uint8_t *name, uint16_t qtype)
{
	struct wr w;

	wr_init(&w, out, cap);
	wr_u16(&w, id);
	wr_u16(&w, DNS_F_RD); /* RFC 1035 4.1.1: opcode 0 (QUERY), recursion desired */
	wr_u16(&w, 1);        /* QDCOUNT */
	wr_u16(&w, 0);
	wr_u16(&w, 0);
	wr_u16(&w, 0);        /* ARCOUNT: no OPT; a few addresses fit in 512 bytes (RFC 1035 4.2.1) */
	wr_bytes(&w, name, dname_len(name));
	wr_u16(&w, qtype);
	wr_u16(&w, DNS_C_IN);
	return w.err ? 0 : w.off;
}

/* One resource record's fixed part and where its RDATA is; rd moves past it. */
struct rr {
	uint8_t owner[DNAME_MAX];
	size_t ownerlen;
	uint16_t type, class;
	uint16_t rdlen;
	size_t rdoff;
};

static void
rr_read(struct rd *rd, struct rr *rr)
{
	rr->ownerlen = rd_name(rd, rr->owner);
	rr->type = rd_u16(rd);
	rr->class = rd_u16(rd);
	rd_u32(rd); /* TTL: we keep nothing */
	rr->rdlen = rd_u16(rd);
	rr->rdoff = rd->off;
	rd_skip(rd, rr->rdlen);
	if (rd->err == RD_OK)
		dname_lower(rr->owner);
}

static bool
name_eq(const uint8_t *a, size_t alen, const uint8_t *b)
{
	return alen == dname_len(b) && memcmp(a, b, alen) == 0;
}

/*
 * One pass over the answer section for the chain name cur: addresses of
 * qtype owned by cur are counted in *found and go to out while there is
 * room, the first CNAME owned by cur to next. Returns false on a malformed
 * record or a CNAME whose target does not end exactly at RDLENGTH.
 */
static bool
answer_pass(const uint8_t *pkt, size_t len, size_t start, unsigned ancount, const uint8_t *cur,
            uint16_t qtype, struct addr *out, size_t max, size_t *n, size_t *found,
            uint8_t *next, bool *have_next)
{
	struct rd rd;
	struct rr rr;
	size_t want = qtype == DNS_T_A ? 4 : 16;

	*have_next = false;
	rd_init(&rd, pkt, len);
	rd.off = start;
	for (unsigned i = 0; i < ancount; i++) {
		rr_read(&rd, &rr);
		if (rd.err != RD_OK)
			return false;
		if (rr.type == DNS_T_CNAME && rr.class == DNS_C_IN) {
			/* Read the target in place: pointers may go back into the packet. */
			struct rd t;
			uint8_t target[DNAME_MAX];
			rd_init(&t, pkt, rr.rdoff + rr.rdlen);
			t.off = rr.rdoff;
			size_t tl = rd_name(&t, target);
			if (t.err != RD_OK || t.off != rr.rdoff + rr.rdlen)
				return false;
			if (!*have_next && name_eq(rr.owner, rr.ownerlen, cur)) {
				dname_lower(target);
				memcpy(next, target, tl);
				*have_next = true;
			}
			continue;
		}
		/* Only our type and class at the current chain name, with the size of
		 * an address (RFC 1035 3.4.1, RFC 3596 2.2); anything else is skipped. */
		if (rr.type != qtype || rr.class != DNS_C_IN || rr.rdlen != want ||
		    !name_eq(rr.owner, rr.ownerlen, cur))
			continue;
		(*found)++;
		if (*n < max) {
			struct addr *a = &out[*n];
			memset(a, 0, sizeof(*a));
			a->family = qtype == DNS_T_A ? AF_INET : AF_INET6;
			memcpy(a->ip, pkt + rr.rdoff, want);
			(*n)++;
		}
	}
	return true;
}

/*
 * The validation ladder of a reply (RFC 5452 9.1: accept only a reply
 * that matches our ID, source and question): length, ID, QR, opcode,
 * one question equal to ours, TC, rcode, then the answer section.
 */
int
resolver_reply_parse(const uint8_t *pkt, size_t len, uint16_t id, const uint8_t *name,
                     uint16_t qtype, struct addr *out, size_t max, size_t *n)
{
	struct rd rd;
	uint8_t qname[DNAME_MAX], cur[DNAME_MAX], next[DNAME_MAX];

	*n = 0;
	if (qtype != DNS_T_A && qtype != DNS_T_AAAA)
		return -1;
	rd_init(&rd, pkt, len);
	uint16_t rid = rd_u16(&rd);
	uint16_t flags = rd_u16(&rd);
	uint16_t qdcount = rd_u16(&rd);
	uint16_t ancount = rd_u16(&rd);
	rd_skip(&rd, 4); /* NSCOUNT, ARCOUNT: we read neither section */
	if (rd.err != RD_OK || rid != id || !(flags & DNS_F_QR) || DNS_OPCODE(flags) != 0)
		return -1;
	if (qdcount != 1)
		return -1;
	size_t ql = rd_name(&rd, qname);
	uint16_t qt = rd_u16(&rd);
	uint16_t qc = rd_u16(&rd);
	if (rd.err != RD_OK)
		return -1;
	/* RFC 4343: names compare without regard to ASCII case. */
	size_t nl = dname_len(name);
	memcpy(cur, name, nl);
	dname_lower(cur);
	dname_lower(qname);
	if (!name_eq(qname, ql, cur) || qt != qtype || qc != DNS_C_IN)
		return -1;
	/* RFC 2181 9: a truncated reply is incomplete, and we do not retry over TCP. */
	if (flags & DNS_F_TC)
		return RESOLVER_FAILED;
	switch (flags & 0xf) {
	case DNS_R_NOERROR:
		break;
	case DNS_R_NXDOMAIN:
		/* RFC 6604 3: about the last name of any chain; no address either way. */
		return RESOLVER_NXDOMAIN;
	default:
		return RESOLVER_FAILED;
	}

	/*
	 * Follow the chain from the question name (RFC 1034 3.6.2, 4.3.2) by
	 * one pass over the answer section per name, so records in any order
	 * are found. The first pass also checks the whole section is well
	 * formed. A loop shows up as more than RESOLVER_CHAIN_MAX hops.
	 */
	size_t start = rd.off;
	for (int hop = 0;; hop++) {
		bool have_next;
		size_t found = 0;
		if (!answer_pass(pkt, len, start, ancount, cur, qtype, out, max, n, &found, next,
		                 &have_next)) {
			*n = 0;
			return -1;
		}
		if (found > 0)
			return RESOLVER_OK; /* *n may be less: max */
		if (!have_next)
			return RESOLVER_NODATA; /* the chain ends at a name without our type */
		if (hop == RESOLVER_CHAIN_MAX)
			return RESOLVER_FAILED;
		memcpy(cur, next, dname_len(next));
	}
}

/* --- resolv.conf ---------------------------------------------------------- */

static bool
conf_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
resolver_conf_parse(const char *text, size_t len, struct addr *out)
{
	static const char kw[] = "nameserver";
	const size_t kwlen = sizeof(kw) - 1;
	size_t off = 0;

	while (off < len) {
		size_t end = off;
		while (end < len && text[end] != '\n')
			end++;
		const char *line = text + off;
		size_t ll = end - off;
		off = end + 1;

		/* Like glibc's res_init: the keyword starts the line, then a blank. */
		if (ll <= kwlen || memcmp(line, kw, kwlen) != 0 || !conf_blank(line[kwlen]))
			continue;
		size_t i = kwlen;
		while (i < ll && conf_blank(line[i]))
			i++;
		size_t j = i;
		while (j < ll && !conf_blank(line[j]) && line[j] != '#' && line[j] != ';' &&
		       line[j] != '\r' && line[j] != '\0')
			j++;
		char tok[64];
		if (j == i || j - i >= sizeof(tok))
			continue;
		memcpy(tok, line + i, j - i);
		tok[j - i] = '\0';
		/* fe80::1%eth0 needs a scope id we do not carry: skip, as with junk. */
		struct addr a;
		if (strchr(tok, '%') != NULL || addr_parse_ip(&a, tok) < 0)
			continue;
		a.port = 53;
		*out = a;
		return 0;
	}
	return -1;
}

/* --- lookups -------------------------------------------------------------- */

static void
resolver_rearm(struct resolver *r)
{
	if (r->npending == 0) {
		loop_timer_arm(r->loop, r->timer, -1);
		return;
	}
	int64_t next = r->pending[0]->deadline;
	for (size_t i = 1; i < r->npending; i++)
		if (r->pending[i]->deadline < next)
			next = r->pending[i]->deadline;
	loop_timer_arm(r->loop, r->timer, next > r->loop->now ? next - r->loop->now : 0);
}

static bool
pending_remove(struct resolver *r, struct resolver_lookup *q)
{
	for (size_t i = 0; i < r->npending; i++) {
		if (r->pending[i] == q) {
			r->pending[i] = r->pending[--r->npending];
			r->pending[r->npending] = NULL;
			return true;
		}
	}
	return false;
}

static void
lookup_free(struct loop_io *io)
{
	free(io); /* io is the first member of struct resolver_lookup */
}

/* Close a lookup that left the pending table: through the loop when registered. */
static void
lookup_release(struct resolver *r, struct resolver_lookup *q)
{
	if (q->io.fd >= 0)
		loop_del(r->loop, &q->io); /* freed by lookup_free after this batch */
	else
		free(q); /* never registered: no event can name it */
}

static enum resolver_status
lookup_status(const struct resolver_lookup *q)
{
	int st[Q_N];

	for (int k = 0; k < Q_N; k++)
		st[k] = q->st[k] != ST_WAITING ? q->st[k]
		      : q->sock_err ? RESOLVER_FAILED : RESOLVER_TIMEOUT;
	if (q->naddrs[Q_A] + q->naddrs[Q_AAAA] > 0)
		return RESOLVER_OK;
	if (st[Q_A] == RESOLVER_NXDOMAIN || st[Q_AAAA] == RESOLVER_NXDOMAIN)
		return RESOLVER_NXDOMAIN;
	if (st[Q_A] == RESOLVER_NODATA || st[Q_AAAA] == RESOLVER_NODATA)
		return RESOLVER_NODATA;
	if (st[Q_A] == RESOLVER_FAILED || st[Q_AAAA] == RESOLVER_FAILED)
		return RESOLVER_FAILED;
	return RESOLVER_TIMEOUT;
}

/* Take the lookup out, close it, then call back once with the merged result. */
static void
lookup_finish(struct resolver *r, struct resolver_lookup *q, enum resolver_status st, const char *why)
{
	struct addr all[RESOLVER_MAX_ADDRS];
	size_t n = 0;
	resolver_fn *fn = q->fn;
	void *arg = q->arg;

	/* Interleaved, A first, so one family cannot crowd the other out. */
	for (size_t i = 0; i < RESOLVER_MAX_ADDRS && n < RESOLVER_MAX_ADDRS; i++)
		for (int k = 0; k < Q_N && n < RESOLVER_MAX_ADDRS; k++)
			if (i < q->naddrs[k])
				all[n++] = q->addrs[k][i];
	pending_remove(r, q);
	lookup_enter(q, LOOKUP_DONE, why);
	/* Closed before the call so the callback may reuse the slot at once. */
	bool registered = q->io.fd >= 0;
	if (registered)
		loop_del(r->loop, &q->io);
	fn(arg, st, all, n);
	if (!registered)
		free(q);
	resolver_rearm(r);
}

/* Send every query still unanswered; a failed send fails this try. */
static void
lookup_send(struct resolver *r, struct resolver_lookup *q)
{
	uint8_t buf[QUERY_MAX];

	q->tries++;
	q->deadline = r->loop->now + r->try_ms;
	for (int k = 0; k < Q_N; k++) {
		if (q->st[k] != ST_WAITING)
			continue;
		size_t len = resolver_query_build(buf, sizeof(buf), q->id[k], q->name, qtypes[k]);
		if (send(q->io.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
			r->failures++;
			q->sock_err = true;
			continue;
		}
		r->queries++;
	}
}

static bool
from_server(const struct resolver_lookup *q, const struct sockaddr_storage *ss, socklen_t sl)
{
	const struct addr *s = &q->server;

	if (ss->ss_family != s->family)
		return false;
	if (s->family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		return sl >= sizeof(*in) && ntohs(in->sin_port) == s->port &&
		       memcmp(&in->sin_addr, s->ip, 4) == 0;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	return sl >= sizeof(*in6) && ntohs(in6->sin6_port) == s->port &&
	       memcmp(&in6->sin6_addr, s->ip, 16) == 0;
}

static void
on_reply(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct resolver_lookup *q = (struct resolver_lookup *)io;
	struct resolver *r = q->r;
	uint8_t buf[REPLY_MAX];

	(void)l;
	(void)events;
	for (int i = 0; i < RECV_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss); /* value-result: reset before every call */
		ssize_t len = recvfrom(io->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			/* ECONNREFUSED and the like: the error is consumed by this read;
			 * the try fails but the next one waits for the deadline. */
			r->failures++;
			q->sock_err = true;
			continue;
		}
		/* connect() filters other sources already; check anyway. */
		if (!from_server(q, &ss, sl)) {
			r->ignored++;
			continue;
		}
		bool matched = false;
		for (int k = 0; k < Q_N && !matched; k++) {
			if (q->st[k] != ST_WAITING)
				continue;
			int rc = resolver_reply_parse(buf, (size_t)len, q->id[k], q->name, qtypes[k],
			                              q->addrs[k], RESOLVER_MAX_ADDRS, &q->naddrs[k]);
			if (rc < 0)
				continue;
			q->st[k] = rc;
			matched = true;
		}
		if (!matched) {
			r->ignored++;
			continue;
		}
		r->answers++;
		if (q->st[Q_A] != ST_WAITING && q->st[Q_AAAA] != ST_WAITING) {
			lookup_finish(r, q, lookup_status(q), "answered");
			return;
		}
	}
}

static void
on_timer(struct loop *l, void *arg)
{
	struct resolver *r = arg;

	/*
	 * One due lookup at a time, rescanning after each: a callback may start
	 * or cancel lookups and so reorder the table under us. Each lookup
	 * handled gets a later deadline or leaves the table, so this ends.
	 */
	for (;;) {
		struct resolver_lookup *q = NULL;
		for (size_t i = 0; i < r->npending; i++)
			if (r->pending[i]->deadline <= l->now) {
				q = r->pending[i];
				break;
			}
		if (q == NULL)
			break;
		if (q->state == LOOKUP_DOOMED) {
			lookup_finish(r, q, RESOLVER_FAILED, "no socket");
			continue;
		}
		r->timeouts++;
		if (q->tries < RESOLVER_TRIES) {
			lookup_send(r, q);
			continue;
		}
		lookup_finish(r, q, lookup_status(q), "tries exhausted");
	}
	resolver_rearm(r);
}

/* A connected UDP socket: the kernel picks a random source port (RFC 5452 9.2). */
static int
lookup_socket(const struct addr *server)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(server, &ss);
	int fd = socket(server->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct resolver_lookup *
resolver_lookup(struct resolver *r, const char *host, resolver_fn *fn, void *arg)
{
	uint8_t name[DNAME_MAX];
	struct addr lit;

	/* Literals never reach the wire; the root has no address. */
	if (host == NULL || fn == NULL || addr_parse_ip(&lit, host) == 0 ||
	    dname_from_text(name, host) <= 1) {
		errno = EINVAL;
		return NULL;
	}
	if (r->npending == RESOLVER_MAX_PENDING) {
		errno = EAGAIN;
		return NULL;
	}
	struct resolver_lookup *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->r = r;
	q->fn = fn;
	q->arg = arg;
	memcpy(q->name, name, dname_len(name));
	q->server = r->server;
	for (int k = 0; k < Q_N; k++) {
		/* RFC 5452 9.2: IDs from the CSPRNG, independent per question. */
		q->id[k] = (uint16_t)rng_u32(r->rng);
		q->st[k] = ST_WAITING;
	}
	q->io.fd = lookup_socket(&q->server);
	q->io.cb = on_reply;
	q->io.free_cb = lookup_free;
	q->io.arg = q;
	if (q->io.fd >= 0 && loop_add(r->loop, &q->io, EPOLLIN) < 0) {
		int e = errno;
		close(q->io.fd);
		q->io.fd = -1;
		errno = e;
	}
	r->pending[r->npending++] = q;
	if (q->io.fd < 0) {
		/* Reported through the timer: never call back from in here. */
		char as[ADDR_STRLEN];
		int e = errno;
		addr_str(&r->server, as, sizeof(as));
		log_warn("resolver", "msg=\"cannot open a socket\" server=%s error=\"%s\"", as, strerror(e));
		r->failures++;
		q->deadline = r->loop->now;
		lookup_enter(q, LOOKUP_DOOMED, "socket");
	} else {
		lookup_send(r, q);
		lookup_enter(q, LOOKUP_TRYING, "started");
	}
	resolver_rearm(r);
	return q;
}

void
resolver_cancel(struct resolver *r, struct resolver_lookup *q)
{
	/* Found by pointer before q is touched: a lookup already gone is ignored. */
	if (q == NULL || !pending_remove(r, q))
		return;
	lookup_enter(q, LOOKUP_DONE, "cancelled");
	lookup_release(r, q);
	resolver_rearm(r);
}

/* --- set-up --------------------------------------------------------------- */

/* Start-up only: a blocking read of a small file, before the loop runs. */
static int
conf_read(const char *path, struct addr *out)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	char *buf = malloc(RESOLV_CONF_MAX);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	size_t len = fread(buf, 1, RESOLV_CONF_MAX, f);
	fclose(f);
	int rc = resolver_conf_parse(buf, len, out);
	free(buf);
	return rc;
}

int
resolver_init(struct resolver *r, struct loop *l, struct rng *rng, const struct addr *server)
{
	char as[ADDR_STRLEN];

	memset(r, 0, sizeof(*r));
	r->loop = l;
	r->rng = rng;
	r->try_ms = RESOLVER_TRY_MS;
	if (server != NULL) {
		r->server = *server;
		if (r->server.port == 0)
			r->server.port = 53;
	} else if (conf_read(RESOLV_CONF, &r->server) < 0) {
		/* What glibc assumes without a usable resolv.conf. */
		addr_parse_ip(&r->server, "127.0.0.1");
		r->server.port = 53;
	}
	r->timer = loop_timer_new(l, on_timer, r);
	if (r->timer < 0)
		return -1;
	addr_str(&r->server, as, sizeof(as));
	log_debug("resolver", "msg=ready server=%s", as);
	return 0;
}

void
resolver_close(struct resolver *r)
{
	/* Outside loop_run: no batch can hold an event for these any more. */
	for (size_t i = 0; i < r->npending; i++) {
		struct resolver_lookup *q = r->pending[i];
		if (q->io.fd >= 0)
			close(q->io.fd);
		free(q);
		r->pending[i] = NULL;
	}
	r->npending = 0;
	if (r->timer >= 0)
		loop_timer_arm(r->loop, r->timer, -1);
}
