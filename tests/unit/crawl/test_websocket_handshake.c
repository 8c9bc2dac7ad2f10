/*
 * ws handshake: the RFC 6455 4.2.2 accept example, the request we send,
 * and the response reader's verdicts fed whole and in pieces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "crawl/websocket.h"

static const char rfc_key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char rfc_accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static void
test_keys(void)
{
	char key[WS_KEY_LEN + 1], acc[WS_ACCEPT_LEN + 1];

	ws_accept(acc, rfc_key);
	CHECK("rfc4.2.2 accept example", strcmp(acc, rfc_accept) == 0);
	ws_key(key, (const uint8_t *)"the sample nonce");
	CHECK("ws_key of the rfc nonce", strcmp(key, rfc_key) == 0 && strlen(key) == WS_KEY_LEN);
	const uint8_t ff[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	ws_key(key, ff);
	CHECK("ws_key of all ones", strcmp(key, "/////////////////////w==") == 0);
}

static void
test_request(void)
{
	char out[512];
	const char want[] =
	    "GET /chat HTTP/1.1\r\n"
	    "Host: server.example.com\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n";
	size_t n = ws_request(out, sizeof(out), "server.example.com", "/chat", rfc_key);

	CHECK("request golden", n == strlen(want) && strcmp(out, want) == 0);
	CHECK("request exact cap", ws_request(out, strlen(want) + 1, "server.example.com", "/chat", rfc_key) ==
	                               strlen(want));
	CHECK("request no room for NUL", ws_request(out, strlen(want), "server.example.com", "/chat", rfc_key) == 0);
	CHECK("request tiny cap", ws_request(out, 3, "h", "/", rfc_key) == 0);
	CHECK("request CR in host", ws_request(out, sizeof(out), "h\r\nX: y", "/", rfc_key) == 0);
	CHECK("request LF in path", ws_request(out, sizeof(out), "h", "/\n", rfc_key) == 0);
	CHECK("request space in path", ws_request(out, sizeof(out), "h", "/a b", rfc_key) == 0);
	CHECK("request DEL in host", ws_request(out, sizeof(out), "h\x7f", "/", rfc_key) == 0);
	CHECK("request path without slash", ws_request(out, sizeof(out), "h", "chat", rfc_key) == 0);
	CHECK("request empty host", ws_request(out, sizeof(out), "", "/", rfc_key) == 0);
	CHECK("request with port and query", ws_request(out, sizeof(out), "[::1]:8443", "/ws?a=1", rfc_key) > 0 &&
	                                         strstr(out, "Host: [::1]:8443\r\n") != NULL);
}

/* Feed resp in steps (0: whole); the verdict and the bytes used. */
static enum ws_hs_result
hs_run(const char *resp, size_t len, size_t step, size_t *total, int *status)
{
	struct ws_hs h;
	size_t off = 0;
	enum ws_hs_result r = WS_HS_MORE;

	ws_hs_init(&h, rfc_key);
	*total = 0;
	while (off < len) {
		size_t chunk = (step == 0 || len - off < step) ? len - off : step, used = 0;
		r = ws_hs_feed(&h, (const uint8_t *)resp + off, chunk, &used);
		*total += used;
		if (r != WS_HS_MORE)
			break;
		if (used != chunk)
			return (enum ws_hs_result)-1;
		off += chunk;
	}
	if (status != NULL)
		*status = h.status;
	return r;
}

/* The same verdict and *used fed whole, byte by byte, and 3 at a time. */
static int
hs_is(const char *resp, enum ws_hs_result want, size_t want_used)
{
	size_t len = strlen(resp), u0, u1, u3;
	enum ws_hs_result r0 = hs_run(resp, len, 0, &u0, NULL);
	enum ws_hs_result r1 = hs_run(resp, len, 1, &u1, NULL);
	enum ws_hs_result r3 = hs_run(resp, len, 3, &u3, NULL);

	return r0 == want && r1 == want && r3 == want && u0 == want_used && u1 == want_used &&
	       u3 == want_used;
}

#define ACC "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
#define S101 "HTTP/1.1 101 Switching Protocols\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"

static void
test_handshake_good(void)
{
	const char *good[] = {
		S101 UPG CONN ACC "\r\n",
		"HTTP/1.1 101 \r\n" "upgrade: WebSocket\r\n" "CONNECTION: keep-alive, Upgrade\r\n"
		"sec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=   \r\n\r\n",
		S101 "Server: nginx/1.25\r\nDate: Tue, 01 Oct 2024 10:00:00 GMT\r\n"
		"UPGRADE:\twebsocket\t\r\n" "Connection:upgrade , keep-alive\r\n" ACC
		"X-Empty:\r\n" "X-Obs-Text: caf\xc3\xa9\r\n\r\n",
		"HTTP/1.1 101 Web Socket Protocol Handshake\n" "Upgrade: websocket\n" "Connection: ,,UPGRADE,\n"
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n",
		S101 ACC "Connection: close\r\nConnection: Upgrade\r\n" UPG UPG "\r\n",
	};
	int ok = 1;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!hs_is(good[i], WS_HS_OK, strlen(good[i])))
			ok = 0;
	CHECK("handshake: good variants, whole and split", ok);

	/* The first frame follows in the same read: not consumed. */
	const char resp[] = S101 UPG CONN ACC "\r\n" "\x81\x05Hello";
	size_t hl = strlen(S101 UPG CONN ACC "\r\n");
	CHECK("handshake: bytes after the blank line left", hs_is(resp, WS_HS_OK, hl));
	struct ws_hs h;
	struct ws_parser w;
	size_t used = 0, used2 = 0;
	ws_hs_init(&h, rfc_key);
	CHECK("handshake: ok then the frame parses",
	      ws_hs_feed(&h, (const uint8_t *)resp, sizeof(resp) - 1, &used) == WS_HS_OK && used == hl &&
	          h.status == 101);
	ws_parser_init(&w);
	CHECK("handshake: the first frame", ws_parse(&w, (const uint8_t *)resp + used, sizeof(resp) - 1 - used,
	                                             &used2) == WS_EV_TEXT && w.data_len == 5);
	ws_parser_free(&w);
	CHECK("handshake: ok sticks", ws_hs_feed(&h, (const uint8_t *)"HTTP", 4, &used) == WS_HS_OK && used == 0);
	CHECK("handshake: result names", strcmp(ws_hs_result_name(WS_HS_OK), "ok") == 0 &&
	                                 strcmp(ws_hs_result_name(WS_HS_TOO_LONG), "too_long") == 0);

	/* A line of sizeof(line) - 1 bytes is fine, one more is too long. */
	static char big[2200];
	int n = snprintf(big, sizeof(big), "%s%s%sX-Pad: ", S101 UPG, CONN, ACC);
	size_t pad = 1023 - strlen("X-Pad: ");
	memset(big + n, 'p', pad);
	strcpy(big + n + pad, "\r\n\r\n");
	CHECK("handshake: 1023-byte line", hs_is(big, WS_HS_OK, strlen(big)));
	memset(big + n, 'p', pad + 1);
	strcpy(big + n + pad + 1, "\r\n\r\n");
	CHECK("handshake: 1024-byte line too long", hs_is(big, WS_HS_TOO_LONG, (size_t)n + pad + 1));
	memset(big + n, 'p', pad);
	strcpy(big + n + pad, "\n\n");
	CHECK("handshake: 1023-byte line, bare LF", hs_is(big, WS_HS_OK, strlen(big)));
}

static void
test_handshake_bad(void)
{
	int status = 0;
	size_t used = 0;
	const char *s;

	s = "HTTP/1.1 200 OK\r\n" UPG CONN ACC "\r\n";
	CHECK("hs status 200: at the status line", hs_is(s, WS_HS_STATUS, strlen("HTTP/1.1 200 OK\r\n")));
	hs_run(s, strlen(s), 0, &used, &status);
	CHECK("hs status 200 kept", status == 200);
	CHECK("hs status 404", hs_is("HTTP/1.1 404 Not Found\r\n\r\n", WS_HS_STATUS, 24));
	CHECK("hs HTTP/1.0 101", hs_is("HTTP/1.0 101 Switching\r\n", WS_HS_STATUS, 24));
	CHECK("hs HTTP/2.0 101", hs_is("HTTP/2.0 101 x\r\n", WS_HS_STATUS, 16));
	CHECK("hs status 1010 malformed", hs_is("HTTP/1.1 1010 x\r\n", WS_HS_MALFORMED, 17));
	CHECK("hs status without reason space", hs_is("HTTP/1.1 101\r\n" UPG CONN ACC "\r\n", WS_HS_MALFORMED, 14));
	CHECK("hs status not HTTP", hs_is("ICY 200 OK\r\n", WS_HS_MALFORMED, 12));
	CHECK("hs lowercase http", hs_is("http/1.1 101 x\r\n", WS_HS_MALFORMED, 16));
	CHECK("hs empty first line", hs_is("\r\n" S101, WS_HS_MALFORMED, 2));
	CHECK("hs control char in reason", hs_is("HTTP/1.1 101 a\x01\r\n", WS_HS_MALFORMED, 17));

	CHECK("hs upgrade missing", hs_is(S101 CONN ACC "\r\n", WS_HS_UPGRADE, strlen(S101 CONN ACC "\r\n")));
	CHECK("hs upgrade h2c", hs_is(S101 "Upgrade: h2c\r\n" CONN ACC "\r\n", WS_HS_UPGRADE,
	                              strlen(S101 "Upgrade: h2c\r\n")));
	CHECK("hs upgrade websocket2", hs_is(S101 "Upgrade: websocket2\r\n", WS_HS_UPGRADE,
	                                     strlen(S101 "Upgrade: websocket2\r\n")));
	CHECK("hs upgrade list", hs_is(S101 "Upgrade: websocket, h2c\r\n", WS_HS_UPGRADE,
	                               strlen(S101 "Upgrade: websocket, h2c\r\n")));

	CHECK("hs connection missing", hs_is(S101 UPG ACC "\r\n", WS_HS_CONNECTION, strlen(S101 UPG ACC "\r\n")));
	CHECK("hs connection keep-alive", hs_is(S101 UPG "Connection: keep-alive\r\n" ACC "\r\n", WS_HS_CONNECTION,
	                                        strlen(S101 UPG "Connection: keep-alive\r\n" ACC "\r\n")));
	CHECK("hs connection upgrades", hs_is(S101 UPG "Connection: upgrades, up grade\r\n" ACC "\r\n",
	                                      WS_HS_CONNECTION,
	                                      strlen(S101 UPG "Connection: upgrades, up grade\r\n" ACC "\r\n")));

	CHECK("hs accept missing", hs_is(S101 UPG CONN "\r\n", WS_HS_ACCEPT, strlen(S101 UPG CONN "\r\n")));
	const char *wrong = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n";
	size_t wl = strlen(S101) + strlen(wrong);
	char buf[512];
	snprintf(buf, sizeof(buf), "%s%s%s%s\r\n", S101, wrong, UPG, CONN);
	CHECK("hs accept wrong", hs_is(buf, WS_HS_ACCEPT, wl));
	snprintf(buf, sizeof(buf), "%sSec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n\r\n", S101);
	CHECK("hs accept case differs", hs_is(buf, WS_HS_ACCEPT, strlen(buf) - 2));
	snprintf(buf, sizeof(buf), "%sSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n", S101);
	CHECK("hs accept truncated", hs_is(buf, WS_HS_ACCEPT, strlen(buf) - 2));
	snprintf(buf, sizeof(buf), "%sSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo==\r\n\r\n", S101);
	CHECK("hs accept longer", hs_is(buf, WS_HS_ACCEPT, strlen(buf) - 2));
	CHECK("hs accept twice", hs_is(S101 ACC UPG ACC CONN "\r\n", WS_HS_ACCEPT, strlen(S101 ACC UPG ACC)));

	CHECK("hs extension", hs_is(S101 UPG CONN ACC "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
	                            WS_HS_EXTENSION,
	                            strlen(S101 UPG CONN ACC "Sec-WebSocket-Extensions: permessage-deflate\r\n")));
	CHECK("hs protocol", hs_is(S101 "sec-websocket-protocol: chat\r\n" UPG CONN ACC "\r\n", WS_HS_EXTENSION,
	                           strlen(S101 "sec-websocket-protocol: chat\r\n")));
	CHECK("hs empty extension header", hs_is(S101 "Sec-WebSocket-Extensions:\r\n", WS_HS_EXTENSION,
	                                         strlen(S101 "Sec-WebSocket-Extensions:\r\n")));

	CHECK("hs bare CR", hs_is("HTTP/1.1 101 X\rUpgrade: websocket\r\n", WS_HS_MALFORMED, 16));
	CHECK("hs CR CR LF", hs_is(S101 "Upgrade: websocket\r\r\n", WS_HS_MALFORMED, strlen(S101 UPG)));
	CHECK("hs bare CR at the end", hs_is(S101 UPG CONN ACC "\rX", WS_HS_MALFORMED, strlen(S101 UPG CONN ACC) + 2));
	const char nul[] = S101 "Upgrade: web\0socket\r\n";
	struct ws_hs h;
	ws_hs_init(&h, rfc_key);
	CHECK("hs NUL", ws_hs_feed(&h, (const uint8_t *)nul, sizeof(nul) - 1, &used) == WS_HS_MALFORMED &&
	                    used == strlen(S101) + 13);
	CHECK("hs malformed sticks", ws_hs_feed(&h, (const uint8_t *)"\r\n", 2, &used) == WS_HS_MALFORMED &&
	                                 used == 0);
	CHECK("hs obs-fold", hs_is(S101 UPG "Connection: keep-alive,\r\n Upgrade\r\n", WS_HS_MALFORMED,
	                           strlen(S101 UPG "Connection: keep-alive,\r\n Upgrade\r\n")));
	CHECK("hs obs-fold tab", hs_is(S101 UPG "\tfoo\r\n", WS_HS_MALFORMED, strlen(S101 UPG "\tfoo\r\n")));
	CHECK("hs no colon", hs_is(S101 "Upgrade websocket\r\n", WS_HS_MALFORMED, strlen(S101 "Upgrade websocket\r\n")));
	CHECK("hs space before colon", hs_is(S101 "Upgrade : websocket\r\n", WS_HS_MALFORMED,
	                                     strlen(S101 "Upgrade : websocket\r\n")));
	CHECK("hs empty name", hs_is(S101 ": websocket\r\n", WS_HS_MALFORMED, strlen(S101 ": websocket\r\n")));
	CHECK("hs control in value", hs_is(S101 "X-A: b\x1b[0m\r\n", WS_HS_MALFORMED, strlen(S101 "X-A: b\x1b[0m\r\n")));
	CHECK("hs DEL in value", hs_is(S101 "X-A: \x7f\r\n", WS_HS_MALFORMED, strlen(S101 "X-A: \x7f\r\n")));

	/* The block: exactly WS_HANDSHAKE_MAX bytes is fine, one more is not. */
	static char blk[WS_HANDSHAKE_MAX + 64];
	size_t o = (size_t)snprintf(blk, sizeof(blk), "%s%s%s%s", S101, UPG, CONN, ACC);
	while (WS_HANDSHAKE_MAX - o > 1000) {
		o += (size_t)snprintf(blk + o, sizeof(blk) - o, "X-Pad: ");
		memset(blk + o, 'p', 900);
		o += 900;
		blk[o++] = '\r';
		blk[o++] = '\n';
	}
	size_t rest = WS_HANDSHAKE_MAX - o - 2; /* one last line, then CRLF */
	memcpy(blk + o, "X-Z:", 4);
	memset(blk + o + 4, 'z', rest - 6);
	memcpy(blk + o + rest - 2, "\r\n\r\n", 5);
	CHECK("hs block of exactly WS_HANDSHAKE_MAX", strlen(blk) == WS_HANDSHAKE_MAX &&
	                                              hs_is(blk, WS_HS_OK, WS_HANDSHAKE_MAX));
	memcpy(blk + o + rest - 2, "z\r\n\r\n", 6);
	CHECK("hs block of WS_HANDSHAKE_MAX + 1", hs_is(blk, WS_HS_TOO_LONG, WS_HANDSHAKE_MAX + 1));
	memcpy(blk + o + rest - 2, "\r\n\r", 4);
	CHECK("hs block not ended", hs_is(blk, WS_HS_MORE, WS_HANDSHAKE_MAX - 1));
}

void
test_ws_handshake(void)
{
	test_keys();
	test_request();
	test_handshake_good();
	test_handshake_bad();
}
