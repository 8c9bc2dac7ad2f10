/*
 * health: the history's arithmetic and our model. Each window is an
 * exponential moving average over time: after a check, older evidence
 * keeps weight f = exp(-age/tau) and the new result takes the rest, so
 * r / w is the share of the observed time the node answered.
 */
#include <math.h>

#include "nodes/health.h"

const int64_t health_tau[HEALTH_WINDOWS] = { 24 * 3600, 7 * 24 * 3600 };
const char *const health_win_name[HEALTH_WINDOWS] = { "1d", "1w" };

const struct health_model health_ours = {
	.name = "seedd", .publish = health_publish, .delay = health_delay, .forget = health_forget,
};

void
health_update(struct health *h, int64_t now, bool good)
{
	int64_t age = h->last_check ? now - h->last_check : HEALTH_FIRST_AGE;

	if (age < 0)
		age = 0;
	for (int i = 0; i < HEALTH_WINDOWS; i++) {
		struct health_winv w = health_win_get(h, i);
		double f = exp(-(double)age / (double)health_tau[i]);
		w.r = w.r * f + (good ? 1.0 - f : 0.0);
		w.w = w.w * f + (1.0 - f);
		health_win_set(h, i, w);
	}
	uint32_t t = health_stamp(now);
	h->checks++;
	if (good) {
		h->successes++;
		h->last_success = t;
		h->fails = 0;
		if (!h->run_start)
			h->run_start = t;
	} else {
		if (h->fails < UINT8_MAX)
			h->fails++;
		/* A second failure in a row confirms an outage; the run of answers ends. */
		if (h->fails >= 2 && h->run_start) {
			h->run_start = 0;
			h->last_down = t;
		}
	}
	h->last_check = t;
	if (!h->first_seen)
		h->first_seen = t;
}

double
health_availability(const struct health *h, int win)
{
	struct health_winv w = health_win_get(h, win);

	return w.w > 0 ? w.r / w.w : 0.0;
}

bool
health_publish(const struct health *h, int64_t now, bool published, int64_t interval)
{
	if (h->checks == 0)
		return published; /* never checked: as zone.csv or nodes.csv left it */
	if (h->fails == 1)
		return published && h->last_success; /* held until the early re-check confirms it */
	if (h->fails > 1)
		return false;
	if (!h->last_down || published)
		return true; /* it never went down after answering, or it is kept */
	/* Back from an outage: a reliable week lets it in at once, else a stable run. */
	if (health_availability(h, HEALTH_1W) >= HEALTH_TRUST)
		return true;
	return now - h->run_start >= HEALTH_STABLE_IV * interval;
}

int64_t
health_delay(const struct health *h, int64_t now, bool published, int64_t interval)
{
	if (interval < 1)
		interval = 1;
	if (h->fails == 0)
		return interval;
	if (h->fails == 1 && published) {
		int64_t s = interval / 10;
		return s < 1 ? 1 : s > HEALTH_RECHECK_MAX_S ? HEALTH_RECHECK_MAX_S : s;
	}
	/* interval, interval, 2, 4, 8 ... intervals: never sooner than one interval. */
	int k = h->fails > 2 ? h->fails - 2 : 0;
	int64_t s = interval << (k > 20 ? 20 : k);
	int64_t cap = h->last_success && now - h->last_success < HEALTH_RECENT_S ?
	              HEALTH_CAP_RECENT_IV * interval : HEALTH_CAP_S;
	if (cap < interval)
		cap = interval;
	return s < cap ? s : cap;
}

bool
health_forget(const struct health *h, int64_t now)
{
	if (h->fails == 0)
		return false;
	if (!h->last_success)
		return h->checks >= 3 && now - h->first_seen >= HEALTH_FORGET_NEVER_S;
	return now - h->last_success >= HEALTH_FORGET_SILENT_S;
}
