#include "server/notify.h"

#include <string.h>

#include "dns/wire.h"

#define RCODE(flags) ((uint8_t)((flags) & 0xf))

static bool
addr_same(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->ip, b->ip, addr_len(a)) == 0;
}

/* The wait after the tries-th send: 1 s, 2 s, 4 s, ... at most 60 s. */
static int64_t
retry_ms(unsigned tries)
{
	int64_t ms = NOTIFY_RETRY_FIRST_MS;

	for (unsigned i = 1; i < tries && ms < NOTIFY_RETRY_MAX_MS; i++)
		ms *= 2;
	return ms < NOTIFY_RETRY_MAX_MS ? ms : NOTIFY_RETRY_MAX_MS;
}

/* A full queue drops the new outcome: the counters still have it. */
static void
event_push(struct notify *n, int i, enum notify_ev_kind kind, uint8_t rcode, int64_t now_ms)
{
	const struct notify_target *t = &n->t[i];

	if (n->ev_len == NOTIFY_EVENTS) {
		n->st.events_lost++;
		return;
	}
	struct notify_event *e = &n->ev[(n->ev_head + n->ev_len) % NOTIFY_EVENTS];
	e->kind = kind;
	e->target = i;
	e->to = t->addr;
	e->serial = t->serial;
	e->tries = t->tries;
	e->rcode = rcode;
	e->elapsed_ms = now_ms - t->since_ms;
	n->ev_len++;
}

/* Every state change of a target goes through here, with its count and event. */
static void
target_enter(struct notify *n, int i, enum notify_state s, uint8_t rcode, int64_t now_ms)
{
	struct notify_target *t = &n->t[i];

	switch (s) {
	case NOTIFY_PENDING:
		/* Only a serial that went out and got no answer is worth a line. */
		if (t->state == NOTIFY_PENDING && t->tries > 0) {
			n->st.superseded++;
			event_push(n, i, NOTIFY_EV_SUPERSEDED, 0, now_ms);
		}
		t->serial = n->serial;
		t->id = (uint16_t)rng_u32(n->rng);
		t->tries = 0;
		t->since_ms = now_ms;
		t->due_ms = now_ms;
		break;
	case NOTIFY_ACKED:
		n->st.acked++;
		event_push(n, i, NOTIFY_EV_ACKED, rcode, now_ms);
		break;
	case NOTIFY_REJECTED:
		n->st.rejected++;
		event_push(n, i, NOTIFY_EV_REJECTED, rcode, now_ms);
		break;
	case NOTIFY_FAILED:
		n->st.failed++;
		event_push(n, i, NOTIFY_EV_FAILED, 0, now_ms);
		break;
	case NOTIFY_IDLE:
		break;
	}
	t->state = s;
}

void
notify_init(struct notify *n, const uint8_t *apex, struct rng *rng)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->apex, apex, dname_len(apex));
	n->rng = rng;
}

int
notify_find(const struct notify *n, const struct addr *a)
{
	for (int i = 0; i < n->nt; i++)
		if (addr_same(&n->t[i].addr, a))
			return i;
	return -1;
}

int
notify_add(struct notify *n, const struct addr *a, int64_t now_ms)
{
	if (n->nt == NOTIFY_MAX || (a->family != AF_INET && a->family != AF_INET6) ||
	    a->port == 0 || addr_is_unusable(a) || notify_find(n, a) >= 0)
		return -1;
	int i = n->nt++;
	memset(&n->t[i], 0, sizeof(n->t[i]));
	n->t[i].addr = *a;
	n->t[i].state = NOTIFY_IDLE;
	if (n->have_serial)
		target_enter(n, i, NOTIFY_PENDING, 0, now_ms);
	return i;
}

void
notify_serial(struct notify *n, uint32_t serial, int64_t now_ms)
{
	if (n->have_serial && n->serial == serial)
		return;
	n->have_serial = true;
	n->serial = serial;
	for (int i = 0; i < n->nt; i++)
		target_enter(n, i, NOTIFY_PENDING, 0, now_ms);
}

int64_t
notify_due(const struct notify *n)
{
	int64_t due = INT64_MAX;

	for (int i = 0; i < n->nt; i++)
		if (n->t[i].state == NOTIFY_PENDING && n->t[i].due_ms < due)
			due = n->t[i].due_ms;
	return due;
}

/*
 * RFC 1996 3.7: opcode NOTIFY, AA, QDCOUNT 1 (apex, SOA, IN), and the SOA
 * as a hint in the answer when it fits; 0 when the question does not.
 */
static size_t
build(const struct notify *n, const struct notify_target *t, const struct zone_soa *soa,
      uint8_t *out, size_t cap, size_t reserve)
{
	struct wr w;

	if (reserve >= cap)
		return 0;
	wr_init(&w, out, cap - reserve);
	wr_u16(&w, t->id);
	wr_u16(&w, (uint16_t)(NOTIFY_OPCODE << 11 | DNS_F_AA));
	wr_u16(&w, 1); /* QDCOUNT */
	wr_u16(&w, 0); /* ANCOUNT: 1 once the SOA is in */
	wr_u16(&w, 0); /* NSCOUNT */
	wr_u16(&w, 0); /* ARCOUNT: the caller's TSIG makes it 1 */
	wr_name(&w, n->apex);
	wr_u16(&w, DNS_T_SOA);
	wr_u16(&w, DNS_C_IN);
	if (w.err)
		return 0;

	struct wr_mark m = wr_mark(&w);
	wr_name(&w, n->apex);
	wr_u16(&w, DNS_T_SOA);
	wr_u16(&w, DNS_C_IN);
	wr_u32(&w, ZONE_STATIC_TTL); /* the TTL our SOA answers carry */
	size_t lenpos = w.off;
	wr_u16(&w, 0);
	wr_name(&w, soa->mname);
	wr_name(&w, soa->rname);
	wr_u32(&w, t->serial);
	wr_u32(&w, soa->refresh);
	wr_u32(&w, soa->retry);
	wr_u32(&w, soa->expire);
	wr_u32(&w, soa->minimum);
	if (w.err) {
		wr_rollback(&w, m);
	} else {
		wr_put_u16(&w, lenpos, (uint16_t)(w.off - lenpos - 2));
		wr_put_u16(&w, 6, 1);
	}
	return w.off;
}

size_t
notify_next(struct notify *n, int64_t now_ms, const struct zone_soa *soa,
            uint8_t *out, size_t cap, size_t reserve, struct notify_out *o)
{
	for (;;) {
		int best = -1;
		for (int i = 0; i < n->nt; i++) {
			const struct notify_target *t = &n->t[i];
			if (t->state == NOTIFY_PENDING && t->due_ms <= now_ms &&
			    (best < 0 || t->due_ms < n->t[best].due_ms))
				best = i;
		}
		if (best < 0)
			return 0;

		struct notify_target *t = &n->t[best];
		if (t->tries >= NOTIFY_TRIES) {
			target_enter(n, best, NOTIFY_FAILED, 0, now_ms);
			continue;
		}
		/* Timed from this send, so a late loop turn does not bunch retries. */
		t->tries++;
		t->due_ms = now_ms + retry_ms(t->tries);
		size_t len = build(n, t, soa, out, cap, reserve);
		if (len == 0) {
			n->st.unsendable++;
			continue;
		}
		n->st.sent++;
		if (t->tries > 1)
			n->st.retried++;
		o->to = t->addr;
		o->target = best;
		o->id = t->id;
		o->serial = t->serial;
		o->attempt = t->tries;
		return len;
	}
}

/* The ladder of notify.h; *ti is the target on a match. */
static enum notify_verdict
reply_check(const struct notify *n, const struct addr *from, const uint8_t *msg, size_t len,
            enum notify_sig sig, int *ti, uint8_t *rcode)
{
	struct rd r;
	uint8_t name[DNAME_MAX];

	if (len < DNS_HDR)
		return NOTIFY_V_SHORT;
	rd_init(&r, msg, len);
	uint16_t id = rd_u16(&r);
	uint16_t flags = rd_u16(&r);
	uint16_t qdcount = rd_u16(&r);
	rd_skip(&r, 6);
	if (!(flags & DNS_F_QR))
		return NOTIFY_V_QR;
	if (DNS_OPCODE(flags) != NOTIFY_OPCODE)
		return NOTIFY_V_OPCODE;
	int i = notify_find(n, from);
	if (i < 0)
		return NOTIFY_V_FROM;
	const struct notify_target *t = &n->t[i];
	/* Nothing sent for this serial yet: whatever this answers is older. */
	if (t->state != NOTIFY_PENDING || t->tries == 0)
		return NOTIFY_V_STALE;
	if (id != t->id)
		return NOTIFY_V_ID;
	/* NSD refuses with a bare header: see notify.h. */
	bool bare_error = qdcount == 0 && RCODE(flags) != DNS_R_NOERROR;
	if (!bare_error) {
		if (qdcount != 1)
			return NOTIFY_V_QUESTION;
		size_t nlen = rd_name(&r, name);
		uint16_t qtype = rd_u16(&r);
		uint16_t qclass = rd_u16(&r);
		if (r.err)
			return NOTIFY_V_QUESTION;
		dname_lower(name);
		if (nlen != dname_len(n->apex) || memcmp(name, n->apex, nlen) != 0 ||
		    qtype != DNS_T_SOA || qclass != DNS_C_IN)
			return NOTIFY_V_QUESTION;
	}
	if (sig == NOTIFY_SIG_BAD)
		return NOTIFY_V_SIG;
	*ti = i;
	*rcode = RCODE(flags);
	return *rcode == DNS_R_NOERROR ? NOTIFY_V_ACKED : NOTIFY_V_REJECTED;
}

enum notify_verdict
notify_reply(struct notify *n, const struct addr *from, const uint8_t *msg, size_t len,
             int64_t now_ms, enum notify_sig sig)
{
	int i = -1;
	uint8_t rcode = 0;
	enum notify_verdict v = reply_check(n, from, msg, len, sig, &i, &rcode);

	switch (v) {
	case NOTIFY_V_ACKED:
		target_enter(n, i, NOTIFY_ACKED, rcode, now_ms);
		break;
	case NOTIFY_V_REJECTED:
		target_enter(n, i, NOTIFY_REJECTED, rcode, now_ms);
		break;
	default:
		n->st.ignored++;
		n->st.ignored_by[v]++;
		break;
	}
	return v;
}

bool
notify_event(struct notify *n, struct notify_event *ev)
{
	if (n->ev_len == 0)
		return false;
	*ev = n->ev[n->ev_head];
	n->ev_head = (n->ev_head + 1) % NOTIFY_EVENTS;
	n->ev_len--;
	return true;
}

const char *
notify_state_name(enum notify_state s)
{
	switch (s) {
	case NOTIFY_IDLE:
		return "idle";
	case NOTIFY_PENDING:
		return "pending";
	case NOTIFY_ACKED:
		return "acked";
	case NOTIFY_REJECTED:
		return "rejected";
	case NOTIFY_FAILED:
		return "failed";
	}
	return "unknown";
}

const char *
notify_verdict_name(enum notify_verdict v)
{
	switch (v) {
	case NOTIFY_V_ACKED:
		return "acked";
	case NOTIFY_V_REJECTED:
		return "rejected";
	case NOTIFY_V_SHORT:
		return "short";
	case NOTIFY_V_QR:
		return "not_response";
	case NOTIFY_V_OPCODE:
		return "opcode";
	case NOTIFY_V_FROM:
		return "from";
	case NOTIFY_V_STALE:
		return "stale";
	case NOTIFY_V_ID:
		return "id";
	case NOTIFY_V_QUESTION:
		return "question";
	case NOTIFY_V_SIG:
		return "tsig";
	case NOTIFY_V_COUNT:
		break;
	}
	return "unknown";
}

const char *
notify_ev_name(enum notify_ev_kind k)
{
	switch (k) {
	case NOTIFY_EV_ACKED:
		return "acked";
	case NOTIFY_EV_REJECTED:
		return "rejected";
	case NOTIFY_EV_FAILED:
		return "failed";
	case NOTIFY_EV_SUPERSEDED:
		return "superseded";
	}
	return "unknown";
}
