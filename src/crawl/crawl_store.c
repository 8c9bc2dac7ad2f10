/*
 * crawler_store: nodes.csv (load at start, merge when changed on disk,
 * save) and the node rows of zone.csv as crawl candidates, for the crawler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crawl/crawler.h"
#include "crawl/crawler_int.h"
#include "base/log.h"
#include "nodes/nodes_csv.h"

/* --- nodes.csv ------------------------------------------------------------- */

#define REPORT_ROWS 5 /* bad rows named one by one; the rest are counted */

static void
report_row(void *ctx, unsigned line, const char *why)
{
	struct crawler *c = ctx;

	if (c->skipped++ < REPORT_ROWS)
		log_warn("crawl", "msg=\"row skipped\" file=%s line=%u error=\"%s\"", NODESCSV_FILE, line, why);
}

/* After a parse: how many bad rows were not named. */
static void
report_rest(struct crawler *c)
{
	if (c->skipped > REPORT_ROWS)
		log_warn("crawl", "msg=\"more rows skipped\" file=%s rows=%llu", NODESCSV_FILE,
		         (unsigned long long)(c->skipped - REPORT_ROWS));
	c->skipped = 0;
}

static void
load_row(void *ctx, const struct nodescsv_row *row)
{
	struct crawler *c = ctx;
	struct crawl_core *k = &c->core;
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
	if (*row->url)
		n->url = strdup(row->url);
	if (!n->h.first_seen)
		n->h.first_seen = now;
	crawl_core_loaded(k, i, row->good, c->loop->now, now);
}

void
crawler_load_nodes(struct crawler *c)
{
	static const char *const names[] = { NODESCSV_FILE, NODESCSV_FILE ".old" };

	for (int k = 0; k < 2; k++) {
		char *buf = NULL, rej[256];
		size_t len = 0;
		struct snapshot_id id;

		if (snapshot_read(c->dirfd, names[k], &buf, &len, &id) < 0) {
			if (errno != ENOENT)
				log_warn("crawl", "msg=\"cannot read\" file=%s error=\"%s\"", names[k], strerror(errno));
			continue;
		}
		int rc = nodescsv_parse(buf, len, c->cfg->port, load_row, report_row, c, &c->other, &c->other_len);
		free(buf);
		report_rest(c);
		if (rc == -1) {
			if (snapshot_reject(c->dirfd, names[k], time(NULL), rej, sizeof(rej)) == 0)
				log_error("crawl", "msg=\"unusable file set aside\" file=%s kept_as=%s", names[k], rej);
			continue;
		}
		if (k == 0)
			c->seen = id;
		log_info("crawl", "msg=loaded file=%s nodes=%zu published=%zu", names[k], c->core.nodes.count,
		         nodeset_count(&c->zone->v4) + nodeset_count(&c->zone->v6));
		if (k == 1)
			c->dirty = true;
		return;
	}
}

void
crawler_poll(struct crawler *c)
{
	struct snapshot_id id;
	char *buf = NULL, *other = NULL;
	size_t len, olen;

	if (!c->on)
		return;
	snapshot_stat(c->dirfd, NODESCSV_FILE, &id);
	if (!id.exists || snapshot_id_equal(&id, &c->seen))
		return;
	/* Someone else wrote nodes.csv: its unknown rows become candidates. */
	if (snapshot_read(c->dirfd, NODESCSV_FILE, &buf, &len, &id) < 0)
		return;
	c->seen = id;
	size_t before = c->core.nodes.count;
	if (nodescsv_parse(buf, len, c->cfg->port, load_row, report_row, c, &other, &olen) == 0)
		log_info("crawl", "msg=\"nodes.csv changed on disk: merged\" new=%zu", c->core.nodes.count - before);
	report_rest(c);
	free(other);
	free(buf);
	c->dirty = true;
	crawler_wake(c, 0);
}

int
crawler_save(struct crawler *c, bool force)
{
	size_t len;

	if (!c->on || (!c->dirty && !force))
		return 0;
	char *buf = nodescsv_format(&c->core.nodes, crawler_good_for_csv, c, c->other, c->other_len, &len);
	if (buf && c->extra_rows) {
		size_t xl;
		char *x = c->extra_rows(c->extra_ctx, &xl), *nb = x ? realloc(buf, len + xl + 1) : NULL;
		if (nb) {
			memcpy(nb + len, x, xl + 1);
			len += xl;
		}
		free(x);
		buf = nb ? nb : (free(buf), NULL);
	}
	if (!buf) {
		c->save_errors++;
		log_error("crawl", "msg=\"out of memory writing nodes.csv\"");
		return -1;
	}
	int rc = snapshot_write(c->dirfd, NODESCSV_FILE, buf, len);
	free(buf);
	if (rc < 0) {
		c->save_errors++;
		log_error("crawl", "msg=\"cannot write\" file=%s error=\"%s\"", NODESCSV_FILE, strerror(errno));
		return -1;
	}
	c->saves++;
	c->last_save = (int64_t)time(NULL);
	c->dirty = false;
	snapshot_stat(c->dirfd, NODESCSV_FILE, &c->seen);
	return 0;
}

void
crawler_set_extra(struct crawler *c, const char *network, char *(*fn)(void *ctx, size_t *len), void *ctx)
{
	c->extra_rows = fn;
	c->extra_ctx = ctx;
	c->extra_network = network;
	/* Those rows are the other module's now: drop the copies loaded with ours. */
	if (c->other)
		c->other_len = nodescsv_drop_network(c->other, c->other_len, network);
}

/* --- the zone's node rows ------------------------------------------------- */

static void
sync_set(struct crawler *c, struct nodeset *s, int family)
{
	int64_t now = (int64_t)time(NULL);

	for (size_t j = 0; j < s->n; j++) {
		struct addr a = { .family = family, .port = c->cfg->port };
		memcpy(a.ip, s->nodes[j].ip, s->alen);
		uint32_t i = nodes_find(&c->core.nodes, &a);
		/* A node row with no history: published as the last known state, checked first. */
		if (i == NODE_NONE && (i = crawler_learn(c, &a, NULL, false)) == NODE_NONE)
			continue;
		crawl_core_zone_row(&c->core, i, c->loop->now, now);
	}
}

void
crawler_sync_zone(struct crawler *c)
{
	if (!c->on)
		return;
	sync_set(c, &c->zone->v4, AF_INET);
	sync_set(c, &c->zone->v6, AF_INET6);
}
