/*
 * config: the command line (SPEC 2). config_parse validates every flag;
 * a bad one prints one line naming the flag, the value and what is wrong.
 * Returns CONFIG_OK, CONFIG_EXIT (help or version printed: exit 0) or
 * CONFIG_BAD (exit 2).
 */
#ifndef SEEDD_CONFIG_H
#define SEEDD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/addr.h"
#include "dns/dname.h"
#include "server/server.h"
#include "base/url.h"
#include "zone/zone.h"

#define SEEDD_VERSION "0.1.0"
#define CONFIG_ANSWERS_MAX 1024
#define CONFIG_MAX_NODES 100000
#define CONFIG_SEEDS_MAX 64
#define CONFIG_DHT_PORT 6881
#define CONFIG_DHT_BOOT_MAX 16
#define CONFIG_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#define CONFIG_XFR_ALLOW_MAX 16
#define CONFIG_NOTIFY_MAX 16

enum config_result { CONFIG_OK, CONFIG_EXIT, CONFIG_BAD };

struct config {
	uint8_t zone[DNAME_MAX];
	struct addr listen[DNS_LISTEN_MAX];
	int nlisten;
	bool listen_default; /* no --listen: 0.0.0.0:53 and [::]:53 */
	uint8_t ns[ZONE_NS_MAX][DNAME_MAX];
	int nns;
	uint8_t mbox[DNAME_MAX];
	bool have_mbox;
	uint32_t ttl;
	uint32_t answers;
	bool wildcard;
	bool allow_private;
	struct rrl_config rrl;
	const char *data_dir;
	uint32_t snapshot_interval;
	int log_level;
	/* crawler (SPEC 5) */
	struct url seeds[CONFIG_SEEDS_MAX];
	int nseeds;
	uint16_t port;
	uint32_t interval, timeout, concurrency, max_nodes;
	const char *ca_file;
	bool ca_file_given;
	struct addr resolver;
	bool have_resolver;
	/* DHT sniffer (SPEC 6) */
	bool dht_on;
	struct addr dht;
	const char *dht_boot[CONFIG_DHT_BOOT_MAX];
	int ndht_boot;
	uint32_t dht_rate;
	/* appliance (SPEC 7) */
	bool have_user;
	uint32_t uid, gid;
	bool have_metrics;
	struct addr metrics;
	/* hidden primary: zone transfers and NOTIFY, all signed (off without --tsig-key) */
	const char *tsig_key_file;
	struct addr_net xfr_allow[CONFIG_XFR_ALLOW_MAX];
	int nxfr_allow;
	struct addr notify[CONFIG_NOTIFY_MAX];
	int nnotify;
	uint32_t xfr_answers; /* 0 until set: then --answers */
	uint32_t xfr_rotate;
};

enum config_result config_parse(struct config *c, int argc, char **argv, FILE *out, FILE *err);
/* ns.<zone>: 0, or -1 when too long. */
int config_default_ns(uint8_t out[DNAME_MAX], const uint8_t *zone);

#endif
