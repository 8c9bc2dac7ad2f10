#include "server/server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "dns/wire.h"

#define UDP_BATCH 32
#define UDP_ROUNDS 8 /* batches per wake-up before others get a turn */
#define UDP_QUERY_MAX 4096
#define CMSG_SPACE_MAX 128

struct dns_tcp_conn {
	struct loop_io io;
	struct dns_server *srv;
	bool used;
	bool eof; /* the peer half-closed: answer what came, read no more */
	int64_t last_active;
	struct sockaddr_storage peer; /* for cookies */
	size_t inlen, outoff, outlen;
	/* A transfer being sent (req.streaming): queries after it wait their turn. */
	struct primary_req req;
	uint8_t in[2 + DNS_TCP_QUERY_MAX];
	uint8_t out[2 * (2 + DNS_TCP_REPLY_MAX)];
};

int
dns_server_init(struct dns_server *s, struct loop *l, struct zone *z, struct rng *r,
                const struct rrl_config *rrl)
{
	uint8_t key[16], secret[COOKIE_SECRET_LEN];

	memset(s, 0, sizeof(*s));
	s->loop = l;
	s->zone = z;
	s->rng = r;
	s->timer = -1;
	rng_bytes(r, key, sizeof(key));
	rrl_init(&s->rrl, rrl, key);
	rng_bytes(r, secret, sizeof(secret));
	cookie_init(&s->cookies, secret);
	s->cookie_rotated_ms = l->now;
	/* Memory sized at start; pages are touched only by connections in use. */
	s->conns = calloc(DNS_TCP_CLIENTS, sizeof(*s->conns));
	return s->conns == NULL ? -1 : 0;
}

static int
set_opt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

static int
open_socket(const struct addr *a, int type, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(a, &ss);
	char as[ADDR_STRLEN];
	const char *proto = type == SOCK_DGRAM ? "udp" : "tcp";
	int fd = socket(a->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	addr_str(a, as, sizeof(as));
	if (fd < 0) {
		snprintf(err, errlen, "cannot open a %s socket for %s: %s", proto, as, strerror(errno));
		return -1;
	}
	if (a->family == AF_INET6)
		set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1); /* 0.0.0.0 and [::] side by side */
	if (type == SOCK_STREAM)
		set_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	else
		set_opt(fd, SOL_SOCKET, SO_RCVBUF, 1 << 20);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		if (e == EACCES && a->port < 1024)
			snprintf(err, errlen, "cannot bind %s/%s: %s; use --listen 0.0.0.0:5353 "
			         "or run as root (or with CAP_NET_BIND_SERVICE)", as, proto, strerror(e));
		else
			snprintf(err, errlen, "cannot bind %s/%s: %s", as, proto, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (type == SOCK_STREAM && listen(fd, 128) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s/tcp: %s", as, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (type == SOCK_DGRAM && addr_is_any(a)) {
		/* Replies must leave from the address the query came to. */
		int r = a->family == AF_INET ? set_opt(fd, IPPROTO_IP, IP_PKTINFO, 1)
		                             : set_opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		if (r < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot enable packet info on %s: %s", as, strerror(e));
			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

int
dns_server_listen(struct dns_server *s, const struct addr *a, char *err, size_t errlen)
{
	if (s->nlisten == DNS_LISTEN_MAX) {
		snprintf(err, errlen, "too many listen addresses (at most %d)", DNS_LISTEN_MAX);
		errno = ENOSPC;
		return -1;
	}
	int ufd = open_socket(a, SOCK_DGRAM, err, errlen);
	if (ufd < 0)
		return -1;
	int tfd = open_socket(a, SOCK_STREAM, err, errlen);
	if (tfd < 0) {
		int e = errno;
		close(ufd);
		errno = e;
		return -1;
	}
	struct dns_udp *u = &s->udp[s->nlisten];
	u->srv = s;
	u->family = a->family;
	u->wildcard = addr_is_any(a);
	u->io.fd = ufd;
	s->tcpl[s->nlisten].srv = s;
	s->tcpl[s->nlisten].io.fd = tfd;
	s->nlisten++;
	return 0;
}

/*
 * Copy the arrival address of a query into the control data of its reply.
 * musl's CMSG_NXTHDR mixes signed and unsigned arithmetic inside the macro.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
static size_t
reply_cmsg(const struct msghdr *in, uint8_t *ctl, size_t ctllen)
{
	struct msghdr out = { .msg_control = ctl, .msg_controllen = (socklen_t)ctllen };
	struct cmsghdr *c, *o = NULL;

	for (c = CMSG_FIRSTHDR((struct msghdr *)in); c != NULL; c = CMSG_NXTHDR((struct msghdr *)in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_addr.s_addr = 0;
			memset(ctl, 0, CMSG_SPACE(sizeof(pi)));
			o = CMSG_FIRSTHDR(&out);
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(ctl, 0, CMSG_SPACE(sizeof(pi)));
			o = CMSG_FIRSTHDR(&out);
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}
#pragma GCC diagnostic pop

/*
 * musl's sendmmsg is a loop of sendmsg calls (its msghdr pads 32-bit fields
 * that the kernel reads as 64-bit). Every msghdr and cmsghdr we build has
 * those pads zeroed (compound literals, memset control buffers), so the
 * real batched system call is safe and saves a syscall per reply.
 */
static int
send_batch(int fd, struct mmsghdr *m, unsigned n)
{
	return (int)syscall(SYS_sendmmsg, fd, m, n, MSG_DONTWAIT);
}

/* The source address of a query as bytes: 4 or 16, 0 when unknown. */
static size_t
source_ip(const struct sockaddr_storage *ss, const uint8_t **ip)
{
	if (ss->ss_family == AF_INET) {
		*ip = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
		return 4;
	}
	if (ss->ss_family == AF_INET6) {
		*ip = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		return 16;
	}
	*ip = NULL;
	return 0;
}

/* RRL for one UDP reply: its new length, 0 when it is dropped. */
static size_t
limit(struct dns_server *s, struct dns_client *c, uint8_t *reply, size_t len)
{
	if (!rrl_on(&s->rrl) || c->ip == NULL)
		return len;
	if (c->cookie == COOKIE_VALID) {
		s->rrl.stats.exempt++; /* the source is proven: no spoofed victim to protect */
		return len;
	}
	switch (rrl_account(&s->rrl, s->loop->now, c->ip, c->iplen, c->cls, c->cls_name, c->cls_type)) {
	case RRL_SEND:
		return len;
	case RRL_SLIP:
		return dns_slip(reply, len, c);
	case RRL_DROP:
	default:
		return 0;
	}
}

/*
 * One query (UDP or TCP) to a reply in out (cap bytes): its length, 0 for
 * none. A transfer (TCP) is left in rq for the connection to send.
 */
static size_t
answer_one(struct dns_server *s, struct dns_client *cl, uint8_t *q, size_t qlen, uint8_t *out, size_t cap,
           bool tcp, struct primary_req *rq)
{
	size_t len = 0;

	if (s->primary == NULL)
		return dns_answer(s->zone, s->rng, q, qlen, out, cap, tcp, cl, &s->stats);
	switch (primary_query(s->primary, q, &qlen, cl->ip, cl->iplen, tcp, cl->now, out, cap, &len, rq)) {
	case PRIMARY_REPLY:
		/* Limited as errors are (a bad signature gets a reply), and never slipped: not dns_answer's. */
		cl->cls = RRL_ERROR;
		cl->cls_name = NULL;
		cl->cls_type = 0;
		cl->question_end = cl->opt_off = DNS_HDR; /* a slip is the bare header */
		cl->opt_len = 0;
		return len;
	case PRIMARY_SIGN: {
		size_t reserve = primary_reserve(s->primary);
		len = dns_answer(s->zone, s->rng, q, qlen, out, cap - reserve, tcp, cl, &s->stats);
		return len ? primary_sign(s->primary, rq, out, len, cap, cl->now) : 0;
	}
	case PRIMARY_STREAM:
	case PRIMARY_DROP:
		return 0;
	case PRIMARY_PASS:
	default:
		return dns_answer(s->zone, s->rng, q, qlen, out, cap, tcp, cl, &s->stats);
	}
}

static void
on_udp(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct dns_udp *u = (struct dns_udp *)io;
	struct dns_server *s = u->srv;
	static uint8_t qbuf[UDP_BATCH][UDP_QUERY_MAX];
	static uint8_t rbuf[UDP_BATCH][DNS_EDNS_SIZE];
	static uint8_t qctl[UDP_BATCH][CMSG_SPACE_MAX], rctl[UDP_BATCH][CMSG_SPACE_MAX];
	struct sockaddr_storage from[UDP_BATCH];
	struct mmsghdr qm[UDP_BATCH], rm[UDP_BATCH];
	struct iovec qiov[UDP_BATCH], riov[UDP_BATCH];

	struct dns_client c = { .cookies = &s->cookies, .now = (uint32_t)time(NULL) };

	(void)l;
	(void)events;
	for (int round = 0; round < UDP_ROUNDS; round++) {
		for (int i = 0; i < UDP_BATCH; i++) {
			/* Value-result fields are reset before every call. */
			qiov[i] = (struct iovec){ qbuf[i], sizeof(qbuf[i]) };
			qm[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
				.msg_iov = &qiov[i], .msg_iovlen = 1,
				.msg_control = u->wildcard ? qctl[i] : NULL,
				.msg_controllen = u->wildcard ? sizeof(qctl[i]) : 0,
			};
			qm[i].msg_len = 0;
		}
		int n = recvmmsg(io->fd, qm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN: drained; other errors: try again on the next wake-up */
		int nr = 0;
		for (int i = 0; i < n; i++) {
			struct primary_req rq;
			c.iplen = source_ip(&from[i], &c.ip);
			size_t len = answer_one(s, &c, qbuf[i], qm[i].msg_len, rbuf[nr], sizeof(rbuf[nr]), false, &rq);
			if (len > 0)
				len = limit(s, &c, rbuf[nr], len);
			if (len == 0)
				continue;
			riov[nr] = (struct iovec){ rbuf[nr], len };
			rm[nr].msg_hdr = (struct msghdr){
				.msg_name = &from[i], .msg_namelen = qm[i].msg_hdr.msg_namelen,
				.msg_iov = &riov[nr], .msg_iovlen = 1,
			};
			if (u->wildcard) {
				size_t cl = reply_cmsg(&qm[i].msg_hdr, rctl[nr], sizeof(rctl[nr]));
				rm[nr].msg_hdr.msg_control = cl ? rctl[nr] : NULL;
				rm[nr].msg_hdr.msg_controllen = (socklen_t)cl;
			}
			nr++;
		}
		for (int sent = 0; sent < nr;) {
			int k = send_batch(io->fd, rm + sent, (unsigned)(nr - sent));
			if (k <= 0) {
				/* Socket buffer full or the peer gone: drop the rest, counted. */
				s->udp_send_errors += (uint64_t)(nr - sent);
				break;
			}
			sent += k;
		}
		if (n < UDP_BATCH)
			return;
	}
}

/* TCP */

static void
conn_close(struct dns_tcp_conn *c)
{
	if (c->srv->primary)
		primary_stream_cut(c->srv->primary, &c->req);
	c->used = false;
	c->srv->active--;
	c->srv->tcp.closed++;
	loop_del(c->srv->loop, &c->io);
}

static void
conn_release(struct loop_io *io)
{
	struct dns_tcp_conn *c = (struct dns_tcp_conn *)io;
	c->io.dead = false; /* the slot is free again */
}

static bool
out_has_room(const struct dns_tcp_conn *c)
{
	return sizeof(c->out) - c->outlen >= 2 + DNS_TCP_REPLY_MAX;
}

/*
 * Answer every complete query in the input while a full reply still fits;
 * a transfer sends a message each time one fits, and the queries after it
 * wait (replies stay in order). false: close the connection.
 */
static bool
conn_process(struct dns_tcp_conn *c)
{
	struct dns_server *s = c->srv;
	size_t off = 0;
	bool ok = true;

	while (out_has_room(c)) {
		uint8_t *o = c->out + c->outlen;
		if (c->req.streaming) {
			bool failed;
			size_t len = primary_stream_next(s->primary, &c->req, o + 2, DNS_TCP_REPLY_MAX,
			                                 (uint64_t)time(NULL), &failed);
			if (failed) {
				ok = false;
				break;
			}
			if (len > 0) {
				o[0] = (uint8_t)(len >> 8);
				o[1] = (uint8_t)len;
				c->outlen += 2 + len;
			}
			continue;
		}
		if (c->inlen - off < 2)
			break;
		size_t mlen = (size_t)c->in[off] << 8 | c->in[off + 1];
		if (mlen == 0 || mlen > DNS_TCP_QUERY_MAX) {
			s->tcp.bad_length++;
			return false;
		}
		if (c->inlen - off - 2 < mlen)
			break;
		struct dns_client cl = { .cookies = &s->cookies, .now = (uint32_t)time(NULL) };
		cl.iplen = source_ip(&c->peer, &cl.ip);
		size_t len = answer_one(s, &cl, c->in + off + 2, mlen, o + 2, DNS_TCP_REPLY_MAX, true, &c->req);
		if (len > 0) {
			o[0] = (uint8_t)(len >> 8);
			o[1] = (uint8_t)len;
			c->outlen += 2 + len;
		}
		off += 2 + mlen;
		c->last_active = s->loop->now;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	return ok;
}

static bool
conn_flush(struct dns_tcp_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->io.fd, c->out + c->outoff, c->outlen - c->outoff,
		                 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return false;
		}
		c->outoff += (size_t)n;
		c->last_active = c->srv->loop->now;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	else if (c->outoff > 0 && !out_has_room(c)) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	return true;
}

/* Interest follows state: read only while a reply would have room. */
static void
conn_update(struct dns_tcp_conn *c)
{
	uint32_t mask = 0;

	if (!c->eof && c->inlen < sizeof(c->in) && out_has_room(c))
		mask |= EPOLLIN;
	if (c->outlen > c->outoff)
		mask |= EPOLLOUT;
	loop_set(c->srv->loop, &c->io, mask);
}

static void
on_conn(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct dns_tcp_conn *c = (struct dns_tcp_conn *)io;

	(void)l;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		while (!c->eof && c->inlen < sizeof(c->in) && out_has_room(c)) {
			ssize_t n = recv(io->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					c->eof = true;
				break;
			}
			if (n == 0) {
				c->eof = true;
				break;
			}
			c->inlen += (size_t)n;
			if (!conn_process(c)) {
				conn_close(c);
				return;
			}
		}
	}
	/* Write what is owed, then answer queries that waited for room. */
	if (!conn_flush(c) || !conn_process(c) || !conn_flush(c)) {
		conn_close(c);
		return;
	}
	if (c->eof && c->outlen == c->outoff) {
		conn_close(c);
		return;
	}
	conn_update(c);
}

static struct dns_tcp_conn *
conn_slot(struct dns_server *s)
{
	struct dns_tcp_conn *oldest = NULL;
	bool pending = false;

	for (int i = 0; i < DNS_TCP_CLIENTS; i++) {
		struct dns_tcp_conn *c = &s->conns[i];
		if (!c->used && !c->io.dead)
			return c;
		if (c->io.dead)
			pending = true;
		else if (oldest == NULL || c->last_active < oldest->last_active)
			oldest = c;
	}
	/* Full: the least recently active connection makes room. Its slot is
	 * free after this batch; the listener stays readable until then. */
	if (!pending && oldest != NULL) {
		s->tcp.evicted++;
		conn_close(oldest);
	}
	return NULL;
}

static void
on_accept(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct dns_tcp_listener *tl = (struct dns_tcp_listener *)io;
	struct dns_server *s = tl->srv;

	(void)events;
	for (int i = 0; i < 64; i++) {
		struct dns_tcp_conn *c = conn_slot(s);
		if (c == NULL)
			return;
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(io->fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		memset(c, 0, offsetof(struct dns_tcp_conn, in));
		c->peer = peer;
		c->io.fd = fd;
		c->io.cb = on_conn;
		c->io.free_cb = conn_release;
		c->srv = s;
		c->used = true;
		c->last_active = l->now;
		if (loop_add(l, &c->io, EPOLLIN) < 0) {
			close(fd);
			c->used = false;
			continue;
		}
		s->active++;
		s->tcp.accepted++;
	}
}

/* One line a minute at most while responses are limited, naming the top prefixes. */
static void
rrl_log(struct dns_server *s, int64_t now)
{
	const struct rrl_stats *st = &s->rrl.stats, *was = &s->rrl_logged;
	struct rrl_top top[3];
	char list[3 * 64] = "", ip[ADDR_STRLEN];

	if (st->limited == was->limited || (s->rrl_logged_ms != 0 && now - s->rrl_logged_ms < 60000))
		return;
	size_t n = rrl_top(&s->rrl, top, 3);
	for (size_t i = 0; i < n; i++) {
		struct addr a = { .family = (uint8_t)top[i].family };
		memcpy(a.ip, top[i].prefix, 16);
		addr_ip_str(&a, ip, sizeof(ip));
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s/%u:%llu", i ? "," : "", ip, top[i].bits,
		         (unsigned long long)top[i].limited);
	}
	log_info("dns", "msg=\"rrl: responses over the rate limit\" limited=%llu slipped=%llu dropped=%llu "
	         "exempt=%llu top=%s",
	         (unsigned long long)(st->limited - was->limited),
	         (unsigned long long)(st->slipped - was->slipped),
	         (unsigned long long)(st->dropped - was->dropped),
	         (unsigned long long)(st->exempt - was->exempt), list);
	s->rrl_logged = *st;
	s->rrl_logged_ms = now;
}

static void
on_sweep(struct loop *l, void *arg)
{
	struct dns_server *s = arg;

	if (l->now - s->cookie_rotated_ms >= (int64_t)COOKIE_ROTATE * 1000) {
		uint8_t fresh[COOKIE_SECRET_LEN];
		rng_bytes(s->rng, fresh, sizeof(fresh));
		cookie_rotate(&s->cookies, fresh);
		s->cookie_rotated_ms = l->now;
	}
	rrl_log(s, l->now);

	for (int i = 0; i < DNS_TCP_CLIENTS; i++) {
		struct dns_tcp_conn *c = &s->conns[i];
		if (c->used && l->now - c->last_active >= DNS_TCP_IDLE_MS) {
			s->tcp.idle_closed++;
			conn_close(c);
		}
	}
	loop_timer_arm(l, s->timer, 1000);
}

int
dns_server_start(struct dns_server *s)
{
	for (int i = 0; i < s->nlisten; i++) {
		s->udp[i].io.cb = on_udp;
		s->tcpl[i].io.cb = on_accept;
		if (loop_add(s->loop, &s->udp[i].io, EPOLLIN) < 0 ||
		    loop_add(s->loop, &s->tcpl[i].io, EPOLLIN) < 0)
			return -1;
	}
	s->timer = loop_timer_new(s->loop, on_sweep, s);
	if (s->timer < 0)
		return -1;
	loop_timer_arm(s->loop, s->timer, 1000);
	return 0;
}

void
dns_server_close(struct dns_server *s)
{
	for (int i = 0; i < DNS_TCP_CLIENTS; i++)
		if (s->conns[i].used)
			close(s->conns[i].io.fd);
	for (int i = 0; i < s->nlisten; i++) {
		close(s->udp[i].io.fd);
		close(s->tcpl[i].io.fd);
	}
	free(s->conns);
	s->conns = NULL;
	rrl_free(&s->rrl);
}
