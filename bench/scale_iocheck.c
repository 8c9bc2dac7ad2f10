/*
 * bench/scale_iocheck.c: can bench/scale.sh trust /proc/PID/io write_bytes
 * to measure what seedd (and the writer children it forks) put on disk?
 *
 *   scale_iocheck DIR
 *
 * In DIR (the bench's data directory) it checks, with 8 MiB written each
 * time, write(2) + fsync(2) like seedd's snapshots:
 *   1. self: our own write_bytes grows by what we wrote (the file system
 *      accounts page-cache writes to the writer: not tmpfs, for example);
 *   2. child, before it is reaped: a child that wrote and exited but is not
 *      yet waited for (a zombie) is NOT in the parent's figure;
 *   3. child, after waitpid: the parent's /proc/PID/io includes it (the
 *      kernel adds a reaped child's counts to the parent's, as it does for
 *      CPU times), so seedd's figure covers its infohashes.csv writers once
 *      they are reaped; live (or unreaped) children must be added apart.
 * Prints one line per check and a last line "iocheck ok" or
 * "iocheck FAILED ..." (exit 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define SIZE (8 * MIB)

static long long
write_bytes(pid_t pid)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int
write_file(const char *dir, const char *name)
{
	static char buf[MIB];
	char path[4096];
	int fd;

	memset(buf, 'x', sizeof buf);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	for (int i = 0; i < SIZE / MIB; i++)
		if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
			close(fd);
			return -1;
		}
	if (fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	unlink(path); /* clean pages by now: nothing is cancelled */
	return 0;
}

int
main(int argc, char **argv)
{
	long long a, b, c, d;
	pid_t pid;
	int st, fail = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: scale_iocheck DIR\n");
		return 2;
	}
	a = write_bytes(getpid());
	if (a < 0) {
		printf("iocheck FAILED: no write_bytes in /proc/self/io (CONFIG_TASK_IO_ACCOUNTING)\n");
		return 1;
	}
	if (write_file(argv[1], ".iocheck.self") < 0) {
		printf("iocheck FAILED: cannot write in %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	b = write_bytes(getpid());
	printf("iocheck self: wrote %d MiB, write_bytes +%.2f MiB\n", SIZE / MIB, (double)(b - a) / MIB);
	if (b - a < SIZE) {
		printf("iocheck FAILED: write_bytes does not count writes in %s\n", argv[1]);
		return 1;
	}

	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(write_file(argv[1], ".iocheck.child") == 0 ? 0 : 1);
	/* Exited but not reaped: waitid with WNOWAIT leaves it a zombie. */
	{
		siginfo_t si;

		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
			return 1;
	}
	c = write_bytes(getpid());
	printf("iocheck child exited, not reaped: parent write_bytes +%.2f MiB\n", (double)(c - b) / MIB);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("iocheck FAILED: the child could not write\n");
		return 1;
	}
	d = write_bytes(getpid());
	printf("iocheck child reaped: parent write_bytes +%.2f MiB (child wrote %d MiB)\n", (double)(d - b) / MIB,
	       SIZE / MIB);
	if (d - b < SIZE) {
		printf("iocheck FAILED: a reaped child's writes are not in the parent's write_bytes\n");
		fail = 1;
	}
	if (c - b >= SIZE)
		printf("iocheck note: an unreaped child's writes already show in the parent's figure\n");
	if (!fail)
		printf("iocheck ok\n");
	return fail;
}
