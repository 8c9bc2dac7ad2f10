#include "dns/wire.h"

#include <string.h>

void
rd_init(struct rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = RD_OK;
}

static int
rd_need(struct rd *r, size_t n)
{
	if (r->err)
		return 0;
	if (r->len - r->off < n) {
		r->err = RD_SHORT;
		return 0;
	}
	return 1;
}

uint8_t
rd_u8(struct rd *r)
{
	if (!rd_need(r, 1))
		return 0;
	return r->p[r->off++];
}

uint16_t
rd_u16(struct rd *r)
{
	if (!rd_need(r, 2))
		return 0;
	uint16_t v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return v;
}

uint32_t
rd_u32(struct rd *r)
{
	uint32_t hi = rd_u16(r);
	uint32_t lo = rd_u16(r);
	return hi << 16 | lo;
}

void
rd_skip(struct rd *r, size_t n)
{
	if (rd_need(r, n))
		r->off += n;
}

size_t
rd_name(struct rd *r, uint8_t out[DNAME_MAX])
{
	size_t pos = r->off;        /* where we read now */
	size_t limit = r->off;      /* start of the current label run */
	size_t o = 0;
	int jumped = 0;

	if (r->err)
		return 0;
	for (;;) {
		if (pos >= r->len) {
			r->err = RD_SHORT;
			return 0;
		}
		uint8_t c = r->p[pos];
		if ((c & 0xc0) == 0xc0) {
			if (r->len - pos < 2) {
				r->err = RD_SHORT;
				return 0;
			}
			size_t target = (size_t)(c & 0x3f) << 8 | r->p[pos + 1];
			if (!jumped)
				r->off = pos + 2;
			/* Strictly backward, never into the header: see dns/wire.h. */
			if (target >= limit || target < DNS_HDR) {
				r->err = RD_BADNAME;
				return 0;
			}
			jumped = 1;
			pos = limit = target;
			continue;
		}
		if ((c & 0xc0) != 0) { /* 0x40 and 0x80 label types: RFC 6891 6.2 obsoleted */
			r->err = RD_BADNAME;
			return 0;
		}
		if (c == 0) {
			if (o + 1 > DNAME_MAX) {
				r->err = RD_BADNAME;
				return 0;
			}
			out[o++] = 0;
			if (!jumped)
				r->off = pos + 1;
			return o;
		}
		if (r->len - pos - 1 < c) {
			r->err = RD_SHORT;
			return 0;
		}
		/* Room for this label and the root byte still to come. */
		if (o + 1 + c + 1 > DNAME_MAX) {
			r->err = RD_BADNAME;
			return 0;
		}
		memcpy(out + o, r->p + pos, (size_t)c + 1);
		o += (size_t)c + 1;
		pos += (size_t)c + 1;
	}
}

void
wr_init(struct wr *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
	w->err = 0;
	w->nnames = 0;
}

static int
wr_room(struct wr *w, size_t n)
{
	if (w->err)
		return 0;
	if (w->cap - w->off < n) {
		w->err = 1;
		return 0;
	}
	return 1;
}

void
wr_u8(struct wr *w, uint8_t v)
{
	if (wr_room(w, 1))
		w->p[w->off++] = v;
}

void
wr_u16(struct wr *w, uint16_t v)
{
	if (wr_room(w, 2)) {
		w->p[w->off++] = (uint8_t)(v >> 8);
		w->p[w->off++] = (uint8_t)v;
	}
}

void
wr_u32(struct wr *w, uint32_t v)
{
	if (wr_room(w, 4)) {
		wr_u16(w, (uint16_t)(v >> 16));
		wr_u16(w, (uint16_t)v);
	}
}

void
wr_bytes(struct wr *w, const void *b, size_t n)
{
	if (wr_room(w, n)) {
		memcpy(w->p + w->off, b, n);
		w->off += n;
	}
}

void
wr_put_u16(struct wr *w, size_t at, uint16_t v)
{
	if (at + 2 <= w->off) {
		w->p[at] = (uint8_t)(v >> 8);
		w->p[at + 1] = (uint8_t)v;
	}
}

static void
add_target(struct wr *w, size_t off)
{
	if (w->nnames < WR_NAMES && off < 0x4000)
		w->names[w->nnames++] = (uint16_t)off;
}

void
wr_name_known(struct wr *w, size_t off)
{
	/* Every suffix of the name is a target too. */
	while (off < w->off && w->p[off] != 0 && (w->p[off] & 0xc0) == 0) {
		add_target(w, off);
		off += (size_t)w->p[off] + 1;
	}
}

static uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/*
 * Does the name written at off equal the lowercase name s? Our own output
 * holds only backward pointers (we write them), so following them ends.
 */
static int
name_at_eq(const struct wr *w, size_t off, const uint8_t *s)
{
	for (;;) {
		uint8_t c = w->p[off];
		if ((c & 0xc0) == 0xc0) {
			off = (size_t)(c & 0x3f) << 8 | w->p[off + 1];
			continue;
		}
		if (c != *s)
			return 0;
		if (c == 0)
			return 1;
		for (size_t i = 1; i <= c; i++)
			if (lower(w->p[off + i]) != s[i])
				return 0;
		off += (size_t)c + 1;
		s += c + 1;
	}
}

void
wr_name(struct wr *w, const uint8_t *name)
{
	const uint8_t *s = name;

	for (; *s != 0; s += *s + 1) {
		for (int i = 0; i < w->nnames; i++) {
			if (name_at_eq(w, w->names[i], s)) {
				struct wr_mark m = wr_mark(w);
				size_t head = (size_t)(s - name);
				wr_bytes(w, name, head);
				wr_ptr(w, w->names[i]);
				if (w->err)
					return;
				for (size_t o = 0; o < head; o += name[o] + 1u)
					add_target(w, m.off + o);
				return;
			}
		}
	}
	size_t start = w->off, len = dname_len(name);
	wr_bytes(w, name, len);
	if (!w->err)
		for (size_t o = 0; o + 1 < len; o += name[o] + 1u)
			add_target(w, start + o);
}

void
wr_ptr(struct wr *w, size_t off)
{
	wr_u16(w, (uint16_t)(0xc000 | off));
}

struct wr_mark
wr_mark(const struct wr *w)
{
	struct wr_mark m = { w->off, w->nnames };
	return m;
}

void
wr_rollback(struct wr *w, struct wr_mark m)
{
	w->off = m.off;
	w->nnames = m.nnames;
	w->err = 0;
}
