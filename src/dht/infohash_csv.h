/*
 * ihcsv: infohashes.csv (SPEC 3), the DHT sniffer's record, read and
 * written in pieces so that a million rows never sit in memory as text.
 * Columns are found by header name (unknown ones ignored, missing counts
 * 0); a malformed row is skipped and reported by line number; a file with
 * no infohash column cannot be used (the caller sets it aside). Rows that
 * repeat an infohash are merged.
 */
#ifndef SEEDD_IHCSV_H
#define SEEDD_IHCSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/infohash.h"

#define IHCSV_FILE "infohashes.csv"
#define IHCSV_HEADER "infohash,first_seen,last_seen,get_peers,announces,samples,last_announcer\n"

typedef void ihcsv_report_fn(void *ctx, unsigned line, const char *why);

/* The state of one read: columns from the header, lines and rows so far. */
struct ihcsv_reader {
	int col[7];        /* field index of each known column, -1 absent */
	int have_header;
	unsigned line;
	uint32_t rows, skipped;
	bool replace;      /* a row for a known infohash replaces it (a change log), not adds to it */
};

void ihcsv_reader_init(struct ihcsv_reader *r);
/*
 * Feed whole lines (len bytes ending at a line end, or the file's end).
 * Returns 0, -1 when the header has no infohash column (unusable), -2 on
 * out of memory.
 */
int ihcsv_feed(struct ihcsv_reader *r, const char *p, size_t len, struct ih_table *t, struct rng *rng,
               ihcsv_report_fn *report, void *ctx);

/* Load NAME from dirfd: 0, 1 when absent, -1 unusable or unreadable (errno), -2 OOM. */
int ihcsv_load(int dirfd, const char *name, struct ih_table *t, struct rng *rng, ihcsv_report_fn *report,
               void *ctx, uint32_t *rows);
/* One row of e, ending in "\n", into out (at least IHCSV_ROW_MAX bytes); returns its length. */
#define IHCSV_ROW_MAX 192
size_t ihcsv_row(char *out, const struct ih_table *t, const struct ih_entry *e);
/* Write infohashes.csv atomically (snapshot rules): 0 or -1 with errno. */
int ihcsv_save(int dirfd, const struct ih_table *t);
/* The same into NAME.tmp already open as fd (snapshot_begin), committed at the end. */
int ihcsv_save_fd(int dirfd, int fd, const struct ih_table *t);

#endif
