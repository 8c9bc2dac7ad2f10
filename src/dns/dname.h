/*
 * dname: domain names in wire form (length-prefixed labels ending with a
 * zero byte), always lowercase inside seedd so comparison is memcmp.
 * Parsers return the wire length (>= 1) or -1 on bad input.
 */
#ifndef SEEDD_DNAME_H
#define SEEDD_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNAME_MAX 255 /* RFC 1035 2.3.4: wire form, including the root byte */
#define DNAME_LABEL_MAX 63
#define DNAME_TEXT_MAX 1024 /* text form, with room for \DDD escapes */

/*
 * Text to lowercase wire form. Accepts letters, digits, '-', '_' in labels
 * of 1..63 bytes, an optional trailing dot; "." or "" is the root.
 */
int dname_from_text(uint8_t out[DNAME_MAX], const char *s);
/* Wire to text, lowercase as stored, no trailing dot ("." for the root). */
void dname_to_text(const uint8_t *name, char *out, size_t len);
size_t dname_len(const uint8_t *name);
int dname_labels(const uint8_t *name);
/* True when name equals apex or lies below it. */
bool dname_in_zone(const uint8_t *name, const uint8_t *apex);
/* The parent of a non-root name (points inside name). */
const uint8_t *dname_parent(const uint8_t *name);
void dname_lower(uint8_t *name);

#endif
