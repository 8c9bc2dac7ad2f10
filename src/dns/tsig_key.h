/*
 * tsig_key: the TSIG key seedd holds (one, hmac-sha256), read from a key
 * file in BIND's form, as tsig-keygen writes it:
 *
 *   key "xfr-key" {
 *           algorithm hmac-sha256;
 *           secret "base64";
 *   };
 *
 * Pure: the caller reads the file and hands over its text.
 * Error convention: tsig_key_parse returns 0, or -1 with a one-line
 * message "line N: what is wrong" in err (cut to errlen) and the key
 * zeroed.
 */
#ifndef SEEDD_DNS_TSIG_KEY_H
#define SEEDD_DNS_TSIG_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dname.h"

#define TSIG_MAC_LEN 32      /* hmac-sha256 */
#define TSIG_MAC_MIN 16      /* RFC 8945 5.2.2.1: max(10, half the hash) */
#define TSIG_SECRET_MAX 256  /* bytes once decoded; tsig-keygen makes 32 */

struct tsig_key {
	uint8_t name[DNAME_MAX];  /* lowercase wire form, never the root */
	uint8_t secret[TSIG_SECRET_MAX];
	size_t secret_len;        /* 1..TSIG_SECRET_MAX */
	/* Local policy (RFC 8945 5.2.4): the shortest request MAC we accept.
	 * TSIG_MAC_MIN after tsig_key_parse; raise it up to TSIG_MAC_LEN to
	 * answer shorter (but RFC-legal) MACs with BADTRUNC. */
	size_t mac_min;
};

/*
 * Exactly one key statement. Whitespace anywhere; '#', '//' and C
 * comments between tokens; the name quoted or not; keywords and the
 * algorithm case-insensitive; the secret strict base64 (RFC 4648 4: no
 * other characters, right padding, unused bits zero), whitespace inside
 * it skipped. text is (pointer, length), no NUL needed.
 */
int tsig_key_parse(struct tsig_key *k, const char *text, size_t len, char *err, size_t errlen);

#endif
