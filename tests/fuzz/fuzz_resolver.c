/*
 * fuzz_resolver: resolver_reply_parse on one reply, and resolver_conf_parse
 * on the whole input as a resolv.conf text.
 *
 * Input: byte 0 chooses the question type (bit 0: A or AAAA), where our
 * question name comes from (bit 1: the packet's own question, so the
 * fuzzer reaches the answer section easily; else seed.example.com) and
 * the output cap (bits 2..7, modulo RESOLVER_MAX_ADDRS + 1); bytes 1-2 are
 * our ID; the rest is the reply, ending where the input ends so ASan traps
 * any over-read. The output array holds exactly the cap, on the heap.
 *
 * Invariants (a violation is __builtin_trap):
 * - the result is -1, OK, NODATA, NXDOMAIN or FAILED, never TIMEOUT;
 * - n <= cap, n > 0 only when OK, and when OK with a cap > 0; every
 *   address has the family of the qtype, port 0, and its bytes occur in
 *   the packet;
 * - an accepted reply (not -1) has our ID, QR set, opcode 0, QDCOUNT 1 and
 *   echoes the question of resolver_query_build byte for byte but for
 *   case; TC set gives FAILED, rcode 3 NXDOMAIN, other non-zero rcodes
 *   FAILED;
 * - neither the case of our name nor the cap changes the result, and with
 *   the full cap the addresses start with the ones of the smaller cap;
 * - the query we build, with QR set, parses as NODATA;
 * - an accepted resolv.conf names an IPv4 or IPv6 address on port 53.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/wire.h"
#include "dns/resolver.h"

#include "fuzz.h"

static const uint8_t seed_name[] = "\4seed\7example\3com";

static uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool
bytes_in(const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen)
{
	for (size_t i = 0; nlen <= hlen && i <= hlen - nlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return true;
	return false;
}

static void
check_accepted(const uint8_t *pkt, size_t len, uint16_t id, const uint8_t *name, uint16_t qtype, int rc)
{
	uint8_t q[DNS_HDR + DNAME_MAX + 4];
	size_t ql = resolver_query_build(q, sizeof(q), id, name, qtype);

	REQUIRE(ql > DNS_HDR);
	REQUIRE(len >= ql);
	REQUIRE((pkt[0] << 8 | pkt[1]) == id);
	uint16_t flags = (uint16_t)(pkt[2] << 8 | pkt[3]);
	REQUIRE(flags & DNS_F_QR);
	REQUIRE(DNS_OPCODE(flags) == 0);
	REQUIRE(pkt[4] == 0 && pkt[5] == 1);
	/* A question name cannot be compressed (no pointer into the header). */
	for (size_t i = DNS_HDR; i < ql; i++)
		REQUIRE(lower(pkt[i]) == lower(q[i]));
	if (flags & DNS_F_TC)
		REQUIRE(rc == RESOLVER_FAILED);
	else if ((flags & 0xf) == DNS_R_NXDOMAIN)
		REQUIRE(rc == RESOLVER_NXDOMAIN);
	else if ((flags & 0xf) != DNS_R_NOERROR)
		REQUIRE(rc == RESOLVER_FAILED);
}

static void
check_reply(const uint8_t *data, size_t size)
{
	uint8_t name[DNAME_MAX], upper[DNAME_MAX];
	struct addr full[RESOLVER_MAX_ADDRS];
	size_t n = 99, n2 = 99, nfull = 99;

	if (size < 3)
		return;
	uint16_t qtype = (data[0] & 1) ? DNS_T_AAAA : DNS_T_A;
	size_t max = (size_t)(data[0] >> 2) % (RESOLVER_MAX_ADDRS + 1);
	uint16_t id = (uint16_t)(data[1] << 8 | data[2]);
	const uint8_t *pkt = data + 3;
	size_t len = size - 3;

	memcpy(name, seed_name, sizeof(seed_name));
	if (data[0] & 2) {
		struct rd rd;
		rd_init(&rd, pkt, len);
		rd_skip(&rd, DNS_HDR);
		uint8_t qn[DNAME_MAX];
		if (rd_name(&rd, qn) > 0 && rd.err == RD_OK) {
			memcpy(name, qn, dname_len(qn));
			dname_lower(name);
		}
	}
	size_t nl = dname_len(name);

	struct addr *out = max ? malloc(max * sizeof(*out)) : NULL;
	REQUIRE(max == 0 || out != NULL);
	int rc = resolver_reply_parse(pkt, len, id, name, qtype, out, max, &n);
	REQUIRE(rc == -1 || rc == RESOLVER_OK || rc == RESOLVER_NODATA ||
	        rc == RESOLVER_NXDOMAIN || rc == RESOLVER_FAILED);
	REQUIRE(n <= max);
	REQUIRE(n == 0 || rc == RESOLVER_OK);
	REQUIRE(rc != RESOLVER_OK || max == 0 || n > 0);
	for (size_t i = 0; i < n; i++) {
		size_t al = qtype == DNS_T_A ? 4 : 16;
		REQUIRE(out[i].family == (qtype == DNS_T_A ? AF_INET : AF_INET6));
		REQUIRE(out[i].port == 0);
		REQUIRE(bytes_in(pkt, len, out[i].ip, al));
	}
	if (rc != -1)
		check_accepted(pkt, len, id, name, qtype, rc);

	/* Case of our name: RFC 4343. */
	memcpy(upper, name, nl);
	for (size_t i = 0; i < nl; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] = (uint8_t)(upper[i] - 32);
	struct addr *out2 = max ? malloc(max * sizeof(*out2)) : NULL;
	REQUIRE(max == 0 || out2 != NULL);
	REQUIRE(resolver_reply_parse(pkt, len, id, upper, qtype, out2, max, &n2) == rc);
	REQUIRE(n2 == n && (n == 0 || memcmp(out, out2, n * sizeof(*out)) == 0));

	/* A larger cap only adds addresses at the end. */
	int rcf = resolver_reply_parse(pkt, len, id, name, qtype, full, RESOLVER_MAX_ADDRS, &nfull);
	REQUIRE(rcf == rc);
	REQUIRE(nfull >= n && (n == 0 || memcmp(full, out, n * sizeof(*out)) == 0));
	free(out);
	free(out2);

	/* Our own query turned into an empty reply is NODATA. */
	uint8_t q[DNS_HDR + DNAME_MAX + 4];
	size_t ql = resolver_query_build(q, sizeof(q), id, name, qtype);
	REQUIRE(ql == DNS_HDR + nl + 4);
	q[2] |= DNS_F_QR >> 8;
	REQUIRE(resolver_reply_parse(q, ql, id, name, qtype, NULL, 0, &n) == RESOLVER_NODATA && n == 0);
	REQUIRE(resolver_reply_parse(q, ql, (uint16_t)(id + 1), name, qtype, NULL, 0, &n) == -1);
}

static void
check_conf(const uint8_t *data, size_t size)
{
	struct addr a;

	if (resolver_conf_parse((const char *)data, size, &a) == 0) {
		REQUIRE(a.port == 53);
		REQUIRE(a.family == AF_INET || a.family == AF_INET6);
		REQUIRE(bytes_in(data, size, (const uint8_t *)"nameserver", 10));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_reply(data, size);
	check_conf(data, size);
	return 0;
}
