/*
 * bencode: a one-pass, non-recursive reader (an explicit stack of at most
 * BENC_DEPTH_MAX containers) and a fixed-buffer writer.
 */
#include <string.h>

#include "dht/bencode.h"

struct frame {
	uint32_t tok;
	bool is_dict, want_value;
	uint32_t key_off, key_len; /* the last key, for the order check */
	bool have_key;
};

const char *
benc_err_name(enum benc_err e)
{
	switch (e) {
	case BENC_OK: return "ok";
	case BENC_E_SHORT: return "truncated";
	case BENC_E_SYNTAX: return "syntax";
	case BENC_E_NUMBER: return "bad number";
	case BENC_E_KEY: return "non-string key";
	case BENC_E_ORDER: return "keys not sorted or duplicated";
	case BENC_E_DEPTH: return "too deep";
	case BENC_E_TOKENS: return "too many values";
	case BENC_E_TRAILING: return "trailing bytes";
	}
	return "?";
}

/* Decimal digits from p[*pos] up to the terminator; canonical only. */
static enum benc_err
read_decimal(const uint8_t *p, size_t len, size_t *pos, uint8_t term, bool sign_ok, int64_t *out)
{
	size_t i = *pos;
	bool neg = false;
	uint64_t v = 0, limit = (uint64_t)INT64_MAX;

	if (sign_ok && i < len && p[i] == '-') {
		neg = true;
		limit = (uint64_t)INT64_MAX + 1;
		i++;
	}
	size_t start = i;
	while (i < len && p[i] >= '0' && p[i] <= '9') {
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (limit - d) / 10)
			return BENC_E_NUMBER;
		v = v * 10 + d;
		i++;
	}
	if (i == len)
		return BENC_E_SHORT;
	if (p[i] != term)
		return i == start ? BENC_E_SYNTAX : BENC_E_NUMBER;
	size_t ndig = i - start;
	/* Canonical: at least one digit, no leading zero, no "-0". */
	if (ndig == 0 || (ndig > 1 && p[start] == '0') || (neg && v == 0))
		return BENC_E_NUMBER;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	*pos = i + 1;
	return BENC_OK;
}

static int
key_cmp(const uint8_t *p, uint32_t ao, uint32_t al, uint32_t bo, uint32_t bl)
{
	int c = memcmp(p + ao, p + bo, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

enum benc_err
benc_parse(const uint8_t *p, size_t len, struct benc_tok *tok, uint32_t max, uint32_t *ntok, size_t *err_off)
{
	struct frame st[BENC_DEPTH_MAX];
	int sd = 0;
	size_t pos = 0;
	uint32_t n = 0;
	enum benc_err e = BENC_OK;

	*ntok = 0;
	if (len > UINT32_MAX) {
		*err_off = 0;
		return BENC_E_SYNTAX;
	}
	for (;;) {
		if (pos == len) {
			e = BENC_E_SHORT;
			break;
		}
		struct frame *f = sd ? &st[sd - 1] : NULL;
		if (f && p[pos] == 'e') {
			if (f->is_dict && f->want_value) {
				e = BENC_E_SYNTAX; /* a key without its value */
				break;
			}
			pos++;
			tok[f->tok].len = (uint32_t)(pos - tok[f->tok].off);
			tok[f->tok].next = n;
			sd--;
			if (sd == 0)
				goto done;
			continue;
		}
		if (n == max) {
			e = BENC_E_TOKENS;
			break;
		}
		struct benc_tok *t = &tok[n];
		memset(t, 0, sizeof(*t));
		t->off = (uint32_t)pos;
		bool key = f && f->is_dict && !f->want_value;
		if (key && (p[pos] < '0' || p[pos] > '9')) {
			e = BENC_E_KEY;
			break;
		}
		if (p[pos] == 'i') {
			pos++;
			e = read_decimal(p, len, &pos, 'e', true, &t->i);
			if (e)
				break;
			t->type = BENC_INT;
			t->len = (uint32_t)(pos - t->off);
		} else if (p[pos] >= '0' && p[pos] <= '9') {
			int64_t sl;
			/* A length is canonical too: "0:" but never "01:". */
			e = read_decimal(p, len, &pos, ':', false, &sl);
			if (e)
				break;
			if ((uint64_t)sl > len - pos) {
				e = BENC_E_SHORT;
				break;
			}
			t->type = BENC_STR;
			t->off = (uint32_t)pos;
			t->len = (uint32_t)sl;
			pos += (size_t)sl;
			if (key) {
				/* Raw-byte order, strictly increasing: sorted and no duplicates. */
				if (f->have_key && key_cmp(p, f->key_off, f->key_len, t->off, t->len) >= 0) {
					e = BENC_E_ORDER;
					pos = t->off;
					break;
				}
				f->key_off = t->off;
				f->key_len = t->len;
				f->have_key = true;
			}
		} else if (p[pos] == 'l' || p[pos] == 'd') {
			if (sd == BENC_DEPTH_MAX) {
				e = BENC_E_DEPTH;
				break;
			}
			t->type = p[pos] == 'l' ? BENC_LIST : BENC_DICT;
			pos++;
		} else {
			e = BENC_E_SYNTAX;
			break;
		}
		n++;
		if (f) {
			if (!f->is_dict)
				tok[f->tok].count++;
			else if (f->want_value)
				tok[f->tok].count++;
			if (f->is_dict)
				f->want_value = !f->want_value;
		}
		if (t->type == BENC_LIST || t->type == BENC_DICT) {
			st[sd++] = (struct frame){ .tok = n - 1, .is_dict = t->type == BENC_DICT };
			continue;
		}
		t->next = n;
		if (sd == 0)
			goto done;
	}
	*err_off = pos;
	return e;
done:
	if (pos != len) {
		*err_off = pos;
		return BENC_E_TRAILING;
	}
	*ntok = n;
	return BENC_OK;
}

int
benc_dict_get(const uint8_t *p, const struct benc_tok *tok, uint32_t d, const char *key)
{
	size_t kl = strlen(key);
	uint32_t k = d + 1;

	if (tok[d].type != BENC_DICT)
		return -1;
	for (uint32_t i = 0; i < tok[d].count; i++) {
		uint32_t v = tok[k].next;
		if (tok[k].len == kl && memcmp(p + tok[k].off, key, kl) == 0)
			return (int)v;
		k = tok[v].next;
	}
	return -1;
}

int
benc_list_at(const struct benc_tok *tok, uint32_t l, uint32_t k)
{
	uint32_t i = l + 1;

	if (tok[l].type != BENC_LIST || k >= tok[l].count)
		return -1;
	while (k--)
		i = tok[i].next;
	return (int)i;
}

const uint8_t *
benc_str(const uint8_t *p, const struct benc_tok *tok, int t, size_t *len)
{
	if (t < 0 || tok[t].type != BENC_STR)
		return NULL;
	*len = tok[t].len;
	return p + tok[t].off;
}

bool
benc_int(const struct benc_tok *tok, int t, int64_t *v)
{
	if (t < 0 || tok[t].type != BENC_INT)
		return false;
	*v = tok[t].i;
	return true;
}

/* --- writer --------------------------------------------------------------- */

void
benc_w_init(struct benc_w *w, uint8_t *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

size_t
benc_w_mark(const struct benc_w *w)
{
	return w->len;
}

void
benc_w_rollback(struct benc_w *w, size_t mark)
{
	if (mark <= w->len) {
		w->len = mark;
		w->err = 0;
	}
}

static void
put(struct benc_w *w, const void *s, size_t n)
{
	if (w->err || w->cap - w->len < n) {
		w->err = 1;
		return;
	}
	/* An empty string may come as (NULL, 0): memcpy must not see NULL. */
	if (n)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
put_dec(struct benc_w *w, uint64_t v)
{
	char buf[24];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, buf + i, sizeof(buf) - i);
}

void
benc_w_str(struct benc_w *w, const void *s, size_t n)
{
	size_t mark = w->len;

	put_dec(w, n);
	put(w, ":", 1);
	put(w, s, n);
	/* All or nothing. */
	if (w->err)
		w->len = mark;
}

void
benc_w_cstr(struct benc_w *w, const char *s)
{
	benc_w_str(w, s, strlen(s));
}

void
benc_w_int(struct benc_w *w, int64_t v)
{
	size_t mark = w->len;

	put(w, "i", 1);
	if (v < 0) {
		put(w, "-", 1);
		put_dec(w, (uint64_t)0 - (uint64_t)v);
	} else {
		put_dec(w, (uint64_t)v);
	}
	put(w, "e", 1);
	if (w->err)
		w->len = mark;
}

void
benc_w_dict(struct benc_w *w)
{
	put(w, "d", 1);
}

void
benc_w_list(struct benc_w *w)
{
	put(w, "l", 1);
}

void
benc_w_end(struct benc_w *w)
{
	put(w, "e", 1);
}
