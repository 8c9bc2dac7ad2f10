#include "crawl/infnote_msg.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * Strict: primitives are numbers and literals and may not be keys. Parent
 * links: closing a container walks up from the last token instead of
 * scanning the whole array, so tokenizing is linear for a bounded depth.
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

/* One message at a time: the crawler runs in one thread (STYLE 4: sized at start). */
static jsmntok_t tok[PEERS_TOKENS_MAX];

struct js {
	const char *s;
	int n; /* tokens */
};

/* ---- builders ---- */

struct out {
	char *p;
	size_t cap, len;
	int err;
};

static void
out_put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->err || o->cap - o->len <= n) { /* room for s and the NUL */
		o->err = 1;
		return;
	}
	memcpy(o->p + o->len, s, n + 1);
	o->len += n;
}

static int
id_ok(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return 0;
	for (; id[n] != '\0'; n++) {
		char c = id[n];
		if (n == PEERS_ID_MAX || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return n > 0;
}

static size_t
build(char *out, size_t cap, const char *id_key, const char *id, const char *rest)
{
	struct out o = { out, cap, 0, 0 };

	if (cap > 0)
		out[0] = '\0';
	if (!id_ok(id) || cap == 0)
		return 0;
	out_put(&o, "{\"");
	out_put(&o, id_key);
	out_put(&o, "\":\"");
	out_put(&o, id);
	out_put(&o, rest);
	if (o.err) {
		out[0] = '\0';
		return 0;
	}
	return o.len;
}

#define STR_(x) #x
#define STR(x) STR_(x)

size_t
peers_ask_01(char *out, size_t cap, const char *id)
{
	return build(out, cap, "identifier", id,
	             "\",\"type\":\"question\",\"content\":{\"type\":\"want_peers\",\"count\":" STR(PEERS_ASK_COUNT) "}}");
}

size_t
peers_ask_info_01(char *out, size_t cap, const char *id)
{
	return build(out, cap, "identifier", id,
	             "\",\"type\":\"question\",\"content\":{\"type\":\"info\",\"version\":\"0.1\",\"peers\":0,"
	             "\"chains\":{},\"platform\":{\"system\":\"seedd\"},\"full_node\":false}}");
}

size_t
peers_ask_11(char *out, size_t cap, const char *id)
{
	return build(out, cap, "id", id, "\",\"type\":\"request:peers\",\"data\":{\"count\":" STR(PEERS_ASK_COUNT) "}}");
}

/* ---- strict validation (RFC 8259) ---- */

/*
 * jsmn alone is lax: it takes trailing and missing commas, "tru" or "1.2.3"
 * as primitives, raw control characters in strings, and stops at a NUL as
 * if the input ended there. Its closing walk is also quadratic in the
 * nesting depth. So every message is first checked against the RFC 8259
 * grammar with a depth cap, and its tokens counted; jsmn then only ever
 * sees valid JSON it can tokenize into the fixed array.
 */
struct vd {
	const char *s;
	size_t len, p;
	long ntok;
};

static void
vd_ws(struct vd *v)
{
	while (v->p < v->len && (v->s[v->p] == ' ' || v->s[v->p] == '\t' || v->s[v->p] == '\n' || v->s[v->p] == '\r'))
		v->p++;
}

static int
vd_peek(const struct vd *v)
{
	return v->p < v->len ? (unsigned char)v->s[v->p] : -1;
}

static int
vd_digits(struct vd *v)
{
	size_t start = v->p;

	while (v->p < v->len && v->s[v->p] >= '0' && v->s[v->p] <= '9')
		v->p++;
	return v->p > start ? 0 : -1;
}

static int
vd_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* At the opening quote. UTF-8 is not checked here: RFC 6455 8.1 leaves that to the frame reader. */
static int
vd_string(struct vd *v)
{
	v->p++;
	for (;;) {
		int c = vd_peek(v);
		if (c < 0x20) /* end of input, NUL, or a raw control character */
			return -1;
		v->p++;
		if (c == '"')
			return 0;
		if (c != '\\')
			continue;
		c = vd_peek(v);
		v->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, v->p++)
				if (!vd_hex(vd_peek(v)))
					return -1;
		} else if (c < 0 || strchr("\"\\/bfnrt", c) == NULL) {
			return -1;
		}
	}
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
vd_number(struct vd *v)
{
	if (vd_peek(v) == '-')
		v->p++;
	if (vd_peek(v) == '0')
		v->p++;
	else if (vd_digits(v) < 0)
		return -1;
	if (vd_peek(v) == '.') {
		v->p++;
		if (vd_digits(v) < 0)
			return -1;
	}
	if (vd_peek(v) == 'e' || vd_peek(v) == 'E') {
		v->p++;
		if (vd_peek(v) == '+' || vd_peek(v) == '-')
			v->p++;
		if (vd_digits(v) < 0)
			return -1;
	}
	return 0;
}

static int
vd_word(struct vd *v, const char *w)
{
	size_t n = strlen(w);

	if (v->len - v->p < n || memcmp(v->s + v->p, w, n) != 0)
		return -1;
	v->p += n;
	return 0;
}

/* A scalar value at v->p (after whitespace); containers are the caller's. */
static int
vd_scalar(struct vd *v)
{
	int c = vd_peek(v);

	if (c == '"')
		return vd_string(v);
	if (c == 't')
		return vd_word(v, "true");
	if (c == 'f')
		return vd_word(v, "false");
	if (c == 'n')
		return vd_word(v, "null");
	if (c == '-' || (c >= '0' && c <= '9'))
		return vd_number(v);
	return -1;
}

/* After the top-level object: only whitespace, and no more tokens than jsmn will get. */
static long
vd_end(struct vd *v)
{
	vd_ws(v);
	return v->p == v->len && v->ntok <= PEERS_TOKENS_MAX ? v->ntok : -1;
}

/*
 * The number of jsmn tokens (values and keys) when s[0..len) is one JSON
 * object, optionally surrounded by whitespace, within the caps; else -1.
 */
static long
json_check(const char *s, size_t len)
{
	struct vd v = { s, len, 0, 0 };
	char close[PEERS_DEPTH_MAX]; /* what closes each open container: '}' or ']' */
	int depth = 0;
	enum { V_VALUE, V_KEY, V_AFTER } st = V_VALUE;

	vd_ws(&v);
	if (vd_peek(&v) != '{')
		return -1;
	for (;;) {
		vd_ws(&v);
		int c = vd_peek(&v);
		switch (st) {
		case V_VALUE:
			if (c == '{' || c == '[') {
				if (depth == PEERS_DEPTH_MAX)
					return -1;
				close[depth++] = c == '{' ? '}' : ']';
				v.ntok++;
				v.p++;
				vd_ws(&v);
				if (vd_peek(&v) == close[depth - 1]) { /* empty */
					v.p++;
					if (--depth == 0)
						return vd_end(&v);
					st = V_AFTER;
				} else {
					st = c == '{' ? V_KEY : V_VALUE;
				}
				break;
			}
			if (vd_scalar(&v) < 0)
				return -1;
			v.ntok++;
			st = V_AFTER;
			break;
		case V_KEY:
			if (c != '"' || vd_string(&v) < 0)
				return -1;
			v.ntok++;
			vd_ws(&v);
			if (vd_peek(&v) != ':')
				return -1;
			v.p++;
			st = V_VALUE;
			break;
		case V_AFTER:
			if (c == ',') {
				v.p++;
				st = close[depth - 1] == '}' ? V_KEY : V_VALUE;
				break;
			}
			if (c != close[depth - 1])
				return -1;
			v.p++;
			if (--depth == 0)
				return vd_end(&v);
			break;
		}
	}
}

/* ---- reading tokens ---- */

/* The index after token i and everything inside it. */
static int
js_skip(const struct js *j, int i)
{
	int end = tok[i].end, k = i + 1;

	while (k < j->n && tok[k].start < end)
		k++;
	return k;
}

static unsigned
hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)s[i];
		v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/*
 * Decodes string token i into out as UTF-8, NUL-terminated. Returns the
 * length, or -1 when it is not a string, does not fit in cap - 1, holds
 * \u0000 or a lone surrogate: all of which simply match nothing.
 */
static int
js_str(const struct js *j, int i, char *out, size_t cap)
{
	const char *s = j->s;
	size_t o = 0;

	if (i < 0 || tok[i].type != JSMN_STRING)
		return -1;
	for (int p = tok[i].start, end = tok[i].end; p < end;) {
		char c = s[p++];
		unsigned cp;
		if (c != '\\') {
			if (cap - o < 2)
				return -1;
			out[o++] = c;
			continue;
		}
		/* json_check saw a whole escape; the bounds are checked anyway. */
		if (p >= end)
			return -1;
		switch (s[p++]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (end - p < 4)
				return -1;
			cp = hex4(s + p);
			p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* RFC 8259 7: a pair of \u escapes for one code point above U+FFFF */
				if (end - p < 6 || s[p] != '\\' || s[p + 1] != 'u')
					return -1;
				unsigned lo = hex4(s + p + 2);
				if (lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			if (cp == 0)
				return -1;
			break;
		default: cp = (unsigned char)s[p - 1]; break; /* \" \\ \/ */
		}
		char u8[4];
		size_t n;
		if (cp < 0x80) {
			u8[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			u8[0] = (char)(0xc0 | cp >> 6);
			u8[1] = (char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			u8[0] = (char)(0xe0 | cp >> 12);
			u8[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			u8[2] = (char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			u8[0] = (char)(0xf0 | cp >> 18);
			u8[1] = (char)(0x80 | (cp >> 12 & 0x3f));
			u8[2] = (char)(0x80 | (cp >> 6 & 0x3f));
			u8[3] = (char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		if (cap - o < n + 1)
			return -1;
		memcpy(out + o, u8, n);
		o += n;
	}
	out[o] = '\0';
	return (int)o;
}

static bool
js_eq(const struct js *j, int i, const char *want)
{
	char buf[64];
	int n = js_str(j, i, buf, sizeof(buf));

	return n >= 0 && (size_t)n == strlen(want) && memcmp(buf, want, (size_t)n) == 0;
}

static bool
js_is(int i, jsmntype_t type)
{
	return i >= 0 && tok[i].type == type;
}

/* The value of the first member named key of object o, or -1: duplicate keys, first wins. */
static int
js_get(const struct js *j, int o, const char *key)
{
	if (!js_is(o, JSMN_OBJECT))
		return -1;
	for (int k = o + 1; k < j->n && tok[k].start < tok[o].end; k = js_skip(j, k + 1))
		if (js_eq(j, k, key))
			return k + 1;
	return -1;
}

/* ---- peers ---- */

/* A JSON number that is a port: "[1-9][0-9]{0,4}" up to 65535; 32767.0 or 3e4 are not. */
static int
js_port(const struct js *j, int i, uint16_t *port)
{
	unsigned v = 0;
	int len;

	if (!js_is(i, JSMN_PRIMITIVE))
		return -1;
	len = tok[i].end - tok[i].start;
	const char *s = j->s + tok[i].start;
	if (len < 1 || len > 5 || s[0] == '0')
		return -1;
	for (int k = 0; k < len; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[k] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* 0.1: {"address": IP literal or host name, "port": number (default_port when absent)}; plain ws. */
static int
peer_01(const struct js *j, int e, uint16_t default_port, struct url *u)
{
	char addr[URL_HOST_MAX + 2], text[URL_HOST_MAX + 16];
	uint16_t port = default_port;
	int a = js_get(j, e, "address"), p = js_get(j, e, "port");
	int n = js_str(j, a, addr, sizeof(addr));

	if (n <= 0 || (p >= 0 && js_port(j, p, &port) < 0) || port == 0)
		return -1;
	/*
	 * No scheme or path can sneak in: an address with ':' is bracketed (and
	 * must then be IPv6), and url_parse's bare form refuses a '/'.
	 */
	int v6 = addr[0] != '[' && strchr(addr, ':') != NULL;
	int len = snprintf(text, sizeof(text), "%s%s%s:%u", v6 ? "[" : "", addr, v6 ? "]" : "", (unsigned)port);
	if (len < 0 || (size_t)len >= sizeof(text))
		return -1;
	return url_parse(u, text, (size_t)len, default_port);
}

/* 1.1: a URL string. */
static int
peer_11(const struct js *j, int e, uint16_t default_port, struct url *u)
{
	char text[URL_STR_MAX + 16]; /* longer than any URL we accept: a bad entry */
	int n = js_str(j, e, text, sizeof(text));

	if (n <= 0)
		return -1;
	return url_parse(u, text, (size_t)n, default_port);
}

static void
peers_list(const struct js *j, int arr, enum peers_dialect d, uint16_t default_port, peers_fn *fn, void *ctx,
           struct peers_result *r)
{
	struct url u;

	for (int e = arr + 1; e < j->n && tok[e].start < tok[arr].end; e = js_skip(j, e)) {
		int rc = d == PEERS_D_01 ? peer_01(j, e, default_port, &u) : peer_11(j, e, default_port, &u);
		if (rc < 0) {
			r->bad++;
		} else if (r->peers >= PEERS_MAX_PER_ANSWER) { /* SPEC 5: at most 1000 peers from one answer */
			r->dropped++;
		} else {
			r->peers++;
			if (fn != NULL)
				fn(ctx, &u);
		}
	}
}

/* Reads body.peers (body being content or data) of a peers answer; MALFORMED unless both have their types. */
static enum peers_kind
peers_answer(const struct js *j, int body, enum peers_dialect d, uint16_t default_port, peers_fn *fn, void *ctx,
             struct peers_result *r)
{
	int arr = js_get(j, body, "peers");

	if (!js_is(arr, JSMN_ARRAY))
		return PEERS_K_MALFORMED;
	peers_list(j, arr, d, default_port, fn, ctx, r);
	return PEERS_K_PEERS;
}

static enum peers_kind
classify_01(const struct js *j, int ident, int type, int content, const char *ask_id, int ask_info,
            uint16_t default_port, peers_fn *fn, void *ctx, struct peers_result *r)
{
	/* 0.1 answers echo the identifier of our question (SPEC 5). */
	if (ask_id == NULL || !js_eq(j, ident, ask_id))
		return PEERS_K_OTHER;
	if (js_eq(j, type, "error"))
		return js_is(content, JSMN_OBJECT) ? PEERS_K_ERROR : PEERS_K_MALFORMED;
	if (!js_eq(j, type, "answer"))
		return PEERS_K_OTHER;
	if (!js_is(content, JSMN_OBJECT))
		return PEERS_K_MALFORMED;
	int ctype = js_get(j, content, "type");
	if (js_eq(j, ctype, "peers"))
		return peers_answer(j, content, PEERS_D_01, default_port, fn, ctx, r);
	if (ask_info && js_eq(j, ctype, "info"))
		return PEERS_K_INFO;
	return PEERS_K_OTHER;
}

static enum peers_kind
classify_11(const struct js *j, int type, int data, uint16_t default_port, peers_fn *fn, void *ctx,
            struct peers_result *r)
{
	/* 1.1 answers carry a fresh id: matched by type alone (SPEC 5). */
	if (js_eq(j, type, "response:peers")) {
		if (!js_is(data, JSMN_OBJECT))
			return PEERS_K_MALFORMED;
		return peers_answer(j, data, PEERS_D_11, default_port, fn, ctx, r);
	}
	if (js_eq(j, type, "error"))
		return js_is(data, JSMN_OBJECT) ? PEERS_K_ERROR : PEERS_K_MALFORMED;
	return PEERS_K_OTHER;
}

struct peers_result
peers_parse(const char *msg, size_t len, enum peers_dialect asked, const char *ask_id, int ask_info,
            uint16_t default_port, peers_fn *fn, void *ctx)
{
	struct peers_result r = { PEERS_K_MALFORMED, PEERS_D_UNKNOWN, 0, 0, 0 };
	struct js j = { msg, 0 };
	jsmn_parser p;
	long ntok;

	/* jsmn keeps offsets in int. */
	if (len > INT_MAX || (ntok = json_check(msg, len)) < 0)
		return r;
	jsmn_init(&p);
	/* Valid JSON: jsmn must agree on every token, or we trust none of them. */
	if (jsmn_parse(&p, msg, len, tok, PEERS_TOKENS_MAX) < 0 || (long)p.toknext != ntok || tok[0].type != JSMN_OBJECT)
		return r;
	j.n = (int)p.toknext;

	int type = js_get(&j, 0, "type");
	int ident = js_get(&j, 0, "identifier"), content = js_get(&j, 0, "content");
	int id = js_get(&j, 0, "id"), data = js_get(&j, 0, "data");
	bool is01 = js_is(ident, JSMN_STRING) && js_is(type, JSMN_STRING) && content >= 0;
	bool is11 = js_is(id, JSMN_STRING) && js_is(type, JSMN_STRING) && data >= 0;

	/* Both shapes at once: read it in the dialect we asked in. */
	if (is01 && is11) {
		if (asked == PEERS_D_11)
			is01 = false;
		else
			is11 = false;
	}
	r.kind = PEERS_K_OTHER;
	if (is01) {
		r.dialect = PEERS_D_01;
		if (asked == PEERS_D_01)
			r.kind = classify_01(&j, ident, type, content, ask_id, ask_info, default_port, fn, ctx, &r);
	} else if (is11) {
		r.dialect = PEERS_D_11;
		/*
		 * SPEC 5: a 1.1 reply to a 0.1 question means asking again in 1.1.
		 * Only a reply counts (an error, or peers): a 1.1 node's own
		 * questions and broadcasts before it are skipped like any other.
		 */
		if (asked == PEERS_D_11)
			r.kind = classify_11(&j, type, data, default_port, fn, ctx, &r);
		else if (asked == PEERS_D_01 && (js_eq(&j, type, "error") || js_eq(&j, type, "response:peers")))
			r.kind = PEERS_K_SHAPED_11;
	}
	return r;
}

const char *
peers_kind_name(enum peers_kind k)
{
	switch (k) {
	case PEERS_K_MALFORMED: return "malformed";
	case PEERS_K_OTHER: return "other";
	case PEERS_K_PEERS: return "peers";
	case PEERS_K_INFO: return "info";
	case PEERS_K_ERROR: return "error";
	case PEERS_K_SHAPED_11: return "shaped_11";
	}
	return "?";
}
