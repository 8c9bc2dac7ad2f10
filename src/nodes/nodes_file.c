/*
 * nodes_file: the change log's bookkeeping for nodes.csv. The whole write
 * happens in the loop (nodes.csv is a few megabytes where infohashes.csv
 * is a hundred), so the compaction's two-log window lasts one call; the
 * protocol still covers a crash inside it.
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
nodes_file_init(struct nodes_file *f, int dirfd)
{
	memset(f, 0, sizeof(*f));
	f->dirfd = dirfd;
	f->log.fd = f->log.next_fd = -1;
	f->whole = true;
}

void
nodes_file_close(struct nodes_file *f)
{
	if (f->log.fd >= 0 || f->log.next_fd >= 0)
		changelog_close(&f->log);
	f->log.fd = f->log.next_fd = -1;
}

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

void
nodes_file_open(struct nodes_file *f, dev_t dev, ino_t ino, uint64_t size, const struct changelog_replay *r,
                const char *who)
{
	f->base_size = size;
	if (changelog_open(&f->log, f->dirfd, NODESCSV_FILE, dev, ino, r) < 0) {
		log_error(who, "msg=\"cannot open\" file=%s error=\"%s\"", NODESFILE_LOG, strerror(errno));
		f->log.fd = f->log.next_fd = -1;
		f->whole = true;
		return;
	}
	f->whole = false;
}

bool
nodes_file_whole_due(const struct nodes_file *f)
{
	uint64_t limit = f->base_size / 2 > NODESFILE_COMPACT_MIN ? f->base_size / 2 : NODESFILE_COMPACT_MIN;

	return f->whole || f->log.fd < 0 || f->log.size > limit;
}

int
nodes_file_append(struct nodes_file *f, const char *rows, size_t len)
{
	if (len == 0)
		return 0;
	if (f->log.fd < 0 || changelog_append(&f->log, rows, len) < 0) {
		/* Those rows are in no file now: the next write is whole. */
		f->whole = true;
		if (f->log.fd < 0)
			errno = EBADF;
		return -1;
	}
	f->batches++;
	return 0;
}

int
nodes_file_write(struct nodes_file *f, const char *buf, size_t len)
{
	struct stat st;
	int fd = snapshot_begin(f->dirfd, NODESCSV_FILE);

	f->whole = true; /* until this write and its log are in place */
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (f->log.fd >= 0 && changelog_compact_begin(&f->log, st.st_dev, st.st_ino) < 0) ||
	    snapshot_put(fd, buf, len) < 0) {
		int e = errno;
		if (f->log.next_fd >= 0)
			changelog_compact_abort(&f->log);
		snapshot_abort(f->dirfd, NODESCSV_FILE, fd);
		errno = e;
		return -1;
	}
	if (snapshot_commit(f->dirfd, NODESCSV_FILE, fd) < 0) {
		int e = errno;
		if (f->log.next_fd >= 0)
			changelog_compact_abort(&f->log);
		errno = e;
		return -1;
	}
	f->base_size = len;
	f->compactions++;
	/* nodes.csv is whole and current: the old log (if any) gives way to the new one. */
	int rc = f->log.next_fd >= 0 ? changelog_compact_done(&f->log) :
	         changelog_open(&f->log, f->dirfd, NODESCSV_FILE, st.st_dev, st.st_ino, NULL);
	if (rc < 0) {
		int e = errno;
		nodes_file_close(f); /* that log names the old file: a restart would skip it */
		errno = e;
		return -1;
	}
	f->whole = false;
	return 0;
}
