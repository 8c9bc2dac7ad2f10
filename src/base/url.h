/*
 * url: where a node listens, from --seed and from peer answers (SPEC 5):
 * "ws://host[:port][/path]", "wss://host[:port][/path]" or "host[:port]"
 * (plain ws). host is an IPv4 literal, a bracketed IPv6 literal or a DNS
 * host name. Pure: no I/O. url_parse returns 0, or -1 on bad input.
 */
#ifndef SEEDD_URL_H
#define SEEDD_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define URL_HOST_MAX 254 /* a DNS name of 253 chars + NUL */
#define URL_PATH_MAX 256
/* url_format's longest output: "wss://" + 253-char name + ":65535" + 255-char path + NUL */
#define URL_STR_MAX 528

struct url {
	bool tls;                 /* wss:// */
	bool is_ip;               /* host is an address literal (brackets removed) */
	char host[URL_HOST_MAX];  /* lowercase for names */
	uint16_t port;
	char path[URL_PATH_MAX];  /* starts with '/' */
};

/*
 * s[0..len) need not be NUL-terminated. The scheme is case-insensitive;
 * the bare form "host[:port]" has no path. A missing port takes
 * default_port; a port is 1..65535 in decimal without sign or leading
 * zero, and port 0 (also as default_port) is refused. IPv4 literals are
 * dotted quads; IPv6 literals are bracketed; both are stored in
 * inet_ntop's form. Host names must be LDH labels (underscores allowed,
 * no '-' at either end) of 1..63 chars, 253 chars in all; one trailing dot
 * is removed and names are lowercased; a name whose last label is numeric
 * (digits, or 0x and hex) is refused, since it can only be a bad IPv4
 * literal. Paths are printable ASCII without spaces, at most
 * URL_PATH_MAX - 1 chars; a missing path is "/", and "ws://h?q" becomes
 * path "/?q". Userinfo ('@' before the path), fragments ('#'), spaces,
 * controls and non-ASCII bytes are refused. On success *u is zeroed
 * before being filled, so equal URLs are equal byte for byte (memcmp);
 * on failure *u is all zero. Formatting then parsing gives the same
 * struct back.
 */
int url_parse(struct url *u, const char *s, size_t len, uint16_t default_port);
/*
 * The canonical "ws://host:port/path" or "wss://[v6]:port/path", always
 * with the port; NUL-terminated. Returns the length without the NUL, or 0
 * (and "" when cap > 0) when cap is short; URL_STR_MAX always suffices.
 */
size_t url_format(const struct url *u, char *out, size_t cap);

#endif
