/*
 * bench/scale_first.c: time from exec to seedd's first DNS answer with A
 * records (bench/scale.sh, figure "first answer").
 *
 *   scale_first -s SRC_IP -q DNS_IP:PORT -z ZONE [-t TIMEOUT_MS] [-l LOG] -- SEEDD ARGS...
 *
 * Opens a UDP socket bound to SRC_IP (before the exec, so no socket set-up
 * is timed), takes CLOCK_MONOTONIC, forks and execs SEEDD ARGS (stdout and
 * stderr to LOG, default /dev/null), then sends the apex A query (no EDNS,
 * RD=0, a new ID each time) to DNS_IP:PORT every 1 ms until a reply comes
 * back with our ID, QR=1, RCODE 0 and at least one A record in the answer
 * section. Queries sent before seedd binds its socket are lost (nothing
 * listens; the socket is unconnected, so no error comes back); those sent
 * after the bind wait in its socket buffer until the loop runs.
 * Then seedd is killed (SIGKILL: the bench copies a fresh data directory
 * for each run) and reaped. Prints one line:
 *   first_answer_ms=12.345 cpu_ms=10.2 runq_ms=0.8 queries=13 replies=1 a_records=25 bytes=433
 * cpu_ms and runq_ms: seedd's time on a CPU and waiting for one until the
 * answer came (/proc/PID/schedstat), so that a busy machine shows.
 * Exit 0; 1 when seedd exited before answering or TIMEOUT_MS (default
 * 10000) passed without an answer (the line then says why).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* On-CPU and run-queue-wait nanoseconds of pid; 0 when unknown. */
static void
schedstat(pid_t pid, double *cpu_ms, double *runq_ms)
{
	char path[64];
	unsigned long long run = 0, wait = 0;
	FILE *f;

	*cpu_ms = *runq_ms = -1;
	snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
		*cpu_ms = (double)run / 1e6;
		*runq_ms = (double)wait / 1e6;
	}
	fclose(f);
}

static void
usage(void)
{
	fprintf(stderr, "usage: scale_first -s SRC_IP -q DNS_IP:PORT -z ZONE [-t TIMEOUT_MS] [-l LOG] -- SEEDD ARGS...\n");
	exit(2);
}

/* Query for ZONE A IN; its length, 0 when the name does not fit. */
static size_t
build_query(uint8_t *q, size_t cap, const char *zone, uint16_t id)
{
	size_t n = 12;
	const char *p = zone;

	if (cap < 12 + 255 + 5)
		return 0;
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[5] = 1; /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || n + l + 1 > 12 + 254)
			return 0;
		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 1; /* A */
	q[n++] = 0;
	q[n++] = 1; /* IN */
	return n;
}

/* Skip a (possibly compressed) name at *off; -1 when malformed. */
static int
skip_name(const uint8_t *m, size_t len, size_t *off)
{
	size_t o = *off;

	for (int guard = 0; guard < 128; guard++) {
		if (o >= len)
			return -1;
		if ((m[o] & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return -1;
			*off = o + 2;
			return 0;
		}
		if (m[o] & 0xc0)
			return -1;
		if (m[o] == 0) {
			*off = o + 1;
			return 0;
		}
		o += 1 + (size_t)m[o];
	}
	return -1;
}

/* A records in the answer section of a good reply to one of our IDs; -1: not such a reply. */
static int
count_a(const uint8_t *m, size_t len, uint16_t first_id, uint16_t last_id)
{
	size_t off = 12;
	unsigned qd, an, id, n = 0;

	if (len < 12)
		return -1;
	id = (unsigned)m[0] << 8 | m[1];
	if ((uint16_t)(id - first_id) > (uint16_t)(last_id - first_id))
		return -1;
	if (!(m[2] & 0x80) || (m[3] & 0x0f) != 0)
		return -1;
	qd = (unsigned)m[4] << 8 | m[5];
	an = (unsigned)m[6] << 8 | m[7];
	for (unsigned i = 0; i < qd; i++) {
		if (skip_name(m, len, &off) < 0 || off + 4 > len)
			return -1;
		off += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		unsigned type, rdlen;

		if (skip_name(m, len, &off) < 0 || off + 10 > len)
			return -1;
		type = (unsigned)m[off] << 8 | m[off + 1];
		rdlen = (unsigned)m[off + 8] << 8 | m[off + 9];
		off += 10;
		if (off + rdlen > len)
			return -1;
		if (type == 1 && rdlen == 4)
			n++;
		off += rdlen;
	}
	return (int)n;
}

int
main(int argc, char **argv)
{
	const char *src = NULL, *dst = NULL, *zone = NULL, *logpath = "/dev/null";
	long timeout_ms = 10000;
	struct sockaddr_in sa = { .sin_family = AF_INET }, da = { .sin_family = AF_INET };
	uint8_t q[300], r[4096];
	uint16_t id0, id;
	unsigned long queries = 0, replies = 0;
	int opt, fd, logfd, st;
	int64_t t0, next, deadline;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+s:q:z:t:l:")) != -1) {
		switch (opt) {
		case 's': src = optarg; break;
		case 'q': dst = optarg; break;
		case 'z': zone = optarg; break;
		case 't': timeout_ms = strtol(optarg, NULL, 10); break;
		case 'l': logpath = optarg; break;
		default: usage();
		}
	}
	if (!src || !dst || !zone || optind >= argc || timeout_ms <= 0)
		usage();
	{
		char host[64];
		const char *colon = strrchr(dst, ':');

		if (!colon || (size_t)(colon - dst) >= sizeof host)
			usage();
		memcpy(host, dst, (size_t)(colon - dst));
		host[colon - dst] = '\0';
		if (inet_pton(AF_INET, host, &da.sin_addr) != 1 || inet_pton(AF_INET, src, &sa.sin_addr) != 1)
			usage();
		da.sin_port = htons((uint16_t)atoi(colon + 1));
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("scale_first: socket");
		return 1;
	}
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		perror("scale_first: log");
		return 1;
	}
	id0 = id = (uint16_t)(getpid() * 7919u);

	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("scale_first: fork");
		return 1;
	}
	if (pid == 0) {
		dup2(logfd, 1);
		dup2(logfd, 2);
		execv(argv[optind], argv + optind);
		_exit(127);
	}
	next = t0;
	deadline = t0 + (int64_t)timeout_ms * 1000000;
	for (;;) {
		int64_t now = now_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait_ms;

		if (now >= deadline) {
			printf("first_answer_ms=none queries=%lu replies=%lu error=timeout\n", queries, replies);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		if (now >= next) {
			size_t n = build_query(q, sizeof q, zone, id);

			if (n == 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				usage();
			}
			if (sendto(fd, q, n, 0, (struct sockaddr *)&da, sizeof da) == (ssize_t)n)
				queries++;
			id++;
			next += 1000000;
			if (next < now)
				next = now + 1000000; /* we were late: no burst to catch up */
		}
		for (;;) {
			ssize_t k = recv(fd, r, sizeof r, 0);
			int a;

			if (k < 0)
				break;
			replies++;
			a = count_a(r, (size_t)k, id0, (uint16_t)(id - 1));
			if (a > 0) {
				int64_t t1 = now_ns();
				double cpu, runq;

				schedstat(pid, &cpu, &runq);
				printf("first_answer_ms=%.3f cpu_ms=%.1f runq_ms=%.1f queries=%lu replies=%lu a_records=%d bytes=%zd\n",
				       (double)(t1 - t0) / 1e6, cpu, runq, queries, replies, a, k);
				fflush(stdout);
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				return 0;
			}
		}
		if (waitpid(pid, &st, WNOHANG) == pid) {
			printf("first_answer_ms=none queries=%lu replies=%lu error=\"seedd exited (status %d) before answering\"\n",
			       queries, replies, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			return 1;
		}
		now = now_ns();
		wait_ms = next > now ? (int)((next - now + 999999) / 1000000) : 0;
		/* poll's resolution is 1 ms: wake for the reply or the next send. */
		poll(&p, 1, wait_ms);
	}
}
