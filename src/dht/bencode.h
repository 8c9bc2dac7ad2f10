/*
 * bencode: the encoding of BitTorrent's KRPC messages (BEP 3, BEP 5),
 * without I/O or allocation.
 *
 * Reader: benc_parse checks a whole buffer in one pass and fills a caller's
 * fixed token array in document order. It accepts only canonical bencode:
 * string lengths and integers without leading zeros, no "-0", dictionary
 * keys that are strings in strictly increasing raw-byte order (so no
 * duplicates), nothing after the top-level value. Caps: nesting depth,
 * token count, and string lengths within the buffer; integers must fit in
 * int64. The first error sticks and names what was wrong.
 *
 * Writer: struct benc_w over a fixed buffer; a write that does not fit sets
 * err and writes nothing; callers take a mark and roll back to it, so no
 * value is half written. Keys must be written in sorted order (the caller's
 * job: our messages have fixed key sets).
 */
#ifndef SEEDD_BENCODE_H
#define SEEDD_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENC_DEPTH_MAX 16

enum benc_type { BENC_INT = 1, BENC_STR, BENC_LIST, BENC_DICT };

enum benc_err {
	BENC_OK = 0,
	BENC_E_SHORT,     /* the buffer ended inside a value */
	BENC_E_SYNTAX,    /* not a bencode value where one must be */
	BENC_E_NUMBER,    /* leading zero, "-0", empty, or out of int64 */
	BENC_E_KEY,       /* a dictionary key that is not a string */
	BENC_E_ORDER,     /* keys not strictly increasing (unsorted or duplicate) */
	BENC_E_DEPTH,     /* nested deeper than BENC_DEPTH_MAX */
	BENC_E_TOKENS,    /* more values than the token array holds */
	BENC_E_TRAILING,  /* bytes after the top-level value */
};

struct benc_tok {
	uint8_t type;
	uint32_t off, len;  /* BENC_STR: the string bytes; others: the whole encoding */
	int64_t i;          /* BENC_INT */
	uint32_t count;     /* BENC_LIST: items; BENC_DICT: key-value pairs */
	uint32_t next;      /* index of the token after this value and all inside it */
};

/* Returns BENC_OK and *ntok, or the first error (with *err_off where it was found). */
enum benc_err benc_parse(const uint8_t *p, size_t len, struct benc_tok *tok, uint32_t max,
                         uint32_t *ntok, size_t *err_off);
const char *benc_err_name(enum benc_err e);

/* Value of key in the dictionary at token d; -1 when absent or d is not a dictionary. */
int benc_dict_get(const uint8_t *p, const struct benc_tok *tok, uint32_t d, const char *key);
/* Item k (0-based) of the list at token l; -1 when out of range. */
int benc_list_at(const struct benc_tok *tok, uint32_t l, uint32_t k);
/* A string token's bytes (NULL when t < 0 or not a string). */
const uint8_t *benc_str(const uint8_t *p, const struct benc_tok *tok, int t, size_t *len);
/* An integer token's value; false when t < 0 or not an integer. */
bool benc_int(const struct benc_tok *tok, int t, int64_t *v);

/* --- writer --------------------------------------------------------------- */

struct benc_w {
	uint8_t *p;
	size_t cap, len;
	int err;
};

void benc_w_init(struct benc_w *w, uint8_t *buf, size_t cap);
size_t benc_w_mark(const struct benc_w *w);
void benc_w_rollback(struct benc_w *w, size_t mark);
void benc_w_str(struct benc_w *w, const void *s, size_t n);
void benc_w_cstr(struct benc_w *w, const char *s);
void benc_w_int(struct benc_w *w, int64_t v);
void benc_w_dict(struct benc_w *w); /* "d" */
void benc_w_list(struct benc_w *w); /* "l" */
void benc_w_end(struct benc_w *w);  /* "e" */

#endif
