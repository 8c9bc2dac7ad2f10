/*
 * changelog: what changed in a large CSV file since it was last written
 * whole (SPEC 3). NAME.log beside NAME holds batches of full rows in
 * NAME's own format; replayed over NAME at start, a later row for a key
 * replaces the earlier one. Writing a batch costs what changed, not the
 * whole file; NAME itself is rewritten (compacted) now and then and at
 * shutdown, and stays complete and readable at every moment.
 *
 * Format, text:
 *   #seedd-log base=DEV:INO        the version of NAME it applies to
 *   ROW...                          a batch: whole CSV rows
 *   #batch BYTES CRC32             its trailer: the rows' length and CRC
 * A batch without a good trailer (a crash in mid-append), or holding a
 * NUL byte, is ignored with all after it, and cut off when the log is next
 * opened for appending. A trailer is exactly what changelog_append writes
 * (decimal length, eight hex digits); append takes whole rows only.
 *
 * Compaction: the new NAME is written to NAME.tmp (its inode known), then
 * NAME.log.next is started naming that inode; until the new NAME is
 * committed every batch goes to both logs; then NAME.log.next replaces
 * NAME.log. A crash at any step leaves a NAME and a log naming it (or a
 * stale log naming the previous version, which is skipped): never a lost
 * batch, never an old row replayed over a newer NAME. A NAME.log.next
 * naming NAME is read alone: it holds every batch since NAME was written.
 * Functions return 0 or -1 with errno set.
 */
#ifndef SEEDD_CHANGELOG_H
#define SEEDD_CHANGELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHANGELOG_NAME_MAX 96

struct changelog {
	int dirfd;
	char base[CHANGELOG_NAME_MAX];   /* NAME */
	int fd, next_fd;                 /* NAME.log, NAME.log.next (-1: none) */
	uint64_t size, next_size;        /* bytes in each */
	uint64_t batches;                /* appended since open */
	uint64_t bytes;                  /* appended since open (both logs) */
};

/* The batches of NAME's log(s) that apply to NAME as it is now (dev, ino). */
struct changelog_replay {
	char *rows;      /* malloc'd, whole rows only, NUL-terminated; NULL when none */
	size_t len;
	uint64_t valid;  /* bytes of the log up to its last good batch (0: no usable log) */
	bool from_next;  /* that log is NAME.log.next: a compaction died before its switch */
	unsigned batches, torn; /* good batches; 1 when a torn tail was dropped */
	bool stale;      /* a log naming another version of NAME was skipped */
};

uint32_t changelog_crc32(const void *p, size_t len);

/* Read what applies to the version (dev, ino) of NAME: 0, or -1 on a read error. */
int changelog_read(int dirfd, const char *base, dev_t dev, ino_t ino, struct changelog_replay *out);
void changelog_replay_free(struct changelog_replay *r);

/*
 * Open for appending after a load: keep the good batches of the log that
 * names (dev, ino) (r from changelog_read; NULL: none), else start a new
 * log naming it. Any other NAME.log.next is gone after this.
 */
int changelog_open(struct changelog *l, int dirfd, const char *base, dev_t dev, ino_t ino,
                   const struct changelog_replay *r);
void changelog_close(struct changelog *l);

/* One batch of whole rows, synced to disk before it returns. */
int changelog_append(struct changelog *l, const char *rows, size_t len);

/* Compaction: start the log of the new NAME (the inode of NAME.tmp), then finish or abandon it. */
int changelog_compact_begin(struct changelog *l, dev_t dev, ino_t ino);
int changelog_compact_done(struct changelog *l);
void changelog_compact_abort(struct changelog *l);

#endif
