/*
 * nodes_file: reading nodes.csv a slice at a time, and its change log's
 * rows at start. (The write path is base/logfile.c's.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/snapshot.h"
#include "nodes/nodes_csv.h"
#include "nodes/nodes_file.h"

void
nodes_file_read_log(int dirfd, dev_t dev, ino_t ino, const char *who, struct changelog_replay *r)
{
	if (changelog_read(dirfd, NODESCSV_FILE, dev, ino, r) < 0) {
		log_error(who, "msg=\"cannot read\" file=%s error=\"%s\"", NODESFILE_LOG, strerror(errno));
		memset(r, 0, sizeof(*r));
		return;
	}
	if (r->stale)
		log_warn(who, "msg=\"log of another version of the file skipped\" file=%s", NODESFILE_LOG);
	if (r->torn)
		log_warn(who, "msg=\"torn tail dropped\" file=%s batches=%u", NODESFILE_LOG, r->batches);
}

int
nodes_file_replay(const struct changelog_replay *r, const char *network, uint16_t default_port,
                  nodescsv_row_fn *row_fn, nodescsv_report_fn *report, void *ctx)
{
	struct nodescsv_reader rd;
	const char *h = nodescsv_header();

	if (r->len == 0)
		return 0;
	/* The log's rows are in our column order, under no header of their own. */
	nodescsv_reader_init(&rd, network, default_port);
	rd.drop_other = true;
	int rc = nodescsv_feed(&rd, h, strlen(h), row_fn, report, ctx);
	if (rc == 0) {
		rd.line = 0; /* line numbers of the rows themselves */
		rc = nodescsv_feed(&rd, r->rows, r->len, row_fn, report, ctx);
	}
	return rc;
}

int
nodes_file_read_slice(int fd, struct nodes_slice *sl, struct nodescsv_reader *rd, nodescsv_row_fn *row_fn,
                      nodescsv_report_fn *report, void *ctx)
{
	if (!sl->buf && !(sl->buf = malloc(NODESFILE_SLICE)))
		return -2;
	ssize_t n = read(fd, sl->buf + sl->have, NODESFILE_SLICE - sl->have);
	if (n < 0)
		return errno == EINTR ? 1 : -3;
	sl->have += (size_t)n;
	/* Whole lines only; at the end, whatever is left; a line longer than a slice is fed whole (and reported). */
	size_t use = sl->have;
	if (n > 0) {
		while (use > 0 && sl->buf[use - 1] != '\n')
			use--;
		if (use == 0 && sl->have == NODESFILE_SLICE)
			use = sl->have;
	}
	int rc = use ? nodescsv_feed(rd, sl->buf, use, row_fn, report, ctx) : 0;
	memmove(sl->buf, sl->buf + use, sl->have - use);
	sl->have -= use;
	if (rc < 0)
		return rc;
	return n > 0;
}

