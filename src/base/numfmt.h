/*
 * numfmt: printf's "%.6g" and "%.3f" of a double, without printf. musl's
 * printf converts through long double and costs about a microsecond a
 * number: nodes.csv has sixteen a row, so 100,000 rows took two seconds
 * of the loop. Output is printf's for every finite value (ties aside:
 * printf rounds the exact binary value, we round a scaled double, which
 * differs only when that value sits within an ulp of a half).
 */
#ifndef SEEDD_NUMFMT_H
#define SEEDD_NUMFMT_H

#include <stdint.h>

#define NUMFMT_MAX 32 /* room for one number and a NUL */

/* Write v as "%.6g" at p (NUL-terminated); returns the end (at the NUL). */
char *numfmt_g6(char *p, double v);
/* Write v as "%.3f" at p; same contract. */
char *numfmt_f3(char *p, double v);
/* Write v as "%llu" at p; same contract. */
char *numfmt_u(char *p, uint64_t v);
/* Unix time t as "YYYY-MM-DD HH:MM:SS" (UTC); nothing for t <= 0 or past 9999. Same contract. */
char *numfmt_time(char *p, int64_t t);

/*
 * The fast way back: a plain decimal "DDD[.DDD][e[+-]DD]" of at most 15
 * significant digits and a power of ten up to 22 is exact in a double, so
 * one multiplication or division rounds it correctly, as strtod would.
 * Returns 0 with *out set, or -1 (anything else: the caller uses strtod).
 */
int numfmt_parse_simple(const char *s, double *out);
/* "YYYY-MM-DD HH:MM:SS" exactly (UTC) into unix seconds, as timegm: 0, or -1 for any other form. */
int numfmt_parse_time(const char *s, int64_t *out);

#endif
