/*
 * krpc: the messages of the BitTorrent DHT (BEP 5, 32, 42, 51) over
 * bencode, without I/O. krpc_decode reads one datagram into a struct of
 * pointers into it; the krpc_* writers build our queries, responses and
 * errors in canonical key order. Compact node and peer encodings for IPv4
 * and IPv6.
 *
 * Decoding verdicts: KRPC_OK; KRPC_DROP when there is nothing to answer
 * (not a dictionary, no transaction id): drop silently; KRPC_MALFORMED for
 * a message with a transaction id that breaks the rules: a query gets error
 * 203, a response or error is dropped (never answer those).
 */
#ifndef SEEDD_KRPC_H
#define SEEDD_KRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "dht/bencode.h"

#define KRPC_ID_LEN 20
#define KRPC_TOKENS 512         /* bencode values in one datagram (libtorrent: 500) */
#define KRPC_T_MAX 32           /* transaction ids we echo */
#define KRPC_NODE4_LEN 26
#define KRPC_NODE6_LEN 38
#define KRPC_SEND_MAX 1024      /* BEP 32: never send more in one datagram */

enum krpc_status { KRPC_OK, KRPC_DROP, KRPC_MALFORMED };

enum krpc_method {
	KRPC_M_NONE, KRPC_M_UNKNOWN, KRPC_M_PING, KRPC_M_FIND_NODE, KRPC_M_GET_PEERS,
	KRPC_M_ANNOUNCE_PEER, KRPC_M_SAMPLE_INFOHASHES,
};

struct krpc_bytes {
	const uint8_t *p;
	size_t len; /* p == NULL: absent */
};

struct krpc_msg {
	char y;                      /* 'q', 'r' or 'e' */
	struct krpc_bytes t;         /* transaction id, echoed verbatim */
	enum krpc_method method;     /* queries */
	struct krpc_bytes qname;
	const uint8_t *id;           /* sender id, 20 bytes */
	const uint8_t *target;       /* find_node, sample_infohashes */
	const uint8_t *info_hash;    /* get_peers, announce_peer */
	int64_t port;                /* announce_peer; -1 absent */
	bool implied_port;
	bool ro;                     /* BEP 43 read-only querier */
	struct krpc_bytes token;
	struct krpc_bytes nodes, nodes6, samples, ip;
	int values;                  /* token index of the values list, -1 absent */
	int64_t interval, num;       /* BEP 51; -1 absent */
	int64_t err_code;            /* errors */
	struct krpc_bytes err_msg;
	/* the parse */
	const uint8_t *buf;
	struct benc_tok tok[KRPC_TOKENS];
	uint32_t ntok;
};

/* Decode p[0..len); *why names the broken rule when not KRPC_OK. */
enum krpc_status krpc_decode(struct krpc_msg *m, const uint8_t *p, size_t len, const char **why);
const char *krpc_method_name(enum krpc_method m);
/* Number of peers in values, and peer k as an address (false when k is out of range). */
uint32_t krpc_values_count(const struct krpc_msg *m);
bool krpc_value_at(const struct krpc_msg *m, uint32_t k, struct addr *out);

/* --- compact encodings ----------------------------------------------------- */

/* 6 or 18 bytes (by family); returns the length. */
size_t krpc_peer_put(uint8_t *out, const struct addr *a);
/* 6 or 18 bytes into an address; false for another length. */
bool krpc_peer_get(const uint8_t *p, size_t len, struct addr *out);
/* 26 or 38 bytes: id then the peer; returns the length. */
size_t krpc_node_put(uint8_t *out, const uint8_t id[KRPC_ID_LEN], const struct addr *a);
/* Node k of a nodes (alen 4) or nodes6 (alen 16) string. */
bool krpc_node_get(struct krpc_bytes nodes, size_t alen, size_t k, uint8_t id[KRPC_ID_LEN], struct addr *out);

/* --- writers (canonical key order; check w->err) ---------------------------- */

void krpc_q_ping(struct benc_w *w, struct krpc_bytes t, const uint8_t *id);
void krpc_q_find_node(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, const uint8_t *target);
void krpc_q_get_peers(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, const uint8_t *info_hash);
void krpc_q_announce_peer(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, bool implied_port,
                          const uint8_t *info_hash, uint16_t port, struct krpc_bytes token);
void krpc_q_sample_infohashes(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, const uint8_t *target);

/*
 * One response for every method: the fields given (NULL/absent ones are
 * left out). values: n compact peers of vlen bytes each, written as a list.
 * ip: BEP 42, the querier as we saw it (left out when NULL).
 */
struct krpc_r {
	const uint8_t *id;
	int64_t interval;           /* -1: absent */
	struct krpc_bytes nodes, nodes6;
	int64_t num;                /* -1: absent */
	struct krpc_bytes samples;
	struct krpc_bytes token;
	const uint8_t *values;
	size_t nvalues, vlen;
	const struct addr *ip;
};
void krpc_response(struct benc_w *w, struct krpc_bytes t, const struct krpc_r *r);
void krpc_error(struct benc_w *w, struct krpc_bytes t, int code, const char *msg);

#endif
