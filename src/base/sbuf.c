#include "base/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void
sb_init(struct sbuf *b, size_t cap)
{
	b->p = malloc(cap);
	b->len = 0;
	b->cap = b->p ? cap : 0;
	b->err = b->p == NULL;
}

char *
sb_room(struct sbuf *b, size_t n)
{
	if (b->err)
		return NULL;
	if (b->cap - b->len <= n) {
		size_t ncap = b->cap * 2 + n;
		char *np = realloc(b->p, ncap);
		if (np == NULL) {
			b->err = 1;
			return NULL;
		}
		b->p = np;
		b->cap = ncap;
	}
	return b->p + b->len;
}

void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap * 2 + (size_t)n;
		char *np = realloc(b->p, ncap);
		if (np == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}
