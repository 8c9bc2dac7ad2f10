/*
 * krpc: KRPC datagrams <-> struct krpc_msg and our messages. Receivers
 * accept keys they do not know (forward compatibility, BEP 5); the
 * bencode itself must be canonical.
 */
#include <string.h>

#include "dht/krpc.h"

const char *
krpc_method_name(enum krpc_method m)
{
	switch (m) {
	case KRPC_M_NONE: return "none";
	case KRPC_M_UNKNOWN: return "unknown";
	case KRPC_M_PING: return "ping";
	case KRPC_M_FIND_NODE: return "find_node";
	case KRPC_M_GET_PEERS: return "get_peers";
	case KRPC_M_ANNOUNCE_PEER: return "announce_peer";
	case KRPC_M_SAMPLE_INFOHASHES: return "sample_infohashes";
	}
	return "?";
}

static struct krpc_bytes
get_str(const struct krpc_msg *m, int d, const char *key)
{
	struct krpc_bytes b = { NULL, 0 };

	if (d >= 0) {
		const uint8_t *s = benc_str(m->buf, m->tok, benc_dict_get(m->buf, m->tok, (uint32_t)d, key), &b.len);
		b.p = s;
		if (!s)
			b.len = 0;
	}
	return b;
}

/* A string argument; *bad when present but not a string. */
static struct krpc_bytes
get_str_arg(const struct krpc_msg *m, int d, const char *key, bool *bad)
{
	struct krpc_bytes b = get_str(m, d, key);

	if (!b.p && benc_dict_get(m->buf, m->tok, (uint32_t)d, key) >= 0)
		*bad = true;
	return b;
}

/* A 20-byte string, or NULL. *bad when present with another length or type. */
static const uint8_t *
get_id(const struct krpc_msg *m, int d, const char *key, bool *bad)
{
	int t = benc_dict_get(m->buf, m->tok, (uint32_t)d, key);
	size_t len;
	const uint8_t *s = benc_str(m->buf, m->tok, t, &len);

	if (t >= 0 && (!s || len != KRPC_ID_LEN))
		*bad = true;
	return s && len == KRPC_ID_LEN ? s : NULL;
}

/* An integer, def when absent; *bad when present and not an integer in [lo, hi]. */
static int64_t
get_int(const struct krpc_msg *m, int d, const char *key, int64_t lo, int64_t hi, int64_t def, bool *bad)
{
	int t = benc_dict_get(m->buf, m->tok, (uint32_t)d, key);
	int64_t v;

	if (t < 0)
		return def;
	if (!benc_int(m->tok, t, &v) || v < lo || v > hi) {
		*bad = true;
		return def;
	}
	return v;
}

static enum krpc_method
method_of(struct krpc_bytes q)
{
	static const struct { const char *name; enum krpc_method m; } tab[] = {
		{ "ping", KRPC_M_PING }, { "find_node", KRPC_M_FIND_NODE },
		{ "get_peers", KRPC_M_GET_PEERS }, { "announce_peer", KRPC_M_ANNOUNCE_PEER },
		{ "sample_infohashes", KRPC_M_SAMPLE_INFOHASHES },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == q.len && memcmp(tab[i].name, q.p, q.len) == 0)
			return tab[i].m;
	return KRPC_M_UNKNOWN;
}

static enum krpc_status
malformed(const char **why, const char *what)
{
	*why = what;
	return KRPC_MALFORMED;
}

static enum krpc_status
decode_query(struct krpc_msg *m, const char **why)
{
	int a = benc_dict_get(m->buf, m->tok, 0, "a");
	bool bad = false;

	m->qname = get_str(m, 0, "q");
	if (!m->qname.p)
		return malformed(why, "query without q");
	m->method = method_of(m->qname);
	if (a < 0 || m->tok[a].type != BENC_DICT)
		return malformed(why, "query without a dictionary a");
	m->id = get_id(m, a, "id", &bad);
	if (!m->id)
		return malformed(why, "query without a 20-byte id");
	/* BEP 43: "ro" sits in the top-level dictionary, not in a. */
	m->ro = get_int(m, 0, "ro", 0, 1, 0, &bad) == 1;
	switch (m->method) {
	case KRPC_M_FIND_NODE:
	case KRPC_M_SAMPLE_INFOHASHES:
		m->target = get_id(m, a, "target", &bad);
		if (!m->target)
			return malformed(why, "no 20-byte target");
		break;
	case KRPC_M_GET_PEERS:
		m->info_hash = get_id(m, a, "info_hash", &bad);
		if (!m->info_hash)
			return malformed(why, "no 20-byte info_hash");
		break;
	case KRPC_M_ANNOUNCE_PEER:
		m->info_hash = get_id(m, a, "info_hash", &bad);
		m->implied_port = get_int(m, a, "implied_port", 0, 1, 0, &bad) == 1;
		m->port = get_int(m, a, "port", 0, 65535, -1, &bad);
		m->token = get_str(m, a, "token");
		if (!m->info_hash || !m->token.p)
			return malformed(why, "announce_peer without info_hash or token");
		/* BEP 5: with implied_port the UDP source port is used and port may be absent. */
		if (!m->implied_port && m->port <= 0)
			return malformed(why, "announce_peer without a port");
		break;
	default:
		break;
	}
	if (bad)
		return malformed(why, "an argument of the wrong type or size");
	return KRPC_OK;
}

static enum krpc_status
decode_response(struct krpc_msg *m, const char **why)
{
	int r = benc_dict_get(m->buf, m->tok, 0, "r");
	bool bad = false;

	if (r < 0 || m->tok[r].type != BENC_DICT)
		return malformed(why, "response without a dictionary r");
	m->id = get_id(m, r, "id", &bad);
	if (!m->id)
		return malformed(why, "response without a 20-byte id");
	/* A nodes or token that is not a string is as broken as a torn one. */
	m->nodes = get_str_arg(m, r, "nodes", &bad);
	m->nodes6 = get_str_arg(m, r, "nodes6", &bad);
	m->samples = get_str_arg(m, r, "samples", &bad);
	m->token = get_str_arg(m, r, "token", &bad);
	m->interval = get_int(m, r, "interval", 0, INT32_MAX, -1, &bad);
	m->num = get_int(m, r, "num", 0, INT64_MAX, -1, &bad);
	/* Whole entries only: a torn list is malformed (jech/dht blacklists it too). */
	if (m->nodes.len % KRPC_NODE4_LEN || m->nodes6.len % KRPC_NODE6_LEN || m->samples.len % KRPC_ID_LEN)
		return malformed(why, "nodes, nodes6 or samples not a whole number of entries");
	int v = benc_dict_get(m->buf, m->tok, (uint32_t)r, "values");
	if (v >= 0) {
		if (m->tok[v].type != BENC_LIST)
			return malformed(why, "values is not a list");
		for (uint32_t k = 0; k < m->tok[v].count; k++) {
			size_t len;
			const uint8_t *s = benc_str(m->buf, m->tok, benc_list_at(m->tok, (uint32_t)v, k), &len);
			if (!s || (len != 6 && len != 18))
				return malformed(why, "a value that is not a 6- or 18-byte peer");
		}
		m->values = v;
	}
	if (bad)
		return malformed(why, "a value of the wrong type or size");
	return KRPC_OK;
}

/* --- reading t out of a damaged datagram ------------------------------------ */

/* A bencoded string at *off (length, ':', bytes) inside len: its bytes, *off past it. */
static bool
salvage_str(const uint8_t *p, size_t len, size_t *off, struct krpc_bytes *out)
{
	size_t i = *off, n = 0;

	if (i >= len || p[i] < '0' || p[i] > '9')
		return false;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (n > len)
			return false; /* longer than the datagram whatever follows */
		n = n * 10 + (size_t)(p[i] - '0');
	}
	if (i >= len || p[i] != ':' || n > len - i - 1)
		return false;
	out->p = p + i + 1;
	out->len = n;
	*off = i + 1 + n;
	return true;
}

/* Skip one value at *off (depth-bounded); false at the first damage. */
static bool
salvage_skip(const uint8_t *p, size_t len, size_t *off, int depth)
{
	struct krpc_bytes b;

	if (*off >= len || depth > 64)
		return false;
	if (p[*off] == 'i') {
		const uint8_t *e = memchr(p + *off, 'e', len - *off);
		if (!e)
			return false;
		*off = (size_t)(e - p) + 1;
		return true;
	}
	if (p[*off] == 'l' || p[*off] == 'd') {
		bool dict = p[*off] == 'd';
		for (++*off; *off < len && p[*off] != 'e';)
			if ((dict && !salvage_str(p, len, off, &b)) || !salvage_skip(p, len, off, depth + 1))
				return false;
		if (*off >= len)
			return false;
		++*off;
		return true;
	}
	return salvage_str(p, len, off, &b);
}

/*
 * SPEC 6: a datagram damaged after its transaction id still gets a 203
 * echoing it. Walk the top-level dictionary up to the damage; the t (and
 * y, when it comes first) read on the way. False when t comes after it.
 */
static bool
salvage_t(struct krpc_msg *m, const uint8_t *p, size_t len)
{
	size_t off = 1;
	struct krpc_bytes key, v;

	if (len == 0 || p[0] != 'd')
		return false;
	while (off < len && p[off] != 'e' && salvage_str(p, len, &off, &key)) {
		bool is_t = key.len == 1 && key.p[0] == 't', is_y = key.len == 1 && key.p[0] == 'y';
		size_t at = off;
		if ((is_t || is_y) && salvage_str(p, len, &at, &v)) {
			if (is_t && v.len >= 1 && v.len <= KRPC_T_MAX)
				m->t = v;
			if (is_y && v.len == 1)
				m->y = (char)v.p[0];
		}
		if (!salvage_skip(p, len, &off, 0))
			break;
	}
	if (m->y != 'q' && m->y != 'r' && m->y != 'e')
		m->y = 0;
	return m->t.p != NULL;
}

enum krpc_status
krpc_decode(struct krpc_msg *m, const uint8_t *p, size_t len, const char **why)
{
	size_t off;
	struct krpc_bytes y;

	memset(m, 0, offsetof(struct krpc_msg, tok));
	m->buf = p;
	m->port = m->interval = m->num = -1;
	m->values = -1;
	*why = "";
	if (benc_parse(p, len, m->tok, KRPC_TOKENS, &m->ntok, &off) != BENC_OK || m->tok[0].type != BENC_DICT) {
		/*
		 * Damaged after a transaction id we could read: a 203 echoing it.
		 * Else nothing to echo: dropped (libtorrent and mldht do not answer
		 * such datagrams either).
		 */
		*why = "not a canonical bencoded dictionary";
		return salvage_t(m, p, len) ? KRPC_MALFORMED : KRPC_DROP;
	}
	m->t = get_str(m, 0, "t");
	if (!m->t.p || m->t.len == 0 || m->t.len > KRPC_T_MAX) {
		*why = "no usable transaction id";
		return KRPC_DROP;
	}
	y = get_str(m, 0, "y");
	if (!y.p || y.len != 1 || (y.p[0] != 'q' && y.p[0] != 'r' && y.p[0] != 'e'))
		return malformed(why, "y is not q, r or e");
	m->y = (char)y.p[0];
	m->ip = get_str(m, 0, "ip");
	if (m->y == 'q')
		return decode_query(m, why);
	if (m->y == 'r')
		return decode_response(m, why);
	int e = benc_dict_get(m->buf, m->tok, 0, "e");
	if (e < 0 || m->tok[e].type != BENC_LIST || m->tok[e].count < 2 ||
	    !benc_int(m->tok, benc_list_at(m->tok, (uint32_t)e, 0), &m->err_code))
		return malformed(why, "error without [code, message]");
	m->err_msg.p = benc_str(m->buf, m->tok, benc_list_at(m->tok, (uint32_t)e, 1), &m->err_msg.len);
	if (!m->err_msg.p)
		return malformed(why, "error message is not a string");
	return KRPC_OK;
}

uint32_t
krpc_values_count(const struct krpc_msg *m)
{
	return m->values < 0 ? 0 : m->tok[m->values].count;
}

bool
krpc_value_at(const struct krpc_msg *m, uint32_t k, struct addr *out)
{
	size_t len;
	const uint8_t *s;

	if (m->values < 0 || k >= m->tok[m->values].count)
		return false;
	s = benc_str(m->buf, m->tok, benc_list_at(m->tok, (uint32_t)m->values, k), &len);
	return s && krpc_peer_get(s, len, out);
}

/* --- compact encodings ----------------------------------------------------- */

size_t
krpc_peer_put(uint8_t *out, const struct addr *a)
{
	size_t n = addr_len(a);

	memcpy(out, a->ip, n);
	out[n] = (uint8_t)(a->port >> 8);
	out[n + 1] = (uint8_t)a->port;
	return n + 2;
}

bool
krpc_peer_get(const uint8_t *p, size_t len, struct addr *out)
{
	if (len != 6 && len != 18)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = len == 6 ? AF_INET : AF_INET6;
	memcpy(out->ip, p, len - 2);
	out->port = (uint16_t)(p[len - 2] << 8 | p[len - 1]);
	return true;
}

size_t
krpc_node_put(uint8_t *out, const uint8_t id[KRPC_ID_LEN], const struct addr *a)
{
	memcpy(out, id, KRPC_ID_LEN);
	return KRPC_ID_LEN + krpc_peer_put(out + KRPC_ID_LEN, a);
}

bool
krpc_node_get(struct krpc_bytes nodes, size_t alen, size_t k, uint8_t id[KRPC_ID_LEN], struct addr *out)
{
	size_t step = KRPC_ID_LEN + alen + 2;

	if ((alen != 4 && alen != 16) || !nodes.p || k >= nodes.len / step)
		return false;
	memcpy(id, nodes.p + k * step, KRPC_ID_LEN);
	return krpc_peer_get(nodes.p + k * step + KRPC_ID_LEN, alen + 2, out);
}

/* --- writers ----------------------------------------------------------------- */

/* Keys in raw-byte order everywhere: a < e < ip < q < r < t < y. */
static void
query_begin(struct benc_w *w, const uint8_t *id)
{
	benc_w_dict(w);
	benc_w_cstr(w, "a");
	benc_w_dict(w);
	benc_w_cstr(w, "id");
	benc_w_str(w, id, KRPC_ID_LEN);
}

static void
query_end(struct benc_w *w, const char *method, struct krpc_bytes t)
{
	benc_w_end(w); /* a */
	benc_w_cstr(w, "q");
	benc_w_cstr(w, method);
	benc_w_cstr(w, "t");
	benc_w_str(w, t.p, t.len);
	benc_w_cstr(w, "y");
	benc_w_cstr(w, "q");
	benc_w_end(w);
}

void
krpc_q_ping(struct benc_w *w, struct krpc_bytes t, const uint8_t *id)
{
	query_begin(w, id);
	query_end(w, "ping", t);
}

/* The queries whose one argument after id is a 20-byte target. */
static void
q_target(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, const uint8_t *target, const char *method)
{
	query_begin(w, id);
	benc_w_cstr(w, "target");
	benc_w_str(w, target, KRPC_ID_LEN);
	query_end(w, method, t);
}

void
krpc_q_find_node(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, const uint8_t *target)
{
	q_target(w, t, id, target, "find_node");
}

void
krpc_q_get_peers(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, const uint8_t *info_hash)
{
	query_begin(w, id);
	benc_w_cstr(w, "info_hash");
	benc_w_str(w, info_hash, KRPC_ID_LEN);
	query_end(w, "get_peers", t);
}

void
krpc_q_announce_peer(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, bool implied_port,
                     const uint8_t *info_hash, uint16_t port, struct krpc_bytes token)
{
	query_begin(w, id);
	benc_w_cstr(w, "implied_port");
	benc_w_int(w, implied_port ? 1 : 0);
	benc_w_cstr(w, "info_hash");
	benc_w_str(w, info_hash, KRPC_ID_LEN);
	benc_w_cstr(w, "port");
	benc_w_int(w, port);
	benc_w_cstr(w, "token");
	benc_w_str(w, token.p, token.len);
	query_end(w, "announce_peer", t);
}

void
krpc_q_sample_infohashes(struct benc_w *w, struct krpc_bytes t, const uint8_t *id, const uint8_t *target)
{
	q_target(w, t, id, target, "sample_infohashes");
}

void
krpc_response(struct benc_w *w, struct krpc_bytes t, const struct krpc_r *r)
{
	benc_w_dict(w);
	if (r->ip) {
		uint8_t ip[18];
		benc_w_cstr(w, "ip");
		benc_w_str(w, ip, krpc_peer_put(ip, r->ip));
	}
	benc_w_cstr(w, "r");
	benc_w_dict(w);
	/* id < interval < nodes < nodes6 < num < samples < token < values */
	benc_w_cstr(w, "id");
	benc_w_str(w, r->id, KRPC_ID_LEN);
	if (r->interval >= 0) {
		benc_w_cstr(w, "interval");
		benc_w_int(w, r->interval);
	}
	if (r->nodes.p) {
		benc_w_cstr(w, "nodes");
		benc_w_str(w, r->nodes.p, r->nodes.len);
	}
	if (r->nodes6.p) {
		benc_w_cstr(w, "nodes6");
		benc_w_str(w, r->nodes6.p, r->nodes6.len);
	}
	if (r->num >= 0) {
		benc_w_cstr(w, "num");
		benc_w_int(w, r->num);
	}
	if (r->samples.p) {
		benc_w_cstr(w, "samples");
		benc_w_str(w, r->samples.p, r->samples.len);
	}
	if (r->token.p) {
		benc_w_cstr(w, "token");
		benc_w_str(w, r->token.p, r->token.len);
	}
	if (r->values) {
		benc_w_cstr(w, "values");
		benc_w_list(w);
		for (size_t k = 0; k < r->nvalues; k++)
			benc_w_str(w, r->values + k * r->vlen, r->vlen);
		benc_w_end(w);
	}
	benc_w_end(w); /* r */
	benc_w_cstr(w, "t");
	benc_w_str(w, t.p, t.len);
	benc_w_cstr(w, "y");
	benc_w_cstr(w, "r");
	benc_w_end(w);
}

void
krpc_error(struct benc_w *w, struct krpc_bytes t, int code, const char *msg)
{
	benc_w_dict(w);
	benc_w_cstr(w, "e");
	benc_w_list(w);
	benc_w_int(w, code);
	benc_w_cstr(w, msg);
	benc_w_end(w);
	benc_w_cstr(w, "t");
	benc_w_str(w, t.p, t.len);
	benc_w_cstr(w, "y");
	benc_w_cstr(w, "e");
	benc_w_end(w);
}
