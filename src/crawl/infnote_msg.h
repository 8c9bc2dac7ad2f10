/*
 * peers: the JSON message layer of the network (SPEC 5), both dialects,
 * over jsmn with a fixed token array. Builds our questions and classifies
 * what a node sends back. Pure: no I/O, no allocation.
 *
 * Dialect 0.1 (prototype nodes): {"identifier","type","content"}; answers
 * echo our identifier. Dialect 1.1 (Go nodes): {"id","type","data"};
 * answers carry a fresh id and are matched by type.
 *
 * A message is first checked against the RFC 8259 grammar (jsmn alone
 * takes trailing commas, bad literals, raw controls in strings and stops at
 * a NUL), nested at most PEERS_DEPTH_MAX deep and in at most
 * PEERS_TOKENS_MAX tokens; jsmn then tokenizes it into one static array,
 * so peers_parse is not reentrant. Strings are compared and extracted
 * after decoding their escapes (surrogate pairs to UTF-8). Keys may come
 * in any order; of duplicate keys the first wins. peers_parse returns a
 * named kind; the caller decides what ends a check.
 */
#ifndef SEEDD_PEERS_H
#define SEEDD_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/url.h"

#define PEERS_MAX_PER_ANSWER 1000 /* SPEC 5: accept at most 1000 peers */
#define PEERS_ID_LEN 10           /* our message identifiers */
#define PEERS_ID_MAX 32           /* longest id the builders take */
#define PEERS_TOKENS_MAX 262144   /* jsmn tokens of one message */
#define PEERS_DEPTH_MAX 64        /* nesting of objects and arrays; real messages use 4 */
#define PEERS_ASK_COUNT 10000

enum peers_dialect { PEERS_D_UNKNOWN = 0, PEERS_D_01 = 1, PEERS_D_11 = 2 };

/*
 * Our questions, byte for byte those of SPEC 5, NUL-terminated. id is
 * 1..PEERS_ID_MAX chars of [A-Za-z0-9] (we send PEERS_ID_LEN; SPEC 5's
 * 1.1 example has 8). Return the length, or 0 (and "" when cap > 0) when
 * cap is short or id is not of that form.
 */
size_t peers_ask_01(char *out, size_t cap, const char *id);      /* want_peers */
size_t peers_ask_info_01(char *out, size_t cap, const char *id); /* info */
size_t peers_ask_11(char *out, size_t cap, const char *id);      /* request:peers */

enum peers_kind {
	PEERS_K_MALFORMED, /* not one JSON object, too deep or too many tokens; or our answer with
	                      content/data not an object or peers not an array */
	PEERS_K_OTHER,     /* valid but not for us: broadcasts, their own questions, answers to other ids */
	PEERS_K_PEERS,     /* the peers answer we asked for (possibly empty) */
	PEERS_K_INFO,      /* 0.1 info answer to our info question */
	PEERS_K_ERROR,     /* an error answering our question (0.1 identifier matched, or any 1.1 error) */
	PEERS_K_SHAPED_11, /* a 1.1-shaped reply ("error" or "response:peers") when we asked in 0.1 */
};

/*
 * Called once per peer found, at most PEERS_MAX_PER_ANSWER times; entries
 * that do not parse are counted in bad, good ones past the cap in dropped.
 * peer is only valid during the call.
 */
typedef void peers_fn(void *ctx, const struct url *peer);

struct peers_result {
	enum peers_kind kind;
	enum peers_dialect dialect; /* the shape of the message */
	unsigned peers, bad, dropped; /* reported, unparsable, over the cap */
};

/*
 * Classify one text message. asked is the dialect of our pending question
 * (PEERS_D_UNKNOWN: none, so nothing is an answer). ask_id is the
 * identifier of our pending 0.1 question (want_peers or info; NULL when
 * none), ask_info says which. For a PEERS answer fn (may be NULL) is
 * called for each peer; default_port fills entries without a port.
 *
 * A top-level object with string "identifier", string "type" and a
 * "content" is 0.1-shaped; with string "id", string "type" and a "data",
 * 1.1-shaped; one with both shapes is read in the dialect asked.
 *   asked 0.1: type "answer" with our identifier: content.type "peers" is
 *     PEERS (content.peers: [{"address": IP or name, "port": integer}],
 *     plain ws), "info" is INFO if ask_info, else OTHER; type "error" with
 *     our identifier is ERROR; other 0.1 is OTHER; a 1.1 reply (type
 *     "error" or "response:peers") is SHAPED_11, other 1.1 is OTHER.
 *   asked 1.1: type "response:peers" is PEERS (data.peers: [URL string]),
 *     "error" is ERROR, other 1.1 is OTHER, any 0.1 is OTHER.
 * An object of neither shape is OTHER. result.dialect is the shape
 * (PEERS_D_UNKNOWN for neither shape or no JSON object at all).
 */
struct peers_result peers_parse(const char *msg, size_t len, enum peers_dialect asked,
                                const char *ask_id, int ask_info, uint16_t default_port,
                                peers_fn *fn, void *ctx);
const char *peers_kind_name(enum peers_kind k);

#endif
