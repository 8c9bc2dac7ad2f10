/*
 * zonestore: zone.csv in the data directory, kept in step with the zone.
 *
 * At start zone.csv is loaded (zone.csv.old when zone.csv is missing or
 * unusable; an unusable file is renamed zone.csv.rejected.<time> first).
 * zonestore_poll re-reads it when someone else changed it (size, mtime or
 * inode differ from what we last read or wrote); zonestore_reload does so
 * on SIGHUP. Static rows are replaced, node rows merged. The SOA serial
 * grows whenever the served zone changes. What the crawler changes (node
 * rows, the serial) is appended to zone.csv.log every interval
 * (base/changelog.h; replayed over zone.csv when it is read):
 *   +APEX,ADDRESS   a node row published
 *   -APEX,ADDRESS   a node row withdrawn
 *   =MNAME,RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM   the SOA after them
 * zonestore_save writes the zone whole (atomically, see snapshot.h) when
 * the log is large, when anything else changed, and at shutdown. After
 * start-up nothing here exits: failures are logged and counted, and the
 * zone stays as it was.
 */
#ifndef SEEDD_ZONESTORE_H
#define SEEDD_ZONESTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/logfile.h"
#include "base/snapshot.h"
#include "zone/zone.h"

#define ZONESTORE_FILE "zone.csv"
#define ZONESTORE_LOG "zone.csv.log"

/* A node row the crawler published (add) or withdrew, for zone.csv.log. */
struct zonestore_event {
	struct addr a;
	bool add;
};

struct zonestore {
	int dirfd;
	const char *dir;
	bool allow_private;
	const uint8_t *mname; /* --ns / --mbox overrides, NULL when not given */
	const uint8_t *rname;
	struct snapshot_id seen; /* zone.csv as we last read or wrote it */
	uint64_t seen_hash;      /* and a fingerprint of its text */
	bool dirty;              /* zone.csv must be written whole */
	bool pending;            /* node rows or the serial changed since the last batch of zone.csv.log */
	struct logfile file;     /* zone.csv and zone.csv.log */
	struct zonestore_event *ev; /* those node rows, in order */
	size_t nev, evcap;
	bool verify;             /* loaded at start: whether it differs is found out later */
	bool loaded;
	uint64_t saves, save_errors, loads, rejected;
	time_t last_save;
	bool save_failing;       /* the last write of zone.csv failed */
};

/* Default SOA from flags for a zone without zone.csv (SPEC 4). */
void zonestore_default_soa(struct zone *z, const uint8_t *mname, const uint8_t *rname, time_t now);
/* The start-up load; false only when memory runs out. */
bool zonestore_load(struct zonestore *zs, struct zone *z, time_t now);
/*
 * After a start-up load: does zone.csv say exactly what is served (else it
 * is written again)? Left out of the load, which the first DNS answer waits for.
 */
void zonestore_verify(struct zonestore *zs, struct zone *z);
/* Re-read zone.csv now (SIGHUP). */
void zonestore_reload(struct zonestore *zs, struct zone *z, time_t now);
/* Re-read when changed on disk. */
void zonestore_poll(struct zonestore *zs, struct zone *z, time_t now);
/* Write zone.csv when dirty (or always with force); 0 or -1. */
int zonestore_save(struct zonestore *zs, struct zone *z, bool force);
/* The crawler's node rows changed in memory (after zonestore_node for each): bump the serial. */
void zonestore_touch(struct zonestore *zs, struct zone *z, time_t now);
/* A node row published (add) or withdrawn by the crawler: logged at the next save. */
void zonestore_node(struct zonestore *zs, const struct addr *a, bool add);
void zonestore_close(struct zonestore *zs);

#endif
