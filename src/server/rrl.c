#include "server/rrl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/siphash.h"
#include "dns/dname.h"

#define RRL_SETS (RRL_TABLE / RRL_WAYS)
#define MILLI 1000 /* tokens are counted in thousandths */

struct rrl_bucket {
	uint64_t key;
	int64_t last_ms;  /* 0: free */
	int64_t balance;  /* thousandths of a response */
	uint32_t limited; /* over the limit in this bucket's life: drives the slip */
	uint32_t minute;  /* over the limit since the last rrl_top */
	uint8_t family;
	uint8_t prefix[16];
};

void
rrl_init(struct rrl *r, const struct rrl_config *cfg, const uint8_t key[16])
{
	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->key = siphash_key_from(key);
}

void
rrl_free(struct rrl *r)
{
	free(r->table);
	r->table = NULL;
}

/* The client's prefix, masked; IPv4-mapped IPv6 counts as IPv4. */
static void
mask(const struct rrl *r, const uint8_t *ip, size_t iplen, uint8_t *family, uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned bits;
	size_t len;

	memset(out, 0, 16);
	if (iplen == 16 && memcmp(ip, mapped, 12) == 0) {
		ip += 12;
		iplen = 4;
	}
	if (iplen == 4) {
		*family = AF_INET;
		bits = r->cfg.v4_prefix;
		len = 4;
	} else {
		*family = AF_INET6;
		bits = r->cfg.v6_prefix;
		len = 16;
	}
	memcpy(out, ip, len);
	for (size_t i = 0; i < len; i++) {
		if (bits >= 8 * (i + 1))
			continue;
		unsigned keep = bits > 8 * i ? bits - 8 * (unsigned)i : 0;
		out[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static uint64_t
bucket_key(const struct rrl *r, uint8_t family, const uint8_t prefix[16], enum rrl_class cls,
           const uint8_t *name, uint16_t qtype)
{
	uint8_t buf[1 + 16 + 1 + 2 + DNAME_MAX];
	size_t n = 0;

	buf[n++] = family;
	memcpy(buf + n, prefix, 16);
	n += 16;
	buf[n++] = (uint8_t)cls;
	if (cls == RRL_ANSWER || cls == RRL_WILDCARD) {
		buf[n++] = (uint8_t)(qtype >> 8);
		buf[n++] = (uint8_t)qtype;
	}
	if (cls != RRL_ERROR && name != NULL) {
		size_t nl = dname_len(name);
		memcpy(buf + n, name, nl);
		n += nl;
	}
	uint64_t h = siphash24(&r->key, buf, n);
	return h == 0 ? 1 : h;
}

/* The bucket's balance brought up to now: refilled at the rate, at most a second's worth. */
static int64_t
refilled(const struct rrl *r, const struct rrl_bucket *b, int64_t now_ms)
{
	int64_t cap = (int64_t)r->cfg.rate * MILLI;
	int64_t dt = now_ms - b->last_ms;

	if (dt < 0)
		dt = 0;
	if (dt > (int64_t)(RRL_WINDOW + 2) * 1000)
		return cap; /* any debt is repaid by now */
	int64_t v = b->balance + dt * (int64_t)r->cfg.rate; /* rate/s = rate thousandths/ms */
	return v > cap ? cap : v;
}

static struct rrl_bucket *
find(struct rrl *r, uint64_t key, int64_t now_ms, bool *fresh)
{
	struct rrl_bucket *set = &r->table[key & (RRL_SETS - 1)];
	struct rrl_bucket *victim = NULL;
	int64_t cap = (int64_t)r->cfg.rate * MILLI;

	*fresh = false;
	for (int i = 0; i < RRL_WAYS; i++)
		if (set[i].last_ms != 0 && set[i].key == key)
			return &set[i];
	/* A free slot, or one whose bucket is full again (it holds nothing a
	 * fresh bucket would not), else the least recently used one. */
	for (int i = 0; i < RRL_WAYS; i++) {
		struct rrl_bucket *b = &set[i];
		if (b->last_ms == 0 || refilled(r, b, now_ms) >= cap) {
			victim = b;
			break;
		}
		if (victim == NULL || b->last_ms < victim->last_ms)
			victim = b;
	}
	if (victim->last_ms != 0 && refilled(r, victim, now_ms) < cap)
		r->stats.evicted++;
	*fresh = true;
	return victim;
}

enum rrl_verdict
rrl_account(struct rrl *r, int64_t now_ms, const uint8_t *ip, size_t iplen,
            enum rrl_class cls, const uint8_t *name, uint16_t qtype)
{
	if (r->cfg.rate == 0 || (iplen != 4 && iplen != 16))
		return RRL_SEND;
	if (r->table == NULL) {
		r->table = calloc(RRL_TABLE, sizeof(*r->table));
		if (r->table == NULL)
			return RRL_SEND;
	}
	if (now_ms <= 0)
		now_ms = 1; /* 0 marks a free slot */
	uint8_t family, prefix[16];
	mask(r, ip, iplen, &family, prefix);
	uint64_t key = bucket_key(r, family, prefix, cls, name, qtype);
	bool fresh;
	struct rrl_bucket *b = find(r, key, now_ms, &fresh);
	int64_t cap = (int64_t)r->cfg.rate * MILLI;
	if (fresh) {
		memset(b, 0, sizeof(*b));
		b->key = key;
		b->balance = cap;
		b->family = family;
		memcpy(b->prefix, prefix, 16);
	} else {
		b->balance = refilled(r, b, now_ms);
	}
	b->last_ms = now_ms;
	b->balance -= MILLI;
	int64_t floor = -(int64_t)RRL_WINDOW * cap;
	if (b->balance < floor)
		b->balance = floor;
	if (b->balance >= 0)
		return RRL_SEND;
	b->limited++;
	b->minute++;
	r->stats.limited++;
	if (r->cfg.slip > 0 && b->limited % r->cfg.slip == 0) {
		r->stats.slipped++;
		return RRL_SLIP;
	}
	r->stats.dropped++;
	return RRL_DROP;
}

size_t
rrl_top(struct rrl *r, struct rrl_top *out, size_t n)
{
	size_t k = 0;

	if (r->table == NULL || n == 0)
		return 0;
	/* One pass: prefixes already listed add up; a new one replaces the
	 * smallest when it limited more. Exact for the few prefixes of a flood. */
	for (size_t i = 0; i < RRL_TABLE; i++) {
		struct rrl_bucket *b = &r->table[i];
		if (b->minute == 0)
			continue;
		size_t j;
		for (j = 0; j < k; j++)
			if (out[j].family == b->family && memcmp(out[j].prefix, b->prefix, 16) == 0)
				break;
		if (j == k) {
			if (k < n) {
				k++;
			} else {
				size_t min = 0;
				for (size_t m = 1; m < k; m++)
					if (out[m].limited < out[min].limited)
						min = m;
				if (out[min].limited >= b->minute) {
					b->minute = 0;
					continue;
				}
				j = min;
			}
			out[j].family = b->family;
			memcpy(out[j].prefix, b->prefix, 16);
			out[j].bits = b->family == AF_INET ? r->cfg.v4_prefix : r->cfg.v6_prefix;
			out[j].limited = 0;
		}
		out[j].limited += b->minute;
		b->minute = 0;
	}
	/* Most limited first. */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && out[j].limited > out[j - 1].limited; j--) {
			struct rrl_top t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return k;
}
