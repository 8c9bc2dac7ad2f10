/*
 * check: one check of one node (SPEC 5): TCP connect, TLS for wss://,
 * the websocket handshake, ask for peers in the node's dialect (0.1 first
 * when unknown, 1.1 when it answers 1.1-shaped), fall back to info, then
 * close with a close frame. Everything runs from the loop; the caller
 * enforces the deadline with check_expire. The result is reported once
 * through done; the connection then lingers (at most CHECK_LINGER_MS)
 * for the peer's close and frees itself. Live checks hang on a list in
 * their env; check_sweep enforces every deadline.
 */
#ifndef SEEDD_CHECK_H
#define SEEDD_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/loop.h"
#include "nodes/node_table.h"
#include "base/rng.h"
#include "crawl/tls.h"
#include "base/url.h"

#define CHECK_LINGER_MS 1000

struct check;

struct check_result {
	bool good;
	bool garbage;         /* bad frames or messages: ban the node */
	bool ours;            /* failed for want of our own resources: do not count it */
	enum node_error err;
	uint8_t dialect;      /* what the node spoke; 0 unknown */
	unsigned peers, bad_peers;
	const char *detail;   /* words for the log; static or in the check */
};

typedef void check_peer_fn(void *arg, const struct url *peer);
typedef void check_done_fn(void *arg, void *user, const struct check_result *r);

struct check_env {
	struct loop *loop;
	struct rng *rng;
	const struct tls_anchors *anchors; /* NULL: none loaded */
	const char *ca_file;
	uint16_t default_port;
	check_peer_fn *on_peer;
	check_done_fn *on_done;
	void *arg;
	struct check *live; /* private: every open check */
	unsigned nlive;
};

/*
 * Start a check of addr, spoken to as url (host for Host, SNI and the
 * certificate; path; tls). dialect: what the node spoke last time.
 * Returns NULL when it failed at once (the result is in *r, not reported).
 */
struct check *check_start(struct check_env *env, const struct addr *addr, const struct url *url,
                          uint8_t dialect, int64_t deadline, void *user, struct check_result *r);
/* Report a timeout for every check past its deadline; close lingering ones past theirs. */
void check_sweep(struct check_env *env, int64_t now);
/* Close every check without reporting (shutdown). */
void check_abort_all(struct check_env *env);

#endif
