/*
 * krpc: the byte-exact vectors of notes/dht-wire-and-testing.md ("KRPC
 * message formats" 3 and 4), encoded with our writers and decoded field by
 * field, then the decoding rules one at a time.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "dht/krpc.h"
#include "t.h"

/*
 * Every macro is its own string literal so a "\xNN" escape never runs into
 * the digits that follow it.
 */
#define T "\x00\x07"
#define A "crawler-node-id-0001"
#define B "remote-node-id-00002"
#define IH "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67"
#define IH2 "\xfe\xdc\xba\x98\x76\x54\x32\x10\xfe\xdc\xba\x98\x76\x54\x32\x10\xfe\xdc\xba\x98"
#define TOK "\xa1\xb2\xc3\xd4"
#define N1 "NNNNNNNNNNNNNNNNNNNN" "\xc0\x00\x02\x0a\x1a\xe1"
#define N2 "MMMMMMMMMMMMMMMMMMMM" "\xc6\x33\x64\x07\xc8\xd5"
#define P1 "\xcb\x00\x71\x05\x1a\xe1"
#define P2 "\xcb\x00\x71\x06\x01\xbb"
#define S1 "SSSSSSSSSSSSSSSSSSSS" "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" "\x1a\xe1"
#define PEER6 "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02" "\x1a\xe1"
#define IP42 "\xc0\x00\x02\x63\x9c\x40"

#define PING_Q "d1:ad2:id20:" A "e1:q4:ping1:t2:" T "1:y1:qe"
#define PING_R "d1:rd2:id20:" B "e1:t2:" T "1:y1:re"
#define FN_Q "d1:ad2:id20:" A "6:target20:" IH "e1:q9:find_node1:t2:" T "1:y1:qe"
#define FN_R "d1:rd2:id20:" B "5:nodes52:" N1 N2 "e1:t2:" T "1:y1:re"
#define GP_Q "d1:ad2:id20:" A "9:info_hash20:" IH "e1:q9:get_peers1:t2:" T "1:y1:qe"
#define GP_RP "d1:rd2:id20:" B "5:token4:" TOK "6:valuesl6:" P1 "6:" P2 "ee1:t2:" T "1:y1:re"
#define GP_RN "d1:rd2:id20:" B "5:nodes26:" N1 "5:token4:" TOK "e1:t2:" T "1:y1:re"
#define AP_Q "d1:ad2:id20:" A "12:implied_porti0e9:info_hash20:" IH "4:porti6881e5:token4:" TOK \
             "e1:q13:announce_peer1:t2:" T "1:y1:qe"
#define SI_Q "d1:ad2:id20:" A "6:target20:" IH "e1:q17:sample_infohashes1:t2:" T "1:y1:qe"
#define SI_R "d1:rd2:id20:" B "8:intervali21600e5:nodes26:" N1 "3:numi2e7:samples40:" IH IH2 \
             "e1:t2:" T "1:y1:re"
#define E203 "d1:eli203e9:bad tokene1:t2:" T "1:y1:ee"
#define E204 "d1:eli204e14:Method Unknowne1:t2:" T "1:y1:ee"
#define RO_PING "d1:ad2:id20:" A "e1:q4:ping2:roi1e1:t2:" T "1:y1:qe"
#define IP_R "d2:ip6:" IP42 "1:rd2:id20:" B "e1:t2:" T "1:y1:re"

#define LIT(s) ((const uint8_t *)(s)), (sizeof(s) - 1)
#define BY(s) ((struct krpc_bytes){ (const uint8_t *)(s), sizeof(s) - 1 })
#define NONE ((struct krpc_bytes){ NULL, 0 })

static struct krpc_msg m;
static const char *why;

static enum krpc_status
dec(const uint8_t *p, size_t len)
{
	return krpc_decode(&m, p, len, &why);
}

/* The writer produced exactly vec. */
static int
out_is(const struct benc_w *w, const uint8_t *vec, size_t len)
{
	return !w->err && w->len == len && memcmp(w->p, vec, len) == 0;
}

/* --- the expected struct krpc_msg --------------------------------------------- */

struct want {
	char y;
	enum krpc_method method;
	struct krpc_bytes qname;
	const char *id, *target, *info_hash;
	int64_t port;
	bool implied_port, ro;
	struct krpc_bytes token, nodes, nodes6, samples, ip;
	const char *values[4]; /* compact peers, 6 bytes each (NULL-terminated); */
	bool has_values;
	int64_t interval, num, err_code;
	struct krpc_bytes err_msg;
};

static struct want
want_new(char y, enum krpc_method method, const char *id)
{
	return (struct want){ .y = y, .method = method, .id = id, .port = -1, .interval = -1, .num = -1 };
}

static int
bytes_eq(const uint8_t *buf, size_t blen, struct krpc_bytes got, struct krpc_bytes want)
{
	if (!want.p)
		return got.p == NULL && got.len == 0;
	/* Present: points into the datagram, with the right bytes. */
	return got.p && got.p >= buf && got.len <= blen && (size_t)(got.p - buf) <= blen - got.len &&
	       got.len == want.len && memcmp(got.p, want.p, want.len) == 0;
}

static int
id_eq(const uint8_t *buf, size_t blen, const uint8_t *got, const char *want)
{
	if (!want)
		return got == NULL;
	return got && got >= buf && (size_t)(got - buf) + KRPC_ID_LEN <= blen && memcmp(got, want, KRPC_ID_LEN) == 0;
}

#define FIELD(what, expr)                                             \
	do {                                                          \
		snprintf(name, sizeof(name), "%s: %s", vname, what);  \
		CHECK(name, expr);                                    \
	} while (0)

/* Decode vec and compare every field of struct krpc_msg with w. */
static void
decode_is(const char *vname, const uint8_t *vec, size_t len, const struct want *w)
{
	char name[128];
	enum krpc_status st = dec(vec, len);

	FIELD("KRPC_OK", st == KRPC_OK);
	if (st != KRPC_OK)
		return;
	FIELD("y", m.y == w->y);
	FIELD("t echoed", bytes_eq(vec, len, m.t, BY(T)));
	FIELD("method", m.method == w->method);
	FIELD("qname", bytes_eq(vec, len, m.qname, w->qname));
	FIELD("id", id_eq(vec, len, m.id, w->id));
	FIELD("target", id_eq(vec, len, m.target, w->target));
	FIELD("info_hash", id_eq(vec, len, m.info_hash, w->info_hash));
	FIELD("port", m.port == w->port);
	FIELD("implied_port", m.implied_port == w->implied_port);
	FIELD("ro", m.ro == w->ro);
	FIELD("token", bytes_eq(vec, len, m.token, w->token));
	FIELD("nodes", bytes_eq(vec, len, m.nodes, w->nodes));
	FIELD("nodes6", bytes_eq(vec, len, m.nodes6, w->nodes6));
	FIELD("samples", bytes_eq(vec, len, m.samples, w->samples));
	FIELD("ip", bytes_eq(vec, len, m.ip, w->ip));
	FIELD("interval", m.interval == w->interval);
	FIELD("num", m.num == w->num);
	FIELD("err_code", m.err_code == w->err_code);
	FIELD("err_msg", bytes_eq(vec, len, m.err_msg, w->err_msg));
	FIELD("values present", (m.values >= 0) == w->has_values);
	uint32_t n = 0;
	while (n < 4 && w->values[n])
		n++;
	FIELD("values count", krpc_values_count(&m) == n);
	int ok = 1;
	for (uint32_t k = 0; k < n; k++) {
		struct addr a, b;
		ok = ok && krpc_value_at(&m, k, &a) && krpc_peer_get((const uint8_t *)w->values[k], 6, &b) &&
		     memcmp(&a, &b, sizeof(a)) == 0;
	}
	FIELD("values", ok);
	struct addr past;
	FIELD("value past the end", !krpc_value_at(&m, n, &past));
}

static struct addr
ad(const char *ip, uint16_t port)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	addr_parse_ip(&a, ip);
	a.port = port;
	return a;
}

static void
test_compact(void)
{
	uint8_t out[64], id[KRPC_ID_LEN];
	struct addr a, b;
	struct krpc_bytes nodes;

	a = ad("192.0.2.10", 6881);
	CHECK("N1 put", krpc_node_put(out, (const uint8_t *)"NNNNNNNNNNNNNNNNNNNN", &a) == 26 &&
	                memcmp(out, N1, 26) == 0);
	a = ad("198.51.100.7", 51413);
	CHECK("N2 put", krpc_node_put(out, (const uint8_t *)"MMMMMMMMMMMMMMMMMMMM", &a) == 26 &&
	                memcmp(out, N2, 26) == 0);
	a = ad("203.0.113.5", 6881);
	CHECK("P1 put", krpc_peer_put(out, &a) == 6 && memcmp(out, P1, 6) == 0);
	CHECK("P1 get", krpc_peer_get(LIT(P1), &b) && memcmp(&a, &b, sizeof(a)) == 0);
	a = ad("203.0.113.6", 443);
	CHECK("P2 put", krpc_peer_put(out, &a) == 6 && memcmp(out, P2, 6) == 0);
	CHECK("P2 get", krpc_peer_get(LIT(P2), &b) && memcmp(&a, &b, sizeof(a)) == 0);
	a = ad("2001:db8::1", 6881);
	CHECK("S1 put", krpc_node_put(out, (const uint8_t *)"SSSSSSSSSSSSSSSSSSSS", &a) == 38 &&
	                memcmp(out, S1, 38) == 0);
	a = ad("2001:db8::2", 6881);
	CHECK("peer6 put", krpc_peer_put(out, &a) == 18 && memcmp(out, PEER6, 18) == 0);
	CHECK("peer6 get", krpc_peer_get(LIT(PEER6), &b) && memcmp(&a, &b, sizeof(a)) == 0);
	CHECK("peer of 5 bytes refused", !krpc_peer_get(LIT("\x01\x02\x03\x04\x05"), &b));
	CHECK("peer of 7 bytes refused", !krpc_peer_get(LIT("\x01\x02\x03\x04\x05\x06\x07"), &b));

	nodes = BY(N1 N2);
	a = ad("198.51.100.7", 51413);
	CHECK("N2 get (node 1 of nodes)", krpc_node_get(nodes, 4, 1, id, &b) &&
	                                  memcmp(id, "MMMMMMMMMMMMMMMMMMMM", 20) == 0 && memcmp(&a, &b, sizeof(a)) == 0);
	a = ad("192.0.2.10", 6881);
	CHECK("N1 get (node 0)", krpc_node_get(nodes, 4, 0, id, &b) && memcmp(id, N1, 20) == 0 &&
	                         memcmp(&a, &b, sizeof(a)) == 0);
	CHECK("node 2 of 2 absent", !krpc_node_get(nodes, 4, 2, id, &b));
	CHECK("nodes read as nodes6: 52 < 2 * 38", krpc_node_get(nodes, 16, 0, id, &b) && !krpc_node_get(nodes, 16, 1, id, &b));
	CHECK("alen 6 refused", !krpc_node_get(nodes, 6, 0, id, &b));
	CHECK("absent nodes", !krpc_node_get(NONE, 4, 0, id, &b));
	a = ad("2001:db8::1", 6881);
	CHECK("S1 get", krpc_node_get(BY(S1), 16, 0, id, &b) && memcmp(id, S1, 20) == 0 &&
	                memcmp(&a, &b, sizeof(a)) == 0);
	CHECK("torn node ignored", !krpc_node_get(BY(N1 "\x01"), 4, 1, id, &b));
}

static void
test_vectors(void)
{
	uint8_t buf[KRPC_SEND_MAX], hex[256];
	struct benc_w w;
	struct want x;
	struct krpc_r r;
	int n;

	/* The literals above against the notes' hex dumps. */
	n = t_hex("64 31 3a 61 64 32 3a 69 64 32 30 3a 63 72 61 77 6c 65 72 2d 6e 6f 64 65 2d 69 64 2d 30 30 30 31"
	          "65 31 3a 71 34 3a 70 69 6e 67 31 3a 74 32 3a 00 07 31 3a 79 31 3a 71 65", hex, sizeof(hex));
	CHECK("ping q hex (56 bytes)", n == 56 && sizeof(PING_Q) - 1 == 56 && memcmp(hex, PING_Q, 56) == 0);
	n = t_hex("64 31 3a 72 64 32 3a 69 64 32 30 3a 72 65 6d 6f 74 65 2d 6e 6f 64 65 2d 69 64 2d 30 30 30 30 32"
	          "35 3a 74 6f 6b 65 6e 34 3a a1 b2 c3 d4 36 3a 76 61 6c 75 65 73 6c 36 3a cb 00 71 05 1a e1 36 3a"
	          "cb 00 71 06 01 bb 65 65 31 3a 74 32 3a 00 07 31 3a 79 31 3a 72 65", hex, sizeof(hex));
	CHECK("get_peers r hex (86 bytes)", n == 86 && sizeof(GP_RP) - 1 == 86 && memcmp(hex, GP_RP, 86) == 0);
	n = t_hex("64 31 3a 61 64 32 3a 69 64 32 30 3a 63 72 61 77 6c 65 72 2d 6e 6f 64 65 2d 69 64 2d 30 30 30 31"
	          "31 32 3a 69 6d 70 6c 69 65 64 5f 70 6f 72 74 69 30 65 39 3a 69 6e 66 6f 5f 68 61 73 68 32 30 3a"
	          "01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 34 3a 70 6f 72 74 69 36 38 38 31 65"
	          "35 3a 74 6f 6b 65 6e 34 3a a1 b2 c3 d4 65 31 3a 71 31 33 3a 61 6e 6e 6f 75 6e 63 65 5f 70 65 65"
	          "72 31 3a 74 32 3a 00 07 31 3a 79 31 3a 71 65", hex, sizeof(hex));
	CHECK("announce_peer q hex (143 bytes)", n == 143 && sizeof(AP_Q) - 1 == 143 && memcmp(hex, AP_Q, 143) == 0);
	n = t_hex("64 31 3a 72 64 32 3a 69 64 32 30 3a 72 65 6d 6f 74 65 2d 6e 6f 64 65 2d 69 64 2d 30 30 30 30 32"
	          "38 3a 69 6e 74 65 72 76 61 6c 69 32 31 36 30 30 65 35 3a 6e 6f 64 65 73 32 36 3a 4e 4e 4e 4e 4e"
	          "4e 4e 4e 4e 4e 4e 4e 4e 4e 4e 4e 4e 4e 4e 4e c0 00 02 0a 1a e1 33 3a 6e 75 6d 69 32 65 37 3a 73"
	          "61 6d 70 6c 65 73 34 30 3a 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 fe dc ba"
	          "98 76 54 32 10 fe dc ba 98 76 54 32 10 fe dc ba 98 65 31 3a 74 32 3a 00 07 31 3a 79 31 3a 72 65",
	          hex, sizeof(hex));
	CHECK("sample_infohashes r hex (160 bytes)", n == 160 && sizeof(SI_R) - 1 == 160 && memcmp(hex, SI_R, 160) == 0);
	CHECK("lengths as in the notes",
	      sizeof(PING_R) - 1 == 47 && sizeof(FN_Q) - 1 == 92 && sizeof(FN_R) - 1 == 109 && sizeof(GP_Q) - 1 == 95 &&
	      sizeof(GP_RN) - 1 == 96 && sizeof(SI_Q) - 1 == 101 && sizeof(E203) - 1 == 36 && sizeof(E204) - 1 == 42 &&
	      sizeof(RO_PING) - 1 == 63 && sizeof(IP_R) - 1 == 59);

	/* ping */
	benc_w_init(&w, buf, sizeof(buf));
	krpc_q_ping(&w, BY(T), (const uint8_t *)A);
	CHECK("ping q encode", out_is(&w, LIT(PING_Q)));
	x = want_new('q', KRPC_M_PING, A);
	x.qname = BY("ping");
	decode_is("ping q", LIT(PING_Q), &x);

	memset(&r, 0, sizeof(r));
	r.id = (const uint8_t *)B;
	r.interval = r.num = -1;
	benc_w_init(&w, buf, sizeof(buf));
	krpc_response(&w, BY(T), &r);
	CHECK("ping r encode (and announce_peer r)", out_is(&w, LIT(PING_R)));
	x = want_new('r', KRPC_M_NONE, B);
	decode_is("ping r", LIT(PING_R), &x);

	/* find_node */
	benc_w_init(&w, buf, sizeof(buf));
	krpc_q_find_node(&w, BY(T), (const uint8_t *)A, (const uint8_t *)IH);
	CHECK("find_node q encode", out_is(&w, LIT(FN_Q)));
	x = want_new('q', KRPC_M_FIND_NODE, A);
	x.qname = BY("find_node");
	x.target = IH;
	decode_is("find_node q", LIT(FN_Q), &x);

	r.nodes = BY(N1 N2);
	benc_w_init(&w, buf, sizeof(buf));
	krpc_response(&w, BY(T), &r);
	CHECK("find_node r encode", out_is(&w, LIT(FN_R)));
	x = want_new('r', KRPC_M_NONE, B);
	x.nodes = BY(N1 N2);
	decode_is("find_node r", LIT(FN_R), &x);

	/* get_peers */
	benc_w_init(&w, buf, sizeof(buf));
	krpc_q_get_peers(&w, BY(T), (const uint8_t *)A, (const uint8_t *)IH);
	CHECK("get_peers q encode", out_is(&w, LIT(GP_Q)));
	x = want_new('q', KRPC_M_GET_PEERS, A);
	x.qname = BY("get_peers");
	x.info_hash = IH;
	decode_is("get_peers q", LIT(GP_Q), &x);

	memset(&r, 0, sizeof(r));
	r.id = (const uint8_t *)B;
	r.interval = r.num = -1;
	r.token = BY(TOK);
	r.values = (const uint8_t *)P1 P2;
	r.nvalues = 2;
	r.vlen = 6;
	benc_w_init(&w, buf, sizeof(buf));
	krpc_response(&w, BY(T), &r);
	CHECK("get_peers r (peers) encode", out_is(&w, LIT(GP_RP)));
	x = want_new('r', KRPC_M_NONE, B);
	x.token = BY(TOK);
	x.has_values = true;
	x.values[0] = P1;
	x.values[1] = P2;
	decode_is("get_peers r (peers)", LIT(GP_RP), &x);

	r.values = NULL;
	r.nvalues = 0;
	r.nodes = BY(N1);
	benc_w_init(&w, buf, sizeof(buf));
	krpc_response(&w, BY(T), &r);
	CHECK("get_peers r (nodes) encode", out_is(&w, LIT(GP_RN)));
	x = want_new('r', KRPC_M_NONE, B);
	x.token = BY(TOK);
	x.nodes = BY(N1);
	decode_is("get_peers r (nodes)", LIT(GP_RN), &x);

	/* announce_peer (the response is ping's) */
	benc_w_init(&w, buf, sizeof(buf));
	krpc_q_announce_peer(&w, BY(T), (const uint8_t *)A, false, (const uint8_t *)IH, 6881, BY(TOK));
	CHECK("announce_peer q encode", out_is(&w, LIT(AP_Q)));
	x = want_new('q', KRPC_M_ANNOUNCE_PEER, A);
	x.qname = BY("announce_peer");
	x.info_hash = IH;
	x.port = 6881;
	x.token = BY(TOK);
	decode_is("announce_peer q", LIT(AP_Q), &x);

	/* sample_infohashes */
	benc_w_init(&w, buf, sizeof(buf));
	krpc_q_sample_infohashes(&w, BY(T), (const uint8_t *)A, (const uint8_t *)IH);
	CHECK("sample_infohashes q encode", out_is(&w, LIT(SI_Q)));
	x = want_new('q', KRPC_M_SAMPLE_INFOHASHES, A);
	x.qname = BY("sample_infohashes");
	x.target = IH;
	decode_is("sample_infohashes q", LIT(SI_Q), &x);

	memset(&r, 0, sizeof(r));
	r.id = (const uint8_t *)B;
	r.interval = 21600;
	r.nodes = BY(N1);
	r.num = 2;
	r.samples = BY(IH IH2);
	benc_w_init(&w, buf, sizeof(buf));
	krpc_response(&w, BY(T), &r);
	CHECK("sample_infohashes r encode", out_is(&w, LIT(SI_R)));
	x = want_new('r', KRPC_M_NONE, B);
	x.interval = 21600;
	x.nodes = BY(N1);
	x.num = 2;
	x.samples = BY(IH IH2);
	decode_is("sample_infohashes r", LIT(SI_R), &x);
	/* The magnetico slicing case: exactly IH at 0 and IH2 at 20. */
	CHECK("samples: two hashes, IH at 0 and IH2 at 20",
	      dec(LIT(SI_R)) == KRPC_OK && m.samples.len == 40 && m.samples.p == (const uint8_t *)m.buf + 105 &&
	      memcmp(m.samples.p, IH, 20) == 0 && memcmp(m.samples.p + 20, IH2, 20) == 0);

	/* errors */
	benc_w_init(&w, buf, sizeof(buf));
	krpc_error(&w, BY(T), 203, "bad token");
	CHECK("error 203 encode", out_is(&w, LIT(E203)));
	x = want_new('e', KRPC_M_NONE, NULL);
	x.err_code = 203;
	x.err_msg = BY("bad token");
	decode_is("error 203", LIT(E203), &x);
	benc_w_init(&w, buf, sizeof(buf));
	krpc_error(&w, BY(T), 204, "Method Unknown");
	CHECK("error 204 encode", out_is(&w, LIT(E204)));
	x.err_code = 204;
	x.err_msg = BY("Method Unknown");
	decode_is("error 204", LIT(E204), &x);

	/* BEP 43 read-only ping, BEP 42 response with ip */
	x = want_new('q', KRPC_M_PING, A);
	x.qname = BY("ping");
	x.ro = true;
	decode_is("BEP 43 ro ping", LIT(RO_PING), &x);

	struct addr seen = ad("192.0.2.99", 40000);
	memset(&r, 0, sizeof(r));
	r.id = (const uint8_t *)B;
	r.interval = r.num = -1;
	r.ip = &seen;
	benc_w_init(&w, buf, sizeof(buf));
	krpc_response(&w, BY(T), &r);
	CHECK("BEP 42 r with ip encode", out_is(&w, LIT(IP_R)));
	x = want_new('r', KRPC_M_NONE, B);
	x.ip = BY(IP42);
	decode_is("BEP 42 r with ip", LIT(IP_R), &x);

	/* A response that does not fit leaves err set for the caller to roll back. */
	benc_w_init(&w, buf, 40);
	krpc_response(&w, BY(T), &r);
	CHECK("response too big: err", w.err != 0 && w.len <= 40);
}

static enum krpc_status
st(const uint8_t *p, size_t len)
{
	return dec(p, len);
}

static void
test_rules(void)
{
	uint8_t buf[KRPC_SEND_MAX];
	struct benc_w w;

	/* The envelope. */
	CHECK("no t: DROP", st(LIT("d1:ad2:id20:" A "e1:q4:ping1:y1:qe")) == KRPC_DROP);
	CHECK("empty t: DROP", st(LIT("d1:ad2:id20:" A "e1:q4:ping1:t0:1:y1:qe")) == KRPC_DROP);
	CHECK("t not a string: DROP", st(LIT("d1:ad2:id20:" A "e1:q4:ping1:ti7e1:y1:qe")) == KRPC_DROP);
	CHECK("t of 33 bytes: DROP",
	      st(LIT("d1:ad2:id20:" A "e1:q4:ping1:t33:012345678901234567890123456789012" "1:y1:qe")) == KRPC_DROP);
	CHECK("t of 32 bytes: OK",
	      st(LIT("d1:ad2:id20:" A "e1:q4:ping1:t32:01234567890123456789012345678901" "1:y1:qe")) == KRPC_OK);
	CHECK("list: DROP", st(LIT("l1:t2:" T "e")) == KRPC_DROP);
	CHECK("integer: DROP", st(LIT("i1e")) == KRPC_DROP);
	CHECK("empty datagram: DROP", st(LIT("")) == KRPC_DROP);
	/* SPEC 6: damage after a readable t gets a 203 echoing it (MALFORMED); before it, nothing. */
	CHECK("unsorted keys, t first: MALFORMED with t",
	      st(LIT("d1:t2:" T "1:ad2:id20:" A "e1:q4:ping1:y1:qe")) == KRPC_MALFORMED && m.t.len == 2 &&
	      memcmp(m.t.p, T, 2) == 0 && m.y == 'q');
	CHECK("trailing byte: MALFORMED with t", st(LIT(PING_Q "x")) == KRPC_MALFORMED && m.t.len == 2 && m.y == 'q');
	CHECK("truncated after t: MALFORMED with t",
	      st((const uint8_t *)PING_Q, sizeof(PING_Q) - 2) == KRPC_MALFORMED && m.t.len == 2);
	CHECK("a string overrunning the datagram after t: MALFORMED with t",
	      st(LIT("d1:ad2:id20:" A "e1:q4:ping1:t2:" T "1:v99:xye")) == KRPC_MALFORMED && m.t.len == 2 &&
	      memcmp(m.t.p, T, 2) == 0);
	CHECK("a string overrunning the datagram before t: DROP",
	      st(LIT("d1:ad2:id99:" A "e1:q4:ping1:t2:" T "1:y1:qe")) == KRPC_DROP);
	CHECK("truncated before t: DROP", st(LIT("d1:ad2:id20:" A "e1:q4:pi")) == KRPC_DROP);
	CHECK("damaged response, y read before the damage: y kept (never answered)",
	      st(LIT("d1:y1:r1:t2:" T "1:rd2:id3:xe")) == KRPC_MALFORMED && m.y == 'r');
	CHECK("a damaged t of 33 bytes: DROP",
	      st(LIT("d1:t33:012345678901234567890123456789012" "1:y1:q")) == KRPC_DROP);

	static const char tid4[] = "d1:ad2:id20:" A "e1:q4:ping1:t4:\xff\x00" "ab1:y1:qe";
	CHECK("t of 4 bytes (jech/dht): OK", st(LIT(tid4)) == KRPC_OK && m.t.len == 4 &&
	                                     memcmp(m.t.p, "\xff\x00" "ab", 4) == 0);
	struct krpc_r r = { .id = (const uint8_t *)B, .interval = -1, .num = -1 };
	benc_w_init(&w, buf, sizeof(buf));
	krpc_response(&w, m.t, &r);
	CHECK("t of 4 bytes echoed verbatim",
	      out_is(&w, LIT("d1:rd2:id20:" B "e1:t4:\xff\x00" "ab1:y1:re")));

	CHECK("y = x: MALFORMED", st(LIT("d1:ad2:id20:" A "e1:q4:ping1:t2:" T "1:y1:xe")) == KRPC_MALFORMED);
	CHECK("y = qq: MALFORMED", st(LIT("d1:ad2:id20:" A "e1:q4:ping1:t2:" T "1:y2:qqe")) == KRPC_MALFORMED);
	CHECK("no y: MALFORMED", st(LIT("d1:ad2:id20:" A "e1:q4:ping1:t2:" T "e")) == KRPC_MALFORMED);
	CHECK("y an integer: MALFORMED", st(LIT("d1:ad2:id20:" A "e1:q4:ping1:t2:" T "1:yi1ee")) == KRPC_MALFORMED);
	CHECK("MALFORMED says why", st(LIT("d1:t2:" T "1:y1:xe")) == KRPC_MALFORMED && why && *why);

	/* Queries. */
	CHECK("query without a: MALFORMED", st(LIT("d1:q4:ping1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("query with a list a: MALFORMED", st(LIT("d1:ale1:q4:ping1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("query without q: MALFORMED", st(LIT("d1:ad2:id20:" A "e1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("query without id: MALFORMED", st(LIT("d1:ade1:q4:ping1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("id of 19 bytes: MALFORMED",
	      st(LIT("d1:ad2:id19:crawler-node-id-000e1:q4:ping1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("id of 21 bytes: MALFORMED",
	      st(LIT("d1:ad2:id21:crawler-node-id-00011e1:q4:ping1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("id an integer: MALFORMED", st(LIT("d1:ad2:idi1ee1:q4:ping1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("all-zero id decodes (policy is the caller's)",
	      st(LIT("d1:ad2:id20:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" "e1:q4:ping1:t2:" T "1:y1:qe")) == KRPC_OK &&
	      m.id && memcmp(m.id, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20) == 0);
	CHECK("find_node without target: MALFORMED",
	      st(LIT("d1:ad2:id20:" A "e1:q9:find_node1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("find_node target of 19: MALFORMED",
	      st(LIT("d1:ad2:id20:" A "6:target19:0123456789012345678e1:q9:find_node1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("sample_infohashes without target: MALFORMED",
	      st(LIT("d1:ad2:id20:" A "e1:q17:sample_infohashes1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("get_peers without info_hash: MALFORMED",
	      st(LIT("d1:ad2:id20:" A "e1:q9:get_peers1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("get_peers with target instead: MALFORMED",
	      st(LIT("d1:ad2:id20:" A "6:target20:" IH "e1:q9:get_peers1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);

#define AP(args) "d1:ad2:id20:" A args "e1:q13:announce_peer1:t2:" T "1:y1:qe"
	CHECK("announce_peer without token: MALFORMED",
	      st(LIT(AP("9:info_hash20:" IH "4:porti6881e"))) == KRPC_MALFORMED);
	CHECK("announce_peer without info_hash: MALFORMED",
	      st(LIT(AP("4:porti6881e5:token4:" TOK))) == KRPC_MALFORMED);
	CHECK("announce_peer implied_port=1 without port: OK",
	      st(LIT(AP("12:implied_porti1e9:info_hash20:" IH "5:token4:" TOK))) == KRPC_OK && m.implied_port &&
	      m.port == -1 && m.method == KRPC_M_ANNOUNCE_PEER);
	CHECK("announce_peer implied_port=1, port 0: OK",
	      st(LIT(AP("12:implied_porti1e9:info_hash20:" IH "4:porti0e5:token4:" TOK))) == KRPC_OK && m.implied_port);
	CHECK("announce_peer no port, no implied_port: MALFORMED",
	      st(LIT(AP("9:info_hash20:" IH "5:token4:" TOK))) == KRPC_MALFORMED);
	CHECK("announce_peer port 0 without implied_port: MALFORMED",
	      st(LIT(AP("9:info_hash20:" IH "4:porti0e5:token4:" TOK))) == KRPC_MALFORMED);
	CHECK("announce_peer port 0, implied_port=0: MALFORMED",
	      st(LIT(AP("12:implied_porti0e9:info_hash20:" IH "4:porti0e5:token4:" TOK))) == KRPC_MALFORMED);
	CHECK("announce_peer port 65536: MALFORMED",
	      st(LIT(AP("9:info_hash20:" IH "4:porti65536e5:token4:" TOK))) == KRPC_MALFORMED);
	CHECK("announce_peer port -1: MALFORMED",
	      st(LIT(AP("9:info_hash20:" IH "4:porti-1e5:token4:" TOK))) == KRPC_MALFORMED);
	CHECK("announce_peer port 65535: OK",
	      st(LIT(AP("9:info_hash20:" IH "4:porti65535e5:token4:" TOK))) == KRPC_OK && m.port == 65535 &&
	      !m.implied_port);
	CHECK("announce_peer port a string: MALFORMED",
	      st(LIT(AP("9:info_hash20:" IH "4:port4:68815:token4:" TOK))) == KRPC_MALFORMED);
	CHECK("announce_peer implied_port=2: MALFORMED",
	      st(LIT(AP("12:implied_porti2e9:info_hash20:" IH "4:porti6881e5:token4:" TOK))) == KRPC_MALFORMED);
	CHECK("announce_peer with seed=1 (BEP 33, unknown key): OK",
	      st(LIT(AP("9:info_hash20:" IH "4:porti6881e4:seedi1e5:token4:" TOK))) == KRPC_OK);
#undef AP

	CHECK("unknown method with a valid id: OK, KRPC_M_UNKNOWN (answer 204)",
	      st(LIT("d1:ad2:id20:" A "6:target20:" IH "e1:q3:get1:t2:" T "1:y1:qe")) == KRPC_OK &&
	      m.method == KRPC_M_UNKNOWN && m.qname.len == 3 && memcmp(m.qname.p, "get", 3) == 0);
	CHECK("unknown method without id: MALFORMED",
	      st(LIT("d1:ade1:q3:get1:t2:" T "1:y1:qe")) == KRPC_MALFORMED);
	CHECK("method name is case-sensitive",
	      st(LIT("d1:ad2:id20:" A "e1:q4:PING1:t2:" T "1:y1:qe")) == KRPC_OK && m.method == KRPC_M_UNKNOWN);
	CHECK("unknown keys accepted (v, want, top-level and in a)",
	      st(LIT("d1:ad2:id20:" A "4:wantl2:n42:n6e3:zzzi0ee1:q4:ping1:t2:" T "1:v4:LT\x01\x02" "1:y1:q3:zzzlee")) ==
	              KRPC_OK && m.method == KRPC_M_PING);
	CHECK("ro=0: not read-only", st(LIT("d1:ad2:id20:" A "e1:q4:ping2:roi0e1:t2:" T "1:y1:qe")) == KRPC_OK && !m.ro);
	CHECK("method names", strcmp(krpc_method_name(KRPC_M_SAMPLE_INFOHASHES), "sample_infohashes") == 0);

	/* Responses. */
#define R(args) "d1:rd2:id20:" B args "e1:t2:" T "1:y1:re"
	CHECK("response without r: MALFORMED", st(LIT("d1:t2:" T "1:y1:re")) == KRPC_MALFORMED);
	CHECK("response without id: MALFORMED", st(LIT("d1:rde1:t2:" T "1:y1:re")) == KRPC_MALFORMED);
	CHECK("nodes of 27 bytes: MALFORMED", st(LIT(R("5:nodes27:" N1 "x"))) == KRPC_MALFORMED);
	CHECK("nodes of 0 bytes: OK", st(LIT(R("5:nodes0:"))) == KRPC_OK && m.nodes.p && m.nodes.len == 0);
	CHECK("nodes6 of 37 bytes: MALFORMED",
	      st(LIT(R("6:nodes637:SSSSSSSSSSSSSSSSSSSS" "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\x1a"))) ==
	              KRPC_MALFORMED);
	CHECK("nodes6 of 38 bytes: OK", st(LIT(R("6:nodes638:" S1))) == KRPC_OK && m.nodes6.len == 38);
	CHECK("samples of 21 bytes: MALFORMED", st(LIT(R("7:samples21:" IH "x"))) == KRPC_MALFORMED);
	CHECK("samples empty (BEP 51 support, no hashes): OK",
	      st(LIT(R("7:samples0:"))) == KRPC_OK && m.samples.p && m.samples.len == 0);
	CHECK("values with a 5-byte string: MALFORMED",
	      st(LIT(R("6:valuesl6:" P1 "5:\x01\x02\x03\x04\x05" "e"))) == KRPC_MALFORMED);
	CHECK("values with an integer: MALFORMED", st(LIT(R("6:valuesli1ee"))) == KRPC_MALFORMED);
	CHECK("values not a list: MALFORMED", st(LIT(R("6:values6:" P1))) == KRPC_MALFORMED);
	CHECK("values with an 18-byte peer: OK",
	      st(LIT(R("6:valuesl18:" PEER6 "e"))) == KRPC_OK && krpc_values_count(&m) == 1);
	CHECK("values empty list: OK", st(LIT(R("6:valuesle"))) == KRPC_OK && m.values >= 0 &&
	                              krpc_values_count(&m) == 0);
	CHECK("interval negative: MALFORMED", st(LIT(R("8:intervali-1e"))) == KRPC_MALFORMED);
	CHECK("num a string: MALFORMED", st(LIT(R("3:num1:2"))) == KRPC_MALFORMED);
	CHECK("nodes an integer: MALFORMED", st(LIT(R("5:nodesi1e"))) == KRPC_MALFORMED);
	CHECK("nodes6 a list: MALFORMED", st(LIT(R("6:nodes6le"))) == KRPC_MALFORMED);
	CHECK("samples an integer: MALFORMED", st(LIT(R("7:samplesi0e"))) == KRPC_MALFORMED);
	CHECK("token a dict: MALFORMED", st(LIT(R("5:tokende"))) == KRPC_MALFORMED);
	CHECK("libtorrent's p in r accepted", st(LIT(R("1:pi6881e"))) == KRPC_OK);
#undef R

	/* Errors. */
	CHECK("error [203, \"bad token\"]", st(LIT(E203)) == KRPC_OK && m.y == 'e' && m.err_code == 203 &&
	                                     m.err_msg.len == 9 && memcmp(m.err_msg.p, "bad token", 9) == 0);
	CHECK("error without e: MALFORMED", st(LIT("d1:t2:" T "1:y1:ee")) == KRPC_MALFORMED);
	CHECK("error [203]: MALFORMED", st(LIT("d1:eli203ee1:t2:" T "1:y1:ee")) == KRPC_MALFORMED);
	CHECK("error [\"x\", \"y\"]: MALFORMED", st(LIT("d1:el1:x1:ye1:t2:" T "1:y1:ee")) == KRPC_MALFORMED);
	CHECK("error [203, 5]: MALFORMED", st(LIT("d1:eli203ei5ee1:t2:" T "1:y1:ee")) == KRPC_MALFORMED);
	CHECK("error e a dict: MALFORMED", st(LIT("d1:ede1:t2:" T "1:y1:ee")) == KRPC_MALFORMED);
}

void
test_krpc(void)
{
	test_compact();
	test_vectors();
	test_rules();
}
