/*
 * zone_store's write path with zone.csv.log, in a temp dir: node rows
 * the crawler publishes or withdraws and the serial go to the log, not a
 * rewrite of zone.csv; a restart replays them; a torn tail is dropped;
 * a forced save compacts; a zone.csv replaced on disk wins over the log.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "dns/dname.h"
#include "zone/zone_store.h"
#include "t.h"

#define NOW 1800000000

static int dfd = -1;
static char dpath[] = "/tmp/seedd-zone-store-XXXXXX";

static const char zone_text[] = "ns.z.test,hostmaster.z.test 2027010100 900 300 604800 60\n"
                                "z.test,11.0.0.1\n"
                                "z.test,11.0.0.2\n"
                                "www.z.test,z.test\n";

struct env {
	struct zone z;
	struct zonestore zs;
};

static void
env_load(struct env *e)
{
	uint8_t apex[DNAME_MAX], mname[DNAME_MAX], rname[DNAME_MAX];

	memset(e, 0, sizeof(*e));
	dname_from_text(apex, "z.test");
	dname_from_text(mname, "ns.z.test");
	dname_from_text(rname, "hostmaster.z.test");
	zone_init(&e->z, apex, 1000, 7);
	e->zs = (struct zonestore){ .dirfd = dfd, .dir = dpath };
	zonestore_default_soa(&e->z, mname, rname, NOW);
	zonestore_load(&e->zs, &e->z, NOW);
}

static void
env_free(struct env *e)
{
	zonestore_close(&e->zs);
	zone_free(&e->z);
}

static struct addr
ip(unsigned n)
{
	struct addr a = { .family = AF_INET };
	a.ip[0] = 11;
	a.ip[3] = (uint8_t)n;
	return a;
}

static bool
has(struct env *e, unsigned n)
{
	struct addr a = ip(n);

	return nodeset_has(zone_nodes(&e->z, AF_INET), a.ip);
}

/* The crawler's way: the zone, then the store told. */
static void
publish(struct env *e, unsigned n, bool on)
{
	struct addr a = ip(n);

	if ((on ? zone_node_add(&e->z, &a) : zone_node_del(&e->z, &a)) > 0)
		zonestore_node(&e->zs, &a, on);
}

static char *
slurp(const char *name, size_t *len)
{
	return t_slurp(dfd, name, len);
}

static void
put(const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		CHECK("put a file", 0);
	if (fd >= 0)
		close(fd);
}

void
test_zone_store(void)
{
	struct env e, e2;
	size_t len, len2;

	if (!mkdtemp(dpath) || (dfd = open(dpath, O_RDONLY | O_DIRECTORY)) < 0) {
		CHECK("temp dir", 0);
		return;
	}
	log_set_level(LOG_ERROR);
	put(ZONESTORE_FILE, zone_text);
	env_load(&e);
	CHECK("loaded", has(&e, 1) && has(&e, 2) && e.z.soa.serial == 2027010100);
	CHECK("a log is open for it", e.zs.file.log.fd >= 0 && !e.zs.file.whole);
	zonestore_verify(&e.zs, &e.z);
	CHECK("the file says what is served", !e.zs.dirty);

	/* Two node rows published, one withdrawn, the serial bumped: a batch, not a rewrite. */
	publish(&e, 3, true);
	publish(&e, 4, true);
	publish(&e, 1, false);
	zonestore_touch(&e.zs, &e.z, NOW);
	uint32_t serial = e.z.soa.serial;
	char *before = slurp(ZONESTORE_FILE, &len);
	CHECK("batch saved", zonestore_save(&e.zs, &e.z, false) == 0 && e.zs.file.batches == 1 && !e.zs.pending);
	char *after = slurp(ZONESTORE_FILE, &len2), *log = slurp(ZONESTORE_LOG, &len2);
	CHECK("zone.csv untouched", before && after && strcmp(before, after) == 0);
	CHECK("log: the rows and the SOA", log && strstr(log, "\n+z.test,11.0.0.3\n+z.test,11.0.0.4\n-z.test,11.0.0.1\n=ns.z.test,hostmaster.z.test ") &&
	      strstr(log, " 900 300 604800 60\n#batch "));
	free(before);
	free(after);
	free(log);
	CHECK("nothing pending: nothing written", zonestore_save(&e.zs, &e.z, false) == 0 && e.zs.file.batches == 1);

	/* A restart: zone.csv, then the log over it. */
	env_load(&e2);
	CHECK("replay: the node rows", has(&e2, 3) && has(&e2, 4) && !has(&e2, 1) && has(&e2, 2));
	CHECK("replay: the serial", e2.z.soa.serial == serial);
	zonestore_verify(&e2.zs, &e2.z);
	CHECK("replayed: zone.csv is written whole soon", e2.zs.dirty);
	env_free(&e2);

	/* A torn batch is dropped. */
	int fd = openat(dfd, ZONESTORE_LOG, O_WRONLY | O_APPEND);
	CHECK("tear", fd >= 0 && write(fd, "+z.test,11.0.0.9\n#batch 17 0", 28) == 28);
	if (fd >= 0)
		close(fd);
	env_load(&e2);
	CHECK("torn: the good batches only", has(&e2, 3) && !has(&e2, 9));
	env_free(&e2);

	/* Shutdown compacts: zone.csv holds it all, the log is a header. */
	env_free(&e);
	env_load(&e);
	publish(&e, 5, true);
	zonestore_touch(&e.zs, &e.z, NOW);
	CHECK("forced save", zonestore_save(&e.zs, &e.z, true) == 0);
	after = slurp(ZONESTORE_FILE, &len);
	log = slurp(ZONESTORE_LOG, &len2);
	CHECK("compacted: zone.csv", after && strstr(after, "z.test,11.0.0.5\n") && !strstr(after, "z.test,11.0.0.1\n"));
	CHECK("compacted: the log is a header", log && strchr(log, '\n') == log + len2 - 1);
	free(after);
	free(log);
	env_free(&e);

	/* Someone replaces zone.csv (a new file renamed over it, as editors do): the old file's log is not replayed over theirs. */
	env_load(&e);
	publish(&e, 6, true);
	zonestore_touch(&e.zs, &e.z, NOW);
	zonestore_save(&e.zs, &e.z, false);
	env_free(&e);
	put("zone.csv.new", zone_text);
	renameat(dfd, "zone.csv.new", dfd, ZONESTORE_FILE);
	env_load(&e);
	CHECK("replaced: the operator's file alone", has(&e, 1) && !has(&e, 6) && !has(&e, 5));
	env_free(&e);

	log_set_level(LOG_INFO); /* the default */
	close(dfd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dpath);
	if (system(cmd) != 0)
		CHECK("cleanup", 0);
}
