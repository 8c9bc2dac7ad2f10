/*
 * metrics: the minute samples, the distributions, and the report: a
 * Markdown table per metric (one column per model), the same broken down
 * by node kind, key=value lines, and the goals of --assert.
 *
 * Definitions (README.md here): precision = published and up / published,
 * over minutes with a non-empty zone; coverage = published among nodes up
 * for at least an hour / nodes up for at least an hour. A kind's
 * precision loss is its published-but-down nodes over all published, so
 * the kinds' losses add up to 1 - precision; coverage loss likewise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"

void
i64v_push(struct i64v *a, int64_t x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		int64_t *v = realloc(a->v, cap * sizeof(*v));
		if (!v) {
			fprintf(stderr, "churn: out of memory\n");
			exit(2);
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
}

void
i64v_free(struct i64v *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int64_t
i64v_pct(const struct i64v *a, double q)
{
	if (!a->n)
		return INT64_MAX;
	size_t r = (size_t)(q * (double)a->n + 0.999999);
	return a->v[r < 1 ? 0 : r > a->n ? a->n - 1 : r - 1];
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

void
metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->prec_min = 1.0;
	m->cov_min = 1.0;
}

void
metrics_free(struct metrics *m)
{
	i64v_free(&m->to_publish);
	i64v_free(&m->to_unpublish);
}

void
metrics_sample(struct metrics *m)
{
	const struct live *l = &m->live;
	int64_t up = 0, pub = 0, pub_up = 0, mat = 0, pub_mat = 0;

	for (int k = 0; k < K_COUNT; k++) {
		up += l->up[k];
		pub += l->pub[k];
		pub_up += l->pub_up[k];
		mat += l->mat[k];
		pub_mat += l->pub_mat[k];
	}
	m->samples++;
	if (pub > 0) {
		double p = (double)pub_up / (double)pub;
		m->prec_sum += p;
		m->prec_n++;
		if (p < m->prec_min)
			m->prec_min = p;
		for (int k = 0; k < K_COUNT; k++) {
			m->prec_loss[k] += (double)(l->pub[k] - l->pub_up[k]) / (double)pub;
			m->pub_share[k] += (double)l->pub[k] / (double)pub;
		}
	} else if (up > 0) {
		m->empty_minutes++;
	}
	if (mat > 0) {
		double c = (double)pub_mat / (double)mat;
		m->cov_sum += c;
		m->cov_n++;
		if (c < m->cov_min)
			m->cov_min = c;
		for (int k = 0; k < K_COUNT; k++)
			m->cov_loss[k] += (double)(l->mat[k] - l->pub_mat[k]) / (double)mat;
	}
}

void
metrics_finish(struct metrics *m)
{
	qsort(m->to_publish.v, m->to_publish.n, sizeof(int64_t), cmp_i64);
	qsort(m->to_unpublish.v, m->to_unpublish.n, sizeof(int64_t), cmp_i64);
}

/* --- derived figures -------------------------------------------------------- */

static double
prec_mean(const struct metrics *m)
{
	return m->prec_n ? m->prec_sum / (double)m->prec_n : 0.0;
}

static double
cov_mean(const struct metrics *m)
{
	return m->cov_n ? m->cov_sum / (double)m->cov_n : 0.0;
}

static double
cost(const struct metrics *m)
{
	return m->node_hours > 0 ? (double)m->checks_after / m->node_hours : 0.0;
}

static int64_t
dead_max(const struct metrics *m)
{
	return m->to_unpublish.n ? m->to_unpublish.v[m->to_unpublish.n - 1] : INT64_MAX;
}

static void
fmt_dur(char *buf, size_t len, int64_t ms)
{
	if (ms == INT64_MAX)
		snprintf(buf, len, "never");
	else if (ms < 1000)
		snprintf(buf, len, "%lld ms", (long long)ms);
	else if (ms < 120000)
		snprintf(buf, len, "%.1f s", (double)ms / 1e3);
	else if (ms < 2 * MS_H)
		snprintf(buf, len, "%.1f min", (double)ms / 6e4);
	else if (ms < 2 * MS_D)
		snprintf(buf, len, "%.1f h", (double)ms / (double)MS_H);
	else
		snprintf(buf, len, "%.1f d", (double)ms / (double)MS_D);
}

static void
fmt_s(char *buf, size_t len, int64_t ms)
{
	if (ms == INT64_MAX)
		snprintf(buf, len, "inf");
	else
		snprintf(buf, len, "%.3f", (double)ms / 1e3);
}

/* --- the tables ------------------------------------------------------------- */

#define CELL 64

enum row_kind { R_PREC, R_PREC_MIN, R_COV, R_COV_MIN, R_PUB50, R_PUB95, R_NEVER, R_ALLGOOD, R_DEAD50, R_DEAD95,
	R_DEADMAX, R_DEADLEFT, R_EMPTY, R_COST, R_HOURMAX, R_HOURSPLIT, R_OVERCAP, R_CHECKS, R_FORGOT, R_ERRORS, R_WALL, R_COUNT };

static const char *const row_label[R_COUNT] = {
	"precision (published that are up), mean",
	"precision, worst minute",
	"coverage (up ≥ 1 h that are published), mean",
	"coverage, worst minute",
	"newcomer: arrival to first published, p50",
	"newcomer: arrival to first published, p95",
	"newcomers never published",
	"nodes that passed every check yet were unpublished",
	"dead node: death to unpublished, p50",
	"dead node: death to unpublished, p95",
	"dead node: death to unpublished, max",
	"dead nodes still published at the end",
	"minutes with an empty zone while a node was up",
	"checks per node per hour",
	"most checks of one node in a clock hour",
	"most regular checks; most early re-checks, in one node-hour",
	"node-hours with more regular checks than 3600 / (0.9 interval) + 1",
	"checks (whole run; spurious failures)",
	"forgotten / learnt again",
	"engine errors (must be 0)",
	"wall time",
};

static void
cell(char *buf, enum row_kind r, const struct metrics *m)
{
	switch (r) {
	case R_PREC: snprintf(buf, CELL, "%.4f", prec_mean(m)); break;
	case R_PREC_MIN: snprintf(buf, CELL, "%.4f", m->prec_min); break;
	case R_COV: snprintf(buf, CELL, "%.4f", cov_mean(m)); break;
	case R_COV_MIN: snprintf(buf, CELL, "%.4f", m->cov_min); break;
	case R_PUB50: fmt_dur(buf, CELL, i64v_pct(&m->to_publish, 0.50)); break;
	case R_PUB95: fmt_dur(buf, CELL, i64v_pct(&m->to_publish, 0.95)); break;
	case R_NEVER:
		snprintf(buf, CELL, "%llu of %llu", (unsigned long long)m->never_published,
		         (unsigned long long)m->newcomers);
		break;
	case R_ALLGOOD: snprintf(buf, CELL, "%llu", (unsigned long long)m->allgood_unpub); break;
	case R_DEAD50: fmt_dur(buf, CELL, i64v_pct(&m->to_unpublish, 0.50)); break;
	case R_DEAD95: fmt_dur(buf, CELL, i64v_pct(&m->to_unpublish, 0.95)); break;
	case R_DEADMAX: fmt_dur(buf, CELL, dead_max(m)); break;
	case R_DEADLEFT:
		snprintf(buf, CELL, "%llu of %zu", (unsigned long long)m->dead_still_published, m->to_unpublish.n);
		break;
	case R_EMPTY: snprintf(buf, CELL, "%llu", (unsigned long long)m->empty_minutes); break;
	case R_COST: snprintf(buf, CELL, "%.3f", cost(m)); break;
	case R_HOURMAX:
		snprintf(buf, CELL, "%u (%s, %u failed)", m->max_hour_checks, pkind_name[m->max_hour_kind],
		         m->max_hour_failed);
		break;
	case R_HOURSPLIT: snprintf(buf, CELL, "%u; %u", m->max_hour_regular, m->max_hour_early); break;
	case R_OVERCAP: snprintf(buf, CELL, "%llu", (unsigned long long)m->hours_over_cap); break;
	case R_CHECKS:
		snprintf(buf, CELL, "%llu; %llu", (unsigned long long)m->checks, (unsigned long long)m->spurious);
		break;
	case R_FORGOT:
		snprintf(buf, CELL, "%llu / %llu", (unsigned long long)m->forgotten, (unsigned long long)m->relearnt);
		break;
	case R_ERRORS: snprintf(buf, CELL, "%llu", (unsigned long long)m->errors); break;
	case R_WALL: snprintf(buf, CELL, "%.1f s", m->wall_s); break;
	default: buf[0] = 0; break;
	}
}

void
report_table(const struct churn_opts *o, const struct churn_result *r, size_t n)
{
	char buf[CELL];

	printf("Churn: %u nodes (+%.0f%% a day newcomers), %lld days after a %lld-day warm-up, --interval %lld, "
	       "--timeout %lld, seed %llu; population at the end %u.\n\n",
	       o->nodes, CHURN_NEWCOMERS * 100, (long long)(o->days - o->warmup_days), (long long)o->warmup_days,
	       (long long)o->interval, (long long)o->timeout, (unsigned long long)o->seed,
	       n ? r[0].m.population : 0);
	printf("| metric |");
	for (size_t j = 0; j < n; j++)
		printf(" %s |", r[j].name);
	printf("\n|---|");
	for (size_t j = 0; j < n; j++)
		printf("---:|");
	printf("\n");
	for (int row = 0; row < R_COUNT; row++) {
		printf("| %s |", row_label[row]);
		for (size_t j = 0; j < n; j++) {
			cell(buf, (enum row_kind)row, &r[j].m);
			printf(" %s |", buf);
		}
		printf("\n");
	}
	printf("\n");
}

void
report_kinds(const struct churn_result *r, size_t n)
{
	static const char *const head[] = { "share of zone", "precision loss", "coverage loss", "checks/node/h",
		"all-good unpublished" };

	printf("By node kind (losses add up to 1 - precision and 1 - coverage):\n\n| kind |");
	for (size_t h = 0; h < sizeof(head) / sizeof(head[0]); h++)
		for (size_t j = 0; j < n; j++)
			printf(" %s %s |", head[h], r[j].name);
	printf("\n|---|");
	for (size_t h = 0; h < sizeof(head) / sizeof(head[0]) * n; h++)
		printf("---:|");
	printf("\n");
	for (int k = 0; k < K_COUNT; k++) {
		printf("| %s |", pkind_name[k]);
		for (size_t j = 0; j < n; j++) {
			const struct metrics *m = &r[j].m;
			printf(" %.4f |", m->prec_n ? m->pub_share[k] / (double)m->prec_n : 0.0);
		}
		for (size_t j = 0; j < n; j++) {
			const struct metrics *m = &r[j].m;
			printf(" %.4f |", m->prec_n ? m->prec_loss[k] / (double)m->prec_n : 0.0);
		}
		for (size_t j = 0; j < n; j++) {
			const struct metrics *m = &r[j].m;
			printf(" %.4f |", m->cov_n ? m->cov_loss[k] / (double)m->cov_n : 0.0);
		}
		for (size_t j = 0; j < n; j++) {
			const struct metrics *m = &r[j].m;
			double h = m->node_hours_by_kind[k];
			printf(" %.3f |", h > 0 ? (double)m->checks_after_by_kind[k] / h : 0.0);
		}
		for (size_t j = 0; j < n; j++)
			printf(" %llu |", (unsigned long long)r[j].m.allgood_by_kind[k]);
		printf("\n");
	}
	printf("\n");
}

void
report_kv(const struct churn_opts *o, const struct churn_result *r, size_t n)
{
	char a[CELL], b[CELL], c[CELL], d[CELL], e[CELL];

	printf("nodes=%u days=%lld warmup_days=%lld interval=%lld timeout=%lld seed=%llu\n", o->nodes,
	       (long long)o->days, (long long)o->warmup_days, (long long)o->interval, (long long)o->timeout,
	       (unsigned long long)o->seed);
	for (size_t j = 0; j < n; j++) {
		const struct metrics *m = &r[j].m;
		const char *p = r[j].name;
		fmt_s(a, CELL, i64v_pct(&m->to_publish, 0.50));
		fmt_s(b, CELL, i64v_pct(&m->to_publish, 0.95));
		fmt_s(c, CELL, i64v_pct(&m->to_unpublish, 0.50));
		fmt_s(d, CELL, i64v_pct(&m->to_unpublish, 0.95));
		fmt_s(e, CELL, dead_max(m));
		printf("%s.precision_mean=%.5f\n%s.precision_worst=%.5f\n%s.coverage_mean=%.5f\n%s.coverage_worst=%.5f\n",
		       p, prec_mean(m), p, m->prec_min, p, cov_mean(m), p, m->cov_min);
		printf("%s.publish_p50_s=%s\n%s.publish_p95_s=%s\n%s.newcomers=%llu\n%s.never_published=%llu\n", p, a,
		       p, b, p, (unsigned long long)m->newcomers, p, (unsigned long long)m->never_published);
		printf("%s.allgood_unpublished=%llu\n", p, (unsigned long long)m->allgood_unpub);
		printf("%s.dead=%zu\n%s.dead_unpublish_p50_s=%s\n%s.dead_unpublish_p95_s=%s\n%s.dead_unpublish_max_s=%s\n"
		       "%s.dead_still_published=%llu\n",
		       p, m->to_unpublish.n, p, c, p, d, p, e, p, (unsigned long long)m->dead_still_published);
		printf("%s.empty_zone_minutes=%llu\n%s.checks_per_node_hour=%.4f\n%s.max_checks_hour=%u\n"
		       "%s.max_checks_hour_kind=%s\n%s.max_checks_hour_failed=%u\n%s.hours_over_cap=%llu\n"
		       "%s.max_regular_hour=%u\n%s.max_early_hour=%u\n%s.early_after_good=%llu\n",
		       p, (unsigned long long)m->empty_minutes, p, cost(m), p, m->max_hour_checks, p,
		       pkind_name[m->max_hour_kind], p, m->max_hour_failed, p, (unsigned long long)m->hours_over_cap,
		       p, m->max_hour_regular, p, m->max_hour_early, p, (unsigned long long)m->early_after_good);
		printf("%s.checks=%llu\n%s.spurious=%llu\n%s.learnt=%llu\n%s.relearnt=%llu\n%s.forgotten=%llu\n"
		       "%s.outages=%llu\n%s.dropped=%llu\n%s.errors=%llu\n%s.population=%u\n%s.wall_s=%.2f\n",
		       p, (unsigned long long)m->checks, p, (unsigned long long)m->spurious, p,
		       (unsigned long long)m->learnt, p, (unsigned long long)m->relearnt, p,
		       (unsigned long long)m->forgotten, p, (unsigned long long)m->outages, p,
		       (unsigned long long)m->dropped, p, (unsigned long long)m->errors, p, m->population, p,
		       m->wall_s);
		for (int k = 0; k < K_COUNT; k++) {
			double h = m->node_hours_by_kind[k];
			printf("%s.kind.%s.published_share=%.5f precision_loss=%.5f coverage_loss=%.5f "
			       "checks_per_node_hour=%.4f allgood_unpublished=%llu\n",
			       p, pkind_name[k], m->prec_n ? m->pub_share[k] / (double)m->prec_n : 0.0,
			       m->prec_n ? m->prec_loss[k] / (double)m->prec_n : 0.0,
			       m->cov_n ? m->cov_loss[k] / (double)m->cov_n : 0.0,
			       h > 0 ? (double)m->checks_after_by_kind[k] / h : 0.0,
			       (unsigned long long)m->allgood_by_kind[k]);
		}
	}
}

/* --- the goals -------------------------------------------------------------- */

static int
goal(bool ok, const char *name, const char *detail)
{
	if (ok) {
		printf("PASS churn/%s\n", name);
		return 0;
	}
	printf("FAIL churn/%s: %s\n", name, detail);
	return 1;
}

int
report_assert(const struct churn_opts *o, const struct churn_result *r, const struct churn_result *base,
              const char *selftest_err)
{
	const struct metrics *m = &r->m;
	char d[256], t[CELL];
	int fails = 0;
	int64_t p95 = i64v_pct(&m->to_unpublish, 0.95);
	int64_t cap = 3600 * 10 / (9 * o->interval) + 1;

	fails += goal(!selftest_err, "baseline_sanity", selftest_err ? selftest_err : "");
	snprintf(d, sizeof(d), "engine or core inconsistencies: %s %llu, %s %llu", r->name,
	         (unsigned long long)m->errors, base ? base->name : "baseline",
	         base ? (unsigned long long)base->m.errors : 0ULL);
	fails += goal(m->errors == 0 && (!base || base->m.errors == 0), "engine", d);
	snprintf(d, sizeof(d), "%s mean precision %.4f < 0.98 (worst minute %.4f)", r->name, prec_mean(m), m->prec_min);
	fails += goal(prec_mean(m) >= 0.98, "precision", d);
	snprintf(d, sizeof(d), "%s mean coverage %.4f < 0.95 (worst minute %.4f)", r->name, cov_mean(m), m->cov_min);
	fails += goal(cov_mean(m) >= 0.95, "coverage", d);
	snprintf(d, sizeof(d), "%s: %llu nodes that never failed a check were unpublished after one", r->name,
	         (unsigned long long)m->allgood_unpub);
	fails += goal(m->allgood_unpub == 0, "all_good_kept", d);
	fmt_dur(t, sizeof(t), p95);
	snprintf(d, sizeof(d), "%s: death to unpublished p95 %s > 2 x %lld s (%zu deaths)", r->name, t,
	         (long long)o->interval, m->to_unpublish.n);
	fails += goal(m->to_unpublish.n > 0 && p95 <= 2 * o->interval * 1000, "dead_unpublish", d);
	if (base) {
		snprintf(d, sizeof(d), "%s %.3f checks per node per hour > %s %.3f", r->name, cost(m), base->name,
		         cost(&base->m));
		fails += goal(cost(m) <= cost(&base->m), "cost", d);
	} else {
		fails += goal(false, "cost", "no baseline run to compare with");
	}
	/* Checks at least 0.9 interval apart (the jitter) fit 3600 / (0.9 interval) + 1 times in an hour. */
	snprintf(d, sizeof(d), "%s: %u regular checks of one node in a clock hour > %lld; %llu such node-hours",
	         r->name, m->max_hour_regular, (long long)cap, (unsigned long long)m->hours_over_cap);
	fails += goal(m->max_hour_regular <= cap && m->hours_over_cap == 0, "hour_cap", d);
	/* Early re-checks only ever follow a failure: one per failed check at most. */
	snprintf(d, sizeof(d), "%s: %llu checks sooner than 0.9 interval after a check that had not failed",
	         r->name, (unsigned long long)m->early_after_good);
	fails += goal(m->early_after_good == 0, "rechecks_follow_failures", d);
	return fails;
}
