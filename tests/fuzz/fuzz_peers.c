/*
 * fuzz_peers: one input = one text message for peers_parse (crawl/infnote_msg.h),
 * classified as an answer to a 0.1 want_peers question (identifier
 * k3J9x0aQ2b), to a 0.1 info question (Zq81mmW0cd), to a 1.1 question,
 * and with no question pending. Invariants:
 *   - kinds and dialects are in range; fn is called exactly result.peers
 *     times, at most PEERS_MAX_PER_ANSWER, and only for PEERS; dropped
 *     peers only past the cap; no counts outside PEERS;
 *   - every URL given to fn is well formed and round-trips: url_format,
 *     then url_parse, gives the same struct;
 *   - the rules of SPEC 5: a 1.1 shape under a 0.1 question is SHAPED_11,
 *     a 0.1 shape under a 1.1 question is OTHER, nothing is an answer when
 *     nothing was asked, INFO only when asked for;
 *   - the shape does not depend on the question, except for messages of
 *     both shapes; JSON-level verdicts agree under every question;
 *   - whitespace before the message changes nothing, a byte after it
 *     ('x', or a NUL) makes it MALFORMED;
 *   - our three questions, built with an id taken from the input, are
 *     valid messages of their dialect that we never take for answers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/infnote_msg.h"
#include "base/url.h"

#include "fuzz.h"

static unsigned calls;

static void
on_peer(void *ctx, const struct url *u)
{
	char buf[URL_STR_MAX];
	struct url v;

	(void)ctx;
	calls++;
	REQUIRE(calls <= PEERS_MAX_PER_ANSWER);
	REQUIRE(u->port != 0 && u->path[0] == '/' && u->host[0] != '\0');
	size_t n = url_format(u, buf, sizeof(buf));
	REQUIRE(n > 0);
	REQUIRE(url_parse(&v, buf, n, 1) == 0 && memcmp(u, &v, sizeof(v)) == 0);
}

static struct peers_result
parse(const char *msg, size_t len, enum peers_dialect asked, const char *ask_id, int ask_info)
{
	calls = 0;
	struct peers_result r = peers_parse(msg, len, asked, ask_id, ask_info, 32767, on_peer, NULL);

	REQUIRE(r.kind >= PEERS_K_MALFORMED && r.kind <= PEERS_K_SHAPED_11);
	REQUIRE(r.dialect == PEERS_D_UNKNOWN || r.dialect == PEERS_D_01 || r.dialect == PEERS_D_11);
	REQUIRE(calls == r.peers && r.peers <= PEERS_MAX_PER_ANSWER);
	REQUIRE(r.dropped == 0 || r.peers == PEERS_MAX_PER_ANSWER);
	if (r.kind != PEERS_K_PEERS)
		REQUIRE(r.peers == 0 && r.bad == 0 && r.dropped == 0);
	else
		REQUIRE(r.dialect == asked);
	if (r.dialect == PEERS_D_UNKNOWN)
		REQUIRE(r.kind == PEERS_K_MALFORMED || r.kind == PEERS_K_OTHER);
	if (r.dialect == PEERS_D_11 && asked != PEERS_D_11)
		REQUIRE(r.kind == PEERS_K_SHAPED_11 || r.kind == PEERS_K_OTHER);
	if (r.dialect == PEERS_D_11 && asked == PEERS_D_UNKNOWN)
		REQUIRE(r.kind == PEERS_K_OTHER);
	if (r.kind == PEERS_K_SHAPED_11)
		REQUIRE(r.dialect == PEERS_D_11 && asked == PEERS_D_01);
	if (r.dialect == PEERS_D_01 && asked != PEERS_D_01)
		REQUIRE(r.kind == PEERS_K_OTHER);
	if (r.kind == PEERS_K_INFO)
		REQUIRE(asked == PEERS_D_01 && ask_info);
	return r;
}

static bool
same(struct peers_result a, struct peers_result b)
{
	return a.kind == b.kind && a.dialect == b.dialect && a.peers == b.peers && a.bad == b.bad &&
	       a.dropped == b.dropped;
}

/* Our own questions: valid, of their dialect, never answers. */
static void
check_builders(const uint8_t *data, size_t size)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char id[PEERS_ID_LEN + 1], msg[512];
	size_t n = 0, len;

	for (; n < PEERS_ID_LEN && n < size; n++)
		id[n] = alnum[data[n] % 62];
	id[n] = '\0';
	if (n == 0)
		return;
	len = peers_ask_01(msg, sizeof(msg), id);
	REQUIRE(len > 0 && same(parse(msg, len, PEERS_D_01, id, 0), (struct peers_result){ PEERS_K_OTHER, PEERS_D_01, 0, 0, 0 }));
	len = peers_ask_info_01(msg, sizeof(msg), id);
	REQUIRE(len > 0 && same(parse(msg, len, PEERS_D_01, id, 1), (struct peers_result){ PEERS_K_OTHER, PEERS_D_01, 0, 0, 0 }));
	len = peers_ask_11(msg, sizeof(msg), id);
	REQUIRE(len > 0 && same(parse(msg, len, PEERS_D_11, id, 0), (struct peers_result){ PEERS_K_OTHER, PEERS_D_11, 0, 0, 0 }));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;

	struct peers_result a = parse(msg, size, PEERS_D_01, "k3J9x0aQ2b", 0);
	struct peers_result b = parse(msg, size, PEERS_D_01, "Zq81mmW0cd", 1);
	struct peers_result c = parse(msg, size, PEERS_D_11, NULL, 0);
	struct peers_result d = parse(msg, size, PEERS_D_UNKNOWN, NULL, 0);

	/* Nothing asked: the shape alone. */
	REQUIRE(d.kind != PEERS_K_SHAPED_11);
	REQUIRE(d.kind != PEERS_K_PEERS && d.kind != PEERS_K_INFO && d.kind != PEERS_K_ERROR);
	/* Not one JSON object: the same under every question. */
	bool bad_json = d.kind == PEERS_K_MALFORMED;
	REQUIRE((a.kind == PEERS_K_MALFORMED && a.dialect == PEERS_D_UNKNOWN) == bad_json);
	REQUIRE((b.kind == PEERS_K_MALFORMED && b.dialect == PEERS_D_UNKNOWN) == bad_json);
	REQUIRE((c.kind == PEERS_K_MALFORMED && c.dialect == PEERS_D_UNKNOWN) == bad_json);
	/* The shape: the same for both 0.1 questions and for none; a 1.1 question only settles both-shaped messages. */
	REQUIRE(a.dialect == b.dialect && a.dialect == d.dialect);
	REQUIRE(c.dialect == a.dialect || (a.dialect == PEERS_D_01 && c.dialect == PEERS_D_11));

	char *buf = malloc(size + 2);
	REQUIRE(buf != NULL);
	buf[0] = ' ';
	memcpy(buf + 1, data, size);
	REQUIRE(same(parse(buf, size + 1, PEERS_D_01, "k3J9x0aQ2b", 0), a));
	REQUIRE(same(parse(buf, size + 1, PEERS_D_11, NULL, 0), c));
	if (size > 0)
		memcpy(buf, data, size);
	buf[size] = 'x';
	REQUIRE(parse(buf, size + 1, PEERS_D_01, "k3J9x0aQ2b", 0).kind == PEERS_K_MALFORMED);
	buf[size] = '\0';
	REQUIRE(parse(buf, size + 1, PEERS_D_11, NULL, 0).kind == PEERS_K_MALFORMED);
	free(buf);

	check_builders(data, size);
	return 0;
}
