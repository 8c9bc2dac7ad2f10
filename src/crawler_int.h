/*
 * crawler_int: what crawler.c and crawler_store.c share; not for others.
 */
#ifndef SEEDD_CRAWLER_INT_H
#define SEEDD_CRAWLER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "crawler.h"

/* The address may be kept and published (global, or --allow-private). */
bool crawler_publishable(const struct crawler *c, const struct addr *a);
/* Good by the health model and not banned at now (unix s). */
bool crawler_node_good(const struct crawler *c, const struct node *n, int64_t now);
/* nodes.csv's good column. */
bool crawler_good_for_csv(void *ctx, const struct node *n);
/* Put node i in the zone or take it out, as want and its port and address say. */
void crawler_publish(struct crawler *c, uint32_t i, bool want);
/* A node to check (new ones queued first); NODE_NONE when filtered or full. */
uint32_t crawler_learn(struct crawler *c, const struct addr *a, const struct url *u, bool seed);
/* Run the crawler's tick in_ms from now (no-op before crawler_start). */
void crawler_wake(struct crawler *c, int64_t in_ms);
/* The start-up load of nodes.csv (nodes.csv.old when it is missing or unusable). */
void crawler_load_nodes(struct crawler *c);

#endif
