/*
 * notify: the NOTIFY sender of the hidden primary (RFC 1996), without I/O.
 * The caller owns the UDP socket, the clock (monotonic ms, an argument),
 * TSIG and the logs; this core decides what to send, to whom and when,
 * and which replies acknowledge what.
 *
 * Each --notify target is its own small state machine:
 *   IDLE -> PENDING (notify_serial) -> ACKED | REJECTED | FAILED,
 *   and PENDING -> PENDING again when a newer serial replaces it.
 *
 * Choices this contract makes:
 * - One random ID per (target, serial), kept across retries: a late reply
 *   to an earlier try still acknowledges (a new ID per try would throw it
 *   away and send more). A new serial takes a new ID, so a reply for the
 *   old serial is ignored from then on.
 * - Retries: the first after NOTIFY_RETRY_FIRST_MS, doubling, at most
 *   NOTIFY_RETRY_MAX_MS apart, timed from the actual send. NOTIFY_TRIES
 *   sends in all; one more NOTIFY_RETRY_MAX_MS later without a reply the
 *   target has FAILED: sends at 0, 1, 3, 7, 15, 31, 63, 123, ... 543 s,
 *   given up at 603 s (about ten minutes).
 * - Any reply that matches stops the retries, whatever its rcode: RFC 1996
 *   3.6 sends until "a NOTIFY response is received from the slave with a
 *   matching query ID, QNAME, IP source address, and UDP source port",
 *   and a secondary that says REFUSED, NOTAUTH or NOTIMP says the same to
 *   every retry. NOERROR counts as acked, anything else as rejected, and
 *   the event carries the rcode for the log.
 * - An ICMP port unreachable (which 3.6 also lets end the sends) is not
 *   an input here: a secondary that is restarting would miss the serial.
 * - A reply matches only when all of these hold, checked in this order
 *   (each failed rung has its own counter): at least a header; QR=1;
 *   opcode NOTIFY; from exactly a target's address and port; that target
 *   pending; our ID; QDCOUNT 1 with the question (apex, SOA, IN), the name
 *   compared without regard to case; and a signature not reported bad.
 *   TC and every section past the question are ignored.
 * - One exception to the question: an error reply with QDCOUNT 0 (rcode
 *   not NOERROR) matches by address, port and ID alone, as rejected. NSD
 *   4.6 answers a NOTIFY it refuses with a bare header (REFUSED, QDCOUNT
 *   0); without this the primary would retry it for ten minutes and log a
 *   failure instead of the refusal. An off-path forger needs the ID either
 *   way (the question is public), so this matches nothing easier to forge.
 * - TSIG belongs to the caller: it appends the TSIG RR after the message
 *   notify_next wrote (the `reserve` bytes are kept free for it, ARCOUNT
 *   is 0 so the signer sets it to 1), remembers the request MAC by target
 *   index, and verifies a reply (notify_find gives the target) before
 *   calling notify_reply with NOTIFY_SIG_GOOD or NOTIFY_SIG_BAD; a BAD
 *   one never acknowledges.
 * - The answer section carries the current SOA (RFC 1996 3.7: a hint of
 *   the serial). When it does not fit in cap - reserve it is left out
 *   (ANCOUNT 0), as 3.7 allows; only a message whose header and question
 *   do not fit is not sent (counted unsendable, and the try is spent, so
 *   a buffer too small can never spin the loop).
 *
 * Outcomes (acked, rejected, failed, superseded without a reply) go to an
 * event queue the caller drains with notify_event after notify_next and
 * notify_reply, to log each once per serial per target.
 *
 * Error convention: notify_add returns -1 on bad input; the rest cannot
 * fail. Nothing here allocates.
 */
#ifndef SEEDD_NOTIFY_H
#define SEEDD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/rng.h"
#include "dns/dname.h"
#include "zone/zone.h"

#define NOTIFY_MAX 16               /* --notify targets */
#define NOTIFY_OPCODE 4             /* RFC 1996 3.1 */
#define NOTIFY_RETRY_FIRST_MS 1000
#define NOTIFY_RETRY_MAX_MS 60000
#define NOTIFY_TRIES 15
#define NOTIFY_EVENTS (4 * NOTIFY_MAX)
/* The longest message: header, question, SOA with its owner compressed and two uncompressed names. */
#define NOTIFY_MSG_MAX (12 + DNAME_MAX + 4 + 2 + 10 + 2 * DNAME_MAX + 20)

enum notify_state {
	NOTIFY_IDLE,     /* no serial yet */
	NOTIFY_PENDING,  /* due to be sent, or sent and waiting for a reply */
	NOTIFY_ACKED,    /* replied NOERROR */
	NOTIFY_REJECTED, /* replied with another rcode */
	NOTIFY_FAILED,   /* no reply after NOTIFY_TRIES sends */
};

/* How the caller's TSIG check of a reply went. */
enum notify_sig {
	NOTIFY_SIG_NONE, /* no key for this target: nothing to check */
	NOTIFY_SIG_GOOD, /* signed and verified */
	NOTIFY_SIG_BAD,  /* a key is configured and the reply is unsigned or does not verify */
};

/* What notify_reply made of a datagram: a match, or the rung it fell at. */
enum notify_verdict {
	NOTIFY_V_ACKED,
	NOTIFY_V_REJECTED,
	NOTIFY_V_SHORT,    /* under 12 bytes */
	NOTIFY_V_QR,       /* QR=0: not a response */
	NOTIFY_V_OPCODE,   /* not NOTIFY */
	NOTIFY_V_FROM,     /* not from a target's address and port */
	NOTIFY_V_STALE,    /* the target has nothing pending: late, duplicate */
	NOTIFY_V_ID,       /* not the pending ID */
	NOTIFY_V_QUESTION, /* not (apex, SOA, IN) alone, and not an error with QDCOUNT 0 */
	NOTIFY_V_SIG,      /* the caller's TSIG check failed */
	NOTIFY_V_COUNT
};

enum notify_ev_kind {
	NOTIFY_EV_ACKED,      /* rcode NOERROR */
	NOTIFY_EV_REJECTED,   /* rcode other than NOERROR: see rcode */
	NOTIFY_EV_FAILED,     /* gave up: NOTIFY_TRIES sends and no reply */
	NOTIFY_EV_SUPERSEDED, /* a newer serial came before any reply (sent at least once) */
};

struct notify_event {
	enum notify_ev_kind kind;
	int target;         /* index, as notify_add returned it */
	struct addr to;
	uint32_t serial;    /* the serial this outcome is about */
	unsigned tries;     /* NOTIFYs sent for it */
	uint8_t rcode;      /* of the reply; 0 for FAILED and SUPERSEDED */
	int64_t elapsed_ms; /* from notify_serial to the outcome */
};

/* What notify_next sent, for the caller's sendto and TSIG. */
struct notify_out {
	struct addr to;
	int target;         /* index, to keep the request MAC by */
	uint16_t id;
	uint32_t serial;
	unsigned attempt;   /* 1 for the first send of this serial */
};

struct notify_stats {
	uint64_t sent;       /* every NOTIFY built, retries included */
	uint64_t retried;    /* those that were retries */
	uint64_t acked;      /* matching replies, NOERROR */
	uint64_t rejected;   /* matching replies, another rcode */
	uint64_t failed;     /* gave up */
	uint64_t superseded; /* replaced by a newer serial before a reply */
	uint64_t unsendable; /* header and question did not fit the caller's buffer */
	uint64_t ignored;    /* replies that acknowledged nothing (sum of by[]) */
	uint64_t ignored_by[NOTIFY_V_COUNT]; /* by rung; the first two stay 0 */
	uint64_t events_lost; /* queue full: the caller did not drain it */
};

struct notify_target {
	struct addr addr;
	enum notify_state state;
	uint16_t id;
	uint32_t serial;
	unsigned tries;
	int64_t since_ms;  /* when notify_serial made it pending */
	int64_t due_ms;    /* PENDING: next send, or the give-up time after the last */
};

struct notify {
	uint8_t apex[DNAME_MAX];
	struct rng *rng;
	bool have_serial;
	uint32_t serial;
	struct notify_target t[NOTIFY_MAX];
	int nt;
	struct notify_event ev[NOTIFY_EVENTS]; /* ring */
	unsigned ev_head, ev_len;
	struct notify_stats st;
};

/* apex: lowercase wire name. rng: the process generator, kept for IDs. */
void notify_init(struct notify *n, const uint8_t *apex, struct rng *rng);
/*
 * A target (port as given: 53 is the caller's default). Returns its index,
 * or -1 when NOTIFY_MAX are there, the address is a duplicate, or not
 * usable (family, port 0, unspecified). Added after a serial, it is
 * pending for that serial at once (due at now_ms).
 */
int notify_add(struct notify *n, const struct addr *a, int64_t now_ms);
/*
 * The zone's serial is now serial: every target gets a fresh NOTIFY for it
 * (a new ID, tries 0, due now_ms), replacing one still pending for an
 * older serial. The same serial as the last call changes nothing (so a
 * reload that keeps the serial does not restart the retries). The caller
 * also calls it at start-up with the serial it serves.
 */
void notify_serial(struct notify *n, uint32_t serial, int64_t now_ms);
/* The earliest time notify_next has work (a send or a give-up), or INT64_MAX. */
int64_t notify_due(const struct notify *n);
/*
 * The next NOTIFY due at now_ms: writes it to out (at most cap - reserve
 * bytes, leaving reserve for the caller's TSIG RR), fills *o and returns
 * its length; 0 when nothing is due. Give-ups that are due happen here
 * (events). Call it until it returns 0; then notify_due(n) > now_ms.
 * soa: the zone's current SOA (mname, rname and timers; the serial written
 * is the one being notified, which is the latest notify_serial).
 */
size_t notify_next(struct notify *n, int64_t now_ms, const struct zone_soa *soa,
                   uint8_t *out, size_t cap, size_t reserve, struct notify_out *o);
/* The index of the target at exactly this address and port, or -1. */
int notify_find(const struct notify *n, const struct addr *a);
/* A datagram arrived on the NOTIFY socket from `from`: see the ladder above. */
enum notify_verdict notify_reply(struct notify *n, const struct addr *from, const uint8_t *msg,
                                 size_t len, int64_t now_ms, enum notify_sig sig);
/* Take the oldest outcome not yet taken: true and *ev filled, or false. */
bool notify_event(struct notify *n, struct notify_event *ev);

const char *notify_state_name(enum notify_state s);
const char *notify_verdict_name(enum notify_verdict v);
const char *notify_ev_name(enum notify_ev_kind k);

#endif
