/*
 * fuzz_krpc: one input = one datagram for krpc_decode (krpc.h).
 * Invariants:
 *   - the verdict is KRPC_OK, KRPC_DROP or KRPC_MALFORMED, with a reason
 *     when not OK; MALFORMED only with a usable transaction id;
 *   - on KRPC_OK every pointer lies inside the input with the right length:
 *     t 1..KRPC_T_MAX bytes, ids, targets and info_hashes 20, nodes a
 *     multiple of 26, nodes6 of 38, samples of 20; y is q, r or e and the
 *     fields of the other kinds are absent; port in 0..65535 (or -1 with
 *     implied_port), interval and num -1 or >= 0;
 *   - krpc_node_get finds exactly len / 26 (38) nodes, krpc_value_at
 *     exactly krpc_values_count peers, each from a 6- or 18-byte string;
 *   - re-encoding: a query's fields written with the matching krpc_q_*
 *     writer, a response's with krpc_response, an error's with krpc_error,
 *     decode again to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dht/krpc.h"

#include "fuzz.h"

static struct krpc_msg m, m2;

static int
inside(const uint8_t *buf, size_t size, const uint8_t *p, size_t len)
{
	return p >= buf && len <= size && (size_t)(p - buf) <= size - len;
}

static void
check_bytes(const uint8_t *buf, size_t size, struct krpc_bytes b, size_t unit)
{
	if (!b.p) {
		REQUIRE(b.len == 0);
		return;
	}
	REQUIRE(inside(buf, size, b.p, b.len));
	REQUIRE(b.len % unit == 0);
}

static void
check_id(const uint8_t *buf, size_t size, const uint8_t *id)
{
	if (id)
		REQUIRE(inside(buf, size, id, KRPC_ID_LEN));
}

static int
bytes_same(struct krpc_bytes a, struct krpc_bytes b)
{
	if (!a.p || !b.p)
		return !a.p && !b.p;
	return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

static int
id_same(const uint8_t *a, const uint8_t *b)
{
	if (!a || !b)
		return !a && !b;
	return memcmp(a, b, KRPC_ID_LEN) == 0;
}

static void
check_nodes(struct krpc_bytes nodes, size_t alen)
{
	size_t step = KRPC_ID_LEN + alen + 2, n = nodes.len / step;
	uint8_t id[KRPC_ID_LEN];
	struct addr a;

	for (size_t k = 0; k < n; k++) {
		REQUIRE(krpc_node_get(nodes, alen, k, id, &a));
		REQUIRE(memcmp(id, nodes.p + k * step, KRPC_ID_LEN) == 0);
		REQUIRE(a.family == (alen == 4 ? AF_INET : AF_INET6));
		uint8_t back[KRPC_NODE6_LEN];
		REQUIRE(krpc_node_put(back, id, &a) == step && memcmp(back, nodes.p + k * step, step) == 0);
	}
	REQUIRE(!krpc_node_get(nodes, alen, n, id, &a));
}

/* The decoded message, re-encoded with our writers, decodes to the same fields. */
static void
reencode(uint8_t *out, size_t cap)
{
	struct benc_w w;
	const char *why;
	struct krpc_bytes t = m.t;

	benc_w_init(&w, out, cap);
	if (m.y == 'q') {
		switch (m.method) {
		case KRPC_M_PING:
			krpc_q_ping(&w, t, m.id);
			break;
		case KRPC_M_FIND_NODE:
			krpc_q_find_node(&w, t, m.id, m.target);
			break;
		case KRPC_M_GET_PEERS:
			krpc_q_get_peers(&w, t, m.id, m.info_hash);
			break;
		case KRPC_M_ANNOUNCE_PEER:
			krpc_q_announce_peer(&w, t, m.id, m.implied_port, m.info_hash,
			                     (uint16_t)(m.port < 0 ? 0 : m.port), m.token);
			break;
		case KRPC_M_SAMPLE_INFOHASHES:
			krpc_q_sample_infohashes(&w, t, m.id, m.target);
			break;
		default:
			return;
		}
	} else if (m.y == 'r') {
		struct krpc_r r = { .id = m.id, .interval = m.interval, .nodes = m.nodes, .nodes6 = m.nodes6,
		                    .num = m.num, .samples = m.samples, .token = m.token };
		uint8_t *vals = NULL;
		struct addr ip;
		uint32_t nv = krpc_values_count(&m);
		if (m.ip.p && krpc_peer_get(m.ip.p, m.ip.len, &ip))
			r.ip = &ip;
		else if (m.ip.p)
			return; /* an ip we cannot write back */
		if (m.values >= 0) {
			/* The writer takes peers of one size, back to back. */
			size_t vlen = 0;
			vals = malloc(nv * 18 + 1);
			REQUIRE(vals != NULL);
			for (uint32_t k = 0; k < nv; k++) {
				struct addr a;
				REQUIRE(krpc_value_at(&m, k, &a));
				size_t n = krpc_peer_put(vals + vlen, &a);
				if (k > 0 && n != r.vlen) {
					free(vals);
					return;
				}
				r.vlen = n;
				vlen += n;
			}
			r.values = vals;
			r.nvalues = nv;
		}
		krpc_response(&w, t, &r);
		free(vals);
	} else {
		char msg[256];
		if (m.err_code < INT32_MIN || m.err_code > INT32_MAX || m.err_msg.len >= sizeof(msg) ||
		    memchr(m.err_msg.p, 0, m.err_msg.len))
			return;
		memcpy(msg, m.err_msg.p, m.err_msg.len);
		msg[m.err_msg.len] = 0;
		krpc_error(&w, t, (int)m.err_code, msg);
	}
	REQUIRE(!w.err);

	REQUIRE(krpc_decode(&m2, out, w.len, &why) == KRPC_OK);
	REQUIRE(m2.y == m.y && bytes_same(m2.t, m.t) && m2.method == m.method && bytes_same(m2.qname, m.qname));
	REQUIRE(id_same(m2.id, m.id) && id_same(m2.target, m.target) && id_same(m2.info_hash, m.info_hash));
	REQUIRE(m2.implied_port == m.implied_port && bytes_same(m2.token, m.token));
	REQUIRE(m2.port == (m.y == 'q' && m.method == KRPC_M_ANNOUNCE_PEER && m.port < 0 ? 0 : m.port));
	REQUIRE(bytes_same(m2.nodes, m.nodes) && bytes_same(m2.nodes6, m.nodes6) && bytes_same(m2.samples, m.samples));
	/* Only responses carry ip back (BEP 42); queries and errors are written without it. */
	REQUIRE((m.y != 'r' || bytes_same(m2.ip, m.ip)) && m2.interval == m.interval && m2.num == m.num);
	REQUIRE(m2.err_code == m.err_code && bytes_same(m2.err_msg, m.err_msg));
	REQUIRE(!m2.ro); /* our writers never claim read-only */
	REQUIRE(krpc_values_count(&m2) == krpc_values_count(&m) && (m2.values >= 0) == (m.values >= 0));
	for (uint32_t k = 0; k < krpc_values_count(&m); k++) {
		struct addr a, b;
		REQUIRE(krpc_value_at(&m, k, &a) && krpc_value_at(&m2, k, &b));
		REQUIRE(memcmp(&a, &b, sizeof(a)) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	enum krpc_status st = krpc_decode(&m, data, size, &why);

	REQUIRE(st == KRPC_OK || st == KRPC_DROP || st == KRPC_MALFORMED);
	REQUIRE(why != NULL);
	REQUIRE(m.buf == data);
	if (st == KRPC_DROP) {
		REQUIRE(*why);
		return 0;
	}
	/* MALFORMED is answered (203) for queries, so it needs a transaction id. */
	REQUIRE(m.t.p && m.t.len >= 1 && m.t.len <= KRPC_T_MAX && inside(data, size, m.t.p, m.t.len));
	if (st == KRPC_MALFORMED) {
		REQUIRE(*why);
		return 0;
	}
	REQUIRE(m.y == 'q' || m.y == 'r' || m.y == 'e');
	check_id(data, size, m.id);
	check_id(data, size, m.target);
	check_id(data, size, m.info_hash);
	check_bytes(data, size, m.qname, 1);
	check_bytes(data, size, m.token, 1);
	check_bytes(data, size, m.ip, 1);
	check_bytes(data, size, m.err_msg, 1);
	check_bytes(data, size, m.nodes, KRPC_NODE4_LEN);
	check_bytes(data, size, m.nodes6, KRPC_NODE6_LEN);
	check_bytes(data, size, m.samples, KRPC_ID_LEN);
	REQUIRE(m.interval >= -1 && m.num >= -1);
	switch (m.y) {
	case 'q':
		REQUIRE(m.id && m.qname.p && m.method != KRPC_M_NONE);
		REQUIRE(!m.nodes.p && !m.nodes6.p && !m.samples.p && m.values < 0 && m.interval == -1 && m.num == -1);
		if (m.method == KRPC_M_FIND_NODE || m.method == KRPC_M_SAMPLE_INFOHASHES)
			REQUIRE(m.target);
		if (m.method == KRPC_M_GET_PEERS)
			REQUIRE(m.info_hash);
		if (m.method == KRPC_M_ANNOUNCE_PEER) {
			REQUIRE(m.info_hash && m.token.p);
			REQUIRE(m.port <= 65535 && (m.implied_port ? m.port >= -1 : m.port >= 1));
		} else {
			REQUIRE(m.port == -1 && !m.implied_port);
		}
		break;
	case 'r':
		REQUIRE(m.id && m.method == KRPC_M_NONE && !m.qname.p && !m.target && !m.info_hash && !m.ro);
		break;
	default:
		REQUIRE(!m.id && m.method == KRPC_M_NONE && m.err_msg.p && m.values < 0);
		break;
	}
	check_nodes(m.nodes, 4);
	check_nodes(m.nodes6, 16);
	uint32_t nv = krpc_values_count(&m);
	REQUIRE(nv == 0 || m.values >= 0);
	for (uint32_t k = 0; k < nv; k++) {
		struct addr a;
		REQUIRE(krpc_value_at(&m, k, &a));
		REQUIRE(a.family == AF_INET || a.family == AF_INET6);
	}
	REQUIRE(!krpc_value_at(&m, nv, &(struct addr){ 0 }));

	uint8_t *out = malloc(size + 512);
	REQUIRE(out != NULL);
	reencode(out, size + 512);
	free(out);
	return 0;
}
