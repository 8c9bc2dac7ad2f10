#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "dht/tdht.h"

struct td_cap *td_cap;
int td_n, td_lost;
int64_t td_now_ms, td_now_s;
struct krpc_msg td_msg;
uint8_t td_qbuf[KRPC_SEND_MAX];

/* A dht keeps a pointer to its rng: one per dht made since td_begin(). */
static struct rng rngs[16];
static int nrng;
static uint8_t seed0;

void
td_begin(uint8_t seed)
{
	td_cap = calloc(CAPN, sizeof(*td_cap));
	td_n = td_lost = 0;
	nrng = 0;
	seed0 = seed;
}

void
td_end(void)
{
	free(td_cap);
	td_cap = NULL;
}

static void
emit(void *arg, const struct addr *to, const uint8_t *p, size_t len)
{
	(void)arg;
	if (td_n == CAPN || len > KRPC_SEND_MAX) {
		td_lost++;
		return;
	}
	td_cap[td_n].to = *to;
	td_cap[td_n].ms = td_now_ms;
	td_cap[td_n].len = len;
	memcpy(td_cap[td_n].p, p, len);
	td_n++;
}

void
td_at(int64_t ms)
{
	td_now_ms = ms;
	td_now_s = S0 + (ms - MS0) / 1000;
}

struct addr
td_ap(const char *s)
{
	struct addr a;
	memset(&a, 0, sizeof(a));
	addr_parse_hostport(&a, s, 0);
	return a;
}

bool
td_addr_eq(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, addr_len(a)) == 0;
}

void
td_seed_rng(struct rng *r, uint8_t s)
{
	uint8_t seed[32];
	memset(seed, s, sizeof(seed));
	rng_init_seed(r, seed);
}

void
td_mkh(uint32_t i, uint8_t h[IH_LEN])
{
	for (int k = 0; k < IH_LEN; k++)
		h[k] = (uint8_t)(0xa5 ^ (k * 29));
	h[0] = (uint8_t)(i >> 24);
	h[1] = (uint8_t)(i >> 16);
	h[2] = (uint8_t)(i >> 8);
	h[3] = (uint8_t)i;
}

struct dht *
td_mk(bool allow_private, uint32_t rate)
{
	struct dht *d = calloc(1, sizeof(*d));
	struct dht_config c;

	memset(&c, 0, sizeof(c));
	c.bind = td_ap("127.3.0.1:6881");
	c.rate = rate;
	c.allow_private = allow_private;
	c.max_nodes = 1000;
	c.max_infohashes = 1000;
	td_seed_rng(&rngs[nrng], (uint8_t)(seed0 + nrng));
	if (dht_core_init(d, &c, &rngs[nrng++], td_now_s) < 0)
		CHECK("dht_core_init", 0);
	d->emit = emit;
	td_n = 0;
	return d;
}

void
td_rm(struct dht *d)
{
	dht_core_free(d);
	free(d);
}

bool
td_dec(int i)
{
	const char *why;
	return i >= 0 && i < td_n && krpc_decode(&td_msg, td_cap[i].p, td_cap[i].len, &why) == KRPC_OK;
}

size_t
td_resp(struct krpc_bytes t, const void *id, struct krpc_bytes nodes, int64_t interval, struct krpc_bytes samples,
        const struct addr *ip)
{
	struct benc_w w;
	struct krpc_r r = { .id = id, .interval = interval, .nodes = nodes, .num = -1, .samples = samples, .ip = ip };
	if (samples.p)
		r.num = (int64_t)(samples.len / 20);
	benc_w_init(&w, td_qbuf, sizeof(td_qbuf));
	krpc_response(&w, t, &r);
	return w.len;
}
