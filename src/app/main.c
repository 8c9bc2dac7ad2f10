/*
 * seedd: wiring. Parse flags, open the data directory, load the zone,
 * bind every socket, then run the loop. Failures before the loop exit 1
 * with a line that says what to do; after start-up nothing exits but a
 * stop signal (SPEC 2, 7).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/config.h"
#include "crawl/crawler.h"
#include "dht/dht.h"
#include "app/http.h"
#include "app/metrics.h"
#include "server/primary.h"
#include "server/server.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/rng.h"
#include "zone/zone.h"
#include "zone/zone_store.h"

#define POLL_MS 1000
/*
 * zonestore_verify (format the whole zone, read zone.csv again, compare)
 * waits this long after start: on the loop's first turn no query has come
 * in yet, and the check held the first answers for as long as it took.
 */
#define VERIFY_DELAY_MS 1000

struct seedd {
	struct config cfg;
	struct loop loop;
	struct rng rng;
	struct zone zone;
	struct zonestore store;
	struct dns_server dns;
	struct crawler_config crawl_cfg; /* the crawler's part of cfg */
	struct crawler crawler;
	struct dht dht;
	struct http_server http;
	struct primary primary;
	bool primary_on;
	struct metrics_src metrics;
	int snapshot_timer, poll_timer, verify_timer;
};

static void
on_signal(struct loop *l, int signo, void *arg)
{
	struct seedd *s = arg;

	switch (signo) {
	case SIGTERM:
	case SIGINT:
		log_info("main", "msg=\"stopping\" signal=%s", signo == SIGTERM ? "TERM" : "INT");
		loop_stop(l);
		break;
	case SIGHUP:
		log_info("main", "msg=\"SIGHUP: reading zone.csv again\"");
		zonestore_reload(&s->store, &s->zone, time(NULL));
		crawler_sync_zone(&s->crawler);
		/* What the reload changed (normalised rows, a grown serial) is written now. */
		zonestore_save(&s->store, &s->zone, false);
		break;
	case SIGCHLD:
		/* PID 1 adopts orphans: reap every child that has exited (one is ours: the DHT's writer). */
		for (;;) {
			int st;
			pid_t pid = waitpid(-1, &st, WNOHANG);
			if (pid <= 0)
				break;
			dht_reaped(&s->dht, pid, st);
		}
		break;
	}
}

static void
on_snapshot(struct loop *l, void *arg)
{
	struct seedd *s = arg;

	zonestore_save(&s->store, &s->zone, false);
	crawler_save(&s->crawler, false);
	dht_save(&s->dht, false);
	loop_timer_arm(l, s->snapshot_timer, (int64_t)s->cfg.snapshot_interval * 1000);
}

/* Once, after start: does zone.csv say what is served? (left out of the load to answer sooner) */
static void
on_verify(struct loop *l, void *arg)
{
	struct seedd *s = arg;

	(void)l;
	if (s->store.verify) {
		zonestore_verify(&s->store, &s->zone);
		zonestore_save(&s->store, &s->zone, false);
	}
}

static void
on_poll(struct loop *l, void *arg)
{
	struct seedd *s = arg;

	bool was_dirty = s->store.dirty;

	uint32_t serial = s->zone.soa.serial;
	zonestore_poll(&s->store, &s->zone, time(NULL));
	if (s->zone.soa.serial != serial)
		crawler_sync_zone(&s->crawler);
	crawler_poll(&s->crawler);
	/* A reload that changed the zone is written at once, not an interval later. */
	if (s->store.dirty && !was_dirty)
		zonestore_save(&s->store, &s->zone, false);
	loop_timer_arm(l, s->poll_timer, POLL_MS);
}

/* A serial for a new version of the transferred zone: the zone's, bumped (and so kept by zone.csv). */
static uint32_t
bump_serial(void *ctx, uint32_t floor)
{
	struct seedd *s = ctx;

	zonestore_touch(&s->store, &s->zone, time(NULL));
	if ((int32_t)(floor - s->zone.soa.serial) > 0)
		s->zone.soa.serial = floor;
	return s->zone.soa.serial;
}

/* --tsig-key FILE: 0, or -1 with a line on stderr. */
static int
read_tsig_key(const char *path, struct tsig_key *k)
{
	char text[8192], err[160];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "seedd: --tsig-key %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = fread(text, 1, sizeof(text), f);
	bool big = n == sizeof(text) || ferror(f);
	fclose(f);
	if (big) {
		fprintf(stderr, "seedd: --tsig-key %s: cannot read it, or longer than %zu bytes (one key)\n", path,
		        sizeof(text) - 1);
		return -1;
	}
	int rc = tsig_key_parse(k, text, n, err, sizeof(err));
	explicit_bzero(text, sizeof(text));
	if (rc < 0) {
		fprintf(stderr, "seedd: --tsig-key %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

/* The first --listen address of a family that is not a wildcard, port 0; else the wildcard. */
static struct addr
notify_source(const struct config *c, int family)
{
	struct addr a = { .family = (uint8_t)family };

	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].family == family && !addr_is_any(&c->listen[i])) {
			a = c->listen[i];
			a.port = 0;
			break;
		}
	return a;
}

static int
setup_primary(struct seedd *s)
{
	struct primary_config pc = {
		.nallow = s->cfg.nxfr_allow, .nnotify = s->cfg.nnotify,
		.src4 = notify_source(&s->cfg, AF_INET), .src6 = notify_source(&s->cfg, AF_INET6),
		.answers = s->cfg.xfr_answers, .rotate_s = s->cfg.xfr_rotate,
	};
	char err[256];

	if (read_tsig_key(s->cfg.tsig_key_file, &pc.key) < 0)
		return -1;
	memcpy(pc.allow, s->cfg.xfr_allow, sizeof(pc.allow[0]) * (size_t)s->cfg.nxfr_allow);
	memcpy(pc.notify, s->cfg.notify, sizeof(pc.notify[0]) * (size_t)s->cfg.nnotify);
	if (primary_init(&s->primary, &pc, &s->loop, &s->zone, &s->rng, bump_serial, s, err, sizeof(err)) < 0) {
		fprintf(stderr, "seedd: %s\n", err);
		return -1;
	}
	explicit_bzero(&pc.key, sizeof(pc.key));
	s->primary_on = true;
	s->dns.primary = &s->primary;
	return 0;
}

static int
open_data_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "seedd: cannot use data directory '%s': %s; create it or give --data-dir\n",
		        dir, strerror(errno));
		return -1;
	}
	if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		fprintf(stderr, "seedd: cannot write in data directory '%s': %s; fix its permissions or give --data-dir\n",
		        dir, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* GET /metrics and /healthz. */
static int
on_http(void *arg, const char *path, char **body, size_t *len, const char **ctype)
{
	struct seedd *s = arg;

	if (strcmp(path, "/metrics") == 0) {
		*body = metrics_text(&s->metrics, len);
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		return *body ? 200 : 500;
	}
	if (strcmp(path, "/healthz") == 0) {
		char why[160];
		int st = metrics_health(&s->metrics, (int64_t)time(NULL), why, sizeof(why));
		*body = strdup(why);
		*len = *body ? strlen(why) : 0;
		return *body ? st : 500;
	}
	*body = strdup("not found: try /metrics or /healthz\n");
	*len = *body ? strlen(*body) : 0;
	return *body ? 404 : 500;
}

/* SPEC 7: setgroups, setgid, setuid, after every socket is bound; -1 with a line on stderr. */
static int
drop_privileges(const struct config *c, int dirfd)
{
	gid_t g = (gid_t)c->gid;

	if (setgroups(1, &g) < 0 || setgid(g) < 0 || setuid((uid_t)c->uid) < 0) {
		fprintf(stderr, "seedd: --user %u:%u: cannot switch: %s; run as root to use --user, or leave it out\n",
		        c->uid, c->gid, strerror(errno));
		return -1;
	}
	/* No way back: a process that could regain root has not dropped it. */
	if (c->uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		fprintf(stderr, "seedd: --user %u:%u: root could be regained; refusing to run\n", c->uid, c->gid);
		return -1;
	}
	if (faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		fprintf(stderr, "seedd: --user %u:%u: cannot write in the data directory as that user: %s; "
		                "chown it to %u:%u\n", c->uid, c->gid, strerror(errno), c->uid, c->gid);
		return -1;
	}
	log_info("main", "msg=\"privileges dropped\" uid=%u gid=%u", c->uid, c->gid);
	return 0;
}

static int
bind_all(struct seedd *s)
{
	char err[256], as[ADDR_STRLEN];

	for (int i = 0; i < s->cfg.nlisten; i++) {
		const struct addr *a = &s->cfg.listen[i];
		if (dns_server_listen(&s->dns, a, err, sizeof(err)) == 0) {
			addr_str(a, as, sizeof(as));
			log_info("dns", "msg=listening addr=%s proto=udp,tcp", as);
			continue;
		}
		/* The default [::]:53 is optional on hosts without IPv6. */
		if (s->cfg.listen_default && a->family == AF_INET6 &&
		    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
			log_warn("dns", "msg=\"no IPv6; serving IPv4 only\" error=\"%s\"", err);
			continue;
		}
		fprintf(stderr, "seedd: %s\n", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct seedd s;
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	uint8_t default_mname[DNAME_MAX];
	uint64_t seed;

	switch (config_parse(&s.cfg, argc, argv, stdout, stderr)) {
	case CONFIG_EXIT:
		return 0;
	case CONFIG_BAD:
		return 2;
	case CONFIG_OK:
		break;
	}
	log_set_level((enum log_level)s.cfg.log_level);
	if (config_default_ns(default_mname, s.cfg.zone) < 0) {
		fprintf(stderr, "seedd: --zone: too long to build ns.<zone>; give --ns\n");
		return 2;
	}
	if (rng_init(&s.rng) < 0) {
		fprintf(stderr, "seedd: getrandom failed: %s\n", strerror(errno));
		return 1;
	}

	int dirfd = open_data_dir(s.cfg.data_dir);
	if (dirfd < 0)
		return 1;

	rng_bytes(&s.rng, &seed, sizeof(seed));
	zone_init(&s.zone, s.cfg.zone, s.cfg.max_nodes, seed);
	s.zone.node_ttl = s.cfg.ttl;
	s.zone.answers = s.cfg.answers;
	s.zone.wildcard = s.cfg.wildcard;
	s.zone.nns = s.cfg.nns;
	memcpy(s.zone.ns, s.cfg.ns, sizeof(s.zone.ns));

	s.store = (struct zonestore){
		.dirfd = dirfd,
		.dir = s.cfg.data_dir,
		.allow_private = s.cfg.allow_private,
		.mname = s.cfg.nns > 0 ? s.cfg.ns[0] : NULL,
		.rname = s.cfg.have_mbox ? s.cfg.mbox : NULL,
	};
	zonestore_default_soa(&s.zone, s.cfg.nns > 0 ? s.cfg.ns[0] : default_mname, s.cfg.mbox, time(NULL));
	if (!zonestore_load(&s.store, &s.zone, time(NULL))) {
		fprintf(stderr, "seedd: out of memory loading zone.csv\n");
		return 1;
	}

	if (loop_init(&s.loop) < 0 ||
	    loop_signals(&s.loop, signals, 4, on_signal, &s) < 0 ||
	    dns_server_init(&s.dns, &s.loop, &s.zone, &s.rng, &s.cfg.rrl) < 0) {
		fprintf(stderr, "seedd: cannot set up the event loop: %s\n", strerror(errno));
		return 1;
	}
	s.crawl_cfg = (struct crawler_config){
		.seeds = s.cfg.seeds, .nseeds = s.cfg.nseeds, .port = s.cfg.port, .interval = s.cfg.interval,
		.timeout = s.cfg.timeout, .concurrency = s.cfg.concurrency, .max_nodes = s.cfg.max_nodes,
		.allow_private = s.cfg.allow_private, .ca_file = s.cfg.ca_file, .ca_file_given = s.cfg.ca_file_given,
		.resolver = s.cfg.resolver, .have_resolver = s.cfg.have_resolver,
	};
	if (crawler_init(&s.crawler, &s.crawl_cfg, &s.loop, &s.rng, &s.zone, &s.store, dirfd) < 0) {
		fprintf(stderr, "seedd: out of memory starting the crawler\n");
		return 1;
	}
	if (s.cfg.dht_on) {
		struct dht_config dc = {
			.bind = s.cfg.dht,
			.nboot = s.cfg.ndht_boot,
			.rate = s.cfg.dht_rate,
			.allow_private = s.cfg.allow_private,
			.max_nodes = s.cfg.max_nodes,
			.max_infohashes = DHT_IH_MAX,
			.zone = s.cfg.zone,
			.resolver = s.cfg.have_resolver ? &s.cfg.resolver : NULL,
		};
		memcpy(dc.boot, s.cfg.dht_boot, sizeof(dc.boot));
		if (dht_init(&s.dht, &dc, &s.loop, &s.rng, dirfd, !s.crawler.on) < 0)
			return 1;
		if (s.crawler.on)
			crawler_set_extra(&s.crawler, "dht", dht_node_rows, dht_node_changes, &s.dht);
	}
	if (bind_all(&s) < 0)
		return 1;
	if (s.cfg.tsig_key_file && setup_primary(&s) < 0)
		return 1;
	s.metrics = (struct metrics_src){
		.dns = &s.dns, .zone = &s.zone, .store = &s.store, .crawler = &s.crawler, .dht = &s.dht,
		.http = &s.http.st, .start_time = (int64_t)time(NULL), .primary = s.primary_on ? &s.primary : NULL,
	};
	s.http.fd = -1;
	if (s.cfg.have_metrics) {
		char err[256], as[ADDR_STRLEN];
		if (http_listen(&s.http, &s.loop, &s.cfg.metrics, on_http, &s, err, sizeof(err)) < 0) {
			fprintf(stderr, "seedd: %s\n", err);
			return 1;
		}
		addr_str(&s.cfg.metrics, as, sizeof(as));
		log_info("metrics", "msg=listening addr=%s paths=/metrics,/healthz", as);
	}
	if (dns_server_start(&s.dns) < 0 || (s.primary_on && primary_start(&s.primary) < 0)) {
		fprintf(stderr, "seedd: cannot start the DNS server: %s\n", strerror(errno));
		return 1;
	}
	s.snapshot_timer = loop_timer_new(&s.loop, on_snapshot, &s);
	s.poll_timer = loop_timer_new(&s.loop, on_poll, &s);
	s.verify_timer = loop_timer_new(&s.loop, on_verify, &s);
	loop_timer_arm(&s.loop, s.snapshot_timer, (int64_t)s.cfg.snapshot_interval * 1000);
	loop_timer_arm(&s.loop, s.poll_timer, 0);
	loop_timer_arm(&s.loop, s.verify_timer, VERIFY_DELAY_MS);

	if (s.cfg.have_user) {
		if (drop_privileges(&s.cfg, dirfd) < 0)
			return 1;
	} else if (geteuid() == 0) {
		log_warn("main", "msg=\"running as root; give --user UID:GID to drop privileges once the sockets are bound\"");
	}
	/* A zone that differs from zone.csv (none yet, .old, skipped rows) is written now. */
	zonestore_save(&s.store, &s.zone, false);
	crawler_start(&s.crawler);
	dht_start(&s.dht);
	log_info("main", "msg=started version=%s pid=%d", SEEDD_VERSION, (int)getpid());

	loop_run(&s.loop);

	/* Take in an operator's last edit before writing over it. */
	zonestore_poll(&s.store, &s.zone, time(NULL));
	int rc = zonestore_save(&s.store, &s.zone, true) == 0 ? 0 : 1;
	if (crawler_save(&s.crawler, true) < 0)
		rc = 1;
	if (dht_save(&s.dht, true) < 0)
		rc = 1;
	crawler_close(&s.crawler);
	dht_close(&s.dht);
	zonestore_close(&s.store);
	http_close(&s.http);
	if (s.primary_on)
		primary_close(&s.primary);
	log_info("main", "msg=stopped serial=%u", s.zone.soa.serial);
	dns_server_close(&s.dns);
	loop_close(&s.loop);
	zone_free(&s.zone);
	close(dirfd);
	return rc;
}
