/*
 * dht: the sniffer's protocol: what we answer and record, what we make of
 * answers to our queries, and the state behind them. No sockets here (see
 * dht.h): datagrams come in through dht_input and go out through put().
 * Ids and tokens are in dht_id.c, our queries in dht_walk.c.
 */
#include "dht/dht.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dname.h"
#include "dht/dht_int.h"
#include "base/log.h"


static const uint8_t zero_id[KRPC_ID_LEN];

/* --- set-up ----------------------------------------------------------------- */

int
dht_core_init(struct dht *d, const struct dht_config *cfg, struct rng *rng, int64_t now_s)
{
	struct siphash_key k;
	uint8_t seed[DNAME_MAX + 32];
	size_t n = 0;

	d->cfg = *cfg;
	d->rng = rng;
	d->fd = -1;
	/*
	 * Neighbour ids must stay the same across restarts (libtorrent evicts a
	 * node whose id changes), so their key comes from what identifies this
	 * sniffer, not from the rng. They need to be stable, not secret.
	 */
	static const struct siphash_key fixed = { 0x7365656464646874ULL, 0x6e65696768626f75ULL };
	seed[n++] = (uint8_t)cfg->bind.family;
	memcpy(seed + n, cfg->bind.ip, 16);
	n += 16;
	seed[n++] = (uint8_t)(cfg->bind.port >> 8);
	seed[n++] = (uint8_t)cfg->bind.port;
	if (cfg->zone) {
		size_t zl = 0;
		while (zl < DNAME_MAX && cfg->zone[zl])
			zl += (size_t)cfg->zone[zl] + 1;
		if (zl > DNAME_MAX - 1)
			zl = DNAME_MAX - 1;
		memcpy(seed + n, cfg->zone, zl);
		n += zl;
	}
	d->id_key.k0 = siphash24(&fixed, seed, n);
	seed[0] ^= 0xff;
	d->id_key.k1 = siphash24(&fixed, seed, n);
	rng_bytes(rng, &d->tok_key[0], sizeof(d->tok_key[0]));
	rng_bytes(rng, &d->tok_key[1], sizeof(d->tok_key[1]));
	d->tok_rotated = now_s;
	rng_bytes(rng, &k, sizeof(k));
	if (iprate_init(&d->iprate, 16384, &k) < 0)
		return -1;
	uint64_t ns;
	rng_bytes(rng, &ns, sizeof(ns));
	nodes_init(&d->nodes, cfg->max_nodes, ns);
	d->nodes.track = true; /* nodes.csv.log: what changes from here on */
	logfile_init(&d->nodes_file, d->dirfd, NODESCSV_FILE);
	d->q = calloc(DHT_QUEUE, sizeof(*d->q));
	d->out = calloc(DHT_SLOTS, sizeof(*d->out));
	d->recent = calloc(DHT_RECENT, sizeof(*d->recent));
	d->txbuf = calloc(DHT_BATCH, sizeof(*d->txbuf));
	d->later = calloc(DHT_LATER, sizeof(*d->later));
	if (!d->q || !d->out || !d->recent || !d->txbuf || !d->later)
		return -1;
	rng_bytes(rng, &k, sizeof(k));
	ih_init(&d->ih, cfg->max_infohashes, &k);
	d->ih_log.fd = d->ih_log.next_fd = -1;
	d->budget = cfg->rate > 0 ? 1 : 0;
	d->started = now_s;
	d->last_unsolicited = 0;
	return 0;
}

void
dht_core_free(struct dht *d)
{
	iprate_free(&d->iprate);
	nodes_free(&d->nodes);
	free(d->peer);
	free(d->q);
	free(d->out);
	free(d->recent);
	free(d->txbuf);
	free(d->later);
	free(d->other);
	ih_free(&d->ih);
	changelog_close(&d->ih_log);
	logfile_close(&d->nodes_file);
	d->peer = NULL;
	d->q = NULL;
	d->out = NULL;
	d->recent = NULL;
	d->txbuf = NULL;
	d->later = NULL;
	d->other = NULL;
}

/* --- sending ---------------------------------------------------------------- */

static void
put(struct dht *d, const struct addr *to, const uint8_t *p, size_t len)
{
	d->st.c[DHT_C_OUT]++;
	/* The socket adapter (dht_net.c) or a test takes it: the core does no I/O. */
	if (d->emit)
		d->emit(d->emit_arg, to, p, len);
}

bool
dht_send(struct dht *d, const struct addr *to, const uint8_t *p, size_t len, unsigned limit, int64_t now_ms)
{
	if (!dht_allowed(d, to)) {
		d->st.c[DHT_C_DROP_FILTERED]++;
		return false;
	}
	/* Refused for now: our own queries wait for their turn; not a drop. */
	if (!iprate_take(&d->iprate, to, now_ms, limit))
		return false;
	put(d, to, p, len);
	return true;
}

static bool
same_ip(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, addr_len(a)) == 0;
}

/*
 * An answer (or error) to a query: sent now when the per-IP limit has room,
 * else held back for a moment. libtorrent asks one ip:port several times in
 * one lookup when it knows it under several ids (ours: one per neighbour),
 * and still takes an answer a second or two late.
 */
static bool
reply(struct dht *d, const struct addr *to, const uint8_t *p, size_t len, int64_t now_ms)
{
	if (!dht_allowed(d, to)) {
		d->st.c[DHT_C_DROP_FILTERED]++;
		return false;
	}
	/* First come, first served: nothing jumps the answers already waiting for this IP. */
	unsigned waiting = 0;
	for (uint32_t k = 0; k < d->later_len && waiting < DHT_LATER_PER_IP; k++)
		waiting += same_ip(&d->later[(d->later_head + k) % DHT_LATER].to, to);
	if (!waiting && iprate_take(&d->iprate, to, now_ms, IPRATE_N)) {
		put(d, to, p, len);
		return true;
	}
	if (waiting >= DHT_LATER_PER_IP || d->later_len == DHT_LATER) {
		d->st.c[DHT_C_DROP_RATE]++;
		return false;
	}
	struct dht_later *l = &d->later[(d->later_head + d->later_len++) % DHT_LATER];
	l->at = now_ms;
	l->to = *to;
	l->len = (uint16_t)len;
	memcpy(l->buf, p, len);
	d->st.c[DHT_C_DEFERRED]++;
	return true;
}

/* Send the held-back answers that have room now, in order; drop the stale ones. */
void
dht_send_later(struct dht *d, int64_t now_ms)
{
	uint32_t n = d->later_len;

	for (uint32_t k = 0; k < n; k++) {
		struct dht_later l = d->later[d->later_head];
		d->later_head = (d->later_head + 1) % DHT_LATER;
		d->later_len--;
		if (now_ms - l.at > DHT_LATER_MS) {
			d->st.c[DHT_C_DROP_RATE]++;
			continue;
		}
		if (iprate_take(&d->iprate, &l.to, now_ms, IPRATE_N)) {
			put(d, &l.to, l.buf, l.len);
			continue;
		}
		d->later[(d->later_head + d->later_len++) % DHT_LATER] = l;
	}
}

static void
send_error(struct dht *d, const struct addr *to, struct krpc_bytes t, int code, const char *msg, int64_t now_ms)
{
	uint8_t buf[KRPC_SEND_MAX];
	struct benc_w w;

	benc_w_init(&w, buf, sizeof(buf));
	krpc_error(&w, t, code, msg);
	if (!w.err && reply(d, to, buf, w.len, now_ms))
		d->st.c[DHT_C_ERRORS_OUT]++;
}

/* --- the node table and the queue ------------------------------------------- */

static uint32_t
addr_hash32(const struct dht *d, const struct addr *a)
{
	uint8_t in[18];
	size_t alen = addr_len(a);

	memcpy(in, a->ip, alen);
	in[alen] = (uint8_t)(a->port >> 8);
	in[alen + 1] = (uint8_t)a->port;
	return (uint32_t)siphash24(&d->iprate.key, in, alen + 2);
}

/* Asked lately (or now marked as asked at now_s)? */
bool
dht_recently_asked(struct dht *d, const struct addr *a, int64_t now_s, bool mark)
{
	uint32_t h = addr_hash32(d, a);
	uint32_t s = h & (DHT_RECENT - 1);
	uint32_t hi = h | 1; /* 0 means empty */

	if (d->recent[s].h == hi && now_s - (int64_t)d->recent[s].t < DHT_REQUERY_S)
		return true;
	if (mark) {
		d->recent[s].h = hi;
		d->recent[s].t = (uint32_t)now_s;
	}
	return false;
}

void
dht_learn(struct dht *d, const uint8_t *id, const struct addr *a)
{
	if (!dht_allowed(d, a) || (id && memcmp(id, zero_id, KRPC_ID_LEN) == 0))
		return;
	if (d->qlen == DHT_QUEUE) {
		/* Full: the oldest entry gives way, as in the prototype's deque. */
		d->qhead = (d->qhead + 1) % DHT_QUEUE;
		d->qlen--;
		d->st.c[DHT_C_QUEUE_FULL]++;
	}
	struct dht_qent *e = &d->q[(d->qhead + d->qlen) % DHT_QUEUE];
	e->a = *a;
	e->have_id = id != NULL;
	if (id)
		memcpy(e->id, id, KRPC_ID_LEN);
	d->qlen++;
}

static void
learn_nodes(struct dht *d, struct krpc_bytes nodes, size_t alen)
{
	uint8_t id[KRPC_ID_LEN];
	struct addr a;

	for (size_t k = 0; krpc_node_get(nodes, alen, k, id, &a); k++)
		dht_learn(d, id, &a);
}

static void
near_add(struct dht *d, const uint8_t *id, const struct addr *a)
{
	for (uint32_t i = 0; i < d->nnear; i++)
		if (d->near[i].a.family == a->family && d->near[i].a.port == a->port &&
		    memcmp(d->near[i].a.ip, a->ip, addr_len(a)) == 0) {
			memcpy(d->near[i].id, id, KRPC_ID_LEN);
			return;
		}
	struct dht_near *n = &d->near[d->near_pos];
	d->near_pos = (d->near_pos + 1) % DHT_NEAR;
	if (d->nnear < DHT_NEAR)
		d->nnear++;
	memcpy(n->id, id, KRPC_ID_LEN);
	n->a = *a;
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Up to DHT_K responders of the asker's family (not the asker) closest to target, as compact nodes; the length. */
static size_t
closest(const struct dht *d, const uint8_t *target, const struct addr *asker, uint8_t *out)
{
	int family = asker->family;
	uint32_t pick[DHT_K];
	uint64_t dist[DHT_K];
	size_t n = 0;
	uint64_t t = be64(target);

	for (uint32_t i = 0; i < d->nnear; i++) {
		if (d->near[i].a.family != family)
			continue;
		/* Never the asker itself: libtorrent would query itself and ban its own address. */
		if (d->near[i].a.port == asker->port && memcmp(d->near[i].a.ip, asker->ip, addr_len(asker)) == 0)
			continue;
		uint64_t x = be64(d->near[i].id) ^ t;
		size_t j = n < DHT_K ? n++ : DHT_K;
		if (j == DHT_K) {
			if (x >= dist[DHT_K - 1])
				continue;
			j = DHT_K - 1;
		}
		while (j > 0 && dist[j - 1] > x) {
			dist[j] = dist[j - 1];
			pick[j] = pick[j - 1];
			j--;
		}
		dist[j] = x;
		pick[j] = i;
	}
	size_t len = 0;
	for (size_t k = 0; k < n; k++)
		len += krpc_node_put(out + len, d->near[pick[k]].id, &d->near[pick[k]].a);
	return len;
}

bool
dht_peer_room(struct dht *d, uint32_t i)
{
	if (i < d->npeer)
		return true;
	size_t n = d->nodes.cap;
	struct dht_peer *p = realloc(d->peer, n * sizeof(*p));
	if (!p)
		return false;
	memset(p + d->npeer, 0, (n - d->npeer) * sizeof(*p));
	d->peer = p;
	d->npeer = n;
	return i < n;
}

/* A node answered: into the table (first contact fixes the id we show it). */
static uint32_t
node_answered(struct dht *d, const struct addr *a, const uint8_t *id, const uint8_t *shown, int64_t now_s)
{
	uint32_t i = nodes_find(&d->nodes, a);

	if (i == NODE_NONE) {
		i = nodes_add(&d->nodes, a);
		if (i == NODE_NONE || !dht_peer_room(d, i)) {
			if (i != NODE_NONE)
				nodes_del(&d->nodes, i);
			return NODE_NONE;
		}
		memset(&d->peer[i], 0, sizeof(d->peer[i]));
		memcpy(d->peer[i].shown, shown, KRPC_ID_LEN);
		nodes_at(&d->nodes, i)->h.first_seen = health_stamp(now_s);
	}
	memcpy(d->peer[i].id, id, KRPC_ID_LEN);
	struct node *n = nodes_at(&d->nodes, i);
	n->h.fails = 0;
	n->last_error = NODE_E_NONE;
	nodes_touch(&d->nodes, i);
	near_add(d, id, a);
	return i;
}

/* --- recording -------------------------------------------------------------- */

static struct ih_entry *
record(struct dht *d, const uint8_t *h, int64_t now_s)
{
	struct ih_entry *e = ih_get(&d->ih, h, (uint32_t)now_s, d->rng);

	if (e) {
		e->last = (uint32_t)now_s;
		ih_touch(&d->ih, e); /* in the change log's next batch */
	}
	return e;
}

static uint32_t
inc(uint32_t v)
{
	return v == UINT32_MAX ? v : v + 1;
}

/* --- queries from others ---------------------------------------------------- */

static void
answer(struct dht *d, const struct addr *from, int64_t now_ms, int64_t now_s)
{
	struct krpc_msg *m = &d->msg;
	uint8_t buf[KRPC_SEND_MAX], shown[KRPC_ID_LEN], nodes[DHT_K * KRPC_NODE6_LEN], tok[DHT_TOKEN_LEN];
	uint8_t samples[20 * KRPC_ID_LEN], value[18];
	struct krpc_r r = { .interval = -1, .num = -1, .ip = from };
	struct benc_w w;
	struct ih_entry *e;
	struct addr who;

	d->st.q_in[m->method]++;
	dht_shown_id(d, from, m->id, shown);
	r.id = shown;
	const uint8_t *target = m->target ? m->target : m->method == KRPC_M_GET_PEERS ? m->info_hash : NULL;
	if (target) {
		size_t nl = closest(d, target, from, nodes);
		if (from->family == AF_INET6)
			r.nodes6 = (struct krpc_bytes){ nodes, nl };
		else
			r.nodes = (struct krpc_bytes){ nodes, nl };
	}
	switch (m->method) {
	case KRPC_M_PING:
	case KRPC_M_FIND_NODE:
		break;
	case KRPC_M_GET_PEERS:
		d->st.c[DHT_C_GET_PEERS]++;
		if ((e = record(d, m->info_hash, now_s)))
			e->get_peers = inc(e->get_peers);
		dht_token(d, from, 0, tok);
		r.token = (struct krpc_bytes){ tok, DHT_TOKEN_LEN };
		/* The one peer we know is real: the last announcer, if of the asker's family. */
		if (e && ih_who(&d->ih, e, &who) && who.family == from->family) {
			r.vlen = krpc_peer_put(value, &who);
			r.values = value;
			r.nvalues = 1;
		}
		break;
	case KRPC_M_ANNOUNCE_PEER: {
		if (!dht_token_ok(d, from, m->token.p, m->token.len)) {
			d->st.c[DHT_C_BAD_TOKEN]++;
			send_error(d, from, m->t, 203, "bad token", now_ms);
			return;
		}
		who = *from;
		if (!m->implied_port)
			who.port = (uint16_t)m->port;
		d->st.c[DHT_C_ANNOUNCES]++;
		if ((e = record(d, m->info_hash, now_s))) {
			ih_add_announces(&d->ih, e, 1);
			ih_set_who(&d->ih, e, &who);
		}
		if (log_on(LOG_DEBUG)) {
			char ih[41], as[ADDR_STRLEN];
			for (int i = 0; i < 20; i++)
				snprintf(ih + 2 * i, 3, "%02x", m->info_hash[i]);
			addr_str(&who, as, sizeof(as));
			log_debug("dht", "msg=announce infohash=%s peer=%s", ih, as);
		}
		break;
	}
	case KRPC_M_SAMPLE_INFOHASHES: {
		/* Hashes announced to us, picked at random: those we can give peers for. */
		size_t ns = 0;
		for (uint32_t k = 0; k < 64 && d->ih.n && ns < 20; k++) {
			const struct ih_entry *c = &d->ih.v[rng_below(d->rng, d->ih.n)];
			if (!c->announces)
				continue;
			bool dup = false;
			for (size_t j = 0; j < ns && !dup; j++)
				dup = memcmp(samples + KRPC_ID_LEN * j, c->h, KRPC_ID_LEN) == 0;
			if (!dup)
				memcpy(samples + KRPC_ID_LEN * ns++, c->h, KRPC_ID_LEN);
		}
		/* num: all we hold (BEP 51), so an indexer knows there is more than this sample. */
		r.interval = DHT_SI_INTERVAL;
		r.num = d->ih.announced;
		r.samples = (struct krpc_bytes){ samples, KRPC_ID_LEN * ns };
		break;
	}
	default:
		send_error(d, from, m->t, 204, "Method Unknown", now_ms);
		return;
	}
	benc_w_init(&w, buf, sizeof(buf));
	krpc_response(&w, m->t, &r);
	if (!w.err && reply(d, from, buf, w.len, now_ms))
		d->st.c[DHT_C_ANSWERS]++;
}

/* --- answers to our queries ------------------------------------------------- */

static void
on_response(struct dht *d, const struct addr *from, int64_t now_ms, int64_t now_s)
{
	struct krpc_msg *m = &d->msg;
	struct dht_out *o;

	/* Ours have 2-byte ids, sent to this very ip:port, still waiting. */
	if (m->t.len != 2)
		goto unmatched;
	uint16_t tid = (uint16_t)(m->t.p[0] << 8 | m->t.p[1]);
	o = &d->out[tid % DHT_SLOTS];
	if (!o->sent || o->tid != tid || o->to.family != from->family || o->to.port != from->port ||
	    memcmp(o->to.ip, from->ip, addr_len(from)) != 0)
		goto unmatched;
	o->sent = 0;
	d->inflight--;
	uint8_t method = o->method;
	uint32_t i = o->node;
	if (i != NODE_NONE && (i >= d->nodes.n || nodes_at(&d->nodes, i)->gen != o->gen ||
	                       !(nodes_at(&d->nodes, i)->flags & NODE_USED)))
		i = NODE_NONE;
	if (m->y == 'e') {
		d->st.c[DHT_C_ERRORS_IN]++;
		/* An error still proves a known node is there; 204 to BEP 51 means no support. */
		if (i != NODE_NONE) {
			d->peer[i].asked = 0;
			health_update(&nodes_at(&d->nodes, i)->h, now_s, true);
			nodes_touch(&d->nodes, i);
			if (method == KRPC_M_SAMPLE_INFOHASHES) {
				d->peer[i].si = DHT_SI_NO;
				nodes_schedule(&d->nodes, i, now_ms + (int64_t)DHT_SI_MAX_S * 1000);
			}
		}
		return;
	}
	d->st.c[DHT_C_RESPONSES_IN]++;
	i = node_answered(d, from, m->id, o->shown, now_s);
	if (i != NODE_NONE) {
		d->peer[i].asked = 0;
		health_update(&nodes_at(&d->nodes, i)->h, now_s, true);
	}
	learn_nodes(d, m->nodes, 4);
	learn_nodes(d, m->nodes6, 16);
	if (m->ip.p) {
		struct addr seen;
		if (krpc_peer_get(m->ip.p, m->ip.len, &seen)) {
			d->seen_as = seen;
			d->have_seen_as = true;
		}
	}
	if (method == KRPC_M_SAMPLE_INFOHASHES || m->samples.p) {
		for (size_t k = 0; k + KRPC_ID_LEN <= m->samples.len; k += KRPC_ID_LEN) {
			struct ih_entry *e = record(d, m->samples.p + k, now_s);
			if (e)
				e->samples = inc(e->samples);
			d->st.c[DHT_C_SAMPLES]++;
		}
		if (i != NODE_NONE && method == KRPC_M_SAMPLE_INFOHASHES) {
			/* samples present (even empty) tells BEP 51 support apart from find_node-like answers. */
			d->peer[i].si = m->samples.p ? DHT_SI_YES : DHT_SI_NO;
			int64_t iv = m->interval < 0 ? DHT_SI_MAX_S : m->interval;
			if (!m->samples.p)
				iv = DHT_SI_MAX_S;
			if (iv < DHT_SI_MIN_S)
				iv = DHT_SI_MIN_S;
			if (iv > DHT_SI_MAX_S)
				iv = DHT_SI_MAX_S;
			nodes_schedule(&d->nodes, i, now_ms + iv * 1000);
		}
	} else if (i != NODE_NONE && d->peer[i].si == DHT_SI_UNKNOWN && !nodes_queued(&d->nodes, i)) {
		/* A new node: ask it for samples soon (after this answer, within the per-IP limit). */
		nodes_schedule(&d->nodes, i, now_ms + 1000 + rng_below(d->rng, 2000));
	}
	return;
unmatched:
	d->st.c[DHT_C_DROP_UNMATCHED]++;
}

void
dht_input(struct dht *d, const struct addr *from, const uint8_t *p, size_t len, int64_t now_ms, int64_t now_s)
{
	struct krpc_msg *m = &d->msg;
	const char *why;

	d->st.c[DHT_C_IN]++;
	if (!dht_allowed(d, from)) {
		/* We may not send there, so we cannot answer; nor learn from it. */
		d->st.c[DHT_C_DROP_FILTERED]++;
		return;
	}
	enum krpc_status s = krpc_decode(m, p, len, &why);
	if (s == KRPC_DROP) {
		d->st.c[DHT_C_DROP_MALFORMED]++;
		return;
	}
	if (s == KRPC_MALFORMED) {
		d->st.c[DHT_C_DROP_MALFORMED]++;
		/* Never answer a response or an error, even a broken one. */
		if (m->y == 'q' || m->y == 0)
			send_error(d, from, m->t, 203, why, now_ms);
		return;
	}
	if (m->y == 'q') {
		d->st.c[DHT_C_QUERIES_IN]++;
		d->last_unsolicited = now_s;
		d->unsolicited_minute++;
		answer(d, from, now_ms, now_s);
		/* A node that asks is a node to know (unless it says it is read-only). */
		if (!m->ro && nodes_find(&d->nodes, from) == NODE_NONE && !dht_recently_asked(d, from, now_s, false))
			dht_learn(d, m->id, from);
		return;
	}
	on_response(d, from, now_ms, now_s);
}
