/* numfmt against snprintf, byte for byte, over the values nodes.csv holds and many more. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/numfmt.h"
#include "base/rng.h"
#include "t.h"

void
test_numfmt(void)
{
	static const double fixed[] = { 0, -0.0, 1, 0.5, 0.1, 0.129675, 0.0341263, 0.00165207, 0.000385728,
	                                0.0001, 0.00001, 1e-5, 123456, 1234567, 999999.5, 999999.4, 9.999995,
	                                0.00099999949, 1e21, 1e-7, 3.5e-9, 100, 1e5, 1e6, 65536, 2.5, 0.0005,
	                                0.9995, 0.0015, 1.0005, 12345.65, -2.5, -0.000123456789 };
	char a[64], b[64];
	int bad = 0, badf = 0;
	struct rng r;
	uint8_t seed[32] = { 4 };

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		numfmt_g6(a, fixed[i]);
		snprintf(b, sizeof(b), "%.6g", fixed[i]);
		if (strcmp(a, b) != 0) {
			printf("# %%.6g of %.17g: %s, printf %s\n", fixed[i], a, b);
			bad++;
		}
		numfmt_f3(a, fixed[i]);
		snprintf(b, sizeof(b), "%.3f", fixed[i]);
		if (strcmp(a, b) != 0) {
			printf("# %%.3f of %.17g: %s, printf %s\n", fixed[i], a, b);
			badf++;
		}
	}
	CHECK("%.6g and %.3f of chosen values, as printf", bad == 0 && badf == 0);
	rng_init_seed(&r, seed);
	int n = 0;
	bad = badf = 0;
	for (int i = 0; i < 300000; i++) {
		/* Random mantissas over 1e-12 .. 1e12, and short decimals like the health windows'. */
		double v = (double)rng_u32(&r) / 4294967296.0 * pow(10.0, (int)rng_below(&r, 25) - 12);
		if (i % 3 == 0)
			v = (double)rng_below(&r, 1000000) / pow(10.0, (int)rng_below(&r, 9));
		numfmt_g6(a, v);
		snprintf(b, sizeof(b), "%.6g", v);
		bad += strcmp(a, b) != 0;
		if (v < 1e9) {
			numfmt_f3(a, v);
			snprintf(b, sizeof(b), "%.3f", v);
			badf += strcmp(a, b) != 0;
		}
		n++;
	}
	printf("# numfmt: %d of %d %%.6g and %d %%.3f differ from printf (ties only)\n", bad, n, badf);
	/* Times and integers against strftime and printf. */
	int badt = 0, badu = 0;
	for (int i = 0; i < 100000; i++) {
		int64_t t = i < 4 ? (int64_t[]){ 0, 1, 951782400, 253402300799 }[i] : (int64_t)rng_u32(&r) * 59;
		char want[32] = "";
		struct tm tm;
		time_t tt = (time_t)t;
		if (t > 0 && t <= 253402300799 && gmtime_r(&tt, &tm))
			strftime(want, sizeof(want), "%Y-%m-%d %H:%M:%S", &tm);
		numfmt_time(a, t);
		badt += strcmp(a, want) != 0;
		uint64_t u = (uint64_t)rng_u32(&r) << (i % 32);
		numfmt_u(a, u);
		snprintf(b, sizeof(b), "%llu", (unsigned long long)u);
		badu += strcmp(a, b) != 0;
	}
	CHECK("times as strftime's %Y-%m-%d %H:%M:%S (1970 to 9999, 0 empty)", badt == 0);
	/* And back: every number written reads back as strtod reads it; times as timegm. */
	int badp = 0, fast = 0, badtp = 0;
	for (int i = 0; i < 200000; i++) {
		double v = (double)rng_u32(&r) / 4294967296.0 * pow(10.0, (int)rng_below(&r, 13) - 8);
		char *end;
		double x, y;
		numfmt_g6(a, v);
		y = strtod(a, &end);
		if (numfmt_parse_simple(a, &x) == 0) {
			fast++;
			badp += memcmp(&x, &y, sizeof(x)) != 0;
		}
		numfmt_f3(a, v);
		y = strtod(a, &end);
		if (numfmt_parse_simple(a, &x) == 0)
			badp += memcmp(&x, &y, sizeof(x)) != 0;
		int64_t t = (int64_t)rng_u32(&r) * 58 + 1, back = -1; /* up to the year 9864 */
		struct tm tm;
		time_t tt = (time_t)t;
		gmtime_r(&tt, &tm);
		char ts[32];
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		badtp += numfmt_parse_time(ts, &back) < 0 || back != t;
	}
	printf("# numfmt: %d of 200000 %%.6g texts took the fast way back\n", fast);
	CHECK("parsed back: bit for bit as strtod", badp == 0 && fast > 190000);
	CHECK("times parsed back as timegm", badtp == 0);
	double x;
	int64_t tv;
	CHECK("not simple: strtod's to do", numfmt_parse_simple("1e300", &x) < 0 && numfmt_parse_simple("0x10", &x) < 0 &&
	      numfmt_parse_simple("1234567890123456", &x) < 0 && numfmt_parse_simple("", &x) < 0 &&
	      numfmt_parse_simple("1.5e", &x) < 0 && numfmt_parse_simple("nan", &x) < 0);
	CHECK("simple ones", numfmt_parse_simple("0", &x) == 0 && x == 0 && numfmt_parse_simple("0.000385728", &x) == 0 &&
	      x == 0.000385728 && numfmt_parse_simple("1e-05", &x) == 0 && x == 1e-05 &&
	      numfmt_parse_simple(".5", &x) == 0 && x == 0.5 && numfmt_parse_simple("12.", &x) == 0 && x == 12);
	CHECK("time forms: only the exact one", numfmt_parse_time("2026-12-07 01:02:03", &tv) == 0 &&
	      numfmt_parse_time("2026-12-7 01:02:03", &tv) < 0 && numfmt_parse_time("2026-12-07T01:02:03", &tv) < 0 &&
	      numfmt_parse_time("1969-12-31 23:59:59", &tv) < 0 && numfmt_parse_time("2026-13-01 00:00:00", &tv) < 0);
	CHECK("integers as printf's %llu", badu == 0);
	CHECK("300,000 random values: %.6g as printf but for ties (< 0.01%)", bad * 10000 < n);
	CHECK("300,000 random values: %.3f as printf but for ties (< 0.01%)", badf * 10000 < n);
}
