/*
 * probe: one NOTIFY exchange over real UDP, driven by server/notify.c, as
 * the loop adapter will drive it (a monotonic clock, poll until
 * notify_due, every datagram through notify_reply). For checking the core
 * against real secondaries (tests/notify/interop.sh); not part of seedd.
 *
 *   probe TARGET SOURCE APEX SERIAL SECONDS
 *
 * Sends from SOURCE (an address, port chosen by the kernel) to TARGET
 * (addr:port) until the target acks, rejects or SECONDS pass; prints each
 * datagram in hex, each verdict and each event. Exits 0 on an ack, 1 on a
 * reject, 2 on no answer, 3 on bad usage or a socket error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/rng.h"
#include "dns/dname.h"
#include "server/notify.h"
#include "zone/zone.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
hex(const char *what, const uint8_t *p, size_t len)
{
	printf("%s (%zu bytes):", what, len);
	for (size_t i = 0; i < len; i++)
		printf("%s%02x", i % 16 ? " " : "\n  ", p[i]);
	printf("\n");
}

static int
drain(struct notify *n, int64_t t0)
{
	struct notify_event e;
	char as[ADDR_STRLEN];
	int done = -1;

	while (notify_event(n, &e)) {
		addr_str(&e.to, as, sizeof(as));
		printf("[%6.3f s] event %s to=%s serial=%u tries=%u rcode=%u elapsed_ms=%lld\n",
		       (double)(mono_ms() - t0) / 1000, notify_ev_name(e.kind), as, e.serial, e.tries,
		       e.rcode, (long long)e.elapsed_ms);
		if (e.kind == NOTIFY_EV_ACKED)
			done = 0;
		else if (e.kind == NOTIFY_EV_REJECTED)
			done = 1;
	}
	return done;
}

static void
from_sockaddr(const struct sockaddr_storage *ss, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->family = AF_INET;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->family = AF_INET6;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
	}
}

int
main(int argc, char **argv)
{
	static const uint8_t seed[32] = { 'p', 'r', 'o', 'b', 'e' };
	static struct rng rng;
	static struct notify n;
	struct addr target, source;
	struct zone_soa soa;
	uint8_t apex[DNAME_MAX], buf[NOTIFY_MSG_MAX + 256], in[4096];
	char text[DNAME_TEXT_MAX + 16], as[ADDR_STRLEN];

	if (argc != 6 || addr_parse_hostport(&target, argv[1], 53) < 0 ||
	    addr_parse_hostport(&source, argv[2], 0) < 0 || dname_from_text(apex, argv[3]) < 0) {
		fprintf(stderr, "usage: probe TARGET SOURCE APEX SERIAL SECONDS\n");
		return 3;
	}
	uint32_t serial = (uint32_t)strtoul(argv[4], NULL, 10);
	int64_t limit = atoi(argv[5]) * 1000LL;

	/* A different ID each run: seeded from the clock, no secret needed here. */
	uint8_t s2[32];
	memcpy(s2, seed, sizeof(s2));
	int64_t t = mono_ms();
	memcpy(s2 + 16, &t, sizeof(t));
	rng_init_seed(&rng, s2);

	memset(&soa, 0, sizeof(soa));
	snprintf(text, sizeof(text), "ns1.%s", argv[3]);
	dname_from_text(soa.mname, text);
	snprintf(text, sizeof(text), "hostmaster.%s", argv[3]);
	dname_from_text(soa.rname, text);
	soa.refresh = 3600;
	soa.retry = 600;
	soa.expire = 86400;
	soa.minimum = 60;

	int fd = socket(target.family, SOCK_DGRAM, 0);
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(&source, &ss);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		perror("probe: socket/bind");
		return 3;
	}

	int64_t t0 = mono_ms();
	notify_init(&n, apex, &rng);
	notify_add(&n, &target, t0);
	notify_serial(&n, serial, t0);
	for (;;) {
		int64_t now = mono_ms();
		struct notify_out o;
		size_t len;
		while ((len = notify_next(&n, now, &soa, buf, sizeof(buf), 0, &o)) > 0) {
			addr_str(&o.to, as, sizeof(as));
			printf("[%6.3f s] send to=%s id=%04x serial=%u attempt=%u\n",
			       (double)(now - t0) / 1000, as, o.id, o.serial, o.attempt);
			if (o.attempt == 1)
				hex("  request", buf, len);
			sl = addr_to_sockaddr(&o.to, &ss);
			if (sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0)
				printf("  sendto: %s (a lost datagram; the retry covers it)\n", strerror(errno));
		}
		int d = drain(&n, t0);
		if (d >= 0)
			return d;
		if (now - t0 >= limit || notify_due(&n) == INT64_MAX)
			break;
		int64_t wait = notify_due(&n) - now;
		if (wait > limit - (now - t0))
			wait = limit - (now - t0);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)(wait > 0 ? wait : 0)) <= 0)
			continue;
		sl = sizeof(ss);
		ssize_t got = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&ss, &sl);
		if (got < 0)
			continue;
		struct addr from;
		from_sockaddr(&ss, &from);
		addr_str(&from, as, sizeof(as));
		now = mono_ms();
		printf("[%6.3f s] datagram from=%s\n", (double)(now - t0) / 1000, as);
		hex("  reply", in, (size_t)got);
		enum notify_verdict v = notify_reply(&n, &from, in, (size_t)got, now, NOTIFY_SIG_NONE);
		printf("  notify_reply: %s\n", notify_verdict_name(v));
	}
	drain(&n, t0);
	printf("no answer: sent=%llu retried=%llu ignored=%llu\n", (unsigned long long)n.st.sent,
	       (unsigned long long)n.st.retried, (unsigned long long)n.st.ignored);
	return 2;
}
