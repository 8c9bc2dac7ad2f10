/*
 * fuzz_wire: the DNS reader and writer primitives of dns/wire.h alone.
 *
 * 1. rd_name at every offset of the input, against a reference decoder
 *    written from the rule in dns/wire.h (a pointer points strictly before
 *    the start of the label run that holds it, never into the 12-byte
 *    header): same verdict, same name, same end offset; a name read is a
 *    valid label sequence of at most 255 bytes.
 * 2. The input as a program of reader calls (u8, u16, u32, skip, name)
 *    checked against a model offset: values are the big-endian bytes and
 *    the first error sticks.
 * 3. The names read in 1 written back with wr_name (compressed) between
 *    blobs and marks/rollbacks into a buffer of input-chosen capacity, then
 *    read back with rd_name: every record that was kept must read back as
 *    the same name, and the buffer must hold exactly the kept records.
 * The input buffer is exactly `size` bytes, so ASan traps any over-read.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dns/dname.h"
#include "dns/wire.h"

#include "fuzz.h"

#define MAX_NAMES 48
#define MAX_RECS 256

/* The rule of dns/wire.h, written independently. Returns the name length or 0. */
static size_t
ref_name(const uint8_t *p, size_t len, size_t start, uint8_t *out, size_t *end)
{
	size_t pos = start, run = start, o = 0;
	bool jumped = false;

	for (;;) {
		if (pos >= len)
			return 0;
		uint8_t c = p[pos];
		if (c >= 0xc0) {
			if (pos + 1 >= len)
				return 0;
			size_t target = (size_t)(c & 0x3f) * 256 + p[pos + 1];
			if (!jumped)
				*end = pos + 2;
			if (target < DNS_HDR || target >= run)
				return 0;
			jumped = true;
			pos = run = target;
		} else if (c >= 0x40) {
			return 0;
		} else if (c == 0) {
			out[o++] = 0;
			if (!jumped)
				*end = pos + 1;
			return o;
		} else {
			if (pos + 1 + c > len || o + 1 + c + 1 > DNAME_MAX)
				return 0;
			memcpy(out + o, p + pos, (size_t)c + 1);
			o += (size_t)c + 1;
			pos += (size_t)c + 1;
		}
	}
}

static void
check_labels(const uint8_t *name, size_t n)
{
	size_t o = 0;

	REQUIRE(n >= 1 && n <= DNAME_MAX);
	while (name[o] != 0) {
		REQUIRE(name[o] <= DNAME_LABEL_MAX);
		o += (size_t)name[o] + 1;
		REQUIRE(o < n);
	}
	REQUIRE(o + 1 == n);
	REQUIRE(dname_len(name) == n);
}

static uint8_t names[MAX_NAMES][DNAME_MAX];
static size_t nnames;

static void
names_at_every_offset(const uint8_t *data, size_t size)
{
	uint8_t got[DNAME_MAX], want[DNAME_MAX];
	char text[DNAME_TEXT_MAX];

	nnames = 0;
	for (size_t off = 0; off < size; off++) {
		struct rd r;
		size_t end = 0;

		rd_init(&r, data, size);
		rd_skip(&r, off);
		REQUIRE(r.err == RD_OK && r.off == off);
		size_t n = rd_name(&r, got);
		size_t m = ref_name(data, size, off, want, &end);
		REQUIRE((n == 0) == (r.err != RD_OK));
		REQUIRE(n == m);
		if (n == 0) {
			/* Sticky: nothing more is read after an error. */
			REQUIRE(rd_u8(&r) == 0 && rd_u16(&r) == 0 && rd_u32(&r) == 0);
			REQUIRE(rd_name(&r, got) == 0 && r.err != RD_OK);
			continue;
		}
		REQUIRE(memcmp(got, want, n) == 0);
		REQUIRE(r.off == end && end > off && end <= size);
		check_labels(got, n);
		dname_to_text(got, text, sizeof(text));
		REQUIRE(strlen(text) < sizeof(text));
		dname_lower(got);
		if (nnames < MAX_NAMES)
			memcpy(names[nnames++], got, n);
	}
}

/* 2: the input drives reader calls over itself. */
static void
reader_program(const uint8_t *data, size_t size)
{
	struct rd r;
	uint8_t name[DNAME_MAX];
	size_t model = 0, pc = 0;
	bool failed = false;

	rd_init(&r, data, size);
	for (int step = 0; step < 64 && pc < size; step++) {
		uint8_t op = data[pc++];
		size_t need = 0;
		uint32_t v = 0, want = 0;
		switch (op % 5) {
		case 0:
			need = 1;
			v = rd_u8(&r);
			break;
		case 1:
			need = 2;
			v = rd_u16(&r);
			break;
		case 2:
			need = 4;
			v = rd_u32(&r);
			break;
		case 3:
			need = op / 5; /* 0..51 */
			rd_skip(&r, need);
			break;
		default: {
			size_t end = 0;
			uint8_t want_name[DNAME_MAX];
			size_t n = rd_name(&r, name);
			size_t m = failed ? 0 : ref_name(data, size, model, want_name, &end);
			REQUIRE(n == m);
			if (n == 0) {
				failed = true;
			} else {
				REQUIRE(memcmp(name, want_name, n) == 0);
				model = end;
			}
			REQUIRE(failed == (r.err != RD_OK));
			if (!failed)
				REQUIRE(r.off == model);
			continue;
		}
		}
		if (!failed && size - model >= need) {
			for (size_t i = 0; i < need && op % 5 != 3; i++)
				want = want << 8 | data[model + i];
			model += need;
		} else {
			failed = true;
		}
		/* After an error the value is meaningless (rd_u32 may keep its first half). */
		REQUIRE(failed == (r.err != RD_OK));
		if (!failed)
			REQUIRE(v == want && r.off == model);
	}
}

enum rec_kind { REC_NAME, REC_RAW, REC_BLOB };

struct rec {
	enum rec_kind kind;
	uint16_t idx;   /* into names */
	size_t len;     /* blob */
};

static uint8_t wbuf[65536];
static uint8_t blob[64 + 255 * 37 + MAX_NAMES]; /* bytes that look like labels */
static uint8_t mixed[DNAME_MAX];

/* 3: write names (compressed), raw names made known, blobs; read them back. */
static void
writer_roundtrip(const uint8_t *data, size_t size)
{
	struct rec recs[MAX_RECS];
	size_t nrecs = 0, pc = 0;
	struct wr w;

	if (nnames == 0 || size < 2)
		return;
	if (blob[1] == 0)
		for (size_t i = 0; i < sizeof(blob); i++)
			blob[i] = (uint8_t)(1 + i % 63);
	size_t cap = DNS_HDR + ((size_t)data[0] << 8 | data[1]) % (sizeof(wbuf) - DNS_HDR);
	wr_init(&w, wbuf, cap);
	memset(wbuf, 0, DNS_HDR);
	w.off = DNS_HDR; /* the header: never a pointer target */
	for (int step = 0; step < MAX_RECS && nrecs < MAX_RECS; step++) {
		uint8_t op = data[(pc++) % size];
		uint16_t idx = (uint16_t)(data[(pc++) % size] % nnames);
		struct wr_mark m = wr_mark(&w);
		struct rec rc = { REC_NAME, idx, 0 };
		switch (op % 4) {
		case 0:
		case 1:
			wr_name(&w, names[idx]);
			break;
		case 2: {
			/* Like the question echo: mixed case, registered as a target. */
			size_t n = dname_len(names[idx]);
			memcpy(mixed, names[idx], n);
			for (size_t i = 0; i < n; i++)
				if (mixed[i] >= 'a' && mixed[i] <= 'z' && (i + op) % 2)
					mixed[i] = (uint8_t)(mixed[i] - 32);
			rc.kind = REC_RAW;
			wr_bytes(&w, mixed, n);
			if (!w.err)
				wr_name_known(&w, m.off);
			break;
		}
		default:
			rc.kind = REC_BLOB;
			rc.len = (size_t)op * 37 + idx; /* reaches past 0x4000 in a few steps */
			wr_bytes(&w, blob + op % 64, rc.len);
			break;
		}
		if (w.err || (op & 0x80 && idx % 7 == 0)) {
			/* Did not fit, or an arbitrary rollback: the record is gone whole. */
			wr_rollback(&w, m);
			REQUIRE(w.off == m.off && w.err == 0);
			continue;
		}
		REQUIRE(w.off <= cap);
		recs[nrecs++] = rc;
	}

	struct rd r;
	uint8_t got[DNAME_MAX];
	rd_init(&r, wbuf, w.off);
	rd_skip(&r, DNS_HDR);
	for (size_t i = 0; i < nrecs; i++) {
		if (recs[i].kind == REC_BLOB) {
			rd_skip(&r, recs[i].len);
			REQUIRE(r.err == RD_OK);
			continue;
		}
		size_t n = rd_name(&r, got);
		REQUIRE(r.err == RD_OK);
		REQUIRE(n == dname_len(names[recs[i].idx]));
		dname_lower(got);
		REQUIRE(memcmp(got, names[recs[i].idx], n) == 0);
	}
	REQUIRE(r.off == w.off);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	names_at_every_offset(data, size);
	reader_program(data, size);
	writer_roundtrip(data, size);
	return 0;
}
