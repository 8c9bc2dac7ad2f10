#include "base/numfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                              1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* v * 10^k for |k| <= 22 exactly representable powers, else through pow. */
static double
scale(double v, int k)
{
	if (k >= 0 && k <= 22)
		return v * p10[k];
	if (k < 0 && k >= -22)
		return v / p10[-k];
	return v * pow(10.0, k);
}

static char *
put_u(char *p, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	while (n)
		*p++ = tmp[--n];
	return p;
}

char *
numfmt_g6(char *p, double v)
{
	if (!isfinite(v) || fabs(v) > 1e300 || (v != 0 && fabs(v) < 1e-300)) {
		int n = snprintf(p, NUMFMT_MAX, "%.6g", v);
		return p + (n > 0 ? n : 0);
	}
	if (signbit(v)) {
		*p++ = '-';
		v = -v;
	}
	if (v == 0) {
		*p++ = '0';
		*p = '\0';
		return p;
	}
	int e = (int)floor(log10(v));
	double m = nearbyint(scale(v, 5 - e));
	/* log10 can be one off near a power of ten; rounding can carry to 10^6. */
	if (m >= 1e6) {
		e++;
		m = nearbyint(scale(v, 5 - e));
	} else if (m < 1e5) {
		e--;
		m = nearbyint(scale(v, 5 - e));
	}
	if (m >= 1e6) { /* 999999.5 rounds up: one more digit */
		e++;
		m = 1e5;
	}
	uint64_t d = (uint64_t)m; /* six digits */
	if (e < -4 || e >= 6) {
		/* d.ddddde±XX, trailing zeros of the fraction dropped */
		uint64_t frac = d % 100000;
		int fd = 5;
		while (fd > 0 && frac % 10 == 0) {
			frac /= 10;
			fd--;
		}
		*p++ = (char)('0' + d / 100000);
		if (fd > 0) {
			*p++ = '.';
			p = put_u(p, frac, fd);
		}
		*p++ = 'e';
		*p++ = e < 0 ? '-' : '+';
		p = put_u(p, (uint64_t)(e < 0 ? -e : e), 2);
	} else {
		int dec = 5 - e; /* 0..9 decimals */
		uint64_t div = (uint64_t)p10[dec];
		uint64_t ip = d / div, frac = d % div;
		int fd = dec;
		while (fd > 0 && frac % 10 == 0) {
			frac /= 10;
			fd--;
		}
		p = put_u(p, ip, 1);
		if (fd > 0) {
			*p++ = '.';
			p = put_u(p, frac, fd);
		}
	}
	*p = '\0';
	return p;
}

char *
numfmt_f3(char *p, double v)
{
	if (!isfinite(v) || fabs(v) >= 1e15) {
		int n = snprintf(p, NUMFMT_MAX, "%.3f", v);
		return p + (n > 0 ? n : 0);
	}
	/*
	 * v * 1000 rounded, as printf rounds the exact value: when the product
	 * lands on a half, its exact residual (fma) says which side v was on.
	 */
	double a = fabs(v), t = a * 1000.0, fl = floor(t), m;
	if (t - fl == 0.5) {
		double err = fma(a, 1000.0, -t);
		m = err > 0 ? fl + 1 : err < 0 ? fl : nearbyint(t);
	} else {
		m = nearbyint(t);
	}
	if (signbit(v))
		*p++ = '-';
	uint64_t d = (uint64_t)m;
	p = put_u(p, d / 1000, 1);
	*p++ = '.';
	p = put_u(p, d % 1000, 3);
	*p = '\0';
	return p;
}

char *
numfmt_u(char *p, uint64_t v)
{
	p = put_u(p, v, 1);
	*p = '\0';
	return p;
}

char *
numfmt_time(char *p, int64_t t)
{
	if (t <= 0 || t > 253402300799) {
		*p = '\0';
		return p;
	}
	/* Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
	int64_t days = t / 86400, sec = t % 86400;
	int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	const uint64_t f[6] = { (uint64_t)(y + (m <= 2)), (uint64_t)m, (uint64_t)d, (uint64_t)(sec / 3600),
	                        (uint64_t)(sec / 60 % 60), (uint64_t)(sec % 60) };
	static const char sep[6] = { '-', '-', ' ', ':', ':', 0 };

	for (int i = 0; i < 6; i++) {
		p = put_u(p, f[i], i == 0 ? 4 : 2);
		if (sep[i])
			*p++ = sep[i];
	}
	*p = '\0';
	return p;
}

int
numfmt_parse_simple(const char *s, double *out)
{
	uint64_t m = 0;
	int digits = 0, scale10 = 0;
	bool dot = false, any = false;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			any = true;
			if (m == 0 && *s == '0') {
				if (dot)
					scale10--; /* leading zeros after the point */
				continue;
			}
			if (++digits > 15)
				return -1;
			m = m * 10 + (uint64_t)(*s - '0');
			if (dot)
				scale10--;
		} else if (*s == '.' && !dot) {
			dot = true;
		} else {
			break;
		}
	}
	if (!any)
		return -1;
	if (*s == 'e' || *s == 'E') {
		s++;
		int sign = 1, e = 0, ed = 0;
		if (*s == '+' || *s == '-')
			sign = *s++ == '-' ? -1 : 1;
		while (*s >= '0' && *s <= '9' && ed < 4) {
			e = e * 10 + (*s++ - '0');
			ed++;
		}
		if (ed == 0)
			return -1;
		scale10 += sign * e;
	}
	if (*s != '\0')
		return -1;
	if (m == 0) {
		*out = 0;
		return 0;
	}
	if (scale10 > 22 || scale10 < -22)
		return -1;
	*out = scale10 >= 0 ? (double)m * p10[scale10] : (double)m / p10[-scale10];
	return 0;
}

static int
digits_at(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
numfmt_parse_time(const char *s, int64_t *out)
{
	if (s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' || s[19] != '\0')
		return -1;
	int y = digits_at(s, 4), mo = digits_at(s + 5, 2), d = digits_at(s + 8, 2);
	int h = digits_at(s + 11, 2), mi = digits_at(s + 14, 2), se = digits_at(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    se < 0 || se > 60)
		return -1;
	/* Days from civil (H. Hinnant), linear in the day as timegm is. */
	int64_t yy = mo <= 2 ? y - 1 : y;
	int64_t era = yy / 400, yoe = yy - era * 400;
	int64_t doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	*out = days * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}
