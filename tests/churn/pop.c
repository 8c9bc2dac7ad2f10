/*
 * pop: the simulated population. Each node draws its kind and its whole
 * life lazily from its own splitmix64 stream (seeded from --seed and its
 * id), one transition ahead, so every model sees the same network and a
 * node's schedule does not depend on what the crawler did. Spurious
 * failures come from a second stream per node: the k-th check of an up
 * node draws the same number under every model.
 *
 * Kinds (README.md here): always up; long-lived with rare outages;
 * diurnal; flappers; short-lived; never reachable. At t = 0 each node is
 * drawn from its kind's steady state, so the run does not start with
 * every node fresh from a transition.
 */
#include <math.h>
#include <string.h>

#include "churn.h"

const char *const pkind_name[K_COUNT] = { "always", "long", "diurnal", "flapper", "short", "never" };

/* Shares in percent: the initial population, then the newcomers. */
static const unsigned share_initial[K_COUNT] = { 30, 20, 15, 10, 10, 15 };
static const unsigned share_newcomer[K_COUNT] = { 40, 20, 10, 10, 20, 0 };

#define LONG_UP_MEAN_MS (3 * MS_D)
#define LONG_DOWN_MIN_MS (1 * MS_H)
#define LONG_DOWN_MAX_MS (6 * MS_H)
#define DIURNAL_UP_MS (12 * MS_H)
#define DIURNAL_JITTER_MS (20 * 60000LL)
#define FLAP_MIN_MS (10 * 60000LL)
#define FLAP_MAX_MS (30 * 60000LL)
#define SHORT_MIN_MS (1 * MS_H)
#define SHORT_MAX_MS (6 * MS_H)

uint64_t
pop_next64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
pop_stream(uint64_t seed, uint64_t id, uint64_t purpose)
{
	uint64_t s = seed ^ (id * 0xd1b54a32d192ed03ULL) ^ (purpose * 0x8cb92ba72f3d8dd7ULL);

	return pop_next64(&s);
}

double
pop_unif(uint64_t *s)
{
	return (double)(pop_next64(s) >> 11) * 0x1.0p-53;
}

static int64_t
unif_ms(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(pop_unif(s) * (double)(hi - lo));
}

static int64_t
exp_ms(uint64_t *s, int64_t mean)
{
	int64_t x = (int64_t)(-log1p(-pop_unif(s)) * (double)mean);

	return x < 1 ? 1 : x;
}

/*
 * The period a random instant falls in is length-biased: for lengths
 * uniform on [lo, hi] its density grows with L, so L = sqrt(lo² + u(hi² − lo²)).
 */
static int64_t
biased_ms(uint64_t *s, int64_t lo, int64_t hi)
{
	double a = (double)lo, b = (double)hi;

	return (int64_t)sqrt(a * a + pop_unif(s) * (b * b - a * a));
}

enum pkind
pop_kind(uint64_t *rs, bool newcomer)
{
	const unsigned *share = newcomer ? share_newcomer : share_initial;
	unsigned x = (unsigned)(pop_unif(rs) * 100.0);

	for (int k = 0; k < K_COUNT; k++) {
		if (x < share[k])
			return (enum pkind)k;
		x -= share[k];
	}
	return K_ALWAYS;
}

/* Diurnal transition j: up at even j, down at odd j, each jittered. */
static int64_t
diurnal_at(struct pnode *n, uint32_t j)
{
	return n->base + (int64_t)(j / 2) * MS_D + (int64_t)(j % 2) * DIURNAL_UP_MS +
	       unif_ms(&n->rs, -DIURNAL_JITTER_MS, DIURNAL_JITTER_MS);
}

static void
init_steady(struct pnode *n)
{
	n->born = 0;
	switch (n->kind) {
	case K_ALWAYS:
		n->up = 1;
		n->up_since = -CHURN_MATURE_MS; /* up for long already */
		break;
	case K_LONG: {
		/* Up with probability mean up / (mean up + mean down); both residuals by memorylessness or bias. */
		double mean_down = (double)(LONG_DOWN_MIN_MS + LONG_DOWN_MAX_MS) / 2;
		if (pop_unif(&n->rs) < (double)LONG_UP_MEAN_MS / ((double)LONG_UP_MEAN_MS + mean_down)) {
			n->up = 1;
			n->up_since = -exp_ms(&n->rs, LONG_UP_MEAN_MS);
			n->next = exp_ms(&n->rs, LONG_UP_MEAN_MS);
		} else {
			n->next = (int64_t)(pop_unif(&n->rs) * (double)biased_ms(&n->rs, LONG_DOWN_MIN_MS, LONG_DOWN_MAX_MS));
		}
		break;
	}
	case K_DIURNAL: {
		/* A random phase; walk the schedule from two days back to now. */
		n->base = unif_ms(&n->rs, 0, MS_D) - 2 * MS_D;
		int64_t t = diurnal_at(n, 0);
		n->dk = 0;
		while (t <= 0) {
			n->up = n->dk % 2 == 0;
			if (n->up)
				n->up_since = t;
			t = diurnal_at(n, ++n->dk);
		}
		n->next = t;
		break;
	}
	case K_FLAPPER: {
		int64_t len = biased_ms(&n->rs, FLAP_MIN_MS, FLAP_MAX_MS);
		int64_t left = (int64_t)(pop_unif(&n->rs) * (double)len);
		n->up = pop_unif(&n->rs) < 0.5;
		n->up_since = left - len;
		n->next = left < 1 ? 1 : left;
		break;
	}
	case K_SHORT:
		/* Not a steady state: they arrive within the first day, then live as newcomers do. */
		n->born = unif_ms(&n->rs, 0, MS_D);
		n->up = 1;
		n->up_since = n->born;
		n->next = n->born + unif_ms(&n->rs, SHORT_MIN_MS, SHORT_MAX_MS);
		break;
	default:
		break;
	}
}

static void
init_arrival(struct pnode *n, int64_t born)
{
	n->born = born;
	n->up = n->kind != K_NEVER;
	n->up_since = born;
	switch (n->kind) {
	case K_LONG:
		n->next = born + exp_ms(&n->rs, LONG_UP_MEAN_MS);
		break;
	case K_DIURNAL:
		/* Its day starts now: up for 12 h (jittered), then the daily rhythm. */
		n->base = born;
		n->dk = 1;
		n->next = diurnal_at(n, 1);
		break;
	case K_FLAPPER:
		n->next = born + unif_ms(&n->rs, FLAP_MIN_MS, FLAP_MAX_MS);
		break;
	case K_SHORT:
		n->next = born + unif_ms(&n->rs, SHORT_MIN_MS, SHORT_MAX_MS);
		break;
	default:
		break;
	}
}

void
pop_init(struct pnode *n, uint64_t seed, uint32_t id, bool initial, int64_t born)
{
	memset(n, 0, sizeof(*n));
	n->rs = pop_stream(seed, id, 1);
	n->rf = pop_stream(seed, id, 2);
	n->next = INT64_MAX;
	n->died = -1;
	n->first_pub = -1;
	n->hour = -1;
	n->last_chk = -1;
	n->idx = NODE_NONE;
	n->kind = (uint8_t)pop_kind(&n->rs, !initial);
	if (initial)
		init_steady(n);
	else
		init_arrival(n, born);
}

void
pop_step(struct pnode *n)
{
	int64_t t = n->next;

	n->up = !n->up;
	if (n->up)
		n->up_since = t;
	switch (n->kind) {
	case K_LONG:
		n->next = t + (n->up ? exp_ms(&n->rs, LONG_UP_MEAN_MS) : unif_ms(&n->rs, LONG_DOWN_MIN_MS, LONG_DOWN_MAX_MS));
		break;
	case K_DIURNAL:
		n->next = diurnal_at(n, ++n->dk);
		break;
	case K_FLAPPER:
		n->next = t + unif_ms(&n->rs, FLAP_MIN_MS, FLAP_MAX_MS);
		break;
	case K_SHORT:
		n->flags |= P_GONE;
		n->died = t;
		n->next = INT64_MAX;
		break;
	default:
		n->next = INT64_MAX;
		break;
	}
}

bool
pop_spurious(struct pnode *n)
{
	return pop_unif(&n->rf) < CHURN_SPURIOUS;
}
