/*
 * metrics: what /metrics and /healthz say (SPEC 7). The Prometheus text
 * format (version 0.0.4): counters and gauges of the DNS server (queries
 * by type and rcode, one counter per drop reason of the validation
 * ladder, truncations, TCP), the crawler (checks by result and error,
 * nodes by state, the outage), the DHT (datagrams and queries by method
 * and direction, drops by reason, infohashes, nodes, reachability),
 * snapshots (last success) and the process (RSS, start time).
 * /healthz: 200 "ok", or 503 with the reason.
 */
#ifndef SEEDD_METRICS_H
#define SEEDD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "crawl/crawler.h"
#include "dht/dht.h"
#include "server/primary.h"
#include "server/server.h"
#include "zone/zone.h"
#include "zone/zone_store.h"

struct metrics_src {
	const struct dns_server *dns;
	const struct zone *zone;
	const struct zonestore *store;
	const struct crawler *crawler;
	const struct dht *dht;
	const struct http_stats *http;
	const struct primary *primary; /* NULL: no zone transfers */
	int64_t start_time; /* unix s */
};

/* The /metrics text (malloc'd), or NULL when memory runs out. */
char *metrics_text(const struct metrics_src *m, size_t *len);
/* 200, or 503 with the reason in why (a line). */
int metrics_health(const struct metrics_src *m, int64_t now, char *why, size_t whylen);

#endif
