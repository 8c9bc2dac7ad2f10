/*
 * http: the smallest HTTP/1.1 server that serves /metrics and /healthz
 * (SPEC 7) from the one loop without ever blocking it: a handful of
 * connections, one request each (Connection: close), a request of at most
 * HTTP_REQ_MAX bytes, and HTTP_DEADLINE_MS for the whole exchange, after
 * which a slow client is dropped. GET and HEAD only.
 */
#ifndef SEEDD_HTTP_H
#define SEEDD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/loop.h"

#define HTTP_CONNS 8
#define HTTP_REQ_MAX 4096
#define HTTP_DEADLINE_MS 5000

/*
 * The answer to GET path: a status (200, 404, 503...), a malloc'd body
 * (NULL for none) of *len bytes and its content type.
 */
typedef int http_handler_fn(void *arg, const char *path, char **body, size_t *len, const char **ctype);

struct http_server;

struct http_conn {
	struct loop_io io;
	struct http_server *srv;
	bool used;
	char in[HTTP_REQ_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	int64_t deadline;
};

struct http_stats {
	uint64_t accepted, refused_busy, requests, bad_requests, too_large, timeouts;
};

struct http_server {
	struct loop *loop;
	struct loop_io lio;
	int fd;
	int timer;
	http_handler_fn *fn;
	void *arg;
	struct http_conn conns[HTTP_CONNS];
	struct http_stats st;
};

/* Bind and listen on a: 0, or -1 with a one-line reason in err. */
int http_listen(struct http_server *h, struct loop *l, const struct addr *a, http_handler_fn *fn, void *arg,
                char *err, size_t errlen);
void http_close(struct http_server *h);

/*
 * Parse a request head (up to and including the blank line): the status
 * to answer (0 = fine) and the path, without its query, into path.
 */
int http_parse_request(const char *head, size_t len, bool *head_only, char *path, size_t pathlen);

#endif
