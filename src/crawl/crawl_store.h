/*
 * crawl_store: the crawler's files, for the crawler core's table:
 * nodes.csv (loaded at start, merged when someone else changes it on
 * disk, written when changed) and the node rows of zone.csv as crawl
 * candidates. It knows the core and the snapshot writer, not the
 * crawler: the crawler calls it and wakes itself when it reports news.
 */
#ifndef SEEDD_CRAWL_STORE_H
#define SEEDD_CRAWL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/snapshot.h"
#include "crawl/crawl_core.h"
#include "nodes/nodes_csv.h"
#include "nodes/nodes_file.h"
#include "zone/zone.h"

/* The start-up load under way (crawl_store_load_step). */
struct crawl_load {
	int which;         /* 0: nodes.csv, 1: nodes.csv.old, 2: done */
	int fd;            /* the file being read, or -1 */
	struct nodes_slice sl;
	struct nodescsv_reader rd;
	struct snapshot_id id;
};

struct crawl_store {
	int dirfd;
	uint16_t port;     /* --port: rows without a port column take it */
	struct logfile file; /* nodes.csv and nodes.csv.log */
	struct snapshot_id seen;
	char *other;       /* nodes.csv rows of other networks, kept verbatim */
	size_t other_len;
	/* Another module's rows (the DHT's), written in place of that network's old ones. */
	char *(*extra_rows)(void *ctx, size_t *len);
	/* Its rows changed since the last call, appended to *buf as nodescsv_format_changes does. */
	int (*extra_changes)(void *ctx, char **buf, size_t *len, size_t *cap);
	void *extra_ctx;
	const char *extra_network;
	uint64_t saves, save_errors;
	uint64_t skipped;  /* bad rows in the parse under way */
	int64_t last_save; /* unix s of the last nodes.csv written */
	struct crawl_load ld;
};

void crawl_store_init(struct crawl_store *s, int dirfd, uint16_t port);
void crawl_store_free(struct crawl_store *s);
/*
 * The start-up load of nodes.csv (nodes.csv.old when it is missing or
 * unusable) into k, then nodes.csv.log over it: one slice a call, 1
 * while there is more, 0 when done. crawl_store_load does it all at once.
 */
int crawl_store_load_step(struct crawl_store *s, struct crawl_core *k, int64_t mono);
void crawl_store_load(struct crawl_store *s, struct crawl_core *k, int64_t mono);
/* nodes.csv changed on disk: merge its unknown rows; true when it was read. */
bool crawl_store_poll(struct crawl_store *s, struct crawl_core *k, int64_t mono);
/*
 * What changed since the last save as a batch of nodes.csv.log, or
 * nodes.csv whole when due (nodes_file.h) and always with force: 0 or -1.
 */
int crawl_store_save(struct crawl_store *s, struct crawl_core *k, bool force);
/* nodes.csv rows of network come from fn from now on (the DHT's). */
void crawl_store_set_extra(struct crawl_store *s, const char *network, char *(*fn)(void *ctx, size_t *len),
                           int (*changes)(void *ctx, char **buf, size_t *len, size_t *cap), void *ctx);
/* The zone's node rows (port --port) become candidates or keep their state; returns how many are new. */
size_t crawl_store_zone_rows(struct crawl_core *k, const struct zone *z, uint16_t port, int64_t mono, int64_t now);

#endif
