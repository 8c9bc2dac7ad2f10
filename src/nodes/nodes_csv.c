/*
 * nodescsv: the crawler's report and memory (SPEC 3). The first three
 * columns are the prototype's; the rest carry the health history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/csv.h"
#include "base/numfmt.h"
#include "nodes/nodes_csv.h"

static const char *const header =
	"ip,good,last_check_time,port,network,first_seen,last_success,checks,successes,"
	"reliability,last_error,dialect,banned_until,r1d,w1d,r1w,w1w,url,node_id,fails,run_start,"
	"last_down\n";

enum col {
	C_IP, C_GOOD, C_LAST_CHECK, C_PORT, C_NETWORK, C_FIRST_SEEN, C_LAST_SUCCESS,
	C_CHECKS, C_SUCCESSES, C_RELIABILITY, C_LAST_ERROR, C_DIALECT, C_BANNED,
	C_WIN, /* r1d w1d r1w w1w */
	C_URL = C_WIN + 2 * HEALTH_WINDOWS, C_NODE_ID, C_FAILS, C_RUN_START, C_LAST_DOWN, C_COUNT,
};

static const char *const col_names[C_COUNT] = {
	"ip", "good", "last_check_time", "port", "network", "first_seen", "last_success",
	"checks", "successes", "reliability", "last_error", "dialect", "banned_until",
	"r1d", "w1d", "r1w", "w1w", "url", "node_id", "fails", "run_start", "last_down",
};

void
nodescsv_time_str(int64_t t, char out[20])
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = '\0';
	/* Years past 9999 do not fit the column: written as empty. */
	if (t <= 0 || t > 253402300799 || !gmtime_r(&tt, &tm))
		return;
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

int
nodescsv_time_parse(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se, n = 0;

	if (*s == '\0') {
		*out = 0;
		return 0;
	}
	if (strnlen(s, 20) == 19 && numfmt_parse_time(s, out) == 0)
		return 0; /* the form we write; others (fewer digits, spaces) below */
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || s[n] != '\0')
		return -1;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60 || h < 0 || mi < 0 || se < 0)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* A finite number in [0, max]. */
static int
parse_num(const char *s, double max, double *out)
{
	char *end;
	double v;

	if (*s == '\0' || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -1;
	/* What we write takes the exact fast way (numfmt.h); anything else, strtod. */
	if (numfmt_parse_simple(s, &v) < 0) {
		v = strtod(s, &end);
		if (*end != '\0')
			return -1;
	}
	if (!(v >= 0.0 && v <= max))
		return -1;
	*out = v;
	return 0;
}

static int
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*cap - *len <= n) {
		size_t c = *cap ? *cap : 4096;
		while (c - *len <= n)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b)
			return -1;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* A time as health keeps it: one past 2106 does not fit and is malformed, not clamped. */
static int
time32(const char *s, uint32_t *out)
{
	int64_t t;

	if (nodescsv_time_parse(s, &t) < 0 || t < 0 || t > (int64_t)UINT32_MAX)
		return -1;
	*out = (uint32_t)t;
	return 0;
}

/*
 * Is url "ws://IP:PORT/" ("ws://[IP]:PORT/") with the row's own ip and
 * port text? Then it names the address checked anyway: no need to parse
 * it (url_parse was a tenth of a load).
 */
static bool
default_text(const char *url, const char *ip, const char *port, int family)
{
	size_t il = strlen(ip), pl = strlen(port);
	bool v6 = family == AF_INET6;

	if (strncmp(url, v6 ? "ws://[" : "ws://", v6 ? 6 : 5) != 0 || pl == 0 || *port == '0')
		return false;
	url += v6 ? 6 : 5;
	if (strncmp(url, ip, il) != 0)
		return false;
	url += il;
	if (strncmp(url, v6 ? "]:" : ":", v6 ? 2 : 1) != 0)
		return false;
	url += v6 ? 2 : 1;
	return strncmp(url, port, pl) == 0 && strcmp(url + pl, "/") == 0;
}

/* One row into r; NULL or the reason it is malformed. */
static const char *
parse_row(char **f, int nf, const int *col, uint16_t default_port, struct nodescsv_row *r)
{
#define FIELD(c) (col[c] >= 0 && col[c] < nf ? f[col[c]] : "")
	uint64_t u;
	bool have_win = true;

	memset(r, 0, sizeof(*r));
	if (addr_parse_ip(&r->addr, FIELD(C_IP)) < 0)
		return "bad ip";
	r->addr.port = default_port;
	if (*FIELD(C_PORT)) {
		if (parse_uint(FIELD(C_PORT), 65535, &u) < 0 || u == 0)
			return "bad port";
		r->addr.port = (uint16_t)u;
	}
	const char *g = FIELD(C_GOOD);
	/* nodes.csv.log's mark of a forgotten node: nothing else counts. */
	if (strcmp(g, "gone") == 0) {
		r->gone = true;
		r->url = r->node_id = "";
		return NULL;
	}
	if (strcmp(g, "yes") != 0 && strcmp(g, "no") != 0 && *g)
		return "good is not yes or no";
	r->good = strcmp(g, "yes") == 0;
	if (time32(FIELD(C_LAST_CHECK), &r->h.last_check) < 0 ||
	    time32(FIELD(C_FIRST_SEEN), &r->h.first_seen) < 0 ||
	    time32(FIELD(C_LAST_SUCCESS), &r->h.last_success) < 0 ||
	    time32(FIELD(C_BANNED), &r->banned_until) < 0 ||
	    time32(FIELD(C_RUN_START), &r->h.run_start) < 0 ||
	    time32(FIELD(C_LAST_DOWN), &r->h.last_down) < 0)
		return "bad time";
	/* The prototype's report has no counts: one check, its result. */
	r->h.checks = r->h.last_check ? 1 : 0;
	r->h.successes = r->good ? r->h.checks : 0;
	if (*FIELD(C_CHECKS)) {
		if (parse_uint(FIELD(C_CHECKS), UINT32_MAX, &u) < 0)
			return "bad checks";
		r->h.checks = (uint32_t)u;
		r->h.successes = 0;
	}
	if (*FIELD(C_SUCCESSES)) {
		if (parse_uint(FIELD(C_SUCCESSES), r->h.checks, &u) < 0)
			return "bad successes";
		r->h.successes = (uint32_t)u;
	}
	double rel = r->good ? 1.0 : 0.0;
	if (*FIELD(C_RELIABILITY) && parse_num(FIELD(C_RELIABILITY), 1.0, &rel) < 0)
		return "bad reliability";
	const char *e = FIELD(C_LAST_ERROR);
	int err = node_error_parse(e);
	if (err < 0)
		return "bad last_error";
	r->last_error = (enum node_error)err;
	const char *d = FIELD(C_DIALECT);
	if (strcmp(d, "0.1") == 0)
		r->dialect = 1;
	else if (strcmp(d, "1.1") == 0)
		r->dialect = 2;
	else if (*d)
		return "bad dialect";
	for (int i = 0; i < 2 * HEALTH_WINDOWS; i++)
		if (col[C_WIN + i] < 0 || !*FIELD(C_WIN + i))
			have_win = false;
	for (int w = 0; w < HEALTH_WINDOWS; w++) {
		struct health_winv hw = { rel, 1.0 };
		if (have_win) {
			if (parse_num(FIELD(C_WIN + 2 * w), 1.0, &hw.r) < 0)
				return "bad window r";
			if (parse_num(FIELD(C_WIN + 2 * w + 1), 1.0, &hw.w) < 0)
				return "bad window w";
		}
		health_win_set(&r->h, w, hw);
	}
	/* Files without the model's columns: the last check tells whether it failed. */
	if (r->h.checks)
		r->h.fails = r->h.last_success ? r->h.last_success != r->h.last_check : !r->good;
	if (*FIELD(C_FAILS)) {
		if (parse_uint(FIELD(C_FAILS), UINT8_MAX, &u) < 0)
			return "bad fails";
		r->h.fails = (uint8_t)u;
	}
	if (col[C_RUN_START] < 0 && !r->h.fails)
		r->h.run_start = r->h.last_success ? r->h.last_success : r->h.last_check;
	r->node_id = FIELD(C_NODE_ID);
	r->url = FIELD(C_URL);
	r->url_default = *r->url && default_text(r->url, FIELD(C_IP), FIELD(C_PORT), r->addr.family);
	if (*r->url && !r->url_default) {
		struct url u2;
		if (url_parse(&u2, r->url, strlen(r->url), r->addr.port) < 0 || u2.port != r->addr.port)
			return "bad url";
	}
	return NULL;
#undef FIELD
}

int
nodescsv_parse(const char *buf, size_t len, uint16_t default_port, nodescsv_row_fn *row_fn,
               nodescsv_report_fn *report, void *ctx, char **other, size_t *other_len)
{
	return nodescsv_parse_net(buf, len, NODESCSV_NETWORK, default_port, row_fn, report, ctx, other, other_len);
}

int
nodescsv_parse_net(const char *buf, size_t len, const char *network, uint16_t default_port,
                   nodescsv_row_fn *row_fn, nodescsv_report_fn *report, void *ctx, char **other,
                   size_t *other_len)
{
	struct nodescsv_reader r;

	nodescsv_reader_init(&r, network, default_port);
	int rc = nodescsv_feed(&r, buf, len, row_fn, report, ctx);
	*other = r.other;
	*other_len = r.other_len;
	if (rc < 0) {
		free(r.other);
		*other = NULL;
		*other_len = 0;
	}
	return rc;
}

void
nodescsv_reader_init(struct nodescsv_reader *r, const char *network, uint16_t default_port)
{
	memset(r, 0, sizeof(*r));
	r->network = network;
	r->default_port = default_port;
}

int
nodescsv_feed(struct nodescsv_reader *r, const char *buf, size_t len, nodescsv_row_fn *row_fn,
              nodescsv_report_fn *report, void *ctx)
{
	static char line[CSV_LINE_MAX], raw[CSV_LINE_MAX + C_COUNT + 2];
	char *f[CSV_FIELDS_MAX];
	int *col = r->col, nf;
	struct csv c;

	_Static_assert(NODESCSV_COLS == C_COUNT, "nodescsv_reader's column map");
	if (memchr(buf, '\0', len))
		return -1;
	csv_init(&c, buf, len);
	if (!r->have_header) {
		nf = csv_next(&c, line, f);
		if (nf <= 0) {
			r->line += c.line;
			return nf == 0 ? 0 : -1;
		}
		for (int k = 0; k < C_COUNT; k++) {
			col[k] = -1;
			for (int i = 0; i < nf; i++)
				if (strcmp(f[i], col_names[k]) == 0 && col[k] < 0)
					col[k] = i;
		}
		if (col[C_IP] < 0)
			return -1;
		r->have_header = true;
	}
	for (;;) {
		nf = csv_next(&c, line, f);
		if (nf == 0)
			break;
		if (nf < 0) {
			report(ctx, r->line + c.line, "line too long or too many fields");
			continue;
		}
		const char *net = col[C_NETWORK] >= 0 && col[C_NETWORK] < nf ? f[col[C_NETWORK]] : "";
		/* A row without a network is the prototype's, so ours (infnote). */
		if (strcmp(*net ? net : NODESCSV_NETWORK, r->network) != 0) {
			if (r->drop_other)
				continue;
			/* Another network's row: kept, its fields put in our column order. */
			size_t n = 0;
			for (int k = 0; k < C_COUNT; k++) {
				const char *v = col[k] >= 0 && col[k] < nf ? f[col[k]] : "";
				size_t vl = strlen(v);
				if (sizeof(raw) - n < vl + 2)
					break;
				memcpy(raw + n, v, vl);
				n += vl;
				raw[n++] = k + 1 < C_COUNT ? ',' : '\n';
			}
			if (raw[n - 1] != '\n')
				continue; /* cannot be longer than the line it came from, but be sure */
			if (append(&r->other, &r->other_len, &r->other_cap, raw, n) < 0)
				return -2;
			continue;
		}
		struct nodescsv_row row;
		const char *why = parse_row(f, nf, col, r->default_port, &row);
		if (why) {
			report(ctx, r->line + c.line, why);
			continue;
		}
		row_fn(ctx, &row);
	}
	r->line += c.line;
	return 0;
}

/* A row: fixed fields (under 1,024 bytes), a URL (under a CSV line) and an id (at most 256). */
#define ROW_MAX (1024 + CSV_LINE_MAX + 256)

static char *
put_s(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/*
 * The reliability column: r1d to 3 decimals, taken from r1d as its column
 * says it (6 digits). A float keeps those digits, not the double the text
 * reads as, and "%.3f" of 0.9525 depends on the side of it a number lies:
 * a file read back must write the same column.
 */
static double
reliability(const struct health *h)
{
	char r1d[NUMFMT_MAX];
	double v;

	numfmt_g6(r1d, health_win_get(h, HEALTH_1D).r);
	if (numfmt_parse_simple(r1d, &v) < 0)
		v = strtod(r1d, NULL);
	return v;
}

/* ip is a's address as addr_ip_str writes it. */
static char *
put_default_url(char *p, const struct addr *a, const char *ip)
{
	p = put_s(p, a->family == AF_INET6 ? "ws://[" : "ws://");
	p = put_s(p, ip);
	p = put_s(p, a->family == AF_INET6 ? "]:" : ":");
	p = numfmt_u(p, a->port);
	*p++ = '/';
	*p = '\0';
	return p;
}

bool
nodescsv_url_is_default(const struct addr *a, const char *url)
{
	char ip[ADDR_STRLEN], def[ADDR_STRLEN + 16];

	addr_ip_str(a, ip, sizeof(ip));
	put_default_url(def, a, ip);
	return strcmp(url, def) == 0;
}

/* Node i's row into row (ROW_MAX bytes); its length. */
static size_t
format_row(char *row, const struct nodes *t, uint32_t i, const char *network, nodescsv_good_fn *good_fn,
           nodescsv_id_fn *id_fn, void *ctx)
{
	const struct node *n = &t->v[i];
	const struct health *h = &n->h;
	bool ws = strcmp(network, NODESCSV_NETWORK) == 0;
	char ip[ADDR_STRLEN], *p = row;

	/*
	 * Built by hand (numfmt.h): printf's floating point made this two
	 * seconds of the loop at 100,000 rows. Every field but the URL and
	 * the id is bounded; those two are checked.
	 */
	const char *url = nodes_url(t, i), *id = id_fn ? id_fn(ctx, (uint32_t)i) : "";
	size_t ul = url ? strlen(url) : 0, il = strlen(id);
	/* Cannot happen (a URL comes from a CSV line or url_format, an id is hex): stay in bounds anyway. */
	if (ul >= CSV_LINE_MAX)
		url = NULL;
	if (il > 256)
		il = 0;
	addr_ip_str(&n->addr, ip, sizeof(ip));
	p = put_s(p, ip);
	*p++ = ',';
	p = put_s(p, good_fn(ctx, n) ? "yes" : "no");
	*p++ = ',';
	p = numfmt_time(p, h->last_check);
	*p++ = ',';
	p = numfmt_u(p, n->addr.port);
	*p++ = ',';
	p = put_s(p, network);
	*p++ = ',';
	p = numfmt_time(p, h->first_seen);
	*p++ = ',';
	p = numfmt_time(p, h->last_success);
	*p++ = ',';
	p = numfmt_u(p, h->checks);
	*p++ = ',';
	p = numfmt_u(p, h->successes);
	*p++ = ',';
	p = numfmt_f3(p, reliability(h));
	*p++ = ',';
	p = put_s(p, node_error_name((enum node_error)n->last_error));
	*p++ = ',';
	p = put_s(p, n->dialect == 1 ? "0.1" : n->dialect == 2 ? "1.1" : "");
	*p++ = ',';
	p = numfmt_time(p, n->banned_until);
	for (int w = 0; w < HEALTH_WINDOWS; w++) {
		struct health_winv hw = health_win_get(h, w);
		*p++ = ',';
		p = numfmt_g6(p, hw.r);
		*p++ = ',';
		p = numfmt_g6(p, hw.w);
	}
	/* The URL checked: a host name or wss as learnt, else ws://address:port/. */
	*p++ = ',';
	if (ws && url != NULL) {
		memcpy(p, url, ul);
		p += ul;
	} else if (ws) {
		p = put_default_url(p, &n->addr, ip);
	}
	*p++ = ',';
	memcpy(p, id, il);
	p += il;
	*p++ = ',';
	p = numfmt_u(p, h->fails);
	*p++ = ',';
	p = numfmt_time(p, h->run_start);
	*p++ = ',';
	p = numfmt_time(p, h->last_down);
	*p++ = '\n';
	return (size_t)(p - row);
}

int
nodescsv_write_net(const struct nodes *t, const char *network, nodescsv_good_fn *good_fn, nodescsv_id_fn *id_fn,
                   void *ctx, nodescsv_out_fn *out, void *out_ctx)
{
	/* Pieces of at least NODESCSV_PIECE bytes (a row is at most ROW_MAX): no copy of the file is held. */
	char *buf = malloc(NODESCSV_PIECE + ROW_MAX);
	size_t len = strlen(header);

	if (buf == NULL)
		return -1;
	memcpy(buf, header, len);
	for (size_t i = 0; i < t->n; i++) {
		if (!(t->v[i].flags & NODE_USED))
			continue;
		len += format_row(buf + len, t, (uint32_t)i, network, good_fn, id_fn, ctx);
		if (len >= NODESCSV_PIECE) {
			if (out(out_ctx, buf, len) < 0) {
				free(buf);
				return -1;
			}
			len = 0;
		}
	}
	int rc = len > 0 ? out(out_ctx, buf, len) : 0;
	free(buf);
	return rc;
}

char *
nodescsv_format(const struct nodes *t, nodescsv_good_fn *good_fn, void *ctx,
                const char *other, size_t other_len, size_t *len)
{
	return nodescsv_format_net(t, NODESCSV_NETWORK, good_fn, NULL, ctx, other, other_len, len);
}

char *
nodescsv_format_net(const struct nodes *t, const char *network, nodescsv_good_fn *good_fn,
                    nodescsv_id_fn *id_fn, void *ctx, const char *other, size_t other_len, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (append(&buf, len, &cap, header, strlen(header)) < 0)
		goto oom;
	for (size_t i = 0; i < t->n; i++) {
		char row[ROW_MAX];
		if (!(t->v[i].flags & NODE_USED))
			continue;
		size_t rl = format_row(row, t, (uint32_t)i, network, good_fn, id_fn, ctx);
		if (append(&buf, len, &cap, row, rl) < 0)
			goto oom;
	}
	if (other_len && append(&buf, len, &cap, other, other_len) < 0)
		goto oom;
	return buf;
oom:
	free(buf);
	return NULL;
}

/* What nodescsv_format_changes gathers into. */
struct changes {
	const struct nodes *t;
	const char *network;
	nodescsv_good_fn *good_fn;
	nodescsv_id_fn *id_fn;
	void *ctx;
	char **buf;
	size_t *len, *cap;
	bool oom;
};

static void
change_gone(void *ctx, const struct addr *a)
{
	struct changes *c = ctx;
	char row[ADDR_STRLEN + 64], *p = row;

	addr_ip_str(a, p, ADDR_STRLEN);
	p += strlen(p);
	p = put_s(p, ",gone,,");
	p = numfmt_u(p, a->port);
	*p++ = ',';
	p = put_s(p, c->network);
	*p++ = '\n';
	if (!c->oom && append(c->buf, c->len, c->cap, row, (size_t)(p - row)) < 0)
		c->oom = true;
}

static void
change_node(void *ctx, uint32_t i)
{
	struct changes *c = ctx;
	char row[ROW_MAX];

	if (c->oom)
		return;
	size_t rl = format_row(row, c->t, i, c->network, c->good_fn, c->id_fn, c->ctx);
	if (append(c->buf, c->len, c->cap, row, rl) < 0)
		c->oom = true;
}

int
nodescsv_format_changes(struct nodes *t, const char *network, nodescsv_good_fn *good_fn, nodescsv_id_fn *id_fn,
                        void *ctx, char **buf, size_t *len, size_t *cap)
{
	struct changes c = { t, network, good_fn, id_fn, ctx, buf, len, cap, false };

	nodes_take_changes(t, change_gone, change_node, &c);
	return c.oom ? -1 : 0;
}

const char *
nodescsv_header(void)
{
	return header;
}

size_t
nodescsv_drop_network(char *rows, size_t len, const char *network)
{
	size_t in = 0, out = 0, nl = strlen(network);

	while (in < len) {
		const char *end = memchr(rows + in, '\n', len - in);
		size_t n = end ? (size_t)(end - (rows + in)) + 1 : len - in;
		/* Rows here are in our column order: network is the fifth field. */
		const char *f = rows + in;
		for (int k = 0; k < C_NETWORK && f; k++) {
			f = memchr(f, ',', (size_t)(rows + in + n - f));
			if (f)
				f++;
		}
		bool drop = f && (size_t)(rows + in + n - f) > nl && memcmp(f, network, nl) == 0 && f[nl] == ',';
		if (!drop) {
			memmove(rows + out, rows + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}
