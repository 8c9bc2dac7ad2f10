/*
 * crawl_store: nodes.csv and zone.csv's node rows for the crawler core.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "crawl/crawl_store.h"
#include "nodes/nodes_csv.h"
#include "nodes/nodes_file.h"

/* A row being loaded goes to this core, with this time. */
struct load {
	struct crawl_store *s;
	struct crawl_core *k;
	int64_t mono;
	bool replay;     /* nodes.csv.log: a row replaces the node's history */
	const char *file;
};

/* --- nodes.csv ------------------------------------------------------------- */

#define REPORT_ROWS 5 /* bad rows named one by one; the rest are counted */

static void
report_row(void *ctx, unsigned line, const char *why)
{
	struct load *l = ctx;

	if (l->s->skipped++ < REPORT_ROWS)
		log_warn("crawl", "msg=\"row skipped\" file=%s line=%u error=\"%s\"", l->file, line, why);
}

/* After a parse: how many bad rows were not named. */
static void
report_rest(struct crawl_store *s)
{
	if (s->skipped > REPORT_ROWS)
		log_warn("crawl", "msg=\"more rows skipped\" file=%s rows=%llu", NODESCSV_FILE,
		         (unsigned long long)(s->skipped - REPORT_ROWS));
	s->skipped = 0;
}

static void
load_row(void *ctx, const struct nodescsv_row *row)
{
	struct load *l = ctx;
	struct crawl_core *k = l->k;
	int64_t now = (int64_t)time(NULL);
	uint32_t i = nodes_find(&k->nodes, &row->addr);

	if (i != NODE_NONE && l->replay && !(nodes_at(&k->nodes, i)->flags & NODE_INFLIGHT)) {
		/* The log's later row wins: forgotten, or a newer history. */
		struct node *n = nodes_at(&k->nodes, i);
		n->flags &= (uint8_t)~NODE_GOOD;
		if (row->gone) {
			crawl_core_sync(k, i, now);
			nodes_del(&k->nodes, i);
			return;
		}
		nodes_set_url(&k->nodes, i, NULL);
		goto set;
	}
	if (row->gone || addr_is_unusable(&row->addr) || i != NODE_NONE)
		return;
	if (!crawl_core_publishable(k, &row->addr)) {
		k->st.dropped_filtered++;
		return;
	}
	i = nodes_add(&k->nodes, &row->addr);
	if (i == NODE_NONE) {
		k->st.dropped_full++;
		return;
	}
set:;
	struct node *n = nodes_at(&k->nodes, i);
	n->h = row->h;
	n->dialect = row->dialect;
	n->last_error = (uint8_t)row->last_error;
	n->banned_until = row->banned_until > now ? row->banned_until : 0;
	if (*row->url && !row->url_default && !nodescsv_url_is_default(&row->addr, row->url))
		nodes_set_url(&k->nodes, i, row->url); /* out of memory: checked at ws://address/ */
	if (!n->h.first_seen)
		n->h.first_seen = health_stamp(now);
	crawl_core_loaded(k, i, row->good, l->mono, now);
}

void
crawl_store_init(struct crawl_store *s, int dirfd, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->dirfd = dirfd;
	s->port = port;
	s->ld.fd = -1;
	logfile_init(&s->file, dirfd, NODESCSV_FILE);
}

void
crawl_store_free(struct crawl_store *s)
{
	free(s->other);
	s->other = NULL;
	logfile_close(&s->file);
	if (s->ld.fd >= 0) {
		close(s->ld.fd);
		free(s->ld.rd.other);
	}
	s->ld.fd = -1;
	free(s->ld.sl.buf);
	s->ld.sl.buf = NULL;
}

/* nodes.csv.log over the table just read from nodes.csv (id); then it is ours to append to. */
static void
replay_log(struct crawl_store *s, struct crawl_core *k, int64_t mono, const struct snapshot_id *id)
{
	struct changelog_replay r;
	struct load l = { s, k, mono, true, NODESFILE_LOG };
	size_t before = k->nodes.count;

	nodes_file_read_log(s->dirfd, id->dev, id->ino, "crawl", &r);
	if (r.len > 0) {
		bool track = k->nodes.track;
		k->nodes.track = false; /* what the log holds is no change */
		nodes_file_replay(&r, NODESCSV_NETWORK, s->port, load_row, report_row, &l);
		k->nodes.track = track;
		report_rest(s);
		log_info("crawl", "msg=replayed file=%s batches=%u torn_tail=%s nodes=%zu new=%zd", NODESFILE_LOG,
		         r.batches, r.torn ? "dropped" : "no", k->nodes.count, (ssize_t)(k->nodes.count - before));
	}
	logfile_open(&s->file, id->dev, id->ino, (uint64_t)id->size, &r, "crawl");
	changelog_replay_free(&r);
}

/*
 * The start-up load of nodes.csv, a slice a turn (nodes_file_read_slice)
 * and back to the loop, so DNS answers are not held for the whole file;
 * the history joins as it is read.
 */
static const char *const load_names[] = { NODESCSV_FILE, NODESCSV_FILE ".old" };

/* The file being read is done with: 0 when that ends the load, 1 to try the next name. */
static int
load_finish(struct crawl_store *s, struct crawl_core *k, int64_t mono, int rc)
{
	struct crawl_load *ld = &s->ld;
	const char *name = load_names[ld->which];
	char rej[256];

	close(ld->fd);
	ld->fd = -1;
	report_rest(s);
	if (rc == 0 && !ld->rd.have_header)
		rc = -3; /* empty: nothing loaded, as before */
	if (rc == -1) {
		free(ld->rd.other);
		if (snapshot_reject(s->dirfd, name, time(NULL), rej, sizeof(rej)) == 0)
			log_error("crawl", "msg=\"unusable file set aside\" file=%s kept_as=%s", name, rej);
		ld->which++;
		return 1;
	}
	if (rc == -2) {
		free(ld->rd.other);
		log_error("crawl", "msg=\"out of memory loading\" file=%s", name);
		ld->which = 2;
		return 0;
	}
	s->other = ld->rd.other;
	s->other_len = ld->rd.other_len;
	/* Another module writes its network's rows: the copies loaded here are not ours to keep. */
	if (s->other && s->extra_network)
		s->other_len = nodescsv_drop_network(s->other, s->other_len, s->extra_network);
	size_t good = 0;
	for (size_t i = 0; i < k->nodes.n; i++)
		good += (k->nodes.v[i].flags & (NODE_USED | NODE_PUBLISHED)) == (NODE_USED | NODE_PUBLISHED);
	log_info("crawl", "msg=loaded file=%s nodes=%zu published=%zu", name, k->nodes.count, good);
	if (ld->which == 0) {
		s->seen = ld->id;
		replay_log(s, k, mono, &ld->id);
	}
	/* From .old: the log names nodes.csv, not it; written whole soon, a new log starts. */
	ld->which = 2;
	return 0;
}

int
crawl_store_load_step(struct crawl_store *s, struct crawl_core *k, int64_t mono)
{
	struct crawl_load *ld = &s->ld;
	struct load l = { s, k, mono, false, NULL };

	while (ld->which < 2) {
		const char *name = load_names[ld->which];
		l.file = name;
		if (ld->fd < 0) {
			struct stat st;
			ld->fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
			if (ld->fd < 0 || fstat(ld->fd, &st) < 0) {
				if (errno != ENOENT)
					log_warn("crawl", "msg=\"cannot read\" file=%s error=\"%s\"", name, strerror(errno));
				if (ld->fd >= 0)
					close(ld->fd);
				ld->fd = -1;
				ld->which++;
				continue;
			}
			ld->id = (struct snapshot_id){ .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
			                               .mtime = st.st_mtim, .exists = 1 };
			ld->sl.have = 0;
			nodescsv_reader_init(&ld->rd, NODESCSV_NETWORK, s->port);
			/* The table will hold about this many: one allocation, not a doubling per thousand. */
			nodes_reserve(&k->nodes, (size_t)st.st_size / 200);
		}
		int rc = nodes_file_read_slice(ld->fd, &ld->sl, &ld->rd, load_row, report_row, &l);
		if (rc == -3)
			log_warn("crawl", "msg=\"cannot read\" file=%s error=\"%s\"", name, strerror(errno));
		if (rc <= 0) {
			/* A read error ends the file where it is: what was read counts. */
			if (load_finish(s, k, mono, rc == -3 ? 0 : rc) == 0)
				break;
			continue;
		}
		return 1;
	}
	free(ld->sl.buf);
	ld->sl.buf = NULL;
	return 0;
}

void
crawl_store_load(struct crawl_store *s, struct crawl_core *k, int64_t mono)
{
	while (crawl_store_load_step(s, k, mono)) {
	}
}

bool
crawl_store_poll(struct crawl_store *s, struct crawl_core *k, int64_t mono)
{
	struct snapshot_id id;
	struct load l = { s, k, mono, false, NODESCSV_FILE };
	char *buf = NULL, *other = NULL;
	size_t len, olen;

	snapshot_stat(s->dirfd, NODESCSV_FILE, &id);
	if (!id.exists || snapshot_id_equal(&id, &s->seen))
		return false;
	/* Someone else wrote nodes.csv: its unknown rows become candidates. */
	if (snapshot_read(s->dirfd, NODESCSV_FILE, &buf, &len, &id) < 0)
		return false;
	s->seen = id;
	size_t before = k->nodes.count;
	if (nodescsv_parse(buf, len, s->port, load_row, report_row, &l, &other, &olen) == 0)
		log_info("crawl", "msg=\"nodes.csv changed on disk: merged\" new=%zu", k->nodes.count - before);
	report_rest(s);
	free(other);
	free(buf);
	/* Our log names the file that was replaced: write ours whole, with a new log. */
	s->file.whole = true;
	return true;
}

/* nodes.csv's good column: the model's verdict, not banned. */
static bool
good_for_csv(void *ctx, const struct node *n)
{
	(void)ctx;
	return (n->flags & NODE_GOOD) && n->banned_until <= (int64_t)time(NULL);
}

/* nodescsv_write_net's pieces into nodes.csv.tmp. */
struct put {
	struct logfile *f;
	int fd;
};

static int
put_piece(void *ctx, const char *p, size_t n)
{
	struct put *w = ctx;

	return logfile_put(w->f, w->fd, p, n);
}

/* nodes.csv whole, in pieces: our rows, other networks' as loaded, the DHT's. */
static int
save_whole(struct crawl_store *s, struct crawl_core *k)
{
	size_t xl = 0;
	char *x = s->extra_rows ? s->extra_rows(s->extra_ctx, &xl) : NULL;
	struct put w = { &s->file, -1 };

	if (s->extra_rows && !x) {
		errno = ENOMEM;
		return -1;
	}
	w.fd = logfile_begin(&s->file);
	/* Everything changed so far is in what is written now. */
	nodes_clear_changes(&k->nodes);
	int rc = w.fd < 0 ? -1 : nodescsv_write_net(&k->nodes, NODESCSV_NETWORK, good_for_csv, NULL, NULL, put_piece, &w);
	if (rc == 0 && s->other_len)
		rc = logfile_put(&s->file, w.fd, s->other, s->other_len);
	if (rc == 0 && xl)
		rc = logfile_put(&s->file, w.fd, x, xl);
	free(x);
	if (rc < 0 && w.fd >= 0)
		logfile_abort(&s->file, w.fd);
	if (rc == 0)
		rc = logfile_commit(&s->file, w.fd);
	if (rc == 0)
		snapshot_stat(s->dirfd, NODESCSV_FILE, &s->seen);
	return rc;
}

/* One batch of nodes.csv.log: the rows that changed, ours and the DHT's; 1: write whole instead. */
static int
save_batch(struct crawl_store *s, struct crawl_core *k)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = s->extra_changes ? s->extra_changes(s->extra_ctx, &buf, &len, &cap) : 0;

	if (rc == 1) {
		free(buf);
		return 1;
	}
	if (nodescsv_format_changes(&k->nodes, NODESCSV_NETWORK, good_for_csv, NULL, NULL, &buf, &len, &cap) < 0)
		rc = -1;
	if (rc == 0)
		rc = logfile_append(&s->file, buf, len);
	else
		errno = ENOMEM;
	if (rc < 0)
		s->file.whole = true; /* those changes are taken: only a whole write has them now */
	free(buf);
	return rc;
}

int
crawl_store_save(struct crawl_store *s, struct crawl_core *k, bool force)
{
	/* At shutdown the file is compacted: the next start reads one file. */
	bool whole = force || k->nodes.all_dirty || logfile_whole_due(&s->file);
	int rc = whole ? 1 : save_batch(s, k);

	if (rc == 1) {
		whole = true;
		rc = save_whole(s, k);
	}
	if (rc < 0) {
		s->save_errors++;
		log_error("crawl", "msg=\"cannot write\" file=%s error=\"%s\"", whole ? NODESCSV_FILE : NODESFILE_LOG,
		          strerror(errno));
		return -1;
	}
	s->saves++;
	s->last_save = (int64_t)time(NULL);
	return 0;
}

void
crawl_store_set_extra(struct crawl_store *s, const char *network, char *(*fn)(void *ctx, size_t *len),
                      int (*changes)(void *ctx, char **buf, size_t *len, size_t *cap), void *ctx)
{
	s->extra_rows = fn;
	s->extra_changes = changes;
	s->extra_ctx = ctx;
	s->extra_network = network;
	/* Those rows are the other module's now: drop the copies loaded with ours. */
	if (s->other)
		s->other_len = nodescsv_drop_network(s->other, s->other_len, network);
}

/* --- the zone's node rows ------------------------------------------------- */

static size_t
zone_set(struct crawl_core *k, const struct nodeset *set, uint8_t family, uint16_t port, int64_t mono, int64_t now)
{
	size_t fresh_n = 0;

	for (size_t j = 0; j < set->n; j++) {
		struct addr a = { .family = family, .port = port };
		bool fresh = false;
		memcpy(a.ip, nodeset_ip(set, j), set->alen);
		uint32_t i = nodes_find(&k->nodes, &a);
		/* A node row with no history: published as the last known state, checked first. */
		if (i == NODE_NONE && (i = crawl_core_learn(k, &a, false, now, &fresh)) == NODE_NONE)
			continue;
		fresh_n += fresh;
		crawl_core_zone_row(k, i, mono, now);
	}
	return fresh_n;
}

size_t
crawl_store_zone_rows(struct crawl_core *k, const struct zone *z, uint16_t port, int64_t mono, int64_t now)
{
	return zone_set(k, &z->v4, AF_INET, port, mono, now) + zone_set(k, &z->v6, AF_INET6, port, mono, now);
}
