/*
 * zone: the served zone in memory. The SOA, the apex NS names, static
 * records (operator-owned rows of zone.csv: A, AAAA, CNAME by name) and
 * the published node addresses of the apex (crawler-owned). Lookups are
 * by lowercase wire name. Nothing here does I/O.
 * Functions that can fail return -1 (out of memory or a cap reached).
 */
#ifndef SEEDD_ZONE_H
#define SEEDD_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "dns/dname.h"
#include "zone/nodeset.h"

#define ZONE_NS_MAX 8
#define ZONE_STATIC_TTL 3600

struct zone_soa {
	uint8_t mname[DNAME_MAX];
	uint8_t rname[DNAME_MAX];
	uint32_t serial, refresh, retry, expire, minimum;
};

/* One static row: a name and one A, AAAA or CNAME record. */
struct zone_rr {
	uint8_t name[DNAME_MAX];
	uint16_t type;
	uint16_t rdlen;
	uint8_t rdata[DNAME_MAX]; /* 4 or 16 address bytes, or a wire name */
	uint32_t line;            /* in zone.csv, for messages */
};

/* A name of the static tree: its records, or none for an empty non-terminal. */
struct zone_name {
	const uint8_t *name;
	uint32_t first, count; /* into zone.rr_index */
};

struct zone {
	uint8_t apex[DNAME_MAX];
	struct zone_soa soa;
	uint8_t ns[ZONE_NS_MAX][DNAME_MAX];
	int nns;
	uint32_t node_ttl;
	size_t answers; /* most node addresses in one answer */
	bool wildcard;

	struct zone_rr *rr; /* static rows in file order */
	size_t nrr;
	struct zone_name *names; /* sorted by name */
	size_t nnames;
	uint32_t *rr_index;

	struct nodeset v4, v6;
	/*
	 * With zone transfers on, SOA answers carry the serial of the zone as
	 * transferred (a sample of the nodes, renewed every --xfr-rotate), not
	 * soa.serial, which moves with every published node: a secondary must
	 * find, in a transfer, the serial it was told.
	 */
	bool xfr_serial_on;
	uint32_t xfr_serial;
};

/* The serial SOA answers carry. */
static inline uint32_t
zone_served_serial(const struct zone *z)
{
	return z->xfr_serial_on ? z->xfr_serial : z->soa.serial;
}

void zone_init(struct zone *z, const uint8_t *apex, size_t max_nodes, uint64_t seed);
void zone_free(struct zone *z);

/* Replace every static row (takes ownership of rr, a malloc'd array). */
int zone_set_static(struct zone *z, struct zone_rr *rr, size_t n);
/* Exact name (lowercase wire) in the static tree, or NULL. */
const struct zone_name *zone_find(const struct zone *z, const uint8_t *name);
const struct zone_rr *zone_rr_at(const struct zone *z, const struct zone_name *n, uint32_t i);

/* Published nodes: 1 added or removed, 0 no change, -1 full. */
int zone_node_add(struct zone *z, const struct addr *a);
/* Room for n4 IPv4 and n6 IPv6 nodes before a load adds them. */
int zone_node_reserve(struct zone *z, size_t n4, size_t n6);
int zone_node_del(struct zone *z, const struct addr *a);
struct nodeset *zone_nodes(struct zone *z, int family);

/* RFC 1982: the serial after a change, never going backwards. */
uint32_t zone_serial_next(uint32_t serial, uint32_t floor);

#endif
