/*
 * dns_answer: one DNS query in, one reply out, for the zone (SPEC 4).
 * No I/O and no clock: the server hands in bytes and sends what comes back.
 *
 * The validation ladder, each rung counted in struct dns_stats:
 *   length >= 12 -> QR=0 -> opcode QUERY -> QDCOUNT 1 and a readable
 *   question -> EDNS -> class -> in zone -> answer.
 * Returns the reply length, or 0 when the query gets no reply at all
 * (short header, QR=1).
 *
 * struct dns_client carries what the answer needs to know of the client
 * (its address and the clock, for cookies) and what the server needs to
 * know of the reply (its RRL class, where a slip cuts it).
 */
#ifndef SEEDD_DNS_ANSWER_H
#define SEEDD_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "server/cookie.h"
#include "server/rrl.h"
#include "zone/zone.h"

#define DNS_EDNS_SIZE 1232 /* our advertised and largest UDP reply */
#define DNS_UDP_MIN 512

enum dns_drop {
	DNS_DROP_SHORT,    /* under 12 bytes: no header to answer */
	DNS_DROP_QR,       /* a response: never answered (no reflection) */
	DNS_DROP_COUNT,
};

/* Indexes of dns_stats.rcode: 0..5 are the rcodes themselves. */
enum { DNS_RC_BADVERS = 6, DNS_RC_BADCOOKIE = 7, DNS_RC_COUNT = 8 };

enum dns_qt { DNS_QT_A, DNS_QT_AAAA, DNS_QT_ANY, DNS_QT_SOA, DNS_QT_NS, DNS_QT_CNAME, DNS_QT_OTHER, DNS_QT_COUNT };

struct dns_stats {
	uint64_t drop[DNS_DROP_COUNT];
	uint64_t notimp, formerr, badvers, refused_class, refused_zone, refused_xfr;
	uint64_t rcode[DNS_RC_COUNT]; /* NOERROR..REFUSED, then the extended ones */
	uint64_t qtype[DNS_QT_COUNT];
	uint64_t truncated;         /* static answers that set TC */
	uint64_t shortened;         /* node answers given fewer addresses to fit */
	uint64_t edns;
	uint64_t cookie[COOKIE_VERDICTS]; /* queries by what their COOKIE option was */
	uint64_t badcookie;              /* BADCOOKIE replies sent */
};

struct dns_client {
	/* in */
	const uint8_t *ip;  /* source address, 4 or 16 bytes; NULL: cookies not answered */
	size_t iplen;
	uint32_t now;       /* unix seconds: cookie timestamps */
	const struct cookie_secrets *cookies; /* NULL: cookies off (the option is ignored) */
	/* out */
	enum cookie_verdict cookie;
	enum rrl_class cls;
	const uint8_t *cls_name; /* into qname or the zone's apex; NULL for errors */
	uint16_t cls_type;
	size_t question_end;     /* reply bytes up to the end of the question */
	size_t opt_off, opt_len; /* the reply's OPT record (opt_len 0: none) */
	uint8_t qname[DNAME_MAX]; /* lowercase qname */
};

/* c may be NULL: no cookies, nothing told back. */
size_t dns_answer(struct zone *z, struct rng *r, const uint8_t *q, size_t qlen,
                  uint8_t *out, size_t outcap, bool tcp, struct dns_client *c,
                  struct dns_stats *st);

/*
 * Cut a reply dns_answer made for c down to a slip (RRL): the header with
 * TC set, the question and the OPT record (its cookie included), no
 * records. Returns the new length (never more than len). A NOTIMP reply
 * to another opcode is a bare header already and stays as it is.
 */
size_t dns_slip(uint8_t *reply, size_t len, const struct dns_client *c);

#endif
