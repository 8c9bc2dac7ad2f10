/*
 * xfr: what a zone transfer of seedd's zone holds, and the DNS messages
 * that carry it (AXFR, RFC 5936; IXFR, RFC 1995). seedd is a hidden
 * primary: secondaries pull the zone over TCP and serve it. No I/O and no
 * clock: the server hands in a request and a buffer, frames, signs (TSIG)
 * and sends what comes back.
 *
 * A version is what secondaries serve between two rotations: the SOA (the
 * zone's fields, the version's serial), the apex NS (--ns, or the SOA
 * MNAME), the static rows, a sample of node addresses (the apex's A and
 * AAAA records: up to `answers` of each family, picked as an apex answer
 * is, distinct /16 and /32 prefixes first) and, with --wildcard, the same
 * sample at *.<apex> unless a static row owns that name. Static rows and
 * NS use ZONE_STATIC_TTL, the sample the zone's node_ttl.
 *
 * xfr keeps the current version and the ones before it (XFR_HISTORY in
 * all), each whole (the static part shared while it does not change), so
 * an IXFR from any of them is one condensed difference, computed while it
 * is sent. Versions are reference counted and never change: a stream holds
 * the versions it sends, so a new version, or xfr_free, in the middle of a
 * transfer changes nothing in the rest of it.
 *
 * Errors: xfr_new_version returns 0, XFR_E_NOMEM or XFR_E_SERIAL;
 * xfr_parse_request returns a verdict; xfr_stream_start returns -1 when
 * there is no version yet; xfr_stream_next returns 0 at the end, and also
 * on an error, which then sticks (xfr_stream_failed).
 */
#ifndef SEEDD_XFR_H
#define SEEDD_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "dns/dname.h"
#include "zone/zone.h"

#define XFR_HISTORY 8        /* versions kept, the current one included */
#define XFR_SAMPLE_MAX 1024  /* node addresses of one family in a version, at most */
/*
 * A message buffer of at least this many bytes always holds the header,
 * the question (259), the largest record we write (a SOA of three
 * 255-byte names: 795) and an OPT record (11).
 */
#define XFR_MSG_MIN 1077

enum { XFR_E_NOMEM = -1, XFR_E_SERIAL = -2 };

struct xfr_version; /* opaque: xfr.c */

struct xfr {
	struct xfr_version *v[XFR_HISTORY]; /* v[0] the current version, then older ones; NULL after the last */
};

void xfr_init(struct xfr *x);
/* Drops xfr's references: streams still under way keep theirs. */
void xfr_free(struct xfr *x);

/* RFC 1982: a is greater than b (false when they are equal or 2^31 apart). */
bool xfr_serial_gt(uint32_t a, uint32_t b);

/*
 * A new current version from the zone as it is now, with a new sample
 * (answers of each family, at most XFR_SAMPLE_MAX). serial must be greater
 * than the current version's (RFC 1982): XFR_E_SERIAL otherwise, and
 * nothing changes. z is not const because a pick reorders the node sets'
 * buckets, as an answer does; nothing else of z changes.
 */
int xfr_new_version(struct xfr *x, struct zone *z, struct rng *r, size_t answers, uint32_t serial);
/*
 * Does a version made now differ from the current one in more than its
 * sample: the SOA fields but the serial, the NS, the static rows, node_ttl,
 * wildcard, the apex? True when there is no version. O(static rows), no
 * allocation: cheap enough to ask after every reload of zone.csv.
 */
bool xfr_static_changed(const struct xfr *x, const struct zone *z);
/* How many of the current sample's addresses the zone no longer publishes. */
size_t xfr_sample_gone(const struct xfr *x, const struct zone *z);

struct xfr_info {
	uint32_t serial;
	size_t records;      /* every record of a full transfer, both SOAs included */
	size_t sample4, sample6;
	size_t versions;     /* in the history, the current one included */
};
/* The current version; false when there is none yet. */
bool xfr_current(const struct xfr *x, struct xfr_info *info);

/*
 * A transfer request (the TSIG record, if any, already removed). The
 * ladder: length >= 12 and QR clear (else DROP) -> opcode QUERY (else
 * NOT_XFR) -> QDCOUNT 0 (NOT_XFR: dns_answer's cookie-only query) or 1
 * (else FORMERR) and a readable question -> QTYPE AXFR or IXFR (else
 * NOT_XFR: a plain query, dns_answer's) -> empty answer section, every
 * record readable, an IXFR's authority section exactly one SOA with its
 * RDATA exactly RDLEN long, at most one OPT owned by the root (else
 * FORMERR) -> EDNS version 0 (else BADVERS) -> QCLASS IN and QNAME the
 * apex (else NOTAUTH, as BIND and Knot answer for a zone they do not
 * serve) -> the IXFR SOA owned by the apex (else FORMERR) -> OK.
 */
enum xfr_verdict {
	XFR_REQ_OK,
	XFR_REQ_NOT_XFR,
	XFR_REQ_DROP,
	XFR_REQ_FORMERR,
	XFR_REQ_BADVERS,
	XFR_REQ_NOTAUTH,
	XFR_REQ_VERDICTS,
};

struct xfr_request {
	uint16_t id, flags;
	uint16_t qtype;      /* DNS_T_AXFR or DNS_T_IXFR */
	uint32_t serial;     /* IXFR: the client's, from its SOA */
	bool edns;           /* the request had an OPT: every message gets one */
	size_t qlen;         /* the question as sent, 0 when none was read */
	uint8_t question[DNAME_MAX + 4];
};

enum xfr_verdict xfr_parse_request(const uint8_t *q, size_t len, const uint8_t *apex,
                                   struct xfr_request *rq);
const char *xfr_verdict_name(enum xfr_verdict v);
/*
 * The reply to a FORMERR, BADVERS or NOTAUTH verdict: the header (ID,
 * opcode, RD copied), the question when it was read, an OPT when the
 * request had one (BADVERS's upper bits travel there). Its length, or 0
 * for other verdicts or when cap is too small.
 */
size_t xfr_error_reply(const struct xfr_request *rq, enum xfr_verdict v, uint8_t *out, size_t cap);

enum xfr_kind {
	XFR_AXFR,           /* SOA, every record, SOA */
	XFR_IXFR_UPTODATE,  /* the current SOA alone: the client has it, or a newer serial (RFC 1995 2) */
	XFR_IXFR_DIFF,      /* SOA new, SOA old, deleted, SOA new, added, SOA new (condensed, RFC 1995 4) */
	XFR_IXFR_FULL,      /* the client's version is gone: AXFR's records (RFC 1995 4) */
};

/*
 * One transfer under way. The caller owns the memory (a TCP connection's
 * slot) and reads kind, messages and records; the rest is the cursor.
 * RFC 5936 2.2.1: the question is copied in the first message only; every
 * message has the request's ID, QR, AA, RD and CD copied, NOERROR, the
 * records in the answer section, and an OPT when the request had one.
 */
struct xfr_stream {
	enum xfr_kind kind;
	size_t messages, records;  /* sent so far */

	struct xfr_version *cur, *old; /* held references; old: the client's version (IXFR_DIFF) */
	uint16_t id, flags;
	bool edns, done, failed;
	size_t qlen;
	uint8_t question[DNAME_MAX + 4];
	uint8_t plan[6];  /* the sections to send, in order (xfr_msg.c) */
	int nplan, step;
	struct xfr_cursor {
		int group;
		size_t i, j;
	} at;             /* inside a section of records (xfr_int.h) */
};

/* Start answering rq (XFR_REQ_OK) from x's current version; -1: no version yet. */
int xfr_stream_start(struct xfr_stream *s, const struct xfr *x, const struct xfr_request *rq);
/*
 * The next message into out (cap at most 65535 counts; less leaves the
 * caller room for a TSIG record): as many whole records as fit, never one
 * split, names compressed within the message. Returns its length, or 0
 * when the transfer is over (its references are dropped then) or failed:
 * a record larger than cap allows (cap < XFR_MSG_MIN).
 */
size_t xfr_stream_next(struct xfr_stream *s, uint8_t *out, size_t cap);
bool xfr_stream_failed(const struct xfr_stream *s);
/* Drop the stream's references; safe after the end and twice. */
void xfr_stream_end(struct xfr_stream *s);

#endif
