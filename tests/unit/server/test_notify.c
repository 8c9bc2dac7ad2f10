/*
 * The NOTIFY sender on a simulated clock: the message bytes (golden, and
 * read back with dns/wire.h), the backoff sequence to the give-up, what
 * a reply must match to stop the retries (and every near miss that must
 * not), a new serial replacing a pending one, several targets, IPv6,
 * the TSIG reserve and the event queue.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "base/addr.h"
#include "base/rng.h"
#include "dns/dname.h"
#include "dns/wire.h"
#include "server/notify.h"
#include "zone/zone.h"
#include "t.h"

static struct rng rng;
static uint8_t apex[DNAME_MAX];
static struct zone_soa soa;
static uint8_t buf[1024];

static void
setup(struct notify *n)
{
	static const uint8_t seed[32] = { 7, 1, 9, 9, 6 };

	rng_init_seed(&rng, seed);
	dname_from_text(apex, "seed.test");
	memset(&soa, 0, sizeof(soa));
	dname_from_text(soa.mname, "ns1.seed.test");
	dname_from_text(soa.rname, "hostmaster.seed.test");
	soa.serial = 1; /* not the notified one: notify_next writes its own */
	soa.refresh = 3600;
	soa.retry = 600;
	soa.expire = 86400;
	soa.minimum = 60;
	notify_init(n, apex, &rng);
}

static struct addr
ad(const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (addr_parse_hostport(&a, s, 53) < 0)
		a.family = 0;
	return a;
}

/* The reply a secondary sends: our header and question, QR set, an rcode. */
static size_t
reply_of(const uint8_t *msg, size_t len, uint8_t rcode, uint8_t *out)
{
	size_t qlen = 12 + dname_len(msg + 12) + 4;

	if (qlen > len)
		return 0;
	memcpy(out, msg, qlen);
	out[2] |= 0x80;
	out[3] = (uint8_t)((out[3] & 0xf0) | rcode);
	out[6] = out[7] = 0; /* ANCOUNT */
	return qlen;
}

static size_t
next(struct notify *n, int64_t now, struct notify_out *o)
{
	return notify_next(n, now, &soa, buf, sizeof(buf), 0, o);
}

static int
drain(struct notify *n, struct notify_event *last)
{
	struct notify_event e;
	int k = 0;

	while (notify_event(n, &e)) {
		*last = e;
		k++;
	}
	return k;
}

static void
message_bytes(void)
{
	struct notify n;
	struct notify_out o;
	uint8_t want[200];

	setup(&n);
	struct addr a = ad("192.0.2.53");
	CHECK("add", notify_add(&n, &a, 0) == 0);
	CHECK("nothing due before a serial", notify_due(&n) == INT64_MAX && next(&n, 0, &o) == 0);
	notify_serial(&n, 2024010101, 5000);
	CHECK("due at once", notify_due(&n) == 5000);
	size_t len = next(&n, 5000, &o);
	int wl = t_hex("0000 2400 0001 0001 0000 0000"
	               "04 73656564 04 74657374 00 0006 0001"
	               "c00c 0006 0001 00000e10 0027"
	               "03 6e7331 c00c"
	               "0a 686f73746d6173746572 c00c"
	               "78a3f175 00000e10 00000258 00015180 0000003c",
	               want, sizeof(want));
	want[0] = (uint8_t)(o.id >> 8);
	want[1] = (uint8_t)o.id;
	CHECK("golden length", wl == 78 && len == 78);
	CHECK("golden bytes", len == (size_t)wl && memcmp(buf, want, len) == 0);
	CHECK("out filled", o.target == 0 && o.serial == 2024010101 && o.attempt == 1 &&
	                    o.to.family == AF_INET && o.to.port == 53 &&
	                    memcmp(o.to.ip, a.ip, 4) == 0);

	/* The same bytes read back field by field with the project's reader. */
	struct rd r;
	uint8_t name[DNAME_MAX], mname[DNAME_MAX], rname[DNAME_MAX];
	rd_init(&r, buf, len);
	uint16_t id = rd_u16(&r), flags = rd_u16(&r);
	uint16_t qd = rd_u16(&r), an = rd_u16(&r), ns = rd_u16(&r), ar = rd_u16(&r);
	CHECK("header", id == o.id && !(flags & DNS_F_QR) && DNS_OPCODE(flags) == 4 &&
	                (flags & DNS_F_AA) && !(flags & DNS_F_RD) && (flags & 0xf) == 0 &&
	                qd == 1 && an == 1 && ns == 0 && ar == 0);
	size_t nl = rd_name(&r, name);
	uint16_t qt = rd_u16(&r), qc = rd_u16(&r);
	CHECK("question", nl == dname_len(apex) && memcmp(name, apex, nl) == 0 &&
	                  qt == DNS_T_SOA && qc == DNS_C_IN);
	nl = rd_name(&r, name);
	uint16_t t = rd_u16(&r), c = rd_u16(&r);
	uint32_t ttl = rd_u32(&r);
	uint16_t rdlen = rd_u16(&r);
	size_t rdstart = r.off;
	rd_name(&r, mname);
	rd_name(&r, rname);
	uint32_t serial = rd_u32(&r), refresh = rd_u32(&r), retry = rd_u32(&r);
	uint32_t expire = rd_u32(&r), minimum = rd_u32(&r);
	CHECK("answer SOA", r.err == RD_OK && memcmp(name, apex, dname_len(apex)) == 0 &&
	                    t == DNS_T_SOA && c == DNS_C_IN && ttl == ZONE_STATIC_TTL &&
	                    rdlen == r.off - rdstart && r.off == len);
	CHECK("SOA fields", memcmp(mname, soa.mname, dname_len(soa.mname)) == 0 &&
	                    memcmp(rname, soa.rname, dname_len(soa.rname)) == 0 &&
	                    serial == 2024010101 && refresh == 3600 && retry == 600 &&
	                    expire == 86400 && minimum == 60);
	CHECK("counted", n.st.sent == 1 && n.st.retried == 0);

	/* A retry is the same message: same ID, same bytes. */
	uint8_t first[200];
	memcpy(first, buf, len);
	size_t len2 = next(&n, 6000, &o);
	CHECK("retry: same bytes", len2 == len && memcmp(buf, first, len) == 0 && o.attempt == 2);
	CHECK("retry counted", n.st.sent == 2 && n.st.retried == 1);
}

static void
backoff(void)
{
	struct notify n;
	struct notify_out o;
	struct notify_event e;
	int64_t sends[32];
	int k = 0;

	setup(&n);
	struct addr a = ad("192.0.2.53");
	notify_add(&n, &a, 0);
	notify_serial(&n, 7, 100000);
	CHECK("not early", next(&n, 99999, &o) == 0);
	/* The loop as the caller runs it: wake at notify_due, send all due. */
	for (int turn = 0; turn < 40 && notify_due(&n) != INT64_MAX; turn++) {
		int64_t now = notify_due(&n);
		while (next(&n, now, &o) > 0)
			if (k < 32)
				sends[k++] = now - 100000;
		CHECK("after next, due is later", notify_due(&n) > now);
	}
	static const int64_t want[15] = { 0, 1, 3, 7, 15, 31, 63, 123, 183, 243, 303, 363, 423, 483, 543 };
	bool same = k == 15;
	for (int i = 0; same && i < 15; i++)
		same = sends[i] == want[i] * 1000;
	CHECK("15 sends at 0, 1, 3, 7, 15, 31, 63, 123 ... 543 s", same);
	CHECK("gave up, counted", n.st.failed == 1 && n.st.sent == 15 && n.st.retried == 14 &&
	                          n.t[0].state == NOTIFY_FAILED);
	CHECK("one FAILED event at 603 s", drain(&n, &e) == 1 && e.kind == NOTIFY_EV_FAILED &&
	                                 e.serial == 7 && e.tries == 15 && e.elapsed_ms == 603000 &&
	                                 e.target == 0 && e.rcode == 0);
	CHECK("nothing due after giving up", notify_due(&n) == INT64_MAX);
	/* A reply after the give-up acknowledges nothing. */
	uint8_t rep[300];
	size_t rl = reply_of(buf, 78, 0, rep);
	CHECK("late reply after give-up: stale", notify_reply(&n, &a, rep, rl, 700000, NOTIFY_SIG_NONE) == NOTIFY_V_STALE &&
	                                         n.t[0].state == NOTIFY_FAILED && n.st.acked == 0);

	/* A late loop turn: the retry is timed from the actual send. */
	setup(&n);
	notify_add(&n, &a, 0);
	notify_serial(&n, 8, 0);
	next(&n, 0, &o);
	CHECK("first retry 1 s later", notify_due(&n) == 1000);
	next(&n, 1500, &o);
	CHECK("second retry 2 s after the late send", notify_due(&n) == 3500);

	/* The same serial again changes nothing (a reload that keeps it). */
	uint16_t id = n.t[0].id;
	notify_serial(&n, 8, 2000);
	CHECK("same serial: no restart", notify_due(&n) == 3500 && n.t[0].id == id && n.t[0].tries == 2);
}

static void
ack_and_misses(void)
{
	struct notify n;
	struct notify_out o;
	struct notify_event e;
	uint8_t rep[300], bad[300];

	setup(&n);
	struct addr a = ad("192.0.2.53");
	notify_add(&n, &a, 0);
	notify_serial(&n, 42, 1000);
	size_t len = next(&n, 1000, &o);
	size_t rl = reply_of(buf, len, 0, rep);
	CHECK("reply is header and question", rl == 27);

	/* Near misses, none of which may acknowledge. */
	struct addr other_ip = ad("192.0.2.54"), other_port = ad("192.0.2.53:5353"), v6 = ad("[::ffff:192.0.2.53]:53");
	CHECK("other address", notify_reply(&n, &other_ip, rep, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_FROM);
	CHECK("other port", notify_reply(&n, &other_port, rep, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_FROM);
	CHECK("v4-mapped is another address", notify_reply(&n, &v6, rep, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_FROM);

	memcpy(bad, rep, rl);
	bad[1] ^= 1;
	CHECK("wrong ID", notify_reply(&n, &a, bad, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_ID);

	memcpy(bad, rep, rl);
	bad[2] &= 0x87; /* opcode QUERY */
	CHECK("wrong opcode", notify_reply(&n, &a, bad, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_OPCODE);
	bad[2] = (uint8_t)((bad[2] & 0x87) | 5 << 3); /* UPDATE */
	CHECK("opcode UPDATE", notify_reply(&n, &a, bad, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_OPCODE);

	memcpy(bad, rep, rl);
	bad[2] &= 0x7f;
	CHECK("QR=0 (our own request looped back)", notify_reply(&n, &a, bad, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QR);
	CHECK("our request itself", notify_reply(&n, &a, buf, len, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QR);

	memcpy(bad, rep, rl);
	bad[13] = 'x'; /* xeed.test */
	CHECK("other name", notify_reply(&n, &a, bad, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QUESTION);
	memcpy(bad, rep, rl);
	bad[24] = DNS_T_A;
	CHECK("type A", notify_reply(&n, &a, bad, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QUESTION);
	memcpy(bad, rep, rl);
	bad[26] = DNS_C_CH;
	CHECK("class CH", notify_reply(&n, &a, bad, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QUESTION);
	memcpy(bad, rep, rl);
	bad[5] = 0;
	CHECK("QDCOUNT 0", notify_reply(&n, &a, bad, 12, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QUESTION);
	bad[5] = 2;
	CHECK("QDCOUNT 2", notify_reply(&n, &a, bad, rl, 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QUESTION);
	/* A parent name, a longer name, a compressed (header) pointer. */
	static const uint8_t parent[] = { 4, 't', 'e', 's', 't', 0, 0, 6, 0, 1 };
	memcpy(bad, rep, 12);
	memcpy(bad + 12, parent, sizeof(parent));
	CHECK("parent name", notify_reply(&n, &a, bad, 12 + sizeof(parent), 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QUESTION);
	static const uint8_t ptr[] = { 0xc0, 0x00, 0, 6, 0, 1 };
	memcpy(bad + 12, ptr, sizeof(ptr));
	CHECK("pointer into the header", notify_reply(&n, &a, bad, 12 + sizeof(ptr), 1100, NOTIFY_SIG_NONE) == NOTIFY_V_QUESTION);

	bool none = true;
	for (size_t cut = 0; cut < rl; cut++) {
		enum notify_verdict v = notify_reply(&n, &a, rep, cut, 1100, NOTIFY_SIG_NONE);
		none = none && v == (cut < 12 ? NOTIFY_V_SHORT : NOTIFY_V_QUESTION);
	}
	CHECK("every truncation: short or question", none);

	CHECK("bad TSIG", notify_reply(&n, &a, rep, rl, 1100, NOTIFY_SIG_BAD) == NOTIFY_V_SIG);
	CHECK("still pending, nothing acked", n.t[0].state == NOTIFY_PENDING && n.st.acked == 0 &&
	                                      n.st.rejected == 0 && drain(&n, &e) == 0 &&
	                                      notify_due(&n) == 2000);
	CHECK("ignored by rung", n.st.ignored_by[NOTIFY_V_FROM] == 3 && n.st.ignored_by[NOTIFY_V_ID] == 1 &&
	                         n.st.ignored_by[NOTIFY_V_OPCODE] == 2 && n.st.ignored_by[NOTIFY_V_QR] == 2 &&
	                         n.st.ignored_by[NOTIFY_V_QUESTION] == 7 + rl - 12 &&
	                         n.st.ignored_by[NOTIFY_V_SHORT] == 12 && n.st.ignored_by[NOTIFY_V_SIG] == 1 &&
	                         n.st.ignored == 3 + 1 + 2 + 2 + 7 + rl + 1);

	/* The real thing, with the name in other case and the SOA left in. */
	memcpy(bad, rep, rl);
	bad[13] = 'S';
	bad[18] = 'T';
	CHECK("case-insensitive match acks", notify_reply(&n, &a, bad, rl, 1250, NOTIFY_SIG_GOOD) == NOTIFY_V_ACKED);
	CHECK("acked: no more sends", n.t[0].state == NOTIFY_ACKED && notify_due(&n) == INT64_MAX &&
	                              next(&n, 100000, &o) == 0 && n.st.sent == 1);
	CHECK("one ACKED event", drain(&n, &e) == 1 && e.kind == NOTIFY_EV_ACKED && e.serial == 42 &&
	                         e.tries == 1 && e.elapsed_ms == 250 && e.rcode == 0);
	CHECK("duplicate reply: stale", notify_reply(&n, &a, rep, rl, 1300, NOTIFY_SIG_NONE) == NOTIFY_V_STALE &&
	                                n.st.acked == 1 && drain(&n, &e) == 0);

	/* A whole reply (answer section kept, TC set) still matches. */
	notify_serial(&n, 43, 2000);
	len = next(&n, 2000, &o);
	memcpy(bad, buf, len);
	bad[2] |= 0x80 | 0x02;
	CHECK("full echo with TC acks", notify_reply(&n, &a, bad, len, 2010, NOTIFY_SIG_NONE) == NOTIFY_V_ACKED);

	/* Another rcode stops the retries too, counted apart. */
	notify_serial(&n, 44, 3000);
	len = next(&n, 3000, &o);
	next(&n, 4000, &o);
	rl = reply_of(buf, len, DNS_R_REFUSED, rep);
	CHECK("REFUSED: rejected", notify_reply(&n, &a, rep, rl, 4500, NOTIFY_SIG_NONE) == NOTIFY_V_REJECTED);
	drain(&n, &e);
	CHECK("rejected stops, event has the rcode", n.t[0].state == NOTIFY_REJECTED &&
	                                               notify_due(&n) == INT64_MAX && n.st.rejected == 1 &&
	                                               n.st.acked == 2 && e.kind == NOTIFY_EV_REJECTED &&
	                                               e.rcode == DNS_R_REFUSED && e.tries == 2 && e.serial == 44);
	notify_serial(&n, 45, 5000);
	len = next(&n, 5000, &o);
	rl = reply_of(buf, len, 9, rep); /* NOTAUTH */
	CHECK("NOTAUTH with a good signature: rejected", notify_reply(&n, &a, rep, rl, 5001, NOTIFY_SIG_GOOD) == NOTIFY_V_REJECTED &&
	                                                  notify_event(&n, &e) && e.rcode == 9);

	/* NSD 4.6 refuses a NOTIFY with a bare header (seen in tests/notify/interop.sh). */
	uint8_t nsd[12];
	notify_serial(&n, 46, 6000);
	next(&n, 6000, &o);
	t_hex("0000 a405 0000 0000 0000 0000", nsd, sizeof(nsd));
	nsd[0] = (uint8_t)(o.id >> 8);
	nsd[1] = (uint8_t)(o.id ^ 1);
	CHECK("bare REFUSED, wrong ID", notify_reply(&n, &a, nsd, 12, 6001, NOTIFY_SIG_NONE) == NOTIFY_V_ID);
	nsd[1] = (uint8_t)o.id;
	nsd[3] = 0x00;
	CHECK("bare NOERROR is no ack", notify_reply(&n, &a, nsd, 12, 6001, NOTIFY_SIG_NONE) == NOTIFY_V_QUESTION);
	nsd[3] = 0x05;
	CHECK("bare REFUSED, bad TSIG", notify_reply(&n, &a, nsd, 12, 6001, NOTIFY_SIG_BAD) == NOTIFY_V_SIG);
	CHECK("bare REFUSED from elsewhere", notify_reply(&n, &other_port, nsd, 12, 6001, NOTIFY_SIG_NONE) == NOTIFY_V_FROM);
	CHECK("still pending", n.t[0].state == NOTIFY_PENDING && !notify_event(&n, &e));
	CHECK("bare REFUSED: rejected", notify_reply(&n, &a, nsd, 12, 6002, NOTIFY_SIG_NONE) == NOTIFY_V_REJECTED &&
	                                notify_event(&n, &e) && e.kind == NOTIFY_EV_REJECTED && e.rcode == 5 &&
	                                e.serial == 46 && notify_due(&n) == INT64_MAX);
}

static void
new_serial(void)
{
	struct notify n;
	struct notify_out o;
	struct notify_event e;
	uint8_t rep1[300], rep2[300];

	setup(&n);
	struct addr a = ad("192.0.2.53");
	notify_add(&n, &a, 0);
	notify_serial(&n, 100, 0);
	size_t l1 = next(&n, 0, &o);
	uint16_t id1 = o.id;
	size_t r1 = reply_of(buf, l1, 0, rep1);
	next(&n, 1000, &o);
	notify_serial(&n, 101, 1500);
	CHECK("superseded event for the old serial", drain(&n, &e) == 1 && e.kind == NOTIFY_EV_SUPERSEDED &&
	                                              e.serial == 100 && e.tries == 2 && e.elapsed_ms == 1500 &&
	                                              n.st.superseded == 1);
	CHECK("due now, from the first try", notify_due(&n) == 1500 && n.t[0].tries == 0);
	CHECK("old reply before the new send: stale", notify_reply(&n, &a, rep1, r1, 1500, NOTIFY_SIG_NONE) == NOTIFY_V_STALE);
	size_t l2 = next(&n, 1500, &o);
	CHECK("new message: new serial, new ID", o.serial == 101 && o.attempt == 1 && o.id != id1 &&
	                                         buf[0] == (uint8_t)(o.id >> 8) && buf[1] == (uint8_t)o.id);
	CHECK("SOA serial in the message", l2 == 78 && buf[58] == 0 && buf[59] == 0 && buf[60] == 0 && buf[61] == 101);
	CHECK("ack for the old ID ignored", notify_reply(&n, &a, rep1, r1, 1600, NOTIFY_SIG_NONE) == NOTIFY_V_ID &&
	                                    n.t[0].state == NOTIFY_PENDING);
	size_t r2 = reply_of(buf, l2, 0, rep2);
	CHECK("ack for the new ID", notify_reply(&n, &a, rep2, r2, 1700, NOTIFY_SIG_NONE) == NOTIFY_V_ACKED &&
	                            drain(&n, &e) == 1 && e.serial == 101 && e.kind == NOTIFY_EV_ACKED);

	/* Replaced before it was ever sent: no event, nothing counted. */
	notify_serial(&n, 102, 2000);
	notify_serial(&n, 103, 2000);
	CHECK("unsent serial replaced quietly", drain(&n, &e) == 0 && n.st.superseded == 1);
	next(&n, 2000, &o);
	CHECK("sends the newest", o.serial == 103);
	/* An acked serial replaced is not superseded either. */
	r2 = reply_of(buf, 78, 0, rep2);
	notify_reply(&n, &a, rep2, r2, 2001, NOTIFY_SIG_NONE);
	drain(&n, &e);
	notify_serial(&n, 104, 3000);
	CHECK("acked then new serial: no superseded", drain(&n, &e) == 0 && n.t[0].state == NOTIFY_PENDING);
}

static void
several_targets(void)
{
	struct notify n;
	struct notify_out o;
	struct notify_event e;
	uint8_t msgs[3][200], rep[300];
	size_t lens[3];
	uint16_t ids[3];

	setup(&n);
	struct addr a[3] = { ad("192.0.2.1"), ad("192.0.2.2:20053"), ad("[2001:db8::53]") };
	for (int i = 0; i < 3; i++)
		CHECK("add", notify_add(&n, &a[i], 0) == i);
	notify_serial(&n, 9, 10000);
	int seen = 0;
	for (int i = 0; i < 3; i++) {
		lens[i] = next(&n, 10000, &o);
		CHECK("one message per target", lens[i] == 78 && o.target == i);
		memcpy(msgs[i], buf, lens[i]);
		ids[i] = o.id;
		seen |= 1 << notify_find(&n, &o.to);
	}
	CHECK("all three, then none", seen == 7 && next(&n, 10000, &o) == 0);
	CHECK("IDs drawn apart", ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);

	/* Target 1's reply, sent as if from target 0: nothing. */
	size_t rl = reply_of(msgs[1], lens[1], 0, rep);
	CHECK("another target's reply from the wrong address", notify_reply(&n, &a[0], rep, rl, 10100, NOTIFY_SIG_NONE) == NOTIFY_V_ID);
	CHECK("from its own address", notify_reply(&n, &a[1], rep, rl, 10100, NOTIFY_SIG_NONE) == NOTIFY_V_ACKED);
	CHECK("only it is done", n.t[0].state == NOTIFY_PENDING && n.t[1].state == NOTIFY_ACKED &&
	                         n.t[2].state == NOTIFY_PENDING);

	/* The others retry on their own schedule. */
	CHECK("next retry at 11 s", notify_due(&n) == 11000);
	next(&n, 11000, &o);
	CHECK("target 0 retried", o.target == 0 && o.attempt == 2);
	next(&n, 11000, &o);
	CHECK("target 2 retried", o.target == 2 && o.attempt == 2 && o.to.family == AF_INET6);
	CHECK("none left", next(&n, 11000, &o) == 0 && notify_due(&n) == 13000);

	/* IPv6: the exact address and port. */
	rl = reply_of(msgs[2], lens[2], 0, rep);
	struct addr near6 = ad("[2001:db8::54]:53"), port6 = ad("[2001:db8::53]:54");
	CHECK("v6 other address", notify_reply(&n, &near6, rep, rl, 11500, NOTIFY_SIG_NONE) == NOTIFY_V_FROM);
	CHECK("v6 other port", notify_reply(&n, &port6, rep, rl, 11500, NOTIFY_SIG_NONE) == NOTIFY_V_FROM);
	CHECK("v6 target acks", notify_reply(&n, &a[2], rep, rl, 11500, NOTIFY_SIG_NONE) == NOTIFY_V_ACKED);
	CHECK("two events", drain(&n, &e) == 2 && e.target == 2 && e.to.family == AF_INET6 && e.tries == 2);

	/* Target 0 alone runs to its give-up. */
	for (int turn = 0; turn < 40 && notify_due(&n) != INT64_MAX; turn++) {
		int64_t now = notify_due(&n);
		while (next(&n, now, &o) > 0)
			CHECK("only target 0 left", o.target == 0);
	}
	CHECK("target 0 failed, the others stand", n.t[0].state == NOTIFY_FAILED &&
	                                          n.t[1].state == NOTIFY_ACKED && n.t[2].state == NOTIFY_ACKED &&
	                                          n.st.failed == 1 && n.st.acked == 2);
	CHECK("its event", drain(&n, &e) == 1 && e.kind == NOTIFY_EV_FAILED && e.target == 0);
}

static void
adding(void)
{
	struct notify n;
	struct notify_out o;
	char s[64];

	setup(&n);
	struct addr a = ad("192.0.2.1"), zero = ad("0.0.0.0"), any6 = ad("[::]"), mc = ad("224.0.0.1");
	struct addr p0 = a;
	p0.port = 0;
	CHECK("first", notify_add(&n, &a, 0) == 0);
	CHECK("duplicate", notify_add(&n, &a, 0) == -1);
	CHECK("port 0", notify_add(&n, &p0, 0) == -1);
	CHECK("unspecified", notify_add(&n, &zero, 0) == -1 && notify_add(&n, &any6, 0) == -1);
	CHECK("multicast", notify_add(&n, &mc, 0) == -1);
	struct addr bad = a;
	bad.family = 99;
	CHECK("family", notify_add(&n, &bad, 0) == -1);
	int added = 1;
	for (int i = 2; i < 40; i++) {
		snprintf(s, sizeof(s), "[2001:db8::%x]:%d", i, 20000 + i);
		struct addr b = ad(s);
		added += notify_add(&n, &b, 0) >= 0;
	}
	CHECK("capped at NOTIFY_MAX", added == NOTIFY_MAX && n.nt == NOTIFY_MAX);

	/* A target added after the serial is pending at once. */
	setup(&n);
	notify_serial(&n, 5, 100);
	notify_add(&n, &a, 300);
	CHECK("late add is pending", notify_due(&n) == 300 && next(&n, 300, &o) == 78 && o.serial == 5);
}

static void
reserve(void)
{
	struct notify n;
	struct notify_out o;
	uint8_t small[128];

	setup(&n);
	struct addr a = ad("192.0.2.1");
	notify_add(&n, &a, 0);
	notify_serial(&n, 3, 0);
	size_t len = notify_next(&n, 0, &soa, small, 128, 50, &o);
	CHECK("SOA fits in 78", len == 78);
	notify_serial(&n, 4, 0);
	len = notify_next(&n, 0, &soa, small, 128, 51, &o);
	CHECK("no room for the SOA: question only, ANCOUNT 0", len == 27 && small[6] == 0 && small[7] == 0 &&
	                                                         small[5] == 1 && small[2] == 0x24);
	notify_serial(&n, 5, 0);
	len = notify_next(&n, 0, &soa, small, 128, 102, &o);
	CHECK("no room for the question: unsendable, try spent", len == 0 && n.st.unsendable == 1 &&
	                                                         n.t[0].tries == 1 && notify_due(&n) == 1000);
	notify_serial(&n, 6, 0);
	len = notify_next(&n, 0, &soa, small, 128, 200, &o);
	CHECK("reserve over cap: unsendable", len == 0 && n.st.unsendable == 2);

	/* Long SOA names, as they come: still whole, within cap - reserve. */
	dname_from_text(soa.mname, "a-very-long-label-for-the-primary-name-server-of-this-zone.example.org");
	dname_from_text(soa.rname, "another-long-label-for-the-hostmaster-mailbox-of-this-zone.example.net");
	uint8_t big[NOTIFY_MSG_MAX + 200];
	notify_serial(&n, 7, 0);
	len = notify_next(&n, 0, &soa, big, sizeof(big), 200, &o);
	CHECK("long names fit NOTIFY_MSG_MAX", len > 78 && len <= NOTIFY_MSG_MAX && big[7] == 1);
}

static void
events(void)
{
	struct notify n;
	struct notify_out o;
	struct notify_event e;
	char s[64];

	setup(&n);
	for (int i = 0; i < NOTIFY_MAX; i++) {
		snprintf(s, sizeof(s), "192.0.2.%d", i + 1);
		struct addr a = ad(s);
		notify_add(&n, &a, 0);
	}
	/* Six serials, each sent and superseded, never drained: 80 outcomes for 64 places. */
	for (uint32_t sr = 1; sr <= 6; sr++) {
		notify_serial(&n, sr, sr * 10);
		while (notify_next(&n, sr * 10, &soa, buf, sizeof(buf), 0, &o) > 0)
			;
	}
	CHECK("superseded 80, queue 64, lost 16", n.st.superseded == 80 && n.ev_len == NOTIFY_EVENTS &&
	                                          n.st.events_lost == 16);
	CHECK("oldest first", notify_event(&n, &e) && e.serial == 1 && e.target == 0);
	int k = 1 + drain(&n, &e);
	CHECK("drained", k == NOTIFY_EVENTS && e.serial == 4 && !notify_event(&n, &e));
	CHECK("names", strcmp(notify_ev_name(NOTIFY_EV_FAILED), "failed") == 0 &&
	               strcmp(notify_verdict_name(NOTIFY_V_SIG), "tsig") == 0 &&
	               strcmp(notify_state_name(NOTIFY_REJECTED), "rejected") == 0);
}

void
test_notify(void)
{
	message_bytes();
	backoff();
	ack_and_misses();
	new_serial();
	several_targets();
	adding();
	reserve();
	events();
}
