#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"

int t_failed;
const char *t_name;

int
t_hex(const char *hex, unsigned char *out, int cap)
{
	int n = 0, half = -1;

	for (; *hex; hex++) {
		if (isspace((unsigned char)*hex))
			continue;
		if (!isxdigit((unsigned char)*hex))
			return -1;
		int v = isdigit((unsigned char)*hex) ? *hex - '0' : (tolower((unsigned char)*hex) - 'a' + 10);
		if (half < 0) {
			half = v;
		} else {
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(half << 4 | v);
			half = -1;
		}
	}
	return half < 0 ? n : -1;
}

char *
t_slurp(int dirfd, const char *name, size_t *len)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY);
	char *b = NULL;

	*len = 0;
	if (fd < 0 || fstat(fd, &st) < 0 || !(b = calloc(1, (size_t)st.st_size + 1)) ||
	    read(fd, b, (size_t)st.st_size) != st.st_size) {
		if (fd >= 0)
			close(fd);
		free(b);
		return NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

int
main(void)
{
	t_name = "addr";
	test_addr();
	t_name = "dns_wire";
	test_dns_wire();
	t_name = "dns_answer";
	test_dns_answer();
	t_name = "notify";
	test_notify();
	t_name = "primary";
	test_primary();
	t_name = "cookie";
	test_cookie();
	t_name = "rrl";
	test_rrl();
	t_name = "changelog";
	test_changelog();
	t_name = "numfmt";
	test_numfmt();
	t_name = "zonefile";
	test_zonefile();
	t_name = "zone_store";
	test_zone_store();
	t_name = "nodeset";
	test_nodeset();
	t_name = "xfr";
	test_xfr();
	t_name = "config";
	test_config();
	t_name = "rng";
	test_rng();
	t_name = "ws";
	test_ws();
	test_ws_handshake();
	t_name = "url";
	test_url();
	t_name = "peers";
	test_peers();
	t_name = "resolver";
	test_resolver();
	test_resolver_lookup();
	t_name = "tsig";
	test_tsig();
	t_name = "health";
	test_health();
	t_name = "crawl_core";
	test_crawl_core();
	t_name = "crawl_store";
	test_crawl_store();
	t_name = "nodes";
	test_nodes();
	t_name = "bencode";
	test_bencode();
	t_name = "krpc";
	test_krpc();
	t_name = "http";
	test_http();
	t_name = "siphash";
	test_siphash();
	t_name = "iprate";
	test_iprate();
	t_name = "infohash";
	test_infohash();
	t_name = "ihcsv";
	test_ihcsv();
	t_name = "dht";
	test_dht();
	t_name = "dht_walk";
	test_dht_walk();
	return t_failed ? 1 : 0;
}
