#include "base/csv.h"

#include <stdbool.h>
#include <string.h>

void
csv_init(struct csv *c, const char *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
	c->line = 0;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
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
		/* One pass, ends known: no strlen or strchr per field (100,000-row files). */
		char *s = buf, *e = buf + n;
		while (s < e && blank(*s))
			s++;
		while (e > s && (blank(e[-1]) || e[-1] == '\r'))
			e--;
		if (s == e)
			continue; /* blank line */
		*e = '\0';
		int nf = 0;
		for (;;) {
			char *comma = s;
			while (comma < e && *comma != ',')
				comma++; /* fields are short: a loop beats a call */
			char *fe = comma;
			if (comma == e)
				comma = NULL;
			if (nf == CSV_FIELDS_MAX)
				return -1;
			while (s < fe && blank(*s))
				s++;
			while (fe > s && (blank(fe[-1]) || fe[-1] == '\r'))
				fe--;
			*fe = '\0';
			fields[nf++] = s;
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
