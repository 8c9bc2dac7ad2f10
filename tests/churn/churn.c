/*
 * churn: the health-model simulator (README.md here). Runs the baseline
 * (sipa) and ours (seedd) over the same simulated population and prints
 * a Markdown table, a breakdown by node kind, and key=value lines; with
 * --assert, one PASS/FAIL line per goal of SPEC 5 (tests/run.sh format)
 * and a non-zero exit when one fails.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: churn [--seed N] [--nodes N] [--days N] [--warmup-days N] [--interval S]\n"
	        "             [--timeout S] [--model sipa|seedd|both] [--assert] [--selftest]\n"
	        "  --seed N         everything random derives from it (1)\n"
	        "  --nodes N        initial population; newcomers add %.0f%% of it a day (10000)\n"
	        "  --days N         simulated days (60)\n"
	        "  --warmup-days N  days before anything is measured (2)\n"
	        "  --interval S     the crawler's --interval (300)\n"
	        "  --timeout S      a failed check ends after S seconds (5)\n"
	        "  --model M        sipa (the baseline), seedd (ours) or both side by side (both)\n"
	        "  --assert         check the goals on ours: PASS/FAIL churn/NAME lines, exit 1 on a failure\n"
	        "  --selftest       only the baseline's sanity check\n",
	        CHURN_NEWCOMERS * 100);
}

static int64_t
num(const char *s, const char *flag, int64_t lo, int64_t hi)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v < lo || v > hi) {
		fprintf(stderr, "churn: %s wants a whole number in [%lld, %lld], not \"%s\"\n", flag, (long long)lo,
		        (long long)hi, s);
		exit(2);
	}
	return v;
}

static void
parse(int argc, char **argv, struct churn_opts *o)
{
	enum { O_SEED = 256, O_NODES, O_DAYS, O_WARMUP, O_INTERVAL, O_TIMEOUT, O_MODEL, O_ASSERT, O_SELFTEST, O_HELP };
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, O_SEED },
		{ "nodes", required_argument, NULL, O_NODES },
		{ "days", required_argument, NULL, O_DAYS },
		{ "warmup-days", required_argument, NULL, O_WARMUP },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "model", required_argument, NULL, O_MODEL },
		{ "assert", no_argument, NULL, O_ASSERT },
		{ "selftest", no_argument, NULL, O_SELFTEST },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct churn_opts){
		.seed = 1, .nodes = 10000, .days = 60, .warmup_days = 2, .interval = 300, .timeout = 5,
		.run_sipa = true, .run_ours = true,
	};
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_SEED: o->seed = (uint64_t)num(optarg, "--seed", 0, INT64_MAX); break;
		/* 11.x.y.z numbers the nodes: 2^24 addresses for them and their newcomers. */
		case O_NODES: o->nodes = (uint32_t)num(optarg, "--nodes", 1, 4000000); break;
		case O_DAYS: o->days = num(optarg, "--days", 1, 3650); break;
		case O_WARMUP: o->warmup_days = num(optarg, "--warmup-days", 0, 3650); break;
		case O_INTERVAL: o->interval = num(optarg, "--interval", 1, 86400); break;
		case O_TIMEOUT: o->timeout = num(optarg, "--timeout", 1, 3600); break;
		case O_MODEL:
			o->run_sipa = strcmp(optarg, "sipa") == 0 || strcmp(optarg, "both") == 0;
			o->run_ours = strcmp(optarg, "seedd") == 0 || strcmp(optarg, "both") == 0;
			if (!o->run_sipa && !o->run_ours) {
				fprintf(stderr, "churn: --model is sipa, seedd or both, not \"%s\"\n", optarg);
				exit(2);
			}
			break;
		case O_ASSERT: o->assert_mode = true; break;
		case O_SELFTEST: o->selftest = true; break;
		case O_HELP: usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	if (o->warmup_days >= o->days) {
		fprintf(stderr, "churn: --warmup-days must be less than --days\n");
		exit(2);
	}
	double total = (double)o->nodes * (1.0 + 2.0 * CHURN_NEWCOMERS * (double)o->days);
	if (total > (double)(1u << 24) - 2) {
		fprintf(stderr, "churn: too many nodes for 11.0.0.0/8 (--nodes x --days)\n");
		exit(2);
	}
	/* The goals compare ours with the baseline: both run. */
	if (o->assert_mode)
		o->run_sipa = o->run_ours = true;
}

int
main(int argc, char **argv)
{
	struct churn_opts o;
	struct churn_result r[2];
	size_t n = 0;
	char err[160];
	const char *selftest_err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(argc, argv, &o);
	selftest_err = sipa_selftest(err, sizeof(err));
	if (o.selftest) {
		if (selftest_err)
			printf("FAIL churn/baseline_sanity: %s\n", selftest_err);
		else
			printf("PASS churn/baseline_sanity\n");
		return selftest_err ? 1 : 0;
	}
	if (o.run_sipa)
		churn_run(&o, &health_sipa, &r[n++]);
	if (o.run_ours)
		churn_run(&o, &health_ours, &r[n++]);
	report_table(&o, r, n);
	report_kinds(r, n);
	report_kv(&o, r, n);
	double wall = 0;
	for (size_t j = 0; j < n; j++)
		wall += r[j].m.wall_s;
	printf("wall_s=%.2f\n", wall);
	int fails = 0;
	if (o.assert_mode)
		fails = report_assert(&o, &r[1], &r[0], selftest_err);
	for (size_t j = 0; j < n; j++)
		metrics_free(&r[j].m);
	return fails ? 1 : 0;
}
