#include <stdio.h>
#include <string.h>

#include "app/config.h"
#include "t.h"

static char errbuf[512];

static enum config_result
run(int argc, const char **argv, struct config *c)
{
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	FILE *out = fopen("/dev/null", "w");
	enum config_result r = config_parse(c, argc, (char **)argv, out, err);
	fclose(err);
	fclose(out);
	return r;
}

void
test_config(void)
{
	struct config c;

	const char *ok[] = { "seedd", "--zone", "Seed.Example.COM.", "-l", "127.0.0.1:5353", "-l", "[::1]:5353",
	                     "--ns", "ns1.seed.example.com", "--mbox", "admin@example.com", "--ttl", "30",
	                     "--answers", "10", "--wildcard", "--allow-private", "-d", "/tmp",
	                     "--snapshot-interval", "5", "--log-level", "debug" };
	CHECK("all flags", run(23, ok, &c) == CONFIG_OK && c.nlisten == 2 && c.nns == 1 && c.ttl == 30 &&
	      c.answers == 10 && c.wildcard && c.allow_private && c.snapshot_interval == 5 &&
	      memcmp(c.zone, "\4seed\7example\3com", 18) == 0 && memcmp(c.mbox, "\5admin\7example\3com", 19) == 0);
	const char *def[] = { "seedd", "-z", "seed.example.com" };
	CHECK("defaults", run(3, def, &c) == CONFIG_OK && c.listen_default && c.nlisten == 2 && c.ttl == 60 &&
	      c.answers == 25 && !c.wildcard && strcmp(c.data_dir, ".") == 0 &&
	      memcmp(c.mbox, "\12hostmaster\4seed", 16) == 0);

	const char *nozone[] = { "seedd" };
	CHECK("missing zone", run(1, nozone, &c) == CONFIG_BAD && strstr(errbuf, "--zone") != NULL);
	const char *badttl[] = { "seedd", "-z", "a.b", "--ttl", "abc" };
	CHECK("bad ttl", run(5, badttl, &c) == CONFIG_BAD && strstr(errbuf, "--ttl: 'abc'") != NULL);
	const char *negttl[] = { "seedd", "-z", "a.b", "--ttl", "-1" };
	CHECK("negative ttl", run(5, negttl, &c) == CONFIG_BAD);
	const char *bigttl[] = { "seedd", "-z", "a.b", "--ttl", "2147483648" };
	CHECK("ttl over 2^31", run(5, bigttl, &c) == CONFIG_BAD);
	const char *ans0[] = { "seedd", "-z", "a.b", "--answers", "0" };
	CHECK("answers 0", run(5, ans0, &c) == CONFIG_BAD && strstr(errbuf, "--answers") != NULL);
	const char *badl[] = { "seedd", "-z", "a.b", "-l", "localhost:53" };
	CHECK("listen host name", run(5, badl, &c) == CONFIG_BAD && strstr(errbuf, "--listen: 'localhost:53'") != NULL);
	const char *badz[] = { "seedd", "-z", "a..b" };
	CHECK("bad zone", run(3, badz, &c) == CONFIG_BAD && strstr(errbuf, "--zone") != NULL);
	const char *unk[] = { "seedd", "-z", "a.b", "--no-such-flag", "x" };
	CHECK("unknown flag", run(5, unk, &c) == CONFIG_BAD && strstr(errbuf, "--no-such-flag") != NULL);
	/* Crawler flags (SPEC 2). */
	const char *crawl[] = { "seedd", "-z", "a.b", "--port", "4000", "-s", "ws://[2001:db8::1]/p", "--seed", "n1.example.com",
	                        "--seed", "wss://Chain.Example.com:443/x", "--interval", "60", "--timeout", "2",
	                        "--concurrency", "0", "--max-nodes", "10", "--ca-file", "/x.pem", "--resolver", "[::1]:5353" };
	CHECK("crawler flags", run((int)(sizeof(crawl) / sizeof(crawl[0])), crawl, &c) == CONFIG_OK && c.nseeds == 3 && c.port == 4000 &&
	      c.seeds[0].port == 4000 && !c.seeds[0].tls && c.seeds[0].is_ip && strcmp(c.seeds[0].path, "/p") == 0 &&
	      c.seeds[1].port == 4000 && !c.seeds[1].is_ip && strcmp(c.seeds[1].host, "n1.example.com") == 0 &&
	      c.seeds[2].tls && c.seeds[2].port == 443 && strcmp(c.seeds[2].host, "chain.example.com") == 0 &&
	      c.interval == 60 && c.timeout == 2 && c.concurrency == 0 && c.max_nodes == 10 &&
	      strcmp(c.ca_file, "/x.pem") == 0 && c.have_resolver && c.resolver.port == 5353);
	const char *crawl_def[] = { "seedd", "-z", "a.b" };
	CHECK("crawler defaults", run(3, crawl_def, &c) == CONFIG_OK && c.port == 32767 && c.interval == 300 &&
	      c.timeout == 5 && c.concurrency == 256 && c.max_nodes == 100000 && !c.have_resolver &&
	      strcmp(c.ca_file, "/etc/ssl/certs/ca-certificates.crt") == 0);
	const char *badseed[] = { "seedd", "-z", "a.b", "--seed", "http://x" };
	CHECK("bad seed", run(5, badseed, &c) == CONFIG_BAD && strstr(errbuf, "--seed: 'http://x'") != NULL);
	const char *badport[] = { "seedd", "-z", "a.b", "--port", "0" };
	CHECK("bad port", run(5, badport, &c) == CONFIG_BAD && strstr(errbuf, "--port: '0'") != NULL);
	const char *badto[] = { "seedd", "-z", "a.b", "--timeout", "0" };
	CHECK("bad timeout", run(5, badto, &c) == CONFIG_BAD && strstr(errbuf, "--timeout") != NULL);
	const char *badres[] = { "seedd", "-z", "a.b", "--resolver", "dns.google" };
	CHECK("bad resolver", run(5, badres, &c) == CONFIG_BAD && strstr(errbuf, "--resolver") != NULL);
	const char *pos[] = { "seedd", "-z", "a.b", "extra" };
	CHECK("positional", run(4, pos, &c) == CONFIG_BAD && strstr(errbuf, "extra") != NULL);
	const char *miss[] = { "seedd", "-z" };
	CHECK("missing value", run(2, miss, &c) == CONFIG_BAD && strstr(errbuf, "missing value") != NULL);
	const char *lvl[] = { "seedd", "-z", "a.b", "--log-level", "loud" };
	CHECK("bad log level", run(5, lvl, &c) == CONFIG_BAD);
	const char *nsdup[] = { "seedd", "-z", "a.b", "--ns", "n.a.b", "--ns", "N.a.b" };
	CHECK("ns twice", run(7, nsdup, &c) == CONFIG_BAD);
	/* DHT flags (SPEC 2, 6) */
	const char *dht[] = { "seedd", "-z", "a.b", "--dht", "127.0.0.1", "--dht-bootstrap", "router.example.com:6881",
	                      "--dht-bootstrap", "[2001:db8::1]:7000", "--dht-rate", "50" };
	CHECK("dht flags", run(11, dht, &c) == CONFIG_OK && c.dht_on && c.dht.port == 6881 && c.ndht_boot == 2 &&
	      strcmp(c.dht_boot[0], "router.example.com:6881") == 0 && c.dht_rate == 50);
	CHECK("dht defaults", run(3, crawl_def, &c) == CONFIG_OK && !c.dht_on && c.dht_rate == 2000 && c.ndht_boot == 3 &&
	      strcmp(c.dht_boot[0], "router.bittorrent.com:6881") == 0 &&
	      strcmp(c.dht_boot[1], "dht.transmissionbt.com:6881") == 0 &&
	      strcmp(c.dht_boot[2], "router.utorrent.com:6881") == 0);
	const char *dhtport[] = { "seedd", "-z", "a.b", "--dht", "[::1]:7000" };
	CHECK("dht v6 with port", run(5, dhtport, &c) == CONFIG_OK && c.dht.family == AF_INET6 && c.dht.port == 7000);
	const char *baddht[] = { "seedd", "-z", "a.b", "--dht", "example.com:6881" };
	CHECK("dht needs an address", run(5, baddht, &c) == CONFIG_BAD && strstr(errbuf, "--dht: 'example.com:6881'") != NULL);
	static const char *const badboot[] = { "router.example.com", "x:0", "x:65536", ":6881", "bad host!:1", "0.0.0.0:6881" };
	for (size_t k = 0; k < sizeof(badboot) / sizeof(badboot[0]); k++) {
		const char *bb[] = { "seedd", "-z", "a.b", "--dht-bootstrap", badboot[k] };
		char name[64];
		snprintf(name, sizeof(name), "bad bootstrap '%s'", badboot[k]);
		CHECK(name, run(5, bb, &c) == CONFIG_BAD && strstr(errbuf, "--dht-bootstrap") != NULL);
	}
	const char *rate0[] = { "seedd", "-z", "a.b", "--dht-rate", "0" };
	CHECK("dht rate 0", run(5, rate0, &c) == CONFIG_BAD && strstr(errbuf, "--dht-rate: '0'") != NULL);
	/* appliance flags (SPEC 2, 7) */
	const char *usr[] = { "seedd", "-z", "a.b", "--user", "65534:100", "--metrics", "127.0.0.1:9100" };
	CHECK("user and metrics", run(7, usr, &c) == CONFIG_OK && c.have_user && c.uid == 65534 && c.gid == 100 &&
	      c.have_metrics && c.metrics.port == 9100);
	const char *usr1[] = { "seedd", "-z", "a.b", "--user", "1000" };
	CHECK("user: gid defaults to uid", run(5, usr1, &c) == CONFIG_OK && c.uid == 1000 && c.gid == 1000);
	static const char *const badusr[] = { "nobody", "1:", ":1", "1:2:3", "-1", "4294967295", "" };
	for (size_t k = 0; k < sizeof(badusr) / sizeof(badusr[0]); k++) {
		const char *bu[] = { "seedd", "-z", "a.b", "--user", badusr[k] };
		char name[64];
		snprintf(name, sizeof(name), "bad user '%s'", badusr[k]);
		CHECK(name, run(5, bu, &c) == CONFIG_BAD && strstr(errbuf, "--user") != NULL);
	}
	const char *badm[] = { "seedd", "-z", "a.b", "--metrics", "127.0.0.1" };
	CHECK("metrics needs a port", run(5, badm, &c) == CONFIG_BAD && strstr(errbuf, "--metrics") != NULL);
	/* Hidden primary. */
	const char *xfr[] = { "seedd", "-z", "a.b", "--tsig-key", "/k", "--xfr-allow", "10.1.2.3/8", "--xfr-allow",
	                      "2001:db8::1", "--notify", "127.0.0.2", "--notify", "[::1]:5300", "--xfr-rotate", "2" };
	CHECK("xfr flags", run(15, xfr, &c) == CONFIG_OK && strcmp(c.tsig_key_file, "/k") == 0 && c.nxfr_allow == 2 &&
	      c.xfr_allow[0].bits == 8 && c.xfr_allow[0].a.ip[1] == 0 && c.xfr_allow[1].bits == 128 &&
	      c.nnotify == 2 && c.notify[0].port == 53 && c.notify[1].port == 5300 && c.xfr_rotate == 2 &&
	      c.xfr_answers == 25);
	CHECK("xfr defaults", run(3, crawl_def, &c) == CONFIG_OK && c.tsig_key_file == NULL && c.nxfr_allow == 0 &&
	      c.nnotify == 0 && c.xfr_rotate == 300 && c.xfr_answers == 25);
	const char *xans[] = { "seedd", "-z", "a.b", "--answers", "7", "--tsig-key", "/k", "--xfr-allow", "::1" };
	CHECK("xfr answers default to --answers", run(9, xans, &c) == CONFIG_OK && c.xfr_answers == 7);
	const char *nokey[] = { "seedd", "-z", "a.b", "--xfr-allow", "127.0.0.1" };
	CHECK("xfr-allow needs a key", run(5, nokey, &c) == CONFIG_BAD && strstr(errbuf, "--xfr-allow: needs --tsig-key"));
	const char *nokey2[] = { "seedd", "-z", "a.b", "--notify", "127.0.0.1" };
	CHECK("notify needs a key", run(5, nokey2, &c) == CONFIG_BAD && strstr(errbuf, "--notify: needs --tsig-key"));
	const char *noallow[] = { "seedd", "-z", "a.b", "--tsig-key", "/k" };
	CHECK("key needs xfr-allow", run(5, noallow, &c) == CONFIG_BAD && strstr(errbuf, "--tsig-key: needs --xfr-allow"));
	static const char *const badnet[] = { "10.0.0.0/33", "::/129", "10.0.0.0/", "/8", "host.example", "10.0.0.0/8x",
	                                      "10.0.0.0/-1", "10.0.0.0/0008" };
	for (size_t k = 0; k < sizeof(badnet) / sizeof(badnet[0]); k++) {
		const char *bn[] = { "seedd", "-z", "a.b", "--tsig-key", "/k", "--xfr-allow", badnet[k] };
		char name[64];
		snprintf(name, sizeof(name), "bad xfr-allow '%s'", badnet[k]);
		CHECK(name, run(7, bn, &c) == CONFIG_BAD && strstr(errbuf, "--xfr-allow") != NULL);
	}
	const char *badrot[] = { "seedd", "-z", "a.b", "--xfr-rotate", "0" };
	CHECK("xfr-rotate 0", run(5, badrot, &c) == CONFIG_BAD && strstr(errbuf, "--xfr-rotate: '0'"));
	const char *badnot[] = { "seedd", "-z", "a.b", "--notify", "0.0.0.0" };
	CHECK("notify to 0.0.0.0", run(5, badnot, &c) == CONFIG_BAD && strstr(errbuf, "--notify: '0.0.0.0'"));
	const char *help[] = { "seedd", "--help" };
	CHECK("help", run(2, help, &c) == CONFIG_EXIT);
	const char *ver[] = { "seedd", "-V" };
	CHECK("version", run(2, ver, &c) == CONFIG_EXIT);
}
