#include "app/http.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

int
http_parse_request(const char *head, size_t len, bool *head_only, char *path, size_t pathlen)
{
	const char *end = memchr(head, '\n', len), *sp1, *sp2;

	if (!end)
		return 400;
	size_t ll = (size_t)(end - head);
	if (ll > 0 && head[ll - 1] == '\r')
		ll--;
	sp1 = memchr(head, ' ', ll);
	if (!sp1)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - head));
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	size_t ml = (size_t)(sp1 - head), pl = (size_t)(sp2 - sp1 - 1), vl = ll - (size_t)(sp2 + 1 - head);
	if (vl != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1'))
		return vl >= 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 : 400;
	if (sp1[1] != '/')
		return 400;
	for (size_t i = 0; i < pl; i++)
		if ((unsigned char)sp1[1 + i] <= ' ' || (unsigned char)sp1[1 + i] >= 0x7f)
			return 400;
	const char *q = memchr(sp1 + 1, '?', pl);
	if (q)
		pl = (size_t)(q - sp1 - 1);
	if (pl >= pathlen)
		return 404; /* no path of ours is that long */
	memcpy(path, sp1 + 1, pl);
	path[pl] = '\0';
	*head_only = ml == 4 && memcmp(head, "HEAD", 4) == 0;
	if (!(ml == 3 && memcmp(head, "GET", 3) == 0) && !*head_only)
		return 405;
	return 0;
}

static void
on_conn_free(struct loop_io *io)
{
	struct http_conn *c = (struct http_conn *)io;

	free(c->out);
	c->out = NULL;
	c->used = false;
}

static void
conn_close(struct http_conn *c)
{
	loop_del(c->srv->loop, &c->io);
}

static void
respond(struct http_conn *c, int status, const char *body, size_t blen, const char *ctype, bool head_only)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
	                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
	                 status, reason(status), ctype, blen, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	size_t hl = n > 0 && (size_t)n < sizeof(hdr) ? (size_t)n : 0;
	size_t total = hl + (head_only ? 0 : blen);

	c->out = malloc(total ? total : 1);
	if (!c->out) {
		conn_close(c);
		return;
	}
	memcpy(c->out, hdr, hl);
	if (!head_only && blen)
		memcpy(c->out + hl, body, blen);
	c->outlen = total;
	c->outoff = 0;
	loop_set(c->srv->loop, &c->io, EPOLLOUT);
}

static void
handle(struct http_conn *c, size_t headlen)
{
	struct http_server *h = c->srv;
	char path[64];
	bool head_only = false;
	int st = http_parse_request(c->in, headlen, &head_only, path, sizeof(path));

	h->st.requests++;
	if (st) {
		if (st == 400 || st == 505)
			h->st.bad_requests++;
		const char *msg = st == 404   ? "not found\n"
		                  : st == 405 ? "only GET and HEAD\n"
		                  : st == 505 ? "HTTP/1.0 or HTTP/1.1 only\n"
		                              : "bad request\n";
		respond(c, st, msg, strlen(msg), "text/plain; charset=utf-8", head_only);
		return;
	}
	char *body = NULL;
	size_t len = 0;
	const char *ctype = "text/plain; charset=utf-8";
	st = h->fn(h->arg, path, &body, &len, &ctype);
	if (st == 500 || (!body && len)) {
		free(body);
		respond(c, 500, "out of memory\n", 14, "text/plain; charset=utf-8", head_only);
		return;
	}
	respond(c, st, body ? body : "", len, ctype, head_only);
	free(body);
}

static void
on_conn(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct http_conn *c = (struct http_conn *)io;

	(void)l;
	if (c->out) {
		while (c->outoff < c->outlen) {
			ssize_t n = send(c->io.fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n <= 0)
				break;
			c->outoff += (size_t)n;
		}
		conn_close(c);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	for (;;) {
		if (c->inlen == HTTP_REQ_MAX) {
			c->srv->st.too_large++;
			respond(c, 431, "request too large\n", 18, "text/plain; charset=utf-8", false);
			return;
		}
		ssize_t n = recv(c->io.fd, c->in + c->inlen, HTTP_REQ_MAX - c->inlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		size_t from = c->inlen >= 3 ? c->inlen - 3 : 0;
		c->inlen += (size_t)n;
		for (size_t i = from; i + 4 <= c->inlen; i++)
			if (memcmp(c->in + i, "\r\n\r\n", 4) == 0) {
				handle(c, i + 4);
				return;
			}
		for (size_t i = from; i + 2 <= c->inlen; i++)
			if (memcmp(c->in + i, "\n\n", 2) == 0) {
				handle(c, i + 2);
				return;
			}
	}
}

static void
on_listen(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct http_server *h = io->arg;

	(void)events;
	for (;;) {
		int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct http_conn *c = NULL;
		for (int i = 0; i < HTTP_CONNS && !c; i++)
			if (!h->conns[i].used)
				c = &h->conns[i];
		if (!c) {
			/* Busy: a scraper retries; nothing here may wait. */
			h->st.refused_busy++;
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->srv = h;
		c->deadline = l->now + HTTP_DEADLINE_MS;
		c->io = (struct loop_io){ .fd = fd, .cb = on_conn, .free_cb = on_conn_free, .arg = c };
		if (loop_add(l, &c->io, EPOLLIN) < 0) {
			close(fd);
			c->used = false;
			continue;
		}
		h->st.accepted++;
	}
}

static void
on_timer(struct loop *l, void *arg)
{
	struct http_server *h = arg;

	for (int i = 0; i < HTTP_CONNS; i++) {
		struct http_conn *c = &h->conns[i];
		if (c->used && !c->io.dead && l->now >= c->deadline) {
			h->st.timeouts++;
			conn_close(c);
		}
	}
	loop_timer_arm(l, h->timer, 1000);
}

int
http_listen(struct http_server *h, struct loop *l, const struct addr *a, http_handler_fn *fn, void *arg,
            char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char as[ADDR_STRLEN];
	int one = 1;

	memset(h, 0, sizeof(*h));
	h->loop = l;
	h->fn = fn;
	h->arg = arg;
	addr_str(a, as, sizeof(as));
	h->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (a->family == AF_INET6 && setsockopt(h->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(h->fd, (struct sockaddr *)&ss, addr_to_sockaddr(a, &ss)) < 0 || listen(h->fd, 16) < 0) {
		snprintf(err, errlen, "--metrics %s: cannot listen: %s; give a local address and a free port", as,
		         strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		h->fd = -1;
		return -1;
	}
	h->lio = (struct loop_io){ .fd = h->fd, .cb = on_listen, .arg = h };
	if (loop_add(l, &h->lio, EPOLLIN) < 0) {
		snprintf(err, errlen, "--metrics %s: %s", as, strerror(errno));
		close(h->fd);
		h->fd = -1;
		return -1;
	}
	h->timer = loop_timer_new(l, on_timer, h);
	loop_timer_arm(l, h->timer, 1000);
	return 0;
}

void
http_close(struct http_server *h)
{
	if (h->fd < 0 || !h->loop)
		return;
	for (int i = 0; i < HTTP_CONNS; i++)
		if (h->conns[i].used && !h->conns[i].io.dead) {
			free(h->conns[i].out);
			h->conns[i].out = NULL;
			close(h->conns[i].io.fd);
			h->conns[i].used = false;
		}
	close(h->fd);
	h->fd = -1;
}
