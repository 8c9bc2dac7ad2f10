/*
 * A minimal unit-test harness: CHECK records one result; each prints
 * "PASS name" or "FAIL name: file:line expr" so tests/run.sh can count.
 */
#ifndef SEEDD_T_H
#define SEEDD_T_H

#include <stddef.h>
#include <stdio.h>

extern int t_failed;
extern const char *t_name;

#define CHECK(name, expr)                                                          \
	do {                                                                       \
		if (expr) {                                                        \
			printf("PASS %s/%s\n", t_name, name);                      \
		} else {                                                           \
			printf("FAIL %s/%s: %s:%d %s\n", t_name, name, __FILE__,    \
			       __LINE__, #expr);                                   \
			t_failed++;                                                \
		}                                                                  \
	} while (0)

/* Parse hex with optional spaces/newlines into out; returns length or -1. */
int t_hex(const char *hex, unsigned char *out, int cap);
/* The whole of a file in dirfd (malloc'd, NUL-terminated), or NULL. */
char *t_slurp(int dirfd, const char *name, size_t *len);

void test_dns_wire(void);
void test_dns_answer(void);
void test_notify(void);
void test_primary(void);
void test_cookie(void);
void test_rrl(void);
void test_changelog(void);
void test_numfmt(void);
void test_zonefile(void);
void test_zone_store(void);
void test_addr(void);
void test_ws(void);
void test_ws_handshake(void);
void test_url(void);
void test_peers(void);
void test_resolver(void);
void test_tsig(void);
void test_resolver_lookup(void);
void test_health(void);
void test_crawl_core(void);
void test_crawl_store(void);
void test_nodes(void);
void test_nodeset(void);
void test_xfr(void);
void test_config(void);
void test_rng(void);
void test_bencode(void);
void test_krpc(void);
void test_http(void);
void test_siphash(void);
void test_iprate(void);
void test_infohash(void);
void test_ihcsv(void);
void test_dht(void);
void test_dht_walk(void);

#endif
