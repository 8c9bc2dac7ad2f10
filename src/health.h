/*
 * health: the reliability model of SPEC 5 (the one most Bitcoin DNS seeds
 * run). Per node: checks, successes, times, and five decaying statistics
 * (windows of 2 h, 8 h, 1 d, 1 w, 30 d), each r (reliability), c (count)
 * and w (weight). Pure arithmetic: times are arguments, in unix seconds.
 */
#ifndef SEEDD_HEALTH_H
#define SEEDD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

enum { HEALTH_2H, HEALTH_8H, HEALTH_1D, HEALTH_1W, HEALTH_30D, HEALTH_WINDOWS };

#define HEALTH_FIRST_AGE 1000 /* seconds: the age of a never-checked node */

struct health_win {
	double r, c, w;
};

struct health {
	uint32_t checks, successes;
	int64_t first_seen, last_check, last_success; /* unix s; 0 = never */
	struct health_win win[HEALTH_WINDOWS];
};

extern const int64_t health_tau[HEALTH_WINDOWS];
extern const char *const health_win_name[HEALTH_WINDOWS]; /* "2h", "8h", ... */

/* Record one check at now (a now before last_check counts as age 0). */
void health_update(struct health *h, int64_t now, bool good);
/* The rules table of SPEC 5 (the caller adds port and address conditions). */
bool health_good(const struct health *h);

/* What to do with a node that is not good. */
enum health_fate {
	HEALTH_KEEP,   /* check again on the normal schedule */
	HEALTH_IGNORE, /* not checked again for *secs */
	HEALTH_FORGET, /* drop it */
};
enum health_fate health_fate(const struct health *h, int64_t *secs);

#endif
