#include "dns/dname.h"

#include <stdio.h>
#include <string.h>

static bool
label_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
dname_from_text(uint8_t out[DNAME_MAX], const char *s)
{
	size_t o = 0;

	if (s[0] == '.' && s[1] == '\0')
		s++;
	while (*s != '\0') {
		size_t n = 0;
		while (s[n] != '\0' && s[n] != '.')
			n++;
		if (n == 0 || n > DNAME_LABEL_MAX)
			return -1;
		if (o + 1 + n + 1 > DNAME_MAX)
			return -1;
		out[o++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (!label_char_ok(c))
				return -1;
			out[o++] = (uint8_t)((c >= 'A' && c <= 'Z') ? c + 32 : c);
		}
		s += n;
		if (*s == '.')
			s++;
	}
	out[o++] = 0;
	return (int)o;
}

void
dname_to_text(const uint8_t *name, char *out, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return;
	if (*name == 0) {
		snprintf(out, len, ".");
		return;
	}
	while (*name != 0) {
		size_t n = *name++;
		if (o != 0 && o + 1 < len)
			out[o++] = '.';
		for (size_t i = 0; i < n; i++) {
			unsigned char c = name[i];
			if (label_char_ok(c)) {
				if (o + 1 < len)
					out[o++] = (char)c;
			} else if (o + 4 < len) {
				snprintf(out + o, len - o, "\\%03u", c);
				o += 4;
			}
		}
		name += n;
	}
	out[o] = '\0';
}

size_t
dname_len(const uint8_t *name)
{
	size_t n = 0;

	while (name[n] != 0)
		n += (size_t)name[n] + 1;
	return n + 1;
}

int
dname_labels(const uint8_t *name)
{
	int n = 0;

	for (; *name != 0; name += *name + 1)
		n++;
	return n;
}

bool
dname_in_zone(const uint8_t *name, const uint8_t *apex)
{
	size_t nl = dname_len(name), al = dname_len(apex);

	/* Walk label by label so a match always starts on a label boundary. */
	while (nl > al) {
		nl -= (size_t)*name + 1;
		name += *name + 1;
	}
	return nl == al && memcmp(name, apex, al) == 0;
}

const uint8_t *
dname_parent(const uint8_t *name)
{
	return *name == 0 ? name : name + *name + 1;
}

void
dname_lower(uint8_t *name)
{
	while (*name != 0) {
		size_t n = *name++;
		for (size_t i = 0; i < n; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				name[i] = (uint8_t)(name[i] + 32);
		name += n;
	}
}
