/*
 * iprate: at most IPRATE_N packets in any sliding second to one IP
 * address (SPEC 6: libtorrent bans a source above 5 packets/s). A fixed
 * table remembers the send times of recently used addresses; an address
 * pushed out of the table by others starts afresh, so memory stays
 * bounded whatever the traffic.
 */
#ifndef SEEDD_IPRATE_H
#define SEEDD_IPRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/siphash.h"

#define IPRATE_N 4        /* packets per second to one IP */
#define IPRATE_WAYS 4     /* slots an address may live in */

struct iprate_slot {
	uint8_t ip[16];
	uint8_t family, used;
	int64_t t[IPRATE_N];  /* monotonic ms of the last sends, oldest first */
};

struct iprate {
	struct iprate_slot *v;
	size_t mask;          /* slots - 1 */
	struct siphash_key key;
};

/* slots: a power of two >= IPRATE_WAYS. -1 when out of memory. */
int iprate_init(struct iprate *r, size_t slots, const struct siphash_key *key);
void iprate_free(struct iprate *r);
/*
 * Take one packet to a's IP at now (ms) when fewer than limit (<= IPRATE_N)
 * were sent in the last 1000 ms; false means do not send.
 */
bool iprate_take(struct iprate *r, const struct addr *a, int64_t now, unsigned limit);

#endif
