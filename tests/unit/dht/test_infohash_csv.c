/*
 * ihcsv: infohashes.csv (SPEC 3): the row format byte for byte, save and
 * load round trip in a temporary directory, the snapshot's .old, columns
 * found by name, malformed rows skipped and reported by line number,
 * repeated rows merged, unusable files, a file of several read chunks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dht/infohash_csv.h"
#include "nodes/nodes_csv.h"
#include "t.h"
#include "dht/tdht.h"

static const struct siphash_key KEY = { 0x1111111122222222ULL, 0x3333333344444444ULL };

#define SPEC_H "5b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c"
#define SPEC_ROW SPEC_H ",2026-11-22 14:00:00,2026-11-22 14:30:10,14,2,1,198.51.100.7:51413\n"

struct rep {
	int n;
	unsigned line[32];
	const char *why[32];
};

static void
rep_fn(void *ctx, unsigned line, const char *why)
{
	struct rep *r = ctx;
	if (r->n < 32) {
		r->line[r->n] = line;
		r->why[r->n] = why;
	}
	r->n++;
}

static uint32_t
ut(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return (uint32_t)timegm(&tm);
}

static void
put(int dfd, const char *name, const char *s, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, s, len) != (ssize_t)len)
			fprintf(stderr, "short write\n");
		close(fd);
	}
}

static char *
get(int dfd, const char *name, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY);
	struct stat st;
	char *b = NULL;
	*len = 0;
	if (fd >= 0 && fstat(fd, &st) == 0 && (b = calloc(1, (size_t)st.st_size + 1)) &&
	    read(fd, b, (size_t)st.st_size) == st.st_size)
		*len = (size_t)st.st_size;
	if (fd >= 0)
		close(fd);
	return b;
}

static bool
same(int dfd, const char *name, const char *want)
{
	size_t len;
	char *b = get(dfd, name, &len);
	bool ok = b && len == strlen(want) && memcmp(b, want, len) == 0;
	free(b);
	return ok;
}

/* Write text as in.csv and load it into a fresh table (max 100000). */
static int
load(int dfd, const char *text, size_t len, struct ih_table *t, struct rep *r, uint32_t *rows)
{
	static struct rng rng;
	td_seed_rng(&rng, 9);
	memset(r, 0, sizeof(*r));
	ih_init(t, 100000, &KEY);
	put(dfd, "in.csv", text, len);
	return ihcsv_load(dfd, "in.csv", t, &rng, rep_fn, r, rows);
}
#define LOAD(text) load(dfd, text, strlen(text), &t, &r, &rows)

static struct ih_entry *
find_hex(const struct ih_table *t, const char *hex)
{
	uint8_t h[IH_LEN];
	return t_hex(hex, h, IH_LEN) == IH_LEN ? ih_find(t, h) : NULL;
}

static void
csv_row(void)
{
	struct ih_table t;
	struct rng rng;
	uint8_t h[IH_LEN];
	char row[IHCSV_ROW_MAX];
	size_t n;

	td_seed_rng(&rng, 5);
	ih_init(&t, 10, &KEY);
	t_hex(SPEC_H, h, IH_LEN);
	struct ih_entry *e = ih_get(&t, h, 0, &rng);
	e->first = ut(2026, 11, 22, 14, 0, 0);
	e->last = ut(2026, 11, 22, 14, 30, 10);
	e->get_peers = 14;
	e->announces = 2;
	e->samples = 1;
	struct addr a = td_ap("198.51.100.7:51413");
	ih_set_who(&t, e, &a);
	n = ihcsv_row(row, &t, e);
	CHECK("row: the SPEC example byte for byte", n == strlen(SPEC_ROW) && memcmp(row, SPEC_ROW, n) == 0);
	a = td_ap("[2001:db8::1]:6881");
	ih_set_who(&t, e, &a);
	n = ihcsv_row(row, &t, e);
	static const char row6[] = SPEC_H ",2026-11-22 14:00:00,2026-11-22 14:30:10,14,2,1,[2001:db8::1]:6881\n";
	CHECK("row: [v6]:port announcer", n == sizeof(row6) - 1 && memcmp(row, row6, n) == 0);
	const char *want = "abababababababababababababababababababab,2023-11-14 22:13:20,2023-11-14 22:13:21,"
	                   "4294967295,0,4294967295,\n";
	memset(h, 0xab, IH_LEN);
	e = ih_get(&t, h, 1700000000, &rng);
	e->last = 1700000001;
	e->get_peers = e->samples = UINT32_MAX;
	n = ihcsv_row(row, &t, e);
	CHECK("row: lowercase hex, 2^32-1 counts, empty announcer", n == strlen(want) && memcmp(row, want, n) == 0);
	CHECK("row: fits IHCSV_ROW_MAX with the longest v6", n < IHCSV_ROW_MAX);
	/* A first_seen of 0 (a loaded row with no first_seen) must not put garbage or NUL in the file. */
	memset(h, 0x01, IH_LEN);
	e = ih_get(&t, h, 0, &rng);
	e->last = 1700000000;
	e->announces = 1;
	memset(row, 'X', sizeof(row));
	n = ihcsv_row(row, &t, e);
	/* A time of 0 is an empty field (once a bug: NUL and stack bytes went into the row). */
	CHECK("row: first_seen 0 is an empty field, no NUL", n > 0 && !memchr(row, '\0', n) &&
	                                                          memcmp(row + 40, ",,2023-11-14 22:13:20,0,1,0,\n", 29) == 0);
	ih_free(&t);
}

static void
csv_files(int dfd)
{
	struct ih_table t, s;
	struct rep r;
	struct rng rng;
	uint32_t rows;
	uint8_t h[IH_LEN];
	size_t len;

	/* Save three entries, check the file, load them back. */
	td_seed_rng(&rng, 6);
	ih_init(&s, 10, &KEY);
	const char *hx[3] = { SPEC_H, "00112233445566778899aabbccddeeff00112233", "ffffffffffffffffffffffffffffffffffffffff" };
	const char *who_s[3] = { "198.51.100.7:51413", "[2001:db8::5]:1", NULL };
	for (int i = 0; i < 3; i++) {
		t_hex(hx[i], h, IH_LEN);
		struct ih_entry *e = ih_get(&s, h, ut(2026, 1, 1 + i, 0, 0, 0), &rng);
		e->last = ut(2026, 2, 1 + i, 12, 34, 56);
		e->get_peers = (uint32_t)i;
		e->announces = (uint32_t)(10 * i + 1);
		e->samples = 7;
		if (who_s[i]) {
			struct addr a = td_ap(who_s[i]);
			ih_set_who(&s, e, &a);
		}
	}
	const char *file1 = IHCSV_HEADER
		SPEC_H ",2026-01-01 00:00:00,2026-02-01 12:34:56,0,1,7,198.51.100.7:51413\n"
		"00112233445566778899aabbccddeeff00112233,2026-01-02 00:00:00,2026-02-02 12:34:56,1,11,7,[2001:db8::5]:1\n"
		"ffffffffffffffffffffffffffffffffffffffff,2026-01-03 00:00:00,2026-02-03 12:34:56,2,21,7,\n";
	CHECK("save", ihcsv_save(dfd, &s) == 0);
	CHECK("saved file byte for byte", same(dfd, IHCSV_FILE, file1));
	CHECK("first save: no .old, no .tmp", faccessat(dfd, IHCSV_FILE ".old", F_OK, 0) < 0 &&
	                                         faccessat(dfd, IHCSV_FILE ".tmp", F_OK, 0) < 0);
	ih_init(&t, 100, &KEY);
	CHECK("load back", ihcsv_load(dfd, IHCSV_FILE, &t, &rng, NULL, NULL, &rows) == 0 && rows == 3 && t.n == 3);
	bool ok = true;
	for (uint32_t i = 0; i < 3; i++) {
		const struct ih_entry *a = &s.v[i], *b = ih_find(&t, a->h);
		struct addr wa, wb;
		bool ha = ih_who(&s, a, &wa);
		ok &= b && a->first == b->first && a->last == b->last && a->get_peers == b->get_peers &&
		      a->announces == b->announces && a->samples == b->samples && ha == ih_who(&t, b, &wb) &&
		      (!ha || td_addr_eq(&wa, &wb));
	}
	CHECK("round trip: every field", ok);
	ih_free(&t);
	s.v[0].get_peers = 99;
	CHECK("second save", ihcsv_save(dfd, &s) == 0);
	CHECK("second save: .old is the first file", same(dfd, IHCSV_FILE ".old", file1));
	char *now = get(dfd, IHCSV_FILE, &len);
	CHECK("second save: new content", now && strstr(now, ",99,1,7,198.51.100.7:51413\n") != NULL);
	ihcsv_save(dfd, &s);
	CHECK("third save: .old is the second file", now && same(dfd, IHCSV_FILE ".old", now));
	free(now);
	ih_free(&s);

	/* An empty table: the header alone, and it loads. */
	ih_init(&s, 10, &KEY);
	ihcsv_save(dfd, &s);
	CHECK("empty table: header only", same(dfd, IHCSV_FILE, IHCSV_HEADER));
	ih_free(&s);
	CHECK("header only loads, no rows", LOAD(IHCSV_HEADER) == 0 && rows == 0 && t.n == 0 && r.n == 0);
	ih_free(&t);

	/* Columns by name, in any order, unknown ones ignored; spaces, CRLF and upper case tolerated. */
	CHECK("columns in another order",
	      LOAD("samples,foo,last_announcer,infohash,announces,last_seen,bar,get_peers,first_seen\r\n"
	           "3,x, [2001:db8::9]:80 ," SPEC_H ",2,2026-11-22 14:30:10,y,1,2026-11-22 14:00:00\r\n"
	           "0,x,,5B5F3C0FD0D7B3B6EA5BBEA8E0C8B3B16A1B2F3D,0,,y,4,\r\n") == 0 && rows == 2 && r.n == 0);
	struct ih_entry *e = find_hex(&t, SPEC_H);
	struct addr w, want6 = td_ap("[2001:db8::9]:80");
	CHECK("... every field in place", e && e->samples == 3 && e->announces == 2 && e->get_peers == 1 &&
	                                      e->first == ut(2026, 11, 22, 14, 0, 0) &&
	                                      e->last == ut(2026, 11, 22, 14, 30, 10) && ih_who(&t, e, &w) &&
	                                      td_addr_eq(&w, &want6));
	e = find_hex(&t, "5b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3d");
	CHECK("... upper-case hex, empty fields are 0", e && e->get_peers == 4 && !e->samples && !e->announces &&
	                                                    !ih_who(&t, e, &w));
	ih_free(&t);
	CHECK("missing columns default", LOAD("infohash,announces\n" SPEC_H ",5\n") == 0 && rows == 1 &&
	                                    (e = find_hex(&t, SPEC_H)) && e->announces == 5 && !e->get_peers);
	/* What was loaded is saved and loads again (the next start). */
	ih_init(&s, 10, &KEY);
	CHECK("... saved again", ihcsv_save(dfd, &t) == 0);
	/* The row has no times (first = last = 0): the saved file must still load. */
	CHECK("... and that file loads", ihcsv_load(dfd, IHCSV_FILE, &s, &rng, NULL, NULL, &rows) == 0 && rows == 1);
	ih_free(&s);
	ih_free(&t);

	/* Malformed rows: skipped, reported with their line numbers (a blank line counts). */
	const char *bad = IHCSV_HEADER
		SPEC_H ",2026-11-22 14:00:00,2026-11-22 14:30:10,14,2,1,198.51.100.7:51413\n"  /* 2 good */
		"5b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3g,,,1,0,0,\n"                       /* 3 not hex */
		"5b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3,,,1,0,0,\n"                        /* 4 39 chars */
		"1b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,2026-11-22T14:00:00,,1,0,0,\n"    /* 5 bad time */
		"2b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,,,1x,0,0,\n"                      /* 6 bad count */
		"3b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,,,0,4294967296,0,\n"              /* 7 > 2^32-1 */
		"4b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,,,1,0,0,198.51.100.7\n"           /* 8 no port */
		"\n"                                                                         /* 9 blank */
		"6b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,,,1,0,0,198.51.100.7:0\n"         /* 10 port 0 */
		"7b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,,,4294967295,0,0,[2001:db8::1]:9\n" /* 11 good */
		"8b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,2026-11-22 14:00:00,2026-11-22 13:00:00,1,0,0,\n" /* 12 */
		"9b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c0,,,1,0,0,\n"                      /* 13 41 chars */
		"ab5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,,,1,0,0,no-such-host:80\n"        /* 14 */
		"bb5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c,,,-1,0,0,\n";                     /* 15 negative */
	static const unsigned want_lines[] = { 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15 };
	static const char *const want_word[] = { "hex", "hex", "time", "count", "count", "announcer", "announcer",
		                                 "before", "hex", "announcer", "count" };
	CHECK("malformed rows: file still loads", LOAD(bad) == 0 && rows == 2 && t.n == 2);
	ok = r.n == 11;
	for (int i = 0; ok && i < 11; i++)
		ok = r.line[i] == want_lines[i] && strstr(r.why[i], want_word[i]) != NULL;
	CHECK("malformed rows: 11 reports, right lines and reasons", ok);
	CHECK("good rows kept", find_hex(&t, SPEC_H) &&
	                            (e = find_hex(&t, "7b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c")) &&
	                            e->get_peers == UINT32_MAX && e->who_family == 6);
	ih_free(&t);

	/* Repeated infohash: one entry, counts added, widest time span. */
	CHECK("duplicates merged", LOAD(IHCSV_HEADER
	      SPEC_H ",2026-11-22 10:00:00,2026-11-22 11:00:00,2,1,0,198.51.100.7:1\n"
	      SPEC_H ",2026-11-22 09:00:00,2026-11-22 10:30:00,3,0,4,198.51.100.8:2\n") == 0 && rows == 2 && t.n == 1);
	e = find_hex(&t, SPEC_H);
	CHECK("... counts summed, first = min, last = max", e && e->get_peers == 5 && e->announces == 1 &&
	      e->samples == 4 && e->first == ut(2026, 11, 22, 9, 0, 0) && e->last == ut(2026, 11, 22, 11, 0, 0));
	ih_free(&t);
	LOAD(IHCSV_HEADER SPEC_H ",2026-11-22 10:00:00,2026-11-22 11:00:00,0,0,0,\n"
	     SPEC_H ",2026-11-22 12:00:00,2026-11-22 13:00:00,1,0,0,\n");
	e = find_hex(&t, SPEC_H);
	/* A repeated row keeps the earliest first_seen, even after a row with no counts. */
	CHECK("duplicates after an all-zero row keep the earliest first_seen",
	      e && e->get_peers == 1 && e->first == ut(2026, 11, 22, 10, 0, 0) && e->last == ut(2026, 11, 22, 13, 0, 0));
	ih_free(&t);

	/* Unusable files. */
	CHECK("no infohash column: -1", LOAD("first_seen,last_seen\n2026-11-22 10:00:00,\n") == -1);
	ih_free(&t);
	CHECK("empty file: -1", LOAD("") == -1);
	ih_free(&t);
	ih_init(&t, 10, &KEY);
	CHECK("absent file: 1", ihcsv_load(dfd, "nope.csv", &t, &rng, rep_fn, &r, &rows) == 1 && rows == 0);
	ih_free(&t);
	const char nul[] = IHCSV_HEADER SPEC_H ",,,1,0,0,\n\0\n";
	CHECK("NUL byte: -1", load(dfd, nul, sizeof(nul) - 1, &t, &r, &rows) == -1);
	ih_free(&t);
	CHECK("no final newline: last row read", LOAD(IHCSV_HEADER SPEC_H ",,,6,0,0,") == 0 && rows == 1 &&
	                                             (e = find_hex(&t, SPEC_H)) && e->get_peers == 6);
	ih_free(&t);
}

/* 20,000 rows (over 2 MiB: three read chunks), one bad row deep inside. */
static void
csv_big(int dfd)
{
	struct ih_table t;
	struct rep r;
	uint32_t rows;
	size_t cap = 8u << 20, len = 0;
	char *buf = malloc(cap), gp[16];
	uint8_t h[IH_LEN];

	len += (size_t)snprintf(buf, cap, "%s", IHCSV_HEADER);
	for (uint32_t i = 0; i < 20000; i++) {
		td_mkh(i, h);
		for (int k = 0; k < IH_LEN; k++)
			len += (size_t)snprintf(buf + len, cap - len, "%02x", h[k]);
		/* Row i is line i + 2; line 15001 has a bad count. */
		snprintf(gp, sizeof(gp), i + 2 == 15001 ? "x%u" : "%u", i);
		len += (size_t)snprintf(buf + len, cap - len,
		                        ",2025-06-01 00:00:00,2025-06-02 00:00:00,%s,0,1,[2001:db8::%x]:%u\n", gp, i,
		                        1 + i % 60000);
	}
	CHECK("big file is over 2 MiB", len > (2u << 20));
	CHECK("big file loads", load(dfd, buf, len, &t, &r, &rows) == 0);
	CHECK("big file: 19,999 rows, one report at line 15001",
	      rows == 19999 && t.n == 19999 && r.n == 1 && r.line[0] == 15001);
	bool ok = true;
	for (uint32_t i = 0; i < 20000; i++) {
		td_mkh(i, h);
		const struct ih_entry *e = ih_find(&t, h);
		struct addr w;
		ok &= i + 2 == 15001 ? e == NULL
		                     : e && e->get_peers == i && e->samples == 1 && ih_who(&t, e, &w) && w.port == 1 + i % 60000;
	}
	CHECK("big file: every row in the table", ok);
	ih_free(&t);
	/* A NUL far into the file (in the third chunk): still refused. */
	buf[len - 10] = '\0';
	CHECK("NUL in a late chunk: -1", load(dfd, buf, len, &t, &r, &rows) == -1);
	ih_free(&t);
	free(buf);
}

/* Our own date arithmetic in rows agrees with gmtime (via nodescsv_time_str) everywhere. */
static void
csv_times(void)
{
	struct ih_table t;
	struct rng r;
	char row[IHCSV_ROW_MAX], want[20];
	int bad = 0;

	td_seed_rng(&r, 9);
	ih_init(&t, 4, &KEY);
	uint8_t h[IH_LEN] = { 1 };
	struct ih_entry *e = ih_get(&t, h, 1, &r);
	static const uint32_t fixed[] = { 1, 59, 86399, 86400, 951782400, 951868800, 4107542399u, UINT32_MAX };
	for (int k = 0; k < 20000 && e; k++) {
		uint32_t v = k < 8 ? fixed[k] : rng_u32(&r) | 1;
		e->first = e->last = v;
		ihcsv_row(row, &t, e);
		nodescsv_time_str(v, want);
		if (memcmp(row + 41, want, 19) != 0 || row[60] != ',' || memcmp(row + 61, want, 19) != 0)
			bad++;
	}
	CHECK("row times agree with gmtime over 20,000 times (leap days, 2100, 2106)", e && bad == 0);
	ih_free(&t);
}

/* A change log's rows replace the entry; a file's repeated rows add up. */
static void
csv_replace(void)
{
	struct ih_table t;
	struct rng rng;
	struct ihcsv_reader r;
	static const struct siphash_key key = { 1, 2 };
	const char *base = IHCSV_HEADER
	    "0123456789abcdef0123456789abcdef01234567,2026-11-22 14:00:00,2026-11-22 15:00:00,5,2,1,10.0.0.1:6881\n";
	const char *log = IHCSV_HEADER
	    "0123456789abcdef0123456789abcdef01234567,2026-11-22 14:00:00,2026-11-22 16:00:00,7,0,1,10.0.0.1:6881\n"
	    "0123456789abcdef0123456789abcdef01234567,2026-11-22 14:00:00,2026-11-22 17:00:00,9,0,2,10.0.0.2:6881\n";
	char row[IHCSV_ROW_MAX];

	td_seed_rng(&rng, 3);
	ih_init(&t, 100, &key);
	ihcsv_reader_init(&r);
	ihcsv_feed(&r, base, strlen(base), &t, &rng, NULL, NULL);
	ihcsv_reader_init(&r);
	r.replace = true;
	CHECK("replay", ihcsv_feed(&r, log, strlen(log), &t, &rng, NULL, NULL) == 0 && r.rows == 2 && t.n == 1);
	struct ih_entry *e = &t.v[0];
	size_t n = ihcsv_row(row, &t, e);
	row[n] = '\0';
	CHECK("the last log row is the entry, byte for byte", strcmp(row,
	      "0123456789abcdef0123456789abcdef01234567,2026-11-22 14:00:00,2026-11-22 17:00:00,9,0,2,10.0.0.2:6881\n") == 0);
	CHECK("announced count follows a replaced 0", t.announced == 0);
	ih_free(&t);
}

void
test_ihcsv(void)
{
	csv_times();
	csv_replace();
	char path[] = "/tmp/seedd-ihcsv-XXXXXX";
	int dfd;

	csv_row();
	if (!mkdtemp(path) || (dfd = open(path, O_RDONLY | O_DIRECTORY)) < 0) {
		CHECK("temporary directory", 0);
		return;
	}
	csv_files(dfd);
	csv_big(dfd);
	DIR *dir = fdopendir(dfd);
	struct dirent *de;
	while (dir && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			unlinkat(dfd, de->d_name, 0);
	if (dir)
		closedir(dir);
	CHECK("temporary directory removed", rmdir(path) == 0);
}
