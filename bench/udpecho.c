/*
 * bench/udpecho.c: the least a UDP server can do, as a yardstick for seedd's
 * DHT responder (bench/dht.sh). Single-threaded; receives up to BATCH
 * datagrams with one recvmmsg and sends each one back to its source with one
 * sendmmsg. What it sustains on one core is "this machine's loopback limit"
 * for the load generator in use.
 *
 *   udpecho IPV4:PORT
 *
 * Runs until SIGTERM or SIGINT, then prints "udpecho echoed=N dropped=N"
 * on stderr and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchutil.h"

#define BATCH 64
#define MAXDGRAM 2048

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[BATCH][MAXDGRAM];
	struct sockaddr_in addr, from[BATCH];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sigaction sa;
	unsigned long long echoed = 0, dropped = 0;
	int fd, one = 1, size = 4 << 20;

	if (argc != 2 || parse_addr(argv[1], &addr, 0) != 0) { /* port 0: any free one */
		fprintf(stderr, "usage: udpecho IPV4:PORT\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: recvmmsg returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udpecho: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* Best effort: capped by net.core.[rw]mem_max. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		perror("udpecho: bind");
		return 1;
	}

	while (!stop) {
		int n, sent = 0;

		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = MAXDGRAM;
			memset(&msg[i], 0, sizeof msg[i]);
			msg[i].msg_hdr.msg_name = &from[i];
			msg[i].msg_hdr.msg_namelen = sizeof from[i]; /* value-result: reset */
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("udpecho: recvmmsg");
			return 1;
		}
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msg[i].msg_len; /* same name, same bytes back */
		while (sent < n) {
			int k = sendmmsg(fd, msg + sent, (unsigned)(n - sent), 0);

			if (k < 0) {
				if (errno == EINTR && !stop)
					continue;
				/* This datagram cannot go (e.g. ECONNREFUSED): skip it. */
				dropped++;
				sent++;
				continue;
			}
			echoed += (unsigned long long)k;
			sent += k;
		}
	}
	fprintf(stderr, "udpecho echoed=%llu dropped=%llu\n", echoed, dropped);
	close(fd);
	return 0;
}
