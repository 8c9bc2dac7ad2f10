#include "base/csv.h"

#include <string.h>

void
csv_init(struct csv *c, const char *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
	c->line = 0;
}

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int
csv_next(struct csv *c, char buf[CSV_LINE_MAX], char *fields[CSV_FIELDS_MAX])
{
	while (c->off < c->len) {
		const char *start = c->p + c->off;
		const char *nl = memchr(start, '\n', c->len - c->off);
		size_t n = nl ? (size_t)(nl - start) : c->len - c->off;

		c->off += n + (nl ? 1 : 0);
		c->line++;
		if (n >= CSV_LINE_MAX)
			return -1;
		memcpy(buf, start, n);
		buf[n] = '\0';
		if (*trim(buf) == '\0')
			continue; /* blank line */

		int nf = 0;
		char *s = buf;
		for (;;) {
			char *comma = strchr(s, ',');
			if (nf == CSV_FIELDS_MAX)
				return -1;
			if (comma)
				*comma = '\0';
			fields[nf++] = trim(s);
			if (!comma)
				break;
			s = comma + 1;
		}
		return nf;
	}
	return 0;
}

void
csv_skip_line(struct csv *c, size_t n)
{
	c->off += n;
	c->line++;
}
