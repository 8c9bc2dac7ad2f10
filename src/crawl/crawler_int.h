/*
 * crawler_int: what crawler.c and crawler_store.c share; not for others.
 */
#ifndef SEEDD_CRAWLER_INT_H
#define SEEDD_CRAWLER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "crawl/crawler.h"

/* nodes.csv's good column: the model's verdict, not banned. */
bool crawler_good_for_csv(void *ctx, const struct node *n);
/* A node to check (new ones queued first); NODE_NONE when filtered or full. */
uint32_t crawler_learn(struct crawler *c, const struct addr *a, const struct url *u, bool seed);
/* Run the crawler's tick in_ms from now (no-op before crawler_start). */
void crawler_wake(struct crawler *c, int64_t in_ms);
/* The start-up load of nodes.csv (nodes.csv.old when it is missing or unusable). */
void crawler_load_nodes(struct crawler *c);

#endif
