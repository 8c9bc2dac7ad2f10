/*
 * nodescsv_rt: nodes.csv in, nodes.csv out, the way seedd keeps it: rows
 * into a node table (first row of an address wins), then the table
 * formatted. Run by roundtrip.sh; builds against any revision of src/, so
 * it uses only what every revision has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodes/node_table.h"
#include "nodes/nodes_csv.h"

static unsigned bad;

static void
on_row(void *ctx, const struct nodescsv_row *r)
{
	struct nodes *t = ctx;

	if (nodes_find(t, &r->addr) != NODE_NONE)
		return;
	uint32_t i = nodes_add(t, &r->addr);
	if (i == NODE_NONE)
		return;
	struct node *n = nodes_at(t, i);
	n->h = r->h;
	n->dialect = r->dialect;
	n->last_error = (uint8_t)r->last_error;
	n->banned_until = r->banned_until;
	if (r->good)
		n->flags |= NODE_GOOD;
	/* As crawl_store.c keeps it: a URL of its own only. */
	if (*r->url && !r->url_default && !nodescsv_url_is_default(&r->addr, r->url))
		nodes_set_url(t, i, r->url);
}

static void
on_bad(void *ctx, unsigned line, const char *why)
{
	(void)ctx;
	if (bad++ < 5)
		fprintf(stderr, "nodescsv_rt: line %u: %s\n", line, why);
}

static bool
good(void *ctx, const struct node *n)
{
	(void)ctx;
	return n->flags & NODE_GOOD;
}

int
main(int argc, char **argv)
{
	struct nodes t;
	char *other = NULL;
	size_t olen, len, cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	FILE *in;

	if (argc != 3 || !(in = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: nodescsv_rt IN OUT\n");
		return 2;
	}
	for (size_t got; buf && (got = fread(buf + n, 1, cap - n, in)) > 0;)
		if ((n += got) == cap)
			buf = realloc(buf, cap *= 2);
	fclose(in);
	nodes_init(&t, 1000000, 1);
	if (!buf || nodescsv_parse(buf, n, 32767, on_row, on_bad, &t, &other, &olen) != 0)
		return 1;
	char *text = nodescsv_format(&t, good, NULL, other, olen, &len);
	FILE *out = fopen(argv[2], "wb");
	if (!text || !out || fwrite(text, 1, len, out) != len || fclose(out) != 0)
		return 1;
	fprintf(stderr, "nodescsv_rt: %zu rows, %u bad\n", t.count, bad);
	return bad != 0;
}
