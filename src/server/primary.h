/*
 * primary: seedd as a hidden primary for standard secondaries (NSD, Knot,
 * BIND, a provider's). It answers AXFR and IXFR over TCP to the sources
 * of --xfr-allow that sign with the --tsig-key key, signs every answer to
 * a signed query (a secondary's SOA query included), and sends NOTIFY,
 * signed, to every --notify secondary at each new serial until it answers.
 *
 * What is transferred is a version (zone/xfr.h): SOA, NS, static rows
 * and a sample of the published nodes, renewed every --xfr-rotate seconds
 * (or at once when the static part changes) under a new serial, which SOA
 * answers then carry (zone_served_serial). The protocol cores are
 * dns/tsig.h, zone/xfr.h and server/notify.h; this file holds the policy
 * (who may transfer, what is refused how), the NOTIFY sockets and timer.
 *
 * The server hands each query to primary_query before dns_answer:
 *   PRIMARY_PASS    not ours: dns_answer as usual (an unsigned AXFR/IXFR is
 *                   refused there)
 *   PRIMARY_REPLY   *outlen bytes of reply are in out: send them
 *   PRIMARY_SIGN    a signed query: dns_answer the query as cut to *qlen
 *                   (its TSIG removed) with primary_reserve bytes left
 *                   free, then primary_sign the reply
 *   PRIMARY_STREAM  a transfer (TCP only): send primary_stream_next's
 *                   messages in order until it returns 0
 *   PRIMARY_DROP    no reply
 */
#ifndef SEEDD_PRIMARY_H
#define SEEDD_PRIMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/loop.h"
#include "base/rng.h"
#include "dns/tsig.h"
#include "server/notify.h"
#include "zone/xfr.h"
#include "zone/zone.h"

#define PRIMARY_ALLOW_MAX 16

struct primary_config {
	struct tsig_key key;
	struct addr_net allow[PRIMARY_ALLOW_MAX];
	int nallow;
	struct addr notify[NOTIFY_MAX];
	int nnotify;
	struct addr src4, src6; /* NOTIFY source addresses (port 0: any) */
	size_t answers;         /* node addresses of each family in a version */
	uint32_t rotate_s;
};

enum primary_act { PRIMARY_PASS, PRIMARY_REPLY, PRIMARY_SIGN, PRIMARY_STREAM, PRIMARY_DROP };

/* Transfers by what was sent, and how they ended. */
enum { PRIMARY_XFR_KINDS = XFR_IXFR_FULL + 1 };

struct primary_stats {
	uint64_t xfr_started[PRIMARY_XFR_KINDS]; /* by enum xfr_kind */
	uint64_t xfr_done, xfr_cut;              /* sent whole; cut (connection closed, error) */
	uint64_t xfr_messages, xfr_records;
	uint64_t refused_unsigned;  /* AXFR/IXFR without TSIG */
	uint64_t refused_source;    /* signed, from outside --xfr-allow */
	uint64_t refused_udp_axfr;  /* AXFR over UDP */
	uint64_t xfr_errors;        /* FORMERR, NOTAUTH, BADVERS answers to transfer requests */
	uint64_t tsig[TSIG_BADTRUNC + 1]; /* signed or malformed requests by enum tsig_result */
	uint64_t signed_replies;
	uint64_t versions;          /* rotations, start and static changes included */
	uint64_t notify_bad_sig;    /* NOTIFY replies whose signature did not verify */
	uint64_t notify_send_errors;
};

/* A query's exchange: its TSIG state and, for a transfer, the stream. */
struct primary_req {
	struct tsig_state ts;
	struct xfr_stream xs;
	bool streaming;
	uint8_t peer[16]; /* the transfer's source, for its log line */
	size_t peerlen;
};

typedef uint32_t primary_bump_fn(void *ctx, uint32_t floor);

struct primary {
	struct loop *loop;
	struct zone *z;
	struct rng *rng;
	struct primary_config cfg;
	primary_bump_fn *bump;  /* a new zone serial, at least floor (RFC 1982), kept by zone.csv */
	void *bump_ctx;
	struct xfr x;
	struct notify nt;
	struct tsig_state nts[NOTIFY_MAX]; /* the NOTIFY last sent to each target */
	struct loop_io nio[2];             /* NOTIFY sockets, IPv4 and IPv6 (fd -1: none) */
	int timer;
	int64_t next_rotate_ms;
	struct primary_stats st;
};

/* Open the NOTIFY sockets; -1 with a line in err. */
int primary_init(struct primary *p, const struct primary_config *c, struct loop *l, struct zone *z,
                 struct rng *r, primary_bump_fn *bump, void *bump_ctx, char *err, size_t errlen);
/* The first version (a new serial), its NOTIFY, the timer; -1 when memory runs out. */
int primary_start(struct primary *p);
void primary_close(struct primary *p);

/* Bytes dns_answer must leave free for primary_sign. */
size_t primary_reserve(const struct primary *p);
/*
 * A query from ip (iplen 4 or 16) over TCP or UDP: q may be cut in place
 * (its TSIG), *qlen then says how much is left. now: unix seconds.
 */
enum primary_act primary_query(struct primary *p, uint8_t *q, size_t *qlen, const uint8_t *ip, size_t iplen,
                               bool tcp, uint64_t now, uint8_t *out, size_t cap, size_t *outlen,
                               struct primary_req *rq);
/* PRIMARY_SIGN: append the TSIG to the reply msg[0..len) (cap bytes); its new length, 0 if it did not fit. */
size_t primary_sign(struct primary *p, struct primary_req *rq, uint8_t *msg, size_t len, size_t cap,
                    uint64_t now);
/*
 * PRIMARY_STREAM: the next message of the transfer, signed, into out (cap
 * at most 65535); 0 when the transfer is over (*failed: it could not go on).
 */
size_t primary_stream_next(struct primary *p, struct primary_req *rq, uint8_t *out, size_t cap, uint64_t now,
                           bool *failed);
/* A transfer cut short (the connection closed): its references dropped. */
void primary_stream_cut(struct primary *p, struct primary_req *rq);

#endif
