#include <string.h>

#include "kanswer.h"

#define DEPTHMAX 16 /* nesting we follow in an answer */

struct rd {
	const uint8_t *p;
	size_t len, off;
	int err;
};

static void
rd_str(struct rd *r, const uint8_t **s, size_t *n)
{
	size_t v = 0, digits = 0;

	if (r->err)
		return;
	while (r->len - r->off > 0 && r->p[r->off] >= '0' && r->p[r->off] <= '9') {
		v = v * 10 + (size_t)(r->p[r->off++] - '0');
		if (++digits > 6) {
			r->err = 1;
			return;
		}
	}
	if (digits == 0 || r->len - r->off < 1 || r->p[r->off] != ':') {
		r->err = 1;
		return;
	}
	r->off++;
	if (r->len - r->off < v) {
		r->err = 1;
		return;
	}
	*s = r->p + r->off;
	*n = v;
	r->off += v;
}

static long long
rd_int(struct rd *r)
{
	long long v = 0;
	int neg = 0, digits = 0;

	if (r->err || r->len - r->off < 1 || r->p[r->off] != 'i') {
		r->err = 1;
		return 0;
	}
	r->off++;
	if (r->len - r->off > 0 && r->p[r->off] == '-') {
		neg = 1;
		r->off++;
	}
	while (r->len - r->off > 0 && r->p[r->off] >= '0' && r->p[r->off] <= '9') {
		v = v * 10 + (r->p[r->off++] - '0');
		if (++digits > 15) {
			r->err = 1;
			return 0;
		}
	}
	if (digits == 0 || r->len - r->off < 1 || r->p[r->off] != 'e') {
		r->err = 1;
		return 0;
	}
	r->off++;
	return neg ? -v : v;
}

static void
rd_skip(struct rd *r, int depth)
{
	const uint8_t *s;
	size_t n;

	if (r->err || depth > DEPTHMAX || r->len - r->off < 1) {
		r->err = 1;
		return;
	}
	switch (r->p[r->off]) {
	case 'i':
		rd_int(r);
		return;
	case 'l':
	case 'd': {
		int dict = r->p[r->off] == 'd';

		r->off++;
		while (!r->err && r->len - r->off > 0 && r->p[r->off] != 'e') {
			if (dict)
				rd_str(r, &s, &n);
			rd_skip(r, depth + 1);
		}
		if (!r->err && r->len - r->off < 1)
			r->err = 1;
		if (!r->err)
			r->off++;
		return;
	}
	default:
		rd_str(r, &s, &n);
	}
}

static int
key_is(const uint8_t *k, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(k, want, n) == 0;
}



int
parse_answer(const uint8_t *p, size_t len, struct answer *a)
{
	struct rd r = { p, len, 0, 0 };
	const uint8_t *k;
	size_t kn;

	memset(a, 0, sizeof *a);
	if (len < 1 || p[0] != 'd')
		return -1;
	r.off = 1;
	while (!r.err && r.len - r.off > 0 && p[r.off] != 'e') {
		rd_str(&r, &k, &kn);
		if (r.err)
			break;
		if (key_is(k, kn, "t") && p[r.off] != 'd' && p[r.off] != 'l' && p[r.off] != 'i') {
			rd_str(&r, &a->t, &a->tlen);
		} else if (key_is(k, kn, "y") && p[r.off] >= '0' && p[r.off] <= '9') {
			rd_str(&r, &a->y, &a->ylen);
		} else if (key_is(k, kn, "r") && p[r.off] == 'd') {
			r.off++;
			while (!r.err && r.len - r.off > 0 && p[r.off] != 'e') {
				rd_str(&r, &k, &kn);
				if (!r.err && key_is(k, kn, "token") && p[r.off] >= '0' && p[r.off] <= '9')
					rd_str(&r, &a->token, &a->toklen);
				else
					rd_skip(&r, 1);
			}
			if (!r.err && r.len - r.off < 1)
				r.err = 1;
			if (!r.err)
				r.off++;
		} else if (key_is(k, kn, "e") && p[r.off] == 'l') {
			r.off++;
			if (r.len - r.off > 0 && p[r.off] == 'i')
				a->code = rd_int(&r);
			while (!r.err && r.len - r.off > 0 && p[r.off] != 'e')
				rd_skip(&r, 1);
			if (!r.err && r.len - r.off < 1)
				r.err = 1;
			if (!r.err)
				r.off++;
		} else {
			rd_skip(&r, 1);
		}
	}
	if (r.err || r.len - r.off != 1)
		return -1;
	return 0;
}

