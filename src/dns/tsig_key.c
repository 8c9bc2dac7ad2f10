#include "dns/tsig_key.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

_Static_assert(TSIG_SECRET_MAX == 256, "b64_decode's message says 256");

enum tok { T_EOF, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_SEMI, T_ERR };

struct lex {
	const char *p;
	size_t len, off;
	int line;
	char *err;
	size_t errlen;
};

struct token {
	enum tok t;
	const char *s; /* a word or the inside of a string */
	size_t n;
	int line;
};

static void
lex_fail(struct lex *lx, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (lx->errlen == 0)
		return;
	n = snprintf(lx->err, lx->errlen, "line %d: ", line);
	if (n < 0 || (size_t)n >= lx->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Whitespace and comments up to the next token; -1 on an unterminated comment. */
static int
lex_skip(struct lex *lx)
{
	while (lx->off < lx->len) {
		char c = lx->p[lx->off];
		size_t rest = lx->len - lx->off;
		if (is_space(c)) {
			if (c == '\n')
				lx->line++;
			lx->off++;
		} else if (c == '#' || (c == '/' && rest >= 2 && lx->p[lx->off + 1] == '/')) {
			while (lx->off < lx->len && lx->p[lx->off] != '\n')
				lx->off++;
		} else if (c == '/' && rest >= 2 && lx->p[lx->off + 1] == '*') {
			int start = lx->line;
			lx->off += 2;
			for (;;) {
				if (lx->len - lx->off < 2) {
					lex_fail(lx, start, "unterminated comment");
					return -1;
				}
				if (lx->p[lx->off] == '*' && lx->p[lx->off + 1] == '/')
					break;
				if (lx->p[lx->off] == '\n')
					lx->line++;
				lx->off++;
			}
			lx->off += 2;
		} else {
			break;
		}
	}
	return 0;
}

/* A word runs to whitespace or punctuation; comments start only between tokens. */
static bool
word_char(char c)
{
	return c > ' ' && c < 0x7f && c != '{' && c != '}' && c != ';' && c != '"';
}

static struct token
lex_next(struct lex *lx)
{
	struct token tk = { T_ERR, NULL, 0, 0 };

	if (lex_skip(lx) < 0)
		return tk;
	tk.line = lx->line;
	if (lx->off == lx->len) {
		tk.t = T_EOF;
		return tk;
	}
	char c = lx->p[lx->off];
	if (c == '{' || c == '}' || c == ';') {
		tk.t = c == '{' ? T_LBRACE : c == '}' ? T_RBRACE : T_SEMI;
		lx->off++;
		return tk;
	}
	if (c == '"') {
		size_t i = ++lx->off;
		while (i < lx->len && lx->p[i] != '"') {
			if (lx->p[i] == '\0') {
				lex_fail(lx, lx->line, "NUL byte in a string");
				return tk;
			}
			if (lx->p[i] == '\n')
				lx->line++;
			i++;
		}
		if (i == lx->len) {
			lex_fail(lx, tk.line, "unterminated string");
			return tk;
		}
		tk.t = T_STRING;
		tk.s = lx->p + lx->off;
		tk.n = i - lx->off;
		lx->off = i + 1;
		return tk;
	}
	if (!word_char(c)) {
		lex_fail(lx, tk.line, "unexpected byte 0x%02x", (unsigned char)c);
		return tk;
	}
	tk.t = T_WORD;
	tk.s = lx->p + lx->off;
	while (lx->off < lx->len && word_char(lx->p[lx->off]))
		lx->off++;
	tk.n = (size_t)(lx->p + lx->off - tk.s);
	return tk;
}

static bool
tok_is(const struct token *tk, const char *kw)
{
	size_t n = strlen(kw);

	if (tk->t != T_WORD || tk->n != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = tk->s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != kw[i])
			return false;
	}
	return true;
}

/* A token as the error message shows it: printable, at most 40 bytes. */
static const char *
tok_show(const struct token *tk, char out[48])
{
	switch (tk->t) {
	case T_EOF:
		return "end of file";
	case T_LBRACE:
		return "'{'";
	case T_RBRACE:
		return "'}'";
	case T_SEMI:
		return "';'";
	default:
		break;
	}
	size_t o = 0, n = tk->n < 40 ? tk->n : 40;
	out[o++] = tk->t == T_STRING ? '"' : '\'';
	for (size_t i = 0; i < n; i++)
		out[o++] = (tk->s[i] >= ' ' && tk->s[i] < 0x7f) ? tk->s[i] : '?';
	if (n < tk->n)
		for (int i = 0; i < 3; i++)
			out[o++] = '.';
	out[o++] = tk->t == T_STRING ? '"' : '\'';
	out[o] = '\0';
	return out;
}

static int
b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * RFC 4648 4 base64, strict: groups of 4, '=' only as the last one or two
 * symbols of the last group, unused bits zero. Whitespace between symbols
 * is skipped (named.conf secrets may be split). NULL or what is wrong.
 */
static const char *
b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen, char bad[24])
{
	int q[4];
	size_t nq = 0, o = 0;
	bool ended = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (is_space(c))
			continue;
		if (ended)
			return "bad base64 padding (data after '=')";
		if (c == '=') {
			q[nq++] = -1;
		} else {
			int v = b64_val(c);
			if (v < 0) {
				if (c > ' ' && c < 0x7f)
					snprintf(bad, 24, "'%c'", c);
				else
					snprintf(bad, 24, "0x%02x", (unsigned char)c);
				return "bad base64 character";
			}
			if (nq > 0 && q[nq - 1] < 0)
				return "bad base64 padding (data after '=')";
			q[nq++] = v;
		}
		if (nq < 4)
			continue;
		nq = 0;
		int pad = (q[3] < 0) + (q[2] < 0);
		if (q[0] < 0 || q[1] < 0)
			return "bad base64 padding";
		if (cap - o < (size_t)(3 - pad))
			return "secret too long (over 256 bytes)";
		uint32_t v = (uint32_t)q[0] << 18 | (uint32_t)q[1] << 12 |
		             (uint32_t)(pad == 2 ? 0 : q[2]) << 6 | (uint32_t)(pad ? 0 : q[3]);
		/* Unused bits must be zero, or two texts would give one key. */
		if ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff)))
			return "bad base64 padding (stray bits)";
		out[o++] = (uint8_t)(v >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(v >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)v;
		ended = pad > 0;
	}
	if (nq != 0)
		return "bad base64 padding (length not a multiple of 4)";
	*outlen = o;
	return NULL;
}

/* After "key": NAME { algorithm ALG; secret "B64"; }; */
static int
parse_key(struct lex *lx, struct tsig_key *k)
{
	char show[48], text[DNAME_TEXT_MAX];
	struct token tk = lex_next(lx);
	bool have_alg = false, have_secret = false;

	if (tk.t == T_ERR)
		return -1;
	if (tk.t != T_WORD && tk.t != T_STRING) {
		lex_fail(lx, tk.line, "expected a key name, found %s", tok_show(&tk, show));
		return -1;
	}
	if (tk.n == 0 || tk.n >= sizeof(text) || memchr(tk.s, '\0', tk.n) != NULL) {
		lex_fail(lx, tk.line, "bad key name %s", tok_show(&tk, show));
		return -1;
	}
	memcpy(text, tk.s, tk.n);
	text[tk.n] = '\0';
	if (dname_from_text(k->name, text) < 0 || k->name[0] == 0) {
		lex_fail(lx, tk.line, "bad key name %s", tok_show(&tk, show));
		return -1;
	}
	tk = lex_next(lx);
	if (tk.t != T_LBRACE) {
		if (tk.t != T_ERR)
			lex_fail(lx, tk.line, "expected '{' after the key name, found %s", tok_show(&tk, show));
		return -1;
	}
	for (;;) {
		tk = lex_next(lx);
		if (tk.t == T_ERR)
			return -1;
		if (tk.t == T_RBRACE)
			break;
		if (tk.t == T_EOF) {
			lex_fail(lx, tk.line, "unterminated key: end of file before '}'");
			return -1;
		}
		bool alg = tok_is(&tk, "algorithm"), secret = tok_is(&tk, "secret");
		if (!alg && !secret) {
			lex_fail(lx, tk.line, "unknown key option %s (expected algorithm or secret)",
			         tok_show(&tk, show));
			return -1;
		}
		if ((alg && have_alg) || (secret && have_secret)) {
			lex_fail(lx, tk.line, "duplicate %s", alg ? "algorithm" : "secret");
			return -1;
		}
		struct token v = lex_next(lx);
		if (v.t == T_ERR)
			return -1;
		if (v.t != T_WORD && v.t != T_STRING) {
			lex_fail(lx, v.line, "expected a value after %s, found %s",
			         alg ? "algorithm" : "secret", tok_show(&v, show));
			return -1;
		}
		if (alg) {
			struct token w = v;
			w.t = T_WORD; /* quoted or not, compared the same */
			if (!tok_is(&w, "hmac-sha256")) {
				lex_fail(lx, v.line, "algorithm %s is not supported (only hmac-sha256)",
				         tok_show(&v, show));
				return -1;
			}
			have_alg = true;
		} else {
			char bad[24] = "";
			const char *why = b64_decode(v.s, v.n, k->secret, sizeof(k->secret), &k->secret_len, bad);
			if (why == NULL && k->secret_len == 0)
				why = "secret is empty";
			if (why != NULL) {
				lex_fail(lx, v.line, "secret: %s%s%s", why, bad[0] ? " " : "", bad);
				return -1;
			}
			have_secret = true;
		}
		tk = lex_next(lx);
		if (tk.t != T_SEMI) {
			if (tk.t != T_ERR)
				lex_fail(lx, tk.line, "expected ';' after the %s, found %s",
				         alg ? "algorithm" : "secret", tok_show(&tk, show));
			return -1;
		}
	}
	if (!have_alg || !have_secret) {
		lex_fail(lx, tk.line, "key has no %s", have_alg ? "secret" : "algorithm");
		return -1;
	}
	tk = lex_next(lx);
	if (tk.t != T_SEMI) {
		if (tk.t != T_ERR)
			lex_fail(lx, tk.line, "expected ';' after '}', found %s", tok_show(&tk, show));
		return -1;
	}
	return 0;
}

int
tsig_key_parse(struct tsig_key *k, const char *text, size_t len, char *err, size_t errlen)
{
	struct lex lx = { text, len, 0, 1, err, errlen };
	char show[48];
	int nkeys = 0;

	if (errlen > 0)
		err[0] = '\0';
	memset(k, 0, sizeof(*k));
	for (;;) {
		struct token tk = lex_next(&lx);
		if (tk.t == T_ERR)
			goto fail;
		if (tk.t == T_EOF)
			break;
		if (!tok_is(&tk, "key")) {
			lex_fail(&lx, tk.line, "expected 'key', found %s", tok_show(&tk, show));
			goto fail;
		}
		if (nkeys > 0) {
			lex_fail(&lx, tk.line, "a second key (the file must hold exactly one)");
			goto fail;
		}
		if (parse_key(&lx, k) < 0)
			goto fail;
		nkeys++;
	}
	if (nkeys == 0) {
		lex_fail(&lx, lx.line, "no key in the file");
		goto fail;
	}
	k->mac_min = TSIG_MAC_MIN;
	return 0;
fail:
	/* No half-parsed secret left behind. */
	memset(k, 0, sizeof(*k));
	return -1;
}
