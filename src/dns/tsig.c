#include "dns/tsig.h"

#include <bearssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dns/wire.h"

/* "hmac-sha256." in wire form (RFC 8945 6); the string's NUL is the root. */
static const uint8_t alg_sha256[] = "\013hmac-sha256";
#define ALG_LEN sizeof(alg_sha256)

/* Fixed part of a TSIG RR after its owner name: TYPE, CLASS, TTL, RDLENGTH. */
#define RR_FIXED 10
/* Fixed part of its RDATA after the algorithm name: Time Signed (6), Fudge,
 * MAC Size, Original ID, Error, Other Len (2 each). */
#define RDATA_FIXED 16
#define OTHER_TIME 6 /* Other Data of a BADTIME reply: our time, 48 bits */

/* ---- messages ---------------------------------------------------------- */

/* A TSIG RR as read from a message. Names lowercase; mac and other point into it. */
struct tsig_rr {
	size_t off; /* where the RR starts */
	uint8_t name[DNAME_MAX];
	uint8_t alg[DNAME_MAX];
	uint64_t time;
	uint16_t fudge, mac_len, orig_id, error, other_len;
	const uint8_t *mac, *other;
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The RDATA of a TSIG RR at [off, end), end being the end of the message. */
static int
parse_rdata(const uint8_t *msg, size_t off, size_t end, struct tsig_rr *t)
{
	struct rd r;

	rd_init(&r, msg, end);
	r.off = off;
	size_t n = rd_name(&r, t->alg);
	/* RFC 8945 4.2 (RFC 3597): the algorithm name MUST NOT be compressed;
	 * only an uncompressed name takes exactly its own length. */
	if (r.err || r.off - off != n)
		return -1;
	dname_lower(t->alg);
	uint64_t hi = rd_u16(&r);
	t->time = hi << 32 | rd_u32(&r);
	t->fudge = rd_u16(&r);
	t->mac_len = rd_u16(&r);
	t->mac = msg + r.off;
	rd_skip(&r, t->mac_len);
	t->orig_id = rd_u16(&r);
	t->error = rd_u16(&r);
	t->other_len = rd_u16(&r);
	t->other = msg + r.off;
	rd_skip(&r, t->other_len);
	if (r.err || r.off != end)
		return -1;
	return 0;
}

/*
 * Walk every record of msg. 0: no TSIG RR; 1: one, the last record of the
 * additional section and the last bytes of the message, read into t;
 * -1: FORMERR (records that do not parse, a TSIG RR elsewhere, bad RDATA).
 */
static int
find_tsig(const uint8_t *msg, size_t len, struct tsig_rr *t)
{
	uint8_t name[DNAME_MAX];
	struct rd r;

	rd_init(&r, msg, len);
	rd_skip(&r, 4);
	uint32_t qd = rd_u16(&r), an = rd_u16(&r), ns = rd_u16(&r), ar = rd_u16(&r);
	for (uint32_t i = 0; i < qd && !r.err; i++) {
		rd_name(&r, name);
		rd_skip(&r, 4);
	}
	uint32_t nrr = an + ns + ar;
	for (uint32_t i = 0; i < nrr && !r.err; i++) {
		size_t start = r.off;
		rd_name(&r, name);
		uint16_t type = rd_u16(&r), cls = rd_u16(&r);
		rd_skip(&r, 4);
		uint16_t rdlen = rd_u16(&r);
		if (r.err)
			break;
		if (type != DNS_T_TSIG) {
			rd_skip(&r, rdlen);
			continue;
		}
		/* RFC 8945 5.2: only as the last record of the additional
		 * section, once, class ANY; and we want nothing after it. */
		if (i != nrr - 1 || i < an + ns || cls != DNS_C_ANY)
			return -1;
		if (len - r.off != rdlen)
			return -1;
		t->off = start;
		memcpy(t->name, name, dname_len(name));
		dname_lower(t->name);
		return parse_rdata(msg, r.off, len, t) < 0 ? -1 : 1;
	}
	return r.err ? -1 : 0;
}

static bool
name_eq(const uint8_t *a, const uint8_t *b)
{
	size_t n = dname_len(a);
	return n == dname_len(b) && memcmp(a, b, n) == 0;
}

/* Every byte compared, so the time taken says nothing about where they differ. */
static bool
mac_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

static bool
time_ok(uint64_t now, uint64_t signed_at, uint16_t fudge)
{
	uint64_t d = now > signed_at ? now - signed_at : signed_at - now;
	return d <= fudge;
}

/* ---- MAC input (RFC 8945 4.3) ----------------------------------------- */

struct mac_ctx {
	br_hmac_key_context kc;
	br_hmac_context hc;
};

static void
mac_begin(struct mac_ctx *m, const struct tsig_key *k)
{
	br_hmac_key_init(&m->kc, &br_sha256_vtable, k->secret, k->secret_len);
	br_hmac_init(&m->hc, &m->kc, 0);
}

static void
mac_u16(struct mac_ctx *m, uint16_t v)
{
	uint8_t b[2];
	put16(b, v);
	br_hmac_update(&m->hc, b, 2);
}

static void
mac_u48(struct mac_ctx *m, uint64_t v)
{
	uint8_t b[6];
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(v >> (40 - 8 * i));
	br_hmac_update(&m->hc, b, 6);
}

/* A request MAC or a prior MAC: MAC Size, then the MAC (4.3.1, 5.3.1). */
static void
mac_prior(struct mac_ctx *m, const uint8_t *mac, size_t n)
{
	mac_u16(m, (uint16_t)n);
	br_hmac_update(&m->hc, mac, n);
}

/* The message without its TSIG RR: ID as given, ARCOUNT as given (4.3.2). */
static void
mac_msg(struct mac_ctx *m, const uint8_t *msg, size_t len, uint16_t id, uint16_t arcount)
{
	uint8_t hdr[DNS_HDR];

	memcpy(hdr, msg, DNS_HDR);
	put16(hdr, id);
	put16(hdr + 10, arcount);
	br_hmac_update(&m->hc, hdr, DNS_HDR);
	br_hmac_update(&m->hc, msg + DNS_HDR, len - DNS_HDR);
}

/* The TSIG variables (4.3.3): names lowercase and uncompressed. */
static void
mac_vars(struct mac_ctx *m, const uint8_t *name, const uint8_t *alg, uint64_t time,
         uint16_t fudge, uint16_t error, const uint8_t *other, uint16_t other_len)
{
	static const uint8_t class_ttl[6] = { 0, DNS_C_ANY, 0, 0, 0, 0 };

	br_hmac_update(&m->hc, name, dname_len(name));
	br_hmac_update(&m->hc, class_ttl, sizeof(class_ttl));
	br_hmac_update(&m->hc, alg, dname_len(alg));
	mac_u48(m, time);
	mac_u16(m, fudge);
	mac_u16(m, error);
	mac_u16(m, other_len);
	if (other_len > 0)
		br_hmac_update(&m->hc, other, other_len);
}

/* The TSIG timers alone, for the later messages of a reply (5.3.1). */
static void
mac_timers(struct mac_ctx *m, uint64_t time, uint16_t fudge)
{
	mac_u48(m, time);
	mac_u16(m, fudge);
}

static void
mac_end(struct mac_ctx *m, uint8_t out[TSIG_MAC_LEN])
{
	br_hmac_out(&m->hc, out);
}

/* The request's MAC, recomputed from the RR read and the message before it. */
static void
mac_of_received(struct mac_ctx *m, const uint8_t *msg, const struct tsig_rr *t, uint8_t out[TSIG_MAC_LEN])
{
	mac_msg(m, msg, t->off, t->orig_id, (uint16_t)(get16(msg + 10) - 1));
	mac_vars(m, t->name, t->alg, t->time, t->fudge, t->error, t->other, t->other_len);
	mac_end(m, out);
}

/* ---- writing ------------------------------------------------------------ */

struct tsig_out {
	const uint8_t *name, *alg;
	uint64_t time;
	uint16_t fudge, error, other_len;
	const uint8_t *mac, *other;
	size_t mac_len;
};

/* Append the RR after msg[0..*len) and count it in ARCOUNT, or change nothing. */
static int
append_rr(uint8_t *msg, size_t *len, size_t cap, const struct tsig_out *o)
{
	struct wr w;

	if (*len < DNS_HDR || *len > cap || get16(msg + 10) == 0xffff)
		return -1;
	wr_init(&w, msg, cap);
	w.off = *len;
	/* Written whole, never compressed: 4.2 forbids it for the algorithm,
	 * and an uncompressed owner is what every implementation reads. */
	wr_bytes(&w, o->name, dname_len(o->name));
	wr_u16(&w, DNS_T_TSIG);
	wr_u16(&w, DNS_C_ANY);
	wr_u32(&w, 0);
	size_t rdlen_at = w.off;
	wr_u16(&w, 0);
	size_t rdata = w.off;
	wr_bytes(&w, o->alg, dname_len(o->alg));
	wr_u16(&w, (uint16_t)(o->time >> 32));
	wr_u32(&w, (uint32_t)o->time);
	wr_u16(&w, o->fudge);
	wr_u16(&w, (uint16_t)o->mac_len);
	if (o->mac_len > 0)
		wr_bytes(&w, o->mac, o->mac_len);
	wr_u16(&w, get16(msg)); /* Original ID: the message's own */
	wr_u16(&w, o->error);
	wr_u16(&w, o->other_len);
	if (o->other_len > 0)
		wr_bytes(&w, o->other, o->other_len);
	if (w.err)
		return -1;
	put16(msg + rdlen_at, (uint16_t)(w.off - rdata));
	put16(msg + 10, (uint16_t)(get16(msg + 10) + 1));
	*len = w.off;
	return 0;
}

size_t
tsig_rr_len(const struct tsig_key *k)
{
	return dname_len(k->name) + RR_FIXED + ALG_LEN + RDATA_FIXED + TSIG_MAC_LEN + OTHER_TIME;
}

/* ---- server ------------------------------------------------------------ */

enum tsig_result
tsig_verify_request(struct tsig_state *st, const struct tsig_key *k, const uint8_t *msg,
                    size_t len, uint64_t now)
{
	struct tsig_rr t;
	struct mac_ctx m;
	uint8_t mac[TSIG_MAC_LEN];

	memset(st, 0, sizeof(*st));
	st->tsig_off = len;
	int found = find_tsig(msg, len, &t);
	if (found <= 0)
		return st->result = found == 0 ? TSIG_NONE : TSIG_FORMERR;
	st->tsig_off = t.off;
	memcpy(st->name, t.name, dname_len(t.name));
	memcpy(st->alg, t.alg, dname_len(t.alg));
	st->time_signed = t.time;
	st->fudge = t.fudge;
	st->orig_id = t.orig_id;
	st->error = t.error;
	/* RFC 8945 5.2: key, then MAC, then time, then truncation policy. */
	if (!name_eq(t.name, k->name) || !name_eq(t.alg, alg_sha256))
		return st->result = TSIG_BADKEY;
	/* 5.2.2.1: longer than the hash, or shorter than max(10, half of it). */
	if (t.mac_len > TSIG_MAC_LEN || t.mac_len < TSIG_MAC_MIN)
		return st->result = TSIG_FORMERR;
	mac_begin(&m, k);
	mac_of_received(&m, msg, &t, mac);
	if (!mac_eq(mac, t.mac, t.mac_len))
		return st->result = TSIG_BADSIG;
	/* A validated MAC, truncated as received, is what the reply chains on. */
	memcpy(st->mac, t.mac, t.mac_len);
	st->mac_len = t.mac_len;
	if (!time_ok(now, t.time, t.fudge))
		return st->result = TSIG_BADTIME;
	if (t.mac_len < k->mac_min)
		return st->result = TSIG_BADTRUNC;
	return st->result = TSIG_OK;
}

int
tsig_sign(struct tsig_state *st, const struct tsig_key *k, uint8_t *msg, size_t *len,
          size_t cap, uint64_t now)
{
	struct mac_ctx m;
	uint8_t mac[TSIG_MAC_LEN];

	if (st->result != TSIG_OK || st->mac_len == 0 || *len < DNS_HDR || *len > cap)
		return -1;
	mac_begin(&m, k);
	mac_prior(&m, st->mac, st->mac_len);
	mac_msg(&m, msg, *len, get16(msg), get16(msg + 10));
	if (st->nsigned == 0)
		mac_vars(&m, k->name, alg_sha256, now, TSIG_FUDGE, 0, NULL, 0);
	else
		mac_timers(&m, now, TSIG_FUDGE);
	mac_end(&m, mac);
	struct tsig_out o = { .name = k->name, .alg = alg_sha256, .time = now, .fudge = TSIG_FUDGE,
	                      .mac = mac, .mac_len = TSIG_MAC_LEN };
	if (append_rr(msg, len, cap, &o) < 0)
		return -1;
	memcpy(st->mac, mac, TSIG_MAC_LEN);
	st->mac_len = TSIG_MAC_LEN;
	st->nsigned++;
	return 0;
}

int
tsig_sign_error(struct tsig_state *st, const struct tsig_key *k, uint8_t *msg, size_t *len,
                size_t cap, uint64_t now)
{
	struct tsig_out o = { .name = st->name, .alg = st->alg, .time = now, .fudge = TSIG_FUDGE };
	uint8_t mac[TSIG_MAC_LEN], other[OTHER_TIME];
	struct mac_ctx m;

	switch (st->result) {
	case TSIG_BADKEY:
		o.error = TSIG_E_BADKEY;
		break;
	case TSIG_BADSIG:
		o.error = TSIG_E_BADSIG;
		break;
	case TSIG_BADTIME:
		/* 5.2.3: the client's own time back, ours in Other Data. */
		o.error = TSIG_E_BADTIME;
		o.time = st->time_signed;
		for (int i = 0; i < OTHER_TIME; i++)
			other[i] = (uint8_t)(now >> (40 - 8 * i));
		o.other = other;
		o.other_len = OTHER_TIME;
		break;
	case TSIG_BADTRUNC:
		o.error = TSIG_E_BADTRUNC;
		break;
	default:
		return -1;
	}
	if (*len < DNS_HDR || *len > cap)
		return -1;
	uint8_t flags = msg[3];
	msg[3] = (uint8_t)((flags & 0xf0) | DNS_R_NOTAUTH);
	/* 5.3.2: no MAC when the key or the MAC failed (we could not sign
	 * anything the client would trust); a full one, chained on the
	 * validated request MAC, for a time or truncation error. */
	if (o.error == TSIG_E_BADTIME || o.error == TSIG_E_BADTRUNC) {
		mac_begin(&m, k);
		mac_prior(&m, st->mac, st->mac_len);
		mac_msg(&m, msg, *len, get16(msg), get16(msg + 10));
		mac_vars(&m, k->name, alg_sha256, o.time, o.fudge, o.error, o.other, o.other_len);
		mac_end(&m, mac);
		o.name = k->name;
		o.alg = alg_sha256;
		o.mac = mac;
		o.mac_len = TSIG_MAC_LEN;
	}
	if (append_rr(msg, len, cap, &o) < 0) {
		msg[3] = flags;
		return -1;
	}
	return 0;
}

void
tsig_strip(const struct tsig_state *st, uint8_t *msg, size_t *len)
{
	if (st->tsig_off >= *len || *len < DNS_HDR || get16(msg + 10) == 0)
		return;
	*len = st->tsig_off;
	put16(msg + 10, (uint16_t)(get16(msg + 10) - 1));
}

/* ---- client ------------------------------------------------------------ */

int
tsig_sign_request(struct tsig_state *st, const struct tsig_key *k, uint8_t *msg, size_t *len,
                  size_t cap, uint64_t now)
{
	struct mac_ctx m;
	uint8_t mac[TSIG_MAC_LEN];

	if (*len < DNS_HDR || *len > cap)
		return -1;
	mac_begin(&m, k);
	mac_msg(&m, msg, *len, get16(msg), get16(msg + 10));
	mac_vars(&m, k->name, alg_sha256, now, TSIG_FUDGE, 0, NULL, 0);
	mac_end(&m, mac);
	struct tsig_out o = { .name = k->name, .alg = alg_sha256, .time = now, .fudge = TSIG_FUDGE,
	                      .mac = mac, .mac_len = TSIG_MAC_LEN };
	uint16_t id = get16(msg);
	if (append_rr(msg, len, cap, &o) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->result = TSIG_NONE; /* nothing verified yet */
	st->tsig_off = *len;
	memcpy(st->name, k->name, dname_len(k->name));
	memcpy(st->alg, alg_sha256, ALG_LEN);
	st->time_signed = now;
	st->fudge = TSIG_FUDGE;
	st->orig_id = id;
	memcpy(st->mac, mac, TSIG_MAC_LEN);
	st->mac_len = TSIG_MAC_LEN;
	st->nsigned = 1;
	return 0;
}

static enum tsig_result
from_error(uint16_t error)
{
	switch (error) {
	case TSIG_E_BADKEY:
		return TSIG_BADKEY;
	case TSIG_E_BADTIME:
		return TSIG_BADTIME;
	case TSIG_E_BADTRUNC:
		return TSIG_BADTRUNC;
	default:
		return TSIG_BADSIG;
	}
}

/*
 * The request MAC in st is left as it is: a forged reply that fails here
 * must not stop the real one, arriving later, from verifying.
 */
enum tsig_result
tsig_verify_response(struct tsig_state *st, const struct tsig_key *k, const uint8_t *msg,
                     size_t len, uint64_t now)
{
	struct tsig_rr t;
	struct mac_ctx m;
	uint8_t mac[TSIG_MAC_LEN];

	st->error = 0;
	st->tsig_off = len;
	if (st->mac_len == 0)
		return st->result = TSIG_BADSIG; /* no request MAC: not a state of ours */
	int found = find_tsig(msg, len, &t);
	if (found <= 0)
		return st->result = found == 0 ? TSIG_NONE : TSIG_FORMERR;
	st->tsig_off = t.off;
	st->error = t.error;
	if (!name_eq(t.name, k->name) || !name_eq(t.alg, alg_sha256))
		return st->result = TSIG_BADKEY;
	/* 5.3.2: an unsigned error reply; all we can do is report it. */
	if (t.mac_len == 0 && t.error != 0)
		return st->result = from_error(t.error);
	if (t.mac_len > TSIG_MAC_LEN || t.mac_len < TSIG_MAC_MIN)
		return st->result = TSIG_FORMERR;
	mac_begin(&m, k);
	mac_prior(&m, st->mac, st->mac_len);
	mac_of_received(&m, msg, &t, mac);
	if (!mac_eq(mac, t.mac, t.mac_len))
		return st->result = TSIG_BADSIG;
	if (t.error != 0)
		return st->result = from_error(t.error);
	if (!time_ok(now, t.time, t.fudge))
		return st->result = TSIG_BADTIME;
	if (t.mac_len < k->mac_min)
		return st->result = TSIG_BADTRUNC;
	return st->result = TSIG_OK;
}

const char *
tsig_result_name(enum tsig_result r)
{
	switch (r) {
	case TSIG_NONE:
		return "none";
	case TSIG_OK:
		return "ok";
	case TSIG_FORMERR:
		return "formerr";
	case TSIG_BADKEY:
		return "badkey";
	case TSIG_BADSIG:
		return "badsig";
	case TSIG_BADTIME:
		return "badtime";
	case TSIG_BADTRUNC:
		return "badtrunc";
	}
	return "?";
}
