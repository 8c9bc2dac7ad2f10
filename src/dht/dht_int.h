/*
 * dht_int: what dht.c, dht_id.c and dht_walk.c share; not for others.
 */
#ifndef SEEDD_DHT_INT_H
#define SEEDD_DHT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "dht/dht.h"

#define DHT_TOKEN_LEN 8

/* Asked lately (within DHT_REQUERY_S)? With mark: remember a's asking at now_s. */
bool dht_recently_asked(struct dht *d, const struct addr *a, int64_t now_s, bool mark);
/* Room in d->peer (parallel to the node table) for node i; false on OOM. */
bool dht_peer_room(struct dht *d, uint32_t i);
/* Send the held-back answers that have room now, in order; drop the stale ones. */
void dht_send_later(struct dht *d, int64_t now_ms);

#endif
