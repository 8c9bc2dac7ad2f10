/*
 * crawl_store: nodes.csv and zone.csv's node rows for the crawler core.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "crawl/crawl_store.h"
#include "nodes/nodes_csv.h"

/* A row being loaded goes to this core, with this time. */
struct load {
	struct crawl_store *s;
	struct crawl_core *k;
	int64_t mono;
};

/* --- nodes.csv ------------------------------------------------------------- */

#define REPORT_ROWS 5 /* bad rows named one by one; the rest are counted */

static void
report_row(void *ctx, unsigned line, const char *why)
{
	struct load *l = ctx;

	if (l->s->skipped++ < REPORT_ROWS)
		log_warn("crawl", "msg=\"row skipped\" file=%s line=%u error=\"%s\"", NODESCSV_FILE, line, why);
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

	if (addr_is_unusable(&row->addr) || nodes_find(&k->nodes, &row->addr) != NODE_NONE)
		return;
	if (!crawl_core_publishable(k, &row->addr)) {
		k->st.dropped_filtered++;
		return;
	}
	uint32_t i = nodes_add(&k->nodes, &row->addr);
	if (i == NODE_NONE) {
		k->st.dropped_full++;
		return;
	}
	struct node *n = nodes_at(&k->nodes, i);
	n->h = row->h;
	n->dialect = row->dialect;
	n->last_error = (uint8_t)row->last_error;
	n->banned_until = row->banned_until > now ? row->banned_until : 0;
	if (*row->url && !nodescsv_url_is_default(&row->addr, row->url))
		n->url = strdup(row->url);
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
}

void
crawl_store_free(struct crawl_store *s)
{
	free(s->other);
	s->other = NULL;
}

void
crawl_store_load(struct crawl_store *s, struct crawl_core *k, int64_t mono)
{
	static const char *const names[] = { NODESCSV_FILE, NODESCSV_FILE ".old" };
	struct load l = { s, k, mono };

	for (int j = 0; j < 2; j++) {
		char *buf = NULL, rej[256];
		size_t len = 0;
		struct snapshot_id id;

		if (snapshot_read(s->dirfd, names[j], &buf, &len, &id) < 0) {
			if (errno != ENOENT)
				log_warn("crawl", "msg=\"cannot read\" file=%s error=\"%s\"", names[j], strerror(errno));
			continue;
		}
		int rc = nodescsv_parse(buf, len, s->port, load_row, report_row, &l, &s->other, &s->other_len);
		free(buf);
		report_rest(s);
		/* Another module writes its network's rows: the copies loaded here are not ours to keep. */
		if (s->other && s->extra_network)
			s->other_len = nodescsv_drop_network(s->other, s->other_len, s->extra_network);
		if (rc == -1) {
			if (snapshot_reject(s->dirfd, names[j], time(NULL), rej, sizeof(rej)) == 0)
				log_error("crawl", "msg=\"unusable file set aside\" file=%s kept_as=%s", names[j], rej);
			continue;
		}
		if (j == 0)
			s->seen = id;
		size_t good = 0;
		for (size_t i = 0; i < k->nodes.n; i++)
			good += (k->nodes.v[i].flags & (NODE_USED | NODE_PUBLISHED)) == (NODE_USED | NODE_PUBLISHED);
		log_info("crawl", "msg=loaded file=%s nodes=%zu published=%zu", names[j], k->nodes.count, good);
		if (j == 1)
			s->dirty = true;
		return;
	}
}

bool
crawl_store_poll(struct crawl_store *s, struct crawl_core *k, int64_t mono)
{
	struct snapshot_id id;
	struct load l = { s, k, mono };
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
	s->dirty = true;
	return true;
}

/* nodes.csv's good column: the model's verdict, not banned. */
static bool
good_for_csv(void *ctx, const struct node *n)
{
	(void)ctx;
	return (n->flags & NODE_GOOD) && n->banned_until <= (int64_t)time(NULL);
}

int
crawl_store_save(struct crawl_store *s, const struct crawl_core *k, bool force)
{
	size_t len;

	if (!s->dirty && !force)
		return 0;
	char *buf = nodescsv_format(&k->nodes, good_for_csv, NULL, s->other, s->other_len, &len);
	if (buf && s->extra_rows) {
		size_t xl;
		char *x = s->extra_rows(s->extra_ctx, &xl), *nb = x ? realloc(buf, len + xl + 1) : NULL;
		if (nb) {
			memcpy(nb + len, x, xl + 1);
			len += xl;
		}
		free(x);
		buf = nb ? nb : (free(buf), NULL);
	}
	if (!buf) {
		s->save_errors++;
		log_error("crawl", "msg=\"out of memory writing nodes.csv\"");
		return -1;
	}
	int rc = snapshot_write(s->dirfd, NODESCSV_FILE, buf, len);
	free(buf);
	if (rc < 0) {
		s->save_errors++;
		log_error("crawl", "msg=\"cannot write\" file=%s error=\"%s\"", NODESCSV_FILE, strerror(errno));
		return -1;
	}
	s->saves++;
	s->last_save = (int64_t)time(NULL);
	s->dirty = false;
	snapshot_stat(s->dirfd, NODESCSV_FILE, &s->seen);
	return 0;
}

void
crawl_store_set_extra(struct crawl_store *s, const char *network, char *(*fn)(void *ctx, size_t *len), void *ctx)
{
	s->extra_rows = fn;
	s->extra_ctx = ctx;
	s->extra_network = network;
	/* Those rows are the other module's now: drop the copies loaded with ours. */
	if (s->other)
		s->other_len = nodescsv_drop_network(s->other, s->other_len, network);
}

/* --- the zone's node rows ------------------------------------------------- */

static size_t
zone_set(struct crawl_core *k, const struct nodeset *set, int family, uint16_t port, int64_t mono, int64_t now)
{
	size_t fresh_n = 0;

	for (size_t j = 0; j < set->n; j++) {
		struct addr a = { .family = family, .port = port };
		bool fresh = false;
		memcpy(a.ip, set->nodes[j].ip, set->alen);
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
