/*
 * dht_walk: our own queries: the walk through the queue with find_node,
 * BEP 51 sampling by each node's interval, re-seeding, timeouts, and the
 * --dht-rate budget.
 */
#include <string.h>

#include "dht/dht.h"
#include "dht/dht_int.h"


static bool
take_budget(struct dht *d, int64_t now_ms)
{
	if (d->cfg.rate == 0)
		return false;
	double cap = d->cfg.rate < 10 ? 1.0 : d->cfg.rate / 10.0; /* at most a tenth of a second in a burst */
	d->budget += (double)(now_ms - d->budget_t) * d->cfg.rate / 1000.0;
	d->budget_t = now_ms;
	if (d->budget > cap)
		d->budget = cap;
	if (d->budget < 1.0)
		return false;
	d->budget -= 1.0;
	return true;
}

/* Send one query of method to a; false when no slot, budget or per-IP room. */
static bool
query(struct dht *d, enum krpc_method method, const struct addr *a, const uint8_t *their_id, uint32_t node,
      int64_t now_ms)
{
	uint8_t buf[KRPC_SEND_MAX], tb[2], target[KRPC_ID_LEN];
	struct dht_out *o = NULL;
	uint16_t tid = 0;
	struct benc_w w;

	for (int k = 0; k < 8 && !o; k++) {
		tid = (uint16_t)rng_u32(d->rng);
		if (!d->out[tid % DHT_SLOTS].sent)
			o = &d->out[tid % DHT_SLOTS];
	}
	if (!o)
		return false;
	dht_shown_id(d, a, their_id, o->shown);
	tb[0] = (uint8_t)(tid >> 8);
	tb[1] = (uint8_t)tid;
	struct krpc_bytes t = { tb, 2 };
	rng_bytes(d->rng, target, sizeof(target));
	benc_w_init(&w, buf, sizeof(buf));
	if (method == KRPC_M_SAMPLE_INFOHASHES)
		krpc_q_sample_infohashes(&w, t, o->shown, target);
	else
		krpc_q_find_node(&w, t, o->shown, target);
	if (w.err || !dht_send(d, a, buf, w.len, IPRATE_N - 2, now_ms))
		return false;
	o->sent = now_ms;
	o->tid = tid;
	o->to = *a;
	o->method = (uint8_t)method;
	o->node = node;
	o->gen = node != NODE_NONE ? nodes_at(&d->nodes, node)->gen : 0;
	d->inflight++;
	d->st.c[DHT_C_QUERIES_OUT]++;
	d->st.q_out[method]++;
	if (node != NODE_NONE)
		d->peer[node].asked = 1;
	return true;
}

static void
sweep(struct dht *d, int64_t now_ms, int64_t now_s)
{
	for (uint32_t s = 0; s < DHT_SLOTS; s++) {
		struct dht_out *o = &d->out[s];
		if (!o->sent || now_ms - o->sent < DHT_TIMEOUT_MS)
			continue;
		o->sent = 0;
		d->inflight--;
		d->st.c[DHT_C_TIMEOUTS]++;
		uint32_t i = o->node;
		if (i == NODE_NONE || i >= d->nodes.n)
			continue;
		struct node *n = nodes_at(&d->nodes, i);
		if (!(n->flags & NODE_USED) || n->gen != o->gen)
			continue;
		d->peer[i].asked = 0;
		health_update(&n->h, now_s, false);
		n->last_error = NODE_E_TIMEOUT;
		nodes_touch(&d->nodes, i);
		if (o->method == KRPC_M_SAMPLE_INFOHASHES) {
			/* bittorrent-dht ignores methods it does not know: treat silence as no. */
			d->peer[i].si = DHT_SI_NO;
		}
		/* Gone: three misses in a row (health_update counts them) and nothing heard for an hour. */
		if (n->h.fails >= 3 && now_s - n->h.last_success > 3600) {
			nodes_del(&d->nodes, i);
			continue;
		}
		if (!nodes_queued(&d->nodes, i))
			nodes_schedule(&d->nodes, i, now_ms + (int64_t)DHT_REQUERY_S * 1000);
	}
}

/* Nodes with a BEP 51 query due; each re-armed by its interval. */
static bool
next_sample(struct dht *d, int64_t now_ms, int64_t now_s)
{
	uint32_t i;

	while ((i = nodes_next(&d->nodes, now_ms)) != NODE_NONE) {
		struct node *n = nodes_at(&d->nodes, i);
		if (i >= d->npeer)
			continue;
		if (d->peer[i].asked) {
			/* Another query of ours is out to it: its turn comes a little later. */
			nodes_schedule(&d->nodes, i, now_ms + 1000);
			continue;
		}
		enum krpc_method m = d->peer[i].si == DHT_SI_NO ? KRPC_M_FIND_NODE : KRPC_M_SAMPLE_INFOHASHES;
		if (!query(d, m, &n->addr, d->peer[i].id, i, now_ms)) {
			/* No room to this IP now: a little later. */
			nodes_schedule(&d->nodes, i, now_ms + 1000);
			return false;
		}
		dht_recently_asked(d, &n->addr, now_s, true);
		n->h.last_check = health_stamp(now_s);
		/* Re-armed when the answer tells its interval; meanwhile not before our requery time. */
		nodes_schedule(&d->nodes, i, now_ms + (int64_t)DHT_REQUERY_S * 1000);
		return true;
	}
	return false;
}

static bool
next_queued(struct dht *d, int64_t now_ms, int64_t now_s)
{
	for (int tries = 0; d->qlen > 0 && tries < 64; tries++) {
		struct dht_qent e = d->q[d->qhead];
		d->qhead = (d->qhead + 1) % DHT_QUEUE;
		d->qlen--;
		if (!dht_allowed(d, &e.a) || nodes_find(&d->nodes, &e.a) != NODE_NONE ||
		    dht_recently_asked(d, &e.a, now_s, false))
			continue;
		if (!query(d, KRPC_M_FIND_NODE, &e.a, e.have_id ? e.id : NULL, NODE_NONE, now_ms)) {
			/* No room to that IP (or no free slot) now: back to the end of the queue. */
			dht_learn(d, e.have_id ? e.id : NULL, &e.a);
			continue;
		}
		dht_recently_asked(d, &e.a, now_s, true);
		return true;
	}
	return false;
}

static void
reseed(struct dht *d, int64_t now_ms)
{
	/* The bootstrap nodes, and a few known nodes at random, so the walk goes on. */
	for (int i = 0; i < d->boot.n; i++)
		if (take_budget(d, now_ms))
			query(d, KRPC_M_FIND_NODE, &d->boot.a[i], NULL, nodes_find(&d->nodes, &d->boot.a[i]), now_ms);
	for (int k = 0; k < 8 && d->nodes.count; k++) {
		uint32_t i = rng_below(d->rng, (uint32_t)d->nodes.n);
		struct node *n = nodes_at(&d->nodes, i);
		if ((n->flags & NODE_USED) && i < d->npeer && !d->peer[i].asked && take_budget(d, now_ms))
			query(d, KRPC_M_FIND_NODE, &n->addr, d->peer[i].id, i, now_ms);
	}
}

void
dht_tick(struct dht *d, int64_t now_ms, int64_t now_s)
{
	if (now_s - d->tok_rotated >= DHT_TOKEN_ROTATE_S)
		dht_rotate(d, now_s);
	dht_send_later(d, now_ms);
	if (now_ms >= d->next_sweep) {
		sweep(d, now_ms, now_s);
		d->next_sweep = now_ms + 1000;
	}
	/* BEP 51 first (rare, due by interval), then the walk. */
	for (int n = 0; n < 4096 && take_budget(d, now_ms); n++) {
		if (next_sample(d, now_ms, now_s) || next_queued(d, now_ms, now_s))
			continue;
		d->budget += 1.0; /* nothing sent */
		if (d->qlen == 0 && d->inflight == 0 && now_ms >= d->next_reseed) {
			reseed(d, now_ms);
			d->next_reseed = now_ms + 5000;
		}
		break;
	}
}
