/*
 * fuzz_bencode: one input = one buffer for benc_parse (bencode.h).
 * Invariants:
 *   - on an error nothing is claimed (*ntok == 0) and err_off lies within
 *     the input;
 *   - on BENC_OK every token lies inside the buffer (strings: their bytes;
 *     containers: their whole encoding, nested inside their parent's),
 *     `next` indices are consistent (each value's next is past it and
 *     within ntok, tok[0].next == ntok, items chain to the parent's next),
 *     counts match the items, dictionary keys are strings in strictly
 *     increasing raw-byte order, and benc_dict_get/benc_list_at find them;
 *   - canonical form makes the encoding unique: writing the token tree with
 *     the benc_w writer reproduces the input byte for byte, into a buffer
 *     of exactly that size; one byte less sets err and rolls back whole;
 *   - a smaller token cap gives BENC_E_TOKENS or the same verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dht/bencode.h"

#include "fuzz.h"

#define MAXTOK 512

static struct benc_tok tok[MAXTOK];
static uint32_t ntok;

/* Checks value i nested in [lo, hi) and writes it; returns tok[i].next. */
static uint32_t
walk(const uint8_t *p, size_t size, uint32_t i, size_t lo, size_t hi, struct benc_w *w)
{
	const struct benc_tok *t = &tok[i];

	REQUIRE(i < ntok);
	REQUIRE(t->next > i && t->next <= ntok);
	REQUIRE(t->off >= lo && t->off <= hi && t->len <= hi - t->off && hi <= size);
	switch (t->type) {
	case BENC_INT:
		REQUIRE(t->next == i + 1 && t->len >= 3);
		benc_w_int(w, t->i);
		return t->next;
	case BENC_STR:
		REQUIRE(t->next == i + 1);
		benc_w_str(w, p + t->off, t->len);
		return t->next;
	case BENC_LIST:
	case BENC_DICT:
		break;
	default:
		REQUIRE(0);
	}
	REQUIRE(p[t->off] == (t->type == BENC_LIST ? 'l' : 'd') && p[t->off + t->len - 1] == 'e');
	if (t->type == BENC_LIST)
		benc_w_list(w);
	else
		benc_w_dict(w);
	uint32_t k = i + 1, items = 0;
	size_t in_lo = t->off + 1, in_hi = t->off + t->len - 1;
	const struct benc_tok *prev = NULL;
	while (k < t->next) {
		if (t->type == BENC_DICT) {
			const struct benc_tok *key = &tok[k];
			REQUIRE(key->type == BENC_STR);
			if (prev) {
				size_t n = prev->len < key->len ? prev->len : key->len;
				int c = memcmp(p + prev->off, p + key->off, n);
				REQUIRE(c < 0 || (c == 0 && prev->len < key->len));
			}
			prev = key;
			k = walk(p, size, k, in_lo, in_hi, w);
			REQUIRE(k < t->next);
			uint32_t v = k;
			k = walk(p, size, k, in_lo, in_hi, w);
			/* benc_dict_get finds it (keys without a NUL only: it takes a C string). */
			if (key->len < 64 && !memchr(p + key->off, 0, key->len)) {
				char name[64];
				memcpy(name, p + key->off, key->len);
				name[key->len] = 0;
				REQUIRE(benc_dict_get(p, tok, i, name) == (int)v);
			}
		} else {
			REQUIRE(benc_list_at(tok, i, items) == (int)k);
			k = walk(p, size, k, in_lo, in_hi, w);
		}
		items++;
	}
	REQUIRE(k == t->next && items == t->count);
	if (t->type == BENC_LIST)
		REQUIRE(benc_list_at(tok, i, items) == -1);
	benc_w_end(w);
	return t->next;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t eoff = (size_t)-1;
	enum benc_err e = benc_parse(data, size, tok, MAXTOK, &ntok, &eoff);

	REQUIRE(benc_err_name(e) != NULL);
	if (e != BENC_OK) {
		REQUIRE(ntok == 0 && eoff <= size);
		REQUIRE(e >= BENC_E_SHORT && e <= BENC_E_TRAILING);
		return 0;
	}
	REQUIRE(ntok >= 1 && tok[0].next == ntok);
	REQUIRE(tok[0].type == BENC_STR ? tok[0].off + tok[0].len == size : (tok[0].off == 0 && tok[0].len == size));

	uint8_t *out = malloc(size + 1);
	struct benc_w w;
	REQUIRE(out != NULL);
	benc_w_init(&w, out, size);
	REQUIRE(walk(data, size, 0, 0, size, &w) == ntok);
	REQUIRE(!w.err && w.len == size && memcmp(out, data, size) == 0);

	/* One byte short: err set, and the top value (when a scalar) not half written. */
	benc_w_init(&w, out, size - 1);
	size_t mark = benc_w_mark(&w);
	walk(data, size, 0, 0, size, &w);
	REQUIRE(w.err && w.len <= size - 1);
	if (tok[0].type == BENC_INT || tok[0].type == BENC_STR)
		REQUIRE(w.len == 0);
	benc_w_rollback(&w, mark);
	REQUIRE(!w.err && w.len == 0);
	free(out);

	/* A smaller token cap. */
	uint32_t n2;
	struct benc_tok *small = malloc(sizeof(*small) * ntok);
	REQUIRE(small != NULL);
	e = benc_parse(data, size, small, ntok - 1, &n2, &eoff);
	REQUIRE(e == BENC_E_TOKENS && n2 == 0);
	e = benc_parse(data, size, small, ntok, &n2, &eoff);
	REQUIRE(e == BENC_OK && n2 == ntok && memcmp(small, tok, sizeof(*small) * ntok) == 0);
	free(small);
	return 0;
}
