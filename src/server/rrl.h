/*
 * rrl: response rate limiting for UDP, as NSD, Knot and BIND define it.
 *
 * A bucket is a source prefix (--rrl-ipv4-prefix, --rrl-ipv6-prefix) and a
 * response class: answers by name and type, wildcard answers as one name,
 * NXDOMAIN and NODATA per zone, errors all together. Each bucket holds up
 * to a second's worth of tokens and refills at the rate. Every response
 * takes a token, sent or not, down to a floor of RRL_WINDOW seconds' worth
 * (BIND and NSD do the same): a sustained flood keeps the bucket below zero
 * and earns no steady trickle of full answers, only the slips. Over the
 * limit a response is dropped, except every slip-th one, which goes out
 * truncated so a real resolver behind the prefix retries over TCP.
 *
 * Memory is one fixed table of RRL_TABLE buckets in sets of RRL_WAYS: a
 * new bucket takes a free or fully refilled slot of its set, else the
 * least recently used one. No I/O, no clock: time is an argument.
 */
#ifndef SEEDD_RRL_H
#define SEEDD_RRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/siphash.h"

#define RRL_TABLE 16384
#define RRL_WAYS 8
#define RRL_WINDOW 15       /* seconds of debt a bucket may run up */
#define RRL_DEFAULT_RATE 100
#define RRL_DEFAULT_SLIP 2

enum rrl_class { RRL_ANSWER, RRL_WILDCARD, RRL_NEGATIVE, RRL_ERROR };
enum rrl_verdict { RRL_SEND, RRL_SLIP, RRL_DROP };

struct rrl_config {
	uint32_t rate;  /* responses a second per bucket; 0: off */
	uint32_t slip;  /* every slip-th limited response truncated; 0: none */
	unsigned v4_prefix, v6_prefix;
};

struct rrl_stats {
	uint64_t limited, slipped, dropped, exempt, evicted;
};

struct rrl_bucket;

struct rrl {
	struct rrl_config cfg;
	struct siphash_key key;     /* bucket placement is not predictable */
	struct rrl_bucket *table;   /* RRL_TABLE, allocated on first use */
	struct rrl_stats stats;
};

/* A prefix and how many of its responses were limited, for the minute's log line. */
struct rrl_top {
	int family;
	uint8_t prefix[16];
	unsigned bits;
	uint64_t limited;
};

void rrl_init(struct rrl *r, const struct rrl_config *cfg, const uint8_t key[16]);
void rrl_free(struct rrl *r);
static inline bool rrl_on(const struct rrl *r) { return r->cfg.rate > 0; }

/*
 * Account one UDP response to the client ip (4 or 16 bytes) at now_ms
 * (monotonic) and say what to do with it. name is the lowercase wire name
 * of the class (the qname, or the zone for negative and wildcard answers;
 * NULL for errors). Returns RRL_SEND when limiting is off or memory is short.
 */
enum rrl_verdict rrl_account(struct rrl *r, int64_t now_ms, const uint8_t *ip, size_t iplen,
                             enum rrl_class cls, const uint8_t *name, uint16_t qtype);

/* The prefixes limited most since the last call, most first; clears the counts. */
size_t rrl_top(struct rrl *r, struct rrl_top *out, size_t n);

#endif
