/*
 * fuzz_url: one input = one URL text for url_parse (url.h). Invariants:
 *   - a refused URL leaves the struct all zero;
 *   - an accepted one is well formed: port not 0; path starts with '/' and
 *     is printable ASCII without spaces or '#'; an address host is
 *     addr_parse_ip's own inet_ntop form, a name host is lowercase LDH and
 *     '_' labels of 1..63 chars, at most 253 in all, and no address;
 *   - round trip: url_format gives the canonical text, which parses back
 *     to the same struct (memcmp) and formats to the same bytes;
 *   - url_format needs exactly its length + 1 of room;
 *   - the default port only fills in: an input that parses without one
 *     (default 0) parses the same with default 32767.
 */
#include <stdint.h>
#include <string.h>

#include "base/addr.h"
#include "base/url.h"

#include "fuzz.h"

static void
check_host(const struct url *u)
{
	size_t n = strnlen(u->host, sizeof(u->host));
	struct addr a;
	char ip[URL_HOST_MAX];

	REQUIRE(n > 0 && n < sizeof(u->host));
	if (u->is_ip) {
		REQUIRE(addr_parse_ip(&a, u->host) == 0);
		addr_ip_str(&a, ip, sizeof(ip));
		REQUIRE(strcmp(ip, u->host) == 0);
		return;
	}
	REQUIRE(n <= 253 && addr_parse_ip(&a, u->host) < 0);
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		char c = u->host[i];
		if (c == '.' || c == '\0') {
			REQUIRE(label >= 1 && label <= 63);
			label = 0;
			continue;
		}
		REQUIRE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
		label++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct url zero;
	struct url u, v, w;
	char buf[URL_STR_MAX], again[URL_STR_MAX];
	const char *s = (const char *)data;

	if (url_parse(&u, s, size, 32767) < 0) {
		REQUIRE(memcmp(&u, &zero, sizeof(u)) == 0);
		REQUIRE(url_parse(&v, s, size, 0) < 0);
		return 0;
	}
	REQUIRE(u.port != 0);
	size_t plen = strnlen(u.path, sizeof(u.path));
	REQUIRE(plen >= 1 && plen < sizeof(u.path) && u.path[0] == '/');
	for (size_t i = 0; i < plen; i++)
		REQUIRE(u.path[i] > ' ' && u.path[i] < 0x7f && u.path[i] != '#');
	check_host(&u);

	size_t n = url_format(&u, buf, sizeof(buf));
	REQUIRE(n > 0 && n < sizeof(buf) && strlen(buf) == n);
	REQUIRE(url_format(&u, again, n) == 0 && url_format(&u, again, n + 1) == n);
	REQUIRE(url_parse(&v, buf, n, 1) == 0 && memcmp(&u, &v, sizeof(u)) == 0);
	REQUIRE(url_format(&v, again, sizeof(again)) == n && memcmp(buf, again, n + 1) == 0);

	if (url_parse(&w, s, size, 0) == 0)
		REQUIRE(memcmp(&u, &w, sizeof(u)) == 0);
	else
		REQUIRE(u.port == 32767);
	return 0;
}
