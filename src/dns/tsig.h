/*
 * tsig: DNS transaction signatures (RFC 8945) with hmac-sha256 only:
 * verifying a request and signing its replies (one or many, as
 * in a zone transfer over TCP), and the client half for NOTIFY. Pure: no
 * I/O, no clock (`now` is unix seconds, an argument), no allocation. MACs
 * go through BearSSL's HMAC.
 *
 * The key (struct tsig_key, read from BIND's key file) is dns/tsig_key.h.
 *
 * Error convention: verifiers return enum tsig_result. Signers
 * return 0, or -1 when the TSIG RR does not fit in `cap` (or the state
 * cannot sign); on -1 the message, its length and the state are unchanged,
 * so the caller can make room and try again.
 *
 * A server, per request (msg[0..len) as received, without the TCP length):
 *
 *   tsig_verify_request(&st, key, msg, len, now) gives
 *   TSIG_NONE     unsigned: answer as usual, without TSIG (or refuse: policy)
 *   TSIG_FORMERR  a FORMERR reply without TSIG
 *   TSIG_OK       the request is msg[0..st.tsig_off) with ARCOUNT - 1
 *                 (tsig_strip does both on a copy); build every reply
 *                 leaving tsig_rr_len(key) bytes free, tsig_sign each
 *   the others    build the reply header and question, tsig_sign_error
 *                 (it sets RCODE NOTAUTH and adds the TSIG RR RFC 8945
 *                 5.3.2 asks for); send it and stop
 *
 * A client (NOTIFY): tsig_sign_request on the query, send it, then
 * tsig_verify_response on the reply with the same state: only TSIG_OK
 * means the reply is authentic. The caller still checks the ID and
 * question as it would without TSIG.
 *
 * Names inside are lowercase wire form (dns/dname.h). Names are compared
 * case-insensitively and hashed in canonical form (RFC 8945 4.3.3:
 * lowercase, uncompressed). Not done here: the SHOULD of 5.2.3 to refuse
 * a Time Signed older than the last one seen from the key (no memory
 * between exchanges), and a check that the TSIG RR's TTL is 0 (it is
 * hashed as 0 whatever it says).
 */
#ifndef SEEDD_DNS_TSIG_H
#define SEEDD_DNS_TSIG_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dname.h"
#include "dns/tsig_key.h"

#define DNS_T_TSIG 250
#define DNS_R_NOTAUTH 9 /* RFC 8945 5.2: the RCODE of every TSIG error reply */

/* TSIG error codes (RFC 8945 3, the TSIG RR's Error field). */
#define TSIG_E_BADSIG 16
#define TSIG_E_BADKEY 17
#define TSIG_E_BADTIME 18
#define TSIG_E_BADTRUNC 22

#define TSIG_FUDGE 300 /* seconds, in what we sign; dig, kdig, knotd and nsd send 300 too */
/* The largest TSIG RR we write: an error reply echoing a 255-byte key name
 * and algorithm name, with a full MAC and 6 bytes of Other Data. */
#define TSIG_RR_MAX (DNAME_MAX + 10 + DNAME_MAX + 16 + TSIG_MAC_LEN + 6)

enum tsig_result {
	TSIG_NONE,     /* no TSIG RR: an unsigned message */
	TSIG_OK,       /* signed with our key, MAC and time good */
	TSIG_FORMERR,  /* records do not parse, TSIG not last or twice, bad TSIG RDATA, MAC size out of range */
	TSIG_BADKEY,   /* another key name or algorithm than ours */
	TSIG_BADSIG,   /* the MAC does not match */
	TSIG_BADTIME,  /* MAC good, but now is outside time signed +- fudge */
	TSIG_BADTRUNC, /* MAC good, but shorter than key->mac_min */
};

/*
 * One exchange: a request and its replies (server), or our request and
 * its reply (client). Filled by tsig_verify_request / tsig_sign_request;
 * callers only read it.
 */
struct tsig_state {
	enum tsig_result result;     /* of the last verify */
	size_t tsig_off;             /* where the TSIG RR starts (the length when there is none) */
	uint8_t name[DNAME_MAX];     /* key name the request gave (lowercase) */
	uint8_t alg[DNAME_MAX];      /* its algorithm name (lowercase) */
	uint64_t time_signed;        /* the request's Time Signed */
	uint16_t fudge;              /* the request's Fudge */
	uint16_t orig_id;            /* the request's Original ID */
	uint16_t error;              /* Error field of the last message verified */
	uint8_t mac[TSIG_MAC_LEN];   /* the MAC the next message chains on */
	size_t mac_len;              /* 0: none to chain on */
	uint32_t nsigned;            /* messages signed so far in this exchange */
};

/* Bytes to reserve in every reply for a TSIG RR signed with k: a signature
 * takes this less 6, a BADTIME or BADTRUNC reply at most this. */
size_t tsig_rr_len(const struct tsig_key *k);

/* Server side. See the top of this file for what to do with each result. */
enum tsig_result tsig_verify_request(struct tsig_state *st, const struct tsig_key *k,
                                     const uint8_t *msg, size_t len, uint64_t now);
/*
 * Append a TSIG RR to the reply msg[0..*len) (buffer of cap bytes) and bump
 * ARCOUNT. The first reply of the exchange covers the request MAC, the
 * reply and the full TSIG variables; every later one the previous MAC, the
 * message and the timers only (RFC 8945 5.3.1). Call it on every message
 * of a multi-message reply, in order. Original ID is the reply's own ID.
 * Needs st->result == TSIG_OK.
 */
int tsig_sign(struct tsig_state *st, const struct tsig_key *k, uint8_t *msg, size_t *len,
              size_t cap, uint64_t now);
/*
 * The error reply for a BADKEY, BADSIG, BADTIME or BADTRUNC request: set
 * RCODE to NOTAUTH and append the TSIG RR. BADKEY and BADSIG replies carry
 * an empty MAC (unsigned, RFC 8945 5.3.2) under the request's key and
 * algorithm names; BADTIME is signed, with the request's Time Signed and
 * our time in Other Data (5.2.3); BADTRUNC is signed with a full MAC (5.2.4).
 * Reserve TSIG_RR_MAX bytes (a BADKEY reply echoes names of any length).
 */
int tsig_sign_error(struct tsig_state *st, const struct tsig_key *k, uint8_t *msg, size_t *len,
                    size_t cap, uint64_t now);
/* Cut the TSIG RR off a request verified TSIG_OK (a mutable copy): length
 * to st->tsig_off, ARCOUNT - 1. */
void tsig_strip(const struct tsig_state *st, uint8_t *msg, size_t *len);

/* Client side: sign our request (a fresh exchange; fudge TSIG_FUDGE). */
int tsig_sign_request(struct tsig_state *st, const struct tsig_key *k, uint8_t *msg, size_t *len,
                      size_t cap, uint64_t now);
/*
 * Verify the one reply to that request: TSIG_OK only when it carries our
 * key, a MAC over our request MAC + the reply + its variables, a time
 * within its fudge and Error 0. A reply without TSIG is TSIG_NONE; one
 * whose Error is set gives that error (BADKEY, BADSIG, BADTIME, BADTRUNC;
 * BADSIG for codes we do not know), unauthenticated when its MAC is empty:
 * log it, never trust it. st->error holds the Error field. The request
 * MAC in st is not touched: a forged reply that fails does not stop the
 * real one, arriving later, from verifying.
 */
enum tsig_result tsig_verify_response(struct tsig_state *st, const struct tsig_key *k,
                                      const uint8_t *msg, size_t len, uint64_t now);

const char *tsig_result_name(enum tsig_result r);

#endif
