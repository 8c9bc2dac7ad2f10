/*
 * churn: a simulated network of nodes that come and go, crawled for
 * weeks of simulated time by the I/O-free crawler core (src/crawl/crawl_core.h)
 * under one health model, and what a DNS client would have seen of it
 * (README.md here). Everything is deterministic from --seed: the
 * population, its schedules and the spurious failures come from
 * per-node splitmix64 streams, the core's jitter from rng_init_seed.
 *
 * Files: churn.c (options, the runs, the report), engine.c (the event
 * loop that drives the core), evq.c (its event heap), pop.c (the node
 * kinds and their up/down schedules), metrics.c (counters, samples,
 * percentiles, the table), sipa.c (the baseline model and its self-test).
 * Times are simulated milliseconds from the start (mono) unless named _s.
 */
#ifndef SEEDD_CHURN_H
#define SEEDD_CHURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crawl/crawl_core.h"

#define CHURN_T0 1800000000LL     /* unix s at mono 0 */
#define CHURN_CONCURRENCY 256
#define CHURN_PORT 32767
#define CHURN_SUCCESS_MS 50       /* a good check takes this long */
#define CHURN_SPURIOUS 0.01       /* share of checks of up nodes that fail anyway */
#define CHURN_NEWCOMERS 0.02      /* newcomers a day, as a share of --nodes */
#define CHURN_MATURE_MS 3600000LL /* "up for at least an hour" (coverage) */
#define CHURN_REPORT_MS 3600000LL /* peers re-report every up node this often */
#define CHURN_SAMPLE_MS 60000LL
#define MS_H 3600000LL
#define MS_D 86400000LL

struct churn_opts {
	uint64_t seed;
	uint32_t nodes;
	int64_t days, warmup_days, interval, timeout;
	bool run_sipa, run_ours, assert_mode, selftest;
};

/* --- population (pop.c) --------------------------------------------------- */

enum pkind { K_ALWAYS, K_LONG, K_DIURNAL, K_FLAPPER, K_SHORT, K_NEVER, K_COUNT };

enum pflag {
	P_BORN = 1,      /* exists (arrived) */
	P_NEWCOMER = 2,  /* arrived after t = 0 by the newcomer stream */
	P_GONE = 4,      /* short-lived and dead for good */
	P_ALLGOOD_UNPUB = 8, /* never failed a check, yet seen unpublished after one */
	P_DEATH_WATCH = 16,  /* died published after the warm-up: time to unpublish pending */
	P_LEARNT = 32,   /* learnt by the core at least once */
};

struct pnode {
	uint64_t rs, rf;     /* schedule stream; spurious-failure stream */
	int64_t born, next;  /* arrival; next up/down transition (INT64_MAX: none) */
	int64_t up_since;    /* start of the current up period */
	int64_t died;        /* short-lived: when it died; else -1 */
	int64_t first_pub;   /* -1 = never published */
	int64_t base;        /* diurnal: transition 0's nominal time */
	int64_t hour;        /* the clock hour hour_checks counts */
	uint32_t dk;         /* diurnal: index of the next transition */
	uint32_t idx, gen;   /* the core's slot, NODE_NONE when not known to it */
	uint32_t epoch;      /* up periods so far: stale maturity marks are ignored */
	uint32_t checks, failed;
	uint16_t hour_checks, hour_failed, hour_early;
	int64_t last_chk;    /* when the core last checked it; -1 = never */
	bool last_good;      /* that check's result */
	uint8_t kind, up, mature, pub, flags;
};

extern const char *const pkind_name[K_COUNT];

uint64_t pop_stream(uint64_t seed, uint64_t id, uint64_t purpose);
uint64_t pop_next64(uint64_t *s);
double pop_unif(uint64_t *s); /* [0, 1) */
/* Kind of an initial node or a newcomer, from its own stream. */
enum pkind pop_kind(uint64_t *rs, bool newcomer);
/*
 * Node id, its kind and life drawn from its streams of seed. initial:
 * the steady state at t = 0 (born 0, except short-lived nodes, which
 * arrive within the first day); else a newcomer, up at born.
 */
void pop_init(struct pnode *n, uint64_t seed, uint32_t id, bool initial, int64_t born);
/* Apply the transition due at n->next and draw the one after it. */
void pop_step(struct pnode *n);
/* One check of an up node fails anyway. */
bool pop_spurious(struct pnode *n);

/* --- event queue (evq.c) -------------------------------------------------- */

/*
 * Everything but check results: those end a fixed time after they start
 * (CHURN_SUCCESS_MS or --timeout), so each kind is a FIFO in the engine.
 */
enum ev_type { EV_END, EV_TRANS, EV_MATURE, EV_ARRIVE, EV_NEWCOMER, EV_REPORT, EV_SAMPLE };

struct ev {
	int64_t t;
	uint64_t seq;   /* ties in insertion order */
	uint32_t node;  /* population index */
	uint32_t arg;   /* EV_MATURE: epoch */
	uint32_t type;
};

struct evq {
	struct ev *v;
	size_t n, cap;
	uint64_t seq;
};

void evq_init(struct evq *q);
void evq_free(struct evq *q);
void evq_push(struct evq *q, struct ev e);
/* The earliest event (q->n > 0). */
struct ev evq_pop(struct evq *q);
static inline int64_t
evq_top(const struct evq *q)
{
	return q->n ? q->v[0].t : INT64_MAX;
}

/* --- metrics (metrics.c) -------------------------------------------------- */

struct i64v {
	int64_t *v;
	size_t n, cap;
};

void i64v_push(struct i64v *a, int64_t x);
void i64v_free(struct i64v *a);
/* Nearest-rank percentile of a sorted vector; INT64_MAX when empty. */
int64_t i64v_pct(const struct i64v *a, double q);

/* Counted incrementally as nodes and the zone change: a sample is O(kinds). */
struct live {
	int64_t up[K_COUNT], pub[K_COUNT], pub_up[K_COUNT], mat[K_COUNT], pub_mat[K_COUNT];
};

struct metrics {
	struct live live;
	/* minute samples after the warm-up */
	uint64_t samples, prec_n, cov_n, empty_minutes;
	double prec_sum, prec_min, cov_sum, cov_min;
	double prec_loss[K_COUNT], cov_loss[K_COUNT], pub_share[K_COUNT];
	/* events */
	struct i64v to_publish;   /* newcomers after the warm-up: arrival to first published, ms */
	uint64_t newcomers, never_published;
	struct i64v to_unpublish; /* short-lived deaths after the warm-up while published, ms (censored at the end) */
	uint64_t dead_still_published;
	uint64_t allgood_unpub, allgood_by_kind[K_COUNT];
	uint64_t checks_after, checks_after_by_kind[K_COUNT];
	double node_hours, node_hours_by_kind[K_COUNT];
	uint32_t max_hour_checks, max_hour_failed; /* the busiest node-hour, and how many of its checks failed */
	uint32_t max_hour_regular, max_hour_early; /* most checks in a node-hour that were not early re-checks; most that were */
	uint64_t early_after_good; /* early re-checks whose previous check had not failed: must be 0 */
	uint64_t hours_over_cap; /* node-hours with more regular checks than an interval (-10% jitter) allows */
	uint8_t max_hour_kind;
	/* the run */
	uint64_t checks, spurious, learnt, relearnt, forgotten, outages, dropped;
	uint64_t errors; /* engine/core disagreements: must stay 0 */
	double wall_s;
	uint32_t population;
};

void metrics_init(struct metrics *m);
void metrics_free(struct metrics *m);
void metrics_sample(struct metrics *m);
/* After the run: sorts the vectors. */
void metrics_finish(struct metrics *m);

struct churn_result {
	const char *name;
	struct metrics m;
};

void report_table(const struct churn_opts *o, const struct churn_result *r, size_t n);
void report_kinds(const struct churn_result *r, size_t n);
void report_kv(const struct churn_opts *o, const struct churn_result *r, size_t n);
/* --assert: PASS/FAIL lines for ours (r) against the baseline (base, may be NULL); returns failures. */
int report_assert(const struct churn_opts *o, const struct churn_result *r, const struct churn_result *base,
                  const char *selftest_err);

/* --- the engine (engine.c) ------------------------------------------------ */

/* One model over the whole population: fills res->m. */
void churn_run(const struct churn_opts *o, const struct health_model *model, struct churn_result *res);

/* --- the baseline (sipa.c) ------------------------------------------------ */

extern const struct health_model health_sipa;
bool sipa_good(const struct health *h);
/* The core's node table whose histories health_sipa is asked about (NULL: none). */
void sipa_attach(const struct nodes *t);
/* Histories met more than one check after the last one seen (0 in a sound run). */
unsigned long long sipa_unfollowed(void);
/* NULL when the baseline behaves as measured in the issue, else what differs. */
const char *sipa_selftest(char *buf, size_t len);

#endif
