/*
 * snapshot: whole-file reads and crash-safe writes in the data directory.
 *
 * snapshot_write: NAME.tmp is written and fsync'd, the current NAME is
 * hard-linked as NAME.old, NAME.tmp is renamed over NAME and the directory
 * is fsync'd. NAME is therefore always either the previous or the new
 * complete file, and NAME.old the one before (SPEC 3).
 * Functions return 0 or -1 with errno set.
 */
#ifndef SEEDD_SNAPSHOT_H
#define SEEDD_SNAPSHOT_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#define SNAPSHOT_MAX_BYTES (256u << 20)

/* The identity of a file version: changes when anyone rewrites it. */
struct snapshot_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int exists;
};

int snapshot_write(int dirfd, const char *name, const char *buf, size_t len);
/*
 * The same in pieces, for files too large to build in memory: begin opens
 * NAME.tmp (an fd, or -1), put appends, commit does the rest of
 * snapshot_write; abort (after a failed put) closes and removes NAME.tmp.
 */
int snapshot_begin(int dirfd, const char *name);
int snapshot_put(int fd, const char *buf, size_t len);
int snapshot_commit(int dirfd, const char *name, int fd);
void snapshot_abort(int dirfd, const char *name, int fd);
/* A plain write of a copy (no .old rotation), e.g. NAME.rejected.<time>. */
int snapshot_write_copy(int dirfd, const char *name, const char *buf, size_t len);
/* Read all of NAME (malloc'd, NUL-terminated); errno ENOENT when absent, EFBIG when too large. */
int snapshot_read(int dirfd, const char *name, char **buf, size_t *len, struct snapshot_id *id);
/* Rename NAME to NAME.rejected.<unix-time>; the new name is written to out. */
int snapshot_reject(int dirfd, const char *name, time_t now, char *out, size_t outlen);
void snapshot_stat(int dirfd, const char *name, struct snapshot_id *id);
int snapshot_id_equal(const struct snapshot_id *a, const struct snapshot_id *b);

#endif
