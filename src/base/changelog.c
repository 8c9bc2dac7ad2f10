#include "base/changelog.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_FMT "#seedd-log base=%llu:%llu\n"
#define TRAILER_MAX 40

uint32_t
changelog_crc32(const void *p, size_t len)
{
	static uint32_t table[256];
	const uint8_t *b = p;
	uint32_t c = 0xffffffffu;

	if (table[1] == 0)
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;
			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ b[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static int
log_name(char *out, size_t cap, const char *base, const char *suffix)
{
	int n = snprintf(out, cap, "%s%s", base, suffix);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The whole of a log file, or NULL (absent or unreadable: errno). */
static char *
slurp(int dirfd, const char *name, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t have = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		int e = errno;
		close(fd);
		errno = e ? e : ENOMEM;
		return NULL;
	}
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			free(buf);
			errno = e; /* not "no more batches": that would cut them off at the next open */
			return NULL;
		}
		if (n == 0)
			break; /* shorter than it was: read what is there */
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	*len = have;
	return buf;
}

/* Does the log in buf name (dev, ino)? Sets *body to the first batch. */
static bool
names_base(const char *buf, size_t len, dev_t dev, ino_t ino, size_t *body)
{
	char want[80];
	int n = snprintf(want, sizeof(want), HEADER_FMT, (unsigned long long)dev, (unsigned long long)ino);

	if (n <= 0 || (size_t)n > len || memcmp(buf, want, (size_t)n) != 0)
		return false;
	*body = (size_t)n;
	return true;
}

/*
 * Parse "#batch BYTES CRC\n" at p exactly as changelog_append writes it
 * (decimal without leading zeros, eight hex digits); returns the
 * trailer's length or 0. Anything else is not a trailer: no libc's
 * leniency decides what a batch is.
 */
static size_t
trailer(const char *p, size_t left, unsigned long long *bytes, unsigned long *crc)
{
	size_t i = 7, d;
	unsigned long long v = 0;
	unsigned long c = 0;

	if (left < 7 || memcmp(p, "#batch ", 7) != 0)
		return 0;
	for (d = i; i < left && i < TRAILER_MAX && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return 0;
		v = v * 10 + (unsigned long long)(p[i] - '0');
	}
	if (i == d || (p[d] == '0' && i - d > 1) || left - i < 10 || p[i] != ' ' || p[i + 9] != '\n')
		return 0;
	for (size_t k = i + 1; k < i + 9; k++) {
		char h = p[k];
		int x = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
		if (x < 0)
			return 0;
		c = c << 4 | (unsigned long)x;
	}
	*bytes = v;
	*crc = c;
	return i + 10;
}

/*
 * Append the good batches of buf[body..len) to out; returns the offset just
 * past the last good batch. A batch is its rows then its trailer.
 */
static size_t
good_batches(const char *buf, size_t body, size_t len, struct changelog_replay *out, char **acc,
             size_t *acclen, bool *torn)
{
	size_t off = body;

	*torn = false;
	while (off < len) {
		/* The trailer is the first line starting with '#' at or after off. */
		size_t scan = off;
		size_t tl = 0;
		unsigned long long bytes = 0;
		unsigned long crc = 0;
		while (scan < len) {
			if (buf[scan] == '#') {
				tl = trailer(buf + scan, len - scan, &bytes, &crc);
				break;
			}
			const char *nl = memchr(buf + scan, '\n', len - scan);
			if (nl == NULL)
				break;
			scan = (size_t)(nl - buf) + 1;
		}
		/* We never write a NUL: a batch with one is not ours, whatever its CRC. */
		if (tl == 0 || bytes != scan - off || changelog_crc32(buf + off, scan - off) != (uint32_t)crc ||
		    memchr(buf + off, '\0', scan - off) != NULL) {
			*torn = true;
			break;
		}
		char *nb = realloc(*acc, *acclen + (scan - off) + 1);
		if (nb == NULL)
			return (size_t)-1;
		memcpy(nb + *acclen, buf + off, scan - off);
		*acclen += scan - off;
		nb[*acclen] = '\0';
		*acc = nb;
		out->batches++;
		off = scan + tl;
	}
	return off;
}

int
changelog_read(int dirfd, const char *base, dev_t dev, ino_t ino, struct changelog_replay *out)
{
	/*
	 * NAME.log.next naming this NAME: a compaction committed NAME and died
	 * before the switch. It holds every batch since, and is used alone
	 * (NAME.log then names the previous NAME, or is a leftover).
	 */
	static const char *const suffix[2] = { ".log.next", ".log" };

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 2; i++) {
		char name[CHANGELOG_NAME_MAX + 16];
		size_t len = 0, body;
		bool torn;
		if (log_name(name, sizeof(name), base, suffix[i]) < 0)
			return -1;
		char *buf = slurp(dirfd, name, &len);
		if (buf == NULL) {
			if (errno == ENOENT)
				continue;
			changelog_replay_free(out);
			return -1;
		}
		bool names = names_base(buf, len, dev, ino, &body);
		if (!names || out->from_next) {
			out->stale |= !names;
			free(buf);
			continue;
		}
		size_t end = good_batches(buf, body, len, out, &out->rows, &out->len, &torn);
		free(buf);
		if (end == (size_t)-1) {
			changelog_replay_free(out);
			errno = ENOMEM;
			return -1;
		}
		out->torn = torn;
		out->valid = end;
		out->from_next = i == 0;
	}
	if (out->len == 0) {
		free(out->rows);
		out->rows = NULL;
	}
	return 0;
}

void
changelog_replay_free(struct changelog_replay *r)
{
	free(r->rows);
	r->rows = NULL;
	r->len = 0;
}

/* A new empty log naming (dev, ino) as NAME+suffix, written whole and synced. */
static int
create_log(int dirfd, const char *base, const char *suffix, dev_t dev, ino_t ino, uint64_t *size)
{
	char name[CHANGELOG_NAME_MAX + 16], tmp[CHANGELOG_NAME_MAX + 24], head[80];
	int n = snprintf(head, sizeof(head), HEADER_FMT, (unsigned long long)dev, (unsigned long long)ino);

	if (log_name(name, sizeof(name), base, suffix) < 0 || log_name(tmp, sizeof(tmp), name, ".tmp") < 0)
		return -1;
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, head, (size_t)n) < 0 || fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0 ||
	    fsync(dirfd) < 0) {
		int e = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	*size = (uint64_t)n;
	return fd;
}

int
changelog_open(struct changelog *l, int dirfd, const char *base, dev_t dev, ino_t ino,
               const struct changelog_replay *r)
{
	uint64_t valid = r != NULL ? r->valid : 0;
	char name[CHANGELOG_NAME_MAX + 16], next[CHANGELOG_NAME_MAX + 16];

	memset(l, 0, sizeof(*l));
	l->dirfd = dirfd;
	l->fd = l->next_fd = -1;
	if (strlen(base) >= sizeof(l->base) || log_name(name, sizeof(name), base, ".log") < 0 ||
	    log_name(next, sizeof(next), base, ".log.next") < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(l->base, base);
	/* The log of an unfinished compaction is the one that names NAME: it becomes NAME.log. */
	if (valid > 0 && r->from_next && (renameat(dirfd, next, dirfd, name) < 0 || fsync(dirfd) < 0))
		valid = 0;
	if (valid > 0) {
		/* Keep the good batches; a torn tail is cut off before anything follows it. */
		int fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, (off_t)valid) == 0 && fsync(fd) == 0) {
			l->fd = fd;
			l->size = valid;
			unlinkat(dirfd, next, 0);
			return 0;
		}
		if (fd >= 0)
			close(fd);
	}
	uint64_t size;
	int fd = create_log(dirfd, base, ".log", dev, ino, &size);
	if (fd < 0)
		return -1;
	unlinkat(dirfd, next, 0);
	l->fd = fd;
	l->size = size;
	return 0;
}

void
changelog_close(struct changelog *l)
{
	if (l->next_fd >= 0)
		changelog_compact_abort(l);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static int
append_to(int fd, const char *rows, size_t len, const char *tr, size_t trl)
{
	if (write_all(fd, rows, len) < 0 || write_all(fd, tr, trl) < 0)
		return -1;
	return fdatasync(fd);
}

int
changelog_append(struct changelog *l, const char *rows, size_t len)
{
	char tr[TRAILER_MAX];
	int trl = snprintf(tr, sizeof(tr), "#batch %zu %08" PRIx32 "\n", len, changelog_crc32(rows, len));

	if (l->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (len == 0)
		return 0;
	/* Whole rows only: anything else would not read back, nor would the batches after it. */
	if (rows[len - 1] != '\n' || memchr(rows, '\0', len) != NULL) {
		errno = EINVAL;
		return -1;
	}
	for (const char *q = rows; q < rows + len; q = (const char *)memchr(q, '\n', (size_t)(rows + len - q)) + 1)
		if (*q == '#') {
			errno = EINVAL;
			return -1;
		}
	if (append_to(l->fd, rows, len, tr, (size_t)trl) < 0)
		return -1;
	l->size += len + (size_t)trl;
	l->bytes += len + (size_t)trl;
	if (l->next_fd >= 0) {
		if (append_to(l->next_fd, rows, len, tr, (size_t)trl) < 0) {
			changelog_compact_abort(l); /* the compaction fails; the log has it all */
		} else {
			l->next_size += len + (size_t)trl;
			l->bytes += len + (size_t)trl;
		}
	}
	l->batches++;
	return 0;
}

int
changelog_compact_begin(struct changelog *l, dev_t dev, ino_t ino)
{
	if (l->next_fd >= 0)
		changelog_compact_abort(l);
	int fd = create_log(l->dirfd, l->base, ".log.next", dev, ino, &l->next_size);
	if (fd < 0)
		return -1;
	l->next_fd = fd;
	return 0;
}

int
changelog_compact_done(struct changelog *l)
{
	char name[CHANGELOG_NAME_MAX + 16], next[CHANGELOG_NAME_MAX + 16];

	if (l->next_fd < 0) {
		errno = EINVAL;
		return -1;
	}
	log_name(name, sizeof(name), l->base, ".log");
	log_name(next, sizeof(next), l->base, ".log.next");
	if (renameat(l->dirfd, next, l->dirfd, name) < 0 || fsync(l->dirfd) < 0) {
		int e = errno;
		changelog_compact_abort(l);
		errno = e;
		return -1;
	}
	close(l->fd);
	l->fd = l->next_fd;
	l->size = l->next_size;
	l->next_fd = -1;
	l->next_size = 0;
	return 0;
}

void
changelog_compact_abort(struct changelog *l)
{
	char next[CHANGELOG_NAME_MAX + 16];

	if (l->next_fd < 0)
		return;
	close(l->next_fd);
	l->next_fd = -1;
	l->next_size = 0;
	if (log_name(next, sizeof(next), l->base, ".log.next") == 0)
		unlinkat(l->dirfd, next, 0);
}
