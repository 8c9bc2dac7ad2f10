#include "dht/infohash_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/csv.h"
#include "nodes/nodes_csv.h"
#include "base/snapshot.h"

enum { C_IH, C_FIRST, C_LAST, C_GP, C_ANN, C_SAMPLES, C_WHO, C_N };
static const char *const col_name[C_N] = {
	"infohash", "first_seen", "last_seen", "get_peers", "announces", "samples", "last_announcer",
};

#define CHUNK (1u << 20)

void
ihcsv_reader_init(struct ihcsv_reader *r)
{
	memset(r, 0, sizeof(*r));
	for (int k = 0; k < C_N; k++)
		r->col[k] = -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
parse_count(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0') {
		*out = 0;
		return 0;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
parse_time(const char *s, uint32_t *out)
{
	int64_t t;

	if (nodescsv_time_parse(s, &t) < 0 || t < 0 || t > (int64_t)UINT32_MAX)
		return -1;
	*out = (uint32_t)t;
	return 0;
}

struct row {
	uint8_t h[IH_LEN];
	uint32_t first, last, gp, ann, samples;
	struct addr who;
	int have_who;
};

static const char *
parse_row(const struct ihcsv_reader *r, char **f, int nf, struct row *w)
{
#define FIELD(k) (r->col[k] >= 0 && r->col[k] < nf ? f[r->col[k]] : "")
	const char *ih = FIELD(C_IH);

	memset(w, 0, sizeof(*w));
	if (strlen(ih) != 2 * IH_LEN)
		return "infohash is not 40 hex digits";
	for (int i = 0; i < IH_LEN; i++) {
		int hi = hexval(ih[2 * i]), lo = hexval(ih[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return "infohash is not 40 hex digits";
		w->h[i] = (uint8_t)(hi << 4 | lo);
	}
	if (parse_time(FIELD(C_FIRST), &w->first) < 0 || parse_time(FIELD(C_LAST), &w->last) < 0)
		return "bad time";
	if (parse_count(FIELD(C_GP), &w->gp) < 0 || parse_count(FIELD(C_ANN), &w->ann) < 0 ||
	    parse_count(FIELD(C_SAMPLES), &w->samples) < 0)
		return "bad count";
	if (*FIELD(C_WHO)) {
		if (addr_parse_hostport(&w->who, FIELD(C_WHO), 0) < 0 || w->who.port == 0)
			return "bad last_announcer";
		w->have_who = 1;
	}
	if (w->first && w->last && w->last < w->first)
		return "last_seen before first_seen";
	return NULL;
#undef FIELD
}

static uint32_t
sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

int
ihcsv_feed(struct ihcsv_reader *r, const char *p, size_t len, struct ih_table *t, struct rng *rng,
           ihcsv_report_fn *report, void *ctx)
{
	struct csv c;
	char buf[CSV_LINE_MAX], *f[CSV_FIELDS_MAX];
	int nf;

	csv_init(&c, p, len);
	while ((nf = csv_next(&c, buf, f)) != 0) {
		unsigned line = r->line + c.line;
		if (!r->have_header) {
			if (nf < 0)
				return -1;
			for (int i = 0; i < nf; i++)
				for (int k = 0; k < C_N; k++)
					if (r->col[k] < 0 && strcmp(f[i], col_name[k]) == 0)
						r->col[k] = i;
			if (r->col[C_IH] < 0)
				return -1;
			r->have_header = 1;
			continue;
		}
		struct row w;
		const char *why = nf < 0 ? "line too long" : parse_row(r, f, nf, &w);
		if (why) {
			r->skipped++;
			if (report)
				report(ctx, line, why);
			continue;
		}
		uint32_t now = w.last ? w.last : w.first, n0 = t->n;
		uint64_t ev0 = t->evicted;
		struct ih_entry *e = ih_get(t, w.h, now, rng);
		if (!e)
			return -2;
		bool fresh = t->n != n0 || t->evicted != ev0;
		if (r->replace && !fresh) {
			/* A change log's row is the entry's whole state at that time. */
			e->first = w.first;
			e->last = w.last;
			e->get_peers = w.gp;
			ih_set_announces(t, e, w.ann);
			e->samples = w.samples;
			if (w.have_who && !ih_set_who(t, e, &w.who))
				return -2;
			r->rows++;
			continue;
		}
		/* A repeated row adds to the first one. */
		if (fresh || (w.first && w.first < e->first))
			e->first = w.first;
		if (fresh || w.last > e->last)
			e->last = w.last;
		e->get_peers = sat_add(e->get_peers, w.gp);
		ih_add_announces(t, e, w.ann);
		e->samples = sat_add(e->samples, w.samples);
		if (w.have_who && !ih_set_who(t, e, &w.who))
			return -2;
		r->rows++;
	}
	r->line += c.line;
	return 0;
}

int
ihcsv_load(int dirfd, const char *name, struct ih_table *t, struct rng *rng, ihcsv_report_fn *report,
           void *ctx, uint32_t *rows)
{
	struct ihcsv_reader r;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t have = 0;
	int rc = 0;

	*rows = 0;
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	buf = malloc(CHUNK);
	if (!buf) {
		close(fd);
		return -2;
	}
	ihcsv_reader_init(&r);
	for (;;) {
		ssize_t n = read(fd, buf + have, CHUNK - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		have += (size_t)n;
		if (memchr(buf + have - (size_t)n, '\0', (size_t)n)) {
			errno = EINVAL; /* not a text file */
			rc = -1;
			break;
		}
		/* Whole lines only; at the end, whatever is left. */
		size_t use = have;
		if (n > 0) {
			const char *nl = NULL;
			for (size_t i = have; i > 0; i--)
				if (buf[i - 1] == '\n') {
					nl = buf + i;
					break;
				}
			if (!nl && have < CHUNK)
				continue;
			/* A line longer than the chunk: feed it whole (it is reported as too long). */
			use = nl ? (size_t)(nl - buf) : have;
		}
		rc = ihcsv_feed(&r, buf, use, t, rng, report, ctx);
		if (rc < 0)
			break;
		/* csv_next counts the lines it saw; a cut inside a line must not count it twice. */
		memmove(buf, buf + use, have - use);
		have -= use;
		if (n == 0)
			break;
	}
	if (rc == 0 && !r.have_header) {
		errno = EINVAL;
		rc = -1; /* empty or headerless */
	}
	free(buf);
	close(fd);
	*rows = r.rows;
	return rc;
}

static char *
put_u32(char *p, uint32_t v)
{
	char tmp[10];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* "YYYY-MM-DD HH:MM:SS" of unix time t (not 0) without gmtime: a million rows are written at a time. */
static char *
put_time(char *p, uint32_t t)
{
	/* Rows share days: the date part of the last few days is kept. */
	static struct {
		uint32_t day;
		char s[11];
	} memo[64];
	uint32_t day = t / 86400 + 1, sec = t % 86400;
	if (memo[day % 64].day == day) {
		memcpy(p, memo[day % 64].s, 11);
		p += 11;
		*p++ = (char)('0' + sec / 36000);
		*p++ = (char)('0' + sec / 3600 % 10);
		*p++ = ':';
		*p++ = (char)('0' + sec / 60 % 60 / 10);
		*p++ = (char)('0' + sec / 60 % 10);
		*p++ = ':';
		*p++ = (char)('0' + sec % 60 / 10);
		*p++ = (char)('0' + sec % 10);
		return p;
	}
	char *start = p;
	/* Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted). */
	uint32_t days = t / 86400;
	uint32_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint32_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint32_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	uint32_t v[6] = { y + (m <= 2), m, d, sec / 3600, sec / 60 % 60, sec % 60 };
	static const char sep[6] = { '-', '-', ' ', ':', ':', 0 };

	for (int i = 0; i < 6; i++) {
		if (i == 0) {
			for (int k = 3; k >= 0; k--, v[0] /= 10)
				p[k] = (char)('0' + v[0] % 10);
			p += 4;
		} else {
			*p++ = (char)('0' + v[i] / 10);
			*p++ = (char)('0' + v[i] % 10);
		}
		if (sep[i])
			*p++ = sep[i];
	}
	memo[day % 64].day = day;
	memcpy(memo[day % 64].s, start, 11);
	return p;
}

size_t
ihcsv_row(char *out, const struct ih_table *t, const struct ih_entry *e)
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;
	struct addr who;

	for (int i = 0; i < IH_LEN; i++) {
		*p++ = hex[e->h[i] >> 4];
		*p++ = hex[e->h[i] & 15];
	}
	*p++ = ',';
	/* A time of 0 (unknown, from a hand-made file) is an empty field. */
	if (e->first)
		p = put_time(p, e->first);
	*p++ = ',';
	if (e->last)
		p = put_time(p, e->last);
	*p++ = ',';
	p = put_u32(p, e->get_peers);
	*p++ = ',';
	p = put_u32(p, e->announces);
	*p++ = ',';
	p = put_u32(p, e->samples);
	*p++ = ',';
	if (ih_who(t, e, &who)) {
		if (who.family == AF_INET) {
			/* By hand: snprintf was half the time of writing a million rows. */
			for (int i = 0; i < 4; i++) {
				p = put_u32(p, who.ip[i]);
				*p++ = i < 3 ? '.' : ':';
			}
			p = put_u32(p, who.port);
		} else {
			addr_str(&who, p, ADDR_STRLEN);
			p += strlen(p);
		}
	}
	*p++ = '\n';
	return (size_t)(p - out);
}

int
ihcsv_save(int dirfd, const struct ih_table *t)
{
	int fd = snapshot_begin(dirfd, IHCSV_FILE);

	if (fd < 0)
		return -1;
	return ihcsv_save_fd(dirfd, fd, t);
}

int
ihcsv_save_fd(int dirfd, int fd, const struct ih_table *t)
{
	char *buf;
	size_t len;

	buf = malloc(CHUNK);
	if (!buf) {
		snapshot_abort(dirfd, IHCSV_FILE, fd);
		errno = ENOMEM;
		return -1;
	}
	len = strlen(IHCSV_HEADER);
	memcpy(buf, IHCSV_HEADER, len);
	for (uint32_t i = 0; i <= t->n; i++) {
		if (i == t->n || len + IHCSV_ROW_MAX > CHUNK) {
			if (snapshot_put(fd, buf, len) < 0) {
				free(buf);
				snapshot_abort(dirfd, IHCSV_FILE, fd);
				return -1;
			}
			len = 0;
		}
		if (i < t->n)
			len += ihcsv_row(buf + len, t, &t->v[i]);
	}
	free(buf);
	return snapshot_commit(dirfd, IHCSV_FILE, fd);
}
