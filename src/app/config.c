#include "app/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static const char usage[] =
    "usage: seedd --zone NAME [options]\n"
    "\n"
    "Authoritative DNS seeder: serves the zone kept in DATA-DIR/zone.csv.\n"
    "\n"
    "  -z, --zone NAME             apex of the served zone (required)\n"
    "  -l, --listen ADDR[:PORT]    DNS over UDP and TCP; repeatable; [v6]:port for IPv6\n"
    "                              (default 0.0.0.0:53 and [::]:53)\n"
    "      --ns NAME               NS host name of the apex; repeatable (default: the\n"
    "                              SOA MNAME of zone.csv, else ns.<zone>)\n"
    "      --mbox NAME             SOA RNAME (default hostmaster.<zone>)\n"
    "      --ttl SECS              TTL of node records (default 60)\n"
    "      --answers N             most addresses in one A or AAAA answer (default 25)\n"
    "      --wildcard              answer any single label under the apex like the apex\n"
    "      --allow-private         also publish addresses that are not globally routable\n"
    "      --rrl N                 UDP responses a second per source prefix and answer\n"
    "                              class before rate limiting; 0 turns it off (default 100)\n"
    "      --rrl-slip N            every Nth limited response is sent truncated (TC)\n"
    "                              instead of dropped; 0: never (default 2)\n"
    "      --rrl-ipv4-prefix BITS  source prefix of one IPv4 bucket (default 24)\n"
    "      --rrl-ipv6-prefix BITS  source prefix of one IPv6 bucket (default 56)\n"
    "  -s, --seed URL              a node to crawl from: ws://host[:port][/path],\n"
    "                              wss://..., or host[:port]; repeatable\n"
    "      --port PORT             the network's default port; only nodes on it are\n"
    "                              published (default 32767)\n"
    "      --interval SECS         how often a good node is checked again (default 300)\n"
    "      --timeout SECS          per check: connect, TLS, handshake, answer (default 5)\n"
    "      --concurrency N         checks in flight at once; 0 turns the crawler off\n"
    "                              (default 256)\n"
    "      --max-nodes N           cap of the node table (default 100000)\n"
    "      --ca-file PATH          PEM trust anchors for wss:// (default\n"
    "                              /etc/ssl/certs/ca-certificates.crt)\n"
    "      --resolver ADDR[:PORT]  resolver for host names (default: the first\n"
    "                              nameserver of /etc/resolv.conf)\n"
    "      --dht ADDR[:PORT]       run the DHT sniffer on this UDP address (default port\n"
    "                              6881; off without it)\n"
    "      --dht-bootstrap HOST:PORT  DHT entry point; repeatable (default\n"
    "                              router.bittorrent.com:6881, dht.transmissionbt.com:6881,\n"
    "                              router.utorrent.com:6881)\n"
    "      --dht-rate N            most DHT queries we send per second (default 2000)\n"
    "      --user UID[:GID]        numeric ids to switch to once every socket is bound\n"
    "                              (GID defaults to UID)\n"
    "      --metrics ADDR:PORT     HTTP /metrics (Prometheus text) and /healthz\n"
    "      --tsig-key FILE         TSIG key (BIND's key \"name\" { algorithm hmac-sha256;\n"
    "                              secret \"...\"; };) that signs zone transfers and NOTIFY\n"
    "      --xfr-allow ADDR[/BITS] a source allowed AXFR/IXFR, signed with the key;\n"
    "                              repeatable (transfers are refused without it)\n"
    "      --notify ADDR[:PORT]    a secondary told of each new serial (default port 53);\n"
    "                              repeatable\n"
    "      --xfr-answers N         node addresses of each family in a transfer (default:\n"
    "                              --answers)\n"
    "      --xfr-rotate SECS       a new sample of them, a new serial and a NOTIFY this\n"
    "                              often (default 300)\n"
    "  -d, --data-dir DIR          where zone.csv, nodes.csv and infohashes.csv live\n"
    "                              (default .)\n"
    "      --snapshot-interval SECS  how often changed state is written (default 60)\n"
    "      --log-level LEVEL       debug, info, warn or error (default info)\n"
    "  -h, --help                  this text\n"
    "  -V, --version               the version\n";

enum {
	OPT_NS = 256, OPT_MBOX, OPT_TTL, OPT_ANSWERS, OPT_WILDCARD, OPT_ALLOW_PRIVATE,
	OPT_SNAPSHOT_INTERVAL, OPT_LOG_LEVEL, OPT_PORT, OPT_INTERVAL, OPT_TIMEOUT,
	OPT_CONCURRENCY, OPT_MAX_NODES, OPT_CA_FILE, OPT_RESOLVER, OPT_DHT, OPT_DHT_BOOTSTRAP,
	OPT_DHT_RATE, OPT_USER, OPT_METRICS, OPT_RRL, OPT_RRL_SLIP, OPT_RRL_V4, OPT_RRL_V6,
	OPT_TSIG_KEY, OPT_XFR_ALLOW, OPT_NOTIFY, OPT_XFR_ANSWERS, OPT_XFR_ROTATE,
};

static const struct option options[] = {
	{ "zone", required_argument, NULL, 'z' },
	{ "listen", required_argument, NULL, 'l' },
	{ "ns", required_argument, NULL, OPT_NS },
	{ "mbox", required_argument, NULL, OPT_MBOX },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "answers", required_argument, NULL, OPT_ANSWERS },
	{ "wildcard", no_argument, NULL, OPT_WILDCARD },
	{ "allow-private", no_argument, NULL, OPT_ALLOW_PRIVATE },
	{ "rrl", required_argument, NULL, OPT_RRL },
	{ "rrl-slip", required_argument, NULL, OPT_RRL_SLIP },
	{ "rrl-ipv4-prefix", required_argument, NULL, OPT_RRL_V4 },
	{ "rrl-ipv6-prefix", required_argument, NULL, OPT_RRL_V6 },
	{ "seed", required_argument, NULL, 's' },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
	{ "max-nodes", required_argument, NULL, OPT_MAX_NODES },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "dht", required_argument, NULL, OPT_DHT },
	{ "dht-bootstrap", required_argument, NULL, OPT_DHT_BOOTSTRAP },
	{ "dht-rate", required_argument, NULL, OPT_DHT_RATE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "tsig-key", required_argument, NULL, OPT_TSIG_KEY },
	{ "xfr-allow", required_argument, NULL, OPT_XFR_ALLOW },
	{ "notify", required_argument, NULL, OPT_NOTIFY },
	{ "xfr-answers", required_argument, NULL, OPT_XFR_ANSWERS },
	{ "xfr-rotate", required_argument, NULL, OPT_XFR_ROTATE },
	{ "data-dir", required_argument, NULL, 'd' },
	{ "snapshot-interval", required_argument, NULL, OPT_SNAPSHOT_INTERVAL },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *
flag_name(int opt)
{
	for (const struct option *o = options; o->name != NULL; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static enum config_result
bad(FILE *err, int opt, const char *value, const char *why)
{
	fprintf(err, "seedd: --%s: '%s': %s\n", flag_name(opt), value, why);
	return CONFIG_BAD;
}

static int
parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Prefix a label to the apex: "ns" + zone. */
static int
name_under(uint8_t out[DNAME_MAX], const char *label, const uint8_t *zone)
{
	size_t ll = strlen(label), zl = dname_len(zone);

	if (1 + ll + zl > DNAME_MAX)
		return -1;
	out[0] = (uint8_t)ll;
	memcpy(out + 1, label, ll);
	memcpy(out + 1 + ll, zone, zl);
	return 0;
}

/* HOST:PORT with a port from 1 to 65535 and a host name or IP literal ([v6]:port). */
static int
check_hostport(const char *s)
{
	struct addr a;
	const char *colon = strrchr(s, ':');
	uint32_t port;
	uint8_t name[DNAME_MAX];
	char host[DNAME_TEXT_MAX];

	if (addr_parse_hostport(&a, s, 0) == 0)
		return a.port != 0 && !addr_is_any(&a) ? 0 : -1;
	if (!colon || parse_uint(colon + 1, 1, 65535, &port) < 0 || (size_t)(colon - s) >= sizeof(host) ||
	    colon == s)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	return dname_from_text(name, host) < 2 ? -1 : 0;
}

/* "hostmaster@example.com" is accepted for the dotted RNAME form. */
static int
parse_mbox(uint8_t out[DNAME_MAX], const char *s)
{
	char buf[DNAME_TEXT_MAX];
	const char *at = strchr(s, '@');

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if (at != NULL) {
		size_t i = (size_t)(at - s);
		if (memchr(s, '.', i) != NULL || strchr(at + 1, '@') != NULL)
			return -1; /* a dot in the local part would need escaping */
		buf[i] = '.';
	}
	return dname_from_text(out, buf) < 2 ? -1 : 0;
}

enum config_result
config_parse(struct config *c, int argc, char **argv, FILE *out, FILE *err)
{
	bool have_zone = false;
	int opt;
	char ns_text[ZONE_NS_MAX][DNAME_TEXT_MAX];

	memset(c, 0, sizeof(*c));
	c->ttl = 60;
	c->answers = 25;
	c->data_dir = ".";
	c->snapshot_interval = 60;
	c->log_level = LOG_INFO;
	c->port = 32767;
	c->interval = 300;
	c->timeout = 5;
	c->concurrency = 256;
	c->max_nodes = CONFIG_MAX_NODES;
	c->ca_file = CONFIG_CA_FILE;
	c->dht_rate = 2000;
	c->xfr_rotate = 300;
	c->rrl = (struct rrl_config){ .rate = RRL_DEFAULT_RATE, .slip = RRL_DEFAULT_SLIP,
	                              .v4_prefix = 24, .v6_prefix = 56 };
	const char *seed_text[CONFIG_SEEDS_MAX];
	uint32_t v;

	optind = 0; /* full re-initialisation: config_parse may run more than once */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":z:l:s:d:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'z':
			if (dname_from_text(c->zone, optarg) < 2)
				return bad(err, opt, optarg, "not a domain name (letters, digits, '-' and '_' in labels of 1 to 63 bytes)");
			have_zone = true;
			break;
		case 'l':
			if (c->nlisten == DNS_LISTEN_MAX)
				return bad(err, opt, optarg, "too many listen addresses (at most 16)");
			if (addr_parse_hostport(&c->listen[c->nlisten], optarg, 53) < 0)
				return bad(err, opt, optarg, "not ADDR[:PORT] with an IP address (IPv6 as [ADDR]:PORT) and a port from 1 to 65535");
			c->nlisten++;
			break;
		case OPT_NS:
			if (c->nns == ZONE_NS_MAX)
				return bad(err, opt, optarg, "too many NS names (at most 8)");
			if (dname_from_text(c->ns[c->nns], optarg) < 2)
				return bad(err, opt, optarg, "not a host name");
			snprintf(ns_text[c->nns], sizeof(ns_text[0]), "%s", optarg);
			c->nns++;
			break;
		case OPT_MBOX:
			if (parse_mbox(c->mbox, optarg) < 0)
				return bad(err, opt, optarg, "not a mailbox name (hostmaster.example.com or hostmaster@example.com)");
			c->have_mbox = true;
			break;
		case OPT_TTL:
			if (parse_uint(optarg, 0, INT32_MAX, &c->ttl) < 0)
				return bad(err, opt, optarg, "not a whole number of seconds from 0 to 2147483647");
			break;
		case OPT_ANSWERS:
			if (parse_uint(optarg, 1, CONFIG_ANSWERS_MAX, &c->answers) < 0)
				return bad(err, opt, optarg, "not a whole number from 1 to 1024");
			break;
		case OPT_WILDCARD:
			c->wildcard = true;
			break;
		case OPT_RRL:
			if (parse_uint(optarg, 0, 1000000, &c->rrl.rate) < 0)
				return bad(err, opt, optarg, "not a whole number of responses a second from 0 (off) to 1000000");
			break;
		case OPT_RRL_SLIP:
			if (parse_uint(optarg, 0, 100, &c->rrl.slip) < 0)
				return bad(err, opt, optarg, "not a whole number from 0 (never slip) to 100");
			break;
		case OPT_RRL_V4:
			if (parse_uint(optarg, 1, 32, &v) < 0)
				return bad(err, opt, optarg, "not a prefix length from 1 to 32");
			c->rrl.v4_prefix = v;
			break;
		case OPT_RRL_V6:
			if (parse_uint(optarg, 1, 128, &v) < 0)
				return bad(err, opt, optarg, "not a prefix length from 1 to 128");
			c->rrl.v6_prefix = v;
			break;
		case OPT_ALLOW_PRIVATE:
			c->allow_private = true;
			break;
		case 's':
			if (c->nseeds == CONFIG_SEEDS_MAX)
				return bad(err, opt, optarg, "too many seeds (at most 64)");
			seed_text[c->nseeds] = optarg;
			c->nseeds++;
			break;
		case OPT_PORT:
			if (parse_uint(optarg, 1, 65535, &v) < 0)
				return bad(err, opt, optarg, "not a port from 1 to 65535");
			c->port = (uint16_t)v;
			break;
		case OPT_INTERVAL:
			if (parse_uint(optarg, 1, 7 * 86400, &c->interval) < 0)
				return bad(err, opt, optarg, "not a whole number of seconds from 1 to 604800");
			break;
		case OPT_TIMEOUT:
			if (parse_uint(optarg, 1, 600, &c->timeout) < 0)
				return bad(err, opt, optarg, "not a whole number of seconds from 1 to 600");
			break;
		case OPT_CONCURRENCY:
			if (parse_uint(optarg, 0, 10000, &c->concurrency) < 0)
				return bad(err, opt, optarg, "not a whole number from 0 (crawler off) to 10000");
			break;
		case OPT_MAX_NODES:
			if (parse_uint(optarg, 1, 10000000, &c->max_nodes) < 0)
				return bad(err, opt, optarg, "not a whole number from 1 to 10000000");
			break;
		case OPT_CA_FILE:
			if (*optarg == '\0')
				return bad(err, opt, optarg, "empty file name");
			c->ca_file = optarg;
			c->ca_file_given = true;
			break;
		case OPT_RESOLVER:
			if (addr_parse_hostport(&c->resolver, optarg, 53) < 0 || addr_is_any(&c->resolver))
				return bad(err, opt, optarg, "not ADDR[:PORT] with an IP address (IPv6 as [ADDR]:PORT) and a port from 1 to 65535");
			c->have_resolver = true;
			break;
		case OPT_DHT:
			if (addr_parse_hostport(&c->dht, optarg, CONFIG_DHT_PORT) < 0)
				return bad(err, opt, optarg, "not ADDR[:PORT] with an IP address (IPv6 as [ADDR]:PORT) and a port from 1 to 65535");
			c->dht_on = true;
			break;
		case OPT_DHT_BOOTSTRAP:
			if (c->ndht_boot == CONFIG_DHT_BOOT_MAX)
				return bad(err, opt, optarg, "too many bootstrap nodes (at most 16)");
			if (check_hostport(optarg) < 0)
				return bad(err, opt, optarg, "not HOST:PORT (a host name or IP address, IPv6 as [ADDR]:PORT, and a port from 1 to 65535)");
			c->dht_boot[c->ndht_boot++] = optarg;
			break;
		case OPT_DHT_RATE:
			if (parse_uint(optarg, 1, 1000000, &c->dht_rate) < 0)
				return bad(err, opt, optarg, "not a whole number of queries per second from 1 to 1000000");
			break;
		case OPT_USER: {
			/* Numeric ids only: names would need /etc/passwd, which an appliance has not. */
			char ids[32];
			char *colon;
			int bad_ids = strlen(optarg) >= sizeof(ids);
			if (!bad_ids) {
				strcpy(ids, optarg);
				colon = strchr(ids, ':');
				if (colon)
					*colon = '\0';
				bad_ids = parse_uint(ids, 0, 2147483646, &c->uid) < 0 ||
				          (colon && parse_uint(colon + 1, 0, 2147483646, &c->gid) < 0);
				if (!bad_ids && !colon)
					c->gid = c->uid;
			}
			if (bad_ids)
				return bad(err, opt, optarg, "not UID[:GID] with numeric ids from 0 to 2147483646 (names need /etc/passwd, which an appliance has not)");
			c->have_user = true;
			break;
		}
		case OPT_METRICS:
			if (addr_parse_hostport(&c->metrics, optarg, 0) < 0 || c->metrics.port == 0)
				return bad(err, opt, optarg, "not ADDR:PORT with an IP address (IPv6 as [ADDR]:PORT) and a port from 1 to 65535");
			c->have_metrics = true;
			break;
		case OPT_TSIG_KEY:
			if (*optarg == '\0')
				return bad(err, opt, optarg, "empty file name");
			c->tsig_key_file = optarg;
			break;
		case OPT_XFR_ALLOW:
			if (c->nxfr_allow == CONFIG_XFR_ALLOW_MAX)
				return bad(err, opt, optarg, "too many networks (at most 16)");
			if (addr_parse_net(&c->xfr_allow[c->nxfr_allow], optarg) < 0)
				return bad(err, opt, optarg, "not ADDR or ADDR/BITS with an IP address and a prefix length within it");
			c->nxfr_allow++;
			break;
		case OPT_NOTIFY:
			if (c->nnotify == CONFIG_NOTIFY_MAX)
				return bad(err, opt, optarg, "too many secondaries (at most 16)");
			if (addr_parse_hostport(&c->notify[c->nnotify], optarg, 53) < 0 || addr_is_any(&c->notify[c->nnotify]))
				return bad(err, opt, optarg, "not ADDR[:PORT] with an IP address (IPv6 as [ADDR]:PORT) and a port from 1 to 65535");
			c->nnotify++;
			break;
		case OPT_XFR_ANSWERS:
			if (parse_uint(optarg, 1, CONFIG_ANSWERS_MAX, &c->xfr_answers) < 0)
				return bad(err, opt, optarg, "not a whole number from 1 to 1024");
			break;
		case OPT_XFR_ROTATE:
			if (parse_uint(optarg, 1, 86400, &c->xfr_rotate) < 0)
				return bad(err, opt, optarg, "not a whole number of seconds from 1 to 86400");
			break;
		case 'd':
			if (*optarg == '\0')
				return bad(err, opt, optarg, "empty directory name");
			c->data_dir = optarg;
			break;
		case OPT_SNAPSHOT_INTERVAL:
			if (parse_uint(optarg, 1, 86400, &c->snapshot_interval) < 0)
				return bad(err, opt, optarg, "not a whole number of seconds from 1 to 86400");
			break;
		case OPT_LOG_LEVEL:
			c->log_level = log_level_parse(optarg);
			if (c->log_level < 0)
				return bad(err, opt, optarg, "not one of debug, info, warn, error");
			break;
		case 'h':
			fputs(usage, out);
			return CONFIG_EXIT;
		case 'V':
			fprintf(out, "seedd %s\n", SEEDD_VERSION);
			return CONFIG_EXIT;
		case ':':
			fprintf(err, "seedd: %s: missing value\n", argv[optind - 1]);
			return CONFIG_BAD;
		default:
			fprintf(err, "seedd: %s: unknown flag (see seedd --help)\n", argv[optind - 1]);
			return CONFIG_BAD;
		}
	}
	if (optind < argc) {
		fprintf(err, "seedd: '%s': unexpected argument (every setting is a flag; see seedd --help)\n", argv[optind]);
		return CONFIG_BAD;
	}
	/* Seeds take the default port, so they are parsed once --port is known. */
	for (int i = 0; i < c->nseeds; i++)
		if (url_parse(&c->seeds[i], seed_text[i], strlen(seed_text[i]), c->port) < 0)
			return bad(err, 's', seed_text[i], "not ws://host[:port][/path], wss://host[:port][/path] or host[:port]");
	if (!have_zone) {
		fprintf(err, "seedd: --zone: missing: the apex of the served zone is required (e.g. --zone seed.example.com)\n");
		return CONFIG_BAD;
	}
	for (int i = 0; i < c->nns; i++) {
		for (int j = 0; j < i; j++)
			if (memcmp(c->ns[i], c->ns[j], dname_len(c->ns[i])) == 0)
				return bad(err, OPT_NS, ns_text[i], "given twice");
	}
	if (!c->have_mbox && name_under(c->mbox, "hostmaster", c->zone) < 0) {
		fprintf(err, "seedd: --zone: too long to build hostmaster.<zone>; give --mbox\n");
		return CONFIG_BAD;
	}
	if (c->ndht_boot == 0) {
		static const char *const boot[] = {
			"router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881",
		};
		for (int i = 0; i < 3; i++)
			c->dht_boot[c->ndht_boot++] = boot[i];
	}
	/* Transfers and NOTIFY are signed or not done at all. */
	if ((c->nxfr_allow > 0 || c->nnotify > 0) && !c->tsig_key_file) {
		fprintf(err, "seedd: --%s: needs --tsig-key: transfers and NOTIFY are always signed\n",
		        c->nxfr_allow > 0 ? "xfr-allow" : "notify");
		return CONFIG_BAD;
	}
	if (c->tsig_key_file && c->nxfr_allow == 0) {
		fprintf(err, "seedd: --tsig-key: needs --xfr-allow: name the secondaries allowed to transfer the zone\n");
		return CONFIG_BAD;
	}
	if (c->xfr_answers == 0)
		c->xfr_answers = c->answers;
	if (c->nlisten == 0) {
		c->listen_default = true;
		addr_parse_hostport(&c->listen[0], "0.0.0.0", 53);
		addr_parse_hostport(&c->listen[1], "[::]", 53);
		c->nlisten = 2;
	}
	return CONFIG_OK;
}

int
config_default_ns(uint8_t out[DNAME_MAX], const uint8_t *zone)
{
	return name_under(out, "ns", zone);
}
