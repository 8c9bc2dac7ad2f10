/*
 * dht: the BitTorrent DHT sniffer (SPEC 6). One UDP socket; it joins the
 * DHT through the bootstrap nodes, walks a bounded queue of nodes with
 * find_node, shows every remote a stable "neighbour id" (the remote's
 * first 15 bytes and a tail of ours), answers the queries others send and
 * records the infohashes it hears (get_peers, announce_peer, BEP 51
 * samples). Politeness is enforced here, not hoped for: --dht-rate for our
 * queries, at most 4 packets a second to one IP, no private addresses
 * unless --allow-private. Memory is bounded: the queue, the infohash
 * table, the node table, per-IP and per-query state all have caps.
 *
 * dht.c, dht_id.c and dht_walk.c are the protocol (no sockets: datagrams
 * in, datagrams out through dht_emit, so tests and the fuzz target drive
 * it directly); dht_net.c the socket, timers and bootstrap; dht_store.c
 * infohashes.csv and the DHT rows of nodes.csv.
 */
#ifndef SEEDD_DHT_H
#define SEEDD_DHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/addr.h"
#include "base/changelog.h"
#include "dht/infohash.h"
#include "dht/ip_rate.h"
#include "dht/krpc.h"
#include "base/loop.h"
#include "nodes/node_table.h"
#include "nodes/nodes_file.h"
#include "dns/resolver.h"
#include "base/rng.h"
#include "base/siphash.h"
#include "base/snapshot.h"

#define DHT_DEFAULT_PORT 6881
#define DHT_BOOT_MAX 16
#define DHT_QUEUE 16384           /* nodes waiting for our find_node */
#define DHT_NEAR 64               /* recent responders, the nodes we hand out */
#define DHT_K 8                   /* nodes in one answer */
#define DHT_SLOTS 16384           /* our queries in flight (2-byte tids map onto these) */
#define DHT_TIMEOUT_MS 5000
#define DHT_TOKEN_ROTATE_S 300    /* a token lives 5 to 10 minutes */
#define DHT_RECENT 65536          /* remembers whom we asked lately */
#define DHT_REQUERY_S 900         /* ask the same node again no sooner */
#define DHT_IH_MAX 1000000        /* infohash table cap */
#define DHT_SI_MIN_S 60           /* BEP 51: our floor on a node's interval */
#define DHT_SI_MAX_S 21600
#define DHT_SI_INTERVAL 21600     /* the interval we tell others */
#define DHT_BATCH 64              /* datagrams per recvmmsg/sendmmsg */
#define DHT_RX_MAX 2048
#define DHT_QUIET_S 600
#define DHT_LATER 1024            /* answers held back by the per-IP limit */
#define DHT_LATER_PER_IP 8
#define DHT_LATER_MS 3000         /* then dropped: the asker has moved on */           /* no unsolicited query this long: not reachable */

enum dht_si { DHT_SI_UNKNOWN, DHT_SI_YES, DHT_SI_NO };

/* Per node of the node table (nodes that answered us), beside struct node. */
struct dht_peer {
	uint8_t id[KRPC_ID_LEN];      /* its id */
	uint8_t shown[KRPC_ID_LEN];   /* the id we show it, fixed at first contact */
	uint8_t si;                   /* enum dht_si */
	uint8_t asked;                /* a query is in flight */
};

/* One of our queries in flight; the slot is tid % DHT_SLOTS. */
struct dht_out {
	int64_t sent;                 /* monotonic ms; 0 = free */
	struct addr to;
	uint32_t node, gen;           /* node table entry, or NODE_NONE */
	uint16_t tid;
	uint8_t method;               /* enum krpc_method */
	uint8_t shown[KRPC_ID_LEN];
};

struct dht_qent {
	uint8_t id[KRPC_ID_LEN];
	struct addr a;
	bool have_id;
};

/* An answer that waits for room under the per-IP limit. */
struct dht_later {
	int64_t at;
	struct addr to;
	uint16_t len;
	uint8_t buf[KRPC_SEND_MAX];
};

struct dht_near {
	uint8_t id[KRPC_ID_LEN];
	struct addr a;
};

enum dht_cnt {
	DHT_C_IN, DHT_C_OUT, DHT_C_QUERIES_IN, DHT_C_RESPONSES_IN, DHT_C_ERRORS_IN,
	DHT_C_ANSWERS, DHT_C_ERRORS_OUT, DHT_C_QUERIES_OUT, DHT_C_TIMEOUTS,
	DHT_C_DROP_MALFORMED, DHT_C_DROP_UNMATCHED, DHT_C_DROP_RATE, DHT_C_DROP_FILTERED,
	DHT_C_BAD_TOKEN, DHT_C_GET_PEERS, DHT_C_ANNOUNCES, DHT_C_SAMPLES, DHT_C_QUEUE_FULL, DHT_C_DEFERRED,
	DHT_C_COUNT,
};

struct dht_stats {
	uint64_t c[DHT_C_COUNT];
	uint64_t q_in[KRPC_M_SAMPLE_INFOHASHES + 1];  /* queries received by method */
	uint64_t q_out[KRPC_M_SAMPLE_INFOHASHES + 1]; /* queries sent by method */
};

struct dht_config {
	struct addr bind;
	const char *boot[DHT_BOOT_MAX];   /* HOST:PORT */
	int nboot;
	uint32_t rate;                    /* our queries per second */
	bool allow_private;
	uint32_t max_nodes;
	uint32_t max_infohashes;
	const uint8_t *zone;              /* wire form: part of the stable id key */
	const struct addr *resolver;      /* for bootstrap host names; NULL: /etc/resolv.conf */
};

typedef void dht_emit_fn(void *arg, const struct addr *to, const uint8_t *p, size_t len);

struct dht_boot {
	struct addr a[DHT_BOOT_MAX];      /* resolved bootstrap addresses */
	int n;
	struct resolver_lookup *lookup[DHT_BOOT_MAX];
};

struct dht {
	struct dht_config cfg;
	struct loop *loop;
	struct rng *rng;
	int dirfd;
	bool on;
	/* the socket (dht_net.c); fd < 0 in tests: datagrams go to emit */
	int fd;
	struct loop_io io;
	int timer;
	dht_emit_fn *emit;
	void *emit_arg;
	uint8_t (*txbuf)[KRPC_SEND_MAX];
	struct addr txto[DHT_BATCH];
	size_t txlen[DHT_BATCH];
	unsigned ntx;
	struct resolver resolver;
	bool have_resolver;
	struct dht_boot boot;
	/* keys */
	struct siphash_key id_key;        /* neighbour ids: stable across restarts */
	struct siphash_key tok_key[2];    /* tokens: current and previous */
	int64_t tok_rotated;              /* unix s */
	/* state */
	struct iprate iprate;
	struct nodes nodes;
	struct dht_peer *peer;            /* parallel to nodes.v */
	size_t npeer;
	struct dht_qent *q;
	uint32_t qhead, qlen;
	struct dht_near near[DHT_NEAR];
	uint32_t nnear, near_pos;
	struct dht_out *out;
	uint32_t inflight;
	struct dht_later *later;
	uint32_t later_head, later_len;
	struct { uint32_t h, t; } *recent;
	double budget;                    /* --dht-rate token bucket */
	int64_t budget_t;
	struct ih_table ih;
	struct krpc_msg msg;
	/* reachability */
	int64_t last_unsolicited;         /* unix s of the last query from outside */
	uint64_t unsolicited_minute, unsolicited_last_minute;
	struct addr seen_as;              /* what remotes last reported (BEP 42 ip) */
	bool have_seen_as, reachable, said_unreachable;
	int64_t started;
	/* snapshots */
	bool ih_dirty;                    /* infohashes.csv must be written whole */
	struct logfile nodes_file;     /* nodes.csv and its log, when the DHT owns them */
	pid_t ih_writer;                  /* the child compacting infohashes.csv, or 0 */
	pid_t parent;                     /* our pid, for that child to check */
	struct changelog ih_log;          /* infohashes.csv.log; fd -1 while there is none */
	uint64_t ih_base_size;            /* bytes of infohashes.csv when last written whole */
	uint64_t ih_compactions;
	int64_t ih_last_save, nodes_last_save; /* unix s of the last successful writes */
	char *other;                      /* nodes.csv rows of other networks (when the crawler is off) */
	size_t other_len;
	bool own_nodes_file;
	bool loaded;                      /* the files read: in the loop's first turn (dht_load) */
	int64_t next_summary, next_sweep, next_reseed;
	struct dht_stats st, st_minute;
};

/* --- protocol (dht.c) ------------------------------------------------------- */

/* State and keys, no socket: -1 on OOM. */
int dht_core_init(struct dht *d, const struct dht_config *cfg, struct rng *rng, int64_t now_s);
void dht_core_free(struct dht *d);
/* One datagram from `from` at now_ms (monotonic) / now_s (unix). */
void dht_input(struct dht *d, const struct addr *from, const uint8_t *p, size_t len, int64_t now_ms,
               int64_t now_s);
/* Our queries due now (rate permitting); timeouts; token rotation. */
void dht_tick(struct dht *d, int64_t now_ms, int64_t now_s);
/* Learn a node to ask (id may be NULL). */
void dht_learn(struct dht *d, const uint8_t *id, const struct addr *a);
/* The id we show a: stable per ip:port. */
void dht_shown_id(struct dht *d, const struct addr *a, const uint8_t *their_id, uint8_t out[KRPC_ID_LEN]);
/* The token for an asker's address, and its check (current or previous secret). */
void dht_token(const struct dht *d, const struct addr *a, int k, uint8_t out[8]);
bool dht_token_ok(const struct dht *d, const struct addr *a, const uint8_t *tok, size_t len);
/* May we send to a at all (filters of SPEC 6)? */
bool dht_allowed(const struct dht *d, const struct addr *a);
/* Reachable: a query from outside within DHT_QUIET_S (or still starting). */
bool dht_reachable(const struct dht *d, int64_t now_s);
/* Rotate the token secret now (tests). */
void dht_rotate(struct dht *d, int64_t now_s);
/* Send one of our queries (per-IP limit: `limit` packets a second); false when refused. */
bool dht_send(struct dht *d, const struct addr *to, const uint8_t *p, size_t len, unsigned limit,
              int64_t now_ms);

/* --- the process (dht_net.c) ------------------------------------------------ */

/* Bind the socket, load infohashes.csv and nodes.csv: 0, or -1 with a line on stderr. */
int dht_init(struct dht *d, const struct dht_config *cfg, struct loop *l, struct rng *rng, int dirfd,
             bool own_nodes_file);
void dht_start(struct dht *d);
void dht_close(struct dht *d);
/* Flush datagrams batched for sendmmsg. */
void dht_flush(struct dht *d);

/* --- snapshots (dht_store.c) ------------------------------------------------ */

void dht_load(struct dht *d);
/* infohashes.csv, and nodes.csv when the DHT owns it (crawler off): 0 or -1. */
int dht_save(struct dht *d, bool force);
/* A child exited (SIGCHLD): the infohashes.csv writer's status is checked. */
void dht_reaped(struct dht *d, pid_t pid, int status);
/* The DHT's nodes.csv rows (malloc'd, no header) for the crawler to write. */
char *dht_node_rows(void *d, size_t *len);
/*
 * Its rows changed since the last call, for the crawler's batch of
 * nodes.csv.log (nodescsv_format_changes): 0, -1 when memory ran out, 1
 * when only a whole write can carry them (nothing taken).
 */
int dht_node_changes(void *d, char **buf, size_t *len, size_t *cap);

#endif
