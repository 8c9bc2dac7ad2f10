/*
 * zonefile: zone.csv text <-> zone contents (SPEC 3). Pure: no I/O.
 *
 *   MNAME,RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM     (line 1: the SOA)
 *   NAME,VALUE                                          (every other line)
 *
 * VALUE an IPv4 or IPv6 address: an A or AAAA record; anything else: a
 * CNAME target. Rows of the apex with an address are node rows; the rest
 * are static rows. zonefile_parse returns 0 when the file is usable (its
 * first line is a SOA, it holds no NUL byte), -1 when it is not and -2
 * when memory ran out; each malformed row is skipped and reported with its
 * line number.
 */
#ifndef SEEDD_ZONEFILE_H
#define SEEDD_ZONEFILE_H

#include <stddef.h>

#include "base/addr.h"
#include "zone/zone.h"

struct zonefile_parsed {
	struct zone_soa soa;
	struct zone_rr *rr; /* static rows, file order (malloc'd) */
	size_t nrr, rrcap;
	/* Node rows, each family in file order: 4 or 16 address bytes a row (malloc'd). */
	uint8_t *node4, *node6;
	size_t n4, n6, cap4, cap6;
	size_t nnodes;      /* n4 + n6 */
	unsigned skipped;   /* malformed rows */
};

typedef void zonefile_report_fn(void *ctx, unsigned line, const char *why);

int zonefile_parse(const char *buf, size_t len, const uint8_t *apex,
                   struct zonefile_parsed *out, zonefile_report_fn *report, void *ctx);
void zonefile_parsed_free(struct zonefile_parsed *p);
/* Node row i (0 <= i < nnodes): the IPv4 ones first, then the IPv6 ones. */
void zonefile_node(const struct zonefile_parsed *p, size_t i, struct addr *a);

/* zone.csv text of the zone (malloc'd, NUL-terminated); NULL when out of memory. */
char *zonefile_format(const struct zone *z, size_t *len);
/*
 * The same text in pieces of at most ZONEFILE_PIECE bytes, handed to out
 * in order (no copy of a large zone is held): 0, or -1 when memory ran
 * out or out returned -1.
 */
#define ZONEFILE_PIECE 65536
typedef int zonefile_out_fn(void *ctx, const char *p, size_t n);
int zonefile_write(const struct zone *z, zonefile_out_fn *out, void *ctx);
/* Parse the SOA text fields of line 1; 0 or -1. */
int zonefile_parse_soa(const char *mname, const char *rest, struct zone_soa *soa);

#endif
