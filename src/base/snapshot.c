#include "base/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/prefault.h"

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
write_file(int dirfd, const char *name, const char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlinkat(dirfd, name, 0);
		errno = e;
		return -1;
	}
	return close(fd);
}

int
snapshot_write_copy(int dirfd, const char *name, const char *buf, size_t len)
{
	if (write_file(dirfd, name, buf, len) < 0)
		return -1;
	return fsync(dirfd);
}

static int
names(const char *name, char tmp[256], char old[256])
{
	if ((size_t)snprintf(tmp, 256, "%s.tmp", name) >= 256 ||
	    (size_t)snprintf(old, 256, "%s.old", name) >= 256) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
snapshot_begin(int dirfd, const char *name)
{
	char tmp[256], old[256];

	if (names(name, tmp, old) < 0)
		return -1;
	return openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

int
snapshot_put(int fd, const char *buf, size_t len)
{
	return write_all(fd, buf, len);
}

void
snapshot_abort(int dirfd, const char *name, int fd)
{
	char tmp[256], old[256];
	int e = errno;

	close(fd);
	if (names(name, tmp, old) == 0)
		unlinkat(dirfd, tmp, 0);
	errno = e;
}

int
snapshot_commit(int dirfd, const char *name, int fd)
{
	char tmp[256], old[256];

	if (names(name, tmp, old) < 0 || fsync(fd) < 0) {
		snapshot_abort(dirfd, name, fd);
		return -1;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	/* Keep the current file as .old; a link leaves NAME in place throughout. */
	if (unlinkat(dirfd, old, 0) < 0 && errno != ENOENT)
		goto fail;
	if (linkat(dirfd, name, dirfd, old, 0) < 0) {
		if (errno == ENOENT) {
			/* no current file: nothing to keep */
		} else if (renameat(dirfd, name, dirfd, old) < 0) {
			goto fail; /* no hard links here: NAME is briefly absent, .old complete */
		}
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	return fsync(dirfd);
fail:;
	int e = errno;
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}

int
snapshot_write(int dirfd, const char *name, const char *buf, size_t len)
{
	int fd = snapshot_begin(dirfd, name);

	if (fd < 0)
		return -1;
	if (snapshot_put(fd, buf, len) < 0) {
		snapshot_abort(dirfd, name, fd);
		return -1;
	}
	return snapshot_commit(dirfd, name, fd);
}

void
snapshot_stat(int dirfd, const char *name, struct snapshot_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (fstatat(dirfd, name, &st, 0) < 0)
		return;
	id->exists = 1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
}

int
snapshot_id_equal(const struct snapshot_id *a, const struct snapshot_id *b)
{
	if (!a->exists || !b->exists)
		return a->exists == b->exists;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

int
snapshot_read(int dirfd, const char *name, char **out, size_t *outlen, struct snapshot_id *id)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((unsigned long long)st.st_size > SNAPSHOT_MAX_BYTES) {
		errno = EFBIG;
		goto fail;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL)
		goto fail;
	prefault(buf, cap); /* read() fills it whole */
	for (;;) {
		if (len + 1 == cap) {
			/* The file grew while we read: read the rest up to the cap. */
			if (cap > SNAPSHOT_MAX_BYTES) {
				free(buf);
				errno = EFBIG;
				goto fail;
			}
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			errno = e;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (id != NULL) {
		memset(id, 0, sizeof(*id));
		id->exists = 1;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		id->size = st.st_size;
		id->mtime = st.st_mtim;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
snapshot_reject(int dirfd, const char *name, time_t now, char *out, size_t outlen)
{
	if ((size_t)snprintf(out, outlen, "%s.rejected.%lld", name, (long long)now) >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (renameat(dirfd, name, dirfd, out) < 0)
		return -1;
	return fsync(dirfd);
}
