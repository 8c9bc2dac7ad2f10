/*
 * cookie: DNS server cookies (RFC 7873) built as RFC 9018 defines them, so
 * any server sharing the secret (BIND, Knot, PowerDNS) makes and accepts
 * the same cookies: version 1, three reserved bytes, a 32-bit timestamp
 * and SipHash-2-4 over client cookie | version | reserved | time | client IP.
 *
 * A cookie is good for an hour (and up to 5 minutes from the future, for
 * clock skew); one older than half an hour is replaced in the reply. The
 * secret is random per process and rotates; the previous one is still
 * accepted, so a rotation never turns a live cookie bad. No I/O, no clock:
 * time is an argument.
 */
#ifndef SEEDD_COOKIE_H
#define SEEDD_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COOKIE_CLIENT_LEN 8
#define COOKIE_SERVER_LEN 16     /* ours, RFC 9018 version 1 */
#define COOKIE_OPT_MAX 40        /* client 8 + server up to 32 (RFC 7873 4) */
#define COOKIE_SECRET_LEN 16
#define COOKIE_LIFETIME 3600
#define COOKIE_SKEW 300
#define COOKIE_RENEW 1800
#define COOKIE_ROTATE 3600       /* seconds between secrets; a cookie outlives one rotation */

struct cookie_secrets {
	uint8_t cur[COOKIE_SECRET_LEN], prev[COOKIE_SECRET_LEN];
	bool have_prev;
};

enum cookie_verdict {
	COOKIE_NONE,        /* no COOKIE option */
	COOKIE_CLIENT_ONLY, /* a client cookie and no server cookie */
	COOKIE_VALID,       /* a server cookie we made for this client, in date */
	COOKIE_BAD,         /* a server cookie that is not ours, or out of date */
	COOKIE_MALFORMED,   /* option length not 8 or 16..40: FORMERR (RFC 7873 5.2.2) */
	COOKIE_VERDICTS
};

/* Start with a first secret; rotate puts the current one aside as previous. */
void cookie_init(struct cookie_secrets *s, const uint8_t secret[COOKIE_SECRET_LEN]);
void cookie_rotate(struct cookie_secrets *s, const uint8_t fresh[COOKIE_SECRET_LEN]);

/* The server cookie for client cookie cc at time ts (reserved bytes zero). */
void cookie_make(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t cc[COOKIE_CLIENT_LEN],
                 const uint8_t *ip, size_t iplen, uint32_t ts, uint8_t out[COOKIE_SERVER_LEN]);

/* Judge the option data opt[0..len) from a client at ip (4 or 16 bytes). */
enum cookie_verdict cookie_check(const struct cookie_secrets *s, const uint8_t *opt, size_t len,
                                 const uint8_t *ip, size_t iplen, uint32_t now);

/*
 * The option data of our reply (client cookie | server cookie) into
 * out[COOKIE_OPT_MAX]; returns its length. A valid cookie made with the
 * current secret in the last half hour is echoed; otherwise a fresh one.
 * opt must not be malformed.
 */
size_t cookie_reply(const struct cookie_secrets *s, const uint8_t *opt, size_t len,
                    enum cookie_verdict v, const uint8_t *ip, size_t iplen, uint32_t now,
                    uint8_t out[COOKIE_OPT_MAX]);

#endif
