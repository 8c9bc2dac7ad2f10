/*
 * nodes_file: nodes.csv and its change log, nodes.csv.log (base/changelog.h).
 *
 * Every --snapshot-interval the rows of the nodes that changed, and a gone
 * row for each node forgotten, are one batch of the log (nodescsv_format_changes):
 * at 100,000 nodes each checked once an interval, that is a row a check, not
 * 18 MB a minute. nodes.csv is written whole (compacted) when the log passes
 * half its size (at least LOGFILE_COMPACT_MIN), when the changes could not
 * be tracked or nodes.csv was replaced behind our back, and at shutdown.
 *
 * One module writes (the crawler; the DHT when the crawler is off): it
 * owns a struct logfile (base/logfile.h) for nodes.csv. Both read
 * nodes.csv and then the log at start: a later row replaces a node's
 * history, a gone row forgets it.
 * Functions return 0 or -1 with errno set.
 */
#ifndef SEEDD_NODES_FILE_H
#define SEEDD_NODES_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/changelog.h"
#include "base/logfile.h"
#include "nodes/nodes_csv.h"

#define NODESFILE_LOG "nodes.csv.log"

/*
 * The log that applies to nodes.csv as loaded (dev, ino), into *r (what
 * nodes_file_open needs too; free it with changelog_replay_free). who
 * names the module in the log lines.
 */
void nodes_file_read_log(int dirfd, dev_t dev, ino_t ino, const char *who, struct changelog_replay *r);
/* Its rows of network, in order, to row_fn (the rest skipped): as nodescsv_feed. */
int nodes_file_replay(const struct changelog_replay *r, const char *network, uint16_t default_port,
                      nodescsv_row_fn *row_fn, nodescsv_report_fn *report, void *ctx);

/*
 * Reading nodes.csv a slice at a time (no copy of a file of tens of
 * megabytes is held): each call reads up to NODESFILE_SLICE bytes of fd and
 * feeds its whole lines to rd. 1: more to read; 0: done; -1, -2: as
 * nodescsv_feed; -3: a read error (errno). Free buf when done.
 */
#define NODESFILE_SLICE (512u * 1024) /* about 2,500 rows, a few milliseconds */
struct nodes_slice {
	char *buf;
	size_t have;
};
int nodes_file_read_slice(int fd, struct nodes_slice *sl, struct nodescsv_reader *rd, nodescsv_row_fn *row_fn,
                          nodescsv_report_fn *report, void *ctx);

#endif
