/*
 * ws: RFC 6455 example frames byte for byte, the accept example, every
 * parser error, the 2 MiB cap, stickiness, and any split of the input
 * giving the same events (the handshake is in test_ws_handshake.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "crawl/websocket.h"

/* --- frame parser harness ---------------------------------------------- */

struct evrec {
	enum ws_event ev;
	enum ws_error err;
	int code;
	size_t at;      /* stream offset just after the event */
	size_t len;
	uint32_t hash;  /* FNV-1a of the payload */
	uint8_t head[16];
};

struct evlog {
	size_t n;
	int bad;        /* WS_EV_MORE with *used != n, or an event with no progress rule broken */
	struct evrec r[64];
};

static uint32_t
fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Feed p in chunks of step bytes (0: whole), logging every event. */
static void
feed(struct ws_parser *w, const uint8_t *p, size_t n, size_t step, struct evlog *lg)
{
	size_t off = 0;

	lg->n = 0;
	lg->bad = 0;
	while (off < n) {
		size_t chunk = (step == 0 || n - off < step) ? n - off : step;
		size_t o = 0;
		while (o < chunk) {
			size_t used = 0;
			enum ws_event ev = ws_parse(w, p + off + o, chunk - o, &used);
			if (ev == WS_EV_MORE) {
				if (used != chunk - o)
					lg->bad = 1;
				break;
			}
			o += used;
			if (lg->n < 64) {
				struct evrec *r = &lg->r[lg->n++];
				memset(r, 0, sizeof(*r));
				r->ev = ev;
				r->err = w->err;
				r->at = off + o;
				if (ev == WS_EV_CLOSE)
					r->code = w->close_code;
				if (ev != WS_EV_ERROR) {
					if (w->data == NULL)
						lg->bad = 1;
					r->len = w->data_len;
					r->hash = fnv(w->data, w->data_len);
					memcpy(r->head, w->data, w->data_len < 16 ? w->data_len : 16);
				}
			}
			if (ev == WS_EV_ERROR)
				return;
		}
		off += chunk;
	}
}

static int
log_eq(const struct evlog *a, const struct evlog *b)
{
	if (a->n != b->n || a->bad || b->bad)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct evrec *x = &a->r[i], *y = &b->r[i];
		if (x->ev != y->ev || x->err != y->err || x->code != y->code || x->at != y->at ||
		    x->len != y->len || x->hash != y->hash)
			return 0;
	}
	return 1;
}

/* Parse hex whole; the log of events. */
static void
parse_hex(const char *hex, struct evlog *lg)
{
	static unsigned char buf[4096];
	struct ws_parser w;
	int n = t_hex(hex, buf, (int)sizeof(buf));

	ws_parser_init(&w);
	feed(&w, buf, n < 0 ? 0 : (size_t)n, 0, lg);
	ws_parser_free(&w);
}

/* One event, the whole input consumed: that event's record, else a sentinel. */
static int
one_event(const char *hex, enum ws_event ev, const char *payload)
{
	struct evlog lg;
	unsigned char buf[4096];
	int n = t_hex(hex, buf, (int)sizeof(buf));

	parse_hex(hex, &lg);
	if (lg.bad || lg.n != 1 || lg.r[0].ev != ev || lg.r[0].at != (size_t)n)
		return 0;
	if (payload == NULL)
		return 1;
	return lg.r[0].len == strlen(payload) &&
	       lg.r[0].hash == fnv((const uint8_t *)payload, strlen(payload));
}

/* The error the input ends with, detected at offset at (-1: the end). */
static enum ws_error
error_at(const char *hex, int at)
{
	struct evlog lg;
	unsigned char buf[4096];
	int n = t_hex(hex, buf, (int)sizeof(buf));

	if (at < 0)
		at = n;
	parse_hex(hex, &lg);
	if (lg.bad || lg.n == 0 || lg.r[lg.n - 1].ev != WS_EV_ERROR || lg.r[lg.n - 1].at != (size_t)at)
		return WS_E_NONE;
	return lg.r[lg.n - 1].err;
}

static enum ws_error
error_of(const char *hex)
{
	return error_at(hex, -1);
}

/* An unmasked server frame with the minimal length encoding. */
static size_t
srv_frame(uint8_t *out, uint8_t b0, const uint8_t *pl, size_t len)
{
	size_t o = 0;

	out[o++] = b0;
	if (len < 126) {
		out[o++] = (uint8_t)len;
	} else if (len <= 0xffff) {
		out[o++] = 126;
		out[o++] = (uint8_t)(len >> 8);
		out[o++] = (uint8_t)len;
	} else {
		out[o++] = 127;
		for (int s = 56; s >= 0; s -= 8)
			out[o++] = (uint8_t)((uint64_t)len >> s);
	}
	if (pl != NULL)
		memcpy(out + o, pl, len);
	else
		memset(out + o, 'x', len);
	return o + len;
}

/* --- RFC 6455 5.7 ------------------------------------------------------- */

static const uint8_t mask_rfc[4] = { 0x37, 0xfa, 0x21, 0x3d };

static void
test_rfc_examples(void)
{
	uint8_t out[70000], want[64];
	size_t n;
	int wn;

	CHECK("rfc5.7 unmasked text Hello", one_event("81 05 48 65 6c 6c 6f", WS_EV_TEXT, "Hello"));
	CHECK("rfc5.7 fragmented Hel+lo", one_event("01 03 48 65 6c 80 02 6c 6f", WS_EV_TEXT, "Hello"));
	CHECK("rfc5.7 unmasked ping Hello", one_event("89 05 48 65 6c 6c 6f", WS_EV_PING, "Hello"));
	/* From a server a masked frame is an error (5.1), whatever it holds. */
	CHECK("rfc5.7 masked text from server refused",
	      error_at("81 85 37 fa 21 3d 7f 9f 4d 51 58", 2) == WS_E_MASKED);
	CHECK("rfc5.7 masked pong from server refused",
	      error_at("8a 85 37 fa 21 3d 7f 9f 4d 51 58", 2) == WS_E_MASKED);

	/* The encoder, byte for byte. */
	n = ws_frame(out, sizeof(out), WS_OP_TEXT, true, (const uint8_t *)"Hello", 5, mask_rfc);
	wn = t_hex("81 85 37 fa 21 3d 7f 9f 4d 51 58", want, sizeof(want));
	CHECK("rfc5.7 encode masked text Hello", n == (size_t)wn && memcmp(out, want, n) == 0);
	n = ws_frame(out, sizeof(out), WS_OP_PONG, true, (const uint8_t *)"Hello", 5, mask_rfc);
	wn = t_hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58", want, sizeof(want));
	CHECK("rfc5.7 encode masked pong Hello", n == (size_t)wn && memcmp(out, want, n) == 0);
	n = ws_frame(out, sizeof(out), WS_OP_TEXT, false, (const uint8_t *)"Hel", 3, mask_rfc);
	CHECK("encode first fragment", n == 9 && out[0] == 0x01 && out[1] == 0x83 &&
	                               out[6] == ('H' ^ 0x37) && out[8] == ('l' ^ 0x21));
	n = ws_frame(out, sizeof(out), WS_OP_CONT, true, (const uint8_t *)"lo", 2, mask_rfc);
	CHECK("encode last fragment", n == 8 && out[0] == 0x80 && out[1] == 0x82);

	/* 256 bytes: 16-bit length; 65536: 64-bit length. */
	static uint8_t pl[65536];
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7 + 3);
	n = ws_frame(out, sizeof(out), WS_OP_BINARY, true, pl, 256, mask_rfc);
	wn = t_hex("82 fe 01 00 37 fa 21 3d", want, sizeof(want));
	CHECK("rfc5.7 encode 256-byte binary header", n == 8 + 256 && memcmp(out, want, 8) == 0);
	CHECK("ws_frame_size 256", ws_frame_size(256) == 8 + 256);
	n = ws_frame(out, sizeof(out), WS_OP_BINARY, true, pl, 65536, mask_rfc);
	wn = t_hex("82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d", want, sizeof(want));
	CHECK("rfc5.7 encode 65536-byte binary header", n == 14 + 65536 && memcmp(out, want, 14) == 0);
	int masked_ok = 1;
	for (size_t i = 0; i < 65536; i++)
		if ((out[14 + i] ^ mask_rfc[i % 4]) != pl[i])
			masked_ok = 0;
	CHECK("encode 65536 payload masked", masked_ok);

	/* The same two frames from a server: 82 7E 01 00 and 82 7F ... 01 00 00. */
	struct ws_parser w;
	struct evlog lg;
	n = srv_frame(out, 0x82, pl, 256);
	wn = t_hex("82 7e 01 00", want, sizeof(want));
	CHECK("rfc5.7 256-byte binary header", memcmp(out, want, 4) == 0);
	ws_parser_init(&w);
	feed(&w, out, n, 0, &lg);
	CHECK("rfc5.7 parse 256-byte binary", !lg.bad && lg.n == 1 && lg.r[0].ev == WS_EV_BINARY &&
	                                      lg.r[0].len == 256 && lg.r[0].hash == fnv(pl, 256));
	n = srv_frame(out, 0x82, pl, 65536);
	wn = t_hex("82 7f 00 00 00 00 00 01 00 00", want, sizeof(want));
	CHECK("rfc5.7 65536-byte binary header", memcmp(out, want, 10) == 0);
	feed(&w, out, n, 0, &lg);
	CHECK("rfc5.7 parse 65536-byte binary", !lg.bad && lg.n == 1 && lg.r[0].ev == WS_EV_BINARY &&
	                                        lg.r[0].len == 65536 && lg.r[0].hash == fnv(pl, 65536));
	ws_parser_free(&w);
}

static void
test_encoder(void)
{
	uint8_t out[300], pl[200];
	const uint8_t m0[4] = { 0, 0, 0, 0 };

	memset(pl, 'a', sizeof(pl));
	CHECK("frame_size 0", ws_frame_size(0) == 6);
	CHECK("frame_size 125", ws_frame_size(125) == 131);
	CHECK("frame_size 126", ws_frame_size(126) == 134);
	CHECK("frame_size 65535", ws_frame_size(65535) == 65543);
	CHECK("frame_size 65536", ws_frame_size(65536) == 65550);
	CHECK("frame_size overflow", ws_frame_size(SIZE_MAX) == 0 && ws_frame_size(SIZE_MAX - 13) == 0);
	CHECK("encode exact cap", ws_frame(out, 131, WS_OP_BINARY, true, pl, 125, m0) == 131);
	CHECK("encode cap one short", ws_frame(out, 130, WS_OP_BINARY, true, pl, 125, m0) == 0);
	CHECK("encode empty, NULL payload", ws_frame(out, 6, WS_OP_CLOSE, true, NULL, 0, m0) == 6 &&
	                                    out[0] == 0x88 && out[1] == 0x80);
	CHECK("encode ping 126 refused", ws_frame(out, sizeof(out), WS_OP_PING, true, pl, 126, m0) == 0);
	CHECK("encode ping 125", ws_frame(out, sizeof(out), WS_OP_PING, true, pl, 125, m0) == 131);
	CHECK("encode fragmented close refused",
	      ws_frame(out, sizeof(out), WS_OP_CLOSE, false, pl, 2, m0) == 0);
	CHECK("encode reserved opcode refused",
	      ws_frame(out, sizeof(out), (enum ws_opcode)3, true, pl, 2, m0) == 0);
	CHECK("encode 126 uses 16-bit length",
	      ws_frame(out, sizeof(out), WS_OP_TEXT, true, pl, 126, m0) == 134 && out[1] == 0xfe &&
	          out[2] == 0 && out[3] == 126);
}

/* Encode with a mask, unmask it as a server would send it, parse it back. */
static void
test_roundtrip(void)
{
	static uint8_t pl[70000], out[70100];
	const uint8_t mask[4] = { 0xde, 0xad, 0xbe, 0xef };
	const size_t lens[] = { 0, 1, 125, 126, 65535, 65536, 70000 };
	int ok = 1;

	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i % 61 + 32); /* ASCII: valid text too */
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k];
		size_t n = ws_frame(out, sizeof(out), WS_OP_TEXT, true, pl, len, mask);
		size_t hl = n - len - 4;
		if (n != ws_frame_size(len) || (out[1] & 0x80) == 0) {
			ok = 0;
			continue;
		}
		/* Drop the mask: clear the bit, remove the key, XOR the payload. */
		out[1] &= 0x7f;
		for (size_t i = 0; i < len; i++)
			out[hl + 4 + i] ^= mask[i & 3];
		memmove(out + hl, out + hl + 4, len);
		struct ws_parser w;
		struct evlog lg;
		ws_parser_init(&w);
		feed(&w, out, hl + len, 0, &lg);
		if (lg.bad || lg.n != 1 || lg.r[0].ev != WS_EV_TEXT || lg.r[0].len != len ||
		    lg.r[0].hash != fnv(pl, len))
			ok = 0;
		ws_parser_free(&w);
	}
	CHECK("encode, unmask, parse gives the payload back", ok);
}

static void
test_control_between_fragments(void)
{
	struct evlog lg;

	parse_hex("01 03 48 65 6c  89 02 68 69  80 02 6c 6f", &lg);
	CHECK("ping between fragments: two events", !lg.bad && lg.n == 2);
	CHECK("ping between fragments: ping first", lg.r[0].ev == WS_EV_PING && lg.r[0].len == 2 &&
	                                            memcmp(lg.r[0].head, "hi", 2) == 0 && lg.r[0].at == 9);
	CHECK("ping between fragments: then Hello", lg.r[1].ev == WS_EV_TEXT && lg.r[1].len == 5 &&
	                                            memcmp(lg.r[1].head, "Hello", 5) == 0);
	parse_hex("02 01 01  8a 00  00 01 02  88 00  80 01 03", &lg);
	CHECK("pong, close between binary fragments",
	      !lg.bad && lg.n == 3 && lg.r[0].ev == WS_EV_PONG && lg.r[0].len == 0 &&
	          lg.r[1].ev == WS_EV_CLOSE && lg.r[1].code == -1 && lg.r[2].ev == WS_EV_BINARY &&
	          lg.r[2].len == 3 && memcmp(lg.r[2].head, "\1\2\3", 3) == 0);
	/* Empty fragments. */
	CHECK("empty fragments make an empty text", one_event("01 00 00 00 80 00", WS_EV_TEXT, ""));
	CHECK("empty binary", one_event("82 00", WS_EV_BINARY, ""));
	/* UTF-8 is checked on the whole message: a sequence may straddle fragments. */
	CHECK("euro sign split over fragments",
	      one_event("01 02 e2 82 80 01 ac", WS_EV_TEXT, "\xe2\x82\xac"));
}

static void
test_errors(void)
{
	CHECK("rsv1", error_of("c1 00") == WS_E_RSV);
	CHECK("rsv2", error_of("a1 00") == WS_E_RSV);
	CHECK("rsv3 on ping", error_of("99 00") == WS_E_RSV);
	CHECK("opcode 3", error_of("83 00") == WS_E_OPCODE);
	CHECK("opcode 7", error_of("87 00") == WS_E_OPCODE);
	CHECK("opcode 0xb", error_of("8b 00") == WS_E_OPCODE);
	CHECK("opcode 0xf", error_of("8f 00") == WS_E_OPCODE);
	CHECK("masked", error_of("82 80") == WS_E_MASKED);
	CHECK("fragmented ping", error_of("09 00") == WS_E_CONTROL);
	CHECK("fragmented close", error_of("08 00") == WS_E_CONTROL);
	CHECK("ping 126 (16-bit length)", error_of("89 7e") == WS_E_CONTROL);
	CHECK("pong 127 (64-bit length)", error_of("8a 7f") == WS_E_CONTROL);
	CHECK("continuation with nothing started", error_of("80 00") == WS_E_CONTINUATION);
	CHECK("continuation after a whole message", error_of("81 01 41 00 00") == WS_E_CONTINUATION);
	CHECK("text inside fragmented text", error_at("01 01 41 81 01 41", 5) == WS_E_INTERLEAVED);
	CHECK("binary inside fragmented text", error_of("01 01 41 89 00 02 00") == WS_E_INTERLEAVED);
	CHECK("16-bit length under 126", error_of("82 7e 00 7d") == WS_E_LENGTH);
	CHECK("16-bit length 0", error_of("82 7e 00 00") == WS_E_LENGTH);
	CHECK("64-bit length under 65536", error_of("82 7f 00 00 00 00 00 00 ff ff") == WS_E_LENGTH);
	CHECK("64-bit length MSB", error_of("82 7f 80 00 00 00 00 00 00 01") == WS_E_LENGTH);
	CHECK("64-bit length huge", error_of("82 7f 7f ff ff ff ff ff ff ff") == WS_E_TOO_BIG);
	CHECK("bad utf8 text", error_of("81 02 c0 80") == WS_E_UTF8);
	CHECK("bad utf8 close reason", error_of("88 04 03 e8 ff 41") == WS_E_UTF8);
	CHECK("close payload of 1 byte", error_of("88 01 03") == WS_E_CLOSE);
	CHECK("close code 1005", error_of("88 02 03 ed") == WS_E_CLOSE);
	/* Events before the error are still delivered. */
	struct evlog lg;
	parse_hex("81 01 41 89 00 c1 00", &lg);
	CHECK("events then error", lg.n == 3 && lg.r[0].ev == WS_EV_TEXT && lg.r[1].ev == WS_EV_PING &&
	                           lg.r[2].ev == WS_EV_ERROR && lg.r[2].err == WS_E_RSV && lg.r[2].at == 7);
	CHECK("error names", strcmp(ws_error_name(WS_E_TOO_BIG), "too_big") == 0 &&
	                     strcmp(ws_error_name(WS_E_NOMEM), "nomem") == 0);
}

static int
utf8_ok(const char *hex)
{
	char frame[600];

	snprintf(frame, sizeof(frame), "81 %02x %s", (int)(strlen(hex) + 1) / 3, hex);
	return error_of(frame) == WS_E_NONE;
}

static void
test_utf8(void)
{
	CHECK("utf8 ascii and NUL", utf8_ok("41 00 7f"));
	CHECK("utf8 U+0080", utf8_ok("c2 80"));
	CHECK("utf8 U+07FF", utf8_ok("df bf"));
	CHECK("utf8 U+0800", utf8_ok("e0 a0 80"));
	CHECK("utf8 U+D7FF", utf8_ok("ed 9f bf"));
	CHECK("utf8 U+E000", utf8_ok("ee 80 80"));
	CHECK("utf8 U+FFFF", utf8_ok("ef bf bf"));
	CHECK("utf8 U+10000", utf8_ok("f0 90 80 80"));
	CHECK("utf8 U+10FFFF", utf8_ok("f4 8f bf bf"));
	CHECK("utf8 overlong C0 80", !utf8_ok("c0 80"));
	CHECK("utf8 overlong C1 BF", !utf8_ok("c1 bf"));
	CHECK("utf8 overlong E0 9F BF", !utf8_ok("e0 9f bf"));
	CHECK("utf8 overlong F0 8F BF BF", !utf8_ok("f0 8f bf bf"));
	CHECK("utf8 surrogate D800", !utf8_ok("ed a0 80"));
	CHECK("utf8 surrogate DFFF", !utf8_ok("ed bf bf"));
	CHECK("utf8 over U+10FFFF", !utf8_ok("f4 90 80 80"));
	CHECK("utf8 F5", !utf8_ok("f5 80 80 80"));
	CHECK("utf8 FF", !utf8_ok("ff"));
	CHECK("utf8 lone continuation", !utf8_ok("41 80"));
	CHECK("utf8 truncated 2", !utf8_ok("41 c3"));
	CHECK("utf8 truncated 3", !utf8_ok("e2 82"));
	CHECK("utf8 truncated 4", !utf8_ok("f0 9f 98"));
	CHECK("utf8 bad third byte", !utf8_ok("e2 82 41"));
	CHECK("utf8 bad fourth byte", !utf8_ok("f0 9f 98 c0"));
	CHECK("binary is not checked", one_event("82 02 c0 80", WS_EV_BINARY, "\xc0\x80"));
	CHECK("close reason U+10FFFF", one_event("88 06 03 e8 f4 8f bf bf", WS_EV_CLOSE, "\xf4\x8f\xbf\xbf"));
	CHECK("close reason surrogate", error_of("88 05 03 e8 ed a0 80") == WS_E_UTF8);
}

static void
test_close_codes(void)
{
	static const int valid[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
	                             3000, 3999, 4000, 4999 };
	static const int invalid[] = { 0, 1, 999, 1004, 1005, 1006, 1015,
	                               1016, 1100, 2000, 2999, 5000, 65535 };
	char hex[64];
	int ok = 1;

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct evlog lg;
		snprintf(hex, sizeof(hex), "88 04 %02x %02x 6f 6b", valid[i] >> 8, valid[i] & 0xff);
		parse_hex(hex, &lg);
		if (lg.bad || lg.n != 1 || lg.r[0].ev != WS_EV_CLOSE || lg.r[0].code != valid[i] ||
		    lg.r[0].len != 2 || memcmp(lg.r[0].head, "ok", 2) != 0)
			ok = 0;
	}
	CHECK("close codes 1000-1003, 1007-1014, 3000-4999 accepted, reason in data", ok);
	ok = 1;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		snprintf(hex, sizeof(hex), "88 02 %02x %02x", invalid[i] >> 8, invalid[i] & 0xff);
		if (error_of(hex) != WS_E_CLOSE)
			ok = 0;
	}
	CHECK("close codes <1000, 1004-1006, 1015, 1016-2999, >4999 refused", ok);
	CHECK("empty close: no code", one_event("88 00", WS_EV_CLOSE, ""));
	struct evlog lg;
	parse_hex("88 00", &lg);
	CHECK("empty close code is -1", lg.r[0].code == -1);
	CHECK("close of 125 bytes",
	      one_event("88 7d 03 e8 "
	                "61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 "
	                "61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 "
	                "61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 "
	                "61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 "
	                "61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61",
	                WS_EV_CLOSE, NULL));
}

/* Everything valid, concatenated: every split gives the same events. */
static void
test_splits(void)
{
	static uint8_t s[80000];
	static uint8_t big[300];
	size_t n = 0;
	int k;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	k = t_hex("81 05 48 65 6c 6c 6f  01 03 48 65 6c 89 02 68 69 80 02 6c 6f  89 05 48 65 6c 6c 6f "
	          "8a 00  81 00  01 02 e2 82 00 00 80 01 ac  88 04 03 e8 68 69",
	          s, (int)sizeof(s));
	n = (size_t)k;
	n += srv_frame(s + n, 0x82, big, 256);
	n += srv_frame(s + n, 0x02, big, 126);
	n += srv_frame(s + n, 0x00, NULL, 70000);
	n += srv_frame(s + n, 0x80, big, 3);
	k = t_hex("81 02 c0 80  81 01 41", s + n, 16); /* ends in an error, then a valid frame */
	n += (size_t)k;

	struct ws_parser w;
	struct evlog whole, part;
	ws_parser_init(&w);
	feed(&w, s, n, 0, &whole);
	ws_parser_free(&w);
	CHECK("split stream: events whole", !whole.bad && whole.n == 11 &&
	                                    whole.r[0].ev == WS_EV_TEXT && whole.r[1].ev == WS_EV_PING &&
	                                    whole.r[2].ev == WS_EV_TEXT && whole.r[3].ev == WS_EV_PING &&
	                                    whole.r[4].ev == WS_EV_PONG && whole.r[5].ev == WS_EV_TEXT &&
	                                    whole.r[6].ev == WS_EV_TEXT && whole.r[7].ev == WS_EV_CLOSE &&
	                                    whole.r[8].ev == WS_EV_BINARY && whole.r[9].ev == WS_EV_BINARY &&
	                                    whole.r[10].ev == WS_EV_ERROR && whole.r[10].err == WS_E_UTF8 &&
	                                    whole.r[10].at == n - 3);
	CHECK("split stream: 70129-byte fragmented binary", whole.r[9].len == 126 + 70000 + 3);
	const size_t steps[] = { 1, 2, 3, 5, 7, 64, 4096 };
	int ok = 1;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ws_parser_init(&w);
		feed(&w, s, n, steps[i], &part);
		ws_parser_free(&w);
		if (!log_eq(&whole, &part))
			ok = 0;
	}
	CHECK("split stream: byte at a time and other steps give the same events", ok);
}

static void
test_cap(void)
{
	const size_t cap = WS_MAX_MESSAGE;
	uint8_t *s = malloc(cap + 4096);
	struct ws_parser w;
	struct evlog lg;
	size_t n, used;

	if (s == NULL) {
		CHECK("cap: malloc", 0);
		return;
	}
	CHECK("WS_MAX_MESSAGE is 2 MiB", WS_MAX_MESSAGE == 2097152);
	n = srv_frame(s, 0x82, NULL, cap);
	ws_parser_init(&w);
	feed(&w, s, n, 0, &lg);
	CHECK("2 MiB in one frame accepted", !lg.bad && lg.n == 1 && lg.r[0].ev == WS_EV_BINARY &&
	                                     lg.r[0].len == cap);
	CHECK("buffer stays within the cap", w.msg_cap <= WS_MAX_MESSAGE);
	ws_parser_free(&w);

	n = srv_frame(s, 0x82, NULL, cap + 1);
	ws_parser_init(&w);
	/* The header alone fails: nothing of the payload is needed. */
	CHECK("2 MiB + 1 in one frame: refused on the header",
	      ws_parse(&w, s, 10, &used) == WS_EV_ERROR && used == 10 && w.err == WS_E_TOO_BIG &&
	          w.msg == NULL);
	ws_parser_free(&w);

	/* Text, 1 MiB + 1 MiB in two fragments. */
	size_t half = cap / 2;
	n = srv_frame(s, 0x01, NULL, half);
	n += srv_frame(s + n, 0x80, NULL, half);
	ws_parser_init(&w);
	feed(&w, s, n, 0, &lg);
	CHECK("2 MiB over two fragments accepted", !lg.bad && lg.n == 1 && lg.r[0].ev == WS_EV_TEXT &&
	                                           lg.r[0].len == cap);
	ws_parser_free(&w);

	/* 1 MiB, a ping, then 1 MiB + 1: the second header fails at once. */
	n = srv_frame(s, 0x01, NULL, half);
	n += srv_frame(s + n, 0x89, NULL, 0);
	size_t second = n;
	n += srv_frame(s + n, 0x80, NULL, half + 1);
	ws_parser_init(&w);
	feed(&w, s, n, 0, &lg);
	CHECK("2 MiB + 1 over fragments refused on the last header",
	      lg.n == 2 && lg.r[0].ev == WS_EV_PING && lg.r[1].ev == WS_EV_ERROR &&
	          lg.r[1].err == WS_E_TOO_BIG && lg.r[1].at == second + 10);
	ws_parser_free(&w);

	/* Many small fragments up to the cap, then one byte more. */
	size_t o = 0, left = cap;
	o += srv_frame(s + o, 0x02, NULL, 65536);
	left -= 65536;
	while (left > 0) {
		o += srv_frame(s + o, 0x00, NULL, 65536);
		left -= 65536;
	}
	size_t end = o;
	o += srv_frame(s + o, 0x80, NULL, 0);
	ws_parser_init(&w);
	feed(&w, s, o, 0, &lg);
	CHECK("2 MiB over 32 fragments and an empty last accepted",
	      !lg.bad && lg.n == 1 && lg.r[0].ev == WS_EV_BINARY && lg.r[0].len == cap);
	ws_parser_free(&w);
	o = end + srv_frame(s + end, 0x80, NULL, 1);
	ws_parser_init(&w);
	feed(&w, s, o, 0, &lg);
	CHECK("2 MiB over 32 fragments and 1 more byte refused",
	      lg.n == 1 && lg.r[0].ev == WS_EV_ERROR && lg.r[0].err == WS_E_TOO_BIG && lg.r[0].at == o - 1);
	ws_parser_free(&w);
	free(s);
}

static int grow_calls, grow_fail_at;

static void *
grow_failing(void *p, size_t n)
{
	if (++grow_calls >= grow_fail_at)
		return NULL;
	return realloc(p, n);
}

static void
test_nomem_and_sticky(void)
{
	static uint8_t s[20000];
	struct ws_parser w;
	size_t n, used;

	n = srv_frame(s, 0x82, NULL, 10000);
	ws_parser_init(&w);
	w.grow = grow_failing;
	grow_calls = 0;
	grow_fail_at = 1;
	CHECK("nomem on the first byte of payload",
	      ws_parse(&w, s, n, &used) == WS_EV_ERROR && w.err == WS_E_NOMEM && used == 4);
	ws_parser_free(&w);

	/* Byte at a time: the buffer grows 4096 -> 8192 -> 16384, the second growth fails. */
	ws_parser_init(&w);
	w.grow = grow_failing;
	grow_calls = 0;
	grow_fail_at = 2;
	size_t i = 0;
	enum ws_event ev = WS_EV_MORE;
	while (i < n && ev == WS_EV_MORE) {
		ev = ws_parse(&w, s + i, 1, &used);
		i += used;
	}
	/* The byte that found no room is not consumed. */
	CHECK("nomem when growing past 4096", ev == WS_EV_ERROR && w.err == WS_E_NOMEM && i == 4 + 4096);
	CHECK("nomem keeps the old buffer", w.msg != NULL && w.msg_cap == 4096);
	CHECK("nomem sticks", ws_parse(&w, (const uint8_t *)"\x81\x00", 2, &used) == WS_EV_ERROR &&
	                      used == 0 && w.err == WS_E_NOMEM);
	ws_parser_free(&w);
	CHECK("free releases the buffer", w.msg == NULL && w.msg_cap == 0);
	ws_parser_free(&w); /* twice is harmless */

	ws_parser_init(&w);
	CHECK("sticky: error", ws_parse(&w, (const uint8_t *)"\xc1\x00\x81\x00", 4, &used) == WS_EV_ERROR &&
	                       used == 1 + 1 && w.err == WS_E_RSV);
	int sticky = 1;
	for (int k = 0; k < 3; k++)
		if (ws_parse(&w, (const uint8_t *)"\x81\x00", 2, &used) != WS_EV_ERROR || used != 0 ||
		    w.err != WS_E_RSV)
			sticky = 0;
	CHECK("sticky: later valid frames still give the first error", sticky);
	CHECK("sticky: empty input too", ws_parse(&w, NULL, 0, &used) == WS_EV_ERROR && used == 0);
	ws_parser_free(&w);

	ws_parser_init(&w);
	CHECK("empty input: more", ws_parse(&w, NULL, 0, &used) == WS_EV_MORE && used == 0);
	CHECK("event stops consumption", ws_parse(&w, (const uint8_t *)"\x81\x01\x41\x81", 4, &used) ==
	                                     WS_EV_TEXT && used == 3 && w.data_len == 1 && w.data[0] == 'A');
	ws_parser_free(&w);
}

void
test_ws(void)
{
	test_rfc_examples();
	test_encoder();
	test_roundtrip();
	test_control_between_fragments();
	test_errors();
	test_utf8();
	test_close_codes();
	test_splits();
	test_cap();
	test_nomem_and_sticky();
}
