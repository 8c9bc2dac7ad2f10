/*
 * dht_store: the sniffer's snapshots. infohashes.csv (SPEC 3) is loaded
 * at start so counts survive restarts. What changes goes to its change
 * log, infohashes.csv.log (base/changelog.h), every --snapshot-interval:
 * the rows of the infohashes that changed, not the whole file. The file
 * is written whole (compacted) when the log reaches half its size (and
 * at least IH_COMPACT_MIN), and at shutdown. DHT nodes
 * that answered are rows of nodes.csv with network "dht": loaded at start
 * (their history, their ids, and the walk starts from them), written by
 * the crawler with its own rows, or by us when the crawler is off.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dht/dht.h"
#include "dht/dht_int.h"
#include "dht/infohash_csv.h"
#include "base/log.h"
#include "nodes/nodes_csv.h"

#define DHT_NETWORK "dht"
#define IH_LOG IHCSV_FILE ".log"
#define IH_COMPACT_MIN (1u << 20) /* a log this small is not worth a rewrite */
#define GOOD_S 900 /* BEP 5: a good node answered within 15 minutes */

static void
report_ih(void *ctx, unsigned line, const char *why)
{
	(void)ctx;
	log_warn("dht", "msg=\"row skipped\" file=%s line=%u error=\"%s\"", IHCSV_FILE, line, why);
}

static void
report_log(void *ctx, unsigned line, const char *why)
{
	(void)ctx;
	log_warn("dht", "msg=\"row skipped\" file=%s line=%u error=\"%s\"", IH_LOG, line, why);
}

/* Replay infohashes.csv.log over the table just read from infohashes.csv; open it for appending. */
static void
ih_log_start(struct dht *d)
{
	struct stat st;
	struct changelog_replay r;

	if (fstatat(d->dirfd, IHCSV_FILE, &st, 0) < 0 ||
	    changelog_read(d->dirfd, IHCSV_FILE, st.st_dev, st.st_ino, &r) < 0) {
		log_error("dht", "msg=\"cannot read\" file=%s error=\"%s\"", IH_LOG, strerror(errno));
		d->ih_dirty = true; /* written whole soon: a new log starts from it */
		return;
	}
	d->ih_base_size = (uint64_t)st.st_size;
	if (r.stale)
		log_warn("dht", "msg=\"log of another version of the file skipped\" file=%s", IH_LOG);
	if (r.torn && r.len == 0)
		log_warn("dht", "msg=\"replayed\" file=%s batches=0 rows=0 torn_tail=dropped", IH_LOG);
	if (r.len > 0) {
		struct ihcsv_reader rd;
		ihcsv_reader_init(&rd);
		rd.replace = true;
		int rc = ihcsv_feed(&rd, IHCSV_HEADER, strlen(IHCSV_HEADER), &d->ih, d->rng, report_log, d);
		if (rc == 0)
			rc = ihcsv_feed(&rd, r.rows, r.len, &d->ih, d->rng, report_log, d);
		if (rc == -2)
			log_error("dht", "msg=\"out of memory replaying\" file=%s", IH_LOG);
		log_info("dht", "msg=replayed file=%s batches=%u rows=%u torn_tail=%s infohashes=%u", IH_LOG,
		         r.batches, rd.rows, r.torn ? "dropped" : "no", d->ih.n);
	}
	if (changelog_open(&d->ih_log, d->dirfd, IHCSV_FILE, st.st_dev, st.st_ino, &r) < 0) {
		log_error("dht", "msg=\"cannot open\" file=%s error=\"%s\"", IH_LOG, strerror(errno));
		d->ih_log.fd = d->ih_log.next_fd = -1;
		d->ih_dirty = true;
	} else if (r.len > 0 && r.from_next) {
		d->ih_dirty = false;
	}
	changelog_replay_free(&r);
}

/* Rows of nodes.csv or its log being loaded. */
struct node_load {
	struct dht *d;
	bool replay; /* the log: a row replaces the node's history, gone forgets it */
	const char *file;
};

static void
report_node(void *ctx, unsigned line, const char *why)
{
	struct node_load *l = ctx;

	log_warn("dht", "msg=\"row skipped\" file=%s line=%u error=\"%s\"", l->file, line, why);
}

static int
unhex_id(const char *s, uint8_t out[KRPC_ID_LEN])
{
	if (strlen(s) != 2 * KRPC_ID_LEN)
		return -1;
	for (int i = 0; i < 2 * KRPC_ID_LEN; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return -1;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

static void
load_node(void *ctx, const struct nodescsv_row *row)
{
	struct node_load *l = ctx;
	struct dht *d = l->d;
	uint8_t id[KRPC_ID_LEN];
	bool have_id = unhex_id(row->node_id, id) == 0;
	uint32_t i = nodes_find(&d->nodes, &row->addr);

	if (i != NODE_NONE && l->replay) {
		if (row->gone) {
			nodes_del(&d->nodes, i);
			return;
		}
		if (have_id)
			memcpy(d->peer[i].id, id, KRPC_ID_LEN);
		nodes_at(&d->nodes, i)->h = row->h;
		return;
	}
	if (row->gone || !dht_allowed(d, &row->addr) || i != NODE_NONE)
		return;
	/* The id we show it follows from its id as before, so it stays the same across restarts. */
	uint8_t shown[KRPC_ID_LEN];
	dht_shown_id(d, &row->addr, have_id ? id : NULL, shown);
	i = nodes_add(&d->nodes, &row->addr);
	if (i == NODE_NONE)
		return;
	if (!dht_peer_room(d, i)) {
		nodes_del(&d->nodes, i);
		return;
	}
	memset(&d->peer[i], 0, sizeof(d->peer[i]));
	if (have_id)
		memcpy(d->peer[i].id, id, KRPC_ID_LEN);
	memcpy(d->peer[i].shown, shown, KRPC_ID_LEN);
	nodes_at(&d->nodes, i)->h = row->h;
	/* Asked again within a minute or so, spread out. */
	nodes_schedule(&d->nodes, i, d->loop->now + 1000 + rng_below(d->rng, 60000));
}

/* nodes.csv.log over the DHT's rows just read from nodes.csv (id); appended to by us when we own it. */
static void
node_log_replay(struct dht *d, const struct snapshot_id *id)
{
	struct changelog_replay r;
	struct node_load l = { d, true, NODESFILE_LOG };

	nodes_file_read_log(d->dirfd, id->dev, id->ino, "dht", &r);
	if (r.len > 0) {
		d->nodes.track = false; /* what the log holds is no change */
		nodes_file_replay(&r, DHT_NETWORK, DHT_DEFAULT_PORT, load_node, report_node, &l);
		d->nodes.track = true;
		log_info("dht", "msg=replayed file=%s batches=%u dht_nodes=%zu", NODESFILE_LOG, r.batches,
		         d->nodes.count);
	}
	if (d->own_nodes_file)
		logfile_open(&d->nodes_file, id->dev, id->ino, (uint64_t)id->size, &r, "dht");
	changelog_replay_free(&r);
}

void
dht_load(struct dht *d)
{
	d->loaded = true;
	static const char *const ihn[] = { IHCSV_FILE, IHCSV_FILE ".old" };
	char rej[256];

	for (int k = 0; k < 2; k++) {
		uint32_t rows;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int rc = ihcsv_load(d->dirfd, ihn[k], &d->ih, d->rng, report_ih, d, &rows);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (rc == 1)
			continue; /* absent: try .old */
		if (rc == -2) {
			log_error("dht", "msg=\"out of memory loading\" file=%s", ihn[k]);
			break;
		}
		if (rc == -1) {
			log_error("dht", "msg=\"cannot use\" file=%s error=\"%s\"", ihn[k], strerror(errno));
			if (errno != EACCES && snapshot_reject(d->dirfd, ihn[k], time(NULL), rej, sizeof(rej)) == 0)
				log_error("dht", "msg=\"unusable file set aside\" file=%s kept_as=%s", ihn[k], rej);
			struct siphash_key key = d->ih.key;
			ih_free(&d->ih);
			ih_init(&d->ih, d->cfg.max_infohashes, &key);
			d->ih_dirty = true; /* a good file takes its place */
			continue;
		}
		log_info("dht", "msg=loaded file=%s infohashes=%u ms=%lld", ihn[k], d->ih.n,
		         (long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
		if (k == 0)
			ih_log_start(d);
		else
			d->ih_dirty = true; /* the log names infohashes.csv, not .old: write it whole */
		break;
	}

	for (int k = 0; k < 2; k++) {
		const char *name = k == 0 ? NODESCSV_FILE : NODESCSV_FILE ".old";
		struct node_load l = { d, false, name };
		struct nodescsv_reader rd;
		struct nodes_slice sl = { 0 };
		struct stat st;
		int fd = openat(d->dirfd, name, O_RDONLY | O_CLOEXEC), rc;
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		/* Read a slice at a time: no copy of the crawler's many rows is held. */
		nodescsv_reader_init(&rd, DHT_NETWORK, DHT_DEFAULT_PORT);
		rd.drop_other = !d->own_nodes_file;
		while ((rc = nodes_file_read_slice(fd, &sl, &rd, load_node, report_node, &l)) == 1) {
		}
		close(fd);
		free(sl.buf);
		if (rc == -3)
			log_warn("dht", "msg=\"cannot read\" file=%s error=\"%s\"", name, strerror(errno));
		if (rc == -1 || rc == -2) {
			free(rd.other);
			/* The crawler, when on, sets an unusable file aside; alone, we do. */
			if (rc == -1 && d->own_nodes_file &&
			    snapshot_reject(d->dirfd, name, time(NULL), rej, sizeof(rej)) == 0)
				log_error("dht", "msg=\"unusable file set aside\" file=%s kept_as=%s", name, rej);
			continue;
		}
		d->other = rd.other;
		d->other_len = rd.other_len;
		log_info("dht", "msg=loaded file=%s dht_nodes=%zu", name, d->nodes.count);
		if (k == 0) {
			struct snapshot_id id = { .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
			                          .mtime = st.st_mtim, .exists = 1 };
			node_log_replay(d, &id);
		}
		break;
	}
}

static bool
good(void *ctx, const struct node *n)
{
	(void)ctx;
	return n->h.last_success && (int64_t)time(NULL) - n->h.last_success < GOOD_S;
}

static const char *
id_hex(void *ctx, uint32_t i)
{
	static char hex[2 * KRPC_ID_LEN + 1];
	struct dht *d = ctx;

	if (i >= d->npeer)
		return "";
	for (int k = 0; k < KRPC_ID_LEN; k++)
		snprintf(hex + 2 * k, 3, "%02x", d->peer[i].id[k]);
	return hex;
}

char *
dht_node_rows(void *ctx, size_t *len)
{
	struct dht *d = ctx;
	char *buf;

	if (!d->loaded)
		dht_load(d); /* the crawler writes before our first turn: our rows first */
	buf = nodescsv_format_net(&d->nodes, DHT_NETWORK, good, id_hex, d, NULL, 0, len);

	if (!buf)
		return NULL;
	/* Rows only: the caller writes the header. */
	char *nl = memchr(buf, '\n', *len);
	size_t skip = nl ? (size_t)(nl - buf) + 1 : *len;
	memmove(buf, buf + skip, *len - skip + 1);
	*len -= skip;
	nodes_clear_changes(&d->nodes); /* all of them are in the crawler's whole write */
	return buf;
}

int
dht_node_changes(void *ctx, char **buf, size_t *len, size_t *cap)
{
	struct dht *d = ctx;

	if (!d->loaded)
		return 0; /* nothing told yet: the first whole write has our rows */
	if (d->nodes.all_dirty)
		return 1; /* forgotten nodes went untracked: only a whole write is right */
	return nodescsv_format_changes(&d->nodes, DHT_NETWORK, good, id_hex, d, buf, len, cap);
}

/* --- infohashes.csv: the change log and compaction ------------------------- */

struct rows {
	char *p;
	size_t len, cap;
	const struct ih_table *t;
	bool oom;
};

static void
add_row(void *ctx, const struct ih_entry *e)
{
	struct rows *b = ctx;

	if (b->oom)
		return;
	if (b->cap - b->len < IHCSV_ROW_MAX) {
		size_t nc = b->cap ? b->cap * 2 : 64 * 1024;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	b->len += ihcsv_row(b->p + b->len, b->t, e);
}

/* The rows of the infohashes changed since the last batch, appended to the log. */
static int
ih_flush(struct dht *d)
{
	struct rows b = { .t = &d->ih };

	if (d->ih_log.fd < 0 || (d->ih.ndirty == 0 && !d->ih.all_dirty))
		return 0;
	uint32_t n = ih_take_dirty(&d->ih, add_row, &b);
	int rc = b.oom ? -1 : changelog_append(&d->ih_log, b.p, b.len);
	free(b.p);
	if (rc < 0) {
		/* Those rows are in no file now: the next write is whole. */
		log_error("dht", "msg=\"cannot write\" file=%s error=\"%s\"", IH_LOG,
		          b.oom ? "out of memory" : strerror(errno));
		d->ih_dirty = true;
		return -1;
	}
	d->ih_last_save = (int64_t)time(NULL);
	log_debug("dht", "msg=logged file=%s rows=%u log_bytes=%llu", IH_LOG, n,
	          (unsigned long long)d->ih_log.size);
	return 0;
}

static bool
compaction_due(const struct dht *d)
{
	uint64_t limit = d->ih_base_size / 2 > IH_COMPACT_MIN ? d->ih_base_size / 2 : IH_COMPACT_MIN;

	return d->ih_dirty || (d->ih_log.fd < 0 && d->ih.n > 0) || d->ih_log.size > limit;
}

/* The new infohashes.csv is in place: its log takes over. */
static void
compaction_committed(struct dht *d)
{
	struct stat st;

	d->ih_compactions++;
	d->ih_last_save = (int64_t)time(NULL);
	if (fstatat(d->dirfd, IHCSV_FILE, &st, 0) == 0)
		d->ih_base_size = (uint64_t)st.st_size;
	if (d->ih_log.next_fd >= 0) {
		if (changelog_compact_done(&d->ih_log) == 0)
			return;
	} else {
		/*
		 * The first log, after the first whole write; or the new file's log
		 * was abandoned (an append to it failed): the batches since the
		 * fork are only in the old log, which names the old file now. A
		 * new log, and the file written whole again soon.
		 */
		bool lost = d->ih_log.fd >= 0;
		changelog_close(&d->ih_log);
		if (fstatat(d->dirfd, IHCSV_FILE, &st, 0) == 0 &&
		    changelog_open(&d->ih_log, d->dirfd, IHCSV_FILE, st.st_dev, st.st_ino, NULL) == 0) {
			d->ih_dirty |= lost;
			return;
		}
		d->ih_log.fd = d->ih_log.next_fd = -1;
	}
	log_error("dht", "msg=\"cannot switch to a new log\" file=%s error=\"%s\"", IH_LOG, strerror(errno));
	d->ih_dirty = true;
}

/*
 * Write infohashes.csv whole. It can be a hundred megabytes: a forked child
 * writes it from its copy-on-write image of the table, so the loop (DNS
 * answers too) never waits; batches logged meanwhile go to the old log and
 * to the new file's log (changelog.h). At shutdown it is written in the
 * process, once.
 */
static int
ih_compact(struct dht *d, bool now)
{
	struct stat st;

	if (ih_flush(d) < 0 && d->ih_log.fd >= 0)
		return -1;
	int fd = snapshot_begin(d->dirfd, IHCSV_FILE);
	d->parent = getpid();
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    (d->ih_log.fd >= 0 && changelog_compact_begin(&d->ih_log, st.st_dev, st.st_ino) < 0)) {
		int e = errno;
		if (fd >= 0)
			snapshot_abort(d->dirfd, IHCSV_FILE, fd);
		log_error("dht", "msg=\"cannot write\" file=%s error=\"%s\"", IHCSV_FILE, strerror(e));
		return -1;
	}
	/* Everything changed so far is in this image; the marks start afresh. */
	ih_clear_dirty(&d->ih);
	d->ih_dirty = false;
	if (!now) {
		pid_t pid = fork();
		if (pid == 0) {
			/*
			 * It dies with seedd: a seedd killed alone must not leave a writer
			 * that holds its sockets (a restart could not bind) or commits an
			 * older file over what the next seedd logs.
			 */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != d->parent)
				_exit(1);
			for (int k = 3; k < 1024; k++)
				if (k != fd && k != d->dirfd)
					close(k);
			/* Below the loop it copies, which may share its core. */
			if (nice(19) < 0) {
				/* still writes, at the same priority */
			}
			_exit(ihcsv_save_fd(d->dirfd, fd, &d->ih) == 0 ? 0 : 1);
		}
		if (pid > 0) {
			close(fd);
			d->ih_writer = pid;
			return 0;
		}
		log_warn("dht", "msg=\"cannot fork to write infohashes.csv; writing it in the loop\" error=\"%s\"",
		         strerror(errno));
	}
	if (ihcsv_save_fd(d->dirfd, fd, &d->ih) < 0) {
		log_error("dht", "msg=\"cannot write\" file=%s error=\"%s\"", IHCSV_FILE, strerror(errno));
		changelog_compact_abort(&d->ih_log);
		d->ih_dirty = true;
		return -1;
	}
	compaction_committed(d);
	log_info("dht", "msg=compacted file=%s infohashes=%u", IHCSV_FILE, d->ih.n);
	return 0;
}

void
dht_reaped(struct dht *d, pid_t pid, int status)
{
	if (!d->on || pid != d->ih_writer)
		return;
	d->ih_writer = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		compaction_committed(d);
		log_debug("dht", "msg=saved file=%s infohashes=%u", IHCSV_FILE, d->ih.n);
		return;
	}
	/* The old log still has every batch: nothing is lost, the next interval tries again. */
	changelog_compact_abort(&d->ih_log);
	unlinkat(d->dirfd, IHCSV_FILE ".tmp", 0);
	log_error("dht", "msg=\"cannot write\" file=%s error=\"writer exited with status %d\"", IHCSV_FILE, status);
}

static void
stop_writer(struct dht *d)
{
	if (d->ih_writer <= 0)
		return;
	/* Shutdown: what that child writes is older than what we write now. */
	kill(d->ih_writer, SIGKILL);
	waitpid(d->ih_writer, NULL, 0);
	d->ih_writer = 0;
	changelog_compact_abort(&d->ih_log);
	unlinkat(d->dirfd, IHCSV_FILE ".tmp", 0);
}

/* nodes.csv when the crawler is off: a batch of its log, or whole when due and at shutdown. */
static int
nodes_save(struct dht *d, bool force)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	bool whole = force || d->nodes.all_dirty || logfile_whole_due(&d->nodes_file);
	int rc;

	if (whole) {
		buf = nodescsv_format_net(&d->nodes, DHT_NETWORK, good, id_hex, d, d->other, d->other_len, &len);
		nodes_clear_changes(&d->nodes);
		rc = buf ? logfile_write(&d->nodes_file, buf, len) : -1;
	} else {
		rc = nodescsv_format_changes(&d->nodes, DHT_NETWORK, good, id_hex, d, &buf, &len, &cap);
		if (rc == 0)
			rc = logfile_append(&d->nodes_file, buf, len);
		else
			d->nodes_file.whole = true;
	}
	if (rc < 0) {
		log_error("dht", "msg=\"cannot write\" file=%s error=\"%s\"", whole ? NODESCSV_FILE : NODESFILE_LOG,
		          buf ? strerror(errno) : "out of memory");
		free(buf);
		return -1;
	}
	free(buf);
	d->nodes_last_save = (int64_t)time(NULL);
	return 0;
}

int
dht_save(struct dht *d, bool force)
{
	int rc = 0;

	/* Not loaded yet (stopped in the first moment): the files on disk are still the truth. */
	if (!d->on || !d->loaded)
		return 0;
	if (force) {
		/* Shutdown: compacted, so the next start reads one file and no log. */
		stop_writer(d);
		if ((d->ih.n > 0 || d->ih_dirty || d->ih_log.fd >= 0) && ih_compact(d, true) < 0)
			rc = -1;
	} else if (ih_flush(d) < 0) {
		rc = -1;
	} else if (d->ih_writer <= 0 && compaction_due(d) && ih_compact(d, false) < 0) {
		rc = -1;
	}
	if (d->own_nodes_file && nodes_save(d, force) < 0)
		rc = -1;
	return rc;
}
