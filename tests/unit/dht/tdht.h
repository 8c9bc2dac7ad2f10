/*
 * Helpers shared by the DHT and infohash tests: a capture of what a
 * struct dht sends (through its emit callback, with the simulated time),
 * a struct dht built for tests, and small address and hash helpers.
 */
#ifndef SEEDD_TDHT_H
#define SEEDD_TDHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/dht.h"

#define MS0 10000000LL
#define S0 1700000000LL
#define CAPN 8192

#define BY(s, n) ((struct krpc_bytes){ (const uint8_t *)(s), (n) })
#define NOBYTES ((struct krpc_bytes){ NULL, 0 })

struct td_cap {
	struct addr to;
	int64_t ms;
	size_t len;
	uint8_t p[KRPC_SEND_MAX];
};

extern struct td_cap *td_cap; /* CAPN datagrams, from td_begin() to td_end() */
extern int td_n, td_lost;
extern int64_t td_now_ms, td_now_s;
extern struct krpc_msg td_msg; /* the last datagram decoded by td_dec() */
extern uint8_t td_qbuf[KRPC_SEND_MAX];

/* A fresh capture; the dhts td_mk() makes until td_end() take rng seeds seed, seed + 1, ... */
void td_begin(uint8_t seed);
void td_end(void);
void td_at(int64_t ms);
struct dht *td_mk(bool allow_private, uint32_t rate);
void td_rm(struct dht *d);
/* Decode captured datagram i into td_msg. */
bool td_dec(int i);
size_t td_resp(struct krpc_bytes t, const void *id, struct krpc_bytes nodes, int64_t interval,
               struct krpc_bytes samples, const struct addr *ip);

struct addr td_ap(const char *s);
bool td_addr_eq(const struct addr *a, const struct addr *b);
void td_seed_rng(struct rng *r, uint8_t s);
/* Hash number i: its first four bytes are i (so a table entry tells its number). */
void td_mkh(uint32_t i, uint8_t h[IH_LEN]);

#endif
