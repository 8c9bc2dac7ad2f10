/*
 * health: what seedd knows of one node's history, and the model that
 * decides from it whether the node is published, when it is checked
 * next, and when it is forgotten (SPEC 5). Pure arithmetic: times are
 * arguments, in unix seconds; nothing here does I/O.
 *
 * The history: counts, times, the current run of answers, and five
 * decaying windows (2 h, 8 h, 1 d, 1 w, 30 d) of r (time-weighted
 * availability), c (count) and w (weight), written to nodes.csv.
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

#include <stdbool.h>
#include <stdint.h>

enum { HEALTH_2H, HEALTH_8H, HEALTH_1D, HEALTH_1W, HEALTH_30D, HEALTH_WINDOWS };

#define HEALTH_FIRST_AGE 1000 /* seconds: the age of a never-checked node */

#define HEALTH_RECHECK_MAX_S 30   /* the early re-check of a published node that failed */
#define HEALTH_STABLE_IV 6        /* intervals a flaky node must answer before it is published */
#define HEALTH_TRUST 0.9          /* week availability that lets a node back at once */
#define HEALTH_RECENT_S (2 * 86400) /* "up lately": its short backoff cap applies */
#define HEALTH_CAP_RECENT_IV 4    /* that cap, in intervals */
#define HEALTH_CAP_S (4 * 3600)   /* the backoff cap otherwise */
#define HEALTH_FORGET_NEVER_S 86400      /* never answered, known this long: forgotten */
#define HEALTH_FORGET_SILENT_S (7 * 86400) /* answered once, silent this long: forgotten */

struct health_win {
	double r, c, w;
};

struct health {
	uint32_t checks, successes;
	uint8_t fails;       /* failed checks in a row */
	int64_t first_seen, last_check, last_success; /* unix s; 0 = never */
	int64_t run_start;   /* first answer since the last confirmed outage; 0 = none */
	int64_t last_down;   /* when an outage after answering was last confirmed; 0 = never */
	struct health_win win[HEALTH_WINDOWS];
};

extern const int64_t health_tau[HEALTH_WINDOWS];
extern const char *const health_win_name[HEALTH_WINDOWS]; /* "2h", "8h", ... */

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
