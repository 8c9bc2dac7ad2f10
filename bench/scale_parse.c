/*
 * bench/scale_parse.c FILE [RUNS]: how fast seedd's nodes.csv reader
 * (src/nodes/nodes_csv.c, built as seedd is: musl, -O2) parses FILE, the
 * rows handed to a callback that only counts them. The file is read into
 * memory first; the best of RUNS passes (default 5) is printed as
 * "rows=N bad=N best_ms=X rows_per_s=Y".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nodes/nodes_csv.h"

static size_t nrows, nbad;

static void
on_row(void *ctx, const struct nodescsv_row *r)
{
	(void)ctx;
	(void)r;
	nrows++;
}

static void
on_bad(void *ctx, unsigned line, const char *why)
{
	(void)ctx;
	(void)line;
	(void)why;
	nbad++;
}

int
main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	double best = -1;
	size_t rows = 0, bad = 0;

	if (!f || runs < 1) {
		fprintf(stderr, "usage: scale_parse FILE [RUNS]\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = n > 0 ? malloc((size_t)n) : NULL;
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "scale_parse: cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	for (int r = 0; r < runs; r++) {
		struct timespec a, z;
		char *other;
		size_t olen;
		nrows = nbad = 0;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int rc = nodescsv_parse(buf, (size_t)n, 32767, on_row, on_bad, NULL, &other, &olen);
		clock_gettime(CLOCK_MONOTONIC, &z);
		free(other);
		if (rc < 0) {
			fprintf(stderr, "scale_parse: %s is not a nodes.csv\n", argv[1]);
			return 1;
		}
		double s = (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
		if (best < 0 || s < best)
			best = s;
		rows = nrows;
		bad = nbad;
	}
	printf("rows=%zu bad=%zu best_ms=%.1f rows_per_s=%.0f\n", rows, bad, best * 1e3, (double)rows / best);
	free(buf);
	return 0;
}
