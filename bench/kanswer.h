/*
 * kanswer: the few fields krpcload reads from a KRPC answer (t, y, the
 * token, the error code), with a small bencode reader of its own.
 */
#ifndef KANSWER_H
#define KANSWER_H

#include <stddef.h>
#include <stdint.h>

struct answer {
	const uint8_t *t, *y, *token;
	size_t tlen, ylen, toklen;
	long long code; /* first element of e, 0 if none */
};

/* 0, or -1 when p[0..len) is not a bencoded dictionary. */
int parse_answer(const uint8_t *p, size_t len, struct answer *a);

#endif
