/*
 * fuzz_dht: KRPC dispatch, the sniffer's whole input path (dht_input and
 * dht_tick in dht.h) fed datagrams from several addresses.
 *
 * Input: records of [1 byte: source (low 3 bits pick one of 8 addresses,
 * bit 3 advances the clock and runs dht_tick)] [2 bytes: length, big
 * endian] [that many bytes: the datagram]. One sniffer lives across
 * inputs, as in the process, with memory caps small enough to hit.
 * Invariants, for every datagram the sniffer sends:
 *   - at most 1024 bytes (BEP 32), a canonical KRPC message (krpc_decode
 *     OK) and never to a filtered address;
 *   - a response or error goes only to the source of the datagram being
 *     handled, echoes its transaction id verbatim, and only answers a
 *     query (or a message whose y is missing): never a response or error;
 *     one sent later (held back by the per-IP limit) only to a source
 *     owed an answer;
 *   - a datagram that is not a canonical dictionary with a t gets nothing;
 *   - one query answered by at most one message;
 *   - the id we show a node not yet in our table shares its first 15
 *     bytes with the id it sent; a node of the table always sees one id;
 *   - our own queries (from dht_tick) have 2-byte transaction ids;
 *   - a node never finds its own address among the nodes we give it;
 *   - never more than 4 datagrams to one IP in a second of the clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht/dht.h"

#include "fuzz.h"

#define SOURCES 8

static struct dht d;
static struct rng rng;
static struct krpc_msg in, out;
static struct addr src[SOURCES];
static uint8_t shown[SOURCES][KRPC_ID_LEN];
static bool have_shown[SOURCES];
static const struct addr *cur;
static const uint8_t *cur_p;
static size_t cur_len;
static unsigned replies;
static bool cur_answerable, cur_silent, cur_not_in_table;
static int64_t now_ms = 1000000, now_s = 1700000000;
static int64_t sent_at[SOURCES][8];
static unsigned nsent[SOURCES];
static unsigned owed[SOURCES]; /* queries not answered at once (perhaps held back) */

static int
source_of(const struct addr *a)
{
	for (int i = 0; i < SOURCES; i++)
		if (a->family == src[i].family && memcmp(a->ip, src[i].ip, addr_len(a)) == 0)
			return i;
	return -1;
}

static void
emit(void *arg, const struct addr *to, const uint8_t *p, size_t len)
{
	const char *why;

	(void)arg;
	REQUIRE(len <= KRPC_SEND_MAX);
	REQUIRE(dht_allowed(&d, to));
	REQUIRE(krpc_decode(&out, p, len, &why) == KRPC_OK);
	int s = source_of(to);
	if (s >= 0) {
		/* At most 4 in any second to one IP. */
		unsigned k = nsent[s] % 8;
		if (nsent[s] >= 4)
			REQUIRE(now_ms - sent_at[s][(nsent[s] - 4) % 8] >= 1000);
		sent_at[s][k] = now_ms;
		nsent[s]++;
	}
	if (out.y == 'q') {
		REQUIRE(out.t.len == 2);
	} else if (!cur) {
		/* From dht_tick: an answer held back by the per-IP limit, owed to a source that asked. */
		REQUIRE(s >= 0 && owed[s] > 0);
		owed[s]--;
	} else {
		REQUIRE(cur->family == to->family && cur->port == to->port &&
		        memcmp(cur->ip, to->ip, addr_len(to)) == 0);
		REQUIRE(cur_answerable && !cur_silent);
		REQUIRE(++replies == 1);
		REQUIRE(out.t.len == in.t.len && memcmp(out.t.p, in.t.p, in.t.len) == 0);
	}
	/* Never a node its own address in our nodes. */
	struct addr na;
	uint8_t nid[KRPC_ID_LEN];
	for (size_t k = 0; out.y == 'r' && krpc_node_get(out.nodes, 4, k, nid, &na); k++)
		REQUIRE(!(na.port == to->port && memcmp(na.ip, to->ip, 4) == 0 && to->family == AF_INET));
	for (size_t k = 0; out.y == 'r' && krpc_node_get(out.nodes6, 16, k, nid, &na); k++)
		REQUIRE(!(na.port == to->port && memcmp(na.ip, to->ip, 16) == 0 && to->family == AF_INET6));
	const uint8_t *id = out.y == 'q' || out.y == 'r' ? out.id : NULL;
	/* An answer to a node we do not know yet: its neighbour id, close to its own. */
	if (id && cur && out.y == 'r' && cur_not_in_table && in.id)
		REQUIRE(memcmp(id, in.id, 15) == 0);
	/* A node of the table: one id, fixed at first contact, in every message. */
	if (id && s >= 0 && to->port == src[s].port && nodes_find(&d.nodes, to) != NODE_NONE) {
		if (have_shown[s])
			REQUIRE(memcmp(shown[s], id, KRPC_ID_LEN) == 0);
		memcpy(shown[s], id, KRPC_ID_LEN);
		have_shown[s] = true;
	}
	REQUIRE(!id || memcmp(id, (const uint8_t[KRPC_ID_LEN]){ 0 }, KRPC_ID_LEN) != 0);
}

static void
setup(void)
{
	static const uint8_t seed[32] = { 7 };
	struct dht_config cfg = { .rate = 200, .allow_private = true, .max_nodes = 64, .max_infohashes = 256 };

	addr_parse_hostport(&cfg.bind, "127.3.0.1:6881", 0);
	rng_init_seed(&rng, seed);
	REQUIRE(dht_core_init(&d, &cfg, &rng, now_s) == 0);
	d.emit = emit;
	for (int i = 0; i < SOURCES; i++) {
		char s[64];
		snprintf(s, sizeof(s), i % 4 == 3 ? "[fd00::%d]:%d" : "127.5.%d.1:%d", i + 1, 1000 + i);
		addr_parse_hostport(&src[i], s, 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	const char *why;

	if (!init) {
		setup();
		init = true;
	}
	size_t off = 0;
	while (off + 3 <= size) {
		uint8_t sel = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if (sel & 8) {
			now_ms += 100 + (sel >> 4) * 500;
			now_s = now_ms / 1000 + 1699000000;
			cur = NULL;
			dht_tick(&d, now_ms, now_s);
		}
		cur = &src[sel & 7];
		cur_p = data + off;
		cur_len = len;
		enum krpc_status st = krpc_decode(&in, cur_p, len, &why);
		cur_silent = st == KRPC_DROP;
		cur_answerable = st != KRPC_DROP && (in.y == 'q' || in.y == 0);
		replies = 0;
		cur_not_in_table = nodes_find(&d.nodes, cur) == NODE_NONE;
		dht_input(&d, cur, cur_p, len, now_ms, now_s);
		if (cur_answerable && replies == 0)
			owed[sel & 7]++;
		cur = NULL;
		off += len;
	}
	REQUIRE(d.ih.n <= 256 && d.nodes.count <= 64 && d.qlen <= DHT_QUEUE);
	return 0;
}
