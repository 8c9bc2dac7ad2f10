/*
 * logfile: the change log's bookkeeping for a file written in the loop.
 * The compaction's two-log window lasts one call; the protocol still
 * covers a crash inside it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/logfile.h"
#include "base/snapshot.h"

void
logfile_init(struct logfile *f, int dirfd, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->dirfd = dirfd;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->log.fd = f->log.next_fd = -1;
	f->whole = true;
}

void
logfile_close(struct logfile *f)
{
	if (f->log.fd >= 0 || f->log.next_fd >= 0)
		changelog_close(&f->log);
	f->log.fd = f->log.next_fd = -1;
}

void
logfile_open(struct logfile *f, dev_t dev, ino_t ino, uint64_t size, const struct changelog_replay *r,
              const char *who)
{
	f->base_size = size;
	if (changelog_open(&f->log, f->dirfd, f->name, dev, ino, r) < 0) {
		log_error(who, "msg=\"cannot open\" file=%s.log error=\"%s\"", f->name, strerror(errno));
		f->log.fd = f->log.next_fd = -1;
		f->whole = true;
		return;
	}
	f->whole = false;
}

bool
logfile_whole_due(const struct logfile *f)
{
	uint64_t limit = f->base_size / 2 > LOGFILE_COMPACT_MIN ? f->base_size / 2 : LOGFILE_COMPACT_MIN;

	return f->whole || f->log.fd < 0 || f->log.size > limit;
}

int
logfile_append(struct logfile *f, const char *rows, size_t len)
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
logfile_begin(struct logfile *f)
{
	struct stat st;
	int fd = snapshot_begin(f->dirfd, f->name);

	f->whole = true; /* until this write and its log are in place */
	f->writing = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (f->log.fd >= 0 && changelog_compact_begin(&f->log, st.st_dev, st.st_ino) < 0)) {
		logfile_abort(f, fd);
		return -1;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return fd;
}

int
logfile_put(struct logfile *f, int fd, const char *buf, size_t len)
{
	if (snapshot_put(fd, buf, len) < 0)
		return -1;
	f->writing += len;
	return 0;
}

void
logfile_abort(struct logfile *f, int fd)
{
	int e = errno;

	if (f->log.next_fd >= 0)
		changelog_compact_abort(&f->log);
	snapshot_abort(f->dirfd, f->name, fd);
	errno = e;
}

int
logfile_commit(struct logfile *f, int fd)
{
	if (snapshot_commit(f->dirfd, f->name, fd) < 0) {
		int e = errno;
		if (f->log.next_fd >= 0)
			changelog_compact_abort(&f->log);
		errno = e;
		return -1;
	}
	f->base_size = f->writing;
	f->compactions++;
	/* NAME is whole and current: the old log (if any) gives way to the new one. */
	int rc = f->log.next_fd >= 0 ? changelog_compact_done(&f->log) :
	         changelog_open(&f->log, f->dirfd, f->name, f->dev, f->ino, NULL);
	if (rc < 0) {
		int e = errno;
		logfile_close(f); /* that log names the old file: a restart would skip it */
		errno = e;
		return -1;
	}
	f->whole = false;
	return 0;
}

int
logfile_write(struct logfile *f, const char *buf, size_t len)
{
	int fd = logfile_begin(f);

	if (fd < 0)
		return -1;
	if (logfile_put(f, fd, buf, len) < 0) {
		logfile_abort(f, fd);
		return -1;
	}
	return logfile_commit(f, fd);
}
