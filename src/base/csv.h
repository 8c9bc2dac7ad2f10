/*
 * csv: the comma-separated lines of our data files (SPEC 3): no quoting,
 * "\n" line ends ("\r\n" tolerated), blank lines skipped, fields trimmed of
 * spaces and tabs. Works on an in-memory buffer; nothing here does I/O.
 */
#ifndef SEEDD_CSV_H
#define SEEDD_CSV_H

#include <stddef.h>

#define CSV_LINE_MAX 4096
#define CSV_FIELDS_MAX 48

struct csv {
	const char *p;
	size_t len, off;
	unsigned line; /* 1-based number of the line last returned */
};

void csv_init(struct csv *c, const char *p, size_t len);
/*
 * The next non-blank line, split into at most CSV_FIELDS_MAX fields that
 * point into buf. Returns the field count, 0 at the end of the buffer, or
 * -1 for a line longer than CSV_LINE_MAX or holding too many fields (the
 * line is consumed; c->line names it).
 */
int csv_next(struct csv *c, char buf[CSV_LINE_MAX], char *fields[CSV_FIELDS_MAX]);
/*
 * For a caller that read the next line itself, straight from p + off (a
 * fast path for its commonest row): consume its n bytes, "\n" included.
 */
void csv_skip_line(struct csv *c, size_t n);

#endif
