#include <stdio.h>
#include <string.h>

#include "crawl/infnote_msg.h"
#include "t.h"

/* SPEC 5's example messages, byte for byte. */
#define ASK01 "{\"identifier\":\"k3J9x0aQ2b\",\"type\":\"question\",\"content\":{\"type\":\"want_peers\",\"count\":10000}}"
#define ANS01 "{\"identifier\":\"k3J9x0aQ2b\",\"type\":\"answer\",\"content\":{\"type\":\"peers\",\"peers\":[{\"address\":\"47.74.45.236\",\"port\":32767}]}}"
#define INFO01 "{\"identifier\":\"Zq81mmW0cd\",\"type\":\"question\",\"content\":{\"type\":\"info\",\"version\":\"0.1\",\"peers\":0,\"chains\":{},\"platform\":{\"system\":\"seedd\"},\"full_node\":false}}"
#define INFOANS01 "{\"identifier\":\"Zq81mmW0cd\",\"type\":\"answer\",\"content\":{\"type\":\"info\",\"version\":\"0.1\",\"peers\":3,\"chains\":{},\"platform\":{},\"full_node\":true}}"
#define ERR01 "{\"identifier\":\"k3J9x0aQ2b\",\"type\":\"error\",\"content\":{\"type\":\"error\",\"code\":1,\"desc\":\"\xe2\x80\xa6\"}}"
#define ASK11 "{\"id\":\"8Cq2sdE1\",\"type\":\"request:peers\",\"data\":{\"count\":10000}}"
#define ANS11 "{\"id\":\"Vb41Xz0p\",\"type\":\"response:peers\",\"data\":{\"peers\":[\"wss://chain.example.com:32767/\",\"ws://47.74.45.236:32767\"]}}"
#define ERR11 "{\"id\":\"\xe2\x80\xa6\",\"type\":\"error\",\"data\":{\"Code\":\"BadRequestError\",\"Desc\":\"\xe2\x80\xa6\"}}"

#define ID "k3J9x0aQ2b"

/* What fn saw: the count, the first URLs and the last one, formatted. */
static struct {
	unsigned n;
	char first[4][URL_STR_MAX];
	char last[URL_STR_MAX];
} got;

static void
collect(void *ctx, const struct url *u)
{
	char buf[URL_STR_MAX];

	(void)ctx;
	url_format(u, buf, sizeof(buf));
	if (got.n < 4)
		strcpy(got.first[got.n], buf);
	strcpy(got.last, buf);
	got.n++;
}

static struct peers_result
run_len(const char *msg, size_t len, enum peers_dialect asked, const char *ask_id, int ask_info)
{
	memset(&got, 0, sizeof(got));
	return peers_parse(msg, len, asked, ask_id, ask_info, 32767, collect, NULL);
}

static struct peers_result
run(const char *msg, enum peers_dialect asked, const char *ask_id, int ask_info)
{
	return run_len(msg, strlen(msg), asked, ask_id, ask_info);
}

/* Kind under a 0.1 question with id ID (want_peers). */
static enum peers_kind
k01(const char *msg)
{
	return run(msg, PEERS_D_01, ID, 0).kind;
}

static enum peers_kind
k11(const char *msg)
{
	return run(msg, PEERS_D_11, NULL, 0).kind;
}

/* MALFORMED under every way of asking, and fn never called. */
static int
malformed(const char *msg)
{
	return k01(msg) == PEERS_K_MALFORMED && got.n == 0 && k11(msg) == PEERS_K_MALFORMED && got.n == 0 &&
	       run(msg, PEERS_D_UNKNOWN, NULL, 0).kind == PEERS_K_MALFORMED;
}

/* A 0.1 peers answer to ID holding one entry; returns the kind and leaves the result in *r. */
static struct peers_result
entry01(const char *entry)
{
	static char msg[1024];

	snprintf(msg, sizeof(msg),
	         "{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":\"peers\",\"peers\":[%s]}}", entry);
	return run(msg, PEERS_D_01, ID, 0);
}

static int
good01(const char *entry, const char *want)
{
	struct peers_result r = entry01(entry);
	return r.kind == PEERS_K_PEERS && r.peers == 1 && r.bad == 0 && got.n == 1 && strcmp(got.first[0], want) == 0;
}

static int
bad01(const char *entry)
{
	struct peers_result r = entry01(entry);
	return r.kind == PEERS_K_PEERS && r.peers == 0 && r.bad == 1 && got.n == 0;
}

static struct peers_result
entry11(const char *entry)
{
	static char msg[2048];

	snprintf(msg, sizeof(msg), "{\"id\":\"x\",\"type\":\"response:peers\",\"data\":{\"peers\":[%s]}}", entry);
	return run(msg, PEERS_D_11, NULL, 0);
}

static int
good11(const char *entry, const char *want)
{
	struct peers_result r = entry11(entry);
	return r.kind == PEERS_K_PEERS && r.peers == 1 && r.bad == 0 && got.n == 1 && strcmp(got.first[0], want) == 0;
}

static int
bad11(const char *entry)
{
	struct peers_result r = entry11(entry);
	return r.kind == PEERS_K_PEERS && r.peers == 0 && r.bad == 1 && got.n == 0;
}

static void
test_builders(void)
{
	char buf[512];
	size_t n;

	n = peers_ask_01(buf, sizeof(buf), "k3J9x0aQ2b");
	CHECK("ask 0.1 spec", n == strlen(ASK01) && strcmp(buf, ASK01) == 0);
	n = peers_ask_info_01(buf, sizeof(buf), "Zq81mmW0cd");
	CHECK("info 0.1 spec", n == strlen(INFO01) && strcmp(buf, INFO01) == 0);
	n = peers_ask_11(buf, sizeof(buf), "8Cq2sdE1");
	CHECK("ask 1.1 spec", n == strlen(ASK11) && strcmp(buf, ASK11) == 0);

	CHECK("exact cap", peers_ask_01(buf, strlen(ASK01) + 1, "k3J9x0aQ2b") == strlen(ASK01));
	CHECK("short cap", peers_ask_01(buf, strlen(ASK01), "k3J9x0aQ2b") == 0 && buf[0] == '\0');
	CHECK("short cap info", peers_ask_info_01(buf, 20, "Zq81mmW0cd") == 0 && buf[0] == '\0');
	CHECK("short cap 1.1", peers_ask_11(buf, strlen(ASK11), "8Cq2sdE1") == 0 && peers_ask_11(buf, 0, "a") == 0);
	CHECK("bad ids", peers_ask_01(buf, sizeof(buf), "") == 0 && peers_ask_01(buf, sizeof(buf), "a\"b") == 0 &&
	      peers_ask_11(buf, sizeof(buf), "a b") == 0 && peers_ask_info_01(buf, sizeof(buf), NULL) == 0 &&
	      peers_ask_11(buf, sizeof(buf), "0123456789abcdef0123456789abcdefX") == 0);
	CHECK("id of PEERS_ID_MAX", peers_ask_11(buf, sizeof(buf), "0123456789abcdef0123456789abcdef") > 0);

	/* Our own questions are valid JSON of their dialect, and not answers. */
	struct peers_result r = run(ASK01, PEERS_D_01, ID, 0);
	CHECK("own 0.1 question", r.kind == PEERS_K_OTHER && r.dialect == PEERS_D_01);
	r = run(INFO01, PEERS_D_01, "Zq81mmW0cd", 1);
	CHECK("own info question", r.kind == PEERS_K_OTHER && r.dialect == PEERS_D_01);
	r = run(ASK11, PEERS_D_11, NULL, 0);
	CHECK("own 1.1 question", r.kind == PEERS_K_OTHER && r.dialect == PEERS_D_11);
}

static void
test_classify(void)
{
	struct peers_result r;

	/* asked 0.1 */
	r = run(ANS01, PEERS_D_01, ID, 0);
	CHECK("0.1 spec answer", r.kind == PEERS_K_PEERS && r.dialect == PEERS_D_01 && r.peers == 1 && r.bad == 0 &&
	      r.dropped == 0 && got.n == 1 && strcmp(got.first[0], "ws://47.74.45.236:32767/") == 0);
	r = run(ANS01, PEERS_D_01, ID, 1);
	CHECK("0.1 peers while asking info", r.kind == PEERS_K_PEERS);
	r = run(INFOANS01, PEERS_D_01, "Zq81mmW0cd", 1);
	CHECK("0.1 spec info answer", r.kind == PEERS_K_INFO && r.dialect == PEERS_D_01 && got.n == 0);
	CHECK("0.1 info not asked", run(INFOANS01, PEERS_D_01, "Zq81mmW0cd", 0).kind == PEERS_K_OTHER);
	CHECK("0.1 info other id", run(INFOANS01, PEERS_D_01, ID, 1).kind == PEERS_K_OTHER);
	r = run(ERR01, PEERS_D_01, ID, 0);
	CHECK("0.1 spec error", r.kind == PEERS_K_ERROR && r.dialect == PEERS_D_01);
	CHECK("0.1 error other id", run(ERR01, PEERS_D_01, "Zq81mmW0cd", 0).kind == PEERS_K_OTHER);
	CHECK("0.1 answer other id", run(ANS01, PEERS_D_01, "Zq81mmW0cd", 0).kind == PEERS_K_OTHER && got.n == 0);
	CHECK("0.1 no question", run(ANS01, PEERS_D_01, NULL, 0).kind == PEERS_K_OTHER && got.n == 0);
	CHECK("0.1 id prefix", run(ANS01, PEERS_D_01, "k3J9x0aQ2", 0).kind == PEERS_K_OTHER &&
	      run(ANS01, PEERS_D_01, "k3J9x0aQ2bb", 0).kind == PEERS_K_OTHER);
	CHECK("0.1 their question", k01("{\"identifier\":\"" ID "\",\"type\":\"question\",\"content\":{\"type\":\"info\"}}") ==
	      PEERS_K_OTHER);
	CHECK("0.1 broadcast", k01("{\"identifier\":\"zz\",\"type\":\"broadcast\",\"content\":{\"type\":\"block\"}}") == PEERS_K_OTHER);
	CHECK("0.1 other content type", k01("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":\"chains\"}}") ==
	      PEERS_K_OTHER);
	CHECK("0.1 content type missing", k01("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"peers\":[]}}") ==
	      PEERS_K_OTHER);
	CHECK("0.1 content type not string",
	      k01("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":1,\"peers\":[]}}") == PEERS_K_OTHER);
	r = run("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":\"peers\",\"peers\":[]}}", PEERS_D_01, ID, 0);
	CHECK("0.1 empty peers", r.kind == PEERS_K_PEERS && r.peers == 0 && r.bad == 0);
	r = run(ERR11, PEERS_D_01, ID, 0);
	CHECK("1.1 error to 0.1 question", r.kind == PEERS_K_SHAPED_11 && r.dialect == PEERS_D_11);
	r = run(ANS11, PEERS_D_01, ID, 0);
	CHECK("1.1 peers to 0.1 question", r.kind == PEERS_K_SHAPED_11 && r.dialect == PEERS_D_11 && got.n == 0);
	CHECK("1.1 shape needs data", k01("{\"id\":\"a\",\"type\":\"error\"}") == PEERS_K_OTHER);
	CHECK("1.1 shape needs string id", k01("{\"id\":1,\"type\":\"error\",\"data\":{}}") == PEERS_K_OTHER);
	r = run("{\"identifier\":1,\"type\":\"answer\",\"content\":{}}", PEERS_D_01, ID, 0);
	CHECK("0.1 shape needs string identifier", r.kind == PEERS_K_OTHER && r.dialect == PEERS_D_UNKNOWN);
	r = run("{\"identifier\":\"" ID "\",\"type\":\"answer\"}", PEERS_D_01, ID, 0);
	CHECK("0.1 shape needs content", r.kind == PEERS_K_OTHER && r.dialect == PEERS_D_UNKNOWN);
	CHECK("0.1 shape needs string type", k01("{\"identifier\":\"" ID "\",\"type\":[\"answer\"],\"content\":{}}") == PEERS_K_OTHER);
	r = run("{}", PEERS_D_01, ID, 0);
	CHECK("empty object", r.kind == PEERS_K_OTHER && r.dialect == PEERS_D_UNKNOWN);
	CHECK("neither shape", k01("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}") == PEERS_K_OTHER &&
	      k11("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}") == PEERS_K_OTHER);

	/* asked 1.1 */
	r = run(ANS11, PEERS_D_11, NULL, 0);
	CHECK("1.1 spec answer", r.kind == PEERS_K_PEERS && r.dialect == PEERS_D_11 && r.peers == 2 && r.bad == 0 &&
	      got.n == 2 && strcmp(got.first[0], "wss://chain.example.com:32767/") == 0 &&
	      strcmp(got.first[1], "ws://47.74.45.236:32767/") == 0);
	CHECK("1.1 answer any id", run(ANS11, PEERS_D_11, ID, 0).kind == PEERS_K_PEERS);
	r = run(ERR11, PEERS_D_11, NULL, 0);
	CHECK("1.1 spec error", r.kind == PEERS_K_ERROR && r.dialect == PEERS_D_11);
	CHECK("1.1 their question", k11(ASK11) == PEERS_K_OTHER);
	CHECK("1.1 other type", k11("{\"id\":\"a\",\"type\":\"notify:block\",\"data\":{\"x\":[1,2]}}") == PEERS_K_OTHER);
	r = run(ANS01, PEERS_D_11, ID, 0);
	CHECK("0.1 answer to 1.1 question", r.kind == PEERS_K_OTHER && r.dialect == PEERS_D_01 && got.n == 0);
	CHECK("0.1 error to 1.1 question", k11(ERR01) == PEERS_K_OTHER);
	r = run("{\"id\":\"a\",\"type\":\"response:peers\",\"data\":{\"peers\":[]}}", PEERS_D_11, NULL, 0);
	CHECK("1.1 empty peers", r.kind == PEERS_K_PEERS && r.peers == 0);

	/* no question */
	CHECK("nothing asked", run(ANS01, PEERS_D_UNKNOWN, ID, 0).kind == PEERS_K_OTHER &&
	      run(ANS11, PEERS_D_UNKNOWN, NULL, 0).kind == PEERS_K_OTHER && got.n == 0);
	/* A 1.1 node's own question or broadcast before its reply is not the reply (SPEC 5). */
	CHECK("1.1 broadcast to 0.1 question", run("{\"id\":\"b1\",\"type\":\"broadcast:block\",\"data\":{}}", PEERS_D_01, ID, 0).kind == PEERS_K_OTHER &&
	      run("{\"id\":\"b2\",\"type\":\"request:info\",\"data\":{}}", PEERS_D_01, ID, 0).kind == PEERS_K_OTHER);

	/* both shapes at once: the dialect asked */
	const char *both = "{\"id\":\"x\",\"identifier\":\"" ID "\",\"type\":\"response:peers\",\"content\":{},"
	                   "\"data\":{\"peers\":[\"ws://1.2.3.4\"]}}";
	r = run(both, PEERS_D_11, ID, 0);
	CHECK("both shapes asked 1.1", r.kind == PEERS_K_PEERS && r.dialect == PEERS_D_11 && r.peers == 1);
	r = run(both, PEERS_D_01, ID, 0);
	CHECK("both shapes asked 0.1", r.kind == PEERS_K_OTHER && r.dialect == PEERS_D_01);

	/* our answer, but broken: a protocol failure */
	CHECK("0.1 content not object", k01("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":[]}") == PEERS_K_MALFORMED &&
	      k01("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":\"peers\"}") == PEERS_K_MALFORMED);
	CHECK("0.1 error content not object", k01("{\"identifier\":\"" ID "\",\"type\":\"error\",\"content\":null}") == PEERS_K_MALFORMED);
	r = run("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":\"peers\",\"peers\":{}}}", PEERS_D_01, ID, 0);
	CHECK("0.1 peers not array", r.kind == PEERS_K_MALFORMED && r.dialect == PEERS_D_01);
	CHECK("0.1 peers missing", k01("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":\"peers\"}}") ==
	      PEERS_K_MALFORMED);
	CHECK("0.1 peers null", k01("{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":\"peers\",\"peers\":null}}") ==
	      PEERS_K_MALFORMED);
	CHECK("1.1 data not object", k11("{\"id\":\"a\",\"type\":\"response:peers\",\"data\":[\"ws://a\"]}") == PEERS_K_MALFORMED);
	CHECK("1.1 peers not array", k11("{\"id\":\"a\",\"type\":\"response:peers\",\"data\":{\"peers\":\"ws://a\"}}") ==
	      PEERS_K_MALFORMED);
	CHECK("1.1 peers missing", k11("{\"id\":\"a\",\"type\":\"response:peers\",\"data\":{}}") == PEERS_K_MALFORMED);
	CHECK("1.1 error data not object", k11("{\"id\":\"a\",\"type\":\"error\",\"data\":\"bad\"}") == PEERS_K_MALFORMED);
	/* not ours: content of any type is their business */
	CHECK("0.1 other id content string", k01("{\"identifier\":\"zz\",\"type\":\"answer\",\"content\":\"x\"}") == PEERS_K_OTHER);
	CHECK("1.1 other data string", k11("{\"id\":\"a\",\"type\":\"notify\",\"data\":\"x\"}") == PEERS_K_OTHER);
}

static void
test_entries(void)
{
	struct peers_result r;

	CHECK("0.1 name", good01("{\"address\":\"Seed.Example.com\",\"port\":1}", "ws://seed.example.com:1/"));
	CHECK("0.1 default port", good01("{\"address\":\"1.2.3.4\"}", "ws://1.2.3.4:32767/"));
	CHECK("0.1 v6", good01("{\"address\":\"2001:DB8::1\",\"port\":5}", "ws://[2001:db8::1]:5/"));
	CHECK("0.1 v6 bracketed", good01("{\"address\":\"[::1]\",\"port\":5}", "ws://[::1]:5/"));
	CHECK("0.1 key order", good01("{\"port\":7,\"address\":\"1.2.3.4\"}", "ws://1.2.3.4:7/"));
	CHECK("0.1 extra keys", good01("{\"x\":{\"port\":1},\"address\":\"1.2.3.4\",\"y\":[{\"address\":\"9.9.9.9\"}],\"port\":8}",
	                               "ws://1.2.3.4:8/"));
	CHECK("0.1 duplicate first wins", good01("{\"address\":\"1.2.3.4\",\"port\":8,\"port\":9,\"address\":\"x\"}", "ws://1.2.3.4:8/"));
	CHECK("0.1 escaped address", good01("{\"address\":\"1.2.3.\\u0034\",\"\\u0070ort\":9}", "ws://1.2.3.4:9/"));
	CHECK("0.1 port 65535", good01("{\"address\":\"a\",\"port\":65535}", "ws://a:65535/"));
	CHECK("0.1 not object", bad01("\"1.2.3.4\"") && bad01("[]") && bad01("null") && bad01("32767"));
	CHECK("0.1 no address", bad01("{\"port\":1}") && bad01("{}") && bad01("{\"Address\":\"1.2.3.4\"}"));
	CHECK("0.1 address not string", bad01("{\"address\":16909060}") && bad01("{\"address\":[\"1.2.3.4\"]}"));
	CHECK("0.1 bad address", bad01("{\"address\":\"\"}") && bad01("{\"address\":\"1.2.3\"}") &&
	      bad01("{\"address\":\"ws://a\"}") && bad01("{\"address\":\"a/b\"}") && bad01("{\"address\":\"1.2.3.4:80\"}") &&
	      bad01("{\"address\":\"u@h\"}") && bad01("{\"address\":\"a?b\"}") && bad01("{\"address\":\"a b\"}") &&
	      bad01("{\"address\":\"[::1]:80\"}") && bad01("{\"address\":\"a\\u0000\"}"));
	CHECK("0.1 bad port", bad01("{\"address\":\"a\",\"port\":0}") && bad01("{\"address\":\"a\",\"port\":65536}") &&
	      bad01("{\"address\":\"a\",\"port\":-1}") && bad01("{\"address\":\"a\",\"port\":1.5}") &&
	      bad01("{\"address\":\"a\",\"port\":1e3}") && bad01("{\"address\":\"a\",\"port\":\"80\"}") &&
	      bad01("{\"address\":\"a\",\"port\":null}") && bad01("{\"address\":\"a\",\"port\":123456}") &&
	      bad01("{\"address\":\"a\",\"port\":32767.0}"));
	r = peers_parse(ANS01, strlen(ANS01), PEERS_D_01, ID, 0, 0, collect, NULL);
	CHECK("0.1 default port 0 unused", r.kind == PEERS_K_PEERS && r.peers == 1);
	const char *noport = "{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":\"peers\","
	                     "\"peers\":[{\"address\":\"a\"}]}}";
	r = peers_parse(noport, strlen(noport), PEERS_D_01, ID, 0, 0, NULL, NULL);
	CHECK("0.1 default port 0", r.kind == PEERS_K_PEERS && r.bad == 1 && r.peers == 0);

	CHECK("1.1 default port", good11("\"ws://A.example\"", "ws://a.example:32767/"));
	CHECK("1.1 bare", good11("\"1.2.3.4:5\"", "ws://1.2.3.4:5/"));
	CHECK("1.1 escaped slashes", good11("\"wss:\\/\\/chain.example.com\\/x\"", "wss://chain.example.com:32767/x"));
	CHECK("1.1 v6", good11("\"ws://[2001:db8::2]:9/\"", "ws://[2001:db8::2]:9/"));
	CHECK("1.1 not string", bad11("1") && bad11("{\"url\":\"ws://a\"}") && bad11("[\"ws://a\"]") && bad11("null") &&
	      bad11("true"));
	CHECK("1.1 bad url", bad11("\"\"") && bad11("\"http://a\"") && bad11("\"ws://u@h\"") && bad11("\"ws://a:0\"") &&
	      bad11("\"ws://a#f\"") && bad11("\"ws://a\\n\"") && bad11("\"ws://\\u00e9.example\"") &&
	      bad11("\"ws://a\\ud83d\\ude00\"") && bad11("\"ws://a\\ud83d\""));
	/* Longer than any URL we take: a bad entry, not an overflow. */
	char big[1200];
	big[0] = '"';
	memcpy(big + 1, "ws://a/", 7);
	memset(big + 8, 'p', 1000);
	strcpy(big + 1008, "\"");
	CHECK("1.1 long string", bad11(big));
	r = entry11("\"ws://a\",1,\"ws://b\",\"ws://a\"");
	CHECK("1.1 mixed", r.kind == PEERS_K_PEERS && r.peers == 3 && r.bad == 1 && got.n == 3 &&
	      strcmp(got.last, "ws://a:32767/") == 0);
	r = peers_parse(ANS11, strlen(ANS11), PEERS_D_11, NULL, 0, 32767, NULL, NULL);
	CHECK("fn NULL", r.kind == PEERS_K_PEERS && r.peers == 2);
}

static void
test_escapes_order(void)
{
	struct peers_result r;

	/* Every part of the 0.1 answer escaped somewhere. */
	r = run("{\"\\u0069dentifier\":\"k3J9x0aQ2\\u0062\",\"typ\\u0065\":\"\\u0061nswer\",\"content\":"
	        "{\"type\":\"p\\u0065ers\",\"peers\":[{\"address\":\"4\\u0037.74.45.236\",\"port\":32767}]}}",
	        PEERS_D_01, ID, 0);
	CHECK("escaped keys and values", r.kind == PEERS_K_PEERS && r.peers == 1);
	CHECK("escaped 1.1 type", k11("{\"id\":\"a\",\"type\":\"response\\u003apeers\",\"data\":{\"peers\":[]}}") == PEERS_K_PEERS);
	CHECK("upper-case hex escape", k11("{\"id\":\"a\",\"type\":\"\\u0045rror\",\"data\":{}}") == PEERS_K_OTHER &&
	      k11("{\"id\":\"a\",\"type\":\"\\u0065rror\",\"data\":{}}") == PEERS_K_ERROR &&
	      k11("{\"id\":\"a\",\"type\":\"\\u0065RROR\",\"data\":{}}") == PEERS_K_OTHER);
	/* Escapes that decode to other keys never match ours. */
	CHECK("key with NUL escape", k11("{\"id\":\"a\",\"type\\u0000\":\"error\",\"data\":{}}") == PEERS_K_OTHER);
	CHECK("lone surrogate key", k11("{\"id\":\"a\",\"type\":\"error\\udc00\",\"data\":{}}") == PEERS_K_OTHER);
	CHECK("all escapes valid", k11("{\"k\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\":1,\"id\":\"a\",\"type\":\"error\","
	                               "\"data\":{}}") == PEERS_K_ERROR);
	CHECK("utf-8 passes through", k11("{\"\xc3\xa9\":\"\xe2\x82\xac\",\"id\":\"a\",\"type\":\"error\",\"data\":{}}") ==
	      PEERS_K_ERROR);

	/* Key order. */
	r = run("{\"content\":{\"peers\":[{\"port\":1,\"address\":\"1.2.3.4\"}],\"type\":\"peers\"},\"type\":\"answer\","
	        "\"identifier\":\"" ID "\"}", PEERS_D_01, ID, 0);
	CHECK("0.1 reversed", r.kind == PEERS_K_PEERS && r.peers == 1 && strcmp(got.first[0], "ws://1.2.3.4:1/") == 0);
	r = run("{\"data\":{\"peers\":[\"ws://a\"]},\"type\":\"response:peers\",\"id\":\"z\"}", PEERS_D_11, NULL, 0);
	CHECK("1.1 reversed", r.kind == PEERS_K_PEERS && r.peers == 1);

	/* Unrelated nested objects, some with our keys inside: only the right level counts. */
	r = run("{\"meta\":{\"type\":\"error\",\"identifier\":\"" ID "\",\"content\":{\"peers\":[{\"address\":\"9.9.9.9\"}]}},"
	        "\"identifier\":\"" ID "\",\"x\":[[{\"type\":\"info\"}],{}],\"type\":\"answer\","
	        "\"content\":{\"extra\":{\"type\":\"info\",\"peers\":\"no\"},\"type\":\"peers\",\"n\":[1,{\"peers\":[]}],"
	        "\"peers\":[{\"address\":\"1.2.3.4\",\"z\":{\"address\":\"8.8.8.8\",\"port\":1}}]},\"tail\":{\"a\":{\"b\":{}}}}",
	        PEERS_D_01, ID, 1);
	CHECK("nested unrelated", r.kind == PEERS_K_PEERS && r.peers == 1 && r.bad == 0 &&
	      strcmp(got.first[0], "ws://1.2.3.4:32767/") == 0);
	r = run("{\"identifier\":\"" ID "\",\"identifier\":\"other\",\"type\":\"error\",\"type\":\"answer\",\"content\":{}}",
	        PEERS_D_01, ID, 0);
	CHECK("duplicate keys first wins", r.kind == PEERS_K_ERROR);
	CHECK("duplicate keys first wins 2",
	      k01("{\"identifier\":\"other\",\"identifier\":\"" ID "\",\"type\":\"error\",\"content\":{}}") == PEERS_K_OTHER);
	r = run("{\"id\":\"a\",\"type\":\"response:peers\",\"data\":{\"peers\":[\"ws://a\"],\"peers\":{}}}", PEERS_D_11, NULL, 0);
	CHECK("duplicate peers first wins", r.kind == PEERS_K_PEERS && r.peers == 1);
	r = run(" \t\r\n" ANS11 "\n\r\t ", PEERS_D_11, NULL, 0);
	CHECK("surrounding whitespace", r.kind == PEERS_K_PEERS && r.peers == 2);
	r = run("{ \"id\" : \"a\" ,\n\"type\"\t:\"response:peers\" , \"data\" : { \"peers\" : [ \"ws://a\" , \"ws://b\" ] } }",
	        PEERS_D_11, NULL, 0);
	CHECK("inner whitespace", r.kind == PEERS_K_PEERS && r.peers == 2);
	CHECK("numbers and literals", k11("{\"a\":[0,-0,1.5,-2e10,3E+2,4e-1,0.0,true,false,null,\"\"],\"id\":\"a\","
	                                  "\"type\":\"error\",\"data\":{}}") == PEERS_K_ERROR);
}

static void
test_malformed(void)
{
	char deep[256];

	CHECK("empty", malformed("") && malformed(" \n"));
	CHECK("not an object", malformed("[]") && malformed("\"x\"") && malformed("1") && malformed("null") &&
	      malformed("true") && malformed("[" ANS11 "]"));
	CHECK("truncated", malformed("{") && malformed("{\"id\"") && malformed("{\"id\":") && malformed("{\"id\":\"a") &&
	      malformed("{\"id\":1"));
	CHECK("trailing garbage", malformed("{}x") && malformed("{} {}") && malformed(ANS11 "]") && malformed(ANS11 ",") &&
	      malformed("{}}") && malformed("{}1"));
	CHECK("embedded NUL", run_len("{}\0", 3, PEERS_D_01, ID, 0).kind == PEERS_K_MALFORMED &&
	      run_len("{\"a\":\"\0\"}", 8, PEERS_D_01, ID, 0).kind == PEERS_K_MALFORMED &&
	      run_len(ANS11 "\0", strlen(ANS11) + 1, PEERS_D_11, NULL, 0).kind == PEERS_K_MALFORMED &&
	      run_len("\0{}", 3, PEERS_D_11, NULL, 0).kind == PEERS_K_MALFORMED);
	CHECK("commas", malformed("{,}") && malformed("{\"a\":1,}") && malformed("{\"a\":[1,]}") &&
	      malformed("{\"a\":[,1]}") && malformed("{\"a\":1,,\"b\":2}") && malformed("{\"a\":1 \"b\":2}") &&
	      malformed("{\"a\":[1 2]}") && malformed("{\"a\":[[] []]}") && malformed("{\"a\":{}\"b\":1}"));
	CHECK("colons", malformed("{\"a\" 1}") && malformed("{\"a\"}") && malformed("{\"a\":}") && malformed("{\"a\"::1}") &&
	      malformed("{:1}") && malformed("{\"a\":[\"b\":1]}") && malformed("{\"a\":1:2}"));
	CHECK("keys", malformed("{1:2}") && malformed("{a:1}") && malformed("{null:1}") && malformed("{{}:1}") &&
	      malformed("{'a':1}"));
	CHECK("literals", malformed("{\"a\":tru}") && malformed("{\"a\":truee}") && malformed("{\"a\":nul}") &&
	      malformed("{\"a\":False}") && malformed("{\"a\":undefined}") && malformed("{\"a\":NaN}"));
	CHECK("numbers", malformed("{\"a\":01}") && malformed("{\"a\":-}") && malformed("{\"a\":1.}") &&
	      malformed("{\"a\":.5}") && malformed("{\"a\":1e}") && malformed("{\"a\":+1}") && malformed("{\"a\":1.2.3}") &&
	      malformed("{\"a\":0x10}") && malformed("{\"a\":1e+}") && malformed("{\"a\":--1}"));
	CHECK("strings", malformed("{\"a\":\"\x01\"}") && malformed("{\"a\":\"\n\"}") && malformed("{\"a\":\"\\q\"}") &&
	      malformed("{\"a\":\"\\u12\"}") && malformed("{\"a\":\"\\u12g4\"}") && malformed("{\"a\":\"\\\"}") &&
	      malformed("{\"a\":'x'}") && malformed("{\"\t\":1}"));
	CHECK("brackets", malformed("{\"a\":[}") && malformed("{\"a\":{]}") && malformed("{\"a\":[1}]") && malformed("{]"));

	/* PEERS_DEPTH_MAX levels, the top object included, and one more. */
	size_t o = 0;
	o += (size_t)sprintf(deep + o, "{\"a\":");
	for (int i = 1; i < PEERS_DEPTH_MAX; i++)
		deep[o++] = '[';
	for (int i = 1; i < PEERS_DEPTH_MAX; i++)
		deep[o++] = ']';
	strcpy(deep + o, "}");
	CHECK("depth max", k01(deep) == PEERS_K_OTHER);
	memmove(deep + 6, deep + 5, strlen(deep + 5) + 1);
	deep[5] = '[';
	memmove(deep + 6 + PEERS_DEPTH_MAX, deep + 5 + PEERS_DEPTH_MAX, strlen(deep + 5 + PEERS_DEPTH_MAX) + 1);
	deep[5 + PEERS_DEPTH_MAX] = ']';
	CHECK("depth max + 1", k01(deep) == PEERS_K_MALFORMED);
}

/*
 * A peers answer of n entries to 10.0.x.y; with bad_every > 0, every
 * bad_every-th entry is the number 0 instead (bad in both dialects).
 */
static size_t
build_many(char *buf, size_t cap, enum peers_dialect d, unsigned n, unsigned bad_every)
{
	size_t o = 0;

	o += (size_t)snprintf(buf + o, cap - o, d == PEERS_D_01 ?
	                      "{\"identifier\":\"" ID "\",\"type\":\"answer\",\"content\":{\"type\":\"peers\",\"peers\":[" :
	                      "{\"id\":\"q\",\"type\":\"response:peers\",\"data\":{\"peers\":[");
	for (unsigned i = 0; i < n; i++) {
		const char *sep = i ? "," : "";
		if (bad_every && i % bad_every == bad_every - 1)
			o += (size_t)snprintf(buf + o, cap - o, "%s0", sep);
		else if (d == PEERS_D_01)
			o += (size_t)snprintf(buf + o, cap - o, "%s{\"address\":\"10.0.%u.%u\",\"port\":%u}", sep, i / 256, i % 256, 1 + i);
		else
			o += (size_t)snprintf(buf + o, cap - o, "%s\"ws://10.0.%u.%u:%u\"", sep, i / 256, i % 256, 1 + i);
	}
	o += (size_t)snprintf(buf + o, cap - o, "]}}");
	return o;
}

static void
test_caps(void)
{
	static char buf[600000];
	struct peers_result r;
	size_t n;

	n = build_many(buf, sizeof(buf), PEERS_D_01, 1500, 0);
	r = run_len(buf, n, PEERS_D_01, ID, 0);
	CHECK("0.1 1500 peers", r.kind == PEERS_K_PEERS && r.peers == 1000 && r.dropped == 500 && r.bad == 0 &&
	      got.n == 1000 && strcmp(got.first[0], "ws://10.0.0.0:1/") == 0 && strcmp(got.last, "ws://10.0.3.231:1000/") == 0);
	n = build_many(buf, sizeof(buf), PEERS_D_11, 1500, 0);
	r = run_len(buf, n, PEERS_D_11, NULL, 0);
	CHECK("1.1 1500 peers", r.kind == PEERS_K_PEERS && r.peers == 1000 && r.dropped == 500 && r.bad == 0 && got.n == 1000 &&
	      strcmp(got.last, "ws://10.0.3.231:1000/") == 0);
	n = build_many(buf, sizeof(buf), PEERS_D_11, 1500, 10);
	r = run_len(buf, n, PEERS_D_11, NULL, 0);
	CHECK("1.1 1500 with bad", r.kind == PEERS_K_PEERS && r.peers == 1000 && r.bad == 150 && r.dropped == 350 &&
	      got.n == 1000);
	n = build_many(buf, sizeof(buf), PEERS_D_01, 1000, 0);
	r = run_len(buf, n, PEERS_D_01, ID, 0);
	CHECK("0.1 exactly 1000", r.kind == PEERS_K_PEERS && r.peers == 1000 && r.dropped == 0 && got.n == 1000);

	/* 9 tokens of envelope, then one per element: exactly PEERS_TOKENS_MAX, then one more. */
	const char *head = "{\"id\":\"q\",\"type\":\"response:peers\",\"data\":{\"peers\":[";
	unsigned elems = PEERS_TOKENS_MAX - 9;
	n = (size_t)sprintf(buf, "%s", head);
	for (unsigned i = 0; i < elems; i++) {
		buf[n++] = '0';
		buf[n++] = ',';
	}
	strcpy(buf + n - 1, "]}}");
	n += 2;
	r = run_len(buf, n, PEERS_D_11, NULL, 0);
	CHECK("tokens max", r.kind == PEERS_K_PEERS && r.bad == elems && r.peers == 0);
	strcpy(buf + n - 3, ",0]}}");
	n += 2;
	r = run_len(buf, n, PEERS_D_11, NULL, 0);
	CHECK("tokens max + 1", r.kind == PEERS_K_MALFORMED);
}

void
test_peers(void)
{
	test_builders();
	test_classify();
	test_entries();
	test_escapes_order();
	test_malformed();
	test_caps();
	CHECK("kind names", strcmp(peers_kind_name(PEERS_K_PEERS), "peers") == 0 &&
	      strcmp(peers_kind_name(PEERS_K_SHAPED_11), "shaped_11") == 0 &&
	      strcmp(peers_kind_name(PEERS_K_MALFORMED), "malformed") == 0);
}
