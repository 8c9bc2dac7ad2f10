/*
 * The health model of SPEC 5 on fixed vectors: a node always up, one
 * failing from the start, one flapping. Expected values are worked out
 * from the formulas by hand (closed forms), not by running the model.
 */
#include <math.h>

#include "health.h"
#include "t.h"

static bool
near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

static void
always_up(void)
{
	struct health h = { 0 };
	int64_t t = 1000000;
	int first_bad = 0, back = 0;

	for (int k = 1; k <= 60; k++, t += 300) {
		health_update(&h, t, true);
		bool g = health_good(&h);
		if (k <= 3 && !g)
			first_bad = -k;
		if (k > 3 && !g && !first_bad)
			first_bad = k;
		if (first_bad > 0 && g && !back)
			back = k;
	}
	/* Observed time after k checks: 1000 s for the first, then 300 s each. */
	double t60 = 1000 + 300.0 * 59;
	CHECK("up: r equals w when every check succeeds", near(h.win[HEALTH_2H].r, h.win[HEALTH_2H].w));
	CHECK("up: w_2h = 1 - exp(-t/7200)", near(h.win[HEALTH_2H].w, 1 - exp(-t60 / 7200)));
	CHECK("up: w_30d = 1 - exp(-t/30d)", near(h.win[HEALTH_30D].w, 1 - exp(-t60 / (30 * 86400.0))));
	/* c = sum over checks of exp(-(time since)/tau): 1 + f + f^2 ... with f = exp(-300/tau). */
	double f = exp(-300.0 / 7200), c = 0;
	for (int k = 0; k < 60; k++)
		c += pow(f, k);
	CHECK("up: c_2h is the geometric sum", near(h.win[HEALTH_2H].c, c));
	CHECK("up: checks and successes", h.checks == 60 && h.successes == 60);
	/*
	 * The new rule covers checks 1-3; from check 4 the 2 h window needs
	 * w > 0.85, i.e. 1000 + 300(k-1) > 7200 ln(1/0.15) = 13,659 s: k = 44.
	 */
	CHECK("up: good for the first three checks", first_bad >= 0);
	CHECK("up: not good from check 4 (spec: r_2h must pass 0.85)", first_bad == 4);
	CHECK("up: good again at check 44", back == 44);
	int64_t secs;
	CHECK("up: kept", health_fate(&h, &secs) == HEALTH_KEEP && secs == 0);
}

static void
always_down(void)
{
	struct health h = { 0 };
	int64_t t = 1000000, secs = 0;
	enum health_fate fate = HEALTH_KEEP;
	int ignored_at = 0, forgotten_at = 0;

	health_update(&h, t, false);
	CHECK("down: one failure is not good (0 >= 1 is false)", !health_good(&h));
	CHECK("down: r stays 0", h.win[HEALTH_1D].r == 0);
	CHECK("down: w_2h after the first check", near(h.win[HEALTH_2H].w, 1 - exp(-1000.0 / 7200)));
	CHECK("down: c after the first check", near(h.win[HEALTH_1W].c, 1.0));
	/* Checked hourly: the 8 h optimistic reliability 1 - w falls under 0.08 once w > 0.92. */
	for (int k = 2; k <= 200 && !forgotten_at; k++) {
		t += 3600;
		health_update(&h, t, false);
		fate = health_fate(&h, &secs);
		if (fate == HEALTH_IGNORE && !ignored_at)
			ignored_at = k;
		if (fate == HEALTH_FORGET)
			forgotten_at = k;
	}
	/* w_8h = 1 - exp(-(1000 + 3600(k-1))/28800) > 0.92 when k - 1 > 19.9: k = 21. */
	CHECK("down: ignored from check 21", ignored_at == 21);
	/* w_1d > 0.95 (1 - w < 0.05) when 1000 + 3600(k-1) > 86400 ln 20 = 258,834 s: k - 1 > 71.6, k = 73. */
	CHECK("down: forgotten at check 73", forgotten_at == 73);
	CHECK("down: never good", !health_good(&h));
}

static void
flapping(void)
{
	struct health h = { 0 };
	int64_t t = 1000000;
	int good_after_new = 0;

	for (int k = 1; k <= 600; k++, t += 300) {
		health_update(&h, t, k % 2 == 1);
		if (k == 3)
			CHECK("flap: good at check 3 (2 of 3)", health_good(&h));
		if (k == 2)
			CHECK("flap: good at check 2 (1 of 2)", health_good(&h));
		if (k > 3 && health_good(&h))
			good_after_new++;
	}
	CHECK("flap: never good after the new rule (r about 0.5 everywhere)", good_after_new == 0);
	CHECK("flap: r_2h near one half", fabs(h.win[HEALTH_2H].r - 0.5) < 0.02);
	CHECK("flap: successes counted", h.checks == 600 && h.successes == 300);
	int64_t secs;
	CHECK("flap: neither ignored nor forgotten", health_fate(&h, &secs) == HEALTH_KEEP);
}

void
test_health(void)
{
	struct health h = { 0 };

	CHECK("never checked is not good", !health_good(&h));
	always_up();
	always_down();
	flapping();
}
