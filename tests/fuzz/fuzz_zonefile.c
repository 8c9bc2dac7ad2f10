/*
 * fuzz_zonefile: one input = one zone.csv for apex seed.example.com.
 *
 * A usable file is applied to a fresh zone the way zonestore does it (the
 * SOA, zone_set_static for the static rows, zone_node_add for node rows),
 * then formatted. Invariants:
 *   - every skipped row was reported once, with a line number;
 *   - the static tree finds every row's name and each ancestor below the
 *     apex, and a CNAME owner holds nothing else (RFC 1034 3.6.2);
 *   - round trip: the formatted text parses with no skipped row, gives the
 *     same rows, and formats to byte-identical text.
 * Everything is freed: the leak checker is on.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "dns/dname.h"
#include "dns/wire.h"
#include "zone/zone.h"
#include "zone/zone_csv.h"

#include "fuzz.h"

/* seed.example.com in wire form */
static const uint8_t apex[] = "\4seed\7example\3com";

struct reports {
	unsigned n;
};

static void
report(void *ctx, unsigned line, const char *why)
{
	struct reports *r = ctx;

	REQUIRE(line >= 1);
	REQUIRE(why != NULL && why[0] != '\0');
	r->n++;
}

static bool
same_name(const uint8_t *a, const uint8_t *b)
{
	return dname_len(a) == dname_len(b) && memcmp(a, b, dname_len(a)) == 0;
}

static bool
same_rr(const struct zone_rr *a, const struct zone_rr *b)
{
	return same_name(a->name, b->name) && a->type == b->type && a->rdlen == b->rdlen &&
	       memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

static void
check_parsed(const struct zonefile_parsed *p)
{
	for (size_t i = 0; i < p->nrr; i++) {
		const struct zone_rr *rr = &p->rr[i];
		REQUIRE(dname_len(rr->name) <= DNAME_MAX);
		REQUIRE(dname_in_zone(rr->name, apex));
		REQUIRE(!same_name(rr->name, apex)); /* apex addresses are node rows */
		switch (rr->type) {
		case DNS_T_A:
			REQUIRE(rr->rdlen == 4);
			break;
		case DNS_T_AAAA:
			REQUIRE(rr->rdlen == 16);
			break;
		case DNS_T_CNAME:
			REQUIRE(rr->rdlen == dname_len(rr->rdata));
			break;
		default:
			__builtin_trap();
		}
	}
	REQUIRE(p->nnodes == p->n4 + p->n6);
	for (size_t i = 0; i < p->nnodes; i++) {
		struct addr a;
		zonefile_node(p, i, &a);
		REQUIRE(a.family == (i < p->n4 ? AF_INET : AF_INET6));
		REQUIRE(!addr_is_unusable(&a));
	}
}

/* The static tree of z against its rows. */
static void
check_tree(const struct zone *z)
{
	for (size_t i = 0; i < z->nrr; i++) {
		const uint8_t *name = z->rr[i].name;
		const struct zone_name *zn = zone_find(z, name);
		REQUIRE(zn != NULL && zn->count > 0);
		bool found = false;
		for (uint32_t j = 0; j < zn->count; j++) {
			const struct zone_rr *rr = zone_rr_at(z, zn, j);
			REQUIRE(same_name(rr->name, name));
			if (rr == &z->rr[i])
				found = true;
			/* RFC 1034 3.6.2: a CNAME owner has no other data. */
			if (rr->type == DNS_T_CNAME)
				REQUIRE(zn->count == 1);
			/* RFC 2181 5: no duplicate in an RRset (bounded: quadratic). */
			for (uint32_t k = 0; k < j && zn->count <= 64; k++)
				REQUIRE(!same_rr(rr, zone_rr_at(z, zn, k)));
		}
		REQUIRE(found);
		/* RFC 8020: every ancestor below the apex exists. */
		for (const uint8_t *p = dname_parent(name); !same_name(p, apex); p = dname_parent(p)) {
			REQUIRE(*p != 0);
			REQUIRE(zone_find(z, p) != NULL);
		}
	}
	for (size_t i = 1; i < z->nnames; i++)
		REQUIRE(!same_name(z->names[i - 1].name, z->names[i].name));
}

/* Apply parsed rows to a fresh zone; the parsed arrays are consumed. */
static void
apply(struct zone *z, struct zonefile_parsed *p)
{
	zone_init(z, apex, 100000, 0x5eedULL);
	z->soa = p->soa;
	if (zone_set_static(z, p->rr, p->nrr) < 0)
		__builtin_trap(); /* only out of memory: the fuzzer's rss limit would say so first */
	p->rr = NULL;
	p->nrr = 0;
	for (size_t i = 0; i < p->nnodes; i++) {
		struct addr a;
		zonefile_node(p, i, &a);
		REQUIRE(zone_node_add(z, &a) >= 0);
	}
	zonefile_parsed_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zonefile_parsed p1, p2;
	struct reports r1 = { 0 }, r2 = { 0 };
	struct zone z1, z2;
	size_t len1 = 0, len2 = 0;

	int rc = zonefile_parse((const char *)data, size, apex, &p1, report, &r1);
	REQUIRE(rc == 0 || rc == -1);
	if (rc != 0) {
		REQUIRE(p1.rr == NULL && p1.node4 == NULL && p1.node6 == NULL);
		zonefile_parsed_free(&p1);
		return 0;
	}
	REQUIRE(r1.n == p1.skipped);
	check_parsed(&p1);
	size_t nrr = p1.nrr;
	apply(&z1, &p1);
	REQUIRE(z1.nrr == nrr);
	check_tree(&z1);

	char *t1 = zonefile_format(&z1, &len1);
	REQUIRE(t1 != NULL);
	REQUIRE(strlen(t1) == len1);

	rc = zonefile_parse(t1, len1, apex, &p2, report, &r2);
	REQUIRE(rc == 0);
	REQUIRE(p2.skipped == 0 && r2.n == 0);
	REQUIRE(p2.nrr == z1.nrr);
	for (size_t i = 0; i < p2.nrr; i++)
		REQUIRE(same_rr(&p2.rr[i], &z1.rr[i]));
	REQUIRE(p2.nnodes == z1.v4.n + z1.v6.n);
	REQUIRE(memcmp(&p2.soa, &z1.soa, sizeof(p2.soa)) == 0 ||
	        (same_name(p2.soa.mname, z1.soa.mname) && same_name(p2.soa.rname, z1.soa.rname) &&
	         p2.soa.serial == z1.soa.serial && p2.soa.refresh == z1.soa.refresh &&
	         p2.soa.retry == z1.soa.retry && p2.soa.expire == z1.soa.expire &&
	         p2.soa.minimum == z1.soa.minimum));
	apply(&z2, &p2);

	char *t2 = zonefile_format(&z2, &len2);
	REQUIRE(t2 != NULL);
	REQUIRE(len1 == len2 && memcmp(t1, t2, len1) == 0);

	free(t1);
	free(t2);
	zone_free(&z1);
	zone_free(&z2);
	return 0;
}
