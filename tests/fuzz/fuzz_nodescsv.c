/*
 * fuzz_nodescsv: one input = one nodes.csv. Rows go into a node table the
 * way the crawler loads them (first row of an address wins), the table is
 * formatted, and the text must parse again with no bad row into the same
 * rows, and format to byte-identical text (the windows survive to the
 * precision they are written with). Other networks' rows are carried.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nodes/node_table.h"
#include "nodes/nodes_csv.h"

#include "fuzz.h"

struct ctx {
	struct nodes *t;
	unsigned bad;
};

static void
on_row(void *arg, const struct nodescsv_row *r)
{
	struct ctx *c = arg;

	REQUIRE(r->addr.port != 0);
	REQUIRE(r->h.successes <= r->h.checks);
	if (nodes_find(c->t, &r->addr) != NODE_NONE)
		return;
	uint32_t i = nodes_add(c->t, &r->addr);
	if (i == NODE_NONE)
		return;
	struct node *n = nodes_at(c->t, i);
	n->h = r->h;
	n->dialect = r->dialect;
	n->last_error = (uint8_t)r->last_error;
	n->banned_until = r->banned_until;
	/* A URL taken as the default without parsing must parse to the row's own address and port. */
	if (r->url_default) {
		struct url u;
		struct addr h;
		REQUIRE(url_parse(&u, r->url, strlen(r->url), r->addr.port) == 0 && !u.tls && u.port == r->addr.port &&
		        strcmp(u.path, "/") == 0);
		REQUIRE(addr_parse_ip(&h, u.host) == 0 && h.family == r->addr.family &&
		        memcmp(h.ip, r->addr.ip, sizeof(h.ip)) == 0);
	}
	if (*r->url && !r->url_default) {
		REQUIRE(nodes_set_url(c->t, i, r->url) == 0);
		REQUIRE(strcmp(nodes_url(c->t, i), r->url) == 0);
	}
}

static void
on_bad(void *arg, unsigned line, const char *why)
{
	struct ctx *c = arg;

	REQUIRE(line >= 1 && why && *why);
	c->bad++;
}

static bool
good(void *arg, const struct node *n)
{
	(void)arg;
	return n->h.successes > 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nodes t1, t2;
	struct ctx c1 = { &t1, 0 }, c2 = { &t2, 0 };
	char *o1 = NULL, *o2 = NULL, *f1 = NULL, *f2 = NULL, *o3 = NULL;
	size_t ol1, ol2, fl1, fl2, ol3;

	nodes_init(&t1, 1000, 7);
	nodes_init(&t2, 1000, 7);
	if (nodescsv_parse((const char *)data, size, 32767, on_row, on_bad, &c1, &o1, &ol1) != 0)
		goto out;
	f1 = nodescsv_format(&t1, good, NULL, o1, ol1, &fl1);
	REQUIRE(f1 != NULL);
	REQUIRE(nodescsv_parse(f1, fl1, 32767, on_row, on_bad, &c2, &o2, &ol2) == 0);
	REQUIRE(c2.bad == 0);
	REQUIRE(t2.count == t1.count);
	REQUIRE(ol2 == ol1 && (ol1 == 0 || memcmp(o1, o2, ol1) == 0));
	f2 = nodescsv_format(&t2, good, NULL, o2, ol2, &fl2);
	REQUIRE(f2 != NULL);
	/* Formatting a parse of our own output is a fixed point after one round. */
	struct nodes t3;
	struct ctx c3 = { &t3, 0 };
	nodes_init(&t3, 1000, 7);
	REQUIRE(nodescsv_parse(f2, fl2, 32767, on_row, on_bad, &c3, &o3, &ol3) == 0);
	char *f3;
	size_t fl3;
	f3 = nodescsv_format(&t3, good, NULL, o3, ol3, &fl3);
	REQUIRE(f3 != NULL && fl3 == fl2 && memcmp(f3, f2, fl2) == 0);
	free(f3);
	free(o3);
	nodes_free(&t3);
out:
	free(o1);
	free(o2);
	free(f1);
	free(f2);
	nodes_free(&t1);
	nodes_free(&t2);
	return 0;
}
