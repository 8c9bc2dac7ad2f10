/*
 * health: SPEC 5's decaying statistics. Each window is an exponential
 * moving average over time: after a check, older evidence keeps weight
 * f = exp(-age/tau) and the new result takes the rest.
 */
#include <math.h>

#include "health.h"

const int64_t health_tau[HEALTH_WINDOWS] = {
	2 * 3600, 8 * 3600, 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600,
};
const char *const health_win_name[HEALTH_WINDOWS] = { "2h", "8h", "1d", "1w", "30d" };

void
health_update(struct health *h, int64_t now, bool good)
{
	int64_t age = h->last_check ? now - h->last_check : HEALTH_FIRST_AGE;

	if (age < 0)
		age = 0;
	for (int i = 0; i < HEALTH_WINDOWS; i++) {
		struct health_win *w = &h->win[i];
		double f = exp(-(double)age / (double)health_tau[i]);
		w->r = w->r * f + (good ? 1.0 - f : 0.0);
		w->c = w->c * f + 1.0;
		w->w = w->w * f + (1.0 - f);
	}
	h->checks++;
	if (good) {
		h->successes++;
		h->last_success = now;
	}
	h->last_check = now;
	if (!h->first_seen)
		h->first_seen = now;
}

bool
health_good(const struct health *h)
{
	/* SPEC 5 rules: r above and c above, per window. */
	static const double rmin[HEALTH_WINDOWS] = { 0.85, 0.70, 0.55, 0.45, 0.35 };
	static const double cmin[HEALTH_WINDOWS] = { 2, 4, 8, 16, 32 };

	if (h->checks <= 3 && 2 * (uint64_t)h->successes >= h->checks && h->checks > 0)
		return true;
	for (int i = 0; i < HEALTH_WINDOWS; i++)
		if (h->win[i].r > rmin[i] && h->win[i].c > cmin[i])
			return true;
	return false;
}

enum health_fate
health_fate(const struct health *h, int64_t *secs)
{
	/* Optimistic reliability r + (1 - w): time never observed counted as up. */
	static const int win[] = { HEALTH_30D, HEALTH_1W, HEALTH_1D, HEALTH_8H };
	static const double lim[] = { 0.20, 0.16, 0.12, 0.08 };
	static const int64_t ban[] = { 10 * 86400, 3 * 86400, 8 * 3600, 2 * 3600 };
	const struct health_win *d = &h->win[HEALTH_1D];

	*secs = 0;
	if (health_good(h))
		return HEALTH_KEEP;
	if (d->c > 8 && d->r + (1.0 - d->w) < 0.05)
		return HEALTH_FORGET;
	/* The longest ignore that applies wins. */
	for (int i = 0; i < 4; i++) {
		const struct health_win *w = &h->win[win[i]];
		if (w->c > 2 && w->r + (1.0 - w->w) < lim[i]) {
			*secs = ban[i];
			return HEALTH_IGNORE;
		}
	}
	return HEALTH_KEEP;
}
