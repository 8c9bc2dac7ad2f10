/*
 * sipa: the baseline model of SPEC 5, the one most Bitcoin DNS seeds run
 * and seedd ran before its own (health_good and health_fate of the old
 * src/nodes/health.c, the backoff of the old crawler.c on_done), as a
 * struct health_model for the churn simulator. One change from the old
 * code: after a good check of a node that is not good (h->fails == 0)
 * the next check is one --interval later, where the old code shifted by
 * -1. The decaying windows themselves are health_update's (shared).
 */
#include <stdio.h>

#include "churn.h"

enum sipa_fate { SIPA_KEEP, SIPA_IGNORE, SIPA_FORGET };

#define SIPA_BACKOFF_MAX_S (4 * 3600)

bool
sipa_good(const struct health *h)
{
	/* SPEC 5 rules: r above and c above, per window. */
	static const double rmin[HEALTH_WINDOWS] = { 0.85, 0.70, 0.55, 0.45, 0.35 };
	static const double cmin[HEALTH_WINDOWS] = { 2, 4, 8, 16, 32 };

	if (h->checks <= 3 && 2 * (uint64_t)h->successes >= h->checks && h->checks > 0)
		return true;
	for (int i = 0; i < HEALTH_WINDOWS; i++) {
		struct health_winv w = health_win_get(h, i);
		if (w.r > rmin[i] && w.c > cmin[i])
			return true;
	}
	return false;
}

static enum sipa_fate
sipa_fate(const struct health *h, int64_t *secs)
{
	/* Optimistic reliability r + (1 - w): time never observed counted as up. */
	static const int win[] = { HEALTH_30D, HEALTH_1W, HEALTH_1D, HEALTH_8H };
	static const double lim[] = { 0.20, 0.16, 0.12, 0.08 };
	static const int64_t ban[] = { 10 * 86400, 3 * 86400, 8 * 3600, 2 * 3600 };
	struct health_winv d = health_win_get(h, HEALTH_1D);

	*secs = 0;
	if (sipa_good(h))
		return SIPA_KEEP;
	if (d.c > 8 && d.r + (1.0 - d.w) < 0.05)
		return SIPA_FORGET;
	/* The longest ignore that applies wins. */
	for (int i = 0; i < 4; i++) {
		struct health_winv w = health_win_get(h, win[i]);
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
	struct health h = { 0 };
	int64_t now = CHURN_T0;
	int first_bad = 0, good_again = 0;

	for (int c = 1; c <= 200 && !good_again; c++, now += 300) {
		health_update(&h, now, true);
		bool good = health_sipa.publish(&h, now, false, 300);
		int64_t d = health_sipa.delay(&h, now, good, 300);
		if (d != 300) {
			snprintf(buf, len, "check %d: next check in %lld s, not 300", c, (long long)d);
			return buf;
		}
		if (!good && !first_bad)
			first_bad = c;
		else if (good && first_bad)
			good_again = c;
	}
	if (first_bad != 4 || good_again != 44) {
		snprintf(buf, len, "not good from check %d (want 4), good again at check %d (want 44)", first_bad,
		         good_again);
		return buf;
	}
	return NULL;
}
