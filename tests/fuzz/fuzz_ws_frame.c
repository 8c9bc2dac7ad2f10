/*
 * fuzz_ws_frame: the server-frame parser and the client-frame encoder of
 * crawl/websocket.h.
 *
 * 1. The input as a stream of server frames, against a reference parser
 *    written from RFC 6455 5 in one pass over the whole buffer (no
 *    resumption): same events at the same offsets, same payloads byte for
 *    byte, same error. Each event's own rules hold: TEXT is valid UTF-8
 *    (checked by a decoder of its own) and at most WS_MAX_MESSAGE, control
 *    payloads at most 125 bytes, a close code valid or -1, WS_EV_MORE only
 *    with everything consumed, every event consuming something.
 * 2. The same stream fed whole, split at one point derived from the input,
 *    in input-chosen chunk sizes and one byte at a time: identical events.
 * 3. An error sticks: later calls return WS_EV_ERROR, consume nothing.
 * 4. An allocation failure injected at an input-chosen growth: the events
 *    before it are the reference's, then WS_E_NOMEM, which sticks.
 * 5. ws_frame over the input as a payload with an input-chosen opcode, fin
 *    and mask: refused exactly when the opcode is undefined or a control
 *    frame is fragmented or over 125 bytes, or the buffer is one byte
 *    short; otherwise ws_frame_size bytes, minimal length, mask bit and
 *    key, payload XORed; unmasked (as a server would send it) and parsed,
 *    the payload comes back.
 * The input buffer is exactly `size` bytes, so ASan traps any over-read.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/websocket.h"

#include "fuzz.h"

#define MAX_INPUT (1u << 20)

struct ev {
	enum ws_event ev;
	enum ws_error err;
	int code;
	size_t at;    /* stream offset just after the event */
	size_t off;   /* payload: in the reference's arena */
	size_t len;
};

/* RFC 3629 by decoding: the code point, its shortest form, its range. */
static bool
ref_utf8(const uint8_t *p, size_t n)
{
	static const uint32_t shortest[4] = { 0, 0x80, 0x800, 0x10000 };

	for (size_t i = 0; i < n;) {
		uint32_t c = p[i], cp;
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3fu);
		}
		if (cp < shortest[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static bool
ref_close_code(int c)
{
	switch (c / 1000) {
	case 1:
		return c <= 1003 || (c >= 1007 && c <= 1014);
	case 3:
	case 4:
		return true;
	default:
		return false;
	}
}

/*
 * The reference: the whole stream in one pass. Returns the event count.
 * Payloads go to arena (n bytes): messages from the front, control
 * payloads from the back, so a message stays contiguous around them.
 */
static size_t
ref_parse(const uint8_t *p, size_t n, struct ev *out, uint8_t *arena)
{
	size_t off = 0, nev = 0, used = 0, top = n;
	size_t msg_start = 0, msg_len = 0; /* the message being assembled, in arena */
	int msg_op = 0;

#define REF_EVENT(e, err_, at_, o, l, c)                                                \
	do {                                                                            \
		out[nev++] = (struct ev){ .ev = (e), .err = (err_), .at = (at_), .off = (o), \
		                          .len = (l), .code = (c) };                      \
	} while (0)
#define REF_FAIL(e, at_)                                          \
	do {                                                      \
		REF_EVENT(WS_EV_ERROR, (e), (at_), 0, 0, 0);      \
		return nev;                                       \
	} while (0)

	for (;;) {
		if (n - off < 2)
			return nev;
		bool fin = p[off] >> 7;
		unsigned rsv = p[off] >> 4 & 7, op = p[off] & 15;
		bool masked = p[off + 1] >> 7;
		unsigned len7 = p[off + 1] & 127;
		bool control = op >= 8;
		if (rsv)
			REF_FAIL(WS_E_RSV, off + 2);
		if (!(op <= 2 || (op >= 8 && op <= 10)))
			REF_FAIL(WS_E_OPCODE, off + 2);
		if (masked)
			REF_FAIL(WS_E_MASKED, off + 2);
		if (control && (!fin || len7 > 125))
			REF_FAIL(WS_E_CONTROL, off + 2);
		if (op == 0 && !msg_op)
			REF_FAIL(WS_E_CONTINUATION, off + 2);
		if ((op == 1 || op == 2) && msg_op)
			REF_FAIL(WS_E_INTERLEAVED, off + 2);
		size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
		if (n - off - 2 < ext)
			return nev;
		uint64_t len = len7;
		if (ext) {
			len = 0;
			for (size_t i = 0; i < ext; i++)
				len = len * 256 + p[off + 2 + i];
		}
		size_t at = off + 2 + ext;
		if ((ext == 2 && len < 126) || (ext == 8 && (len < 65536 || len >= (1ull << 63))))
			REF_FAIL(WS_E_LENGTH, at);
		uint64_t before = op == 0 ? msg_len : 0;
		if (!control && before + len > WS_MAX_MESSAGE)
			REF_FAIL(WS_E_TOO_BIG, at);
		if (n - at < len)
			return nev;
		size_t end = at + (size_t)len;
		const uint8_t *pl = p + at;
		if (control) {
			top -= (size_t)len;
			memcpy(arena + top, pl, (size_t)len);
			size_t o = top;
			if (op == 9 || op == 10) {
				REF_EVENT(op == 9 ? WS_EV_PING : WS_EV_PONG, WS_E_NONE, end, o, (size_t)len, 0);
			} else if (len == 0) {
				REF_EVENT(WS_EV_CLOSE, WS_E_NONE, end, o, 0, -1);
			} else if (len == 1) {
				REF_FAIL(WS_E_CLOSE, end);
			} else {
				int code = pl[0] * 256 + pl[1];
				if (!ref_close_code(code))
					REF_FAIL(WS_E_CLOSE, end);
				if (!ref_utf8(pl + 2, (size_t)len - 2))
					REF_FAIL(WS_E_UTF8, end);
				REF_EVENT(WS_EV_CLOSE, WS_E_NONE, end, o + 2, (size_t)len - 2, code);
			}
		} else {
			if (op != 0) {
				msg_op = (int)op;
				msg_start = used;
				msg_len = 0;
			}
			memcpy(arena + used, pl, (size_t)len);
			used += (size_t)len;
			msg_len += (size_t)len;
			if (fin) {
				if (msg_op == 1 && !ref_utf8(arena + msg_start, msg_len))
					REF_FAIL(WS_E_UTF8, end);
				REF_EVENT(msg_op == 1 ? WS_EV_TEXT : WS_EV_BINARY, WS_E_NONE, end, msg_start,
				          msg_len, 0);
				msg_op = 0;
			}
		}
		off = end;
	}
#undef REF_EVENT
#undef REF_FAIL
}

static int grow_calls, grow_fail_at;

static void *
grow_failing(void *p, size_t n)
{
	if (++grow_calls == grow_fail_at)
		return NULL;
	return realloc(p, n);
}

enum feed_mode { FEED_WHOLE, FEED_SPLIT, FEED_CHUNKS, FEED_BYTES };

/*
 * Feed the stream as mode says and check every event against the
 * reference's list. Returns the number of events matched; with nomem_at
 * an allocation failure is injected and may end the run early.
 */
static size_t
run(const uint8_t *p, size_t n, enum feed_mode mode, const struct ev *want, size_t nwant,
    const uint8_t *arena, int nomem_at)
{
	struct ws_parser w;
	size_t off = 0, k = 0, split = 0;
	bool failed = false;

	ws_parser_init(&w);
	if (nomem_at) {
		grow_calls = 0;
		grow_fail_at = nomem_at;
		w.grow = grow_failing;
	}
	if (n > 0)
		split = (p[0] * 131u + p[n - 1] * 7u + n) % (n + 1);
	size_t ci = 0;
	while (off < n && !failed) {
		size_t chunk = n - off;
		switch (mode) {
		case FEED_WHOLE:
			break;
		case FEED_SPLIT:
			if (off < split)
				chunk = split - off;
			break;
		case FEED_CHUNKS:
			chunk = 1 + p[ci++ % n] % 23;
			break;
		case FEED_BYTES:
			chunk = 1;
			break;
		}
		if (chunk > n - off)
			chunk = n - off;
		size_t o = 0;
		while (o < chunk) {
			size_t used = 99;
			enum ws_event e = ws_parse(&w, p + off + o, chunk - o, &used);
			REQUIRE(used <= chunk - o);
			if (e == WS_EV_MORE) {
				REQUIRE(used == chunk - o);
				REQUIRE(w.err == WS_E_NONE);
				break;
			}
			REQUIRE(used > 0 || e == WS_EV_ERROR);
			o += used;
			size_t at = off + o;
			if (e == WS_EV_ERROR && w.err == WS_E_NOMEM) {
				/* Only when injected, and before the next expected event. */
				REQUIRE(nomem_at != 0 && grow_calls == nomem_at);
				REQUIRE(k == nwant || at <= want[k].at);
				failed = true;
				break;
			}
			REQUIRE(k < nwant);
			const struct ev *x = &want[k++];
			REQUIRE(e == x->ev && at == x->at);
			if (e == WS_EV_ERROR) {
				REQUIRE(w.err == x->err && w.err != WS_E_NONE);
				failed = true;
				break;
			}
			REQUIRE(w.err == WS_E_NONE);
			REQUIRE(w.data != NULL && w.data_len == x->len);
			REQUIRE(memcmp(w.data, arena + x->off, x->len) == 0);
			switch (e) {
			case WS_EV_TEXT:
				REQUIRE(ref_utf8(w.data, w.data_len));
				REQUIRE(w.data_len <= WS_MAX_MESSAGE);
				break;
			case WS_EV_BINARY:
				REQUIRE(w.data_len <= WS_MAX_MESSAGE);
				break;
			case WS_EV_PING:
			case WS_EV_PONG:
				REQUIRE(w.data_len <= WS_CONTROL_MAX);
				break;
			case WS_EV_CLOSE:
				REQUIRE(w.close_code == x->code);
				REQUIRE(w.close_code == -1 ? w.data_len == 0 : w.data_len <= WS_CONTROL_MAX - 2);
				REQUIRE(ref_utf8(w.data, w.data_len));
				break;
			default:
				REQUIRE(0);
			}
			REQUIRE(w.msg_cap <= WS_MAX_MESSAGE);
		}
		off += chunk;
	}
	if (failed) {
		/* Sticky: nothing more is consumed, the error stays. */
		enum ws_error err = w.err;
		size_t used = 99;
		REQUIRE(ws_parse(&w, p, n, &used) == WS_EV_ERROR && used == 0 && w.err == err);
		REQUIRE(ws_parse(&w, (const uint8_t *)"\x81\x00", 2, &used) == WS_EV_ERROR && used == 0);
	} else {
		REQUIRE(k == nwant);
	}
	ws_parser_free(&w);
	return k;
}

/* 5: the encoder. */
static void
encode(const uint8_t *data, size_t size)
{
	if (size < 6)
		return;
	unsigned op = data[0] & 15;
	bool fin = data[1] & 1;
	const uint8_t *mask = data + 2;
	const uint8_t *pl = data + 6;
	size_t len = size - 6;
	/* Now and then (it is slow) stretch the payload to the 64-bit length form. */
	static uint8_t big[65536 + 16];
	if (data[1] == 0xff && len > 0) {
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = pl[i % len];
		pl = big;
		len = 65536 + data[0] % 16;
	}
	size_t need = ws_frame_size(len);
	bool defined = op <= 2 || (op >= 8 && op <= 10);
	bool ok = defined && !(op >= 8 && (!fin || len > WS_CONTROL_MAX));
	REQUIRE(need == len + 6 + (len < 126 ? 0 : len <= 0xffff ? 2 : 8));

	uint8_t *out = malloc(need);
	REQUIRE(out != NULL);
	/* One byte short: refused, and ASan checks nothing is written past. */
	REQUIRE(ws_frame(out, need - 1, (enum ws_opcode)op, fin, pl, len, mask) == 0);
	size_t n = ws_frame(out, need, (enum ws_opcode)op, fin, pl, len, mask);
	if (!ok) {
		REQUIRE(n == 0);
		free(out);
		return;
	}
	REQUIRE(n == need);
	REQUIRE(out[0] == ((fin ? 0x80 : 0) | op));
	REQUIRE(out[1] & 0x80);
	size_t h = 2;
	unsigned len7 = out[1] & 127;
	if (len < 126) {
		REQUIRE(len7 == len);
	} else if (len <= 0xffff) {
		REQUIRE(len7 == 126 && (size_t)(out[2] << 8 | out[3]) == len);
		h = 4;
	} else {
		REQUIRE(len7 == 127);
		uint64_t v = 0;
		for (size_t i = 2; i < 10; i++)
			v = v << 8 | out[i];
		REQUIRE(v == len);
		h = 10;
	}
	REQUIRE(memcmp(out + h, mask, 4) == 0);
	for (size_t i = 0; i < len; i++)
		REQUIRE((out[h + 4 + i] ^ mask[i % 4]) == pl[i]);

	/* As a server sends it: no mask bit, no key, plain payload. */
	out[1] &= 0x7f;
	for (size_t i = 0; i < len; i++)
		out[h + 4 + i] ^= mask[i % 4];
	memmove(out + h, out + h + 4, len);
	size_t sn = h + len;
	struct ev want[4];
	uint8_t *arena = malloc(sn + 1);
	REQUIRE(arena != NULL);
	size_t nwant = ref_parse(out, sn, want, arena);
	REQUIRE(run(out, sn, FEED_WHOLE, want, nwant, arena, 0) == nwant);
	/* The payload comes back whenever the frame stands alone. */
	bool back = (op == WS_OP_BINARY && fin) || (op == WS_OP_TEXT && fin && ref_utf8(pl, len)) ||
	            op == WS_OP_PING || op == WS_OP_PONG;
	if (back) {
		REQUIRE(nwant == 1 && want[0].at == sn && want[0].len == len);
		REQUIRE(memcmp(arena + want[0].off, pl, len) == 0);
	}
	if (op == WS_OP_CONT)
		REQUIRE(nwant == 1 && want[0].ev == WS_EV_ERROR && want[0].err == WS_E_CONTINUATION);
	if (!fin && op != WS_OP_CONT)
		REQUIRE(nwant == 0);
	free(arena);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		return 0;
	/* Every event consumes at least 2 bytes; payloads are input bytes. */
	struct ev *want = malloc((size / 2 + 1) * sizeof(*want));
	uint8_t *arena = malloc(size + 1);
	REQUIRE(want != NULL && arena != NULL);
	size_t nwant = ref_parse(data, size, want, arena);

	run(data, size, FEED_WHOLE, want, nwant, arena, 0);
	run(data, size, FEED_SPLIT, want, nwant, arena, 0);
	run(data, size, FEED_CHUNKS, want, nwant, arena, 0);
	if (size <= 65536)
		run(data, size, FEED_BYTES, want, nwant, arena, 0);
	if (size > 0)
		run(data, size, data[size / 2] & 1 ? FEED_CHUNKS : FEED_WHOLE, want, nwant, arena,
		    1 + data[size / 2] % 3);
	free(want);
	free(arena);
	encode(data, size);
	return 0;
}
