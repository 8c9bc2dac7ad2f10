#include <stdio.h>
#include <string.h>

#include "config.h"
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
	const char *unk[] = { "seedd", "-z", "a.b", "--seed", "ws://x" };
	CHECK("unknown flag", run(5, unk, &c) == CONFIG_BAD && strstr(errbuf, "--seed") != NULL);
	const char *pos[] = { "seedd", "-z", "a.b", "extra" };
	CHECK("positional", run(4, pos, &c) == CONFIG_BAD && strstr(errbuf, "extra") != NULL);
	const char *miss[] = { "seedd", "-z" };
	CHECK("missing value", run(2, miss, &c) == CONFIG_BAD && strstr(errbuf, "missing value") != NULL);
	const char *lvl[] = { "seedd", "-z", "a.b", "--log-level", "loud" };
	CHECK("bad log level", run(5, lvl, &c) == CONFIG_BAD);
	const char *nsdup[] = { "seedd", "-z", "a.b", "--ns", "n.a.b", "--ns", "N.a.b" };
	CHECK("ns twice", run(7, nsdup, &c) == CONFIG_BAD);
	const char *help[] = { "seedd", "--help" };
	CHECK("help", run(2, help, &c) == CONFIG_EXIT);
	const char *ver[] = { "seedd", "-V" };
	CHECK("version", run(2, ver, &c) == CONFIG_EXIT);
}
