/*
 * tsig_interop: dns/tsig.c against real tools (tests/interop/tsig.sh).
 * Not part of seedd or of make test; this program reads the clock and
 * does I/O, the core it drives does not.
 *
 *   tsig_interop serve KEYFILE < request > replies
 *     Verify the request and answer it as seed.test's server would: an
 *     SOA answer for SOA, a 3-message transfer for AXFR (every message
 *     signed), the TSIG error reply for BADKEY/BADSIG/BADTIME/BADTRUNC,
 *     FORMERR when TSIG says so. Replies are written as a TCP stream
 *     (2-byte length, message); one line of verdict goes to stderr.
 *   tsig_interop query KEYFILE ADDR PORT ZONE TYPE
 *     Client side: send a signed query (TYPE soa or notify) over UDP and
 *     verify the one reply with tsig_verify_response; prints the verdict.
 *
 * TSIG_SKEW=SECONDS in the environment moves our clock (BADTIME tests);
 * TSIG_CORRUPT=N spoils the Nth reply after signing (see emit);
 * TSIG_SAVE=PREFIX keeps a query's request and reply as files.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/dname.h"
#include "dns/tsig.h"
#include "dns/wire.h"

#define MSG_MAX 16384

static uint64_t
now_s(void)
{
	const char *skew = getenv("TSIG_SKEW");
	return (uint64_t)((long long)time(NULL) + (skew ? atoll(skew) : 0));
}

static int
load_key(struct tsig_key *k, const char *path)
{
	static char text[65536];
	char err[256];
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (tsig_key_parse(k, text, n, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	return 0;
}

/* TSIG_CORRUPT=N flips a bit in the last answer byte of the Nth reply
 * after signing: a control that the tool on the other end really checks. */
static void
emit(uint8_t *m, size_t len)
{
	static int nth;
	const char *corrupt = getenv("TSIG_CORRUPT");
	uint8_t pfx[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (corrupt && atoi(corrupt) == ++nth && len > DNS_HDR + 1)
		m[DNS_HDR + 1] ^= 0x20; /* the first letter of the first name: case, still valid */
	fwrite(pfx, 1, 2, stdout);
	fwrite(m, 1, len, stdout);
}

/* Header (QR, AA, the request's opcode and RD) and the request's question. */
static void
reply_begin(struct wr *w, uint8_t *buf, size_t cap, const uint8_t *req, const uint8_t *qname,
            uint16_t qtype, uint16_t qclass, int rcode)
{
	uint16_t flags = (uint16_t)(DNS_F_QR | (((req[2] << 8 | req[3]) & 0x7900)) | DNS_F_AA | rcode);

	wr_init(w, buf, cap);
	wr_u16(w, (uint16_t)(req[0] << 8 | req[1]));
	wr_u16(w, flags);
	wr_u16(w, 1);
	wr_u16(w, 0);
	wr_u16(w, 0);
	wr_u16(w, 0);
	wr_name(w, qname);
	wr_u16(w, qtype);
	wr_u16(w, qclass);
}

static uint8_t apex[DNAME_MAX];

static void
put_soa(struct wr *w)
{
	uint8_t mname[DNAME_MAX], rname[DNAME_MAX];
	dname_from_text(mname, "ns1.seed.test");
	dname_from_text(rname, "hostmaster.seed.test");
	wr_name(w, apex);
	wr_u16(w, DNS_T_SOA);
	wr_u16(w, DNS_C_IN);
	wr_u32(w, 3600);
	size_t at = w->off;
	wr_u16(w, 0);
	wr_name(w, mname);
	wr_name(w, rname);
	wr_u32(w, 2024010101);
	wr_u32(w, 3600);
	wr_u32(w, 600);
	wr_u32(w, 86400);
	wr_u32(w, 300);
	wr_put_u16(w, at, (uint16_t)(w->off - at - 2));
}

static void
put_a(struct wr *w, int i)
{
	char text[64];
	uint8_t name[DNAME_MAX];
	snprintf(text, sizeof(text), "n%d.seed.test", i);
	dname_from_text(name, text);
	wr_name(w, name);
	wr_u16(w, DNS_T_A);
	wr_u16(w, DNS_C_IN);
	wr_u32(w, 60);
	wr_u16(w, 4);
	wr_u8(w, 192);
	wr_u8(w, 0);
	wr_u8(w, 2);
	wr_u8(w, (uint8_t)i);
}

static int
serve(const char *keyfile)
{
	static uint8_t req[MSG_MAX], buf[MSG_MAX];
	struct tsig_key k;
	struct tsig_state st;
	uint8_t qname[DNAME_MAX];
	struct wr w;

	if (load_key(&k, keyfile) < 0)
		return 2;
	dname_from_text(apex, "seed.test");
	size_t len = fread(req, 1, sizeof(req), stdin);
	uint64_t now = now_s();
	enum tsig_result r = tsig_verify_request(&st, &k, req, len, now);
	fprintf(stderr, "request %zu bytes: tsig %s (time signed %llu, now %llu, mac %zu bytes, orig id %u)\n",
	        len, tsig_result_name(r), (unsigned long long)st.time_signed, (unsigned long long)now,
	        st.mac_len, st.orig_id);
	if (r == TSIG_FORMERR || len < DNS_HDR) {
		memcpy(buf, req, DNS_HDR < len ? DNS_HDR : len);
		buf[2] |= 0x80;
		buf[3] = (uint8_t)((buf[3] & 0xf0) | DNS_R_FORMERR);
		memset(buf + 4, 0, 8);
		emit(buf, DNS_HDR);
		return 0;
	}
	size_t qlen = st.tsig_off;
	struct rd rd;
	rd_init(&rd, req, qlen);
	rd_skip(&rd, DNS_HDR);
	rd_name(&rd, qname);
	uint16_t qtype = rd_u16(&rd), qclass = rd_u16(&rd);
	if (rd.err)
		return 2;
	dname_lower(qname);
	if (r != TSIG_OK && r != TSIG_NONE) {
		reply_begin(&w, buf, sizeof(buf), req, qname, qtype, qclass, 0);
		size_t n = w.off;
		if (tsig_sign_error(&st, &k, buf, &n, sizeof(buf), now) < 0)
			return 2;
		emit(buf, n);
		return 0;
	}
	size_t room = sizeof(buf) - tsig_rr_len(&k);
	if (qtype != DNS_T_AXFR) {
		reply_begin(&w, buf, room, req, qname, qtype, qclass, 0);
		if (qtype == DNS_T_SOA) {
			put_soa(&w);
			wr_put_u16(&w, 6, 1);
		}
		size_t n = w.off;
		if (r == TSIG_OK && tsig_sign(&st, &k, buf, &n, sizeof(buf), now) < 0)
			return 2;
		emit(buf, n);
		return 0;
	}
	/* A transfer in 3 messages: SOA + 10 A, 10 A, 10 A + SOA. */
	for (int m = 0; m < 3; m++) {
		uint16_t an = 0;
		if (m == 0) {
			reply_begin(&w, buf, room, req, qname, qtype, qclass, 0);
		} else {
			/* Later messages without the question, as BIND and Knot send them. */
			reply_begin(&w, buf, room, req, qname, qtype, qclass, 0);
			w.off = DNS_HDR;
			w.nnames = 0;
			wr_put_u16(&w, 4, 0);
		}
		if (m == 0) {
			put_soa(&w);
			an++;
		}
		for (int i = 1; i <= 10; i++) {
			put_a(&w, m * 10 + i);
			an++;
		}
		if (m == 2) {
			put_soa(&w);
			an++;
		}
		wr_put_u16(&w, 6, an);
		size_t n = w.off;
		if (r == TSIG_OK && tsig_sign(&st, &k, buf, &n, sizeof(buf), now) < 0)
			return 2;
		emit(buf, n);
	}
	return 0;
}

static int
query(const char *keyfile, const char *addr, const char *port, const char *zone, const char *type)
{
	static uint8_t buf[MSG_MAX], reply[MSG_MAX];
	struct tsig_key k;
	struct tsig_state st;
	uint8_t name[DNAME_MAX];
	struct wr w;
	int notify = strcmp(type, "notify") == 0;

	if (load_key(&k, keyfile) < 0 || dname_from_text(name, zone) < 0)
		return 2;
	uint16_t id = (uint16_t)(getpid() ^ time(NULL));
	wr_init(&w, buf, sizeof(buf));
	wr_u16(&w, id);
	wr_u16(&w, notify ? (uint16_t)(4 << 11 | DNS_F_AA) : 0);
	wr_u16(&w, 1);
	wr_u16(&w, 0);
	wr_u16(&w, 0);
	wr_u16(&w, 0);
	wr_name(&w, name);
	wr_u16(&w, DNS_T_SOA);
	wr_u16(&w, DNS_C_IN);
	size_t n = w.off;
	if (tsig_sign_request(&st, &k, buf, &n, sizeof(buf), now_s()) < 0)
		return 2;

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	inet_pton(AF_INET, addr, &sa.sin_addr);
	/* From 127.66.0.3: the test servers' ACLs name our loopback range. */
	struct sockaddr_in me = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.66.0.3", &me.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    sendto(fd, buf, n, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("send");
		return 2;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 3000) != 1) {
		fprintf(stderr, "no reply\n");
		return 2;
	}
	ssize_t got = recv(fd, reply, sizeof(reply), 0);
	close(fd);
	if (got < DNS_HDR)
		return 2;
	const char *save = getenv("TSIG_SAVE");
	if (save != NULL) {
		/* The exchange as fixed vectors: PREFIX-req.bin, PREFIX-resp.bin. */
		char path[512];
		snprintf(path, sizeof(path), "%s-req.bin", save);
		FILE *f = fopen(path, "wb");
		if (f != NULL) {
			fwrite(buf, 1, n, f);
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s-resp.bin", save);
		if ((f = fopen(path, "wb")) != NULL) {
			fwrite(reply, 1, (size_t)got, f);
			fclose(f);
		}
	}
	enum tsig_result r = tsig_verify_response(&st, &k, reply, (size_t)got, now_s());
	printf("%s reply: %zd bytes, id %s, rcode %d, tsig %s (error field %u)\n", type, got,
	       (reply[0] << 8 | reply[1]) == id ? "ok" : "WRONG", reply[3] & 0xf, tsig_result_name(r),
	       st.error);
	/* And with one bit of the reply flipped: must fail. */
	reply[DNS_HDR + 1] ^= 1;
	enum tsig_result r2 = tsig_verify_response(&st, &k, reply, (size_t)got, now_s());
	printf("%s reply with a flipped bit: tsig %s\n", type, tsig_result_name(r2));
	return r == TSIG_OK && r2 != TSIG_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2]);
	if (argc == 7 && strcmp(argv[1], "query") == 0)
		return query(argv[2], argv[3], argv[4], argv[5], argv[6]);
	fprintf(stderr, "usage: tsig_interop serve KEYFILE | query KEYFILE ADDR PORT ZONE soa|notify\n");
	return 2;
}
