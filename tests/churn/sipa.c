/*
 * sipa: the baseline model of SPEC 5, the one most Bitcoin DNS seeds run
 * and seedd ran before its own (health_good and health_fate of the old
 * src/nodes/health.c, the backoff of the old crawler.c on_done), as a
 * struct health_model for the churn simulator. One change from the old
 * code: after a good check of a node that is not good (h->fails == 0)
 * the next check is one --interval later, where the old code shifted by
 * -1.
 *
 * Its five windows with counts are kept here: struct health keeps only
 * what our model needs. A model sees a node's struct health only, so the
 * windows of node i sit in a table beside the core's node table
 * (sipa_attach), found from h's place in it, and follow the history they
 * see: one check more is folded in (the arithmetic and the float storage
 * of the old health_update, so the figures did not move); a history put
 * back (the core undoes checks made during our outage) takes back its
 * windows; anything else is a new node in the slot and starts from zero.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"

enum sipa_fate { SIPA_KEEP, SIPA_IGNORE, SIPA_FORGET };
enum { W_2H, W_8H, W_1D, W_1W, W_30D, W_N };

#define SIPA_BACKOFF_MAX_S (4 * 3600)

static const int64_t tau[W_N] = { 2 * 3600, 8 * 3600, 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600 };

struct win {
	struct health_unit r, w;
	float c;
};

struct winv {
	double r, c, w;
};

/* What a node's windows are for: the counts and the last check. */
struct seen {
	uint32_t checks, successes, first_seen, last_check;
};

struct state {
	struct seen seen;
	struct win win[W_N];
};

/*
 * The core takes back only a node's last check, and only a failed one
 * (crawl_core.c outage_enter): the state before the last failed check is
 * all there is to go back to. Apart from the current states, which every
 * call reads.
 */
struct undo {
	bool have;
	struct state before;
};

static const struct nodes *table;
static struct state *cur;
static struct undo *undo;
static size_t ncur;
static unsigned long long unfollowed;

void
sipa_attach(const struct nodes *t)
{
	free(cur);
	free(undo);
	cur = NULL;
	undo = NULL;
	ncur = 0;
	table = t;
}

unsigned long long
sipa_unfollowed(void)
{
	return unfollowed;
}

static struct seen
seen_of(const struct health *h)
{
	return (struct seen){ h->checks, h->successes, h->first_seen, h->last_check };
}

static bool
same(const struct seen *a, const struct seen *b)
{
	return a->checks == b->checks && a->successes == b->successes && a->first_seen == b->first_seen &&
	       a->last_check == b->last_check;
}

static struct winv
win_get(const struct win *w)
{
	return (struct winv){ health_unit_get(w->r), (double)w->c, health_unit_get(w->w) };
}

/* One more check, as the old health_update did it. */
static void
fold(struct state *st, const struct health *h)
{
	int64_t age = st->seen.last_check ? (int64_t)h->last_check - st->seen.last_check : HEALTH_FIRST_AGE;
	bool good = h->successes > st->seen.successes;

	if (age < 0)
		age = 0;
	for (int i = 0; i < W_N; i++) {
		struct winv w = win_get(&st->win[i]);
		double f = exp(-(double)age / (double)tau[i]);
		w.r = w.r * f + (good ? 1.0 - f : 0.0);
		w.c = w.c * f + 1.0;
		w.w = w.w * f + (1.0 - f);
		st->win[i] = (struct win){ health_unit_put(w.r), health_unit_put(w.w), (float)w.c };
	}
	st->seen = seen_of(h);
}

static bool
next_of(const struct seen *s, const struct health *h)
{
	return h->checks == s->checks + 1 && (s->checks == 0 || h->first_seen == s->first_seen);
}

/* Node h's windows, brought up to h. */
static const struct win *
windows(const struct health *h)
{
	const char *base = (const char *)table->v, *p = (const char *)h;
	size_t off = (size_t)(p - base) - offsetof(struct node, h), i = off / sizeof(struct node);

	if (p < base || i >= table->n || off % sizeof(struct node)) {
		fprintf(stderr, "churn: sipa asked about a history outside the node table\n");
		abort();
	}
	if (i >= ncur) {
		size_t n = i + 1 > 2 * ncur ? i + 1 : 2 * ncur;
		struct state *c = realloc(cur, n * sizeof(*c));
		struct undo *u = c ? realloc(undo, n * sizeof(*u)) : NULL;
		if (c)
			cur = c;
		if (!u) {
			fprintf(stderr, "churn: out of memory\n");
			abort();
		}
		undo = u;
		memset(cur + ncur, 0, (n - ncur) * sizeof(*cur));
		memset(undo + ncur, 0, (n - ncur) * sizeof(*undo));
		ncur = n;
	}
	struct state *st = &cur[i];
	struct undo *u = &undo[i];
	struct seen now = seen_of(h);

	if (same(&st->seen, &now))
		return st->win;
	/* Taken back, and perhaps checked again since. */
	if (u->have && (same(&u->before.seen, &now) || next_of(&u->before.seen, h))) {
		*st = u->before;
		u->have = false;
		if (same(&st->seen, &now))
			return st->win;
	}
	if (!next_of(&st->seen, h)) {
		/* Another node in the slot: it starts from nothing, so its first check is the next one. */
		memset(st, 0, sizeof(*st));
		u->have = false;
		if (h->checks > 1)
			unfollowed++;
		if (h->checks == 0)
			return st->win;
	}
	u->have = h->successes == st->seen.successes;
	if (u->have)
		u->before = *st;
	fold(st, h);
	return st->win;
}

bool
sipa_good(const struct health *h)
{
	/* SPEC 5 rules: r above and c above, per window. */
	static const double rmin[W_N] = { 0.85, 0.70, 0.55, 0.45, 0.35 };
	static const double cmin[W_N] = { 2, 4, 8, 16, 32 };
	const struct win *win = windows(h);

	if (h->checks <= 3 && 2 * (uint64_t)h->successes >= h->checks && h->checks > 0)
		return true;
	for (int i = 0; i < W_N; i++) {
		struct winv w = win_get(&win[i]);
		if (w.r > rmin[i] && w.c > cmin[i])
			return true;
	}
	return false;
}

static enum sipa_fate
sipa_fate(const struct health *h, int64_t *secs)
{
	/* Optimistic reliability r + (1 - w): time never observed counted as up. */
	static const int which[] = { W_30D, W_1W, W_1D, W_8H };
	static const double lim[] = { 0.20, 0.16, 0.12, 0.08 };
	static const int64_t ban[] = { 10 * 86400, 3 * 86400, 8 * 3600, 2 * 3600 };
	const struct win *win = windows(h);
	struct winv d = win_get(&win[W_1D]);

	*secs = 0;
	if (sipa_good(h))
		return SIPA_KEEP;
	if (d.c > 8 && d.r + (1.0 - d.w) < 0.05)
		return SIPA_FORGET;
	/* The longest ignore that applies wins. */
	for (int i = 0; i < 4; i++) {
		struct winv w = win_get(&win[which[i]]);
		if (w.c > 2 && w.r + (1.0 - w.w) < lim[i]) {
			*secs = ban[i];
			return SIPA_IGNORE;
		}
	}
	return SIPA_KEEP;
}

static bool
sipa_publish(const struct health *h, int64_t now, bool published, int64_t interval)
{
	(void)now;
	(void)published;
	(void)interval;
	return sipa_good(h);
}

static int64_t
sipa_delay(const struct health *h, int64_t now, bool published, int64_t interval)
{
	int64_t ignore_s, s;
	enum sipa_fate fate = sipa_fate(h, &ignore_s);

	(void)now;
	if (published)
		return interval;
	if (h->fails == 0) {
		s = interval; /* the fix: the old code shifted by -1 here */
	} else {
		/* Exponential backoff from min(--interval, 60 s), capped; the rules' ignore periods win. */
		int64_t base = interval < 60 ? interval : 60;
		s = base << (h->fails > 12 ? 12 : h->fails - 1);
		if (s > SIPA_BACKOFF_MAX_S)
			s = SIPA_BACKOFF_MAX_S;
	}
	if (fate == SIPA_IGNORE && ignore_s > s)
		s = ignore_s;
	return s;
}

static bool
sipa_forget(const struct health *h, int64_t now)
{
	int64_t ignore_s;

	(void)now;
	return sipa_fate(h, &ignore_s) == SIPA_FORGET;
}

const struct health_model health_sipa = {
	.name = "sipa", .publish = sipa_publish, .delay = sipa_delay, .forget = sipa_forget,
};

/*
 * The measurement: a node checked every 300 s that always answers
 * is good for its first 3 checks, not good from the 4th, good again at
 * the 44th (about 3.6 h); while not good after a good check, it is
 * checked again one interval later (the fixed backoff).
 */
const char *
sipa_selftest(char *buf, size_t len)
{
	struct nodes t;
	struct addr a = { .family = AF_INET, .ip = { 11, 0, 0, 1 }, .port = CHURN_PORT };
	int64_t now = CHURN_T0;
	int first_bad = 0, good_again = 0;
	bool failed = false;
	const char *err = NULL;

	nodes_init(&t, 1, 1);
	sipa_attach(&t);
	struct health *h = &nodes_at(&t, nodes_add(&t, &a))->h;
	for (int c = 1; c <= 200 && !good_again; c++, now += 300) {
		health_update(h, now, true);
		bool good = health_sipa.publish(h, now, false, 300);
		int64_t d = health_sipa.delay(h, now, good, 300);
		if (d != 300) {
			snprintf(buf, len, "check %d: next check in %lld s, not 300", c, (long long)d);
			failed = true;
			break;
		}
		if (!good && !first_bad)
			first_bad = c;
		else if (good && first_bad)
			good_again = c;
	}
	if (!failed && (first_bad != 4 || good_again != 44)) {
		snprintf(buf, len, "not good from check %d (want 4), good again at check %d (want 44)", first_bad,
		         good_again);
		failed = true;
	}
	if (failed)
		err = buf;
	/* A failed check taken back (our outage) takes its windows back, as a check after it is then folded in. */
	if (!failed) {
		struct health before = *h;
		struct win w0[W_N], w1[W_N];
		memcpy(w0, windows(h), sizeof(w0));
		health_update(h, now + 300, false);
		memcpy(w1, windows(h), sizeof(w1));
		*h = before;
		if (memcmp(windows(h), w0, sizeof(w0)) != 0)
			err = "windows not put back with the history";
		health_update(h, now + 300, false);
		if (!err && memcmp(windows(h), w1, sizeof(w1)) != 0)
			err = "a check after a history put back not folded in";
		*h = before;
		health_update(h, now + 300, false);
		if (!err && memcmp(windows(h), w1, sizeof(w1)) != 0)
			err = "a history put back and checked again not followed";
	}
	sipa_attach(NULL);
	nodes_free(&t);
	return err;
}
