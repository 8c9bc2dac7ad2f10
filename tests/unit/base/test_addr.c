#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "t.h"

/* The hand-made IPv4 parser accepts exactly what inet_pton does, with the same bytes. */
static void
v4_like_pton(void)
{
	static const char *const fixed[] = {
		"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04",
		"1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4x", "1234.1.1.1",
		"1.2.3.0004", "00.0.0.0", "9.99.199.249", "", ".", "1.2.3.-4", "1.2.3.+4",
	};
	const char alpha[] = "0123456789.";
	char s[24], bad[64] = "";
	int wrong = 0, n = (int)(sizeof(fixed) / sizeof(fixed[0]));
	unsigned x = 12345;

	for (int k = 0; k < n + 200000; k++) {
		if (k < n) {
			snprintf(s, sizeof(s), "%s", fixed[k]);
		} else {
			/* Random short strings of digits and dots, biased toward quads. */
			x = x * 1103515245u + 12345u;
			int len = 1 + (int)((x >> 16) % 15);
			for (int j = 0; j < len; j++) {
				x = x * 1103515245u + 12345u;
				s[j] = alpha[(x >> 16) % (j % 4 == 3 ? 11 : 10)];
			}
			s[len] = '\0';
		}
		struct addr a;
		uint8_t want[4] = { 0 };
		int ok = addr_parse_ip(&a, s) == 0 && a.family == AF_INET;
		int ref = inet_pton(AF_INET, s, want) == 1;
		if (ok != ref || (ok && memcmp(a.ip, want, 4) != 0)) {
			if (!wrong++)
				snprintf(bad, sizeof(bad), "%s: ours %d, inet_pton %d", s, ok, ref);
		}
	}
	CHECK("v4 parse: as inet_pton, fixed and 200,000 random strings", wrong == 0);
	if (wrong)
		printf("# v4 parse: %d differ, first %s\n", wrong, bad);
}

static int
global(const char *s)
{
	struct addr a;
	return addr_parse_ip(&a, s) == 0 && addr_is_global(&a);
}

void
test_addr(void)
{
	struct addr a;
	char buf[ADDR_STRLEN];

	v4_like_pton();
	struct sockaddr_storage ss;
	struct addr back, sa4, sa6;
	addr_parse_hostport(&sa4, "192.0.2.7:5300", 0);
	addr_parse_hostport(&sa6, "[2001:db8::9]:53", 0);
	addr_to_sockaddr(&sa4, &ss);
	CHECK("sockaddr: v4 round trip", addr_from_sockaddr(&back, &ss) && back.family == AF_INET && back.port == 5300 &&
	      memcmp(back.ip, sa4.ip, 4) == 0);
	addr_to_sockaddr(&sa6, &ss);
	CHECK("sockaddr: v6 round trip", addr_from_sockaddr(&back, &ss) && back.family == AF_INET6 && back.port == 53 &&
	      memcmp(back.ip, sa6.ip, 16) == 0);
	ss.ss_family = AF_UNIX;
	CHECK("sockaddr: other families refused", !addr_from_sockaddr(&back, &ss));
	struct addr_net net;
	const uint8_t in1[4] = { 10, 200, 3, 4 }, out1[4] = { 11, 0, 0, 1 }, v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 };
	CHECK("net: /8", addr_parse_net(&net, "10.1.2.3/8") == 0 && net.bits == 8 && addr_net_has(&net, in1, 4) &&
	      !addr_net_has(&net, out1, 4) && !addr_net_has(&net, v6a, 16));
	CHECK("net: one address", addr_parse_net(&net, "10.200.3.4") == 0 && net.bits == 32 && addr_net_has(&net, in1, 4) &&
	      !addr_net_has(&net, out1, 4));
	CHECK("net: /0 holds every IPv4 address only", addr_parse_net(&net, "0.0.0.0/0") == 0 &&
	      addr_net_has(&net, out1, 4) && !addr_net_has(&net, v6a, 16));
	CHECK("net: v6 /33 edge", addr_parse_net(&net, "2001:db8:8000::/33") == 0 && !addr_net_has(&net, v6a, 16) &&
	      addr_parse_net(&net, "2001:db8::/33") == 0 && addr_net_has(&net, v6a, 16));
	CHECK("net: /12 edge", addr_parse_net(&net, "10.192.0.0/10") == 0 && addr_net_has(&net, in1, 4) &&
	      addr_parse_net(&net, "10.128.0.0/10") == 0 && !addr_net_has(&net, in1, 4));
	CHECK("v4 hostport", addr_parse_hostport(&a, "127.0.0.1:5353", 53) == 0 && a.family == AF_INET && a.port == 5353);
	CHECK("v4 default port", addr_parse_hostport(&a, "0.0.0.0", 53) == 0 && a.port == 53);
	CHECK("v6 bracket port", addr_parse_hostport(&a, "[::1]:5353", 53) == 0 && a.family == AF_INET6 && a.port == 5353);
	CHECK("v6 bracket", addr_parse_hostport(&a, "[::]", 53) == 0 && a.port == 53);
	CHECK("v6 bare", addr_parse_hostport(&a, "2001:db8::1", 53) == 0 && a.port == 53);
	CHECK("port 0 rejected", addr_parse_hostport(&a, "1.2.3.4:0", 53) < 0);
	CHECK("port 65536 rejected", addr_parse_hostport(&a, "1.2.3.4:65536", 53) < 0);
	CHECK("host name rejected", addr_parse_hostport(&a, "localhost:53", 53) < 0);
	CHECK("empty rejected", addr_parse_hostport(&a, "", 53) < 0);
	CHECK("junk after bracket", addr_parse_hostport(&a, "[::1]x", 53) < 0);
	CHECK("port junk", addr_parse_hostport(&a, "1.2.3.4:5x", 53) < 0);
	addr_parse_hostport(&a, "[2001:db8::7]:53", 53);
	addr_str(&a, buf, sizeof(buf));
	CHECK("format v6", strcmp(buf, "[2001:db8::7]:53") == 0);

	CHECK("global v4", global("47.74.45.239"));
	CHECK("global v6", global("2606:4700::1111"));
	CHECK("rfc1918 10", !global("10.1.2.3"));
	CHECK("rfc1918 172.16", !global("172.31.255.1"));
	CHECK("172.32 is global", global("172.32.0.1"));
	CHECK("rfc1918 192.168", !global("192.168.0.1"));
	CHECK("cgnat", !global("100.64.0.1") && !global("100.127.255.254"));
	CHECK("100.128 is global", global("100.128.0.1"));
	CHECK("loopback", !global("127.0.0.1") && !global("::1"));
	CHECK("link-local", !global("169.254.1.1") && !global("fe80::1"));
	CHECK("documentation", !global("192.0.2.1") && !global("198.51.100.7") && !global("203.0.113.9") && !global("2001:db8::7"));
	CHECK("benchmark", !global("198.18.0.1") && !global("198.19.255.255"));
	CHECK("ula", !global("fd00::1") && !global("fc00::1"));
	CHECK("multicast", !global("224.0.0.1") && !global("ff02::1"));
	CHECK("broadcast", !global("255.255.255.255"));
	CHECK("v4-mapped", !global("::ffff:8.8.8.8"));

	addr_parse_ip(&a, "0.0.0.0");
	CHECK("unspecified unusable", addr_is_unusable(&a));
	addr_parse_ip(&a, "239.1.1.1");
	CHECK("multicast unusable", addr_is_unusable(&a));
	addr_parse_ip(&a, "10.0.0.1");
	CHECK("private usable", !addr_is_unusable(&a));
}
