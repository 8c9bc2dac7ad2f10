/*
 * fuzz_tsig: dns/tsig.h on hostile input, with one fixed key (xfr-key, the
 * secret of tests/interop/tsig.sh) and the clock fixed at NOW, so the seed
 * requests captured from dig and kdig verify and the fuzzer works around
 * messages that are really signed.
 *
 * Input: byte 0 picks what the rest is. 0 mod 4: a key file for
 * tsig_key_parse. Otherwise a DNS message; bit 2 of byte 0 sets the local
 * policy to full MACs only (mac_min 32), bits 3..7 the room left for reply
 * signing. The rest ends where the input ends, so ASan traps any over-read.
 *
 * Invariants (a violation is __builtin_trap):
 * - key file: 0 with a lowercase wire name (not the root), a secret of
 *   1..TSIG_SECRET_MAX bytes and mac_min 16; or -1 with a one-line message
 *   "line N: ..." and the key zeroed.
 * - request: the result is one of the enum; tsig_off <= length, == length
 *   for NONE. OK only when an independent HMAC-SHA256 computed here from
 *   RFC 8945 4.3 (request with ID := Original ID and ARCOUNT - 1, then the
 *   variables with lowercase names, class ANY, TTL 0) matches the MAC in
 *   the message over its MAC Size, 16..32 bytes, |NOW - time| <= fudge, and
 *   the state holds that MAC; when fudge is 300 and there is no Error or
 *   Other Data, tsig_sign_request over the same request at the same time
 *   must produce a MAC starting with those bytes.
 * - OK: a reply signed with tsig_sign (two messages) verifies with
 *   tsig_verify_response from a client state holding the request MAC, and
 *   a reply that does not fit leaves message and state alone.
 * - BADKEY, BADSIG, BADTIME, BADTRUNC: tsig_sign_error fits in
 *   TSIG_RR_MAX, sets RCODE 9 and adds one record; the error reply read
 *   back with tsig_verify_response from the request's state gives the same
 *   error (BADTIME/BADTRUNC signed, so MAC-checked).
 * - the message as a reply to our own fixed signed query never verifies
 *   OK unless the independent HMAC (over our request MAC first) agrees.
 */
#include <bearssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/tsig.h"
#include "dns/wire.h"

#include "fuzz.h"

#define NOW 1796621966ULL
static const char keyfile[] = "key \"xfr-key\" { algorithm hmac-sha256; "
                              "secret \"vKCr+YsqAb9nBjzaasLd0lwG9SFi7wVOYNJIZau+yY8=\"; };";
static const uint8_t alg_name[] = "\013hmac-sha256";

static struct tsig_key key;
static struct tsig_state client; /* our fixed signed query, for the reply check */

static void
setup(void)
{
	static bool done;
	char err[128];
	uint8_t q[512];

	if (done)
		return;
	done = true;
	REQUIRE(tsig_key_parse(&key, keyfile, sizeof(keyfile) - 1, err, sizeof(err)) == 0);
	static const uint8_t query[] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	                                 4, 's', 'e', 'e', 'd', 4, 't', 'e', 's', 't', 0, 0, 6, 0, 1 };
	size_t len = sizeof(query);
	memcpy(q, query, len);
	REQUIRE(tsig_sign_request(&client, &key, q, &len, sizeof(q), NOW) == 0);
}

static void
check_key_file(const uint8_t *data, size_t size)
{
	struct tsig_key k;
	char err[96];

	memset(err, 0x55, sizeof(err));
	int rc = tsig_key_parse(&k, (const char *)data, size, err, sizeof(err));
	REQUIRE(rc == 0 || rc == -1);
	if (rc == 0) {
		size_t n = dname_len(k.name);
		REQUIRE(n > 1 && n <= DNAME_MAX);
		for (size_t i = 0; i < n; i++)
			REQUIRE(!(k.name[i] >= 'A' && k.name[i] <= 'Z'));
		REQUIRE(k.secret_len >= 1 && k.secret_len <= TSIG_SECRET_MAX && k.mac_min == TSIG_MAC_MIN);
		return;
	}
	size_t n = strnlen(err, sizeof(err));
	REQUIRE(n < sizeof(err) && strncmp(err, "line ", 5) == 0 && memchr(err, '\n', n) == NULL);
	REQUIRE(k.secret_len == 0);
}

/* The TSIG RR at off, read independently of tsig.c's reader. */
struct rr {
	uint8_t name[DNAME_MAX], alg[DNAME_MAX];
	uint64_t time;
	uint16_t fudge, mac_len, orig_id, error, other_len;
	const uint8_t *mac, *other;
};

static bool
read_rr(const uint8_t *msg, size_t len, size_t off, struct rr *t)
{
	struct rd r;

	rd_init(&r, msg, len);
	rd_skip(&r, off);
	rd_name(&r, t->name);
	rd_skip(&r, 10);
	size_t at = r.off;
	size_t n = rd_name(&r, t->alg);
	if (r.err || r.off - at != n)
		return false;
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
	dname_lower(t->name);
	dname_lower(t->alg);
	return !r.err && r.off == len;
}

/* RFC 8945 4.3, written out again: [prior MAC], message, variables. */
static void
ref_mac(const uint8_t *prior, size_t prior_len, const uint8_t *msg, size_t off, const struct rr *t,
        uint8_t out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint8_t hdr[DNS_HDR], b[16];

	br_hmac_key_init(&kc, &br_sha256_vtable, key.secret, key.secret_len);
	br_hmac_init(&hc, &kc, 0);
	if (prior != NULL) {
		b[0] = (uint8_t)(prior_len >> 8);
		b[1] = (uint8_t)prior_len;
		br_hmac_update(&hc, b, 2);
		br_hmac_update(&hc, prior, prior_len);
	}
	memcpy(hdr, msg, DNS_HDR);
	hdr[0] = (uint8_t)(t->orig_id >> 8);
	hdr[1] = (uint8_t)t->orig_id;
	uint16_t ar = (uint16_t)((hdr[10] << 8 | hdr[11]) - 1);
	hdr[10] = (uint8_t)(ar >> 8);
	hdr[11] = (uint8_t)ar;
	br_hmac_update(&hc, hdr, DNS_HDR);
	br_hmac_update(&hc, msg + DNS_HDR, off - DNS_HDR);
	br_hmac_update(&hc, t->name, dname_len(t->name));
	static const uint8_t class_ttl[6] = { 0, 255, 0, 0, 0, 0 };
	br_hmac_update(&hc, class_ttl, 6);
	br_hmac_update(&hc, t->alg, dname_len(t->alg));
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(t->time >> (40 - 8 * i));
	b[6] = (uint8_t)(t->fudge >> 8);
	b[7] = (uint8_t)t->fudge;
	b[8] = (uint8_t)(t->error >> 8);
	b[9] = (uint8_t)t->error;
	b[10] = (uint8_t)(t->other_len >> 8);
	b[11] = (uint8_t)t->other_len;
	br_hmac_update(&hc, b, 12);
	br_hmac_update(&hc, t->other, t->other_len);
	br_hmac_out(&hc, out);
}

/* An OK verdict is real: the MAC in the message is the MAC of the message. */
static void
check_ok(const uint8_t *prior, size_t prior_len, const uint8_t *msg, size_t len, const struct tsig_state *st,
         struct rr *t)
{
	uint8_t mac[32];

	REQUIRE(st->tsig_off >= DNS_HDR && st->tsig_off < len);
	REQUIRE(read_rr(msg, len, st->tsig_off, t));
	REQUIRE(dname_len(t->name) == dname_len(key.name) && memcmp(t->name, key.name, dname_len(key.name)) == 0);
	REQUIRE(memcmp(t->alg, alg_name, sizeof(alg_name)) == 0);
	REQUIRE(t->mac_len >= TSIG_MAC_MIN && t->mac_len <= TSIG_MAC_LEN);
	uint64_t d = NOW > t->time ? NOW - t->time : t->time - NOW;
	REQUIRE(d <= t->fudge);
	ref_mac(prior, prior_len, msg, st->tsig_off, t, mac);
	REQUIRE(memcmp(mac, t->mac, t->mac_len) == 0);
}

static uint8_t reply[70000], reply2[70000];

static void
check_request(const uint8_t *data, size_t size, int flags)
{
	struct tsig_state st;
	struct rr t;

	key.mac_min = (flags & 4) ? TSIG_MAC_LEN : TSIG_MAC_MIN;
	enum tsig_result r = tsig_verify_request(&st, &key, data, size, NOW);
	REQUIRE(r >= TSIG_NONE && r <= TSIG_BADTRUNC && st.result == r);
	REQUIRE(st.tsig_off <= size);
	if (r == TSIG_NONE || r == TSIG_FORMERR) {
		REQUIRE(r != TSIG_NONE || st.tsig_off == size);
		REQUIRE(st.mac_len == 0);
		return;
	}
	REQUIRE(st.tsig_off >= DNS_HDR && st.tsig_off < size);
	/* The request part, as a reply skeleton: its header and sections. */
	size_t base = st.tsig_off;
	size_t room = (size_t)(flags >> 3) * 97; /* 0 .. 3007 bytes past the message */
	memcpy(reply, data, base);
	reply[2] |= 0x80;
	uint16_t ar = (uint16_t)((data[10] << 8 | data[11]) - 1); /* >= 1: the TSIG RR was found */
	reply[10] = (uint8_t)(ar >> 8);
	reply[11] = (uint8_t)ar;

	if (r != TSIG_OK) {
		size_t len = base;
		int rc = tsig_sign_error(&st, &key, reply, &len, base + TSIG_RR_MAX, NOW);
		REQUIRE(rc == 0);
		REQUIRE((reply[3] & 0xf) == DNS_R_NOTAUTH && len > base && len <= base + TSIG_RR_MAX);
		REQUIRE((reply[10] << 8 | reply[11]) == (data[10] << 8 | data[11]));
		/* Read back by a client holding the request MAC: the same error.
		 * BADTIME and BADTRUNC are signed over that MAC, so this checks it;
		 * BADKEY and BADSIG are unsigned (and had no MAC worth keeping). */
		struct tsig_state cst;
		memset(&cst, 0, sizeof(cst));
		memcpy(cst.mac, st.mac, st.mac_len);
		cst.mac_len = st.mac_len ? st.mac_len : TSIG_MAC_LEN;
		REQUIRE(tsig_verify_response(&cst, &key, reply, len, NOW) == r);
		REQUIRE((r == TSIG_BADTIME || r == TSIG_BADTRUNC) == (st.mac_len != 0));
		return;
	}

	check_ok(NULL, 0, data, size, &st, &t);
	REQUIRE(st.mac_len == t.mac_len && memcmp(st.mac, t.mac, t.mac_len) == 0);
	REQUIRE(st.orig_id == t.orig_id && st.time_signed == t.time && st.fudge == t.fudge);
	if (t.fudge == TSIG_FUDGE && t.error == 0 && t.other_len == 0) {
		/* Through our signer: the same request signed at the same time. */
		struct tsig_state again;
		size_t len = base;
		memcpy(reply2, reply, base);
		reply2[0] = (uint8_t)(t.orig_id >> 8);
		reply2[1] = (uint8_t)t.orig_id;
		reply2[2] = data[2];
		REQUIRE(tsig_sign_request(&again, &key, reply2, &len, sizeof(reply2), t.time) == 0);
		REQUIRE(memcmp(again.mac, t.mac, t.mac_len) == 0);
	}

	/* Two reply messages; the first checked by a client holding the request MAC. */
	struct tsig_state before = st, cst;
	size_t len = base;
	int rc = tsig_sign(&st, &key, reply, &len, base + room, NOW);
	if (rc != 0) {
		REQUIRE(len == base && st.nsigned == 0 && memcmp(st.mac, before.mac, before.mac_len) == 0);
		REQUIRE(room < tsig_rr_len(&key));
		rc = tsig_sign(&st, &key, reply, &len, sizeof(reply), NOW);
	}
	REQUIRE(rc == 0 && st.nsigned == 1 && len == base + tsig_rr_len(&key) - 6);
	memset(&cst, 0, sizeof(cst));
	memcpy(cst.mac, before.mac, before.mac_len);
	cst.mac_len = before.mac_len;
	REQUIRE(tsig_verify_response(&cst, &key, reply, len, NOW) == TSIG_OK);
	len = base;
	REQUIRE(tsig_sign(&st, &key, reply, &len, sizeof(reply), NOW + 1) == 0 && st.nsigned == 2);
}

/* The input as a reply to our own fixed query. */
static void
check_response(const uint8_t *data, size_t size)
{
	struct tsig_state cst = client;
	struct rr t;

	enum tsig_result r = tsig_verify_response(&cst, &key, data, size, NOW);
	REQUIRE(r >= TSIG_NONE && r <= TSIG_BADTRUNC);
	REQUIRE(cst.mac_len == client.mac_len && memcmp(cst.mac, client.mac, client.mac_len) == 0);
	if (r == TSIG_OK) {
		check_ok(client.mac, client.mac_len, data, size, &cst, &t);
		REQUIRE(t.error == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	if (data[0] % 4 == 0) {
		check_key_file(data + 1, size - 1);
		return 0;
	}
	/* A copy of exactly the message's length, so an over-read traps. */
	uint8_t *msg = malloc(size - 1 ? size - 1 : 1);
	REQUIRE(msg != NULL);
	memcpy(msg, data + 1, size - 1);
	check_request(msg, size - 1, data[0]);
	check_response(msg, size - 1);
	free(msg);
	return 0;
}
