#include <stdlib.h>
#include <string.h>

#include "dns/wire.h"
#include "zone/zone_csv.h"
#include "t.h"

static unsigned reported[64];
static int nreported;

static void
report(void *ctx, unsigned line, const char *why)
{
	(void)ctx;
	(void)why;
	if (nreported < 64)
		reported[nreported++] = line;
}

static int
parse(const char *text, struct zonefile_parsed *p)
{
	uint8_t apex[DNAME_MAX];

	dname_from_text(apex, "seed.example.com");
	nreported = 0;
	return zonefile_parse(text, strlen(text), apex, p, report, NULL);
}

void
test_zonefile(void)
{
	struct zonefile_parsed p;
	const char *spec =
	    "ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400\n"
	    "seed.example.com,47.74.45.239\n"
	    "seed.example.com,2001:db8::7\n"
	    "www.seed.example.com,seed.example.com\n";

	CHECK("spec example", parse(spec, &p) == 0 && p.nnodes == 2 && p.nrr == 1 && p.skipped == 0 &&
	      p.soa.serial == 2026112201 && p.soa.minimum == 86400 && p.rr[0].type == DNS_T_CNAME);
	zonefile_parsed_free(&p);

	/* The prototype's file: apex infnote.com, SOA names outside it. */
	uint8_t apex[DNAME_MAX];
	dname_from_text(apex, "infnote.com");
	const char *proto =
	    "primaryserver.infnote.com,test.admin.infnote.com 2016071114 28800 7200 604800 86400\r\n"
	    "infnote.com,47.74.45.239\r\n"
	    "infnote.com,47.74.45.236\r\n";
	CHECK("prototype file with CRLF", zonefile_parse(proto, strlen(proto), apex, &p, report, NULL) == 0 &&
	      p.nnodes == 2 && p.skipped == 0);
	zonefile_parsed_free(&p);

	CHECK("no SOA unusable", parse("seed.example.com,1.2.3.4\n", &p) == -1);
	CHECK("empty unusable", parse("", &p) == -1);
	CHECK("SOA with 5 numbers unusable", parse("a.b,c.d 1 2 3 4\n", &p) == -1);
	CHECK("SOA timer over 2^31 unusable", parse("a.b,c.d 1 2 3 4 2147483648\n", &p) == -1);
	char bin[] = "ns.seed.example.com,h.seed.example.com 1 2 3 4 5\nx\0y\n";
	uint8_t a2[DNAME_MAX];
	dname_from_text(a2, "seed.example.com");
	CHECK("NUL byte unusable", zonefile_parse(bin, sizeof(bin) - 1, a2, &p, report, NULL) == -1);

	const char *bad =
	    "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\n"
	    "seed.example.com,47.74.45.239\n"              /* 2 ok */
	    "seed.example.com\n"                           /* 3 one field */
	    "other.org,1.2.3.4\n"                          /* 4 out of zone */
	    "seed.example.com,0.0.0.0\n"                   /* 5 unusable */
	    "seed.example.com,example.org\n"               /* 6 CNAME at apex */
	    "bad name.seed.example.com,1.2.3.4\n"          /* 7 bad name */
	    "x.seed.example.com,not an address\n"          /* 8 bad value */
	    "c.seed.example.com,example.org\n"             /* 9 ok CNAME */
	    "c.seed.example.com,1.2.3.4\n"                 /* 10 CNAME conflict */
	    "d.seed.example.com,1.2.3.4\n"                 /* 11 ok */
	    "d.seed.example.com,1.2.3.4\n"                 /* 12 duplicate */
	    "d.seed.example.com,example.net\n"             /* 13 conflict */
	    "\n"
	    "e.seed.example.com,a,b\n"                     /* 15 three fields */
	    "f.seed.example.com,1.2.3.4.\n"                /* 16 CNAME that reads as an A */
	    "g.seed.example.com,\n"                        /* 17 empty value: not a CNAME to the root */
	    "seed.example.com,\n";                         /* 18 empty value at the apex */
	CHECK("bad rows skipped", parse(bad, &p) == 0 && p.nnodes == 1 && p.nrr == 2 && p.skipped == 13);
	int lines_ok = nreported == 13;
	unsigned want[] = { 3, 4, 5, 6, 7, 8, 15, 16, 10, 12, 13, 17, 18 };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int found = 0;
		for (int j = 0; j < nreported; j++)
			found |= reported[j] == want[i];
		lines_ok &= found;
	}
	CHECK("bad rows reported by line", lines_ok);
	zonefile_parsed_free(&p);

	/* Format round trip through a zone. */
	struct zone z;
	CHECK("parse for round trip", parse(spec, &p) == 0);
	zone_init(&z, a2, 100, 1);
	z.soa = p.soa;
	zone_set_static(&z, p.rr, p.nrr);
	p.rr = NULL;
	for (size_t i = 0; i < p.nnodes; i++) {
		struct addr a;
		zonefile_node(&p, i, &a);
		zone_node_add(&z, &a);
	}
	zonefile_parsed_free(&p);
	size_t len;
	char *text = zonefile_format(&z, &len);
	CHECK("format", text != NULL && strcmp(text,
	      "ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400\n"
	      "seed.example.com,47.74.45.239\n"
	      "seed.example.com,2001:db8::7\n"
	      "www.seed.example.com,seed.example.com\n") == 0);
	free(text);
	zone_free(&z);

	CHECK("serial grows", zone_serial_next(5, 0) == 6);
	CHECK("serial wraps", zone_serial_next(0xffffffffu, 0) == 0);
	CHECK("serial floor", zone_serial_next(5, 2026112200) == 2026112200);
	CHECK("serial floor behind", zone_serial_next(2026112299, 2026112200) == 2026112300);
}
