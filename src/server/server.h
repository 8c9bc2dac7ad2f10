/*
 * dns_server: the sockets of the DNS service, UDP and TCP (RFC 7766),
 * feeding dns_answer. UDP reads and writes in batches (recvmmsg/sendmmsg);
 * on a wildcard bind each reply leaves from the address its query arrived
 * on (IP_PKTINFO / IPV6_RECVPKTINFO). TCP keeps a fixed pool of
 * connections: several queries per connection, replies pipelined, a
 * connection idle for DNS_TCP_IDLE_MS closed, and at the cap the least
 * recently active connection makes room, so no client can hold the server.
 * UDP replies pass response rate limiting (rrl.h) unless the query
 * carried a valid server cookie; TCP replies never do. The sweep timer
 * rotates the cookie secret and writes the minute's rate-limiting line.
 * dns_server_listen returns -1 with errno set and a message in err.
 */
#ifndef SEEDD_DNS_SERVER_H
#define SEEDD_DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "server/answer.h"
#include "server/cookie.h"
#include "server/primary.h"
#include "server/rrl.h"
#include "base/loop.h"

#define DNS_LISTEN_MAX 16
#define DNS_TCP_CLIENTS 256
#define DNS_TCP_IDLE_MS 10000
#define DNS_TCP_QUERY_MAX 4096  /* larger length prefixes close the connection */
#define DNS_TCP_REPLY_MAX 65535 /* RFC 7766: a reply over TCP may use the whole 16-bit length */

struct dns_udp {
	struct loop_io io;
	struct dns_server *srv;
	int family;
	int wildcard;
};

struct dns_tcp_listener {
	struct loop_io io;
	struct dns_server *srv;
};

struct dns_tcp_conn;

struct dns_tcp_stats {
	uint64_t accepted, evicted, idle_closed, bad_length, closed;
};

struct dns_server {
	struct loop *loop;
	struct zone *zone;
	struct rng *rng;
	struct dns_stats stats;
	struct dns_tcp_stats tcp;
	uint64_t udp_send_errors;
	struct dns_udp udp[DNS_LISTEN_MAX];
	struct dns_tcp_listener tcpl[DNS_LISTEN_MAX];
	int nlisten;
	struct dns_tcp_conn *conns; /* pool of DNS_TCP_CLIENTS */
	int active;
	int timer;
	struct rrl rrl;
	struct cookie_secrets cookies;
	int64_t cookie_rotated_ms;
	int64_t rrl_logged_ms;      /* 0: no line yet */
	struct rrl_stats rrl_logged; /* counts at the last line */
	struct primary *primary;    /* zone transfers, TSIG: NULL when off */
};

int dns_server_init(struct dns_server *s, struct loop *l, struct zone *z, struct rng *r,
                    const struct rrl_config *rrl);
/* Bind UDP and TCP on a; returns 0, or -1 with a one-line reason in err. */
int dns_server_listen(struct dns_server *s, const struct addr *a, char *err, size_t errlen);
/* Start serving (register the sockets and the idle sweep). */
int dns_server_start(struct dns_server *s);
void dns_server_close(struct dns_server *s);

#endif
