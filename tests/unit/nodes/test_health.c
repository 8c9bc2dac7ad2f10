/*
 * health: the decaying windows on closed forms worked out by hand, and
 * our model's promises (SPEC 5) as properties: a node that always
 * answers is published from its first check and never unpublished; one
 * failure is held for an early re-check; a second unpublishes; flaky
 * nodes wait for a stable run; the schedule never contacts a node more
 * than once per interval beyond one early re-check after a failure.
 */
#include <math.h>
#include <stdint.h>

#include "nodes/health.h"
#include "base/rng.h"
#include "t.h"

#define T0 1800000000

/* Windows are stored in floats: equal to 1e-6 of b (and 1e-12 absolute, for 0). */
static bool
near(double a, double b)
{
	return fabs(a - b) <= 1e-6 * fabs(b) + 1e-12;
}

static void
windows(void)
{
	struct health h = { 0 };
	int64_t t = T0;

	for (int k = 1; k <= 60; k++, t += 300)
		health_update(&h, t, true);
	/* Observed time after 60 checks: 1000 s for the first, then 300 s each. */
	double t60 = 1000 + 300.0 * 59;
	struct health_winv w1d = health_win_get(&h, HEALTH_1D), w1w = health_win_get(&h, HEALTH_1W);
	CHECK("windows: r equals w when every check succeeds", w1d.r == w1d.w && w1w.r == w1w.w);
	CHECK("windows: w_1d = 1 - exp(-t/1d)", near(w1d.w, 1 - exp(-t60 / 86400.0)));
	CHECK("windows: w_1w = 1 - exp(-t/1w)", near(w1w.w, 1 - exp(-t60 / (7 * 86400.0))));
	CHECK("windows: checks and successes", h.checks == 60 && h.successes == 60 && h.fails == 0);
	CHECK("windows: availability 1", near(health_availability(&h, HEALTH_1W), 1.0));
	/* Up 1000 s then down 3000 s: availability 1/4 of the observed time in a long window, nearly. */
	struct health g = { 0 };
	health_update(&g, T0, true);
	health_update(&g, T0 + 3000, false);
	double a = health_availability(&g, HEALTH_1W);
	CHECK("windows: availability is the share of time up", fabs(a - 0.25) < 0.001);
}

/*
 * Float windows do not drift: checked every 60 s for 60 days (the shortest
 * interval against the windows: the smallest step a check), r / w of the
 * 1 d and 1 w windows stays within 1e-4 of the same EMA in double,
 * and so does w (a plain float would stick at 1 - 3e-4 in the 1 w window).
 * Nodes up always, up 90% of checks at random, alternating, up then down.
 * Alternating is the worst (r / w near 1/2 off by 3e-5 in the 1 w window):
 * its rounding errors repeat instead of cancelling.
 */
static void
drift(void)
{
	static const int wins[] = { HEALTH_1D, HEALTH_1W };
	struct rng g;
	uint8_t seed[32] = { 60 };
	double worst_a = 0, worst_w = 0;

	rng_init_seed(&g, seed);
	for (int kind = 0; kind < 4; kind++) {
		struct health h = { 0 };
		double r[2] = { 0 }, w[2] = { 0 };
		int64_t last = 0;
		for (int64_t t = T0; t < T0 + 60 * 86400; t += 60) {
			bool good = kind == 0 ? true : kind == 1 ? rng_below(&g, 100) < 90 :
			            kind == 2 ? (t / 60) % 2 == 0 : t < T0 + 30 * 86400;
			health_update(&h, t, good);
			for (int k = 0; k < 2; k++) {
				double f = exp(-(double)(last ? t - last : HEALTH_FIRST_AGE) / (double)health_tau[wins[k]]);
				r[k] = r[k] * f + (good ? 1.0 - f : 0.0);
				w[k] = w[k] * f + (1.0 - f);
				double da = fabs(health_availability(&h, wins[k]) - r[k] / w[k]);
				double dw = fabs(health_win_get(&h, wins[k]).w - w[k]);
				worst_a = da > worst_a ? da : worst_a;
				worst_w = dw > worst_w ? dw : worst_w;
			}
			last = t;
		}
	}
	CHECK("drift: r / w of 1 d and 1 w within 1e-4 of double after 60 days of 60 s checks", worst_a < 1e-4);
	CHECK("drift: w within 1e-4 too", worst_w < 1e-4);
	/* The stored form: exact at 0, 1/2 and 1, the distance to 1 kept above 1/2. */
	CHECK("unit: ends and middle exact", health_unit_get(health_unit_put(0.0)) == 0.0 &&
	      health_unit_get(health_unit_put(0.5)) == 0.5 && health_unit_get(health_unit_put(1.0)) == 1.0);
	CHECK("unit: outside [0, 1] the nearest end", health_unit_get(health_unit_put(1.0 + 1e-15)) == 1.0 &&
	      health_unit_get(health_unit_put(-1e-300)) == 0.0);
	CHECK("unit: near 1 to float's relative precision of 1 - x",
	      fabs(1.0 - health_unit_get(health_unit_put(1.0 - 1e-9)) - 1e-9) < 1e-16);
	printf("# drift: worst r / w %.3g, w %.3g\n", worst_a, worst_w);
}

/* Drive one node through outcomes with the model's own schedule. */
struct run {
	struct health h;
	bool pub;
	int64_t t, iv;
	int unpublished; /* times it went from published to not */
};

static void
step(struct run *r, bool good)
{
	health_update(&r->h, r->t, good);
	bool p = health_publish(&r->h, r->t, r->pub, r->iv);
	if (r->pub && !p)
		r->unpublished++;
	r->pub = p;
	r->t += health_delay(&r->h, r->t, r->pub, r->iv);
}

static void
always_up(void)
{
	struct run r = { .t = T0, .iv = 300 };
	bool first = false;

	step(&r, true);
	first = r.pub;
	for (int k = 0; k < 30 * 288; k++)
		step(&r, true);
	CHECK("up: published from the first good check", first);
	CHECK("up: never unpublished in 30 days", r.unpublished == 0 && r.pub);
	CHECK("up: checked once per interval", r.h.checks == 30 * 288 + 1 && r.t == T0 + (int64_t)r.h.checks * 300);
	CHECK("up: never forgotten", !health_forget(&r.h, r.t));
}

static void
spurious(void)
{
	struct run r = { .t = T0, .iv = 300 };

	for (int k = 0; k < 30 * 288; k++)
		step(&r, true);
	int64_t before = r.t;
	step(&r, false);
	CHECK("blip: one failure keeps a reliable node published", r.pub && r.h.fails == 1);
	CHECK("blip: re-checked early (30 s)", r.t - before == 30);
	step(&r, true);
	CHECK("blip: still published after the re-check answers", r.pub && r.unpublished == 0);
	CHECK("blip: no outage recorded", r.h.last_down == 0 && r.h.run_start == T0);
	CHECK("blip: back to the interval", health_delay(&r.h, r.t, r.pub, 300) == 300);
}

static void
dies(void)
{
	struct run r = { .t = T0, .iv = 300 };

	for (int k = 0; k < 3 * 288; k++)
		step(&r, true);
	int64_t died = r.t - 1; /* just after its last good check: the worst case */
	step(&r, false);
	step(&r, false);
	CHECK("dead: unpublished at the confirming re-check", !r.pub && r.unpublished == 1);
	CHECK("dead: within 2 intervals of dying", r.h.last_check - died <= 2 * 300);
	CHECK("dead: the outage is recorded", r.h.last_down == r.h.last_check && r.h.run_start == 0);
	/* Then interval, 2, 4 intervals, capped at 4 while it was up lately. */
	int64_t d[6];
	for (int k = 0; k < 6; k++) {
		int64_t t = r.t;
		step(&r, false);
		d[k] = r.t - t;
	}
	CHECK("dead: backoff 2, 4, 4 intervals (capped: it was up lately)",
	      d[0] == 600 && d[1] == 1200 && d[2] == 1200 && d[5] == 1200);
	/* Silent past two days: the long cap, then forgotten after a week. */
	while (r.t - r.h.last_success < 2 * 86400 + 3600)
		step(&r, false);
	CHECK("dead: 4 h apart after two days of silence", health_delay(&r.h, r.t, false, 300) == 4 * 3600);
	CHECK("dead: not forgotten before a week", !health_forget(&r.h, r.t));
	while (r.t - r.h.last_success < 7 * 86400)
		step(&r, false);
	step(&r, false);
	CHECK("dead: forgotten after a week of silence", health_forget(&r.h, r.h.last_check));
}

static void
comeback(void)
{
	/* Reliable for a week, down 3 h: published again at its first answer. */
	struct run r = { .t = T0, .iv = 300 };
	for (int k = 0; k < 7 * 288; k++)
		step(&r, true);
	while (r.t < T0 + 7 * 86400 + 3 * 3600)
		step(&r, false);
	step(&r, true);
	CHECK("comeback: a reliable week is published at its first answer", r.pub);

	/* A flapper (20 min up, 20 min down) waits for 6 intervals of answers. */
	struct run f = { .t = T0, .iv = 300 };
	int published_checks = 0;
	for (int k = 0; k < 2000; k++) {
		bool up = ((f.t - T0) / 1200) % 2 == 0;
		step(&f, up);
		if (k > 20 && f.pub)
			published_checks++;
	}
	CHECK("flapper: never published again after its first outage", published_checks == 0);
	/* Once stable for 6 intervals it is. */
	for (int k = 0; k < 6; k++)
		step(&f, true);
	CHECK("flapper: not before 6 intervals", !f.pub);
	step(&f, true);
	CHECK("flapper: published after 6 intervals of answers", f.pub);

	/* A node that never answered and then does is new: published at once. */
	struct run n = { .t = T0, .iv = 300 };
	for (int k = 0; k < 5; k++)
		step(&n, false);
	CHECK("late starter: no outage recorded (it was never up)", n.h.last_down == 0 && !n.pub);
	step(&n, true);
	CHECK("late starter: published at its first answer", n.pub);
}

static void
never(void)
{
	struct run r = { .t = T0, .iv = 300 };

	r.h.first_seen = T0;
	while (r.t < T0 + 86400)
		step(&r, false);
	CHECK("never: 4 h apart at most", health_delay(&r.h, r.t, false, 300) == 4 * 3600);
	CHECK("never: forgotten after a day", health_forget(&r.h, r.t));
	CHECK("never: under 20 checks in that day", r.h.checks < 20);
	struct health z = { 0 };
	CHECK("never checked: as it was", health_publish(&z, T0, true, 300) && !health_publish(&z, T0, false, 300));
}

/*
 * The politeness bound over random histories and intervals: in any span
 * of one interval a node gets at most one check plus one early re-check,
 * and an early re-check only follows the first failure of a good node.
 */
static void
polite(void)
{
	static const int64_t ivs[] = { 1, 5, 60, 299, 300, 3600, 604800 };
	struct rng g;
	uint8_t seed[32] = { 11 };
	int worst_over = 0, bad_recheck = 0, below_one = 0;

	rng_init_seed(&g, seed);
	for (size_t v = 0; v < sizeof(ivs) / sizeof(ivs[0]); v++) {
		for (int trial = 0; trial < 40; trial++) {
			struct run r = { .t = T0, .iv = ivs[v] };
			int64_t times[4] = { 0 };
			uint32_t p = rng_below(&g, 100); /* this node's failure odds, % */
			for (int k = 0; k < 3000; k++) {
				bool was = r.pub;
				int64_t t = r.t;
				step(&r, rng_below(&g, 100) >= p);
				int64_t d = r.t - t;
				if (d < 1)
					below_one++;
				if (d < r.iv && !(r.h.fails == 1 && was && r.pub))
					bad_recheck++;
				/* Three checks within one interval would break the bound. */
				times[k % 3] = t;
				if (k >= 2) {
					int64_t lo = times[(k + 1) % 3];
					if (t - lo < r.iv)
						worst_over++;
				}
			}
		}
	}
	CHECK("polite: never three checks within one interval", worst_over == 0);
	CHECK("polite: sooner than an interval only for the re-check of a held node", bad_recheck == 0);
	CHECK("polite: never sooner than 1 s", below_one == 0);
	/* Huge failure counts do not overflow the backoff (UBSan watches the shift). */
	struct health h = { .fails = 255, .checks = 255, .last_check = T0 };
	CHECK("polite: 255 failures, 1 week interval: capped", health_delay(&h, T0, false, 604800) == 604800);
	CHECK("polite: 255 failures: capped at 4 h", health_delay(&h, T0, false, 300) == 4 * 3600);
}

void
test_health(void)
{
	windows();
	drift();
	always_up();
	spurious();
	dies();
	comeback();
	never();
	polite();
}
