/*
 * nodescsv: nodes.csv text <-> node table rows (SPEC 3). Pure: no I/O.
 *
 * Columns are found by their header names: unknown columns are ignored,
 * missing ones take defaults, and when the window columns are missing every
 * window starts from `reliability` (r = reliability, w = 1), so the
 * prototype's three-column report still loads; files of earlier versions
 * (sipa's five windows, with counts) load their 1d and 1w r and w. Rows
 * of another network (e.g. the DHT's) are not the crawler's: they are
 * handed back in our columns so a rewrite keeps them.
 */
#ifndef SEEDD_NODESCSV_H
#define SEEDD_NODESCSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nodes/node_table.h"
#include "base/url.h"

#define NODESCSV_FILE "nodes.csv"
#define NODESCSV_NETWORK "infnote"

struct nodescsv_row {
	struct addr addr;
	bool good;
	uint8_t dialect;
	enum node_error last_error;
	uint32_t banned_until; /* unix s, as health's times */
	struct health h;
	const char *url; /* "" when absent; valid during the callback */
	bool url_default; /* url is ws://ip:port/ of the row's own ip and port columns */
	const char *node_id; /* DHT rows: the node's id in hex; "" when absent */
	bool gone;       /* nodes.csv.log: the node was forgotten (only addr is set) */
};

typedef void nodescsv_row_fn(void *ctx, const struct nodescsv_row *row);
typedef void nodescsv_report_fn(void *ctx, unsigned line, const char *why);

/*
 * Parse; rows of our network go to row_fn, malformed rows to report, rows
 * of other networks are appended to *other (malloc'd text, may be NULL).
 * Returns 0, -1 when the file is unusable (no ip column in its header, a
 * NUL byte) or -2 when memory ran out.
 */
int nodescsv_parse(const char *buf, size_t len, uint16_t default_port, nodescsv_row_fn *row_fn,
                   nodescsv_report_fn *report, void *ctx, char **other, size_t *other_len);
/*
 * The same in pieces (a file read a chunk at a time): feed whole lines
 * (each piece ending at a line end, or the file's end). Rows of other
 * networks gather in other (malloc'd, the caller's to free). Returns as
 * nodescsv_parse; a header without an ip column or a NUL byte in a piece
 * is -1.
 */
#define NODESCSV_COLS 22
struct nodescsv_reader {
	const char *network;
	uint16_t default_port;
	bool have_header;
	unsigned line;     /* lines fed so far */
	int col[NODESCSV_COLS];
	bool drop_other;   /* other networks' rows are skipped, not kept */
	char *other;
	size_t other_len, other_cap;
};
void nodescsv_reader_init(struct nodescsv_reader *r, const char *network, uint16_t default_port);
int nodescsv_feed(struct nodescsv_reader *r, const char *buf, size_t len, nodescsv_row_fn *row_fn,
                  nodescsv_report_fn *report, void *ctx);

/* The same for the rows of another network (e.g. "dht"); the rest go to *other. */
int nodescsv_parse_net(const char *buf, size_t len, const char *network, uint16_t default_port,
                       nodescsv_row_fn *row_fn, nodescsv_report_fn *report, void *ctx, char **other,
                       size_t *other_len);
/*
 * The file for every node of the table; good_fn tells the good column.
 * other (other networks' rows) is appended. Returns malloc'd text or NULL.
 */
typedef bool nodescsv_good_fn(void *ctx, const struct node *n);
char *nodescsv_format(const struct nodes *t, nodescsv_good_fn *good_fn, void *ctx,
                      const char *other, size_t other_len, size_t *len);

/*
 * The same for another network's table: network names the network column,
 * url is left empty, id_fn (may be NULL) gives the node_id column of node i.
 */
typedef const char *nodescsv_id_fn(void *ctx, uint32_t i);
char *nodescsv_format_net(const struct nodes *t, const char *network, nodescsv_good_fn *good_fn,
                          nodescsv_id_fn *id_fn, void *ctx, const char *other, size_t other_len,
                          size_t *len);
/*
 * The same text (header and rows, no other networks' rows) in pieces of
 * about NODESCSV_PIECE bytes handed to out in order: a file of tens of
 * megabytes is written with no copy of it held. 0, or -1 when memory ran
 * out or out returned -1.
 */
#define NODESCSV_PIECE (256u * 1024)
typedef int nodescsv_out_fn(void *ctx, const char *p, size_t n);
int nodescsv_write_net(const struct nodes *t, const char *network, nodescsv_good_fn *good_fn, nodescsv_id_fn *id_fn,
                       void *ctx, nodescsv_out_fn *out, void *out_ctx);
/*
 * Append to *buf (malloc'd text, *len, *cap; NUL-terminated) what changed in
 * t since the last take (nodes_take_changes): a row for each node changed,
 * "IP,gone,,PORT,NETWORK" for each one forgotten. Rows only, no header.
 * -1 when memory ran out (the changes are taken either way).
 */
int nodescsv_format_changes(struct nodes *t, const char *network, nodescsv_good_fn *good_fn, nodescsv_id_fn *id_fn,
                            void *ctx, char **buf, size_t *len, size_t *cap);
/* The header line we write (with its newline). */
const char *nodescsv_header(void);

/*
 * Is url what the url column says for a node without one (ws://address:port/)?
 * Such a node keeps no copy of it: 100,000 nodes loaded would hold 100,000.
 */
bool nodescsv_url_is_default(const struct addr *a, const char *url);
/* Remove the rows of network from other-network rows (as parse hands them back); the new length. */
size_t nodescsv_drop_network(char *rows, size_t len, const char *network);

/* "YYYY-MM-DD HH:MM:SS" UTC <-> unix seconds; parse returns -1 on bad text. */
void nodescsv_time_str(int64_t t, char out[20]);
int nodescsv_time_parse(const char *s, int64_t *out);

#endif
