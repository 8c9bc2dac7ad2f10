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
	zs->dirty = true;
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

/* A fingerprint of a file's text: zone.csv as we last read or wrote it. */
#define HASH_PIECE 65536 /* a multiple of 8: pieces hash as the whole */

static uint64_t
hash_words(uint64_t h, const char *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = hash_mix(h ^ w);
	}
	for (; i < n; i++)
		h = hash_mix(h ^ (uint8_t)p[i]);
	return h;
}

static uint64_t
text_hash(const char *p, size_t n)
{
	uint64_t h = n;

	for (size_t off = 0; off < n; off += HASH_PIECE)
		h = hash_words(h, p + off, n - off < HASH_PIECE ? n - off : HASH_PIECE);
	return h;
}

static enum load_result
load_file(struct zonestore *zs, struct zone *z, const char *name, bool startup, time_t now)
{
	struct report_ctx rc = { name, 0 };
	struct zonefile_parsed p;
	struct snapshot_id id;
	char *buf, rej[300];
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
		if (strcmp(name, ZONESTORE_FILE) == 0) {
			zs->seen = id;
			zs->seen_hash = text_hash(buf, len);
		}
		free(buf);
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

/*
 * Does NAME hold exactly text, and what is its fingerprint? Read a piece
 * at a time: no second copy of a large zone is held. -1 when unreadable.
 */
static int
file_compare(int dirfd, const char *name, const char *text, size_t len, bool *same, uint64_t *hash)
{
	static char buf[HASH_PIECE];
	size_t off = 0;
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*same = (size_t)st.st_size == len;
	*hash = (uint64_t)st.st_size;
	for (;;) {
		size_t have = 0;
		ssize_t n = 1;
		while (have < sizeof(buf) && (n = read(fd, buf + have, sizeof(buf) - have)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			have += (size_t)n;
		}
		if (n < 0) {
			close(fd);
			return -1;
		}
		*hash = hash_words(*hash, buf, have);
		*same = *same && have <= len - off && memcmp(buf, text + off, have) == 0;
		off += have;
		if (have < sizeof(buf))
			break;
	}
	close(fd);
	*same = *same && off == len;
	return 0;
}

void
zonestore_verify(struct zonestore *zs, struct zone *z)
{
	size_t flen = 0;
	struct snapshot_id id;
	bool same;
	uint64_t hash;

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
	char *text = zonefile_format(z, &flen);
	if (text == NULL || file_compare(zs->dirfd, ZONESTORE_FILE, text, flen, &same, &hash) < 0) {
		free(text);
		return;
	}
	free(text);
	/* Not the text we loaded (an edit the poll could not see): the operator's, left for SIGHUP. */
	if (hash != zs->seen_hash)
		return;
	if (!same)
		zs->dirty = true;
}

bool
zonestore_load(struct zonestore *zs, struct zone *z, time_t now)
{
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

int
zonestore_save(struct zonestore *zs, struct zone *z, bool force)
{
	size_t len;
	char *text;

	if (!zs->dirty && !force)
		return 0;
	text = zonefile_format(z, &len);
	if (text == NULL || snapshot_write(zs->dirfd, ZONESTORE_FILE, text, len) < 0) {
		zs->save_errors++;
		zs->save_failing = true;
		log_error("zone", "msg=\"cannot write zone.csv; will retry\" dir=%s error=\"%s\"",
		          zs->dir, text == NULL ? "out of memory" : strerror(errno));
		free(text);
		return -1;
	}
	zs->seen_hash = text_hash(text, len);
	free(text);
	snapshot_stat(zs->dirfd, ZONESTORE_FILE, &zs->seen);
	zs->dirty = false;
	zs->save_failing = false;
	zs->saves++;
	zs->last_save = time(NULL);
	log_debug("zone", "msg=saved file=%s/" ZONESTORE_FILE " bytes=%zu serial=%u", zs->dir, len, z->soa.serial);
	return 0;
}
