#include "base/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
addr_parse_ip(struct addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	/*
	 * Dotted quads as they are written (no leading zeros) by hand: files
	 * read 100,000 of them. Anything else is inet_pton's to judge.
	 */
	const char *p = s;
	int part = 0;
	for (; part < 4; part++) {
		unsigned v = 0, nd = 0;
		while (*p >= '0' && *p <= '9' && nd < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			nd++;
		}
		if (nd == 0 || nd > 3 || v > 255 || (nd > 1 && p[-(int)nd] == '0'))
			break;
		a->ip[part] = (uint8_t)v;
		if (part < 3 && *p++ != '.')
			break;
	}
	if (part == 4 && *p == '\0') {
		a->family = AF_INET;
		return 0;
	}
	memset(a->ip, 0, sizeof(a->ip));
	if (inet_pton(AF_INET, s, a->ip) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->ip) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
addr_parse_hostport(struct addr *a, const char *s, uint16_t default_port)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port = NULL;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return -1;
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -1;
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		} else {
			hlen = strlen(s); /* no colon, or a bare IPv6 literal */
		}
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (addr_parse_ip(a, host) < 0)
		return -1;
	a->port = default_port;
	if (port != NULL && parse_port(port, &a->port) < 0)
		return -1;
	return 0;
}

void
addr_ip_str(const struct addr *a, char *out, size_t len)
{
	/* IPv4 by hand: inet_ntop is printf underneath, and files write 100,000 of these. */
	if (a->family == AF_INET && len >= INET_ADDRSTRLEN) {
		char *p = out;
		for (int i = 0; i < 4; i++) {
			unsigned v = a->ip[i];
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return;
	}
	if (inet_ntop(a->family, a->ip, out, (socklen_t)len) == NULL && len > 0)
		out[0] = '\0';
}

void
addr_str(const struct addr *a, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	addr_ip_str(a, ip, sizeof(ip));
	if (a->family == AF_INET6)
		snprintf(out, len, "[%s]:%u", ip, a->port);
	else
		snprintf(out, len, "%s:%u", ip, a->port);
}

socklen_t
addr_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->ip, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a->port);
	memcpy(&sin6->sin6_addr, a->ip, 16);
	return sizeof(*sin6);
}

bool
addr_from_sockaddr(struct addr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->family = AF_INET;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->family = AF_INET6;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

size_t
addr_len(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

bool
addr_is_any(const struct addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->ip, zero, addr_len(a)) == 0;
}

int
addr_parse_net(struct addr_net *n, const char *s)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t il = slash ? (size_t)(slash - s) : strlen(s);

	if (il == 0 || il >= sizeof(ip))
		return -1;
	memcpy(ip, s, il);
	ip[il] = '\0';
	if (addr_parse_ip(&n->a, ip) < 0)
		return -1;
	unsigned max = n->a.family == AF_INET ? 32 : 128, bits = max;
	if (slash) {
		const char *p = slash + 1;
		bits = 0;
		if (*p < '0' || *p > '9' || strlen(p) > 3)
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max)
			return -1;
	}
	n->bits = (uint8_t)bits;
	/* Host bits cleared: 10.1.2.3/8 means 10/8. */
	for (unsigned i = bits; i < max; i++)
		n->a.ip[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return 0;
}

bool
addr_net_has(const struct addr_net *n, const uint8_t *ip, size_t iplen)
{
	if (iplen != addr_len(&n->a))
		return false;
	unsigned full = n->bits / 8u, rest = n->bits % 8u;
	if (memcmp(ip, n->a.ip, full) != 0)
		return false;
	return rest == 0 || ((ip[full] ^ n->a.ip[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool
addr_is_unusable(const struct addr *a)
{
	const uint8_t *p = a->ip;

	if (addr_is_any(a))
		return true;
	if (a->family == AF_INET)
		return p[0] >= 224; /* multicast, class E, broadcast */
	return p[0] == 0xff;        /* multicast */
}

struct range {
	uint8_t net[16];
	unsigned bits;
};

static bool
in_range(const uint8_t *ip, const struct range *r)
{
	unsigned full = r->bits / 8, rest = r->bits % 8;

	if (memcmp(ip, r->net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (ip[full] & mask) == (r->net[full] & mask);
}

/* IANA special-purpose registries (RFC 6890 and successors). */
static const struct range v4_special[] = {
	{ { 0 }, 8 },                   /* this network */
	{ { 10 }, 8 },                  /* RFC 1918 */
	{ { 100, 64 }, 10 },            /* CGNAT, RFC 6598 */
	{ { 127 }, 8 },                 /* loopback */
	{ { 169, 254 }, 16 },           /* link-local */
	{ { 172, 16 }, 12 },            /* RFC 1918 */
	{ { 192, 0, 0 }, 24 },          /* IETF protocol assignments */
	{ { 192, 0, 2 }, 24 },          /* TEST-NET-1 */
	{ { 192, 88, 99 }, 24 },        /* 6to4 relay anycast */
	{ { 192, 168 }, 16 },           /* RFC 1918 */
	{ { 198, 18 }, 15 },            /* benchmarking, RFC 2544 */
	{ { 198, 51, 100 }, 24 },       /* TEST-NET-2 */
	{ { 203, 0, 113 }, 24 },        /* TEST-NET-3 */
	{ { 224 }, 3 },                 /* multicast, reserved, broadcast */
};

static const struct range v6_special[] = {
	{ { 0 }, 8 },                               /* ::, ::1, v4-mapped, v4-compat */
	{ { 0x00, 0x64, 0xff, 0x9b, 0, 1 }, 48 },   /* local-use NAT64 */
	{ { 0x01, 0x00 }, 64 },                     /* discard-only */
	{ { 0x20, 0x01, 0x00 }, 23 },               /* IETF protocol assignments */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },         /* documentation */
	{ { 0x20, 0x02 }, 16 },                     /* 6to4 */
	{ { 0x3f, 0xff }, 20 },                     /* documentation, RFC 9637 */
	{ { 0xfc }, 7 },                            /* ULA */
	{ { 0xfe, 0x80 }, 10 },                     /* link-local */
	{ { 0xfe, 0xc0 }, 10 },                     /* site-local (deprecated) */
	{ { 0xff }, 8 },                            /* multicast */
};

bool
addr_is_global(const struct addr *a)
{
	const struct range *t = a->family == AF_INET ? v4_special : v6_special;
	size_t n = a->family == AF_INET ? sizeof(v4_special) / sizeof(v4_special[0])
	                                : sizeof(v6_special) / sizeof(v6_special[0]);

	for (size_t i = 0; i < n; i++)
		if (in_range(a->ip, &t[i]))
			return false;
	/* Only 2000::/3 is allocated global unicast space. */
	if (a->family == AF_INET6 && (a->ip[0] & 0xe0) != 0x20)
		return false;
	return true;
}
