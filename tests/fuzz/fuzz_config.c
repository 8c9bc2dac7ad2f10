/*
 * fuzz_config: the input split at NUL bytes into argv strings (at most 32
 * after argv[0] = "seedd"), handed to config_parse with its messages going
 * to /dev/null. It must never crash, and an accepted command line must
 * describe a usable configuration (SPEC 2 ranges).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"

#include "fuzz.h"

#define ARGS_MAX 32

static void
check_config(const struct config *c)
{
	REQUIRE(dname_len(c->zone) >= 2 && dname_len(c->zone) <= DNAME_MAX);
	REQUIRE(c->nlisten >= 1 && c->nlisten <= DNS_LISTEN_MAX);
	for (int i = 0; i < c->nlisten; i++) {
		REQUIRE(c->listen[i].family == AF_INET || c->listen[i].family == AF_INET6);
		REQUIRE(c->listen[i].port != 0);
	}
	REQUIRE(c->nns >= 0 && c->nns <= ZONE_NS_MAX);
	for (int i = 0; i < c->nns; i++)
		REQUIRE(dname_len(c->ns[i]) >= 2 && dname_len(c->ns[i]) <= DNAME_MAX);
	REQUIRE(dname_len(c->mbox) >= 2 && dname_len(c->mbox) <= DNAME_MAX);
	REQUIRE(c->ttl <= INT32_MAX);
	REQUIRE(c->answers >= 1 && c->answers <= CONFIG_ANSWERS_MAX);
	REQUIRE(c->snapshot_interval >= 1 && c->snapshot_interval <= 86400);
	REQUIRE(c->data_dir != NULL && c->data_dir[0] != '\0');
	REQUIRE(c->log_level >= 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	char *argv[ARGS_MAX + 2];
	int argc = 0;

	if (devnull == NULL) {
		devnull = fopen("/dev/null", "w");
		REQUIRE(devnull != NULL);
	}
	/* One copy with a NUL at the end, so every piece is a C string of its own. */
	char *buf = malloc(size + 1);
	REQUIRE(buf != NULL);
	memcpy(buf, data, size);
	buf[size] = '\0';

	char prog[] = "seedd";
	argv[argc++] = prog;
	for (size_t off = 0; off <= size && argc <= ARGS_MAX; ) {
		size_t n = strlen(buf + off);
		if (off == size && n == 0)
			break; /* the NUL we added, right after a separator */
		argv[argc++] = buf + off;
		off += n + 1;
	}
	argv[argc] = NULL;

	struct config cfg;
	enum config_result r = config_parse(&cfg, argc, argv, devnull, devnull);
	REQUIRE(r == CONFIG_OK || r == CONFIG_EXIT || r == CONFIG_BAD);
	if (r == CONFIG_OK)
		check_config(&cfg);
	free(buf);
	return 0;
}
