#include <stdint.h>
#include <string.h>

#include "dht/bencode.h"
#include "t.h"

static struct benc_tok tok[64];
static uint32_t ntok;
static size_t eoff;

static enum benc_err
parse_n(const void *s, size_t len, uint32_t max)
{
	return benc_parse(s, len, tok, max, &ntok, &eoff);
}

static enum benc_err
parse(const char *s)
{
	return parse_n(s, strlen(s), 64);
}

/* Parses as one integer with value v. */
static int
int_is(const char *s, int64_t v)
{
	int64_t got;

	return parse(s) == BENC_OK && ntok == 1 && benc_int(tok, 0, &got) && got == v;
}

static void
test_numbers(void)
{
	CHECK("i0e", int_is("i0e", 0));
	CHECK("i-1e", int_is("i-1e", -1));
	CHECK("i42e", int_is("i42e", 42));
	CHECK("int64 max", int_is("i9223372036854775807e", INT64_MAX));
	CHECK("int64 min", int_is("i-9223372036854775808e", INT64_MIN));
	CHECK("int64 max + 1 refused", parse("i9223372036854775808e") == BENC_E_NUMBER);
	CHECK("int64 min - 1 refused", parse("i-9223372036854775809e") == BENC_E_NUMBER);
	CHECK("int 2^64 refused", parse("i18446744073709551616e") == BENC_E_NUMBER);
	CHECK("int many digits refused", parse("i99999999999999999999999999e") == BENC_E_NUMBER);
	CHECK("i-0e refused", parse("i-0e") == BENC_E_NUMBER);
	CHECK("ie refused", parse("ie") == BENC_E_NUMBER);
	CHECK("i-e refused", parse("i-e") == BENC_E_NUMBER);
	CHECK("i00e refused", parse("i00e") == BENC_E_NUMBER);
	CHECK("i01e refused", parse("i01e") == BENC_E_NUMBER);
	CHECK("i-01e refused", parse("i-01e") == BENC_E_NUMBER);
	CHECK("i+1e refused", parse("i+1e") != BENC_OK);
	CHECK("i1xe refused", parse("i1xe") != BENC_OK);
	CHECK("i--1e refused", parse("i--1e") != BENC_OK);
	CHECK("i1 truncated", parse("i1") == BENC_E_SHORT);
	CHECK("i truncated", parse("i") == BENC_E_SHORT);
	CHECK("i- truncated", parse("i-") == BENC_E_SHORT);

	CHECK("0: empty string", parse("0:") == BENC_OK && ntok == 1 && tok[0].type == BENC_STR &&
	                         tok[0].len == 0 && tok[0].off == 2);
	CHECK("3:abc", parse("3:abc") == BENC_OK && tok[0].off == 2 && tok[0].len == 3 && tok[0].next == 1);
	CHECK("10: two-digit length", parse("10:0123456789") == BENC_OK && tok[0].len == 10 && tok[0].off == 3);
	CHECK("00: refused", parse("00:") == BENC_E_NUMBER);
	CHECK("03:abc refused", parse("03:abc") == BENC_E_NUMBER);
	CHECK("-1: refused", parse("-1:a") != BENC_OK);
	CHECK("length past the buffer", parse("4:abc") == BENC_E_SHORT);
	CHECK("length 2^32 + 3 (would wrap uint32)", parse("4294967299:abc") == BENC_E_SHORT);
	CHECK("length int64 max", parse("9223372036854775807:abc") == BENC_E_SHORT);
	CHECK("length 2^63 refused", parse("9223372036854775808:abc") == BENC_E_NUMBER);
	CHECK("length 2^64 + 1 refused", parse("18446744073709551617:abc") == BENC_E_NUMBER);
	CHECK("length without colon", parse("3abc") != BENC_OK);
	CHECK("length alone", parse("3") == BENC_E_SHORT);
}

static void
test_structure(void)
{
	char deep[2 * (BENC_DEPTH_MAX + 1) + 1];

	CHECK("empty input", parse("") == BENC_E_SHORT);
	CHECK("le", parse("le") == BENC_OK && ntok == 1 && tok[0].type == BENC_LIST && tok[0].count == 0 &&
	            tok[0].len == 2 && tok[0].next == 1);
	CHECK("de", parse("de") == BENC_OK && ntok == 1 && tok[0].type == BENC_DICT && tok[0].count == 0);
	CHECK("lone e", parse("e") == BENC_E_SYNTAX);
	CHECK("unknown byte", parse("x") == BENC_E_SYNTAX);
	CHECK("trailing bytes", parse("i1ex") == BENC_E_TRAILING && eoff == 3);
	CHECK("trailing after dict", parse("dee") == BENC_E_TRAILING);
	CHECK("two values", parse("0:0:") == BENC_E_TRAILING);
	CHECK("list truncated", parse("l") == BENC_E_SHORT);
	CHECK("dict truncated", parse("d1:a") == BENC_E_SHORT);

	/* Nesting: BENC_DEPTH_MAX containers deep is fine, one more is not. */
	memset(deep, 'l', BENC_DEPTH_MAX);
	memset(deep + BENC_DEPTH_MAX, 'e', BENC_DEPTH_MAX);
	deep[2 * BENC_DEPTH_MAX] = 0;
	CHECK("depth max", parse(deep) == BENC_OK && ntok == BENC_DEPTH_MAX && tok[0].next == ntok &&
	                   tok[BENC_DEPTH_MAX - 1].count == 0 && tok[0].count == 1);
	memset(deep, 'l', BENC_DEPTH_MAX + 1);
	memset(deep + BENC_DEPTH_MAX + 1, 'e', BENC_DEPTH_MAX + 1);
	deep[2 * BENC_DEPTH_MAX + 2] = 0;
	CHECK("depth max + 1", parse(deep) == BENC_E_DEPTH);
	memset(deep, 'd', BENC_DEPTH_MAX + 1);
	CHECK("deep dicts refused (keys not strings first)", parse(deep) != BENC_OK);

	/* Token cap. */
	CHECK("tokens: exactly max", parse_n("li1ei2ee", 8, 3) == BENC_OK && ntok == 3);
	CHECK("tokens: max + 1", parse_n("li1ei2ei3ee", 11, 3) == BENC_E_TOKENS);
	CHECK("tokens: max 0", parse_n("i1e", 3, 0) == BENC_E_TOKENS && ntok == 0);

	/* Dictionaries: canonical key order. */
	CHECK("sorted keys", parse("d1:ai1e1:bi2ee") == BENC_OK && tok[0].count == 2 && ntok == 5);
	CHECK("unsorted keys", parse("d1:bi1e1:ai2ee") == BENC_E_ORDER);
	CHECK("duplicate keys", parse("d1:ai1e1:ai2ee") == BENC_E_ORDER);
	CHECK("prefix key sorts first", parse("d1:ai1e2:aai2ee") == BENC_OK);
	CHECK("prefix key after longer", parse("d2:aai1e1:ai2ee") == BENC_E_ORDER);
	CHECK("raw byte order (0x80 after 'z')", parse("d1:zi1e1:\x80i2ee") == BENC_OK);
	CHECK("raw byte order (0x80 before 'z')", parse("d1:\x80i1e1:zi2ee") == BENC_E_ORDER);
	CHECK("empty key", parse("d0:i1ee") == BENC_OK);
	CHECK("empty key twice", parse("d0:i1e0:i2ee") == BENC_E_ORDER);
	CHECK("order is per dictionary", parse("d1:bd1:ai1ee1:ci2ee") == BENC_OK);
	CHECK("inner dict order checked", parse("d1:bd1:bi1e1:ai2eee") == BENC_E_ORDER);
	CHECK("integer key", parse("di1ei2ee") == BENC_E_KEY);
	CHECK("list key", parse("dlei2ee") == BENC_E_KEY);
	CHECK("key without value", parse("d1:ae") == BENC_E_SYNTAX);
	CHECK("second key without value", parse("d1:ai1e1:be") == BENC_E_SYNTAX);

	/* Every proper prefix of a valid message fails, never crashes. */
	static const char msg[] = "d1:ad2:id20:crawler-node-id-0001e1:q4:ping1:t2:\x00\x07"
	                          "1:y1:qe";
	size_t mlen = sizeof(msg) - 1;
	int bad = 0;
	CHECK("ping parses whole", parse_n(msg, mlen, 64) == BENC_OK && ntok == 11);
	for (size_t k = 0; k < mlen; k++) {
		enum benc_err e = parse_n(msg, k, 64);
		if (e != BENC_E_SHORT || ntok != 0)
			bad++;
	}
	CHECK("every prefix is BENC_E_SHORT", bad == 0);
	CHECK("err_name", strcmp(benc_err_name(BENC_E_ORDER), "keys not sorted or duplicated") == 0);
}

static void
test_lookup(void)
{
	const char *s = "d1:ad2:id3:abc1:llli7ei8eeleee1:bl1:x1:yi-5ee1:cdee";
	size_t len;
	int64_t v;
	const uint8_t *p;

	CHECK("nested parses", parse(s) == BENC_OK);
	if (ntok == 0)
		return;
	CHECK("tok[0].next == ntok", tok[0].next == ntok && tok[0].len == strlen(s));
	int a = benc_dict_get((const uint8_t *)s, tok, 0, "a");
	int b = benc_dict_get((const uint8_t *)s, tok, 0, "b");
	int c = benc_dict_get((const uint8_t *)s, tok, 0, "c");
	CHECK("dict_get a", a >= 0 && tok[a].type == BENC_DICT && tok[a].count == 2);
	CHECK("dict_get b", b >= 0 && tok[b].type == BENC_LIST && tok[b].count == 3);
	CHECK("dict_get c (empty dict, last)", c >= 0 && tok[c].type == BENC_DICT && tok[c].count == 0);
	CHECK("dict_get absent", benc_dict_get((const uint8_t *)s, tok, 0, "d") < 0);
	CHECK("dict_get prefix of key absent", benc_dict_get((const uint8_t *)s, tok, (uint32_t)a, "i") < 0);
	CHECK("dict_get on a list", benc_dict_get((const uint8_t *)s, tok, (uint32_t)b, "x") < 0);
	int id = benc_dict_get((const uint8_t *)s, tok, (uint32_t)a, "id");
	p = benc_str((const uint8_t *)s, tok, id, &len);
	CHECK("a.id", p && len == 3 && memcmp(p, "abc", 3) == 0);
	int l = benc_dict_get((const uint8_t *)s, tok, (uint32_t)a, "l");
	CHECK("a.l list of 2", l >= 0 && tok[l].type == BENC_LIST && tok[l].count == 2);
	int l0 = benc_list_at(tok, (uint32_t)l, 0);
	CHECK("a.l[0] is a list", l0 >= 0 && tok[l0].type == BENC_LIST && tok[l0].count == 2);
	CHECK("a.l[0][1] = 8", benc_int(tok, benc_list_at(tok, (uint32_t)l0, 1), &v) && v == 8);
	int l1 = benc_list_at(tok, (uint32_t)l, 1);
	CHECK("a.l[1] empty list", l1 >= 0 && tok[l1].type == BENC_LIST && tok[l1].count == 0);
	CHECK("a.l[2] out of range", benc_list_at(tok, (uint32_t)l, 2) < 0);
	p = benc_str((const uint8_t *)s, tok, benc_list_at(tok, (uint32_t)b, 1), &len);
	CHECK("b[1] = y", p && len == 1 && *p == 'y');
	CHECK("b[2] = -5", benc_int(tok, benc_list_at(tok, (uint32_t)b, 2), &v) && v == -5);
	CHECK("list_at on a dict", benc_list_at(tok, 0, 0) < 0);
	CHECK("benc_str of int is NULL", benc_str((const uint8_t *)s, tok, benc_list_at(tok, (uint32_t)b, 2), &len) == NULL);
	CHECK("benc_str(-1) is NULL", benc_str((const uint8_t *)s, tok, -1, &len) == NULL);
	CHECK("benc_int(-1) false", !benc_int(tok, -1, &v));
	CHECK("benc_int of str false", !benc_int(tok, id, &v));
}

/* The writer's whole output equals want. */
static int
w_is(const struct benc_w *w, const char *want)
{
	return !w->err && w->len == strlen(want) && memcmp(w->p, want, w->len) == 0;
}

static void
test_writer(void)
{
	uint8_t buf[128];
	struct benc_w w;

	benc_w_init(&w, buf, sizeof(buf));
	benc_w_int(&w, 0);
	benc_w_int(&w, -1);
	benc_w_int(&w, 42);
	CHECK("ints", w_is(&w, "i0ei-1ei42e"));

	benc_w_init(&w, buf, sizeof(buf));
	benc_w_int(&w, INT64_MIN);
	CHECK("INT64_MIN", w_is(&w, "i-9223372036854775808e"));
	benc_w_init(&w, buf, sizeof(buf));
	benc_w_int(&w, INT64_MAX);
	CHECK("INT64_MAX", w_is(&w, "i9223372036854775807e"));

	benc_w_init(&w, buf, sizeof(buf));
	benc_w_str(&w, "", 0);
	benc_w_cstr(&w, "spam");
	benc_w_str(&w, "\x00\x07", 2);
	CHECK("strings", w.len == 12 && !w.err && memcmp(buf, "0:4:spam2:\x00\x07", 12) == 0);
	benc_w_init(&w, buf, sizeof(buf));
	benc_w_str(&w, NULL, 0);
	CHECK("empty string given as (NULL, 0)", w_is(&w, "0:"));
	benc_w_init(&w, buf, sizeof(buf));
	benc_w_str(&w, "0123456789", 10);
	CHECK("two-digit length", w_is(&w, "10:0123456789"));

	benc_w_init(&w, buf, sizeof(buf));
	benc_w_dict(&w);
	benc_w_cstr(&w, "a");
	benc_w_list(&w);
	benc_w_int(&w, 1);
	benc_w_dict(&w);
	benc_w_end(&w);
	benc_w_end(&w);
	benc_w_cstr(&w, "b");
	benc_w_cstr(&w, "x");
	benc_w_end(&w);
	CHECK("nested", w_is(&w, "d1:ali1edee1:b1:xe"));
	CHECK("nested parses back", parse_n(buf, w.len, 64) == BENC_OK && ntok == 7);

	/* Overflow: nothing half written, err set and sticky. */
	benc_w_init(&w, buf, 5);
	benc_w_cstr(&w, "ab");
	CHECK("fits", w.len == 4 && !w.err);
	benc_w_cstr(&w, "c");
	CHECK("string too big: nothing written", w.len == 4 && w.err);
	benc_w_end(&w);
	CHECK("err sticks (even for a byte that fits)", w.len == 4 && w.err);
	benc_w_rollback(&w, 4);
	CHECK("rollback clears err", w.len == 4 && !w.err);
	benc_w_int(&w, 5);
	CHECK("int too big: nothing written", w.len == 4 && w.err);
	benc_w_rollback(&w, 2);
	CHECK("rollback to mark", w.len == 2 && !w.err);
	benc_w_int(&w, 7);
	CHECK("after rollback", w.len == 5 && !w.err && memcmp(buf, "2:i7e", 5) == 0);

	benc_w_init(&w, buf, 3);
	benc_w_str(&w, "abc", 3);
	CHECK("length digits fit, body does not", w.len == 0 && w.err);
	benc_w_init(&w, buf, 21);
	benc_w_int(&w, INT64_MIN);
	CHECK("INT64_MIN one byte short", w.len == 0 && w.err);
	benc_w_init(&w, buf, 0);
	benc_w_dict(&w);
	CHECK("zero capacity", w.len == 0 && w.err);

	/* A mark taken before a compound value rolls it back whole. */
	benc_w_init(&w, buf, 12);
	benc_w_dict(&w);
	size_t mark = benc_w_mark(&w);
	benc_w_cstr(&w, "k");
	benc_w_cstr(&w, "0123456789");
	CHECK("compound overflows", w.err && w.len == 4);
	benc_w_rollback(&w, mark);
	benc_w_end(&w);
	CHECK("compound rolled back", w_is(&w, "de"));
}

void
test_bencode(void)
{
	test_numbers();
	test_structure();
	test_lookup();
	test_writer();
}
