/*
 * dht: the protocol core driven without sockets. Datagrams go in through
 * dht_input; with fd < 0 everything seedd sends comes out of the emit
 * callback, which records it with the simulated time. Covered: what we
 * answer (ids, transaction ids, tokens, recording, errors, silence), the
 * per-IP limit, the address filters, what we ask (tids, matching, timeouts,
 * --dht-rate, BEP 51 scheduling against simulated nodes), reachability.
 */
#include <stddef.h>
#include <string.h>

#include "dht/dht.h"
#include "t.h"
#include "dht/tdht.h"

/* Feed p from `from`; the number of datagrams emitted in answer. */
static int
in(struct dht *d, const char *from, const uint8_t *p, size_t len)
{
	struct addr a = td_ap(from);
	int before = td_n;
	dht_input(d, &a, p, len, td_now_ms, td_now_s);
	/* The last reply decoded into td_msg (emptied when there is none). */
	if (td_n == before || !td_dec(td_n - 1))
		memset(&td_msg, 0, offsetof(struct krpc_msg, tok));
	return td_n - before;
}

/* A query of ours-as-the-remote; x is target or info_hash. */
static size_t
q(enum krpc_method meth, struct krpc_bytes t, const void *id, const void *x, bool implied, uint16_t port,
  struct krpc_bytes tok)
{
	struct benc_w w;
	benc_w_init(&w, td_qbuf, sizeof(td_qbuf));
	switch (meth) {
	case KRPC_M_PING: krpc_q_ping(&w, t, id); break;
	case KRPC_M_FIND_NODE: krpc_q_find_node(&w, t, id, x); break;
	case KRPC_M_GET_PEERS: krpc_q_get_peers(&w, t, id, x); break;
	case KRPC_M_ANNOUNCE_PEER: krpc_q_announce_peer(&w, t, id, implied, x, port, tok); break;
	default: krpc_q_sample_infohashes(&w, t, id, x); break;
	}
	return w.err ? 0 : w.len;
}

#define QID "querier-node-id-0001"
#define QID2 "another-node-id-0002"
#define IH1 "infohash-number-0001"
#define IH2 "infohash-number-0002"
#define IH3 "infohash-number-0003"
#define IH6 "infohash-number-0006"
#define T2 BY("aa", 2)

static bool
is_neighbour(const uint8_t *shown, const uint8_t *their)
{
	static const uint8_t zero[20];
	return memcmp(shown, their, 15) == 0 && memcmp(shown, their, 20) != 0 && memcmp(shown, zero, 20) != 0;
}

/* The reply just emitted is a response to t from `from` (decoded into td_msg). */
static bool
reply_ok(int emitted, const char *to, struct krpc_bytes t)
{
	struct addr a = td_ap(to);
	return emitted == 1 && td_addr_eq(&td_cap[td_n - 1].to, &a) && td_dec(td_n - 1) && td_msg.y == 'r' &&
	       td_msg.t.len == t.len && memcmp(td_msg.t.p, t.p, t.len) == 0;
}

static bool
error_is(int emitted, struct krpc_bytes t, int code)
{
	return emitted == 1 && td_dec(td_n - 1) && td_msg.y == 'e' && td_msg.err_code == code &&
	       td_msg.t.len == t.len && memcmp(td_msg.t.p, t.p, t.len) == 0;
}

/* The token of the response just decoded (zeros when there is none). */
static void
take_tok(uint8_t out[8])
{
	memset(out, 0, 8);
	if (td_msg.token.p && td_msg.token.len == 8)
		memcpy(out, td_msg.token.p, 8);
}

/* --- what we answer ----------------------------------------------------------------- */

static void
ids_and_tids(struct dht *d)
{
	static const char *const tids[] = { "\x01", "\x00\x02", "jech", "0123456789abcdef0123456789abcdef" };
	static const size_t tlen[] = { 1, 2, 4, 32 };
	static const char *const names[] = { "ping: 1-byte t echoed", "ping: 2-byte t (with a NUL) echoed",
		                             "ping: 4-byte t echoed", "ping: 32-byte t echoed" };
	uint8_t shown[20], shown2[20];
	bool same = true;

	td_at(MS0);
	for (int i = 0; i < 4; i++) {
		td_at(td_now_ms + 1000); /* never near the per-IP limit */
		struct krpc_bytes t = BY(tids[i], tlen[i]);
		int n = in(d, "127.5.0.1:1000", td_qbuf, q(KRPC_M_PING, t, QID, NULL, false, 0, NOBYTES));
		CHECK(names[i], reply_ok(n, "127.5.0.1:1000", t));
		if (i == 0)
			memcpy(shown, td_msg.id, 20);
		same &= td_msg.id && memcmp(td_msg.id, shown, 20) == 0;
	}
	CHECK("ping: id = querier's first 15 bytes + ours, not its id, not zero", is_neighbour(shown, (const uint8_t *)QID));
	CHECK("ping: BEP 42 ip is the querier", td_msg.ip.len == 6 && memcmp(td_msg.ip.p, "\x7f\x05\x00\x01\x03\xe8", 6) == 0);
	td_at(td_now_ms + 1000);
	CHECK("33-byte t: dropped, no answer",
	      in(d, "127.5.0.1:1000", td_qbuf, q(KRPC_M_PING, BY("0123456789abcdef0123456789abcdefX", 33), QID, NULL,
	                                         false, 0, NOBYTES)) == 0);
	CHECK("empty t: dropped", in(d, "127.5.0.1:1000", td_qbuf, q(KRPC_M_PING, BY("", 0), QID, NULL, false, 0, NOBYTES)) == 0);

	/* The same id in every message to 127.5.0.1:1000. */
	int n = in(d, "127.5.0.1:1000", td_qbuf, q(KRPC_M_FIND_NODE, T2, QID, IH1, false, 0, NOBYTES));
	same &= reply_ok(n, "127.5.0.1:1000", T2) && memcmp(td_msg.id, shown, 20) == 0;
	CHECK("find_node: same id", same);
	n = in(d, "127.5.0.1:1000", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, IH1, false, 0, NOBYTES));
	same &= reply_ok(n, "127.5.0.1:1000", T2) && memcmp(td_msg.id, shown, 20) == 0;
	CHECK("get_peers: same id", same);
	uint8_t tok[8];
	take_tok(tok);
	td_at(td_now_ms + 1000);
	n = in(d, "127.5.0.1:1000", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH1, false, 6881, BY(tok, 8)));
	same &= reply_ok(n, "127.5.0.1:1000", T2) && memcmp(td_msg.id, shown, 20) == 0;
	CHECK("announce_peer: same id", same);
	n = in(d, "127.5.0.1:1000", td_qbuf, q(KRPC_M_SAMPLE_INFOHASHES, T2, QID, IH1, false, 0, NOBYTES));
	CHECK("sample_infohashes: same id", reply_ok(n, "127.5.0.1:1000", T2) && memcmp(td_msg.id, shown, 20) == 0);
	struct addr a = td_ap("127.5.0.1:1000");
	dht_shown_id(d, &a, (const uint8_t *)QID, shown2);
	CHECK("dht_shown_id agrees", memcmp(shown2, shown, 20) == 0);

	/* Another querier at another address gets its own. */
	n = in(d, "127.5.0.2:1000", td_qbuf, q(KRPC_M_PING, T2, QID2, NULL, false, 0, NOBYTES));
	CHECK("other querier: own neighbour id", reply_ok(n, "127.5.0.2:1000", T2) &&
	                                             is_neighbour(td_msg.id, (const uint8_t *)QID2) &&
	                                             memcmp(td_msg.id, shown, 20) != 0);
	static const uint8_t zero[20];
	n = in(d, "127.5.0.3:1000", td_qbuf, q(KRPC_M_PING, T2, zero, NULL, false, 0, NOBYTES));
	CHECK("all-zero querier id: our id is not all zero", reply_ok(n, "127.5.0.3:1000", T2) &&
	                                                        memcmp(td_msg.id, zero, 20) != 0);
}

static void
tokens(struct dht *d)
{
	uint8_t tok[8], tok3[8];
	struct addr w;
	struct ih_entry *e;
	int n;

	td_at(MS0 + 100000);
	n = in(d, "127.5.1.1:2000", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, IH1 "", false, 0, NOBYTES));
	CHECK("get_peers: response with an 8-byte token and nodes",
	      reply_ok(n, "127.5.1.1:2000", T2) && td_msg.token.len == 8 && td_msg.nodes.p != NULL);
	take_tok(tok);
	/* IH1 was announced once in ids_and_tids by 127.5.0.1:6881: get_peers gives that peer. */
	struct addr p1 = td_ap("127.5.0.1:6881");
	CHECK("get_peers: the last announcer as the one value",
	      krpc_values_count(&td_msg) == 1 && krpc_value_at(&td_msg, 0, &w) && td_addr_eq(&w, &p1));
	e = ih_find(&d->ih, (const uint8_t *)IH1);
	CHECK("get_peers recorded", e && e->get_peers == 2 && e->announces == 1 && e->samples == 0 &&
	                                e->last == (uint32_t)td_now_s);
	n = in(d, "127.5.1.1:2001", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH1, false, 51413, BY(tok, 8)));
	struct addr want = td_ap("127.5.1.1:51413");
	CHECK("announce_peer from another port of the same IP: accepted", reply_ok(n, "127.5.1.1:2001", T2));
	e = ih_find(&d->ih, (const uint8_t *)IH1);
	CHECK("announce recorded with the given port", e && e->announces == 2 && ih_who(&d->ih, e, &w) &&
	                                                   td_addr_eq(&w, &want));
	n = in(d, "127.5.1.1:2002", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH1, true, 9999, BY(tok, 8)));
	want = td_ap("127.5.1.1:2002");
	e = ih_find(&d->ih, (const uint8_t *)IH1);
	CHECK("implied_port: the source port", reply_ok(n, "127.5.1.1:2002", T2) && e && e->announces == 3 &&
	                                           ih_who(&d->ih, e, &w) && td_addr_eq(&w, &want));

	/* Bad tokens: 203, nothing recorded. */
	uint64_t bad0 = d->st.c[DHT_C_BAD_TOKEN];
	in(d, "127.5.2.1:1", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, IH6, false, 0, NOBYTES));
	take_tok(tok3);
	n = in(d, "127.5.2.2:1", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH2, false, 6881, BY(tok3, 8)));
	CHECK("token of another IP: 203 bad token", error_is(n, T2, 203) && td_msg.err_msg.len == 9 &&
	                                               memcmp(td_msg.err_msg.p, "bad token", 9) == 0);
	n = in(d, "127.5.2.2:1", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH2, false, 6881, BY("xyz", 3)));
	CHECK("garbage token: 203", error_is(n, T2, 203));
	n = in(d, "127.5.2.2:1", td_qbuf,
	       q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH2, false, 6881, BY("\0\0\0\0\0\0\0\0", 8)));
	CHECK("zero token: 203", error_is(n, T2, 203));
	CHECK("nothing recorded for bad tokens", ih_find(&d->ih, (const uint8_t *)IH2) == NULL &&
	                                             d->st.c[DHT_C_BAD_TOKEN] == bad0 + 3);

	/* Rotation: a token survives one rotation, not two. */
	td_at(td_now_ms + 2000);
	in(d, "127.5.3.1:1", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, IH3, false, 0, NOBYTES));
	take_tok(tok3);
	dht_rotate(d, td_now_s);
	n = in(d, "127.5.3.1:1", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH3, false, 7000, BY(tok3, 8)));
	e = ih_find(&d->ih, (const uint8_t *)IH3);
	CHECK("token after one rotation: accepted", reply_ok(n, "127.5.3.1:1", T2) && e && e->announces == 1);
	dht_rotate(d, td_now_s);
	n = in(d, "127.5.3.1:1", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH3, false, 7000, BY(tok3, 8)));
	e = ih_find(&d->ih, (const uint8_t *)IH3);
	CHECK("token after two rotations: 203", error_is(n, T2, 203) && e && e->announces == 1);
	td_at(td_now_ms + 2000);
	in(d, "127.5.3.1:1", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, IH3, false, 0, NOBYTES));
	take_tok(tok3);
	n = in(d, "127.5.3.1:1", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH3, false, 7000, BY(tok3, 8)));
	CHECK("a fresh token works again", reply_ok(n, "127.5.3.1:1", T2));
	struct addr a = td_ap("127.5.3.1:1");
	CHECK("dht_token_ok: 8 bytes only", !dht_token_ok(d, &a, tok3, 7) && dht_token_ok(d, &a, tok3, 8));

	/* IPv6: the announcer's 18-byte peer, given to v6 askers only. */
	in(d, "[fd00::5]:3000", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, IH6, false, 0, NOBYTES));
	CHECK("v6 get_peers: token, nodes6",
	      td_msg.y == 'r' && td_msg.token.len == 8 && td_msg.nodes6.p && !td_msg.nodes.p);
	take_tok(tok);
	n = in(d, "[fd00::5]:3001", td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, IH6, false, 4000, BY(tok, 8)));
	want = td_ap("[fd00::5]:4000");
	e = ih_find(&d->ih, (const uint8_t *)IH6);
	CHECK("v6 announce recorded", reply_ok(n, "[fd00::5]:3001", T2) && e && ih_who(&d->ih, e, &w) &&
	                                  td_addr_eq(&w, &want));
	in(d, "[fd00::6]:1", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, IH6, false, 0, NOBYTES));
	CHECK("v6 asker gets the v6 peer", krpc_values_count(&td_msg) == 1 && krpc_value_at(&td_msg, 0, &w) &&
	                                       td_addr_eq(&w, &want));
	in(d, "127.5.2.9:1", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, IH6, false, 0, NOBYTES));
	CHECK("v4 asker gets no v6 peer", td_msg.y == 'r' && krpc_values_count(&td_msg) == 0);

	/* BEP 51 from us: announced hashes only (IH1, IH3, IH6), never get_peers-only ones. */
	in(d, "127.5.2.12:1", td_qbuf, q(KRPC_M_GET_PEERS, T2, QID, "gp-only-hash-0000001", false, 0, NOBYTES));
	e = ih_find(&d->ih, (const uint8_t *)"gp-only-hash-0000001");
	CHECK("get_peers of a new hash: recorded with get_peers=1", e && e->get_peers == 1 && !e->announces &&
	                                                               !e->samples && e->first == (uint32_t)td_now_s);
	n = in(d, "127.5.2.10:1", td_qbuf, q(KRPC_M_SAMPLE_INFOHASHES, T2, QID, IH1, false, 0, NOBYTES));
	bool only = reply_ok(n, "127.5.2.10:1", T2) && td_msg.samples.p && td_msg.samples.len == 60 &&
	            td_msg.interval == 21600;
	for (size_t k = 0; only && k < td_msg.samples.len; k += 20)
		only = (e = ih_find(&d->ih, td_msg.samples.p + k)) && e->announces > 0;
	CHECK("our samples: the 3 announced hashes, interval 21600", only);
	CHECK("our num >= samples", td_msg.num >= 3);
	for (uint32_t i = 0; i < 25; i++) {
		char h[21], from[32];
		snprintf(h, sizeof(h), "many-announced-%05u", i);
		snprintf(from, sizeof(from), "127.5.20.%u:1", i + 1);
		struct addr fa = td_ap(from);
		dht_token(d, &fa, 0, tok);
		in(d, from, td_qbuf, q(KRPC_M_ANNOUNCE_PEER, T2, QID, h, true, 0, BY(tok, 8)));
	}
	n = in(d, "127.5.2.11:1", td_qbuf, q(KRPC_M_SAMPLE_INFOHASHES, T2, QID, IH1, false, 0, NOBYTES));
	CHECK("28 announced: at most 20 samples", reply_ok(n, "127.5.2.11:1", T2) && td_msg.samples.len <= 400 &&
	                                              td_msg.samples.len >= 200);
	/* BEP 51: num is what we hold (28 announced here), not the sample size (found as a bug). */
	CHECK("our num counts storage, not the samples returned", td_msg.num >= 28);
}

static void
malformed(struct dht *d)
{
	static const struct {
		const char *name, *p;
		size_t len;
		int code; /* 0: silence */
	} v[] = {
#define V(name, s, code) { name, s, sizeof(s) - 1, code }
		V("get_peers without info_hash: 203", "d1:ad2:id20:" QID "e1:q9:get_peers1:t2:aa1:y1:qe", 203),
		V("ping with a 19-byte id: 203", "d1:ad2:id19:querier-node-id-001e1:q4:ping1:t2:aa1:y1:qe", 203),
		V("find_node with a 19-byte target: 203",
		  "d1:ad2:id20:" QID "6:target19:0123456789abcdefghie1:q9:find_node1:t2:aa1:y1:qe", 203),
		V("announce_peer without token: 203",
		  "d1:ad2:id20:" QID "9:info_hash20:" IH1 "4:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe", 203),
		V("query without a: 203", "d1:q4:ping1:t2:aa1:y1:qe", 203),
		V("unknown method foo: 204", "d1:ad2:id20:" QID "e1:q3:foo1:t2:aa1:y1:qe", 204),
		V("a response to no query: silence", "d1:rd2:id20:" QID "e1:t2:aa1:y1:re", 0),
		V("an error: silence", "d1:eli201e4:oopse1:t2:aa1:y1:ee", 0),
		V("a broken response: silence", "d1:rd2:id3:abce1:t2:aa1:y1:re", 0),
		V("a broken error: silence", "d1:eli201ee1:t2:aa1:y1:ee", 0),
		V("not bencode: silence", "hello world, this is not bencode at all", 0),
		V("a bencoded integer: silence", "i42e", 0),
		V("a dict without t: silence", "d1:ad2:id20:" QID "e1:q4:ping1:y1:qe", 0),
		V("t not a string: silence", "d1:ad2:id20:" QID "e1:q4:ping1:ti5e1:y1:qe", 0),
		/* SPEC 6: damage after a readable t is answered 203 echoing t; before t, silence. */
		V("unsorted keys, t readable: 203", "d1:y1:q1:t2:aa1:q4:ping1:ad2:id20:" QID "ee", 203),
		V("trailing bytes after t: 203", "d1:ad2:id20:" QID "e1:q4:ping1:t2:aa1:y1:qexx", 203),
		V("a string overrunning the datagram after t: 203", "d1:ad2:id20:" QID "e1:q4:ping1:t2:aa1:y99:q", 203),
		V("a string overrunning the datagram before t: silence", "d1:ad2:id99:" QID "e1:q4:ping1:t2:aa1:y1:qe", 0),
		V("damaged after t, y = r read first: silence", "d1:y1:r1:t2:aa1:rd2:id3:xe", 0),
		V("empty datagram: silence", "", 0),
#undef V
	};
	char from[32];

	td_at(MS0 + 200000);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(from, sizeof(from), "127.5.8.%u:4000", (unsigned)i + 1);
		int n = in(d, from, (const uint8_t *)v[i].p, v[i].len);
		if (v[i].code)
			CHECK(v[i].name, error_is(n, BY("aa", 2), v[i].code));
		else
			CHECK(v[i].name, n == 0);
	}
	static const char foo[] = "d1:ad2:id20:" QID "e1:q3:foo1:t2:aa1:y1:qe";
	int n = in(d, "127.5.8.100:1", (const uint8_t *)foo, sizeof(foo) - 1);
	CHECK("204 message text", error_is(n, BY("aa", 2), 204) && td_msg.err_msg.len == 14 &&
	                              memcmp(td_msg.err_msg.p, "Method Unknown", 14) == 0);
}

static bool
same_ip_str(const struct addr *a, const char *ip)
{
	struct addr b = td_ap(ip);
	return a->family == b.family && memcmp(a->ip, b.ip, addr_len(a)) == 0;
}

/* Responses (y = r) sent to ip since capture index from. */
static int
answers_to(int from, const char *ip)
{
	int n = 0;
	for (int i = from; i < td_n; i++)
		if (same_ip_str(&td_cap[i].to, ip) && td_dec(i) && td_msg.y == 'r')
			n++;
	return n;
}

static void
limits(struct dht *d)
{
	char from[32];
	int n = 0;

	td_at(MS0 + 300000);
	uint64_t rate0 = d->st.c[DHT_C_DROP_RATE], def0 = d->st.c[DHT_C_DEFERRED];
	for (int i = 0; i < 6; i++) {
		snprintf(from, sizeof(from), "127.5.6.1:%d", 1 + i);
		n += in(d, from, td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0, NOBYTES));
	}
	CHECK("6 queries from one IP in 1 ms: 4 answers now", n == 4 && d->st.c[DHT_C_DROP_RATE] == rate0);
	CHECK("... 2 held back", d->st.c[DHT_C_DEFERRED] == def0 + 2 && d->later_len == 2);
	n = 0;
	for (int i = 0; i < 6; i++) {
		snprintf(from, sizeof(from), "127.5.7.%d:1", 1 + i);
		n += in(d, from, td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0, NOBYTES));
	}
	CHECK("6 queries from 6 IPs: 6 answers", n == 6);
	td_at(td_now_ms + 999);
	CHECK("the limited IP: a new query waits behind the held-back ones at 999 ms",
	      in(d, "127.5.6.1:9", td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0, NOBYTES)) == 0 &&
	              d->later_len == 3);
	int before = td_n;
	dht_tick(d, td_now_ms, td_now_s);
	CHECK("... nothing sent there before the second has passed", answers_to(before, "127.5.6.1") == 0);
	td_at(td_now_ms + 1);
	before = td_n;
	dht_tick(d, td_now_ms, td_now_s);
	int k[3], nk = 0;
	for (int i = before; i < td_n && nk < 3; i++)
		if (same_ip_str(&td_cap[i].to, "127.5.6.1"))
			k[nk++] = i;
	CHECK("the held-back answers go a second later, in order, to their ports",
	      answers_to(before, "127.5.6.1") == 3 && d->later_len == 0 && nk == 3 && td_cap[k[0]].to.port == 5 &&
	              td_cap[k[1]].to.port == 6 && td_cap[k[2]].to.port == 9);
	/* More than DHT_LATER_PER_IP waiting for one IP: the rest are dropped, not queued without end. */
	td_at(td_now_ms + 5000);
	uint64_t drop0 = d->st.c[DHT_C_DROP_RATE];
	for (int i = 0; i < 4 + DHT_LATER_PER_IP + 3; i++)
		in(d, "127.5.6.1:1", td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0, NOBYTES));
	CHECK("per-IP cap on held-back answers", d->later_len == DHT_LATER_PER_IP &&
	                                             d->st.c[DHT_C_DROP_RATE] == drop0 + 3);
	td_at(td_now_ms + DHT_LATER_MS + 1);
	dht_tick(d, td_now_ms, td_now_s);
	CHECK("stale held-back answers are dropped", d->later_len == 0 &&
	                                               d->st.c[DHT_C_DROP_RATE] == drop0 + 3 + DHT_LATER_PER_IP);

	/* A querier is a node to ask, unless it says it is read-only (BEP 43). */
	uint32_t q0 = d->qlen;
	static const char ro[] = "d1:ad2:id20:" QID "e1:q4:ping2:roi1e1:t2:aa1:y1:qe";
	n = in(d, "127.5.9.1:1", (const uint8_t *)ro, sizeof(ro) - 1);
	CHECK("ro ping: answered, not learned", n == 1 && d->qlen == q0);
	n = in(d, "127.5.9.2:1", td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0, NOBYTES));
	CHECK("plain ping: learned", n == 1 && d->qlen == q0 + 1);
}

static void
filters(void)
{
	struct dht *d = td_mk(false, 1000), *p;
	static const char *const quiet[] = { "127.0.0.1:1000", "10.0.0.1:1000", "192.168.1.1:1000", "172.16.0.1:1000",
		                             "100.64.0.1:1000", "169.254.1.1:1000", "[::1]:1000", "[fe80::1]:1000",
		                             "[fd00::1]:1000" };
	bool ok = true;

	td_at(MS0 + 400000);
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
		ok &= in(d, quiet[i], td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0, NOBYTES)) == 0;
	CHECK("private sources get no answer without allow_private", ok);
	CHECK("a global v4 source is answered", in(d, "1.1.1.1:1000", td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0,
	                                                                         NOBYTES)) == 1);
	CHECK("a global v6 source is answered", in(d, "[2606:4700::1111]:53", td_qbuf, q(KRPC_M_PING, T2, QID, NULL,
	                                                                                false, 0, NOBYTES)) == 1);
	struct addr a;
#define ALLOWED(dd, s) (a = td_ap(s), dht_allowed(dd, &a))
	CHECK("not allowed: port 0", !ALLOWED(d, "1.1.1.1:0"));
	CHECK("not allowed: multicast", !ALLOWED(d, "224.0.0.1:6881") && !ALLOWED(d, "[ff02::1]:6881"));
	CHECK("not allowed: unspecified, broadcast", !ALLOWED(d, "0.0.0.0:6881") && !ALLOWED(d, "255.255.255.255:6881"));
	CHECK("not allowed: private ranges", !ALLOWED(d, "127.0.0.1:6881") && !ALLOWED(d, "10.1.2.3:6881") &&
	                                         !ALLOWED(d, "100.64.0.1:6881") && !ALLOWED(d, "[fe80::1]:6881"));
	CHECK("allowed: global", ALLOWED(d, "1.1.1.1:6881") && ALLOWED(d, "[2606:4700::1111]:6881"));
	uint32_t q0 = d->qlen;
	a = td_ap("10.0.0.1:6881");
	dht_learn(d, (const uint8_t *)QID, &a);
	CHECK("a private node is not learned", d->qlen == q0);
	a = td_ap("1.0.0.1:6881");
	dht_learn(d, (const uint8_t *)QID, &a);
	CHECK("a global node is learned", d->qlen == q0 + 1);
	static const uint8_t zero[20];
	a = td_ap("1.0.0.2:6881");
	dht_learn(d, zero, &a);
	CHECK("a node with an all-zero id is not learned", d->qlen == q0 + 1);
	td_rm(d);

	p = td_mk(true, 1000);
	CHECK("allow_private: loopback and RFC 1918 allowed", ALLOWED(p, "127.0.0.1:6881") && ALLOWED(p, "10.1.2.3:1"));
	CHECK("allow_private: still not port 0 or multicast", !ALLOWED(p, "10.1.2.3:0") && !ALLOWED(p, "224.0.0.1:1"));
	CHECK("never our own bind address", !ALLOWED(p, "127.3.0.1:6881") && ALLOWED(p, "127.3.0.1:6882"));
	CHECK("a query from our own address: no answer",
	      in(p, "127.3.0.1:6881", td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0, NOBYTES)) == 0);
#undef ALLOWED
	td_rm(p);
}

static void
reachability(void)
{
	td_at(MS0);
	struct dht *d = td_mk(true, 1000);

	CHECK("reachable at start", dht_reachable(d, S0));
	CHECK("reachable 599 s in", dht_reachable(d, S0 + DHT_QUIET_S - 1));
	CHECK("not reachable after DHT_QUIET_S quiet", !dht_reachable(d, S0 + DHT_QUIET_S));
	td_at(MS0 + 700000);
	in(d, "127.5.0.1:1", td_qbuf, td_resp(T2, QID, NOBYTES, -1, NOBYTES, NULL));
	CHECK("a response is not a query from outside", !dht_reachable(d, td_now_s));
	in(d, "127.5.0.1:1", td_qbuf, q(KRPC_M_PING, T2, QID, NULL, false, 0, NOBYTES));
	CHECK("reachable again after a query",
	      dht_reachable(d, td_now_s) && dht_reachable(d, td_now_s + DHT_QUIET_S - 1));
	CHECK("and quiet again later", !dht_reachable(d, td_now_s + DHT_QUIET_S));
	td_rm(d);
}

void
test_dht(void)
{
	td_begin(0x40);
	td_at(MS0);
	struct dht *d = td_mk(true, 1000);
	ids_and_tids(d);
	tokens(d);
	malformed(d);
	limits(d);
	td_rm(d);
	filters();
	reachability();
	CHECK("capture complete", td_lost == 0);
	td_end();
}
