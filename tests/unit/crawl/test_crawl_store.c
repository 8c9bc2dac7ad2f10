/*
 * crawl_store's write path with nodes.csv.log, in a temp dir: the first
 * write is whole; then a save appends only what changed (rows of nodes
 * checked or learnt, a gone row for one forgotten, the DHT's changes)
 * and leaves nodes.csv alone; a restart reads nodes.csv and replays the
 * log; a torn tail is dropped; a forced save compacts; a nodes.csv
 * replaced on disk makes the next write whole.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "crawl/crawl_store.h"
#include "nodes/nodes_csv.h"
#include "t.h"

static int dfd = -1;

static int
publish(void *ctx, uint32_t i, const struct addr *a, bool on)
{
	(void)ctx;
	(void)i;
	(void)a;
	(void)on;
	return 1;
}

static struct addr
ip(unsigned n)
{
	struct addr a = { .family = AF_INET, .port = 32767 };
	a.ip[0] = 11;
	a.ip[3] = (uint8_t)n;
	return a;
}

struct env {
	struct crawl_core k;
	struct crawl_store s;
	struct rng rng;
};

static void
env_init(struct env *e)
{
	uint8_t seed[32] = { 9 };
	struct crawl_params p = { .interval = 300, .port = 32767 };

	memset(e, 0, sizeof(*e));
	rng_init_seed(&e->rng, seed);
	crawl_core_init(&e->k, &p, &health_ours, &e->rng, 64, 1, publish, NULL);
	e->k.nodes.track = true;
	crawl_store_init(&e->s, dfd, 32767);
}

static void
env_free(struct env *e)
{
	crawl_store_free(&e->s);
	crawl_core_free(&e->k);
}

static void
check(struct env *e, uint32_t i, bool good)
{
	struct node *n = nodes_at(&e->k.nodes, i);
	struct crawl_result r = { .good = good, .err = good ? 0 : NODE_E_REFUSED, .dialect = 1 };

	n->flags |= NODE_INFLIGHT;
	e->k.inflight++;
	crawl_core_done(&e->k, i, n->gen, &r, 0, (int64_t)time(NULL));
}

static char *
slurp(const char *name, size_t *len)
{
	return t_slurp(dfd, name, len);
}

static ino_t
ino_of(const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, 0) == 0 ? st.st_ino : 0;
}

static uint32_t
find(struct env *e, unsigned n)
{
	struct addr a = ip(n);

	return nodes_find(&e->k.nodes, &a);
}

/* The DHT's side of a batch: one changed row, or "write whole" when asked. */
static int dht_answer, dht_pending;

static int
dht_changes(void *ctx, char **buf, size_t *len, size_t *cap)
{
	static const char row[] = "12.0.0.1,yes,,6881,dht\n";

	(void)ctx;
	if (dht_answer)
		return dht_answer;
	if (!dht_pending)
		return 0;
	dht_pending = 0;
	if (*cap - *len <= sizeof(row)) {
		char *b = realloc(*buf, *len + sizeof(row) + 1);
		if (!b)
			return -1;
		*buf = b;
		*cap = *len + sizeof(row) + 1;
	}
	memcpy(*buf + *len, row, sizeof(row));
	*len += sizeof(row) - 1;
	return 0;
}

static char *
dht_rows(void *ctx, size_t *len)
{
	(void)ctx;
	*len = 0;
	return strdup("");
}

void
test_crawl_store(void)
{
	char path[] = "/tmp/seedd-crawl-store-XXXXXX";
	struct env e, e2, e3;
	size_t len, len2;
	bool fresh;
	int64_t now = (int64_t)time(NULL);

	if (!mkdtemp(path) || (dfd = open(path, O_RDONLY | O_DIRECTORY)) < 0) {
		CHECK("temp dir", 0);
		return;
	}
	log_set_level(LOG_ERROR); /* the torn tail's warning is expected */
	env_init(&e);
	crawl_store_set_extra(&e.s, "dht", dht_rows, dht_changes, NULL);
	for (unsigned n = 1; n <= 5; n++) {
		struct addr a = ip(n);
		uint32_t i = crawl_core_learn(&e.k, &a, false, now, &fresh);
		check(&e, i, true);
	}
	CHECK("five nodes touched", e.k.nodes.ndirty == 5);
	CHECK("first save is whole", crawl_store_save(&e.s, &e.k, false) == 0 && e.s.file.compactions == 1 &&
	      e.k.nodes.ndirty == 0);
	char *csv = slurp(NODESCSV_FILE, &len), *log = slurp(NODESFILE_LOG, &len2);
	ino_t ino = ino_of(NODESCSV_FILE);
	CHECK("nodes.csv has the five", csv && strstr(csv, "11.0.0.5,yes,") != NULL);
	CHECK("the log is a header naming it", log && strncmp(log, "#seedd-log base=", 16) == 0 &&
	      strchr(log, '\n') == log + len2 - 1);
	free(log);

	/* Nothing changed: a save writes nothing. */
	off_t before = (off_t)len2;
	CHECK("idle save", crawl_store_save(&e.s, &e.k, false) == 0);
	free(slurp(NODESFILE_LOG, &len2));
	CHECK("idle save appends nothing", (off_t)len2 == before);

	/* One check, one forgotten, one learnt, and the DHT's row. */
	check(&e, find(&e, 2), false);
	nodes_del(&e.k.nodes, find(&e, 3));
	struct addr a6 = ip(6);
	crawl_core_learn(&e.k, &a6, false, now, &fresh);
	dht_pending = 1;
	CHECK("batch saved", crawl_store_save(&e.s, &e.k, false) == 0 && e.s.file.batches == 1);
	char *csv2 = slurp(NODESCSV_FILE, &len2);
	CHECK("nodes.csv untouched", csv2 && len2 == len && memcmp(csv, csv2, len) == 0 &&
	      ino_of(NODESCSV_FILE) == ino);
	free(csv2);
	log = slurp(NODESFILE_LOG, &len2);
	CHECK("log: the checked node's row", log && strstr(log, "\n11.0.0.2,yes,") != NULL);
	CHECK("log: a gone row", log && strstr(log, "\n11.0.0.3,gone,,32767,infnote\n") != NULL);
	CHECK("log: the new node", log && strstr(log, "\n11.0.0.6,") != NULL);
	CHECK("log: the DHT's row", log && strstr(log, "\n12.0.0.1,yes,,6881,dht\n") != NULL);
	CHECK("log: no unchanged node", log && strstr(log, "11.0.0.1,") == NULL && strstr(log, "11.0.0.5,") == NULL);
	CHECK("log: one batch trailer", log && strstr(log, "#batch ") != NULL &&
	      strstr(strstr(log, "#batch ") + 1, "#batch ") == NULL);
	free(log);

	/* A restart: nodes.csv, then the log over it. */
	env_init(&e2);
	crawl_store_load(&e2.s, &e2.k, 0);
	uint32_t j2 = find(&e2, 2), i2 = find(&e, 2);
	CHECK("replay: five nodes", e2.k.nodes.count == 5);
	CHECK("replay: the forgotten one is gone", find(&e2, 3) == NODE_NONE);
	CHECK("replay: the new one is there", find(&e2, 6) != NODE_NONE);
	CHECK("replay: the DHT's row is not ours", e2.k.nodes.count == 5 && (!e2.s.other || !strstr(e2.s.other, "12.0.0.1")));
	CHECK("replay: the later history wins", j2 != NODE_NONE && nodes_at(&e2.k.nodes, j2)->h.checks == 2 &&
	      nodes_at(&e2.k.nodes, j2)->h.fails == 1 &&
	      nodes_at(&e2.k.nodes, j2)->h.last_check == nodes_at(&e.k.nodes, i2)->h.last_check);
	CHECK("replay is no change", e2.k.nodes.ndirty == 0 && e2.k.nodes.ngone == 0);
	CHECK("replay: appends from here", !e2.s.file.whole && e2.s.file.log.fd >= 0);
	env_free(&e2);

	/* A torn batch at the end (a crash in mid-append) is dropped. */
	int fd = openat(dfd, NODESFILE_LOG, O_WRONLY | O_APPEND);
	CHECK("tear", fd >= 0 && write(fd, "11.0.0.9,yes,,32767,infnote\n#bat", 32) == 32);
	if (fd >= 0)
		close(fd);
	env_init(&e3);
	crawl_store_load(&e3.s, &e3.k, 0);
	CHECK("torn: the good batches only", e3.k.nodes.count == 5 && find(&e3, 9) == NODE_NONE &&
	      find(&e3, 6) != NODE_NONE);
	free(slurp(NODESFILE_LOG, &len2));
	CHECK("torn: the tail is cut", len2 > 0 && ino_of(NODESFILE_LOG) != 0);
	env_free(&e3);
	/* e still appends to its open log: reopen it as a restart would. */
	crawl_store_free(&e.s);
	crawl_store_init(&e.s, dfd, 32767);
	crawl_store_set_extra(&e.s, "dht", dht_rows, dht_changes, NULL);
	nodes_clear_changes(&e.k.nodes);
	struct snapshot_id id;
	snapshot_stat(dfd, NODESCSV_FILE, &id);
	struct changelog_replay r;
	nodes_file_read_log(dfd, id.dev, id.ino, "crawl", &r);
	logfile_open(&e.s.file, id.dev, id.ino, (uint64_t)id.size, &r, "crawl");
	changelog_replay_free(&r);
	e.s.seen = id;

	/* The DHT lost track of its changes: the batch becomes a whole write. */
	dht_answer = 1;
	check(&e, find(&e, 4), true);
	CHECK("DHT asks for whole", crawl_store_save(&e.s, &e.k, false) == 0 && e.s.file.compactions == 1 &&
	      ino_of(NODESCSV_FILE) != ino);
	dht_answer = 0;
	ino = ino_of(NODESCSV_FILE);

	/* At shutdown: compacted, the log empty again. */
	check(&e, find(&e, 5), false);
	CHECK("forced save is whole", crawl_store_save(&e.s, &e.k, true) == 0 && e.s.file.compactions == 2 &&
	      ino_of(NODESCSV_FILE) != ino);
	free(csv);
	csv = slurp(NODESCSV_FILE, &len);
	log = slurp(NODESFILE_LOG, &len2);
	CHECK("compacted: the file has it all", csv && strstr(csv, "\n11.0.0.6,") && !strstr(csv, "\n11.0.0.3,") &&
	      strstr(csv, "\n11.0.0.5,yes,"));
	CHECK("compacted: the log is a header", log && strchr(log, '\n') == log + len2 - 1);
	free(log);
	free(csv);

	/* Someone replaces nodes.csv: merged, and the next write is whole (our log named the old file). */
	const char *other = "ip,good,port\n11.0.0.20,yes,32767\n";
	CHECK("replace on disk", snapshot_write(dfd, NODESCSV_FILE, other, strlen(other)) == 0);
	CHECK("poll merges", crawl_store_poll(&e.s, &e.k, 0) && find(&e, 20) != NODE_NONE && e.s.file.whole);
	CHECK("then whole", crawl_store_save(&e.s, &e.k, false) == 0 && e.s.file.compactions == 3);
	csv = slurp(NODESCSV_FILE, &len);
	CHECK("with every node", csv && strstr(csv, "\n11.0.0.20,") && strstr(csv, "\n11.0.0.6,"));
	free(csv);
	env_free(&e);

	log_set_level(LOG_INFO); /* the default */
	close(dfd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
	if (system(cmd) != 0)
		CHECK("cleanup", 0);
}
