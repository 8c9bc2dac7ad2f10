/*
 * resolver: a stub resolver for the host names in seeds and peer URLs
 * (SPEC 5). Queries go over UDP to one recursive resolver (--resolver, or
 * the first nameserver of /etc/resolv.conf), with a random ID and a fresh
 * socket (a random source port) per lookup, A and AAAA asked together.
 * An answer counts only when it comes from the resolver's address and
 * port, carries our ID and echoes our question; addresses are taken by
 * following the CNAME chain from the question inside that one answer.
 * Each try waits RESOLVER_TRY_MS; RESOLVER_TRIES tries in all.
 *
 * Choices this contract makes:
 * - A retry resends only the queries still unanswered, with the same IDs
 *   on the same socket, so a late answer to an earlier try still counts
 *   (new IDs would throw it away and slow every lookup on a lossy path).
 * - A socket error (ECONNREFUSED from an ICMP port unreachable, a failed
 *   send) marks the try failed but the next try still waits for the
 *   deadline: retries stay paced even against a resolver that restarts.
 *   A lookup that saw such an error and got no answer ends FAILED, not
 *   TIMEOUT.
 * - A reply with TC set is FAILED for its type: we do not retry over TCP.
 * - A CNAME chain longer than RESOLVER_CHAIN_MAX (or a loop) is FAILED.
 * - A/AAAA answers are merged interleaved, A first, so both families
 *   survive the RESOLVER_MAX_ADDRS cap.
 * - When no addresses came: NXDOMAIN if either type said so, else NODATA
 *   if either did, else FAILED if either failed, else TIMEOUT.
 *
 * The codec half (resolver_query_build, resolver_reply_parse) is pure;
 * the rest runs in the loop. Functions return -1 with errno set on
 * failure; lookup results arrive through the callback, never from inside
 * resolver_lookup.
 */
#ifndef SEEDD_RESOLVER_H
#define SEEDD_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/loop.h"
#include "base/rng.h"

#define RESOLVER_MAX_PENDING 256
#define RESOLVER_MAX_ADDRS 16
#define RESOLVER_TRY_MS 2000
#define RESOLVER_TRIES 3
#define RESOLVER_CHAIN_MAX 8 /* CNAME hops followed inside one answer */

enum resolver_status {
	RESOLVER_OK,       /* at least one address */
	RESOLVER_NODATA,   /* the name exists but has no A/AAAA */
	RESOLVER_NXDOMAIN,
	RESOLVER_TIMEOUT,  /* every try timed out */
	RESOLVER_FAILED,   /* SERVFAIL, REFUSED, TC, a CNAME loop, a socket error */
};

/* addrs have port 0; they are valid only during the call. */
typedef void resolver_fn(void *arg, enum resolver_status st, const struct addr *addrs, size_t n);

struct resolver_lookup;

struct resolver {
	struct loop *loop;
	struct rng *rng;
	struct addr server;
	int timer;
	int try_ms; /* wait per try: RESOLVER_TRY_MS after init; tests shorten it */
	struct resolver_lookup *pending[RESOLVER_MAX_PENDING];
	size_t npending;
	/* Counters: query datagrams sent; replies accepted; tries that ran out
	 * with a query unanswered; socket errors (socket, connect, send,
	 * receive); datagrams dropped (wrong source, not a reply to a question
	 * of ours, a duplicate). */
	uint64_t queries, answers, timeouts, failures, ignored;
};

/*
 * server: explicit (port 0 means 53), or NULL to read /etc/resolv.conf
 * (127.0.0.1:53 when it is missing or names none, as glibc does). Takes
 * one loop timer slot for all lookups. Reads a file: call it at start-up.
 */
int resolver_init(struct resolver *r, struct loop *l, struct rng *rng, const struct addr *server);
/*
 * Drop every pending lookup without calling back, closing and freeing at
 * once. Call it outside loop_run (at shutdown, like dns_server_close).
 */
void resolver_close(struct resolver *r);
/*
 * First usable nameserver of a resolv.conf text (port 53); 0, or -1 when
 * it names none. Like glibc: "nameserver" starts the line, the address
 * ends at a blank, '#' or ';'; lines that start with '#' or ';' are
 * comments; unparsable addresses and IPv6 ones with a %scope are skipped.
 */
int resolver_conf_parse(const char *text, size_t len, struct addr *out);

/*
 * Look up host (a name without a trailing dot or with one). fn is called
 * exactly once later, unless resolver_cancel is called first. Returns a
 * handle, or NULL with errno set (EAGAIN when RESOLVER_MAX_PENDING are in
 * flight, EINVAL for a bad name or an IP literal, which callers handle
 * themselves, ENOMEM). A socket that cannot be opened or connected is
 * reported as FAILED through fn from the timer, not here. The handle is
 * invalid once fn has been called or the lookup cancelled; fn may start
 * or cancel other lookups.
 */
struct resolver_lookup *resolver_lookup(struct resolver *r, const char *host, resolver_fn *fn, void *arg);
void resolver_cancel(struct resolver *r, struct resolver_lookup *q);
const char *resolver_status_name(enum resolver_status st);

/* --- codec ---------------------------------------------------------------- */

/* A query for name (wire form) and qtype, RD set, class IN, no EDNS; length or 0. */
size_t resolver_query_build(uint8_t *out, size_t cap, uint16_t id, const uint8_t *name, uint16_t qtype);
/*
 * Parse a reply to (id, name, qtype). Returns RESOLVER_OK with *n addresses
 * of the family of qtype (at most max), RESOLVER_NODATA, RESOLVER_NXDOMAIN
 * or RESOLVER_FAILED (rcode other than NOERROR/NXDOMAIN), and -1 for a
 * packet that is not a reply to this question (wrong ID, QR clear, other
 * question, malformed) and must be ignored. The question name is compared
 * without regard to case. TC set gives RESOLVER_FAILED. Addresses are the
 * records of qtype, class IN, with the right RDLENGTH (others are
 * skipped), owned by the first name of the CNAME chain from name that has
 * any; RESOLVER_OK then even when max is 0.
 */
int resolver_reply_parse(const uint8_t *pkt, size_t len, uint16_t id, const uint8_t *name,
                         uint16_t qtype, struct addr *out, size_t max, size_t *n);

#endif
