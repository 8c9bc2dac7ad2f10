/*
 * bench/krpcload.c: closed-loop KRPC (BEP 5) load generator for bench/dht.sh.
 *
 *   krpcload [-w WINDOW] [-d SECONDS] [-u WARMUP] [-t TIMEOUT_MS]
 *            [-S SOCKETS] [-b BASE/PREFIX] HOST:PORT
 *
 * Keeps WINDOW queries outstanding against one UDP server: get_peers (random
 * info_hash), find_node (random target) and announce_peer, about 45/35/20.
 * A DHT node limits what it answers per source IP (seedd: a few packets a
 * second), so every query leaves from the next address of BASE/PREFIX
 * (default 127.4.0.0/14, 262,144 addresses, all local on loopback): the
 * sockets are bound to 0.0.0.0 and each datagram carries its source in an
 * IP_PKTINFO control message (ipi_spec_dst); the answer comes back to the
 * same socket, and its IP_PKTINFO tells which address it was sent to.
 *
 * Each source address shows one stable node id (not all-zero). An
 * announce_peer goes out only from an address that holds a token from an
 * earlier get_peers answer (token and info_hash kept per address, the
 * announce names that info_hash), like a client announcing after its
 * lookup: addresses that just got a token wait in a FIFO, and an announce
 * takes the oldest (each token is used once); when the FIFO is empty a
 * get_peers goes instead. Other queries take the addresses in turn.
 *
 * Transaction ids are 2 bytes: 4 bits of generation, 12 of window slot. An
 * answer counts when its tid is that of a query outstanding in the slot and
 * it was sent to that query's source address. A query that gets nothing
 * within TIMEOUT_MS is counted lost and its slot reissued (a new query from
 * the next address). An echo server's reply (the query itself, byte for
 * byte) counts as an answer; an echoed get_peers stands for a get_peers
 * answer with a token, so the mix is the same against an echo server.
 * Other queries arriving (the server querying our addresses back) are
 * counted and ignored.
 *
 * Counting starts after WARMUP seconds (default 1) and lasts SECONDS
 * (default 10). Prints a summary, then one line of key=value for scripts:
 *   krpcload rate=N answers=N ... (rate = answers a second, errors excluded)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXDGRAM 2048
#define QMAX 256
#define TOKMAX 64
#define MAXWIN 4096 /* 12 bits of the transaction id */
#define MAXSOCK 16
#define RING 65536 /* addresses holding an unused token */

enum kind { K_GET_PEERS, K_FIND_NODE, K_ANNOUNCE, K_COUNT };
static const char *const kind_name[K_COUNT] = { "get_peers", "find_node", "announce_peer" };

struct slot {
	uint64_t sent_ns;
	uint32_t src;  /* index into the source range */
	uint16_t tid;
	uint16_t len;
	uint8_t busy, kind, gen;
	uint8_t ih[20];
	uint8_t q[QMAX];
};

/* What one source address knows: the last token the server gave it. */
struct src {
	uint8_t toklen; /* 0: none */
	uint8_t tok[TOKMAX];
	uint8_t ih[20];
};

struct counts {
	unsigned long long sent[K_COUNT], answered[K_COUNT], errors[K_COUNT];
	unsigned long long err203, err_other, bad_token, lost, stale, unsolicited;
	unsigned long long no_token, ap_fallback, sendfail, malformed;
};

static struct slot *slots;
static struct src *srcs;
static uint16_t *freelist;
static uint32_t ring[RING];
static unsigned ring_head, ring_len;
static unsigned nfree;
static struct counts c;
static uint64_t rng_state;

/* --- helpers ---------------------------------------------------------------- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void
rand_bytes(uint8_t *p, size_t n)
{
	while (n > 0) {
		uint64_t v = splitmix64(&rng_state);
		size_t k = n < 8 ? n : 8;

		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

/* A stable, not all-zero node id per source address. */
static void
node_id(uint32_t src, uint64_t secret, uint8_t id[20])
{
	uint64_t s = secret ^ ((uint64_t)src * 0x2545f4914f6cdd1du);
	uint64_t v[3];

	v[0] = splitmix64(&s);
	v[1] = splitmix64(&s);
	v[2] = splitmix64(&s);
	memcpy(id, v, 20);
	id[0] |= 0x01;
}

static long
num_arg(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "krpcload: %s must be %ld..%ld\n", what, lo, hi);
		exit(2);
	}
	return v;
}

/* --- queries ---------------------------------------------------------------- */

struct wb {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void
put(struct wb *w, const void *b, size_t n)
{
	if (w->err || w->cap - w->len < n) {
		w->err = 1;
		return;
	}
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void
puts_(struct wb *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Canonical bencode: keys in byte order (id < implied_port < info_hash <
 * port < target < token; a < q < t < y). */
static size_t
build_query(struct slot *sl, enum kind k, const uint8_t id[20], const uint8_t rnd[20],
	    const struct src *st)
{
	struct wb w = { sl->q, 0, QMAX, 0 };
	uint8_t tid[2] = { (uint8_t)(sl->tid >> 8), (uint8_t)sl->tid };
	char num[32];

	puts_(&w, "d1:ad2:id20:");
	put(&w, id, 20);
	switch (k) {
	case K_GET_PEERS:
		puts_(&w, "9:info_hash20:");
		put(&w, rnd, 20);
		memcpy(sl->ih, rnd, 20);
		puts_(&w, "e1:q9:get_peers");
		break;
	case K_FIND_NODE:
		puts_(&w, "6:target20:");
		put(&w, rnd, 20);
		puts_(&w, "e1:q9:find_node");
		break;
	case K_ANNOUNCE:
		puts_(&w, "12:implied_porti0e9:info_hash20:");
		put(&w, st->ih, 20);
		memcpy(sl->ih, st->ih, 20);
		snprintf(num, sizeof num, "4:porti%ue5:token%u:", 1024u + (rnd[0] | (unsigned)rnd[1] << 8) % 60000u,
			 (unsigned)st->toklen);
		puts_(&w, num);
		put(&w, st->tok, st->toklen);
		puts_(&w, "e1:q13:announce_peer");
		break;
	default:
		break;
	}
	puts_(&w, "1:t2:");
	put(&w, tid, 2);
	puts_(&w, "1:y1:qe");
	return w.err ? 0 : w.len;
}

#include "benchutil.h"
#include "kanswer.h"

/* --- the loop ------------------------------------------------------------------ */

static void
slot_free(unsigned i)
{
	slots[i].busy = 0;
	freelist[nfree++] = (uint16_t)i;
}

static void
handle(const uint8_t *p, size_t len, struct in_addr dst, uint32_t base, uint32_t nsrc, int counting)
{
	static const uint8_t echo_token[4] = { 'e', 'c', 'h', 'o' };
	struct answer a;
	struct slot *sl;
	unsigned idx;
	uint32_t host = ntohl(dst.s_addr);

	if (parse_answer(p, len, &a) != 0 || a.t == NULL || a.y == NULL || a.ylen != 1) {
		c.malformed += (unsigned long long)counting;
		return;
	}
	if (a.tlen != 2) {
		c.stale += (unsigned long long)counting;
		return;
	}
	idx = ((unsigned)a.t[0] << 8 | a.t[1]) & (MAXWIN - 1);
	sl = &slots[idx];
	if (a.y[0] == 'q' && !(sl->busy && sl->len == len && memcmp(sl->q, p, len) == 0)) {
		c.unsolicited += (unsigned long long)counting; /* the server asking us */
		return;
	}
	if (!sl->busy || sl->tid != ((unsigned)a.t[0] << 8 | a.t[1]) || host - base >= nsrc ||
	    host - base != sl->src) {
		c.stale += (unsigned long long)counting;
		return;
	}
	if (a.y[0] == 'e') {
		if (counting) {
			c.errors[sl->kind]++;
			if (a.code == 203)
				c.err203++;
			else
				c.err_other++;
			if (a.code == 203 && sl->kind == K_ANNOUNCE)
				c.bad_token++;
		}
	} else if (a.y[0] == 'r' || a.y[0] == 'q') {
		if (sl->kind == K_GET_PEERS) {
			struct src *st = &srcs[sl->src];
			const uint8_t *tok = a.y[0] == 'q' ? echo_token : a.token;
			size_t toklen = a.y[0] == 'q' ? sizeof echo_token : a.toklen;

			if (tok != NULL && toklen > 0 && toklen <= TOKMAX) {
				st->toklen = (uint8_t)toklen;
				memcpy(st->tok, tok, toklen);
				memcpy(st->ih, sl->ih, 20);
				if (ring_len < RING)
					ring[(ring_head + ring_len++) % RING] = sl->src;
			} else {
				c.no_token += (unsigned long long)counting;
			}
		}
		c.answered[sl->kind] += (unsigned long long)counting;
	} else {
		c.malformed += (unsigned long long)counting;
		return;
	}
	slot_free(idx);
}

static void
usage(void)
{
	fprintf(stderr, "usage: krpcload [-w WINDOW] [-d SECONDS] [-u WARMUP] [-t TIMEOUT_MS] "
			"[-S SOCKETS] [-b BASE/PREFIX] HOST:PORT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static uint8_t rbuf[BATCH][MAXDGRAM];
	static uint8_t rctl[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	static uint8_t sctl[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in server, from[BATCH];
	struct mmsghdr smsg[BATCH], rmsg[BATCH];
	struct iovec siov[BATCH], riov[BATCH];
	struct pollfd pfd[MAXSOCK];
	unsigned sendq[BATCH];
	long window = 512, seconds = 10, warmup = 1, timeout_ms = 100, nsock = 1;
	uint32_t base, nsrc, next_src = 0;
	uint64_t secret, t_start, t_count, t_end, last_scan, timeout_ns;
	int counting = 0, prefix, opt;
	unsigned next_sock = 0;
	char basebuf[64], *slash;

	snprintf(basebuf, sizeof basebuf, "127.4.0.0/14");
	while ((opt = getopt(argc, argv, "w:d:u:t:S:b:")) != -1) {
		switch (opt) {
		case 'w': window = num_arg(optarg, 1, MAXWIN, "-w"); break;
		case 'd': seconds = num_arg(optarg, 1, 3600, "-d"); break;
		case 'u': warmup = num_arg(optarg, 0, 600, "-u"); break;
		case 't': timeout_ms = num_arg(optarg, 1, 60000, "-t"); break;
		case 'S': nsock = num_arg(optarg, 1, MAXSOCK, "-S"); break;
		case 'b': snprintf(basebuf, sizeof basebuf, "%s", optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || parse_addr(argv[optind], &server, 1) != 0) /* a server needs a port */
		usage();
	slash = strchr(basebuf, '/');
	if (slash == NULL)
		usage();
	*slash = '\0';
	prefix = (int)num_arg(slash + 1, 8, 30, "prefix");
	{
		struct in_addr b;

		if (inet_pton(AF_INET, basebuf, &b) != 1 || (ntohl(b.s_addr) >> 24) != 127) {
			fprintf(stderr, "krpcload: -b must be a range in 127.0.0.0/8\n");
			return 2;
		}
		nsrc = 1u << (32 - prefix);
		base = ntohl(b.s_addr) & ~(nsrc - 1);
	}

	if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state)
		rng_state = now_ns();
	secret = splitmix64(&rng_state);
	slots = calloc((size_t)MAXWIN, sizeof *slots);
	srcs = calloc(nsrc, sizeof *srcs);
	freelist = calloc((size_t)MAXWIN, sizeof *freelist);
	if (slots == NULL || srcs == NULL || freelist == NULL) {
		perror("krpcload: calloc");
		return 1;
	}
	for (long i = window - 1; i >= 0; i--)
		slot_free((unsigned)i);

	for (long i = 0; i < nsock; i++) {
		struct sockaddr_in any = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1, size = 4 << 20;

		if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0 ||
		    bind(fd, (struct sockaddr *)&any, sizeof any) != 0) {
			perror("krpcload: socket");
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
		pfd[i].fd = fd;
		pfd[i].events = POLLIN;
	}

	timeout_ns = (uint64_t)timeout_ms * 1000000u;
	t_start = now_ns();
	t_count = t_start + (uint64_t)warmup * 1000000000u;
	t_end = t_count + (uint64_t)seconds * 1000000000u;
	last_scan = t_start;
	if (warmup == 0)
		counting = 1;

	for (;;) {
		uint64_t now = now_ns();
		int got = 0;

		if (now >= t_end)
			break;
		if (!counting && now >= t_count) {
			memset(&c, 0, sizeof c);
			counting = 1;
		}

		/* Fill the window, BATCH queries per sendmmsg. */
		while (nfree > 0) {
			unsigned n = 0;
			int k;

			while (n < BATCH && nfree > 0) {
				unsigned i = freelist[--nfree];
				struct slot *sl = &slots[i];
				struct src *st;
				uint8_t id[20], rnd[20];
				unsigned roll;
				enum kind kind;
				struct cmsghdr *cm;
				struct in_pktinfo pi;
				struct sockaddr_in *dst = &server;

				roll = (unsigned)(splitmix64(&rng_state) % 100);
				kind = roll < 45 ? K_GET_PEERS : roll < 80 ? K_FIND_NODE : K_ANNOUNCE;
				if (kind == K_ANNOUNCE && ring_len > 0) {
					sl->src = ring[ring_head];
					ring_head = (ring_head + 1) % RING;
					ring_len--;
				} else {
					if (kind == K_ANNOUNCE) {
						kind = K_GET_PEERS;
						c.ap_fallback += (unsigned long long)counting;
					}
					sl->src = next_src;
					next_src = next_src + 1 < nsrc ? next_src + 1 : 0;
				}
				st = &srcs[sl->src];
				sl->gen = (uint8_t)((sl->gen + 1) & 0xf);
				sl->tid = (uint16_t)(sl->gen << 12 | i);
				rand_bytes(rnd, sizeof rnd);
				sl->kind = (uint8_t)kind;
				node_id(sl->src, secret, id);
				sl->len = (uint16_t)build_query(sl, kind, id, rnd, st);
				sl->busy = 1;
				sl->sent_ns = now;

				siov[n].iov_base = sl->q;
				siov[n].iov_len = sl->len;
				memset(&smsg[n], 0, sizeof smsg[n]);
				smsg[n].msg_hdr.msg_name = dst;
				smsg[n].msg_hdr.msg_namelen = sizeof *dst;
				smsg[n].msg_hdr.msg_iov = &siov[n];
				smsg[n].msg_hdr.msg_iovlen = 1;
				smsg[n].msg_hdr.msg_control = sctl[n];
				smsg[n].msg_hdr.msg_controllen = sizeof sctl[n];
				cm = CMSG_FIRSTHDR(&smsg[n].msg_hdr);
				cm->cmsg_level = IPPROTO_IP;
				cm->cmsg_type = IP_PKTINFO;
				cm->cmsg_len = CMSG_LEN(sizeof pi);
				memset(&pi, 0, sizeof pi);
				pi.ipi_spec_dst.s_addr = htonl(base + sl->src);
				memcpy(CMSG_DATA(cm), &pi, sizeof pi);
				sendq[n++] = i;
			}
			k = sendmmsg(pfd[next_sock].fd, smsg, n, 0);
			next_sock = (next_sock + 1) % (unsigned)nsock;
			if (k < 0)
				k = 0;
			for (unsigned j = 0; j < (unsigned)k; j++)
				c.sent[slots[sendq[j]].kind] += (unsigned long long)counting;
			if ((unsigned)k < n) {
				/* Socket buffer full (or an error): take the rest back. */
				c.sendfail += (unsigned long long)counting * (n - (unsigned)k);
				for (unsigned j = (unsigned)k; j < n; j++)
					slot_free(sendq[j]);
				break;
			}
		}

		for (long s = 0; s < nsock; s++) {
			int n;

			for (int i = 0; i < BATCH; i++) {
				riov[i].iov_base = rbuf[i];
				riov[i].iov_len = MAXDGRAM;
				memset(&rmsg[i], 0, sizeof rmsg[i]);
				rmsg[i].msg_hdr.msg_name = &from[i];
				rmsg[i].msg_hdr.msg_namelen = sizeof from[i]; /* value-result: reset */
				rmsg[i].msg_hdr.msg_iov = &riov[i];
				rmsg[i].msg_hdr.msg_iovlen = 1;
				rmsg[i].msg_hdr.msg_control = rctl[i];
				rmsg[i].msg_hdr.msg_controllen = sizeof rctl[i];
			}
			n = recvmmsg(pfd[s].fd, rmsg, BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				continue;
			got += n;
			for (int i = 0; i < n; i++) {
				struct in_addr dst = { 0 };
				struct cmsghdr *cm;

				if (from[i].sin_addr.s_addr != server.sin_addr.s_addr ||
				    from[i].sin_port != server.sin_port) {
					c.unsolicited += (unsigned long long)counting;
					continue;
				}
				for (cm = CMSG_FIRSTHDR(&rmsg[i].msg_hdr); cm != NULL;
				     cm = CMSG_NXTHDR(&rmsg[i].msg_hdr, cm)) {
					if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
						struct in_pktinfo pi;

						memcpy(&pi, CMSG_DATA(cm), sizeof pi);
						dst = pi.ipi_addr; /* the header's destination */
					}
				}
				handle(rbuf[i], rmsg[i].msg_len, dst, base, nsrc, counting);
			}
		}

		now = now_ns();
		if (now - last_scan >= 5000000u) {
			last_scan = now;
			for (long i = 0; i < window; i++) {
				if (slots[i].busy && now - slots[i].sent_ns >= timeout_ns) {
					c.lost += (unsigned long long)counting;
					slot_free((unsigned)i);
				}
			}
		}
		if (got == 0 && nfree == 0)
			poll(pfd, (nfds_t)nsock, 1);
	}

	{
		double secs = (double)(t_end - t_count) / 1e9;
		unsigned long long ans = 0, sent = 0, err = 0;

		for (int k = 0; k < K_COUNT; k++) {
			ans += c.answered[k];
			sent += c.sent[k];
			err += c.errors[k];
		}
		printf("krpcload: %s:%u, window %ld, %.0f s after %ld s warm-up, sources %s/%d (%u addresses, %.2f queries/s each)\n",
		       inet_ntoa(server.sin_addr), ntohs(server.sin_port), window, secs, warmup, basebuf, prefix, nsrc,
		       (double)sent / secs / nsrc);
		for (int k = 0; k < K_COUNT; k++)
			printf("  %-13s sent %10llu (%4.1f%%)  answered %10llu  errors %llu\n", kind_name[k], c.sent[k],
			       sent ? 100.0 * (double)c.sent[k] / (double)sent : 0.0, c.answered[k], c.errors[k]);
		printf("  answers %llu/s; errors %llu (203: %llu, bad token on announce: %llu, other %llu); lost %llu;"
		       " stale %llu; malformed %llu; unsolicited %llu; get_peers answers without token %llu;"
		       " announce->get_peers (no token yet) %llu; send failures %llu\n",
		       (unsigned long long)((double)ans / secs), err, c.err203, c.bad_token, c.err_other, c.lost, c.stale,
		       c.malformed, c.unsolicited, c.no_token, c.ap_fallback, c.sendfail);
		printf("krpcload rate=%.0f answers=%llu sent=%llu errors=%llu err203=%llu bad_token=%llu lost=%llu"
		       " stale=%llu malformed=%llu unsolicited=%llu no_token=%llu sendfail=%llu"
		       " gp=%llu fn=%llu ap=%llu gp_sent=%llu fn_sent=%llu ap_sent=%llu\n",
		       (double)ans / secs, ans, sent, err, c.err203, c.bad_token, c.lost, c.stale, c.malformed,
		       c.unsolicited, c.no_token, c.sendfail, c.answered[K_GET_PEERS], c.answered[K_FIND_NODE],
		       c.answered[K_ANNOUNCE], c.sent[K_GET_PEERS], c.sent[K_FIND_NODE], c.sent[K_ANNOUNCE]);
	}
	return 0;
}
