/*
 * dht_net: the sniffer's socket (recvmmsg/sendmmsg batches), its timer,
 * the bootstrap addresses (host names through the stub resolver), and the
 * logs: a summary a minute and the reachability diagnosis.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dht/dht.h"
#include "base/log.h"

#define TICK_MS 20
#define RX_ROUNDS 8      /* batches read per wake-up before others get a turn */

static void on_timer(struct loop *l, void *arg);

void
dht_flush(struct dht *d)
{
	struct mmsghdr mm[DHT_BATCH];
	struct iovec iov[DHT_BATCH];
	struct sockaddr_storage ss[DHT_BATCH];
	unsigned done = 0;

	if (d->ntx == 0)
		return;
	for (unsigned i = 0; i < d->ntx; i++) {
		iov[i] = (struct iovec){ d->txbuf[i], d->txlen[i] };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &ss[i], .msg_namelen = addr_to_sockaddr(&d->txto[i], &ss[i]),
		                                 .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	while (done < d->ntx) {
		int n = sendmmsg(d->fd, mm + done, d->ntx - done, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* A full buffer or an unreachable peer: that datagram is lost, as UDP may lose it. */
			done++;
			continue;
		}
		done += (unsigned)n;
	}
	d->ntx = 0;
}

/* The core's emit: queue into the batch; a full batch leaves at once. */
static void
net_emit(void *arg, const struct addr *to, const uint8_t *p, size_t len)
{
	struct dht *d = arg;

	memcpy(d->txbuf[d->ntx], p, len);
	d->txlen[d->ntx] = len;
	d->txto[d->ntx] = *to;
	if (++d->ntx == DHT_BATCH)
		dht_flush(d);
}

static void
on_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct dht *d = io->arg;
	static uint8_t rx[DHT_BATCH][DHT_RX_MAX];

	if (!d->loaded)
		dht_load(d); /* a datagram before the first timer: the files first */
	struct mmsghdr mm[DHT_BATCH];
	struct iovec iov[DHT_BATCH];
	struct sockaddr_storage ss[DHT_BATCH];
	struct addr from;

	(void)events;
	for (int round = 0; round < RX_ROUNDS; round++) {
		for (int i = 0; i < DHT_BATCH; i++) {
			iov[i] = (struct iovec){ rx[i], DHT_RX_MAX };
			mm[i].msg_hdr = (struct msghdr){ .msg_name = &ss[i], .msg_namelen = sizeof(ss[i]),
			                                 .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		int n = recvmmsg(d->fd, mm, DHT_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		int64_t now_s = (int64_t)time(NULL);
		for (int i = 0; i < n; i++) {
			/* A datagram larger than any KRPC message we take is cut: drop it. */
			if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) || !addr_from_sockaddr(&from, &ss[i])) {
				d->st.c[DHT_C_IN]++;
				d->st.c[DHT_C_DROP_MALFORMED]++;
				continue;
			}
			dht_input(d, &from, rx[i], mm[i].msg_len, l->now, now_s);
		}
		dht_flush(d);
		if (n < DHT_BATCH)
			break;
	}
}

/* --- bootstrap -------------------------------------------------------------- */

static void
boot_add(struct dht *d, const struct addr *a)
{
	for (int i = 0; i < d->boot.n; i++)
		if (memcmp(&d->boot.a[i], a, sizeof(*a)) == 0)
			return;
	if (d->boot.n < DHT_BOOT_MAX)
		d->boot.a[d->boot.n++] = *a;
}

struct boot_req {
	struct dht *d;
	int k;
	uint16_t port;
};
static struct boot_req boot_reqs[DHT_BOOT_MAX];

static void
on_resolved(void *arg, enum resolver_status st, const struct addr *addrs, size_t n)
{
	struct boot_req *r = arg;
	struct dht *d = r->d;

	d->boot.lookup[r->k] = NULL;
	if (st != RESOLVER_OK) {
		log_warn("dht", "msg=\"cannot resolve a bootstrap node\" node=%s error=%s", d->cfg.boot[r->k],
		         resolver_status_name(st));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct addr a = addrs[i];
		a.port = r->port;
		if (a.family == d->cfg.bind.family)
			boot_add(d, &a);
	}
	log_info("dht", "msg=\"bootstrap node resolved\" node=%s addresses=%zu", d->cfg.boot[r->k], n);
	d->next_reseed = 0;
}

static void
resolve_boot(struct dht *d)
{
	for (int k = 0; k < d->cfg.nboot; k++) {
		const char *s = d->cfg.boot[k];
		struct addr a;
		if (addr_parse_hostport(&a, s, 0) == 0) {
			if (a.family == d->cfg.bind.family)
				boot_add(d, &a);
			continue;
		}
		const char *colon = strrchr(s, ':');
		char host[256];
		if (!colon || (size_t)(colon - s) >= sizeof(host) || d->boot.lookup[k])
			continue;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		if (!d->have_resolver) {
			if (resolver_init(&d->resolver, d->loop, d->rng, d->cfg.resolver) < 0) {
				log_warn("dht", "msg=\"no resolver for bootstrap host names\" error=\"%s\"", strerror(errno));
				return;
			}
			d->have_resolver = true;
		}
		boot_reqs[k] = (struct boot_req){ d, k, (uint16_t)atoi(colon + 1) };
		d->boot.lookup[k] = resolver_lookup(&d->resolver, host, on_resolved, &boot_reqs[k]);
	}
}

/* --- logs ------------------------------------------------------------------- */

static void
summary(struct dht *d, int64_t now_s)
{
	const uint64_t *c = d->st.c, *m = d->st_minute.c;

	log_info("dht",
	         "msg=summary in=%llu out=%llu queries_in=%llu answers=%llu queries_out=%llu responses=%llu "
	         "timeouts=%llu get_peers=%llu announces=%llu samples=%llu infohashes=%u nodes=%zu queue=%u "
	         "unsolicited_per_min=%llu dropped_rate=%llu",
	         (unsigned long long)(c[DHT_C_IN] - m[DHT_C_IN]), (unsigned long long)(c[DHT_C_OUT] - m[DHT_C_OUT]),
	         (unsigned long long)(c[DHT_C_QUERIES_IN] - m[DHT_C_QUERIES_IN]),
	         (unsigned long long)(c[DHT_C_ANSWERS] - m[DHT_C_ANSWERS]),
	         (unsigned long long)(c[DHT_C_QUERIES_OUT] - m[DHT_C_QUERIES_OUT]),
	         (unsigned long long)(c[DHT_C_RESPONSES_IN] - m[DHT_C_RESPONSES_IN]),
	         (unsigned long long)(c[DHT_C_TIMEOUTS] - m[DHT_C_TIMEOUTS]),
	         (unsigned long long)(c[DHT_C_GET_PEERS] - m[DHT_C_GET_PEERS]),
	         (unsigned long long)(c[DHT_C_ANNOUNCES] - m[DHT_C_ANNOUNCES]),
	         (unsigned long long)(c[DHT_C_SAMPLES] - m[DHT_C_SAMPLES]), d->ih.n, d->nodes.count, d->qlen,
	         (unsigned long long)d->unsolicited_minute, (unsigned long long)(c[DHT_C_DROP_RATE] - m[DHT_C_DROP_RATE]));
	d->st_minute = d->st;
	d->unsolicited_last_minute = d->unsolicited_minute;
	d->unsolicited_minute = 0;

	bool r = dht_reachable(d, now_s);
	char bound[ADDR_STRLEN], seen[ADDR_STRLEN];
	addr_str(&d->cfg.bind, bound, sizeof(bound));
	if (d->have_seen_as)
		addr_str(&d->seen_as, seen, sizeof(seen));
	else
		snprintf(seen, sizeof(seen), "unknown");
	if (!r && !d->said_unreachable) {
		log_warn("dht", "msg=\"not reachable from the DHT: no query from outside for %d minutes; check the "
		                "firewall or NAT for UDP %s\" bound=%s seen_as=%s responses=%llu",
		         DHT_QUIET_S / 60, bound, bound, seen, (unsigned long long)c[DHT_C_RESPONSES_IN]);
		d->said_unreachable = true;
	} else if (r && d->said_unreachable) {
		log_info("dht", "msg=\"reachable from the DHT again\" bound=%s seen_as=%s", bound, seen);
		d->said_unreachable = false;
	}
	d->reachable = r;
}

static void
on_timer(struct loop *l, void *arg)
{
	struct dht *d = arg;
	int64_t now_s = (int64_t)time(NULL);

	if (!d->loaded)
		dht_load(d); /* after the first turn's DNS answers: see crawler_load */
	if (d->boot.n == 0 && l->now >= d->next_reseed) {
		resolve_boot(d);
		if (d->boot.n == 0)
			d->next_reseed = l->now + 60000;
	}
	dht_tick(d, l->now, now_s);
	dht_flush(d);
	if (l->now >= d->next_summary) {
		if (d->next_summary)
			summary(d, now_s);
		d->next_summary = l->now + 60000;
	}
	loop_timer_arm(l, d->timer, TICK_MS);
}

/* --- set-up ----------------------------------------------------------------- */

int
dht_init(struct dht *d, const struct dht_config *cfg, struct loop *l, struct rng *rng, int dirfd,
         bool own_nodes_file)
{
	struct sockaddr_storage ss;
	char as[ADDR_STRLEN];
	int one = 1, buf = 4 << 20;

	memset(d, 0, sizeof(*d));
	d->loop = l;
	d->dirfd = dirfd;
	d->own_nodes_file = own_nodes_file;
	d->timer = -1;
	if (dht_core_init(d, cfg, rng, (int64_t)time(NULL)) < 0) {
		fprintf(stderr, "seedd: out of memory starting the DHT sniffer\n");
		return -1;
	}
	d->on = true;
	addr_str(&cfg->bind, as, sizeof(as));
	/* Datagrams from the core are batched here and leave with sendmmsg. */
	d->emit = net_emit;
	d->emit_arg = d;
	d->fd = socket(cfg->bind.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 ||
	    (cfg->bind.family == AF_INET6 && setsockopt(d->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(d->fd, (struct sockaddr *)&ss, addr_to_sockaddr(&cfg->bind, &ss)) < 0) {
		fprintf(stderr, "seedd: --dht %s: cannot bind UDP: %s; give a local address and a free port "
		                "(ports below 1024 need root)\n", as, strerror(errno));
		return -1;
	}
	/* Bursts of answers and queries: room beyond the default buffers (best effort). */
	setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(d->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	d->io = (struct loop_io){ .fd = d->fd, .cb = on_io, .arg = d };
	if (loop_add(l, &d->io, EPOLLIN) < 0) {
		fprintf(stderr, "seedd: cannot set up the DHT socket: %s\n", strerror(errno));
		return -1;
	}
	d->timer = loop_timer_new(l, on_timer, d);
	log_info("dht", "msg=listening addr=%s proto=udp rate=%u bootstrap=%d", as, cfg->rate, cfg->nboot);
	return 0;
}

void
dht_start(struct dht *d)
{
	if (!d->on)
		return;
	d->budget_t = d->loop->now;
	resolve_boot(d);
	loop_timer_arm(d->loop, d->timer, 0);
}

void
dht_close(struct dht *d)
{
	if (!d->on)
		return;
	if (d->have_resolver)
		resolver_close(&d->resolver);
	if (d->fd >= 0) {
		dht_flush(d);
		loop_del(d->loop, &d->io);
		d->fd = -1;
	}
	dht_core_free(d);
	d->on = false;
}
