/*
 * dns_answer: one DNS query in, one reply out, for the zone (SPEC 4).
 * No I/O and no clock: the server hands in bytes and sends what comes back.
 *
 * The validation ladder, each rung counted in struct dns_stats:
 *   length >= 12 -> QR=0 -> opcode QUERY -> QDCOUNT 1 and a readable
 *   question -> EDNS -> class -> in zone -> answer.
 * Returns the reply length, or 0 when the query gets no reply at all
 * (short header, QR=1).
 */
#ifndef SEEDD_DNS_ANSWER_H
#define SEEDD_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "zone/zone.h"

#define DNS_EDNS_SIZE 1232 /* our advertised and largest UDP reply */
#define DNS_UDP_MIN 512

enum dns_drop {
	DNS_DROP_SHORT,    /* under 12 bytes: no header to answer */
	DNS_DROP_QR,       /* a response: never answered (no reflection) */
	DNS_DROP_COUNT,
};

enum dns_qt { DNS_QT_A, DNS_QT_AAAA, DNS_QT_ANY, DNS_QT_SOA, DNS_QT_NS, DNS_QT_CNAME, DNS_QT_OTHER, DNS_QT_COUNT };

struct dns_stats {
	uint64_t drop[DNS_DROP_COUNT];
	uint64_t notimp, formerr, badvers, refused_class, refused_zone, refused_xfr;
	uint64_t rcode[6];          /* NOERROR..REFUSED as sent in the header */
	uint64_t qtype[DNS_QT_COUNT];
	uint64_t truncated;         /* static answers that set TC */
	uint64_t shortened;         /* node answers given fewer addresses to fit */
	uint64_t edns;
};

size_t dns_answer(struct zone *z, struct rng *r, const uint8_t *q, size_t qlen,
                  uint8_t *out, size_t outcap, bool tcp, struct dns_stats *st);

#endif
