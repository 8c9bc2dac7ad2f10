/*
 * fuzz_changelog: one input = the files of a change log (base/changelog.h)
 * in a scratch directory, read with changelog_read, then optionally
 * opened, appended to, compacted and read again.
 *
 * Input: byte 0 = flags, then LOG [@NEXT@ NEXT] [@APPEND@ BATCH].
 *   bit 0      write NAME.log = LOG (else there is none)
 *   bit 1      write NAME.log.next = NEXT (else there is none)
 *   bit 2      then changelog_open, append BATCH, changelog_close, read again
 *   bits 3-4   after that append, a compaction to (dev, ino + 1) with BATCH
 *              appended to both logs: 1 committed (compact_done), 2
 *              abandoned (compact_abort), 3 a crash before the switch (the
 *              descriptors just closed; then changelog_open recovers)
 *   bits 5-6   which (dev, ino) NAME is
 * Tokens in LOG and NEXT, so the fuzzer reaches good batches without
 * computing a CRC: @BASE@ -> "DEV:INO" of NAME; @T@ -> a correct trailer
 * "#batch N CRC\n" for the bytes since the previous trailer token (or the
 * end of the first line); @N@ and @C@ -> that length and CRC alone, for the
 * bytes up to the start of the current line (hand-made trailers such as
 * "#batch +@N@ 0x@C@").
 *
 * Invariants (a violation is __builtin_trap):
 *   - changelog_read returns 0 (nothing here can fail); rows[len] is NUL,
 *     rows end with '\n'; rows, batches, valid, from_next, stale and torn
 *     equal those of a reference reader written from the header comment:
 *     each log that names (dev, ino) contributes its batches up to the
 *     first bad one (changelog.c reads NAME.log then NAME.log.next and
 *     concatenates when both name it; valid and from_next are the last
 *     one's); valid <= that log's size;
 *   - after open + append + close: the previous rows (those of the log
 *     open keeps) plus the batch, no torn tail, no stale or .next log, no
 *     .tmp left, valid = the file's size; a compaction leaves what the
 *     header promises for both versions of NAME.
 *
 * The reading is strict: a batch holding a NUL byte is bad, rows are
 * NULL when len is 0, a trailer is exactly what changelog_append writes
 * ("#batch DECIMAL HHHHHHHH"), NAME.log.next naming NAME is used alone,
 * open keeps every row read, append refuses what is not whole rows. The
 * reproducers of where changelog.c used to be laxer are in
 * tests/fuzz/crashes/fuzz_changelog/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/changelog.h"

#include "fuzz.h"

#define BASE "x.csv"
#define LOG BASE ".log"
#define NEXT BASE ".log.next"

static int dirfd_ = -1;
static char dirpath[64];

/* ---- a growable byte string ---- */

struct text {
	char *p;
	size_t len, cap;
};

static void
text_put(struct text *t, const void *p, size_t n)
{
	if (t->cap - t->len < n + 1) {
		size_t nc = (t->len + n + 1) * 2;
		char *np = realloc(t->p, nc);
		REQUIRE(np != NULL);
		t->p = np;
		t->cap = nc;
	}
	if (n > 0)
		memcpy(t->p + t->len, p, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* ---- the reference ---- */

/* Bitwise CRC-32 (IEEE 802.3, zlib's), independent of changelog_crc32's table. */
static uint32_t
ref_crc32(const char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= (uint8_t)p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A trailer line s[0..n) (no '\n'): exactly "#batch DECIMAL HHHHHHHH", as changelog_append writes it. */
static bool
ref_trailer(const char *s, size_t n, uint64_t *bytes, uint32_t *crc)
{
	size_t i = 7, d = 7;
	uint64_t v = 0;

	if (n < 7 || memcmp(s, "#batch ", 7) != 0 || memchr(s, '\0', n) != NULL)
		return false;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i++] - '0');
	}
	if (i == d || (s[d] == '0' && i - d > 1) || n - i != 9 || s[i] != ' ')
		return false;
	*bytes = v;
	*crc = 0;
	for (i++; i < n; i++) {
		if (hexval(s[i]) < 0)
			return false;
		*crc = *crc << 4 | (uint32_t)hexval(s[i]);
	}
	return true;
}

struct ref {
	bool exists, names;  /* the file is there; its first line names (dev, ino) */
	struct text rows;
	unsigned batches;
	bool torn;
	uint64_t end;        /* offset past the last good batch */
};

/*
 * One log file: the header line, then batches: rows (whole lines not
 * starting with '#') and a trailer line of at most 39 bytes whose length
 * and CRC-32 are those of the rows. The first bad batch ends the log.
 */
static void
ref_log(const char *b, size_t len, const char *header, struct ref *r)
{
	size_t hl = strlen(header);

	r->exists = true;
	if (len < hl || memcmp(b, header, hl) != 0)
		return;
	r->names = true;
	r->end = hl;
	for (size_t off = hl; off < len;) {
		size_t p = off;
		while (p < len && b[p] != '#') {
			const char *nl = memchr(b + p, '\n', len - p);
			if (nl == NULL)
				break;
			p = (size_t)(nl - b) + 1;
		}
		const char *nl = p < len && b[p] == '#' ? memchr(b + p, '\n', len - p) : NULL;
		uint64_t n;
		uint32_t crc;
		if (nl == NULL || nl - (b + p) > 39 || !ref_trailer(b + p, (size_t)(nl - (b + p)), &n, &crc) ||
		    n != p - off || crc != ref_crc32(b + off, p - off) || memchr(b + off, '\0', p - off) != NULL) {
			r->torn = true;
			return;
		}
		text_put(&r->rows, b + off, p - off);
		r->batches++;
		off = (size_t)(nl - b) + 1;
		r->end = off;
	}
}

/* ---- files ---- */

static void
put_file(const char *name, const char *p, size_t n)
{
	int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	REQUIRE(fd >= 0);
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		REQUIRE(w > 0);
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

static bool
file_exists(const char *name)
{
	struct stat st;

	if (fstatat(dirfd_, name, &st, 0) == 0)
		return true;
	REQUIRE(errno == ENOENT);
	return false;
}

static uint64_t
file_size(const char *name)
{
	struct stat st;

	REQUIRE(fstatat(dirfd_, name, &st, 0) == 0);
	return (uint64_t)st.st_size;
}

static void
clean_dir(void)
{
	static const char *const names[] = { LOG, NEXT, LOG ".tmp", NEXT ".tmp" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (unlinkat(dirfd_, names[i], 0) < 0)
			REQUIRE(errno == ENOENT);
}

static void
remove_dir(void)
{
	clean_dir();
	close(dirfd_);
	rmdir(dirpath);
}

/* Created once per process, reused for every input (files rewritten each time). */
static void
init(void)
{
	static const char *const bases[] = { "/dev/shm", "/tmp" }; /* tmpfs first: the code fsyncs */
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]) && dirfd_ < 0; i++) {
		snprintf(dirpath, sizeof(dirpath), "%s/fuzz_changelog.XXXXXX", bases[i]);
		if (mkdtemp(dirpath) != NULL)
			dirfd_ = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	REQUIRE(dirfd_ >= 0);
	atexit(remove_dir);
}

/* ---- input ---- */

static const uint8_t *
find(const uint8_t *p, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; n >= tl && i <= n - tl; i++)
		if (p[i] == (uint8_t)tok[0] && memcmp(p + i, tok, tl) == 0)
			return p + i;
	return NULL;
}

static bool
at(const uint8_t *p, size_t n, size_t i, const char *tok)
{
	size_t tl = strlen(tok);

	return n - i >= tl && memcmp(p + i, tok, tl) == 0;
}

/* A log's text with its tokens expanded (see the top). */
static void
expand(const uint8_t *in, size_t n, const char *base_id, struct text *out)
{
	size_t mark = 0;
	bool marked = false, pending = false;
	char tmp[64];

	text_put(out, "", 0); /* out->p is never NULL */
	for (size_t i = 0; i < n;) {
		if (at(in, n, i, "@BASE@")) {
			text_put(out, base_id, strlen(base_id));
			i += 6;
		} else if (at(in, n, i, "@T@")) {
			int k = snprintf(tmp, sizeof(tmp), "#batch %zu %08x\n", out->len - mark,
			                 (unsigned)ref_crc32(out->p + mark, out->len - mark));
			text_put(out, tmp, (size_t)k);
			mark = out->len;
			marked = true;
			pending = false;
			i += 3;
		} else if (at(in, n, i, "@N@") || at(in, n, i, "@C@")) {
			size_t ls = out->len;
			while (ls > 0 && out->p[ls - 1] != '\n')
				ls--;
			size_t from = mark < ls ? mark : ls;
			int k = in[i + 1] == 'N' ? snprintf(tmp, sizeof(tmp), "%zu", ls - from)
			                          : snprintf(tmp, sizeof(tmp), "%08x", (unsigned)ref_crc32(out->p + from, ls - from));
			text_put(out, tmp, (size_t)k);
			pending = true;
			i += 3;
		} else {
			text_put(out, in + i, 1);
			if (in[i] == '\n' && (pending || !marked)) {
				mark = out->len;
				marked = true;
				pending = false;
			}
			i++;
		}
	}
}

/* ---- checks ---- */

struct expect {
	const char *rows;
	size_t len;
	unsigned batches;
	uint64_t valid;
	bool from_next, stale, torn;
};

static void
check_shape(const struct changelog_replay *r)
{
	if (r->len == 0)
		REQUIRE(r->rows == NULL);
	else
		REQUIRE(r->rows != NULL && r->rows[r->len] == '\0' && r->rows[r->len - 1] == '\n');
	if (r->len > 0)
		REQUIRE(memchr(r->rows, '\0', r->len) == NULL);
}

static void
read_check(dev_t dev, ino_t ino, const struct expect *e, struct changelog_replay *out)
{
	int rc = changelog_read(dirfd_, BASE, dev, ino, out);

	REQUIRE(rc == 0);
	check_shape(out);
	REQUIRE(out->len == e->len && (e->len == 0 || memcmp(out->rows, e->rows, e->len) == 0));
	REQUIRE(out->batches == e->batches && out->valid == e->valid && out->from_next == e->from_next &&
	        out->stale == e->stale && out->torn == (unsigned)e->torn);
}

/* Read NAME as (dev, ino) where NAME.log holds only good batches and no .next is around. */
static void
read_clean(dev_t dev, ino_t ino, const char *rows, size_t len, unsigned batches)
{
	struct changelog_replay r;
	struct expect e = { rows, len, batches, file_size(LOG), false, false, false };

	REQUIRE(!file_exists(NEXT) && !file_exists(LOG ".tmp") && !file_exists(NEXT ".tmp"));
	read_check(dev, ino, &e, &r);
	changelog_replay_free(&r);
}

/* Nothing for (dev, ino): every log there names another version. */
static void
read_stale(dev_t dev, ino_t ino)
{
	struct changelog_replay r;
	struct expect e = { NULL, 0, 0, 0, false, true, false };

	read_check(dev, ino, &e, &r);
	changelog_replay_free(&r);
}

/* changelog_append's precondition: whole rows, no NUL, none starting with '#' (it would read as a trailer). */
static bool
is_whole_rows(const struct text *b)
{
	if (b->len == 0)
		return true;
	if (b->p[b->len - 1] != '\n' || memchr(b->p, '\0', b->len) != NULL)
		return false;
	for (size_t i = 0; i < b->len; i++)
		if (b->p[i] == '#' && (i == 0 || b->p[i - 1] == '\n'))
			return false;
	return true;
}

/* Make it so. */
static void
whole_rows(struct text *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((b->p[i] == '#' && (i == 0 || b->p[i - 1] == '\n')) || b->p[i] == '\0')
			b->p[i] = '_';
	if (b->len > 0 && b->p[b->len - 1] != '\n')
		text_put(b, "\n", 1);
}

static void
compaction(int mode, dev_t dev, ino_t ino, struct changelog *l, const struct text *prev, unsigned pbatches,
           const struct text *b)
{
	ino_t ino2 = ino + 1;
	unsigned nb = b->len > 0;
	struct text both = { 0 };

	REQUIRE(changelog_compact_begin(l, dev, ino2) == 0);
	REQUIRE(changelog_append(l, b->p, b->len) == 0);
	text_put(&both, prev->p, prev->len);
	text_put(&both, b->p, b->len);
	text_put(&both, b->p, b->len);
	if (mode == 1) {
		REQUIRE(changelog_compact_done(l) == 0);
		changelog_close(l);
		read_clean(dev, ino2, b->p, b->len, nb);
		read_stale(dev, ino);
	} else if (mode == 2) {
		changelog_compact_abort(l);
		changelog_close(l);
		read_clean(dev, ino, both.p, both.len, pbatches + 2 * nb);
		read_stale(dev, ino2);
	} else {
		/* Killed between committing NAME and switching logs. */
		struct changelog_replay r;
		struct expect e = { b->p, b->len, nb, file_size(NEXT), true, true, false };
		close(l->fd);
		close(l->next_fd);
		read_check(dev, ino2, &e, &r);
		struct expect old = { both.p, both.len, pbatches + 2 * nb, file_size(LOG), false, true, false };
		struct changelog_replay r0;
		read_check(dev, ino, &old, &r0);
		changelog_replay_free(&r0);
		REQUIRE(changelog_open(l, dirfd_, BASE, dev, ino2, &r) == 0);
		changelog_close(l);
		changelog_replay_free(&r);
		read_clean(dev, ino2, b->p, b->len, nb);
	}
	free(both.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		unsigned long long dev, ino;
	} ids[4] = { { 2049, 1234567 }, { 0, 0 }, { 66306, 42 }, { 18446744073709551615ull, 18446744073709551614ull } };

	if (dirfd_ < 0)
		init();
	if (size == 0)
		return 0;
	uint8_t flags = data[0];
	const uint8_t *p = data + 1, *q;
	size_t n = size - 1;
	dev_t dev = (dev_t)ids[flags >> 5 & 3].dev;
	ino_t ino = (ino_t)ids[flags >> 5 & 3].ino;
	char base_id[48], header[80];
	snprintf(base_id, sizeof(base_id), "%llu:%llu", (unsigned long long)dev, (unsigned long long)ino);
	snprintf(header, sizeof(header), "#seedd-log base=%s\n", base_id);

	/* Split: LOG [@NEXT@ NEXT] [@APPEND@ BATCH]. */
	struct text batch = { 0 }, logt = { 0 }, nextt = { 0 };
	const uint8_t *app = find(p, n, "@APPEND@");
	size_t head_n = app ? (size_t)(app - p) : n;
	if (app)
		text_put(&batch, app + 8, n - head_n - 8);
	q = find(p, head_n, "@NEXT@");
	expand(p, q ? (size_t)(q - p) : head_n, base_id, &logt);
	if (q)
		expand(q + 6, head_n - (size_t)(q + 6 - p), base_id, &nextt);

	clean_dir();
	if (flags & 1)
		put_file(LOG, logt.p ? logt.p : "", logt.len);
	if (flags & 2)
		put_file(NEXT, nextt.p ? nextt.p : "", nextt.len);

	struct ref rl = { 0 }, rn = { 0 };
	if (flags & 1)
		ref_log(logt.p ? logt.p : "", logt.len, header, &rl);
	if (flags & 2)
		ref_log(nextt.p ? nextt.p : "", nextt.len, header, &rn);

	/* NAME.log.next naming (dev, ino) is used alone (a compaction died before its switch), else NAME.log. */
	const struct ref *use = rn.names ? &rn : &rl;
	struct text all = { 0 };
	text_put(&all, use->rows.p, use->rows.len);
	struct expect e = {
		.rows = all.p, .len = all.len,
		.batches = use->names ? use->batches : 0,
		.valid = use->names ? use->end : 0,
		.from_next = rn.names,
		.stale = (rl.exists && !rl.names) || (rn.exists && !rn.names),
		.torn = use->names && use->torn,
	};
	struct changelog_replay r;
	read_check(dev, ino, &e, &r);
	if (r.valid > 0)
		REQUIRE(r.valid <= file_size(rn.names ? NEXT : LOG));

	if (flags & 4) {
		/* changelog_open keeps the log read (NAME.log.next renamed over NAME.log when it is that one), cut at valid. */
		struct text prev = { 0 };
		unsigned pb = r.batches;
		text_put(&prev, all.p, all.len);
		struct changelog l;
		REQUIRE(changelog_open(&l, dirfd_, BASE, dev, ino, &r) == 0);
		/* What is not whole rows is refused, and changes nothing. */
		bool whole = is_whole_rows(&batch);
		REQUIRE((changelog_append(&l, batch.p ? batch.p : "", batch.len) == 0) == whole);
		if (!whole) {
			whole_rows(&batch);
			REQUIRE(changelog_append(&l, batch.p ? batch.p : "", batch.len) == 0);
		}
		struct text after = { 0 };
		text_put(&after, prev.p, prev.len);
		text_put(&after, batch.p, batch.len);
		int mode = flags >> 3 & 3;
		if (mode == 0) {
			changelog_close(&l);
			read_clean(dev, ino, after.p, after.len, pb + (batch.len > 0));
		} else {
			compaction(mode, dev, ino, &l, &prev, pb, &batch);
		}
		free(prev.p);
		free(after.p);
	}
	changelog_replay_free(&r);
	free(all.p);
	free(rl.rows.p);
	free(rn.rows.p);
	free(batch.p);
	free(logt.p);
	free(nextt.p);
	return 0;
}
