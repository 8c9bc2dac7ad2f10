/*
 * xfr_int: what xfr.c (versions, differences) and xfr_msg.c (requests,
 * messages) share; not for others.
 */
#ifndef SEEDD_XFR_INT_H
#define SEEDD_XFR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/xfr.h"

/*
 * The static part of a version: everything but the sample. Shared by the
 * versions made while the zone's static part stays the same, so a
 * rotation neither copies nor re-sorts the static rows.
 *
 * Records (NS and static rows) are kept as byte strings
 *   owner (lowercase wire) | type (2) | rdlen (2) | rdata (names uncompressed)
 * in one arena, distinct and sorted bytewise: two sets are compared by a
 * merge of the sorted lists. Their TTL is ZONE_STATIC_TTL.
 */
struct xfr_set {
	unsigned refs;
	uint8_t apex[DNAME_MAX];
	uint8_t wname[DNAME_MAX]; /* "*." + apex */
	struct zone_soa soa;      /* serial unused: each version has its own */
	uint8_t ns[ZONE_NS_MAX][DNAME_MAX]; /* the zone's, as given: for xfr_static_changed */
	int nns;
	uint32_t node_ttl;
	bool wildcard;            /* the zone's flag */
	bool wild;                /* the sample is served at wname too */
	uint8_t *arena;
	uint32_t *rec;            /* offsets of the distinct records, sorted */
	size_t nrec;
	uint32_t *rowmap;         /* zone row i -> its index in rec, or XFR_ROW_SKIP */
	size_t nrows;
};

#define XFR_ROW_SKIP UINT32_MAX

struct xfr_version {
	unsigned refs;
	uint32_t serial;
	struct xfr_set *set;
	uint8_t *ip4, *ip6;       /* the sample, sorted (one allocation: ip6 follows ip4) */
	size_t n4, n6;
};

void xfr_version_ref(struct xfr_version *v);
void xfr_version_unref(struct xfr_version *v);

/* One record to write; rdata is a wire name for NS and CNAME. */
struct xfr_rr {
	const uint8_t *owner;
	uint16_t type, rdlen;
	uint32_t ttl;
	const uint8_t *rdata;
};

/*
 * struct xfr_cursor (in xfr.h, inside the stream) is where a walk over a
 * version's records stands: a group, and merge positions in a and b.
 *
 * The records of a that b lacks (b NULL: all of a), in a fixed order:
 * NS and static rows, the apex's A then AAAA sample, the wildcard's.
 * xfr_minus_peek moves c onto the next one and describes it without
 * taking it (false: none left); xfr_minus_take takes it. A record that
 * does not fit in a message is thus offered again in the next.
 */
bool xfr_minus_peek(const struct xfr_version *a, const struct xfr_version *b,
                    struct xfr_cursor *c, struct xfr_rr *rr);
void xfr_minus_take(struct xfr_cursor *c);

#endif
