#include "crawl/websocket.h"

#include <bearssl.h>
#include <stdlib.h>
#include <string.h>

/* RFC 6455 1.3: the GUID appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* A message buffer over this is released between messages (STYLE 4). */
#define WS_MSG_KEEP (64u << 10)
#define WS_MSG_MIN 4096u

/* --- base64 and the handshake keys ------------------------------------ */

/* RFC 4648 4, with padding; out gets 4 * ceil(n / 3) chars and a NUL. */
static void
b64_encode(char *out, const uint8_t *in, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (n - i > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n - i > 2)
			v |= in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = n - i > 1 ? tab[v >> 6 & 63] : '=';
		out[o++] = n - i > 2 ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

void
ws_key(char out[WS_KEY_LEN + 1], const uint8_t nonce[16])
{
	/* RFC 6455 4.1: a random 16-byte value, base64-encoded. */
	b64_encode(out, nonce, 16);
}

void
ws_accept(char out[WS_ACCEPT_LEN + 1], const char *key)
{
	br_sha1_context sha;
	uint8_t digest[br_sha1_SIZE];

	/* RFC 6455 4.2.2 item 5.4: base64(SHA-1(key || GUID)). */
	br_sha1_init(&sha);
	br_sha1_update(&sha, key, strlen(key));
	br_sha1_update(&sha, ws_guid, sizeof(ws_guid) - 1);
	br_sha1_out(&sha, digest);
	b64_encode(out, digest, sizeof(digest));
}

/* Printable ASCII without space: what a request-target, host or key may hold. */
static int
req_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static size_t
put(char *out, size_t cap, size_t o, const char *s)
{
	size_t n = strlen(s);

	/* SIZE_MAX marks an overflow already seen; it stays. */
	if (o == SIZE_MAX || cap - o < n)
		return SIZE_MAX;
	memcpy(out + o, s, n);
	return o + n;
}

size_t
ws_request(char *out, size_t cap, const char *host, const char *path, const char *key)
{
	size_t o = 0;

	if (!req_safe(host) || !req_safe(path) || !req_safe(key) || *host == '\0' ||
	    path[0] != '/')
		return 0;
	/* RFC 6455 4.1: the client's opening handshake, items 1-9; no extension
	 * or subprotocol is offered, so the response may carry none. */
	o = put(out, cap, o, "GET ");
	o = put(out, cap, o, path);
	o = put(out, cap, o, " HTTP/1.1\r\nHost: ");
	o = put(out, cap, o, host);
	o = put(out, cap, o, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	                     "Sec-WebSocket-Key: ");
	o = put(out, cap, o, key);
	o = put(out, cap, o, "\r\nSec-WebSocket-Version: 13\r\n\r\n");
	if (o == SIZE_MAX || o == cap)
		return 0;
	out[o] = '\0';
	return o;
}

/* --- the handshake response reader ------------------------------------ */

enum {
	HS_STATUS_LINE = 1u << 0,   /* the status line has been read */
	HS_UPGRADE = 1u << 1,       /* Upgrade: websocket */
	HS_CONNECTION = 1u << 2,    /* the upgrade token in Connection */
	HS_ACCEPT = 1u << 3,        /* Sec-WebSocket-Accept, correct */
};

static uint8_t
ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Does (p, n) equal the lowercase s, ASCII case-insensitively? */
static int
eq_nocase(const char *p, size_t n, const char *s)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((uint8_t)p[i]) != (uint8_t)s[i])
			return 0;
	return 1;
}

/* RFC 7230 3.2.6: tchar, the characters of a header name. */
static int
is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 7230 3.2: field-vchar, SP and HTAB; obs-text is let through. */
static int
is_field_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* "HTTP/d.d ddd reason" (RFC 7230 3.1.2); the reason may be empty, the space not. */
static enum ws_hs_result
hs_status_line(struct ws_hs *h, const char *l, size_t n)
{
	if (n < 13 || memcmp(l, "HTTP/", 5) != 0 || l[5] < '0' || l[5] > '9' ||
	    l[6] != '.' || l[7] < '0' || l[7] > '9' || l[8] != ' ' || l[12] != ' ')
		return WS_HS_MALFORMED;
	int status = 0;
	for (size_t i = 9; i < 12; i++) {
		if (l[i] < '0' || l[i] > '9')
			return WS_HS_MALFORMED;
		status = status * 10 + (l[i] - '0');
	}
	for (size_t i = 13; i < n; i++)
		if (!is_field_char((uint8_t)l[i]))
			return WS_HS_MALFORMED;
	h->status = status;
	h->seen |= HS_STATUS_LINE;
	/* RFC 6455 4.1: anything but 101 means the handshake is not complete. */
	if (memcmp(l, "HTTP/1.1", 8) != 0 || status != 101)
		return WS_HS_STATUS;
	return WS_HS_MORE;
}

/* RFC 6455 4.1 item 3: Connection holds the token "upgrade" in its #list. */
static int
has_upgrade_token(const char *v, size_t n)
{
	size_t i = 0;

	while (i <= n) {
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (s < e && is_ows(v[s]))
			s++;
		while (e > s && is_ows(v[e - 1]))
			e--;
		if (eq_nocase(v + s, e - s, "upgrade"))
			return 1;
		i++;
	}
	return 0;
}

static enum ws_hs_result
hs_header_line(struct ws_hs *h, const char *l, size_t n)
{
	size_t c = 0;

	/* RFC 7230 3.2.4: obs-fold is rejected, never unfolded. */
	if (is_ows(l[0]))
		return WS_HS_MALFORMED;
	while (c < n && is_tchar((uint8_t)l[c]))
		c++;
	/* No name, no colon, or whitespace before the colon (3.2.4). */
	if (c == 0 || c == n || l[c] != ':')
		return WS_HS_MALFORMED;
	for (size_t i = c + 1; i < n; i++)
		if (!is_field_char((uint8_t)l[i]))
			return WS_HS_MALFORMED;
	size_t s = c + 1, e = n;
	while (s < e && is_ows(l[s]))
		s++;
	while (e > s && is_ows(l[e - 1]))
		e--;
	const char *v = l + s;
	size_t vn = e - s;

	if (eq_nocase(l, c, "upgrade")) {
		/* RFC 6455 4.1 item 2 */
		if (!eq_nocase(v, vn, "websocket"))
			return WS_HS_UPGRADE;
		h->seen |= HS_UPGRADE;
	} else if (eq_nocase(l, c, "connection")) {
		if (has_upgrade_token(v, vn))
			h->seen |= HS_CONNECTION;
	} else if (eq_nocase(l, c, "sec-websocket-accept")) {
		/* RFC 6455 4.1 item 4; 11.3.3: it MUST NOT appear more than once. */
		if (h->seen & HS_ACCEPT || vn != WS_ACCEPT_LEN ||
		    memcmp(v, h->expect, WS_ACCEPT_LEN) != 0)
			return WS_HS_ACCEPT;
		h->seen |= HS_ACCEPT;
	} else if (eq_nocase(l, c, "sec-websocket-extensions") ||
	           eq_nocase(l, c, "sec-websocket-protocol")) {
		/* RFC 6455 4.1 items 5 and 6: we offered none. */
		return WS_HS_EXTENSION;
	}
	return WS_HS_MORE;
}

/* The blank line: what was required and not seen, in RFC 6455 4.1's order. */
static enum ws_hs_result
hs_verdict(const struct ws_hs *h)
{
	if (!(h->seen & HS_UPGRADE))
		return WS_HS_UPGRADE;
	if (!(h->seen & HS_CONNECTION))
		return WS_HS_CONNECTION;
	if (!(h->seen & HS_ACCEPT))
		return WS_HS_ACCEPT;
	return WS_HS_OK;
}

/* One whole line, without its line ending. */
static enum ws_hs_result
hs_line(struct ws_hs *h)
{
	size_t n = h->line_len;

	h->line_len = 0;
	if (!(h->seen & HS_STATUS_LINE))
		return hs_status_line(h, h->line, n);
	if (n == 0)
		return hs_verdict(h);
	return hs_header_line(h, h->line, n);
}

void
ws_hs_init(struct ws_hs *h, const char *key)
{
	memset(h, 0, sizeof(*h));
	ws_accept(h->expect, key);
	h->res = WS_HS_MORE;
}

enum ws_hs_result
ws_hs_feed(struct ws_hs *h, const uint8_t *p, size_t n, size_t *used)
{
	size_t i = 0;

	*used = 0;
	while (h->res == WS_HS_MORE && i < n) {
		uint8_t c = p[i++];
		int pending_cr = h->line_len > 0 && h->line[h->line_len - 1] == '\r';

		if (++h->total > WS_HANDSHAKE_MAX) {
			h->res = WS_HS_TOO_LONG;
		} else if (c == '\0') {
			h->res = WS_HS_MALFORMED;
		} else if (pending_cr && c != '\n') {
			/* RFC 7230 3.5: a bare CR is not a line ending. */
			h->res = WS_HS_MALFORMED;
		} else if (c == '\n') {
			/* CRLF, or a bare LF (RFC 7230 3.5 lets a recipient accept it). */
			if (pending_cr)
				h->line_len--;
			h->res = hs_line(h);
		} else if (c != '\r' && h->line_len >= sizeof(h->line) - 1) {
			/* A line holds sizeof(line) - 1 bytes: the last slot is for the
			 * CR, kept in the buffer until its LF arrives. */
			h->res = WS_HS_TOO_LONG;
		} else {
			h->line[h->line_len++] = (char)c;
		}
	}
	*used = i;
	return h->res;
}

const char *
ws_hs_result_name(enum ws_hs_result r)
{
	switch (r) {
	case WS_HS_MORE: return "more";
	case WS_HS_OK: return "ok";
	case WS_HS_STATUS: return "status";
	case WS_HS_UPGRADE: return "upgrade";
	case WS_HS_CONNECTION: return "connection";
	case WS_HS_ACCEPT: return "accept";
	case WS_HS_EXTENSION: return "extension";
	case WS_HS_TOO_LONG: return "too_long";
	case WS_HS_MALFORMED: return "malformed";
	}
	return "unknown";
}

/* --- client frames ----------------------------------------------------- */

static int
op_defined(unsigned op)
{
	return op == WS_OP_CONT || op == WS_OP_TEXT || op == WS_OP_BINARY ||
	       op == WS_OP_CLOSE || op == WS_OP_PING || op == WS_OP_PONG;
}

/* RFC 6455 5.5: opcodes with the high bit set are control frames. */
static int
op_control(unsigned op)
{
	return (op & 0x8) != 0;
}

size_t
ws_frame_size(size_t len)
{
	size_t hdr = len < 126 ? 2 : len <= 0xffff ? 4 : 10;

	/* RFC 6455 5.2: the 64-bit length's most significant bit MUST be 0. */
	if ((uint64_t)len > (UINT64_MAX >> 1) || len > SIZE_MAX - hdr - 4)
		return 0;
	return hdr + 4 + len;
}

size_t
ws_frame(uint8_t *out, size_t cap, enum ws_opcode op, bool fin,
         const uint8_t *payload, size_t len, const uint8_t mask[4])
{
	size_t need = ws_frame_size(len), o = 0;

	if (!op_defined((unsigned)op) || need == 0 || cap < need)
		return 0;
	/* RFC 6455 5.5: control frames are never fragmented, at most 125 bytes. */
	if (op_control((unsigned)op) && (!fin || len > WS_CONTROL_MAX))
		return 0;
	out[o++] = (uint8_t)((fin ? 0x80 : 0) | (unsigned)op);
	/* RFC 6455 5.2: the minimal length encoding; 5.1: the mask bit is set. */
	if (len < 126) {
		out[o++] = (uint8_t)(0x80 | len);
	} else if (len <= 0xffff) {
		out[o++] = 0x80 | 126;
		out[o++] = (uint8_t)(len >> 8);
		out[o++] = (uint8_t)len;
	} else {
		out[o++] = 0x80 | 127;
		for (int s = 56; s >= 0; s -= 8)
			out[o++] = (uint8_t)((uint64_t)len >> s);
	}
	memcpy(out + o, mask, 4);
	o += 4;
	/* RFC 6455 5.3: octet i is XORed with mask octet i mod 4. */
	for (size_t i = 0; i < len; i++)
		out[o + i] = (uint8_t)(payload[i] ^ mask[i & 3]);
	return o + len;
}

/* --- the server frame parser ------------------------------------------ */

/*
 * Parser states: PS_HEAD collects the header (2 bytes, then the extended
 * length if any) into w->hdr; PS_PAYLOAD copies w->remain payload bytes
 * into the message or the control buffer. Every check is made on the byte
 * that completes what it looks at, so any split of the input gives the
 * same events at the same offsets.
 */
enum { PS_HEAD, PS_PAYLOAD };

static const uint8_t ws_empty[1];

/*
 * RFC 3629 4 (UTF8-octets), as RFC 6455 8.1 requires: no overlongs, no
 * surrogates (U+D800-DFFF), nothing over U+10FFFF, no truncated sequence.
 */
static int
utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t more;
		uint8_t lo = 0x80, hi = 0xbf; /* the range of the second byte */

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* over U+10FFFF */
		} else {
			return 0; /* continuation byte, C0, C1 (overlong) or F5-FF */
		}
		if (n - i - 1 < more)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= more; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		i += more + 1;
	}
	return 1;
}

static enum ws_event
parse_fail(struct ws_parser *w, enum ws_error e)
{
	w->err = e;
	return WS_EV_ERROR;
}

void
ws_parser_init(struct ws_parser *w)
{
	memset(w, 0, sizeof(*w));
	w->state = PS_HEAD;
	w->hdr_need = 2;
	w->err = WS_E_NONE;
	w->close_code = -1;
	w->grow = realloc;
}

void
ws_parser_free(struct ws_parser *w)
{
	free(w->msg);
	w->msg = NULL;
	w->msg_len = w->msg_cap = 0;
	w->data = NULL;
	w->data_len = 0;
}

/* The first two header bytes are in: everything they alone can refuse. */
static enum ws_event
frame_start(struct ws_parser *w)
{
	uint8_t b0 = w->hdr[0], b1 = w->hdr[1];
	unsigned len7 = b1 & 0x7f;

	w->fin = (b0 & 0x80) != 0;
	w->op = b0 & 0x0f;
	/* RFC 6455 5.2: RSV1-3 MUST be 0 unless an extension says otherwise;
	 * we negotiate none (the handshake refuses Sec-WebSocket-Extensions). */
	if (b0 & 0x70)
		return parse_fail(w, WS_E_RSV);
	/* RFC 6455 5.2: reserved opcodes MUST fail the connection. */
	if (!op_defined(w->op))
		return parse_fail(w, WS_E_OPCODE);
	/* RFC 6455 5.1: a client MUST close on a masked server frame. */
	if (b1 & 0x80)
		return parse_fail(w, WS_E_MASKED);
	if (op_control(w->op)) {
		/* RFC 6455 5.5: not fragmented, payload at most 125 bytes. */
		if (!w->fin || len7 > WS_CONTROL_MAX)
			return parse_fail(w, WS_E_CONTROL);
		w->ctrl_len = 0;
	} else if (w->op == WS_OP_CONT) {
		/* RFC 6455 5.4: a continuation belongs to a started message. */
		if (w->msg_op == 0)
			return parse_fail(w, WS_E_CONTINUATION);
	} else {
		/* RFC 6455 5.4: fragments of one message are not interleaved. */
		if (w->msg_op != 0)
			return parse_fail(w, WS_E_INTERLEAVED);
		w->msg_op = w->op;
		w->msg_len = 0;
	}
	w->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
	return WS_EV_MORE;
}

/* The whole header is in: the payload length. */
static enum ws_event
frame_length(struct ws_parser *w)
{
	unsigned len7 = w->hdr[1] & 0x7f;
	uint64_t len = len7;

	if (len7 >= 126) {
		len = 0;
		for (size_t i = 2; i < w->hdr_need; i++)
			len = len << 8 | w->hdr[i];
		/* RFC 6455 5.2: the minimal number of bytes MUST be used, and
		 * the 64-bit form's most significant bit MUST be 0. */
		if (len7 == 126 && len < 126)
			return parse_fail(w, WS_E_LENGTH);
		if (len7 == 127 && (len <= 0xffff || len >> 63))
			return parse_fail(w, WS_E_LENGTH);
	}
	/* SPEC 5: refused on the header, before a byte of it is stored. */
	if (!op_control(w->op) && len > WS_MAX_MESSAGE - w->msg_len)
		return parse_fail(w, WS_E_TOO_BIG);
	w->remain = len;
	w->state = PS_PAYLOAD;
	return WS_EV_MORE;
}

/* Room for n more message bytes: geometric growth, never past the cap. */
static int
msg_reserve(struct ws_parser *w, size_t n)
{
	size_t need = w->msg_len + n, cap = w->msg_cap;

	if (need <= cap)
		return 1;
	if (cap < WS_MSG_MIN)
		cap = WS_MSG_MIN;
	while (cap < need)
		cap *= 2;
	if (cap > WS_MAX_MESSAGE)
		cap = WS_MAX_MESSAGE;
	uint8_t *m = w->grow(w->msg, cap);
	if (m == NULL)
		return 0;
	w->msg = m;
	w->msg_cap = cap;
	return 1;
}

/* RFC 6455 7.4.1 and 7.4.2: the codes a peer may send in a close frame. */
static int
close_code_valid(int code)
{
	/* 1012-1014 are registered with IANA since RFC 6455 (restart, try later, bad gateway). */
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

/* The payload is in: the event of this frame, if any. */
static enum ws_event
frame_end(struct ws_parser *w)
{
	w->state = PS_HEAD;
	w->hdr_len = 0;
	w->hdr_need = 2;
	switch (w->op) {
	case WS_OP_PING:
	case WS_OP_PONG:
		w->data = w->ctrl;
		w->data_len = w->ctrl_len;
		return w->op == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
	case WS_OP_CLOSE:
		w->close_code = -1;
		w->data = w->ctrl;
		w->data_len = 0;
		if (w->ctrl_len == 0)
			return WS_EV_CLOSE;
		/* RFC 6455 5.5.1: a body starts with a 2-byte code. */
		if (w->ctrl_len == 1)
			return parse_fail(w, WS_E_CLOSE);
		w->close_code = w->ctrl[0] << 8 | w->ctrl[1];
		if (!close_code_valid(w->close_code))
			return parse_fail(w, WS_E_CLOSE);
		/* RFC 6455 5.5.1: the reason is UTF-8. */
		if (!utf8_valid(w->ctrl + 2, w->ctrl_len - 2))
			return parse_fail(w, WS_E_UTF8);
		w->data = w->ctrl + 2;
		w->data_len = w->ctrl_len - 2;
		return WS_EV_CLOSE;
	default:
		break;
	}
	if (!w->fin)
		return WS_EV_MORE;
	uint8_t op = w->msg_op;
	size_t len = w->msg_len;
	w->msg_op = 0;
	w->msg_len = 0;
	/* RFC 6455 8.1: a text message is checked whole, across fragments. */
	if (op == WS_OP_TEXT && !utf8_valid(w->msg, len))
		return parse_fail(w, WS_E_UTF8);
	w->data = len ? w->msg : ws_empty;
	w->data_len = len;
	return op == WS_OP_TEXT ? WS_EV_TEXT : WS_EV_BINARY;
}

enum ws_event
ws_parse(struct ws_parser *w, const uint8_t *p, size_t n, size_t *used)
{
	enum ws_event ev = WS_EV_MORE;
	size_t i = 0;

	*used = 0;
	w->data = NULL;
	w->data_len = 0;
	if (w->err != WS_E_NONE)
		return WS_EV_ERROR;
	/* The last message was handed out and is now void: a big buffer goes. */
	if (w->msg_op == 0 && w->msg_cap > WS_MSG_KEEP) {
		free(w->msg);
		w->msg = NULL;
		w->msg_cap = 0;
	}
	while (ev == WS_EV_MORE) {
		if (w->state == PS_HEAD) {
			if (i == n)
				break;
			w->hdr[w->hdr_len++] = p[i++];
			if (w->hdr_len == 2)
				ev = frame_start(w);
			if (ev == WS_EV_MORE && w->hdr_len == w->hdr_need)
				ev = frame_length(w);
			continue;
		}
		if (w->remain > 0) {
			if (i == n)
				break;
			size_t k = n - i;
			if (k > w->remain)
				k = (size_t)w->remain;
			if (op_control(w->op)) {
				memcpy(w->ctrl + w->ctrl_len, p + i, k);
				w->ctrl_len += k;
			} else {
				if (!msg_reserve(w, k)) {
					ev = parse_fail(w, WS_E_NOMEM);
					break;
				}
				memcpy(w->msg + w->msg_len, p + i, k);
				w->msg_len += k;
			}
			i += k;
			w->remain -= k;
			continue;
		}
		ev = frame_end(w);
	}
	*used = i;
	return ev;
}

const char *
ws_error_name(enum ws_error e)
{
	switch (e) {
	case WS_E_NONE: return "none";
	case WS_E_RSV: return "rsv";
	case WS_E_OPCODE: return "opcode";
	case WS_E_MASKED: return "masked";
	case WS_E_CONTROL: return "control";
	case WS_E_CONTINUATION: return "continuation";
	case WS_E_INTERLEAVED: return "interleaved";
	case WS_E_LENGTH: return "length";
	case WS_E_TOO_BIG: return "too_big";
	case WS_E_UTF8: return "utf8";
	case WS_E_CLOSE: return "close";
	case WS_E_NOMEM: return "nomem";
	}
	return "unknown";
}
