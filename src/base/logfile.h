/*
 * logfile: a large CSV file with its change log (base/changelog.h), as
 * its writer keeps them: after the file is loaded (and its log replayed)
 * the log is opened for appending; every interval a batch of what changed
 * is appended; the file is written whole (compacted) when the log passes
 * half of it (at least LOGFILE_COMPACT_MIN), or when told to (no log yet,
 * changes not tracked, the file replaced behind our back), with the
 * compaction protocol of changelog.h. The write is in the loop: for files
 * of a few megabytes (nodes.csv, zone.csv; infohashes.csv has its own
 * forked writer). Functions return 0 or -1 with errno set.
 */
#ifndef SEEDD_LOGFILE_H
#define SEEDD_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/changelog.h"

#define LOGFILE_COMPACT_MIN (1u << 20) /* a log this small is not worth a rewrite */

struct logfile {
	int dirfd;
	char name[CHANGELOG_NAME_MAX]; /* NAME; its log is NAME.log */
	struct changelog log; /* fd -1: none open, the next write is whole */
	uint64_t base_size;   /* bytes of NAME when last written or read */
	bool whole;           /* the next write must be whole */
	uint64_t batches, compactions;
	/* A whole write under way (logfile_begin): the new file's identity, bytes put. */
	dev_t dev;
	ino_t ino;
	uint64_t writing;
};

void logfile_init(struct logfile *f, int dirfd, const char *name);
void logfile_close(struct logfile *f);
/* After the load of NAME (dev, ino, size) and the replay of r (may be NULL): append to its log from now on. */
void logfile_open(struct logfile *f, dev_t dev, ino_t ino, uint64_t size, const struct changelog_replay *r,
                  const char *who);
/* Must the next write be whole (no log, told so, or the log is large)? */
bool logfile_whole_due(const struct logfile *f);
/* One batch of rows (no header); on failure the next write is whole. */
int logfile_append(struct logfile *f, const char *rows, size_t len);
/* NAME whole, and a new log for it. */
int logfile_write(struct logfile *f, const char *buf, size_t len);
/* The same in pieces: begin (NAME.tmp's fd, or -1), put, then commit, or abort after a failed put. */
int logfile_begin(struct logfile *f);
int logfile_put(struct logfile *f, int fd, const char *buf, size_t len);
int logfile_commit(struct logfile *f, int fd);
void logfile_abort(struct logfile *f, int fd);

#endif
