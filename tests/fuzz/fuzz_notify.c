/*
 * fuzz_notify: the NOTIFY sender core (server/notify.h) against a model
 * written from its contract, with reply datagrams through notify_reply
 * while NOTIFYs are pending.
 *
 * Input: byte 0 picks the apex (seed.test, the root, a 255-byte name,
 * a.b), the number of targets (1..16) and their families and ports;
 * then a program, one op a byte:
 *   serial  a new serial (or the same one again) at the current time;
 *   run     the clock moves on (up to 650 s), then notify_next until it
 *           returns 0, with a reserve from the input (so the SOA, or even
 *           the question, may not fit);
 *   raw     a datagram of input bytes from a target or a near address
 *           (port or last address byte changed, another family), with a
 *           TSIG verdict from the input;
 *   echo    the reply to the last NOTIFY sent to a target (header and
 *           question, or the whole message), a rcode, up to three bytes
 *           changed and maybe cut short, from a target or a near address;
 *   drain   notify_event until empty.
 * Every datagram sits in a heap buffer of exactly its length, so ASan
 * traps any over-read.
 *
 * Invariants (a violation is __builtin_trap):
 * - notify_next sends what the model predicts: the pending target due
 *   earliest (lowest index on a tie), its try count, serial and the ID
 *   drawn at notify_serial for all its tries; the backoff is 1 s doubling to 60 s from the
 *   actual send, a give-up after 15 sends and one more wait; after it
 *   returns 0 notify_due equals the model's earliest due, above now;
 * - every message reads back with dns/wire.h as opcode NOTIFY, AA, QR 0,
 *   QDCOUNT 1 (apex, SOA, IN), ANCOUNT 1 with the SOA (serial = the one
 *   notified) when the whole message fits in cap - reserve, else ANCOUNT 0
 *   with the question only, else nothing sent and the try spent;
 *   nothing after it, never longer than NOTIFY_MSG_MAX;
 * - a reply acknowledges exactly when a reference matcher says so: at
 *   least 12 bytes, QR, opcode 4, from a target's exact address, that
 *   target pending with a try sent, its ID, QDCOUNT 1, the apex (any case)
 *   SOA IN at offset 12 (or QDCOUNT 0 with an error rcode), a signature
 *   not BAD; NOERROR gives ACKED, any other rcode REJECTED; anything else
 *   leaves every target as it was;
 * - counters (sent, retried, acked, rejected, failed, superseded,
 *   unsendable, ignored, the sum of ignored_by) equal the model's, and
 *   the events drained are the model's, in order, field for field, with
 *   the same losses when the queue is full.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/addr.h"
#include "base/rng.h"
#include "dns/dname.h"
#include "dns/wire.h"
#include "server/notify.h"
#include "zone/zone.h"

#include "fuzz.h"

#define CAP 1024

struct mtarget {
	struct addr addr;
	enum notify_state state;
	unsigned tries;
	uint16_t id;
	uint32_t serial;
	int64_t since, due;
	uint8_t last[CAP]; /* the last NOTIFY sent to it */
	size_t last_len;
};

static struct notify n;
static struct rng rng;
static struct mtarget m[NOTIFY_MAX];
static int nt;
static uint8_t apex[DNAME_MAX];
static struct zone_soa soa;
static size_t qlen, full_len;
static bool have_serial;
static uint32_t cur_serial;
static int64_t now;
static struct notify_stats want;
static struct notify_event mev[NOTIFY_EVENTS];
static unsigned mev_head, mev_len;
static uint8_t out[CAP];

static void
long_name(uint8_t *name, char c)
{
	char text[300];
	size_t o = 0;

	/* 63 + 63 + 63 + 61 label bytes: a 255-byte wire name. */
	for (int l = 0; l < 4; l++) {
		size_t k = l < 3 ? 63 : 61;
		memset(text + o, c, k); /* nothing in common: no compression */
		o += k;
		text[o++] = l < 3 ? '.' : '\0';
	}
	REQUIRE(dname_from_text(name, text) == DNAME_MAX);
}

static int64_t
retry_ms(unsigned tries)
{
	int64_t ms = 1000;

	for (unsigned i = 1; i < tries; i++)
		ms = ms * 2 > 60000 ? 60000 : ms * 2;
	return ms;
}

static void
mev_push(int j, enum notify_ev_kind kind, uint8_t rcode)
{
	if (mev_len == NOTIFY_EVENTS) {
		want.events_lost++;
		return;
	}
	struct notify_event *e = &mev[(mev_head + mev_len++) % NOTIFY_EVENTS];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->target = j;
	e->to = m[j].addr;
	e->serial = m[j].serial;
	e->tries = m[j].tries;
	e->rcode = rcode;
	e->elapsed_ms = now - m[j].since;
}

static bool
addr_eq(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16) == 0;
}

static void
check_stats(void)
{
	const struct notify_stats *s = &n.st;
	uint64_t sum = 0;

	for (int v = 0; v < NOTIFY_V_COUNT; v++)
		sum += s->ignored_by[v];
	REQUIRE(s->ignored_by[NOTIFY_V_ACKED] == 0 && s->ignored_by[NOTIFY_V_REJECTED] == 0);
	REQUIRE(sum == s->ignored && s->ignored == want.ignored);
	REQUIRE(s->sent == want.sent && s->retried == want.retried);
	REQUIRE(s->acked == want.acked && s->rejected == want.rejected);
	REQUIRE(s->failed == want.failed && s->superseded == want.superseded);
	REQUIRE(s->unsendable == want.unsendable && s->events_lost == want.events_lost);
	for (int j = 0; j < nt; j++)
		REQUIRE(n.t[j].state == m[j].state);
}

static int64_t
model_due(void)
{
	int64_t due = INT64_MAX;

	for (int j = 0; j < nt; j++)
		if (m[j].state == NOTIFY_PENDING && m[j].due < due)
			due = m[j].due;
	return due;
}

static void
op_serial(uint8_t b)
{
	uint32_t s = (b & 1) && have_serial ? cur_serial : cur_serial + (uint32_t)(b >> 1) + 1;

	notify_serial(&n, s, now);
	if (have_serial && s == cur_serial)
		return;
	have_serial = true;
	cur_serial = s;
	for (int j = 0; j < nt; j++) {
		if (m[j].state == NOTIFY_PENDING && m[j].tries > 0) {
			want.superseded++;
			mev_push(j, NOTIFY_EV_SUPERSEDED, 0);
		}
		m[j].state = NOTIFY_PENDING;
		m[j].serial = s;
		m[j].tries = 0;
		m[j].since = m[j].due = now;
		m[j].last_len = 0;
		/* Random, so taken from the core; every send for the serial must carry it. */
		m[j].id = n.t[j].id;
	}
}

static void
check_msg(const uint8_t *p, size_t len, const struct notify_out *o, size_t room)
{
	struct rd r;
	uint8_t name[DNAME_MAX], mname[DNAME_MAX], rname[DNAME_MAX];
	size_t alen = dname_len(apex);

	REQUIRE(len <= room && len <= NOTIFY_MSG_MAX);
	REQUIRE(len == (room >= full_len ? full_len : qlen));
	rd_init(&r, p, len);
	uint16_t id = rd_u16(&r), flags = rd_u16(&r), qd = rd_u16(&r), an = rd_u16(&r);
	uint16_t ns = rd_u16(&r), ar = rd_u16(&r);
	REQUIRE(id == o->id && flags == 0x2400 && qd == 1 && ns == 0 && ar == 0);
	REQUIRE(an == (len == full_len ? 1 : 0));
	size_t nl = rd_name(&r, name);
	REQUIRE(nl == alen && memcmp(name, apex, alen) == 0);
	REQUIRE(rd_u16(&r) == DNS_T_SOA && rd_u16(&r) == DNS_C_IN && r.err == RD_OK);
	if (an == 1) {
		nl = rd_name(&r, name);
		REQUIRE(nl == alen && memcmp(name, apex, alen) == 0);
		REQUIRE(rd_u16(&r) == DNS_T_SOA && rd_u16(&r) == DNS_C_IN && rd_u32(&r) == ZONE_STATIC_TTL);
		uint16_t rdlen = rd_u16(&r);
		size_t start = r.off;
		size_t ml = rd_name(&r, mname), rl = rd_name(&r, rname);
		REQUIRE(ml == dname_len(soa.mname) && memcmp(mname, soa.mname, ml) == 0);
		REQUIRE(rl == dname_len(soa.rname) && memcmp(rname, soa.rname, rl) == 0);
		REQUIRE(rd_u32(&r) == o->serial && rd_u32(&r) == soa.refresh && rd_u32(&r) == soa.retry &&
		        rd_u32(&r) == soa.expire && rd_u32(&r) == soa.minimum);
		REQUIRE(r.err == RD_OK && r.off - start == rdlen);
	}
	REQUIRE(r.err == RD_OK && r.off == len);
}

static void
op_run(uint8_t dt, uint8_t rs)
{
	struct notify_out o;
	size_t reserve = rs < 128 ? 0 : (size_t)(rs - 128) * 8;
	size_t room = reserve < CAP ? CAP - reserve : 0;

	now += (int64_t)dt * dt * 10;
	for (int guard = 0; guard < 1000; guard++) {
		/* The model's next send: give-ups and unsendable tries on the way. */
		int j;
		for (;;) {
			j = -1;
			for (int k = 0; k < nt; k++)
				if (m[k].state == NOTIFY_PENDING && m[k].due <= now && (j < 0 || m[k].due < m[j].due))
					j = k;
			if (j < 0)
				break;
			if (m[j].tries >= NOTIFY_TRIES) {
				m[j].state = NOTIFY_FAILED;
				want.failed++;
				mev_push(j, NOTIFY_EV_FAILED, 0);
				continue;
			}
			m[j].tries++;
			m[j].due = now + retry_ms(m[j].tries);
			if (room < qlen) {
				want.unsendable++;
				continue;
			}
			break;
		}
		size_t len = notify_next(&n, now, &soa, out, CAP, reserve, &o);
		if (j < 0) {
			REQUIRE(len == 0);
			break;
		}
		REQUIRE(len > 0 && o.target == j && o.attempt == m[j].tries && o.serial == m[j].serial);
		REQUIRE(addr_eq(&o.to, &m[j].addr));
		REQUIRE(o.id == m[j].id);
		want.sent++;
		if (o.attempt > 1)
			want.retried++;
		check_msg(out, len, &o, room);
		memcpy(m[j].last, out, len);
		m[j].last_len = len;
	}
	REQUIRE(notify_due(&n) == model_due() && notify_due(&n) > now);
}

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The ladder of notify.h written again: the target acknowledged, or -1. */
static int
ref_match(const struct addr *from, const uint8_t *p, size_t len, enum notify_sig sig)
{
	size_t alen = dname_len(apex);

	if (len < 12 || !(p[2] & 0x80) || ((p[2] >> 3) & 0xf) != 4)
		return -1;
	int j = -1;
	for (int k = 0; k < nt; k++)
		if (addr_eq(from, &m[k].addr))
			j = k;
	if (j < 0 || m[j].state != NOTIFY_PENDING || m[j].tries == 0)
		return -1;
	if ((p[0] << 8 | p[1]) != m[j].id)
		return -1;
	/* An error reply may come as a bare header (NSD's REFUSED). */
	if (p[4] == 0 && p[5] == 0 && (p[3] & 0xf) != 0)
		return sig == NOTIFY_SIG_BAD ? -1 : j;
	if (p[4] != 0 || p[5] != 1 || len < 12 + alen + 4)
		return -1;
	for (size_t i = 0; i < alen; i++)
		if (lower(p[12 + i]) != apex[i])
			return -1;
	const uint8_t *q = p + 12 + alen;
	if (q[0] != 0 || q[1] != DNS_T_SOA || q[2] != 0 || q[3] != DNS_C_IN || sig == NOTIFY_SIG_BAD)
		return -1;
	return j;
}

static void
feed(const struct addr *from, const uint8_t *src, size_t len, enum notify_sig sig)
{
	uint8_t *p = malloc(len ? len : 1);
	REQUIRE(p != NULL);
	memcpy(p, src, len);
	int j = ref_match(from, p, len, sig);
	enum notify_verdict v = notify_reply(&n, from, p, len, now, sig);
	if (j >= 0) {
		uint8_t rc = p[3] & 0xf;
		REQUIRE(v == (rc == 0 ? NOTIFY_V_ACKED : NOTIFY_V_REJECTED));
		m[j].state = rc == 0 ? NOTIFY_ACKED : NOTIFY_REJECTED;
		if (rc == 0)
			want.acked++;
		else
			want.rejected++;
		mev_push(j, rc == 0 ? NOTIFY_EV_ACKED : NOTIFY_EV_REJECTED, rc);
	} else {
		REQUIRE(v != NOTIFY_V_ACKED && v != NOTIFY_V_REJECTED && v < NOTIFY_V_COUNT);
		want.ignored++;
	}
	free(p);
	REQUIRE(notify_due(&n) == model_due());
}

/* A target's address, or one near it. */
static struct addr
pick_from(uint8_t b)
{
	struct addr a = m[b % nt].addr;

	switch (b >> 5) {
	case 5:
		a.port ^= 1;
		break;
	case 6:
		a.ip[a.family == AF_INET ? 3 : 15] ^= 1;
		break;
	case 7:
		/* The same bytes as the other family: v4-mapped, or a v6 cut to 4. */
		if (a.family == AF_INET) {
			memmove(a.ip + 12, a.ip, 4);
			memset(a.ip, 0, 10);
			a.ip[10] = a.ip[11] = 0xff;
			a.family = AF_INET6;
		} else {
			a.family = AF_INET;
		}
		break;
	default:
		break;
	}
	return a;
}

static void
op_echo(const uint8_t *d, size_t avail, size_t *used)
{
	uint8_t buf[CAP];

	*used = 0;
	if (avail < 4)
		return;
	unsigned flips = (d[1] >> 5) & 3;
	size_t k = 4;
	while (k < 4 + 2 * flips && k + 2 <= avail)
		k += 2;
	*used = k; /* whether or not it is sent, so the program reads the same */
	const struct mtarget *t = &m[d[0] % nt];
	if (t->last_len == 0)
		return;
	size_t len = d[1] & 1 ? t->last_len : qlen;
	memcpy(buf, t->last, len);
	buf[2] |= 0x80;
	buf[3] = (uint8_t)((buf[3] & 0xf0) | (d[1] & 0x80 ? (d[1] >> 1) & 0xf : 0));
	if (len == qlen)
		buf[6] = buf[7] = 0;
	for (size_t i = 4; i < k; i += 2)
		buf[d[i] % len] ^= d[i + 1] ? d[i + 1] : 0x20;
	if (d[2] & 0x80)
		len = len * (d[2] & 0x7f) / 128;
	struct addr from = pick_from(d[3]);
	enum notify_sig sig = (enum notify_sig)(((d[2] >> 4) & 3) % 3);
	feed(&from, buf, len, sig);
}

static void
op_drain(void)
{
	struct notify_event e;

	while (notify_event(&n, &e)) {
		REQUIRE(mev_len > 0);
		const struct notify_event *w = &mev[mev_head];
		mev_head = (mev_head + 1) % NOTIFY_EVENTS;
		mev_len--;
		REQUIRE(e.kind == w->kind && e.target == w->target && addr_eq(&e.to, &w->to) &&
		        e.serial == w->serial && e.tries == w->tries && e.rcode == w->rcode &&
		        e.elapsed_ms == w->elapsed_ms);
	}
	REQUIRE(mev_len == 0);
}

static void
setup(uint8_t b)
{
	static const uint8_t seed[32] = { 'n', 'o', 't', 'i', 'f', 'y' };
	char text[64];

	memset(m, 0, sizeof(m));
	memset(&want, 0, sizeof(want));
	mev_head = mev_len = 0;
	have_serial = false;
	cur_serial = 0;
	now = 1000000;
	rng_init_seed(&rng, seed);
	memset(&soa, 0, sizeof(soa));
	dname_from_text(soa.mname, "ns1.seed.test");
	dname_from_text(soa.rname, "hostmaster.seed.test");
	soa.refresh = 3600;
	soa.retry = 600;
	soa.expire = 86400;
	soa.minimum = 60;
	switch (b & 3) {
	case 0:
		dname_from_text(apex, "seed.test");
		break;
	case 1:
		dname_from_text(apex, ".");
		break;
	case 2:
		/* The longest names anywhere: the message reaches NOTIFY_MSG_MAX. */
		long_name(apex, 'a');
		long_name(soa.mname, 'm');
		long_name(soa.rname, 'r');
		break;
	default:
		dname_from_text(apex, "a.b");
		break;
	}
	qlen = 12 + dname_len(apex) + 4;
	notify_init(&n, apex, &rng);

	/* The whole message's length, from a scratch sender. */
	static struct notify scratch;
	struct rng r2 = rng;
	struct addr a0;
	struct notify_out o;
	addr_parse_hostport(&a0, "192.0.2.1", 53);
	notify_init(&scratch, apex, &r2);
	notify_add(&scratch, &a0, 0);
	notify_serial(&scratch, 1, 0);
	full_len = notify_next(&scratch, 0, &soa, out, CAP, 0, &o);
	REQUIRE(full_len > qlen && full_len <= NOTIFY_MSG_MAX);
	if ((b & 3) == 2)
		REQUIRE(full_len == NOTIFY_MSG_MAX);

	nt = 1 + ((b >> 2) & 0xf);
	for (int j = 0; j < nt; j++) {
		bool v6 = (b >> 6) == 1 || ((b >> 6) >= 2 && j % 2);
		unsigned port = (b >> 6) == 3 ? 20000u + (unsigned)j : 53;
		if (v6)
			snprintf(text, sizeof(text), "[2001:db8::%x]:%u", j + 1, port);
		else
			snprintf(text, sizeof(text), "10.0.0.%d:%u", j + 1, port);
		REQUIRE(addr_parse_hostport(&m[j].addr, text, 53) == 0);
		REQUIRE(notify_add(&n, &m[j].addr, now) == j);
		m[j].state = NOTIFY_IDLE;
	}
	REQUIRE(notify_add(&n, &m[0].addr, now) == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup(data[0]);
	size_t pc = 1;
	while (pc < size) {
		uint8_t op = data[pc++];
		size_t avail = size - pc, used = 0;
		switch (op % 8) {
		case 0:
			op_serial((uint8_t)(op >> 3));
			break;
		case 1:
		case 2:
			if (avail >= 2) {
				op_run(data[pc], data[pc + 1]);
				used = 2;
			}
			break;
		case 3:
			if (avail >= 2) {
				size_t len = data[pc + 1];
				if (len > avail - 2)
					len = avail - 2;
				struct addr from = pick_from(data[pc]);
				enum notify_sig sig = (enum notify_sig)(op >> 3) % 3;
				feed(&from, data + pc + 2, len, sig);
				used = 2 + len;
			}
			break;
		case 4:
		case 5:
		case 6:
			op_echo(data + pc, avail, &used);
			break;
		default:
			op_drain();
			break;
		}
		pc += used;
		check_stats();
	}
	op_drain();
	return 0;
}
