/*
 * fuzz_ws_handshake: the handshake response reader of crawl/websocket.h, and the
 * request and key builders.
 *
 * 1. The input as a server's response to the key of RFC 6455 4.2.2,
 *    against a reference reader written line by line from crawl/websocket.h's rules:
 *    same verdict, same *used, same status.
 * 2. The same verdict and *used fed whole, one byte at a time and in
 *    input-chosen chunks: the reader is resumable at every byte.
 * 3. The verdict depends only on the bytes it used: the input cut right
 *    after them gives the same verdict; bytes after the blank line are
 *    never consumed; a verdict sticks and later calls consume nothing.
 *    WS_HS_MORE only while under WS_HANDSHAKE_MAX.
 * 4. OK means: status 101, the used bytes end in an empty line, no NUL.
 * 5. ws_request with host and path cut from the input and an
 *    input-chosen capacity: either exactly the request RFC 6455 4.1
 *    describes (no header injection possible) or 0, and 0 exactly when a
 *    character is outside 0x21-0x7e, the host is empty, the path does not
 *    start with '/', or it does not fit.
 * 6. ws_key and ws_accept: the right lengths and alphabet; ws_key decodes
 *    back to the nonce.
 * The input buffer is exactly `size` bytes, so ASan traps any over-read.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/websocket.h"

#include "fuzz.h"

static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char expect[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct verdict {
	enum ws_hs_result r;
	size_t used;
	int status;
};

static bool
is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool
is_field(uint8_t c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* The header name, lowercased into out (NUL-terminated); false if not a token. */
static bool
ref_name(const uint8_t *p, size_t n, char *out)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
	                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == 0 || strchr(tchar, p[i]) == NULL)
			return false;
		out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
	}
	out[n] = '\0';
	return true;
}

/* The value lowercased, OWS trimmed, NUL-terminated. */
static void
ref_value(const uint8_t *p, size_t n, char *out)
{
	while (n > 0 && is_ows(p[0])) {
		p++;
		n--;
	}
	while (n > 0 && is_ows(p[n - 1]))
		n--;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void
lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static struct verdict
ref_hs(const uint8_t *p, size_t n)
{
	struct verdict v = { WS_HS_MORE, n, 0 };
	bool status_read = false, upgrade = false, connection = false, accept = false;
	char name[1100], value[1100];
	size_t s = 0;

#define VERDICT(r_, used_)             \
	do {                           \
		v.r = (r_);            \
		v.used = (used_);      \
		return v;              \
	} while (0)

	for (;;) {
		/* The line from s: its LF at j, or the byte that fails first. */
		size_t j = s;
		for (;; j++) {
			if (j == n)
				return v; /* MORE, all used */
			if (j >= WS_HANDSHAKE_MAX)
				VERDICT(WS_HS_TOO_LONG, j + 1);
			if (p[j] == 0)
				VERDICT(WS_HS_MALFORMED, j + 1);
			if (j > s && p[j - 1] == '\r' && p[j] != '\n')
				VERDICT(WS_HS_MALFORMED, j + 1);
			if (p[j] == '\n')
				break;
			if (p[j] != '\r' && j - s >= sizeof(((struct ws_hs *)0)->line) - 1)
				VERDICT(WS_HS_TOO_LONG, j + 1);
		}
		const uint8_t *l = p + s;
		size_t len = j - s;
		if (len > 0 && l[len - 1] == '\r')
			len--;
		size_t end = j + 1;
		s = end;

		if (!status_read) {
			if (len < 13 || memcmp(l, "HTTP/", 5) != 0 || !is_digit(l[5]) || l[6] != '.' ||
			    !is_digit(l[7]) || l[8] != ' ' || !is_digit(l[9]) || !is_digit(l[10]) ||
			    !is_digit(l[11]) || l[12] != ' ')
				VERDICT(WS_HS_MALFORMED, end);
			for (size_t i = 13; i < len; i++)
				if (!is_field(l[i]))
					VERDICT(WS_HS_MALFORMED, end);
			v.status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
			status_read = true;
			if (l[5] != '1' || l[7] != '1' || v.status != 101)
				VERDICT(WS_HS_STATUS, end);
			continue;
		}
		if (len == 0) {
			if (!upgrade)
				VERDICT(WS_HS_UPGRADE, end);
			if (!connection)
				VERDICT(WS_HS_CONNECTION, end);
			if (!accept)
				VERDICT(WS_HS_ACCEPT, end);
			VERDICT(WS_HS_OK, end);
		}
		if (is_ows(l[0]))
			VERDICT(WS_HS_MALFORMED, end);
		const uint8_t *colon = memchr(l, ':', len);
		if (colon == NULL || !ref_name(l, (size_t)(colon - l), name))
			VERDICT(WS_HS_MALFORMED, end);
		size_t vlen = len - (size_t)(colon - l) - 1;
		for (size_t i = 0; i < vlen; i++)
			if (!is_field(colon[1 + i]))
				VERDICT(WS_HS_MALFORMED, end);
		ref_value(colon + 1, vlen, value);
		if (strcmp(name, "sec-websocket-accept") == 0) {
			if (accept || strcmp(value, expect) != 0)
				VERDICT(WS_HS_ACCEPT, end);
			accept = true;
			continue;
		}
		lower(value);
		if (strcmp(name, "upgrade") == 0) {
			if (strcmp(value, "websocket") != 0)
				VERDICT(WS_HS_UPGRADE, end);
			upgrade = true;
		} else if (strcmp(name, "connection") == 0) {
			/* Tokens between commas, OWS around them dropped. */
			char *t = value;
			for (;;) {
				char *comma = strchr(t, ',');
				if (comma != NULL)
					*comma = '\0';
				char tok[1100];
				ref_value((const uint8_t *)t, strlen(t), tok);
				if (strcmp(tok, "upgrade") == 0)
					connection = true;
				if (comma == NULL)
					break;
				t = comma + 1;
			}
		} else if (strcmp(name, "sec-websocket-extensions") == 0 ||
		           strcmp(name, "sec-websocket-protocol") == 0) {
			VERDICT(WS_HS_EXTENSION, end);
		}
	}
#undef VERDICT
}

/* Feed in chunks: 0 whole, 1 byte by byte, else sizes taken from the input. */
static struct verdict
feed(const uint8_t *p, size_t n, int mode)
{
	struct ws_hs h;
	struct verdict v = { WS_HS_MORE, 0, 0 };
	size_t off = 0, ci = 0;

	ws_hs_init(&h, key);
	REQUIRE(strcmp(h.expect, expect) == 0);
	while (off < n) {
		size_t chunk = mode == 0 ? n - off : mode == 1 ? 1 : 1 + p[ci++ % n] % 97u;
		if (chunk > n - off)
			chunk = n - off;
		size_t used = 99999;
		v.r = ws_hs_feed(&h, p + off, chunk, &used);
		REQUIRE(used <= chunk);
		v.used += used;
		if (v.r != WS_HS_MORE)
			break;
		REQUIRE(used == chunk);
		off += chunk;
	}
	REQUIRE(h.res == v.r);
	if (v.r != WS_HS_MORE) {
		/* Sticky, consuming nothing. */
		size_t used = 99999;
		REQUIRE(ws_hs_feed(&h, p, n, &used) == v.r && used == 0);
		REQUIRE(ws_hs_feed(&h, (const uint8_t *)"\r\n\r\n", 4, &used) == v.r && used == 0);
	}
	v.status = h.status;
	return v;
}

static bool
verdict_eq(struct verdict a, struct verdict b)
{
	return a.r == b.r && a.used == b.used && a.status == b.status;
}

static int
b64_val(char c)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *q = c ? strchr(tab, c) : NULL;
	return q ? (int)(q - tab) : -1;
}

/* 6 */
static void
keys(const uint8_t *data, size_t size)
{
	uint8_t nonce[16] = { 0 }, back[18];
	char k[WS_KEY_LEN + 1], a[WS_ACCEPT_LEN + 1];

	memcpy(nonce, data, size < 16 ? size : 16);
	memset(k, 'x', sizeof(k));
	ws_key(k, nonce);
	REQUIRE(strlen(k) == WS_KEY_LEN && k[22] == '=' && k[23] == '=');
	for (size_t i = 0; i < 22; i++)
		REQUIRE(b64_val(k[i]) >= 0);
	for (size_t i = 0, o = 0; i < 24; i += 4) {
		int v0 = b64_val(k[i]), v1 = b64_val(k[i + 1]);
		int v2 = k[i + 2] == '=' ? 0 : b64_val(k[i + 2]), v3 = k[i + 3] == '=' ? 0 : b64_val(k[i + 3]);
		uint32_t v = (uint32_t)(v0 << 18 | v1 << 12 | v2 << 6 | v3);
		back[o++] = (uint8_t)(v >> 16);
		back[o++] = (uint8_t)(v >> 8);
		back[o++] = (uint8_t)v;
	}
	REQUIRE(memcmp(back, nonce, 16) == 0);
	memset(a, 'x', sizeof(a));
	ws_accept(a, k);
	REQUIRE(strlen(a) == WS_ACCEPT_LEN && a[27] == '=');
	for (size_t i = 0; i < 27; i++)
		REQUIRE(b64_val(a[i]) >= 0);
}

static bool
req_char_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* 5 */
static void
request(const uint8_t *data, size_t size)
{
	char host[300], path[300], out[1200], want[1200];
	size_t i = 0, h = 0, q = 0;

	if (size == 0)
		return;
	while (i < size && data[i] != '\n' && data[i] != 0 && h < sizeof(host) - 1)
		host[h++] = (char)data[i++];
	host[h] = '\0';
	if (i < size)
		i++;
	while (i < size && data[i] != '\n' && data[i] != 0 && q < sizeof(path) - 1)
		path[q++] = (char)data[i++];
	path[q] = '\0';
	size_t cap = data[size - 1] & 1 ? sizeof(out) : 1 + (size_t)data[size - 1] * 3;

	int wn = snprintf(want, sizeof(want),
	                  "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
	                  path, host, key);
	REQUIRE(wn > 0 && (size_t)wn < sizeof(want));
	bool ok = h > 0 && path[0] == '/' && req_char_ok(host) && req_char_ok(path) && (size_t)wn < cap;
	memset(out, 0x55, sizeof(out));
	size_t n = ws_request(out, cap, host, path, key);
	if (!ok) {
		REQUIRE(n == 0);
		return;
	}
	REQUIRE(n == (size_t)wn && memcmp(out, want, n + 1) == 0);
	/* Nothing written past the NUL. */
	REQUIRE(n + 1 == sizeof(out) || (unsigned char)out[n + 1] == 0x55);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict ref = ref_hs(data, size);
	struct verdict whole = feed(data, size, 0);

	REQUIRE(verdict_eq(whole, ref));
	REQUIRE(verdict_eq(feed(data, size, 1), ref));
	if (size > 0)
		REQUIRE(verdict_eq(feed(data, size, 2), ref));
	REQUIRE(whole.used <= size && whole.used <= WS_HANDSHAKE_MAX + 1);
	if (whole.r == WS_HS_MORE) {
		REQUIRE(whole.used == size && size <= WS_HANDSHAKE_MAX);
	} else {
		/* Cut right after the verdict: the same verdict (on an exact-size copy). */
		uint8_t *cut = malloc(whole.used);
		REQUIRE(cut != NULL);
		memcpy(cut, data, whole.used);
		REQUIRE(verdict_eq(feed(cut, whole.used, 0), whole));
		free(cut);
	}
	if (whole.r == WS_HS_OK) {
		size_t u = whole.used;
		REQUIRE(whole.status == 101 && memchr(data, 0, u) == NULL);
		REQUIRE(u >= 2 && data[u - 1] == '\n' &&
		        (data[u - 2] == '\n' || (u >= 3 && data[u - 2] == '\r' && data[u - 3] == '\n')));
		REQUIRE(memcmp(data, "HTTP/1.1 101 ", 13) == 0);
	}
	request(data, size);
	keys(data, size);
	return 0;
}
