/*
 * sbuf: a growing text buffer for the files and pages we format (zone.csv,
 * /metrics). Start it with sb_init; a failed allocation sticks in err and
 * later writes do nothing, so callers check once at the end.
 */
#ifndef SEEDD_SBUF_H
#define SEEDD_SBUF_H

#include <stddef.h>

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

/* cap bytes to start with (err set when that fails). */
void sb_init(struct sbuf *b, size_t cap);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Room for n more bytes at b->p + b->len (NULL, and err set, when memory runs out). */
char *sb_room(struct sbuf *b, size_t n);

#endif
