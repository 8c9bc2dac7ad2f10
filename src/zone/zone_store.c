#include "zone/zone_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hashmix.h"
#include "base/log.h"
#include "zone/zone_csv.h"

#define REPORT_LINES_MAX 100 /* per load: a broken file must not flood the log */
#define PREFETCH_AHEAD 8       /* rows: a hash slot's cache miss is over by the time it is used */

struct report_ctx {
	const char *file;
	unsigned reported;
};

static void
report(void *ctx, unsigned line, const char *why)
{
	struct report_ctx *rc = ctx;

	if (rc->reported++ < REPORT_LINES_MAX)
		log_warn("zone", "msg=\"row skipped\" file=%s line=%u error=\"%s\"", rc->file, line, why);
}

/* YYYYMMDD00 of now: the conventional serial floor (RFC 1912 2.2). */
static uint32_t
date_serial(time_t now)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	return (uint32_t)((tm.tm_year + 1900) * 1000000 + (tm.tm_mon + 1) * 10000 + tm.tm_mday * 100);
}

void
zonestore_default_soa(struct zone *z, const uint8_t *mname, const uint8_t *rname, time_t now)
{
	memcpy(z->soa.mname, mname, dname_len(mname));
	memcpy(z->soa.rname, rname, dname_len(rname));
	z->soa.serial = date_serial(now);
	z->soa.refresh = 900;
	z->soa.retry = 300;
	z->soa.expire = 604800;
	z->soa.minimum = 60;
}

void
zonestore_touch(struct zonestore *zs, struct zone *z, time_t now)
{
	z->soa.serial = zone_serial_next(z->soa.serial, date_serial(now));
	zs->pending = true;
}

void
zonestore_node(struct zonestore *zs, const struct addr *a, bool add)
{
	if (zs->nev == zs->evcap) {
		size_t nc = zs->evcap ? zs->evcap * 2 : 256;
		struct zonestore_event *v = realloc(zs->ev, nc * sizeof(*v));
		if (!v) {
			zs->dirty = true; /* not logged: the next write is whole */
			return;
		}
		zs->ev = v;
		zs->evcap = nc;
	}
	zs->ev[zs->nev++] = (struct zonestore_event){ *a, add };
	zs->pending = true;
}

void
zonestore_close(struct zonestore *zs)
{
	logfile_close(&zs->file);
	free(zs->ev);
	zs->ev = NULL;
	zs->nev = zs->evcap = 0;
}

/* The SOA line of zone.csv (with its newline) into out; its length. */
static size_t
soa_line(const struct zone *z, char *out, size_t cap)
{
	char n1[DNAME_TEXT_MAX], n2[DNAME_TEXT_MAX];

	dname_to_text(z->soa.mname, n1, sizeof(n1));
	dname_to_text(z->soa.rname, n2, sizeof(n2));
	int n = snprintf(out, cap, "%s,%s %u %u %u %u %u\n", n1, n2, z->soa.serial, z->soa.refresh, z->soa.retry,
	                 z->soa.expire, z->soa.minimum);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* What changed since the last batch, appended to zone.csv.log: 0, or -1 (then the next write is whole). */
static int
save_batch(struct zonestore *zs, struct zone *z)
{
	char apex[DNAME_TEXT_MAX], ip[ADDR_STRLEN];
	size_t al, cap, len = 0;

	dname_to_text(z->apex, apex, sizeof(apex));
	al = strlen(apex);
	cap = zs->nev * (al + ADDR_STRLEN + 3) + 2 * DNAME_TEXT_MAX + 64;
	char *b = malloc(cap);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < zs->nev; i++) {
		addr_ip_str(&zs->ev[i].a, ip, sizeof(ip));
		b[len++] = zs->ev[i].add ? '+' : '-';
		memcpy(b + len, apex, al);
		len += al;
		b[len++] = ',';
		size_t il = strlen(ip);
		memcpy(b + len, ip, il);
		len += il;
		b[len++] = '\n';
	}
	b[len++] = '=';
	size_t sl = soa_line(z, b + len, cap - len);
	int rc = sl ? logfile_append(&zs->file, b, len + sl) : -1;
	free(b);
	return rc;
}

static bool
serial_newer(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0; /* RFC 1982 */
}

/* Text of the zone with a given serial, for change detection. */
static char *
format_with_serial(struct zone *z, uint32_t serial, size_t *len)
{
	uint32_t keep = z->soa.serial;
	z->soa.serial = serial;
	char *t = zonefile_format(z, len);
	z->soa.serial = keep;
	return t;
}

/* Apply a parsed file to the zone: 0, or -1 when memory ran out (zone untouched). */
static int
apply(struct zonestore *zs, struct zone *z, struct zonefile_parsed *p, bool startup, time_t now,
      unsigned *held_out)
{
	uint32_t old_serial = z->soa.serial;
	size_t blen = 0;
	char *before = startup ? NULL : format_with_serial(z, old_serial, &blen);

	if (!startup && before == NULL)
		return -1;
	if (zone_set_static(z, p->rr, p->nrr) < 0) {
		free(before);
		return -1;
	}
	p->rr = NULL; /* the zone owns the rows now */
	p->nrr = 0;

	unsigned held = 0, full = 0;
	zone_node_reserve(z, p->n4, p->n6); /* best effort: adds grow as needed */
	for (size_t i = 0; i < p->nnodes; i++) {
		struct addr a;
		if (i + PREFETCH_AHEAD < p->nnodes) {
			zonefile_node(p, i + PREFETCH_AHEAD, &a);
			nodeset_prefetch(zone_nodes(z, a.family), a.ip);
		}
		zonefile_node(p, i, &a);
		if (!zs->allow_private && !addr_is_global(&a)) {
			held++;
			continue;
		}
		if (zone_node_add(z, &a) < 0)
			full++;
	}
	if (held > 0)
		log_warn("zone", "msg=\"node rows not published: not globally routable (use --allow-private)\" count=%u", held);
	*held_out = held + full;
	if (full > 0)
		log_warn("zone", "msg=\"node rows dropped: node table full\" count=%u", full);

	z->soa = p->soa;
	if (zs->mname != NULL)
		memcpy(z->soa.mname, zs->mname, dname_len(zs->mname));
	if (zs->rname != NULL)
		memcpy(z->soa.rname, zs->rname, dname_len(zs->rname));

	if (!startup) {
		size_t alen = 0;
		char *after = format_with_serial(z, old_serial, &alen);
		bool changed = after == NULL || alen != blen || memcmp(before, after, alen) != 0;
		free(after);
		free(before);
		/* The operator's serial wins when ahead; otherwise ours grows on change. */
		if (!serial_newer(p->soa.serial, old_serial))
			z->soa.serial = changed ? zone_serial_next(old_serial, date_serial(now)) : old_serial;
	}
	return 0;
}

enum load_result { LOAD_OK, LOAD_ABSENT, LOAD_UNUSABLE, LOAD_FAILED };

/*
 * A fingerprint of a file's text (zone.csv as we last read or wrote it),
 * fed in pieces of any size: 8-byte words as they complete, the tail and
 * the length at the end.
 */
struct fp {
	uint64_t h, n;
	uint8_t tail[8];
	unsigned nt;
};

static void
fp_add(struct fp *f, const char *p, size_t n)
{
	f->n += n;
	while (n > 0) {
		if (f->nt == 0 && n >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			f->h = hash_mix(f->h ^ w);
			p += 8;
			n -= 8;
			continue;
		}
		f->tail[f->nt++] = (uint8_t)*p++;
		n--;
		if (f->nt == 8) {
			uint64_t w;
			memcpy(&w, f->tail, 8);
			f->h = hash_mix(f->h ^ w);
			f->nt = 0;
		}
	}
}

static uint64_t
fp_end(const struct fp *f)
{
	uint64_t h = f->h;

	for (unsigned i = 0; i < f->nt; i++)
		h = hash_mix(h ^ f->tail[i]);
	return hash_mix(h ^ f->n);
}

static uint64_t
text_hash(const char *p, size_t n)
{
	struct fp f = { 0 };

	fp_add(&f, p, n);
	return fp_end(&f);
}

/* One row of zone.csv.log over the zone: 0, or -1 when malformed. */
static int
replay_row(struct zonestore *zs, struct zone *z, char *row)
{
	char *comma = strchr(row + 1, ',');
	uint8_t name[DNAME_MAX];
	struct zone_soa soa;
	struct addr a;

	if (!comma)
		return -1;
	*comma = '\0';
	if (row[0] == '=') {
		if (zonefile_parse_soa(row + 1, comma + 1, &soa) < 0)
			return -1;
		if (serial_newer(soa.serial, z->soa.serial))
			z->soa.serial = soa.serial; /* the rest of the SOA is the operator's, in zone.csv */
		return 0;
	}
	if ((row[0] != '+' && row[0] != '-') || dname_from_text(name, row + 1) < 0 ||
	    dname_len(name) != dname_len(z->apex) || memcmp(name, z->apex, dname_len(name)) != 0 ||
	    addr_parse_ip(&a, comma + 1) < 0)
		return -1;
	if (row[0] == '-')
		zone_node_del(z, &a);
	else if (zs->allow_private || addr_is_global(&a))
		zone_node_add(z, &a);
	return 0;
}

/*
 * zone.csv.log over the zone just read from zone.csv (id): what the
 * crawler changed since zone.csv was written. Then it is ours to append
 * to (a log naming another version of zone.csv is dropped: that file is
 * the operator's now).
 */
static void
replay_log(struct zonestore *zs, struct zone *z, const struct snapshot_id *id)
{
	struct changelog_replay r;
	unsigned rows = 0, bad = 0;

	if (changelog_read(zs->dirfd, ZONESTORE_FILE, id->dev, id->ino, &r) < 0) {
		log_error("zone", "msg=\"cannot read\" file=%s/" ZONESTORE_LOG " error=\"%s\"", zs->dir, strerror(errno));
		memset(&r, 0, sizeof(r));
	}
	if (r.stale)
		log_warn("zone", "msg=\"log of another version of the file skipped\" file=%s/" ZONESTORE_LOG, zs->dir);
	if (r.torn)
		log_warn("zone", "msg=\"torn tail dropped\" file=%s/" ZONESTORE_LOG " batches=%u", zs->dir, r.batches);
	for (char *p = r.rows, *nl; p && p < r.rows + r.len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(r.rows + r.len - p)); /* rows are whole: there is one */
		*nl = '\0';
		if (replay_row(zs, z, p) < 0 && bad++ < REPORT_LINES_MAX)
			log_warn("zone", "msg=\"row skipped\" file=%s/" ZONESTORE_LOG " row=%u", zs->dir, rows + 1);
		rows++;
	}
	if (r.len > 0)
		log_info("zone", "msg=replayed file=%s/" ZONESTORE_LOG " batches=%u rows=%u serial=%u nodes4=%zu nodes6=%zu",
		         zs->dir, r.batches, rows, z->soa.serial, z->v4.n, z->v6.n);
	logfile_close(&zs->file);
	logfile_open(&zs->file, id->dev, id->ino, (uint64_t)id->size, &r, "zone");
	changelog_replay_free(&r);
}

static enum load_result
load_file(struct zonestore *zs, struct zone *z, const char *name, bool startup, time_t now)
{
	struct report_ctx rc = { name, 0 };
	struct zonefile_parsed p;
	struct snapshot_id id;
	char *buf, *free_text, rej[300];
	size_t len;
	int pr = -1;

	if (snapshot_read(zs->dirfd, name, &buf, &len, &id) < 0) {
		if (errno == ENOENT)
			return LOAD_ABSENT;
		log_error("zone", "msg=\"cannot read\" file=%s/%s error=\"%s\"", zs->dir, name, strerror(errno));
		if (errno != EFBIG && errno != EINVAL)
			return LOAD_FAILED;
		/* too large or not a regular file: unusable as it is */
	} else if ((pr = zonefile_parse(buf, len, z->apex, &p, report, &rc)) == 0) {
		unsigned held = 0;
		if (apply(zs, z, &p, startup, now, &held) < 0) {
			zonefile_parsed_free(&p);
			free(buf);
			log_error("zone", "msg=\"out of memory loading\" file=%s", name);
			return LOAD_FAILED;
		}
		if (p.skipped > 0 || held > 0) {
			/* Keep the operator's rows we could not use: the next save drops them. */
			snprintf(rej, sizeof(rej), "%s.rejected.%lld", name, (long long)now);
			if (snapshot_write_copy(zs->dirfd, rej, buf, len) == 0)
				log_warn("zone", "msg=\"rows not served; the file as read is kept\" file=%s malformed=%u unpublished=%u copy=%s",
				         name, p.skipped, held, rej);
			else
				log_error("zone", "msg=\"cannot keep a copy of a file with skipped rows\" file=%s error=\"%s\"",
				          rej, strerror(errno));
		}
		if (rc.reported > REPORT_LINES_MAX)
			log_warn("zone", "msg=\"more rows skipped than logged\" file=%s not_logged=%u",
			         name, rc.reported - REPORT_LINES_MAX);
		zonefile_parsed_free(&p);
		if (startup) {
			zs->verify = true; /* zonestore_verify, once the loop serves */
		} else {
			size_t flen = 0;
			char *now_text = zonefile_format(z, &flen);
			zs->dirty = now_text == NULL || flen != len || memcmp(now_text, buf, len) != 0;
			free(now_text);
		}
		free_text = buf;
		if (strcmp(name, ZONESTORE_FILE) == 0) {
			zs->seen = id;
			zs->seen_hash = text_hash(buf, len);
			replay_log(zs, z, &id);
		}
		free(free_text);
		if (strcmp(name, ZONESTORE_FILE) != 0)
			zs->dirty = true; /* loaded from .old: zone.csv must be written again */
		zs->loads++;
		zs->loaded = true;
		log_info("zone", "msg=loaded file=%s/%s serial=%u static=%zu nodes4=%zu nodes6=%zu",
		         zs->dir, name, z->soa.serial, z->nrr, z->v4.n, z->v6.n);
		return LOAD_OK;
	} else {
		free(buf);
		if (pr == -2) {
			log_error("zone", "msg=\"out of memory loading\" file=%s", name);
			errno = ENOMEM;
			return LOAD_FAILED;
		}
	}
	/* Unusable: move it aside before anything is written over it (SPEC 3). */
	zs->rejected++;
	if (snapshot_reject(zs->dirfd, name, now, rej, sizeof(rej)) == 0)
		log_error("zone", "msg=\"unusable file (first line must be the SOA: MNAME,RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM); renamed\" file=%s/%s to=%s",
		          zs->dir, name, rej);
	else
		log_error("zone", "msg=\"unusable file and cannot rename it\" file=%s/%s error=\"%s\"",
		          zs->dir, name, strerror(errno));
	return LOAD_UNUSABLE;
}

/* The fingerprint of NAME's text: 0, or -1 when unreadable. */
static int
file_hash(int dirfd, const char *name, uint64_t *hash)
{
	static char buf[ZONEFILE_PIECE];
	struct fp f = { 0 };
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		fp_add(&f, buf, (size_t)n);
	}
	close(fd);
	*hash = fp_end(&f);
	return 0;
}

/* zonefile_write's pieces against a file read alongside. */
struct compare {
	int fd;
	bool same;
};

static int
compare_piece(void *ctx, const char *p, size_t n)
{
	static char buf[ZONEFILE_PIECE];
	struct compare *c = ctx;
	size_t have = 0;

	while (c->same && have < n) {
		ssize_t r = read(c->fd, buf + have, n - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			c->same = false;
		else
			have += (size_t)r;
	}
	c->same = c->same && memcmp(buf, p, n) == 0;
	return 0;
}

void
zonestore_verify(struct zonestore *zs, struct zone *z)
{
	struct snapshot_id id;
	uint64_t hash;
	char extra;

	if (!zs->verify)
		return;
	zs->verify = false;
	snapshot_stat(zs->dirfd, ZONESTORE_FILE, &id);
	if (!id.exists) {
		zs->dirty = true; /* gone since the load: write what is served */
		return;
	}
	if (!snapshot_id_equal(&id, &zs->seen))
		return; /* changed on disk: the poll reads it again */
	/* Not the text we loaded (an edit the poll could not see): the operator's, left for SIGHUP. */
	if (file_hash(zs->dirfd, ZONESTORE_FILE, &hash) < 0 || hash != zs->seen_hash)
		return;
	/* Does it say what is served? Compared a piece at a time: no copy of a large zone is held. */
	struct compare c = { openat(zs->dirfd, ZONESTORE_FILE, O_RDONLY | O_CLOEXEC), true };
	if (c.fd < 0)
		return;
	if (zonefile_write(z, compare_piece, &c) < 0) {
		close(c.fd);
		return;
	}
	if (c.same && read(c.fd, &extra, 1) != 0)
		c.same = false; /* the file goes on */
	close(c.fd);
	if (!c.same)
		zs->dirty = true;
}

bool
zonestore_load(struct zonestore *zs, struct zone *z, time_t now)
{
	logfile_init(&zs->file, zs->dirfd, ZONESTORE_FILE);
	enum load_result r = load_file(zs, z, ZONESTORE_FILE, true, now);

	if (r == LOAD_OK)
		return true;
	if (r == LOAD_FAILED && errno == ENOMEM)
		return false;
	/* A crash between rotations, or a rejected file: the previous version. */
	enum load_result o = load_file(zs, z, ZONESTORE_FILE ".old", true, now);
	if (o == LOAD_OK) {
		log_warn("zone", "msg=\"serving the previous version\" file=%s/" ZONESTORE_FILE ".old", zs->dir);
		return true;
	}
	if (o == LOAD_FAILED && errno == ENOMEM)
		return false;
	log_info("zone", "msg=\"no usable zone.csv: serving the SOA and NS from flags\" dir=%s serial=%u",
	         zs->dir, z->soa.serial);
	zs->dirty = true;
	zs->loaded = true;
	return true;
}

void
zonestore_reload(struct zonestore *zs, struct zone *z, time_t now)
{
	enum load_result r = load_file(zs, z, ZONESTORE_FILE, false, now);

	if (r == LOAD_ABSENT) {
		log_warn("zone", "msg=\"zone.csv is gone; it will be written again from memory\" dir=%s", zs->dir);
		zs->dirty = true;
	} else if (r != LOAD_OK) {
		zs->dirty = true; /* rewrite zone.csv from what we serve */
	}
	snapshot_stat(zs->dirfd, ZONESTORE_FILE, &zs->seen);
}

void
zonestore_poll(struct zonestore *zs, struct zone *z, time_t now)
{
	struct snapshot_id id;

	snapshot_stat(zs->dirfd, ZONESTORE_FILE, &id);
	if (snapshot_id_equal(&id, &zs->seen))
		return;
	log_info("zone", "msg=\"zone.csv changed on disk; reading it again\" dir=%s", zs->dir);
	zonestore_reload(zs, z, now);
}

/* zonefile_write's pieces into zone.csv.tmp, fingerprinted on the way. */
struct put {
	struct zonestore *zs;
	int fd;
	struct fp fp;
};

static int
put_piece(void *ctx, const char *p, size_t n)
{
	struct put *w = ctx;

	fp_add(&w->fp, p, n);
	return logfile_put(&w->zs->file, w->fd, p, n);
}

int
zonestore_save(struct zonestore *zs, struct zone *z, bool force)
{
	size_t len;
	bool whole = force || zs->dirty || (zs->pending && logfile_whole_due(&zs->file));

	if (!whole) {
		if (!zs->pending)
			return 0;
		if (save_batch(zs, z) < 0) {
			zs->dirty = true; /* those changes are in no file: written whole at once */
			log_error("zone", "msg=\"cannot write\" file=%s/" ZONESTORE_LOG " error=\"%s\"", zs->dir,
			          strerror(errno));
			return zonestore_save(zs, z, true);
		}
		zs->nev = 0;
		zs->pending = false;
		zs->last_save = time(NULL);
		return 0;
	}
	struct put p = { zs, logfile_begin(&zs->file), { 0 } };
	int rc = p.fd < 0 ? -1 : zonefile_write(z, put_piece, &p);
	if (rc < 0 && p.fd >= 0)
		logfile_abort(&zs->file, p.fd);
	if (rc < 0 || logfile_commit(&zs->file, p.fd) < 0) {
		zs->save_errors++;
		zs->save_failing = true;
		log_error("zone", "msg=\"cannot write zone.csv; will retry\" dir=%s error=\"%s\"", zs->dir, strerror(errno));
		zs->dirty = true;
		return -1;
	}
	len = zs->file.base_size;
	zs->seen_hash = fp_end(&p.fp);
	snapshot_stat(zs->dirfd, ZONESTORE_FILE, &zs->seen);
	zs->dirty = false;
	zs->pending = false;
	zs->nev = 0;
	zs->save_failing = false;
	zs->saves++;
	zs->last_save = time(NULL);
	log_debug("zone", "msg=saved file=%s/" ZONESTORE_FILE " bytes=%zu serial=%u", zs->dir, len, z->soa.serial);
	return 0;
}
