#include <string.h>

#include "t.h"
#include "base/url.h"

static int
parse(struct url *u, const char *s)
{
	return url_parse(u, s, strlen(s), 32767);
}

/* s parses and formats to want. */
static int
canon(const char *s, const char *want)
{
	struct url u;
	char buf[URL_STR_MAX];

	if (parse(&u, s) < 0)
		return 0;
	size_t n = url_format(&u, buf, sizeof(buf));
	return n == strlen(want) && strcmp(buf, want) == 0;
}

static int
bad(const char *s)
{
	struct url u;

	if (parse(&u, s) == 0)
		return 0;
	/* A refused URL leaves *u all zero. */
	static const struct url zero;
	return memcmp(&u, &zero, sizeof(u)) == 0;
}

/* format -> parse gives the same struct back. */
static int
round_trip(const char *s)
{
	struct url u, v;
	char buf[URL_STR_MAX];

	if (parse(&u, s) < 0)
		return 0;
	size_t n = url_format(&u, buf, sizeof(buf));
	return n > 0 && url_parse(&v, buf, n, 1) == 0 && memcmp(&u, &v, sizeof(u)) == 0;
}

void
test_url(void)
{
	struct url u;
	char buf[URL_STR_MAX], name[300];

	CHECK("ws full", parse(&u, "ws://47.74.45.236:32768/x/y") == 0 && !u.tls && u.is_ip &&
	      strcmp(u.host, "47.74.45.236") == 0 && u.port == 32768 && strcmp(u.path, "/x/y") == 0);
	CHECK("wss name", parse(&u, "wss://chain.example.com:443/") == 0 && u.tls && !u.is_ip &&
	      strcmp(u.host, "chain.example.com") == 0 && u.port == 443 && strcmp(u.path, "/") == 0);
	CHECK("default port and path", parse(&u, "ws://47.74.45.236") == 0 && u.port == 32767 && strcmp(u.path, "/") == 0);
	CHECK("bare host", parse(&u, "seed.example.org") == 0 && !u.tls && u.port == 32767 && strcmp(u.path, "/") == 0);
	CHECK("bare host port", parse(&u, "1.2.3.4:80") == 0 && u.is_ip && u.port == 80);
	CHECK("bare v6", parse(&u, "[2001:DB8::1]:9") == 0 && u.is_ip && strcmp(u.host, "2001:db8::1") == 0 && u.port == 9);
	CHECK("scheme case", parse(&u, "WsS://Example.COM") == 0 && u.tls && strcmp(u.host, "example.com") == 0);
	CHECK("not NUL-terminated", url_parse(&u, "ws://a.b:81/zzz", 11, 1) == 0 && u.port == 81 && strcmp(u.path, "/") == 0);
	CHECK("query kept", parse(&u, "ws://h.example/p?a=1&b=2") == 0 && strcmp(u.path, "/p?a=1&b=2") == 0);
	CHECK("query without path", parse(&u, "ws://h.example?a") == 0 && strcmp(u.path, "/?a") == 0);
	CHECK("trailing dot removed", parse(&u, "ws://Example.com.:1") == 0 && strcmp(u.host, "example.com") == 0);
	CHECK("underscore", parse(&u, "ws://_seed._tcp.example") == 0);
	CHECK("single label", parse(&u, "ws://localhost") == 0 && !u.is_ip);
	CHECK("digits in name", parse(&u, "ws://1.2.3.4x") == 0 && !u.is_ip && parse(&u, "ws://123.example") == 0);
	CHECK("v6 brackets removed", parse(&u, "ws://[::1]:5/") == 0 && u.is_ip && strcmp(u.host, "::1") == 0);
	CHECK("v4-mapped", parse(&u, "ws://[::ffff:1.2.3.4]") == 0 && strcmp(u.host, "::ffff:1.2.3.4") == 0);
	CHECK("port 65535", parse(&u, "ws://a:65535") == 0 && u.port == 65535);
	CHECK("port 1", parse(&u, "ws://a:1") == 0 && u.port == 1);
	CHECK("default 0 with port", url_parse(&u, "ws://a:5", 8, 0) == 0 && u.port == 5);

	CHECK("canon ws", canon("ws://47.74.45.236:32767", "ws://47.74.45.236:32767/"));
	CHECK("canon wss", canon("wss://chain.example.com:32767/", "wss://chain.example.com:32767/"));
	CHECK("canon bare", canon("Seed.Example.ORG.", "ws://seed.example.org:32767/"));
	CHECK("canon v6", canon("WSS://[2001:0db8:0:0::7]/a?b", "wss://[2001:db8::7]:32767/a?b"));

	parse(&u, "wss://[2001:db8::7]:1/abc");
	size_t want = strlen("wss://[2001:db8::7]:1/abc");
	CHECK("format exact cap", url_format(&u, buf, want + 1) == want && strcmp(buf, "wss://[2001:db8::7]:1/abc") == 0);
	CHECK("format short cap", url_format(&u, buf, want) == 0 && buf[0] == '\0');
	CHECK("format cap 0", url_format(&u, buf, 0) == 0);

	CHECK("empty", bad(""));
	CHECK("empty host", bad("ws://") && bad("ws:///x") && bad("ws://:80") && bad(":80"));
	CHECK("empty v6", bad("ws://[]:80"));
	CHECK("userinfo", bad("ws://user@host") && bad("ws://u:p@host:80/") && bad("user@host"));
	CHECK("fragment", bad("ws://host/#x") && bad("ws://host#x") && bad("host#x"));
	CHECK("space", bad("ws://ho st") && bad("ws://host/a b") && bad(" ws://host") && bad("ws://host "));
	CHECK("control", bad("ws://host/\x01") && bad("ws://host\t") && bad("ws://host/\x7f"));
	CHECK("non-ascii", bad("ws://h\xc3\xa9.example") && bad("ws://host/\xc3\xa9"));
	CHECK("embedded NUL", url_parse(&u, "ws://a.b\0c", 10, 1) < 0);
	CHECK("other scheme", bad("http://host") && bad("wsx://host") && bad("ws:/host") && bad("ws:host"));
	CHECK("bare with path", bad("host/x") && bad("1.2.3.4:80/") && bad("host?x"));
	CHECK("port 0", bad("ws://a:0") && url_parse(&u, "ws://a", 6, 0) < 0 && url_parse(&u, "a", 1, 0) < 0);
	CHECK("port 65536", bad("ws://a:65536") && bad("ws://a:99999") && bad("ws://a:100000"));
	CHECK("port junk", bad("ws://a:+80") && bad("ws://a:-1") && bad("ws://a:080") && bad("ws://a:8x") &&
	      bad("ws://a:") && bad("ws://a: 80") && bad("ws://a:0x50") && bad("ws://a:80:81"));
	CHECK("v6 unbracketed", bad("ws://::1") && bad("2001:db8::1") && bad("ws://2001:db8::1:80"));
	CHECK("v6 bad", bad("ws://[::g]") && bad("ws://[1.2.3.4]") && bad("ws://[::1") && bad("ws://[::1]x") &&
	      bad("ws://[fe80::1%eth0]") && bad("ws://[[::1]]"));
	CHECK("numeric non-ip", bad("ws://1.2.3") && bad("ws://256.1.1.1") && bad("ws://1.2.3.4.5") &&
	      bad("ws://01.2.3.4") && bad("ws://123") && bad("ws://foo.123") && bad("ws://0x7f.0x1") &&
	      bad("ws://1.2.3.4.") && bad("ws://4294967295"));
	CHECK("ldh", bad("ws://-a.example") && bad("ws://a-.example") && bad("ws://a..b") && bad("ws://.a") &&
	      bad("ws://a.b..") && bad("ws://.") && bad("ws://a%41") && bad("ws://a*b") && bad("ws://a!b"));
	CHECK("hyphen inside", parse(&u, "ws://a-b.c-d") == 0);

	/* Labels of 63 and 64; names of 253 and 254. */
	memset(name, 'a', 63);
	strcpy(name + 63, ".x");
	CHECK("label 63", parse(&u, name) == 0);
	memset(name, 'a', 64);
	strcpy(name + 64, ".x");
	CHECK("label 64", bad(name));
	for (int i = 0; i < 63; i++)
		memcpy(name + 4 * i, "abc.", 4);
	strcpy(name + 252, "z"); /* 253 chars */
	CHECK("name 253", parse(&u, name) == 0 && strlen(u.host) == 253);
	strcpy(name + 252, "z."); /* 253 plus the trailing dot */
	CHECK("name 253 dot", parse(&u, name) == 0 && strlen(u.host) == 253);
	strcpy(name + 252, "zz");
	CHECK("name 254", bad(name));

	/* Paths of 255 and 256 chars. */
	strcpy(buf, "ws://a:1");
	buf[8] = '/';
	memset(buf + 9, 'p', 254);
	buf[263] = '\0';
	CHECK("path 255", parse(&u, buf) == 0 && strlen(u.path) == 255);
	buf[263] = 'p';
	buf[264] = '\0';
	CHECK("path 256", bad(buf));

	CHECK("round trip", round_trip("ws://47.74.45.236") && round_trip("Wss://A.B.C.:443/x?y") &&
	      round_trip("[::ffff:1.2.3.4]") && round_trip("ws://h?q") && round_trip("a_b") &&
	      round_trip("wss://[2001:db8:0:0:1:0:0:1]:65535//"));
	strcpy(name + 252, "z");
	CHECK("round trip longest", round_trip(name));
}
