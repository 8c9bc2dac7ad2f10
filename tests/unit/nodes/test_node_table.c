/*
 * The node table (hash, free list, due heap, never-checked stack) and
 * nodes.csv (round trip, the prototype's three columns, defaults, other
 * networks' rows kept, bad rows reported).
 */
#include <stdlib.h>
#include <string.h>

#include "nodes/node_table.h"
#include "nodes/nodes_csv.h"
#include "t.h"

static struct addr
v4(unsigned n, uint16_t port)
{
	struct addr a = { .family = AF_INET, .port = port };
	a.ip[0] = 203;
	a.ip[1] = (uint8_t)(n >> 16);
	a.ip[2] = (uint8_t)(n >> 8);
	a.ip[3] = (uint8_t)n;
	return a;
}

static void
table(void)
{
	struct nodes t;
	bool ok = true;

	nodes_init(&t, 5000, 42);
	for (unsigned i = 0; i < 5000; i++) {
		struct addr a = v4(i, 32767);
		ok &= nodes_add(&t, &a) == i;
	}
	CHECK("add 5000", ok && t.count == 5000);
	struct addr over = v4(99999, 1);
	CHECK("cap", nodes_add(&t, &over) == NODE_NONE);
	struct addr a7 = v4(7, 32767), a7p = v4(7, 4000);
	CHECK("find", nodes_find(&t, &a7) == 7 && nodes_find(&t, &a7p) == NODE_NONE);
	uint32_t gen = nodes_at(&t, 7)->gen;
	nodes_del(&t, 7);
	CHECK("deleted", nodes_find(&t, &a7) == NODE_NONE && t.count == 4999);
	CHECK("slot reused with a new gen", nodes_add(&t, &a7p) == 7 && nodes_at(&t, 7)->gen != gen);

	/* Heap: due order whatever the insertion order; re-scheduling moves a node. */
	for (uint32_t i = 0; i < 1000; i++)
		nodes_schedule(&t, i, (int64_t)((i * 7919) % 1000));
	nodes_schedule(&t, 500, -5);
	CHECK("due: the heap's key", nodes_due_at(&t, 500) == -5 && nodes_due_at(&t, 7) == 7 * 7919 % 1000 &&
	      nodes_due_at(&t, 1000) == INT64_MAX);
	int64_t last = -100;
	unsigned n = 0;
	ok = nodes_next(&t, 10000) == 500 && nodes_due_at(&t, 500) == INT64_MAX;
	for (uint32_t i; (i = nodes_next(&t, 10000)) != NODE_NONE; n++) {
		int64_t due = (int64_t)((i * 7919) % 1000);
		ok &= due >= last && !nodes_queued(&t, i);
		last = due;
	}
	CHECK("heap pops in due order", ok && n == 999);
	nodes_schedule(&t, 3, 50);
	CHECK("not due yet", nodes_next(&t, 49) == NODE_NONE && nodes_next_due(&t) == 50);
	/* The never-checked stack goes first, most recent first. */
	nodes_push_fresh(&t, 10);
	nodes_push_fresh(&t, 11);
	nodes_push_fresh(&t, 3); /* leaves the heap */
	CHECK("fresh LIFO before the heap", nodes_next(&t, 100) == 3 && nodes_next(&t, 100) == 11 &&
	      nodes_next(&t, 100) == 10 && nodes_next(&t, 100) == NODE_NONE);
	nodes_push_fresh(&t, 12);
	nodes_schedule(&t, 13, 1);
	nodes_del(&t, 12);
	nodes_del(&t, 13);
	CHECK("deleting queued nodes unqueues them", t.nfresh == 0 && t.nheap == 0);
	nodes_free(&t);
}

struct rows {
	struct nodescsv_row r[8];
	char url[8][128];
	int n, bad;
	unsigned bad_line[8];
};

static void
on_row(void *ctx, const struct nodescsv_row *row)
{
	struct rows *rs = ctx;
	if (rs->n < 8) {
		rs->r[rs->n] = *row;
		snprintf(rs->url[rs->n], sizeof(rs->url[0]), "%s", row->url);
		rs->n++;
	}
}

static void
on_bad(void *ctx, unsigned line, const char *why)
{
	struct rows *rs = ctx;
	(void)why;
	if (rs->bad < 8)
		rs->bad_line[rs->bad] = line;
	rs->bad++;
}

static bool
yes(void *ctx, const struct node *n)
{
	(void)ctx;
	return n->h.successes > 0;
}

/* nodescsv_write_net's pieces, gathered. */
struct collect {
	char *p;
	size_t len;
};

static int
collect(void *ctx, const char *p, size_t n)
{
	struct collect *c = ctx;
	char *np = realloc(c->p, c->len + n);

	if (!np)
		return -1;
	memcpy(np + c->len, p, n);
	c->p = np;
	c->len += n;
	return 0;
}

static void
csv(void)
{
	struct nodes t;
	struct rows rs = { 0 };
	char *other = NULL;
	size_t olen, len;

	nodes_init(&t, 100, 1);
	struct addr a = v4(1, 32767), b;
	addr_parse_hostport(&b, "[2001:db8::7]:4000", 0);
	uint32_t i = nodes_add(&t, &a), j = nodes_add(&t, &b);
	struct node *n = nodes_at(&t, i);
	health_update(&n->h, 1763800000, true);
	health_update(&n->h, 1763800300, true);
	n->dialect = 2;
	CHECK("url: set", nodes_set_url(&t, i, "wss://chain.example.com:32767/") == 0);
	struct node *m = nodes_at(&t, j);
	health_update(&m->h, 1763800000, false);
	m->last_error = NODE_E_TIMEOUT;
	m->banned_until = 1763900000;
	const char *dht = "198.51.100.9,no,,6881,dht,,,0,0,0.000,,,,,,,,,0123456789abcdef0123456789abcdef01234567,,,\n";
	char *text = nodescsv_format(&t, yes, NULL, dht, strlen(dht), &len);
	CHECK("format", text != NULL && strncmp(text, "ip,good,last_check_time,port,network,", 37) == 0);
	CHECK("format: good row", text && strstr(text, "\n203.0.0.1,yes,2025-11-22 08:31:40,32767,infnote,2025-11-22 08:26:40,"
	                                                 "2025-11-22 08:31:40,2,2,") != NULL);
	CHECK("format: other network kept", text && strstr(text, dht) != NULL);
	struct collect pw = { 0 };
	CHECK("write in pieces: the same text", nodescsv_write_net(&t, NODESCSV_NETWORK, yes, NULL, NULL, collect, &pw) == 0 &&
	      text && pw.len + strlen(dht) == len && memcmp(pw.p, text, pw.len) == 0);
	free(pw.p);
	CHECK("format: a node without a URL gets the default one", text && strstr(text, ",ws://[2001:db8::7]:4000/,"));
	CHECK("default URL: recognised", nodescsv_url_is_default(&b, "ws://[2001:db8::7]:4000/") &&
	      nodescsv_url_is_default(&a, "ws://203.0.0.1:32767/"));
	CHECK("default URL: others are not", !nodescsv_url_is_default(&a, "wss://203.0.0.1:32767/") &&
	      !nodescsv_url_is_default(&a, "ws://203.0.0.1:32767/x") && !nodescsv_url_is_default(&a, "ws://203.0.0.1/") &&
	      !nodescsv_url_is_default(&b, "ws://[2001:DB8::7]:4000/"));
	int rc = nodescsv_parse(text, len, 32767, on_row, on_bad, &rs, &other, &olen);
	CHECK("round trip parses", rc == 0 && rs.n == 2 && rs.bad == 0);
	CHECK("round trip: history", rs.n == 2 && rs.r[0].h.checks == 2 && rs.r[0].h.successes == 2 &&
	      rs.r[0].h.last_check == 1763800300 && rs.r[0].h.first_seen == 1763800000 && rs.r[0].dialect == 2 &&
	      strcmp(rs.url[0], "wss://chain.example.com:32767/") == 0);
	double e = 0;
	for (int w = 0; w < HEALTH_WINDOWS; w++) {
		struct health_winv got = health_win_get(&rs.r[0].h, w), want = health_win_get(&n->h, w);
		double d1 = got.r - want.r, d2 = got.w - want.w;
		e += (d1 < 0 ? -d1 : d1) / want.r + (d2 < 0 ? -d2 : d2) / want.w;
	}
	CHECK("round trip: windows to 6 significant digits", e < 1e-4);
	CHECK("round trip: the model's columns", rs.r[0].h.fails == 0 && rs.r[0].h.run_start == 1763800000 &&
	      rs.r[0].h.last_down == 0 && rs.r[1].h.fails == 1 && rs.r[1].h.run_start == 0);
	CHECK("round trip: v6, port, error, ban", rs.r[1].addr.family == AF_INET6 && rs.r[1].addr.port == 4000 &&
	      rs.r[1].last_error == NODE_E_TIMEOUT && rs.r[1].banned_until == 1763900000 && !rs.r[1].good);
	CHECK("round trip: other rows handed back", other && olen == strlen(dht) && memcmp(other, dht, olen) == 0);
	/* The DHT's own view of the same text: its row to row_fn with its node_id, ours handed back. */
	struct rows rd = { 0 };
	char *other2 = NULL;
	size_t olen2;
	rc = nodescsv_parse_net(text, len, "dht", 6881, on_row, on_bad, &rd, &other2, &olen2);
	CHECK("dht view: one row", rc == 0 && rd.n == 1 && rd.r[0].addr.port == 6881 && rd.bad == 0);
	CHECK("dht view: our two rows handed back", other2 && memchr(other2, '\n', olen2) &&
	      strstr(other2, "203.0.0.1,yes,") && strstr(other2, "2001:db8::7,no,"));
	/* Dropping a network's rows leaves the others whole. */
	char mix[512];
	snprintf(mix, sizeof(mix), "%s1.2.3.4,no,,1,other,,,0,0,0.000,,,,,,,,,,,,,,,,,,,,\n%s", dht, dht);
	size_t ml = nodescsv_drop_network(mix, strlen(mix), "dht");
	CHECK("drop network", ml == strlen("1.2.3.4,no,,1,other,,,0,0,0.000,,,,,,,,,,,,,,,,,,,,\n") &&
	      strncmp(mix, "1.2.3.4,no,,1,other,", 20) == 0);
	CHECK("drop network: no prefix match", nodescsv_drop_network(mix, ml, "oth") == ml);
	free(other2);
	free(other);
	free(text);
	nodes_free(&t);

	/* The prototype's report: three columns, its own time format. */
	const char *proto = "ip,good,last_check_time\n47.74.45.239,yes,2018-11-16 14:44:32\n"
	                    "47.254.197.123,no,2018-11-16 14:45:47\n";
	memset(&rs, 0, sizeof(rs));
	rc = nodescsv_parse(proto, strlen(proto), 32767, on_row, on_bad, &rs, &other, &olen);
	CHECK("prototype file loads", rc == 0 && rs.n == 2 && rs.r[0].addr.port == 32767 && rs.r[0].good &&
	      rs.r[0].h.checks == 1 && rs.r[0].h.successes == 1 && rs.r[1].h.successes == 0);
	CHECK("prototype: the last check's result gives fails", rs.r[0].h.fails == 0 && rs.r[1].h.fails == 1 &&
	      rs.r[0].h.run_start == rs.r[0].h.last_check && rs.r[1].h.run_start == 0 && rs.r[0].h.last_down == 0);
	CHECK("prototype: windows start from reliability", health_win_get(&rs.r[0].h, HEALTH_1D).r == 1.0 &&
	      health_win_get(&rs.r[0].h, HEALTH_1D).w == 1.0 && health_win_get(&rs.r[1].h, HEALTH_1W).r == 0.0);
	free(other);

	/* The url column: ws://IP:PORT/ of the row's own columns is the default, not parsed; others are. */
	const char *us = "ip,port,url\n"
	                 "198.51.100.1,32767,ws://198.51.100.1:32767/\n"
	                 "2001:db8::1,4000,ws://[2001:db8::1]:4000/\n"
	                 "198.51.100.2,32767,ws://198.51.100.2:32768/\n"
	                 "198.51.100.3,32767,wss://198.51.100.3:32767/\n"
	                 "198.51.100.4,,ws://198.51.100.4:32767/\n"
	                 "198.51.100.5,32767,ws://198.51.100.5:32767/x\n";
	memset(&rs, 0, sizeof(rs));
	rc = nodescsv_parse(us, strlen(us), 32767, on_row, on_bad, &rs, &other, &olen);
	CHECK("url: default ones known without parsing", rc == 0 && rs.n == 5 && rs.r[0].url_default &&
	      rs.r[1].url_default && !rs.r[2].url_default && !rs.r[3].url_default && !rs.r[4].url_default);
	CHECK("url: another port is a bad row", rs.bad == 1 && rs.bad_line[0] == 4);
	free(other);

	/* An earlier version's file: sipa's five windows with counts; the 1 d and 1 w r and w are taken. */
	const char *five = "ip,good,last_check_time,port,checks,successes,reliability,r2h,c2h,w2h,r8h,c8h,w8h,"
	                   "r1d,c1d,w1d,r1w,c1w,w1w,r30d,c30d,w30d\n"
	                   "198.51.100.1,yes,2026-11-22 14:44:32,32767,9,9,0.5,0.1,2,0.2,0.3,4,0.4,0.5,6,0.625,"
	                   "0.75,8,0.875,0.9,10,0.95\n";
	memset(&rs, 0, sizeof(rs));
	rc = nodescsv_parse(five, strlen(five), 32767, on_row, on_bad, &rs, &other, &olen);
	CHECK("five windows: the day's and the week's r and w", rc == 0 && rs.n == 1 && rs.bad == 0 &&
	      health_win_get(&rs.r[0].h, HEALTH_1D).r == 0.5 && health_win_get(&rs.r[0].h, HEALTH_1D).w == 0.625 &&
	      health_win_get(&rs.r[0].h, HEALTH_1W).r == 0.75 && health_win_get(&rs.r[0].h, HEALTH_1W).w == 0.875);
	free(other);

	/* Reordered and unknown columns; bad rows reported with their line. */
	const char *mixed = "extra,port,ip,reliability,checks,successes\n"
	                    "x,4000,198.51.100.1,0.75,4,3\n"
	                    "x,70000,198.51.100.2,0.5,1,1\n"
	                    "x,1,not-an-ip,0.5,1,1\n"
	                    "x,1,198.51.100.3,0.5,1,2\n"
	                    "x,1,198.51.100.4,1.5,1,1\n";
	memset(&rs, 0, sizeof(rs));
	rc = nodescsv_parse(mixed, strlen(mixed), 32767, on_row, on_bad, &rs, &other, &olen);
	CHECK("columns by name", rc == 0 && rs.n == 1 && rs.r[0].addr.port == 4000 && rs.r[0].h.checks == 4 &&
	      rs.r[0].h.successes == 3 && health_win_get(&rs.r[0].h, HEALTH_1W).r == 0.75 &&
	      health_win_get(&rs.r[0].h, HEALTH_1W).w == 1.0);
	CHECK("bad rows reported by line", rs.bad == 4 && rs.bad_line[0] == 3 && rs.bad_line[1] == 4 &&
	      rs.bad_line[2] == 5 && rs.bad_line[3] == 6);
	free(other);
	/* The model's columns by name, anywhere; bad values reported. */
	const char *model = "last_down,ip,fails,run_start,checks,successes,last_check_time,last_success\n"
	                    "2026-11-20 10:00:00,198.51.100.1,3,,9,5,2026-11-22 14:44:32,2026-11-20 09:00:00\n"
	                    ",198.51.100.2,256,,9,5,,\n"
	                    ",198.51.100.3,0,yesterday,9,5,,\n";
	memset(&rs, 0, sizeof(rs));
	rc = nodescsv_parse(model, strlen(model), 32767, on_row, on_bad, &rs, &other, &olen);
	CHECK("model columns by name", rc == 0 && rs.n == 1 && rs.r[0].h.fails == 3 && rs.r[0].h.run_start == 0 &&
	      rs.r[0].h.last_down == 1795168800);
	CHECK("model columns: bad values reported", rs.bad == 2 && rs.bad_line[0] == 3 && rs.bad_line[1] == 4);
	free(other);
	/* Times are kept in 32 bits: one past 2106 is a bad row, not a clamped one. */
	const char *late = "ip,last_check_time,banned_until\n"
	                   "198.51.100.1,2106-02-07 06:28:15,\n"
	                   "198.51.100.2,2106-02-07 06:28:16,\n"
	                   "198.51.100.3,,9999-12-31 23:59:59\n";
	memset(&rs, 0, sizeof(rs));
	rc = nodescsv_parse(late, strlen(late), 32767, on_row, on_bad, &rs, &other, &olen);
	CHECK("times: the last second of 2106 fits", rc == 0 && rs.n == 1 && rs.r[0].h.last_check == UINT32_MAX);
	CHECK("times: later ones are bad rows", rs.bad == 2 && rs.bad_line[0] == 3 && rs.bad_line[1] == 4);
	free(other);
	const char *noip = "host,good\nx,yes\n";
	CHECK("no ip column: unusable", nodescsv_parse(noip, strlen(noip), 1, on_row, on_bad, &rs, &other, &olen) == -1);
	CHECK("NUL byte: unusable", nodescsv_parse("ip\n\0", 4, 1, on_row, on_bad, &rs, &other, &olen) == -1);
	int64_t tt;
	CHECK("time parse", nodescsv_time_parse("2026-11-22 14:44:32", &tt) == 0 && tt == 1795358672 &&
	      nodescsv_time_parse("2026-13-22 14:44:32", &tt) < 0 && nodescsv_time_parse("2026-11-22 14:44:32x", &tt) < 0);
}

/* What nodes.csv.log is told: each change once, forgotten addresses, nothing while not tracking. */
static size_t ngone_seen, nnode_seen;
static uint32_t node_seen[16];

static void
on_gone(void *ctx, const struct addr *a)
{
	(void)ctx;
	(void)a;
	ngone_seen++;
}

static void
on_node(void *ctx, uint32_t i)
{
	(void)ctx;
	if (nnode_seen < 16)
		node_seen[nnode_seen] = i;
	nnode_seen++;
}

static void
changes(void)
{
	struct nodes t;
	uint32_t i[4];

	nodes_init(&t, 8, 3);
	for (unsigned k = 0; k < 4; k++) {
		struct addr a = v4(k, 1);
		i[k] = nodes_add(&t, &a);
		nodes_touch(&t, i[k]);
	}
	CHECK("untracked: nothing listed", t.ndirty == 0);
	t.track = true;
	nodes_touch(&t, i[1]);
	nodes_touch(&t, i[1]);
	nodes_touch(&t, i[2]);
	nodes_del(&t, i[2]);
	struct addr a9 = v4(9, 1);
	uint32_t r = nodes_add(&t, &a9); /* takes i[2]'s slot */
	nodes_touch(&t, r);
	nodes_del(&t, i[3]);
	size_t calls = nodes_take_changes(&t, on_gone, on_node, NULL);
	CHECK("two forgotten", ngone_seen == 2);
	CHECK("each changed node once", nnode_seen == 2 && node_seen[0] == i[1] && node_seen[1] == r && r == i[2]);
	CHECK("calls counted", calls == 4);
	CHECK("taken: empty", t.ndirty == 0 && t.ngone == 0 && !(t.v[i[1]].flags & NODE_DIRTY));
	ngone_seen = nnode_seen = 0;
	nodes_touch(&t, i[0]);
	nodes_clear_changes(&t);
	CHECK("cleared", nodes_take_changes(&t, on_gone, on_node, NULL) == 0 && !(t.v[i[0]].flags & NODE_DIRTY));
	nodes_free(&t);
}

/* URLs of their own: a side table that must find each one through collisions, removals and growth. */
static void
urls(void)
{
	struct nodes t;
	uint32_t idx[3000];
	char want[64], bad[80] = "";
	int wrong = 0;

	nodes_init(&t, 5000, 7);
	for (uint32_t k = 0; k < 3000; k++) {
		idx[k] = nodes_add(&t, &(struct addr){ .family = AF_INET, .ip = { 10, 0, (uint8_t)(k >> 8), (uint8_t)k },
		                                       .port = 1 });
		if (k % 3 != 0) {
			snprintf(want, sizeof(want), "wss://n%u.example/", k);
			nodes_set_url(&t, idx[k], want);
		}
	}
	/* Forget every fifth, replace every seventh, clear every eleventh. */
	for (uint32_t k = 0; k < 3000; k++) {
		if (k % 5 == 0)
			nodes_del(&t, idx[k]);
		else if (k % 7 == 0)
			nodes_set_url(&t, idx[k], "ws://seven.example/");
		else if (k % 11 == 0)
			nodes_set_url(&t, idx[k], NULL);
	}
	size_t expect = 0;
	for (uint32_t k = 0; k < 3000; k++) {
		if (k % 5 == 0)
			continue;
		const char *got = nodes_url(&t, idx[k]);
		if (k % 7 == 0)
			snprintf(want, sizeof(want), "ws://seven.example/");
		else if (k % 11 == 0 || k % 3 == 0)
			want[0] = '\0';
		else
			snprintf(want, sizeof(want), "wss://n%u.example/", k);
		expect += want[0] != '\0';
		if (strcmp(got ? got : "", want) != 0 && !wrong++)
			snprintf(bad, sizeof(bad), "node %u: %s", k, got ? got : "(none)");
	}
	CHECK("urls: each node its own, after removals and growth", wrong == 0);
	if (wrong)
		printf("# urls: %d wrong, first %s\n", wrong, bad);
	CHECK("urls: counted", t.nurls == expect);
	/* A reused slot starts without one. */
	uint32_t r = nodes_add(&t, &(struct addr){ .family = AF_INET, .ip = { 10, 1, 0, 0 }, .port = 1 });
	CHECK("urls: a reused slot has none", r == idx[2995] && nodes_url(&t, r) == NULL);
	nodes_free(&t);
}

void
test_nodes(void)
{
	table();
	csv();
	changes();
	urls();
}
