/*
 * check: the client side of one node check, as a state machine over a
 * non-blocking socket. Protocol work is done by ws (frames, handshake),
 * peers (JSON) and tls (the BearSSL engine); this file moves bytes and
 * decides the result.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crawl/node_check.h"
#include "base/log.h"
#include "crawl/infnote_msg.h"
#include "crawl/websocket.h"

#define CHECK_OUT_MAX 4096
/*
 * All checks together hold at most this much in message buffers: 256
 * checks each sent a 2 MiB message must not take 512 MiB. A check refused
 * room fails (not the node's fault: no ban).
 */
#define CHECK_MSG_BUDGET (64u << 20)

enum check_state {
	ST_CONNECTING, /* TCP connect (and TLS handshake: it runs under the first write) */
	ST_UPGRADE,    /* request sent, reading the 101 */
	ST_ASKED,      /* question sent, reading messages */
	ST_LINGER,     /* result reported, close sent, waiting for the peer's close */
};

struct check {
	struct loop_io io; /* first: the loop hands it back */
	struct check_env *env;
	struct check *next, *prev;
	void *user;
	enum check_state state;
	bool reported, close_sent, tcp_up, tls_closing;
	int64_t deadline;
	struct addr addr;
	struct url url;
	struct tls *tls;
	struct ws_hs hs;
	struct ws_parser ws;
	char key[WS_KEY_LEN + 1];
	uint8_t dialect;  /* asked in: PEERS_D_01 or PEERS_D_11 */
	bool asked_info;  /* the 0.1 info fallback question is out */
	bool silent_info; /* asked after want_peers met silence: its answer still counts */
	int64_t info_at;  /* monotonic ms: no answer to want_peers by then, ask info too; 0 = no */
	char peers_id[PEERS_ID_LEN + 1]; /* the want_peers question's id once info is asked */
	bool switched;    /* 1.1 asked after a 1.1-shaped reply */
	char ask_id[PEERS_ID_LEN + 1];
	struct check_result res;
	char detail[160];
	uint8_t out[CHECK_OUT_MAX];
	size_t out_len;
	size_t charged; /* ws.msg_cap as counted in msg_bytes */
};

static void on_io(struct loop *l, struct loop_io *io, uint32_t events);

static size_t msg_bytes;          /* message buffers of every live check */
static struct check *msg_growing; /* the check whose parser runs now */

/* The parser's allocator: refuses what would take every check past the budget. */
static void *
msg_grow(void *p, size_t cap)
{
	size_t others = msg_bytes - (msg_growing ? msg_growing->charged : 0);

	if (cap > CHECK_MSG_BUDGET - others)
		return NULL;
	return realloc(p, cap);
}

static void
on_free(struct loop_io *io)
{
	struct check *c = (struct check *)io;

	msg_bytes -= c->charged;
	ws_parser_free(&c->ws);
	if (c->tls)
		tls_free(c->tls);
	free(c);
}

static void
unlink_check(struct check *c)
{
	struct check_env *env = c->env;

	if (c->prev)
		c->prev->next = c->next;
	else
		env->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	env->nlive--;
}

static void
destroy(struct check *c)
{
	/* A close frame still queued (answering the node's close) gets one try. */
	if (c->out_len && !c->tls && !c->io.dead)
		(void)!send(c->io.fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	unlink_check(c);
	loop_del(c->env->loop, &c->io);
}

/* Report the result once; then linger politely, or close at once. */
static void
finish(struct check *c, bool good, enum node_error err, const char *detail)
{
	if (c->reported)
		return;
	c->reported = true;
	c->res.good = good;
	c->res.err = good ? NODE_E_NONE : err;
	if (detail && detail != c->detail)
		snprintf(c->detail, sizeof(c->detail), "%s", detail);
	c->res.detail = c->detail;
	c->env->on_done(c->env->arg, c->user, &c->res);
}

static void
fail(struct check *c, enum node_error err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail(struct check *c, enum node_error err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	finish(c, false, err, c->detail);
	destroy(c);
}

static void
garbage(struct check *c, const char *fmt, const char *what)
{
	c->res.garbage = true;
	fail(c, NODE_E_PROTOCOL, fmt, what);
}

static int
queue_out(struct check *c, const void *p, size_t n)
{
	if (CHECK_OUT_MAX - c->out_len < n)
		return -1;
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

static int
queue_frame(struct check *c, enum ws_opcode op, const void *p, size_t n)
{
	uint8_t mask[4], frame[CHECK_OUT_MAX];
	size_t len;

	/* RFC 6455 5.3: a fresh unpredictable mask for every frame. */
	rng_bytes(c->env->rng, mask, sizeof(mask));
	len = ws_frame(frame, sizeof(frame), op, true, p, n, mask);
	if (len == 0)
		return -1;
	return queue_out(c, frame, len);
}

static void
new_id(struct check *c)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	for (int i = 0; i < PEERS_ID_LEN; i++)
		c->ask_id[i] = alnum[rng_below(c->env->rng, 62)];
	c->ask_id[PEERS_ID_LEN] = '\0';
}

static int
ask(struct check *c, enum peers_dialect d, bool info)
{
	char msg[512];
	size_t n;

	new_id(c);
	c->dialect = (uint8_t)d;
	c->asked_info = info;
	/* SPEC 5: silence to want_peers counts as failing it; half the time left, then info. */
	c->info_at = d == PEERS_D_01 && !info ? c->env->loop->now + (c->deadline - c->env->loop->now) / 2 : 0;
	if (d == PEERS_D_11)
		n = peers_ask_11(msg, sizeof(msg), c->ask_id);
	else if (info)
		n = peers_ask_info_01(msg, sizeof(msg), c->ask_id);
	else
		n = peers_ask_01(msg, sizeof(msg), c->ask_id);
	return n ? queue_frame(c, WS_OP_TEXT, msg, n) : -1;
}

static void
on_peer(void *arg, const struct url *peer)
{
	struct check *c = arg;

	c->res.peers++;
	c->env->on_peer(c->env->arg, peer);
}

/* One whole text message in ST_ASKED. */
static void
on_text(struct check *c, const uint8_t *p, size_t n)
{
	struct peers_result pr = peers_parse((const char *)p, n, (enum peers_dialect)c->dialect,
	                                     c->dialect == PEERS_D_01 ? c->ask_id : NULL,
	                                     c->asked_info, c->env->default_port, on_peer, c);

	/* A late answer to want_peers, after info was asked for its silence, is still the answer. */
	if (pr.kind == PEERS_K_OTHER && c->silent_info) {
		pr = peers_parse((const char *)p, n, PEERS_D_01, c->peers_id, 0, c->env->default_port, on_peer, c);
		if (pr.kind == PEERS_K_ERROR)
			return; /* info is asked already: its answer decides */
	}

	c->res.bad_peers += pr.bad;
	switch (pr.kind) {
	case PEERS_K_PEERS:
		c->res.dialect = c->dialect;
		snprintf(c->detail, sizeof(c->detail), "peers");
		finish(c, true, NODE_E_NONE, NULL);
		break;
	case PEERS_K_INFO:
		c->res.dialect = c->dialect;
		snprintf(c->detail, sizeof(c->detail), "info fallback");
		finish(c, true, NODE_E_NONE, NULL);
		break;
	case PEERS_K_ERROR:
		/* The prototype's fallback: a 0.1 node that will not list peers may still answer info. */
		if (c->dialect == PEERS_D_01 && !c->asked_info) {
			c->res.dialect = PEERS_D_01;
			if (ask(c, PEERS_D_01, true) < 0)
				fail(c, NODE_E_ERROR, "cannot queue the info question");
			return;
		}
		/* A clean answer, just not a good one: the connection still closes politely. */
		c->res.dialect = c->dialect;
		finish(c, false, NODE_E_ERROR, "the node answered with an error");
		return;
	case PEERS_K_SHAPED_11:
		/* SPEC 5: a 1.1-shaped reply to 0.1 means ask again in 1.1 on this connection. */
		if (!c->switched) {
			c->switched = true;
			c->res.dialect = PEERS_D_11;
			if (ask(c, PEERS_D_11, false) < 0)
				fail(c, NODE_E_ERROR, "cannot queue the 1.1 question");
		}
		return;
	case PEERS_K_OTHER:
		return; /* broadcasts, their own questions: not the answer */
	case PEERS_K_MALFORMED:
		garbage(c, "%s", "malformed JSON message");
		return;
	}
}

static void
send_close(struct check *c)
{
	/* RFC 6455 5.5.1: 1000, normal closure. */
	static const uint8_t normal[2] = { 0x03, 0xe8 };

	if (!c->close_sent && queue_frame(c, WS_OP_CLOSE, normal, 2) == 0)
		c->close_sent = true;
}

/* Feed websocket bytes after the upgrade. */
static void
on_frames(struct check *c, const uint8_t *p, size_t n)
{
	while (n > 0 && !c->io.dead) {
		size_t used = 0;
		msg_growing = c;
		enum ws_event ev = ws_parse(&c->ws, p, n, &used);
		msg_growing = NULL;
		/* Charge what the buffer holds now (it may have grown, or been freed when idle). */
		msg_bytes = msg_bytes - c->charged + c->ws.msg_cap;
		c->charged = c->ws.msg_cap;
		p += used;
		n -= used;
		switch (ev) {
		case WS_EV_MORE:
			break;
		case WS_EV_TEXT:
			if (c->state == ST_ASKED)
				on_text(c, c->ws.data, c->ws.data_len);
			break;
		case WS_EV_BINARY:
			if (c->state == ST_ASKED)
				garbage(c, "%s", "binary message");
			break;
		case WS_EV_PING:
			/* RFC 6455 5.5.2: answer with a pong carrying the same data. */
			if (!c->close_sent && queue_frame(c, WS_OP_PONG, c->ws.data, c->ws.data_len) < 0)
				fail(c, NODE_E_PROTOCOL, "output full");
			break;
		case WS_EV_PONG:
			break;
		case WS_EV_CLOSE:
			if (c->state == ST_LINGER) {
				destroy(c);
				return;
			}
			send_close(c);
			fail(c, NODE_E_CLOSED, "closed by the node (code %d) before answering", c->ws.close_code);
			return;
		case WS_EV_ERROR:
			if (c->state == ST_LINGER) {
				destroy(c);
				return;
			}
			if (c->ws.err == WS_E_NOMEM) {
				c->res.ours = true;
				fail(c, NODE_E_PROTOCOL, "no room for the message: %s", "buffers of all checks at their budget");
				return;
			}
			garbage(c, "bad frame: %s", ws_error_name(c->ws.err));
			return;
		}
	}
	if (c->reported && !c->io.dead && c->state != ST_LINGER) {
		c->state = ST_LINGER;
		c->deadline = c->env->loop->now + CHECK_LINGER_MS;
		send_close(c);
	}
}

/* Bytes from the node, plaintext. */
static void
on_bytes(struct check *c, const uint8_t *p, size_t n)
{
	if (c->state == ST_UPGRADE) {
		size_t used = 0;
		enum ws_hs_result r = ws_hs_feed(&c->hs, p, n, &used);
		if (r == WS_HS_MORE)
			return;
		if (r != WS_HS_OK) {
			/* SPEC 5: a 101 that breaks the handshake's rules is garbage; another status is not. */
			c->res.garbage = c->hs.status == 101;
			fail(c, NODE_E_HANDSHAKE, "websocket handshake: %s (HTTP status %d)",
			     ws_hs_result_name(r), c->hs.status);
			return;
		}
		c->state = ST_ASKED;
		if (ask(c, c->dialect == PEERS_D_11 ? PEERS_D_11 : PEERS_D_01, false) < 0) {
			fail(c, NODE_E_PROTOCOL, "cannot queue the question");
			return;
		}
		p += used;
		n -= used;
	}
	if (n && (c->state == ST_ASKED || c->state == ST_LINGER))
		on_frames(c, p, n);
}

static void
connected(struct check *c)
{
	char host[URL_HOST_MAX + 16], req[1024];
	uint8_t nonce[16];
	size_t n;
	bool v6 = c->url.is_ip && strchr(c->url.host, ':');
	uint16_t def = c->url.tls ? 443 : 80;

	/* RFC 6455 4.1: Host names the port unless it is the scheme's default. */
	if (c->url.port == def)
		snprintf(host, sizeof(host), v6 ? "[%s]" : "%s", c->url.host);
	else
		snprintf(host, sizeof(host), v6 ? "[%s]:%u" : "%s:%u", c->url.host, c->url.port);
	rng_bytes(c->env->rng, nonce, sizeof(nonce));
	ws_key(c->key, nonce);
	ws_hs_init(&c->hs, c->key);
	n = ws_request(req, sizeof(req), host, c->url.path, c->key);
	if (n == 0 || queue_out(c, req, n) < 0) {
		fail(c, NODE_E_HANDSHAKE, "request does not fit");
		return;
	}
	c->state = ST_UPGRADE;
}

static enum node_error
errno_reason(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return NODE_E_REFUSED;
	case ETIMEDOUT:
		return NODE_E_TIMEOUT;
	case ECONNRESET:
	case EPIPE:
		return NODE_E_CLOSED;
	default:
		return NODE_E_UNREACHABLE;
	}
}

static void
sock_fail(struct check *c, int e)
{
	if (c->state == ST_LINGER) {
		destroy(c);
		return;
	}
	fail(c, errno_reason(e), "%s", strerror(e));
}

static void
eof(struct check *c)
{
	if (c->state == ST_LINGER) {
		destroy(c);
		return;
	}
	fail(c, NODE_E_CLOSED, "%s", c->state == ST_UPGRADE ? "connection closed during the handshake"
	                                               : "connection closed before the answer");
}

static void
set_mask(struct check *c, uint32_t want)
{
	if (!c->io.dead && loop_set(c->env->loop, &c->io, want) < 0)
		fail(c, NODE_E_UNREACHABLE, "epoll: %s", strerror(errno));
}

static void
pump_plain(struct check *c)
{
	static uint8_t buf[65536];

	for (;;) {
		if (c->out_len) {
			ssize_t w = send(c->io.fd, c->out, c->out_len, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno != EAGAIN) {
				sock_fail(c, errno);
				return;
			}
			if (w > 0) {
				memmove(c->out, c->out + w, c->out_len - (size_t)w);
				c->out_len -= (size_t)w;
			}
		}
		ssize_t r = recv(c->io.fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r < 0) {
			sock_fail(c, errno);
			return;
		}
		if (r == 0) {
			eof(c);
			return;
		}
		on_bytes(c, buf, (size_t)r);
		if (c->io.dead)
			return;
	}
	set_mask(c, EPOLLIN | (c->out_len ? EPOLLOUT : 0u));
}

static void
pump_tls(struct check *c)
{
	uint32_t want;

	for (;;) {
		enum tls_status st = tls_io(c->tls, c->io.fd, &want);
		if (st == TLS_FAILED) {
			if (c->state == ST_LINGER) {
				destroy(c);
				return;
			}
			fail(c, c->state == ST_CONNECTING ? NODE_E_TLS : NODE_E_PROTOCOL,
			     "TLS: %s", tls_error(c->tls));
			return;
		}
		if (st == TLS_CLOSED) {
			eof(c);
			return;
		}
		bool progress = false;
		size_t n;
		const uint8_t *p = tls_read(c->tls, &n);
		if (n) {
			uint8_t tmp[16384];
			if (n > sizeof(tmp))
				n = sizeof(tmp);
			memcpy(tmp, p, n);
			tls_read_ack(c->tls, n);
			if (c->state == ST_CONNECTING)
				c->state = ST_UPGRADE;
			on_bytes(c, tmp, n);
			if (c->io.dead)
				return;
			progress = true;
		}
		if (c->out_len) {
			size_t w = tls_write(c->tls, c->out, c->out_len);
			if (w) {
				/* Handshake done: the engine takes application data. */
				if (c->state == ST_CONNECTING)
					c->state = ST_UPGRADE;
				memmove(c->out, c->out + w, c->out_len - w);
				c->out_len -= w;
				progress = true;
			}
		}
		/* close_notify only once our close frame is inside the engine. */
		if (c->state == ST_LINGER && c->out_len == 0 && !c->tls_closing) {
			c->tls_closing = true;
			tls_close(c->tls);
			progress = true;
		}
		if (!progress)
			break;
	}
	set_mask(c, want ? want : EPOLLIN);
}

static void
on_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct check *c = (struct check *)io;

	(void)l;
	if (!c->tcp_up) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			sock_fail(c, err);
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
		c->tcp_up = true;
		/* Plain: the upgrade request goes now. TLS: it is queued already. */
		if (!c->tls) {
			connected(c);
			if (c->io.dead)
				return;
		}
	}
	if (c->tls)
		pump_tls(c);
	else
		pump_plain(c);
}

struct check *
check_start(struct check_env *env, const struct addr *addr, const struct url *url, uint8_t dialect,
            int64_t deadline, void *user, struct check_result *r)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(addr, &ss);
	struct check *c;
	int fd;

	memset(r, 0, sizeof(*r));
	if (url->tls && (!env->anchors || env->anchors->n == 0)) {
		r->err = NODE_E_TLS;
		r->detail = "no trust anchors: give --ca-file with a PEM bundle";
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		r->err = NODE_E_UNREACHABLE;
		r->detail = "out of memory";
		return NULL;
	}
	fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r->err = NODE_E_UNREACHABLE;
		r->detail = "cannot open a socket";
		free(c);
		return NULL;
	}
	/* Small request/answer exchanges: no Nagle delay behind an unacknowledged segment. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		r->err = errno_reason(errno);
		r->detail = "connect failed";
		close(fd);
		free(c);
		return NULL;
	}
	c->env = env;
	c->user = user;
	c->addr = *addr;
	c->url = *url;
	c->deadline = deadline;
	c->dialect = dialect == PEERS_D_11 ? PEERS_D_11 : PEERS_D_01;
	c->state = ST_CONNECTING;
	ws_parser_init(&c->ws);
	c->ws.grow = msg_grow;
	c->io.fd = fd;
	c->io.cb = on_io;
	c->io.free_cb = on_free;
	c->io.arg = c;
	if (url->tls) {
		c->tls = tls_new(env->anchors, url->host);
		if (!c->tls) {
			r->err = NODE_E_TLS;
			r->detail = "cannot start TLS";
			close(fd);
			ws_parser_free(&c->ws);
			free(c);
			return NULL;
		}
		/* The upgrade request waits in out until the TLS handshake lets it through. */
		connected(c);
		c->state = ST_CONNECTING;
	}
	if (loop_add(env->loop, &c->io, EPOLLOUT | EPOLLIN) < 0) {
		r->err = NODE_E_UNREACHABLE;
		r->detail = "epoll failed";
		close(fd);
		on_free(&c->io);
		return NULL;
	}
	c->next = env->live;
	if (env->live)
		env->live->prev = c;
	env->live = c;
	env->nlive++;
	return c;
}

void
check_sweep(struct check_env *env, int64_t now)
{
	struct check *c = env->live, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->state == ST_ASKED && c->info_at && now >= c->info_at && !c->reported) {
			/* want_peers met silence: ask info on the same connection (SPEC 5). */
			memcpy(c->peers_id, c->ask_id, sizeof(c->peers_id));
			c->silent_info = true;
			if (ask(c, PEERS_D_01, true) < 0) {
				fail(c, NODE_E_ERROR, "cannot queue the info question");
				continue;
			}
			set_mask(c, EPOLLIN | EPOLLOUT);
			continue;
		}
		if (c->deadline > now)
			continue;
		if (c->state == ST_LINGER)
			destroy(c);
		else
			fail(c, NODE_E_TIMEOUT, "no answer within --timeout (%s)",
			     c->state == ST_CONNECTING ? "connecting" :
			     c->state == ST_UPGRADE ? "handshake" : "waiting for the answer");
	}
}

void
check_abort_all(struct check_env *env)
{
	while (env->live) {
		struct check *c = env->live;
		c->reported = true;
		destroy(c);
	}
}
