#include "base/url.h"

#include <stdio.h>
#include <string.h>

#include "base/addr.h"

#define URL_LABEL_MAX 63
#define URL_NAME_MAX 253 /* RFC 1035 2.3.4: 255 on the wire, 253 as text */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
prefix_ci(const char *s, size_t len, const char *pfx)
{
	size_t n = strlen(pfx);

	if (len < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != pfx[i])
			return 0;
	return 1;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "[1-9][0-9]{0,4}" up to 65535: no sign, no leading zero, no junk. */
static int
parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * A label that resolvers and browsers would take for a number: all digits,
 * or "0x" and hex digits (WHATWG URL "ends in a number"). A name whose last
 * label is one is an IPv4 literal we did not accept, never a host name.
 */
static int
label_numeric(const char *s, size_t len)
{
	size_t i = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < len; i++)
			if (!is_hex((unsigned char)s[i]))
				return 0;
		return 1;
	}
	for (; i < len; i++)
		if (!is_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * RFC 1123 2.1 LDH labels plus '_' (seen in real names, harmless to our
 * resolver); no label starts or ends with '-'. Writes the lowercase name
 * without its trailing dot.
 */
static int
parse_name(struct url *u, const char *s, size_t len)
{
	size_t start = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > URL_NAME_MAX)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t n = i - start;
			if (n == 0 || n > URL_LABEL_MAX || s[start] == '-' || s[i - 1] == '-')
				return -1;
			if (i == len && label_numeric(s + start, n))
				return -1;
			u->host[i] = '.';
			start = i + 1;
			continue;
		}
		int c = (unsigned char)s[i];
		if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
			return -1;
		u->host[i] = (char)lower(c);
	}
	u->host[len] = '\0';
	return 0;
}

/* An address literal, written back in inet_ntop's form so equal addresses compare equal. */
static int
parse_ip(struct url *u, const char *s, size_t len, int family)
{
	char buf[64];
	struct addr a;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (addr_parse_ip(&a, buf) < 0 || a.family != family)
		return -1;
	addr_ip_str(&a, u->host, sizeof(u->host));
	u->is_ip = true;
	return 0;
}

int
url_parse(struct url *u, const char *s, size_t len, uint16_t default_port)
{
	size_t off = 0, end, hend;
	int scheme = 0;

	/* Zeroed whole, so two parses of one URL are equal byte for byte. */
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		/* Spaces, controls, NUL, non-ASCII; '#' starts a fragment, never sent on the wire. */
		if (c <= ' ' || c >= 0x7f || c == '#')
			goto bad;
	}
	if (prefix_ci(s, len, "ws://")) {
		off = 5;
		scheme = 1;
	} else if (prefix_ci(s, len, "wss://")) {
		off = 6;
		scheme = 1;
		u->tls = true;
	}

	/* RFC 3986 3.2: the authority ends at the first '/' or '?'. */
	for (end = off; end < len && s[end] != '/' && s[end] != '?'; end++)
		if (s[end] == '@') /* userinfo: never ours to send */
			goto bad;
	if (!scheme && end != len) /* the bare form is host[:port] only */
		goto bad;

	if (end > off && s[off] == '[') {
		const char *close = memchr(s + off, ']', end - off);
		if (close == NULL)
			goto bad;
		hend = (size_t)(close - s);
		if (parse_ip(u, s + off + 1, hend - off - 1, AF_INET6) < 0)
			goto bad;
		hend++;
	} else {
		for (hend = off; hend < end && s[hend] != ':'; hend++)
			;
		if (hend == off)
			goto bad;
		/* A valid IPv4 literal first: "1.2.3.4." is no name either (numeric last label). */
		if (parse_ip(u, s + off, hend - off, AF_INET) < 0 && parse_name(u, s + off, hend - off) < 0)
			goto bad;
	}

	u->port = default_port;
	if (hend < end) {
		if (s[hend] != ':' || parse_port(s + hend + 1, end - hend - 1, &u->port) < 0)
			goto bad;
	}
	if (u->port == 0)
		goto bad;

	/* Default path "/"; "ws://h?q" means "ws://h/?q" (RFC 3986 6.2.3). */
	size_t plen = len - end, o = 0;
	if (plen == 0 || s[end] == '?')
		u->path[o++] = '/';
	if (o + plen >= sizeof(u->path))
		goto bad;
	memcpy(u->path + o, s + end, plen);
	u->path[o + plen] = '\0';
	return 0;
bad:
	memset(u, 0, sizeof(*u));
	return -1;
}

size_t
url_format(const struct url *u, char *out, size_t cap)
{
	int v6 = u->is_ip && strchr(u->host, ':') != NULL;
	int n = snprintf(out, cap, "%s://%s%s%s:%u%s", u->tls ? "wss" : "ws", v6 ? "[" : "", u->host,
	                 v6 ? "]" : "", (unsigned)u->port, u->path);

	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	return (size_t)n;
}
