/*
 * dht_id: who we are to each remote (neighbour ids, stable per ip:port),
 * tokens, and the address filters of SPEC 6.
 */
#include <string.h>

#include "dht/dht.h"
#include "dht/dht_int.h"

static const uint8_t zero_id[KRPC_ID_LEN];


static void
nonzero(uint8_t id[KRPC_ID_LEN])
{
	if (memcmp(id, zero_id, KRPC_ID_LEN) == 0)
		id[KRPC_ID_LEN - 1] = 1;
}

/* The neighbour id for a remote whose id we know: its first 15 bytes, our 5. */
static void
neighbour_id(const struct dht *d, const uint8_t *their, uint8_t out[KRPC_ID_LEN])
{
	uint64_t t = siphash24(&d->id_key, their, KRPC_ID_LEN);

	memcpy(out, their, 15);
	for (int i = 0; i < 5; i++)
		out[15 + i] = (uint8_t)(t >> (8 * i));
	/* Never the remote's own id (it would drop us as itself), never all zero. */
	if (memcmp(out, their, KRPC_ID_LEN) == 0)
		out[KRPC_ID_LEN - 1] ^= 1;
	nonzero(out);
}

/* For a remote known only by address (bootstrap nodes): derived from ip:port. */
static void
address_id(const struct dht *d, const struct addr *a, uint8_t out[KRPC_ID_LEN])
{
	uint8_t in[1 + 16 + 2];
	size_t alen = addr_len(a);

	memcpy(in + 1, a->ip, alen);
	in[1 + alen] = (uint8_t)(a->port >> 8);
	in[2 + alen] = (uint8_t)a->port;
	for (int k = 0; k < 3; k++) {
		in[0] = (uint8_t)k;
		uint64_t v = siphash24(&d->id_key, in, 3 + alen);
		for (int i = 0; i < 8 && 8 * k + i < KRPC_ID_LEN; i++)
			out[8 * k + i] = (uint8_t)(v >> (8 * i));
	}
	nonzero(out);
}

static bool
is_boot(const struct dht *d, const struct addr *a)
{
	for (int i = 0; i < d->boot.n; i++)
		if (d->boot.a[i].family == a->family && d->boot.a[i].port == a->port &&
		    memcmp(d->boot.a[i].ip, a->ip, addr_len(a)) == 0)
			return true;
	return false;
}

void
dht_shown_id(struct dht *d, const struct addr *a, const uint8_t *their_id, uint8_t out[KRPC_ID_LEN])
{
	/* Fixed at first contact for nodes in our table; else derived the same way every time. */
	uint32_t i = nodes_find(&d->nodes, a);
	if (i != NODE_NONE && i < d->npeer) {
		memcpy(out, d->peer[i].shown, KRPC_ID_LEN);
		return;
	}
	if (their_id && !is_boot(d, a))
		neighbour_id(d, their_id, out);
	else
		address_id(d, a, out);
}

void
dht_token(const struct dht *d, const struct addr *a, int k, uint8_t out[DHT_TOKEN_LEN])
{
	uint64_t v = siphash24(&d->tok_key[k], a->ip, addr_len(a));

	for (int i = 0; i < DHT_TOKEN_LEN; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

bool
dht_token_ok(const struct dht *d, const struct addr *a, const uint8_t *tok, size_t len)
{
	uint8_t want[DHT_TOKEN_LEN];

	if (len != DHT_TOKEN_LEN)
		return false;
	for (int k = 0; k < 2; k++) {
		dht_token(d, a, k, want);
		if (memcmp(want, tok, DHT_TOKEN_LEN) == 0)
			return true;
	}
	return false;
}

void
dht_rotate(struct dht *d, int64_t now_s)
{
	d->tok_key[1] = d->tok_key[0];
	rng_bytes(d->rng, &d->tok_key[0], sizeof(d->tok_key[0]));
	d->tok_rotated = now_s;
}

bool
dht_allowed(const struct dht *d, const struct addr *a)
{
	if (a->port == 0 || addr_is_unusable(a))
		return false;
	if (!d->cfg.allow_private && !addr_is_global(a))
		return false;
	/* Never ourselves. */
	return !(a->family == d->cfg.bind.family && a->port == d->cfg.bind.port &&
	         memcmp(a->ip, d->cfg.bind.ip, addr_len(a)) == 0);
}

bool
dht_reachable(const struct dht *d, int64_t now_s)
{
	int64_t since = d->last_unsolicited > d->started ? d->last_unsolicited : d->started;

	return now_s - since < DHT_QUIET_S;
}

