/*
 * changelog: what a batch writes, replay, a torn last batch, a stale log,
 * and every crash point of a compaction, in a temp directory.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/changelog.h"
#include "t.h"

static int dfd;

static void
put_file(const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		ssize_t n = write(fd, text, strlen(text));
		(void)n;
		close(fd);
	}
}

static struct stat
st_of(const char *name)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	fstatat(dfd, name, &st, 0);
	return st;
}

static char *
get_file(const char *name, size_t *len)
{
	static char buf[4096];
	int fd = openat(dfd, name, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static bool
replayed(const char *want)
{
	struct stat st = st_of("f.csv");
	struct changelog_replay r;
	bool ok = changelog_read(dfd, "f.csv", st.st_dev, st.st_ino, &r) == 0 &&
	          strcmp(r.rows ? r.rows : "", want) == 0;
	changelog_replay_free(&r);
	return ok;
}

void
test_changelog(void)
{
	char path[] = "/tmp/seedd-changelog-XXXXXX";
	struct changelog l;
	struct changelog_replay r;
	size_t len;

	if (!mkdtemp(path) || (dfd = open(path, O_RDONLY | O_DIRECTORY)) < 0) {
		CHECK("temp dir", 0);
		return;
	}
	CHECK("crc32 of the check string", changelog_crc32("123456789", 9) == 0xcbf43926u);

	put_file("f.csv", "k,v\na,1\n");
	struct stat st = st_of("f.csv");
	CHECK("no log: nothing to replay", changelog_read(dfd, "f.csv", st.st_dev, st.st_ino, &r) == 0 &&
	      r.rows == NULL && r.valid == 0 && !r.stale);
	CHECK("open makes a log", changelog_open(&l, dfd, "f.csv", st.st_dev, st.st_ino, &r) == 0);
	CHECK("two batches", changelog_append(&l, "a,2\nb,1\n", 8) == 0 && changelog_append(&l, "a,3\n", 4) == 0);
	char *text = get_file("f.csv.log", &len);
	char want[256];
	snprintf(want, sizeof(want), "#seedd-log base=%llu:%llu\na,2\nb,1\n#batch 8 %08x\na,3\n#batch 4 %08x\n",
	         (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
	         changelog_crc32("a,2\nb,1\n", 8), changelog_crc32("a,3\n", 4));
	CHECK("what a batch writes, byte for byte", text && strcmp(text, want) == 0 && l.size == len);
	changelog_close(&l);
	CHECK("replay: both batches in order", replayed("a,2\nb,1\na,3\n"));

	/* A torn last batch: rows without their trailer, then a bad CRC. */
	int fd = openat(dfd, "f.csv.log", O_WRONLY | O_APPEND);
	CHECK("append a torn batch", fd >= 0 && write(fd, "c,9\nd,", 6) == 6);
	close(fd);
	changelog_read(dfd, "f.csv", st.st_dev, st.st_ino, &r);
	CHECK("torn tail ignored", r.rows && strcmp(r.rows, "a,2\nb,1\na,3\n") == 0 && r.torn && r.batches == 2);
	CHECK("reopen cuts the torn tail", changelog_open(&l, dfd, "f.csv", st.st_dev, st.st_ino, &r) == 0 &&
	      changelog_append(&l, "e,1\n", 4) == 0);
	changelog_replay_free(&r);
	changelog_close(&l);
	CHECK("after the cut, the new batch replays", replayed("a,2\nb,1\na,3\ne,1\n"));
	fd = openat(dfd, "f.csv.log", O_WRONLY | O_APPEND);
	char bad[64];
	int bl = snprintf(bad, sizeof(bad), "f,1\n#batch 4 %08x\n", changelog_crc32("f,2\n", 4));
	CHECK("append a batch with a wrong CRC", fd >= 0 && write(fd, bad, (size_t)bl) == bl);
	close(fd);
	CHECK("wrong CRC: that batch and after ignored", replayed("a,2\nb,1\na,3\ne,1\n"));

	/* Another version of f.csv (rewritten by hand): the log is stale. */
	put_file("f.new", "k,v\nz,1\n");
	renameat(dfd, "f.new", dfd, "f.csv");
	struct stat st2 = st_of("f.csv");
	changelog_read(dfd, "f.csv", st2.st_dev, st2.st_ino, &r);
	CHECK("a log naming another version is skipped", r.rows == NULL && r.stale && r.valid == 0);
	CHECK("and replaced by a fresh one", changelog_open(&l, dfd, "f.csv", st2.st_dev, st2.st_ino, &r) == 0 &&
	      replayed(""));
	changelog_replay_free(&r);

	/* Compaction, and a crash at each step. */
	CHECK("batch before compaction", changelog_append(&l, "z,2\n", 4) == 0);
	put_file("f.csv.tmp", "k,v\nz,2\n"); /* the new f.csv, not committed yet */
	struct stat nt = st_of("f.csv.tmp");
	CHECK("compaction begins", changelog_compact_begin(&l, nt.st_dev, nt.st_ino) == 0);
	CHECK("a batch during it goes to both logs", changelog_append(&l, "z,3\n", 4) == 0);
	/* Crash 1: f.csv not committed: the old log has everything. */
	CHECK("crash before the commit: the old log applies", replayed("z,2\nz,3\n"));
	renameat(dfd, "f.csv.tmp", dfd, "f.csv");
	/* Crash 2: f.csv committed, logs not switched: only the next log applies. */
	CHECK("crash after the commit: only the new log applies", replayed("z,3\n"));
	st = st_of("f.csv");
	changelog_read(dfd, "f.csv", st.st_dev, st.st_ino, &r);
	CHECK("it is the .next log", r.from_next && r.batches == 1);
	changelog_replay_free(&r);
	CHECK("switch", changelog_compact_done(&l) == 0 && l.next_fd < 0);
	CHECK("after the switch: the new log", replayed("z,3\n"));
	CHECK("appends go on", changelog_append(&l, "y,1\n", 4) == 0 && replayed("z,3\ny,1\n"));
	changelog_close(&l);

	/* A crash after the commit, then a start: the .next log becomes the log. */
	put_file("f.csv.tmp", "k,v\nz,3\ny,1\n");
	nt = st_of("f.csv.tmp");
	changelog_read(dfd, "f.csv", st.st_dev, st.st_ino, &r);
	changelog_open(&l, dfd, "f.csv", st.st_dev, st.st_ino, &r);
	changelog_replay_free(&r);
	changelog_compact_begin(&l, nt.st_dev, nt.st_ino);
	changelog_append(&l, "x,1\n", 4);
	changelog_close(&l); /* the process dies: close abandons .next, so put it back as a crash leaves it */
	renameat(dfd, "f.csv.tmp", dfd, "f.csv");
	st = st_of("f.csv");
	/* close removed f.csv.log.next; rebuild the crash state by hand. */
	CHECK("abandoned compaction leaves no .next", faccessat(dfd, "f.csv.log.next", F_OK, 0) != 0);
	changelog_open(&l, dfd, "f.csv", nt.st_dev, nt.st_ino, NULL);
	changelog_append(&l, "w,1\n", 4);
	/* l now writes f.csv.log naming the committed f.csv; move it to .next and plant a stale .log. */
	renameat(dfd, "f.csv.log", dfd, "f.csv.log.next");
	put_file("f.csv.log", "#seedd-log base=1:1\nq,1\n#batch 4 00000000\n");
	changelog_close(&l);
	changelog_read(dfd, "f.csv", st.st_dev, st.st_ino, &r);
	CHECK("start after a crash mid-switch: .next replays", r.from_next && r.rows && strcmp(r.rows, "w,1\n") == 0);
	CHECK("and becomes the log", changelog_open(&l, dfd, "f.csv", st.st_dev, st.st_ino, &r) == 0 &&
	      faccessat(dfd, "f.csv.log.next", F_OK, 0) != 0 && changelog_append(&l, "v,1\n", 4) == 0 &&
	      replayed("w,1\nv,1\n"));
	changelog_replay_free(&r);
	changelog_close(&l);

	const char *left[] = { "f.csv", "f.csv.log", "f.csv.log.next", "f.csv.tmp", "f.csv.log.tmp",
	                       "f.csv.log.next.tmp" };
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
		unlinkat(dfd, left[i], 0);
	close(dfd);
	rmdir(path);
}
