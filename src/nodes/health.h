/*
 * health: what seedd knows of one node's history, and the model that
 * decides from it whether the node is published, when it is checked
 * next, and when it is forgotten (SPEC 5). Pure arithmetic: times are
 * arguments, in unix seconds; nothing here does I/O.
 *
 * The history: counts, times, the current run of answers, and two
 * decaying windows (1 d, 1 w) of r (time-weighted availability) and w
 * (weight), written to nodes.csv. The model reads the week's r / w; the
 * day's r is nodes.csv's reliability column. Nothing else is kept: at
 * 100,000 nodes every 4 bytes of a node is 0.4 MB (sipa's five windows
 * with counts, which the simulator's baseline keeps itself, were 60 B).
 *
 * The model (README "Health"), judged by a churn simulator
 * (tests/churn) against the baseline of SPEC 5 that it replaced:
 *  - published from the first good check while every check answers;
 *  - a published node that fails once stays published until an early
 *    re-check confirms the failure (a second failure in a row);
 *  - a node back from a confirmed outage is published at once when its
 *    week was reliable, else once it has answered for HEALTH_STABLE_IV
 *    intervals (flappers never get there);
 *  - failing nodes are checked at --interval, then 2, 4, 8 ... times it,
 *    capped at 4 intervals while they were up lately, at 4 h otherwise;
 *    forgotten after a day of never answering or a week of silence.
 */
#ifndef SEEDD_HEALTH_H
#define SEEDD_HEALTH_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

enum { HEALTH_1D, HEALTH_1W, HEALTH_WINDOWS };

#define HEALTH_FIRST_AGE 1000 /* seconds: the age of a never-checked node */

#define HEALTH_RECHECK_MAX_S 30   /* the early re-check of a published node that failed */
#define HEALTH_STABLE_IV 6        /* intervals a flaky node must answer before it is published */
#define HEALTH_TRUST 0.9          /* week availability that lets a node back at once */
#define HEALTH_RECENT_S (2 * 86400) /* "up lately": its short backoff cap applies */
#define HEALTH_CAP_RECENT_IV 4    /* that cap, in intervals */
#define HEALTH_CAP_S (4 * 3600)   /* the backoff cap otherwise */
#define HEALTH_FORGET_NEVER_S 86400      /* never answered, known this long: forgotten */
#define HEALTH_FORGET_SILENT_S (7 * 86400) /* answered once, silent this long: forgotten */

/*
 * Stored small: 100,000 nodes each keep two windows and five times.
 *
 * A window in floats (nodes.csv writes them with 6 significant digits, a
 * float keeps 6 through a round trip). The EMA is computed in double and
 * only the result rounded. r and w lie in [0, 1] and move toward 0 or 1
 * by (1 - f) of the distance a check: 1e-4 of it for the 1 w window
 * checked every minute, under half a float ulp near 1 (3e-8) once the
 * distance is below 3e-4, so a plain float would stick there (w of an
 * always-up node, off by that much for ever). Above 1/2 they are stored
 * as the distance to 1, negated (the sign bit is free): 24 bits of
 * relative precision at both ends. The type keeps them from being read
 * as plain numbers: health_unit_get, health_win_get.
 */
struct health_unit {
	float v;
};

struct health_win {
	struct health_unit r, w;
};

/* A window as numbers. */
struct health_winv {
	double r, w;
};

/*
 * Times are unix seconds in 32 bits, 0 = never (good until 2106). Keep
 * arithmetic on them in int64_t (now - h->last_check is, as now is);
 * store through health_stamp.
 */
struct health {
	uint32_t checks, successes;
	uint32_t first_seen, last_check, last_success;
	uint32_t run_start;  /* first answer since the last confirmed outage; 0 = none */
	uint32_t last_down;  /* when an outage after answering was last confirmed; 0 = never */
	struct health_win win[HEALTH_WINDOWS];
	uint8_t fails;       /* failed checks in a row */
};

/* A time as stored: clamped to [0, UINT32_MAX] (before 1970 reads as never). */
static inline uint32_t
health_stamp(int64_t t)
{
	return t <= 0 ? 0 : t >= (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static inline double
health_unit_get(struct health_unit u)
{
	return signbit(u.v) ? 1.0 + (double)u.v : (double)u.v;
}

/* x in [0, 1]; outside, the nearest end. -0.0f is 1. */
static inline struct health_unit
health_unit_put(double x)
{
	if (!(x > 0.0))
		return (struct health_unit){ 0.0f };
	if (x >= 1.0)
		return (struct health_unit){ -0.0f };
	return (struct health_unit){ x > 0.5 ? -(float)(1.0 - x) : (float)x };
}

static inline struct health_winv
health_win_get(const struct health *h, int win)
{
	const struct health_win *w = &h->win[win];

	return (struct health_winv){ health_unit_get(w->r), health_unit_get(w->w) };
}

static inline void
health_win_set(struct health *h, int win, struct health_winv v)
{
	h->win[win] = (struct health_win){ health_unit_put(v.r), health_unit_put(v.w) };
}

extern const int64_t health_tau[HEALTH_WINDOWS];
extern const char *const health_win_name[HEALTH_WINDOWS]; /* "1d", "1w" */

/* Record one check at now (a now before last_check counts as age 0). */
void health_update(struct health *h, int64_t now, bool good);
/* r / w of a window: the share of the observed time the node was up (0 when none observed). */
double health_availability(const struct health *h, int win);

/*
 * A model: the three decisions, from the history alone. published is the
 * node's state before the decision; interval is --interval in seconds.
 * The product runs health_ours; the simulator also runs the baseline.
 */
struct health_model {
	const char *name;
	bool (*publish)(const struct health *h, int64_t now, bool published, int64_t interval);
	/* Seconds until the next check, before jitter (published: as just decided). */
	int64_t (*delay)(const struct health *h, int64_t now, bool published, int64_t interval);
	bool (*forget)(const struct health *h, int64_t now);
};

extern const struct health_model health_ours;

bool health_publish(const struct health *h, int64_t now, bool published, int64_t interval);
int64_t health_delay(const struct health *h, int64_t now, bool published, int64_t interval);
bool health_forget(const struct health *h, int64_t now);

#endif
