#include "app/metrics.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/http.h"
#include "zone/nodeset.h"
#include "base/sbuf.h"

/* # HELP and # TYPE lines of one metric family. */
static void
family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP seedd_%s %s\n# TYPE seedd_%s %s\n", name, help, name, type);
}

static void
one(struct sbuf *b, const char *name, const char *type, const char *help, unsigned long long v)
{
	family(b, name, type, help);
	sb_printf(b, "seedd_%s %llu\n", name, v);
}

static const char *const qtype_names[DNS_QT_COUNT] = { "A", "AAAA", "ANY", "SOA", "NS", "CNAME", "other" };
static const char *const rcode_names[DNS_RC_COUNT] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                       "NOTIMP", "REFUSED", "BADVERS", "BADCOOKIE" };
static const char *const cookie_names[COOKIE_VERDICTS] = { "none", "client_only", "valid", "bad", "malformed" };

static void
dns(struct sbuf *b, const struct metrics_src *m)
{
	const struct dns_stats *s = &m->dns->stats;

	family(b, "dns_queries_total", "counter", "DNS queries answered, by question type.");
	for (int i = 0; i < DNS_QT_COUNT; i++)
		sb_printf(b, "seedd_dns_queries_total{type=\"%s\"} %llu\n", qtype_names[i], (unsigned long long)s->qtype[i]);
	family(b, "dns_responses_total", "counter", "DNS replies sent, by rcode.");
	for (int i = 0; i < DNS_RC_COUNT; i++)
		sb_printf(b, "seedd_dns_responses_total{rcode=\"%s\"} %llu\n", rcode_names[i], (unsigned long long)s->rcode[i]);
	/* One counter per rung of the validation ladder that stops a query. */
	family(b, "dns_dropped_total", "counter", "DNS queries refused or dropped by the validation ladder, by reason.");
	const struct { const char *why; uint64_t v; } ladder[] = {
		{ "short", s->drop[DNS_DROP_SHORT] }, { "qr_set", s->drop[DNS_DROP_QR] },
		{ "notimp_opcode", s->notimp }, { "formerr", s->formerr }, { "badvers", s->badvers },
		{ "refused_class", s->refused_class }, { "refused_zone", s->refused_zone },
		{ "refused_transfer", s->refused_xfr },
	};
	for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++)
		sb_printf(b, "seedd_dns_dropped_total{reason=\"%s\"} %llu\n", ladder[i].why, (unsigned long long)ladder[i].v);
	one(b, "dns_truncated_total", "counter", "UDP replies sent with TC set.", s->truncated);
	one(b, "dns_shortened_total", "counter", "Node answers given fewer addresses to fit.", s->shortened);
	one(b, "dns_edns_total", "counter", "Queries with EDNS.", s->edns);
	family(b, "dns_cookies_total", "counter", "Queries by their DNS COOKIE option (RFC 7873).");
	for (int i = 0; i < COOKIE_VERDICTS; i++)
		sb_printf(b, "seedd_dns_cookies_total{result=\"%s\"} %llu\n", cookie_names[i], (unsigned long long)s->cookie[i]);
	const struct rrl_stats *rs = &m->dns->rrl.stats;
	family(b, "dns_rrl_responses_total", "counter",
	       "UDP responses over the rate limit (limited = slipped + dropped), and exempt by a valid cookie.");
	sb_printf(b, "seedd_dns_rrl_responses_total{result=\"limited\"} %llu\n", (unsigned long long)rs->limited);
	sb_printf(b, "seedd_dns_rrl_responses_total{result=\"slipped\"} %llu\n", (unsigned long long)rs->slipped);
	sb_printf(b, "seedd_dns_rrl_responses_total{result=\"dropped\"} %llu\n", (unsigned long long)rs->dropped);
	sb_printf(b, "seedd_dns_rrl_responses_total{result=\"exempt\"} %llu\n", (unsigned long long)rs->exempt);
	one(b, "dns_rrl_evicted_total", "counter", "Rate-limit buckets evicted in use to make room.", rs->evicted);
	one(b, "dns_tcp_connections_total", "counter", "TCP connections accepted.", m->dns->tcp.accepted);
	one(b, "dns_tcp_evicted_total", "counter", "TCP connections closed to make room.", m->dns->tcp.evicted);
	one(b, "dns_udp_send_errors_total", "counter", "UDP replies that could not be sent.", m->dns->udp_send_errors);
	family(b, "zone_nodes", "gauge", "Node addresses published at the apex, by family.");
	sb_printf(b, "seedd_zone_nodes{family=\"ipv4\"} %zu\n", nodeset_count(&m->zone->v4));
	sb_printf(b, "seedd_zone_nodes{family=\"ipv6\"} %zu\n", nodeset_count(&m->zone->v6));
	one(b, "zone_serial", "gauge", "SOA serial of the served zone.", zone_served_serial(m->zone));
}

/* The hidden primary: transfers by kind and result, TSIG, NOTIFY. */
static void
primary(struct sbuf *b, const struct metrics_src *m)
{
	static const char *const kinds[PRIMARY_XFR_KINDS] = { "axfr", "ixfr_uptodate", "ixfr_diff", "ixfr_full" };
	static const char *const tsig[TSIG_BADTRUNC + 1] = { "none", "ok", "formerr", "badkey", "badsig", "badtime",
	                                                     "badtrunc" };
	const struct primary_stats *s = &m->primary->st;
	const struct notify_stats *n = &m->primary->nt.st;

	family(b, "xfr_started_total", "counter", "Zone transfers started, by what is sent.");
	for (int i = 0; i < PRIMARY_XFR_KINDS; i++)
		sb_printf(b, "seedd_xfr_started_total{kind=\"%s\"} %llu\n", kinds[i], (unsigned long long)s->xfr_started[i]);
	family(b, "xfr_requests_total", "counter", "Transfer requests by result (refused: unsigned, from outside "
	       "--xfr-allow, AXFR over UDP; error: FORMERR, NOTAUTH, BADVERS).");
	const struct { const char *r; uint64_t v; } res[] = {
		{ "sent", s->xfr_done }, { "cut", s->xfr_cut }, { "refused_unsigned", s->refused_unsigned },
		{ "refused_source", s->refused_source }, { "refused_udp_axfr", s->refused_udp_axfr },
		{ "error", s->xfr_errors },
	};
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++)
		sb_printf(b, "seedd_xfr_requests_total{result=\"%s\"} %llu\n", res[i].r, (unsigned long long)res[i].v);
	one(b, "xfr_messages_total", "counter", "Transfer messages sent.", s->xfr_messages);
	one(b, "xfr_records_total", "counter", "Records in transfers sent whole.", s->xfr_records);
	family(b, "tsig_requests_total", "counter", "Queries carrying a TSIG record, by verdict.");
	for (int i = 1; i <= TSIG_BADTRUNC; i++)
		sb_printf(b, "seedd_tsig_requests_total{result=\"%s\"} %llu\n", tsig[i], (unsigned long long)s->tsig[i]);
	one(b, "tsig_signed_total", "counter", "Replies signed with TSIG.", s->signed_replies);
	one(b, "xfr_versions_total", "counter", "Versions of the transferred zone (rotations, start, static changes).",
	    s->versions);
	family(b, "notify_total", "counter", "NOTIFY messages sent, retried, and how secondaries answered.");
	const struct { const char *r; uint64_t v; } nt[] = {
		{ "sent", n->sent }, { "retried", n->retried }, { "acknowledged", n->acked }, { "rejected", n->rejected },
		{ "failed", n->failed }, { "superseded", n->superseded }, { "ignored", n->ignored },
		{ "bad_signature", s->notify_bad_sig }, { "send_error", s->notify_send_errors },
	};
	for (size_t i = 0; i < sizeof(nt) / sizeof(nt[0]); i++)
		sb_printf(b, "seedd_notify_total{result=\"%s\"} %llu\n", nt[i].r, (unsigned long long)nt[i].v);
}

static void
crawler(struct sbuf *b, const struct metrics_src *m)
{
	const struct crawler *c = m->crawler;

	one(b, "crawler_on", "gauge", "1 when the crawler runs (--concurrency > 0).", c->on);
	if (!c->on)
		return;
	family(b, "crawler_checks_total", "counter", "Node checks, by result.");
	sb_printf(b, "seedd_crawler_checks_total{result=\"good\"} %llu\n", (unsigned long long)c->core.st.good);
	sb_printf(b, "seedd_crawler_checks_total{result=\"bad\"} %llu\n", (unsigned long long)c->core.st.bad);
	family(b, "crawler_check_errors_total", "counter", "Failed node checks, by error.");
	for (int e = 1; e < NODE_E_COUNT; e++)
		sb_printf(b, "seedd_crawler_check_errors_total{error=\"%s\"} %llu\n", node_error_name((enum node_error)e),
		    (unsigned long long)c->core.st.by_error[e]);
	family(b, "crawler_nodes", "gauge", "Nodes in the crawler's table, and those published.");
	sb_printf(b, "seedd_crawler_nodes{state=\"known\"} %zu\n", c->core.nodes.count);
	sb_printf(b, "seedd_crawler_nodes{state=\"published\"} %zu\n",
	    nodeset_count(&m->zone->v4) + nodeset_count(&m->zone->v6));
	sb_printf(b, "seedd_crawler_nodes{state=\"checking\"} %u\n", c->core.inflight);
	one(b, "crawler_learnt_total", "counter", "Node addresses learnt.", c->core.st.learnt);
	one(b, "crawler_forgotten_total", "counter", "Nodes forgotten by the health model.", c->core.st.forgotten);
	one(b, "crawler_banned_total", "counter", "Nodes banned for garbage.", c->core.st.banned);
	one(b, "crawler_rechecks_total", "counter", "Early re-checks of published nodes that failed once.", c->core.st.rechecks);
	one(b, "crawler_outage", "gauge", "1 while our own network seems down.", c->core.outage);
}

static void
dht(struct sbuf *b, const struct metrics_src *m, int64_t now)
{
	const struct dht *d = m->dht;

	one(b, "dht_on", "gauge", "1 when the DHT sniffer runs (--dht).", d->on);
	if (!d->on)
		return;
	const uint64_t *c = d->st.c;
	family(b, "dht_datagrams_total", "counter", "DHT datagrams, by direction.");
	sb_printf(b, "seedd_dht_datagrams_total{direction=\"in\"} %llu\n", (unsigned long long)c[DHT_C_IN]);
	sb_printf(b, "seedd_dht_datagrams_total{direction=\"out\"} %llu\n", (unsigned long long)c[DHT_C_OUT]);
	family(b, "dht_queries_total", "counter", "KRPC queries, by direction and method.");
	for (int k = KRPC_M_UNKNOWN; k <= KRPC_M_SAMPLE_INFOHASHES; k++) {
		const char *name = krpc_method_name((enum krpc_method)k);
		sb_printf(b, "seedd_dht_queries_total{direction=\"in\",method=\"%s\"} %llu\n", name,
		    (unsigned long long)d->st.q_in[k]);
		if (k != KRPC_M_UNKNOWN)
			sb_printf(b, "seedd_dht_queries_total{direction=\"out\",method=\"%s\"} %llu\n", name,
			    (unsigned long long)d->st.q_out[k]);
	}
	family(b, "dht_messages_total", "counter", "Other KRPC messages, by kind.");
	const struct { const char *kind; int i; } msgs[] = {
		{ "answer_sent", DHT_C_ANSWERS }, { "error_sent", DHT_C_ERRORS_OUT },
		{ "response_received", DHT_C_RESPONSES_IN }, { "error_received", DHT_C_ERRORS_IN },
		{ "timeout", DHT_C_TIMEOUTS }, { "answer_held_back", DHT_C_DEFERRED },
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		sb_printf(b, "seedd_dht_messages_total{kind=\"%s\"} %llu\n", msgs[i].kind, (unsigned long long)c[msgs[i].i]);
	family(b, "dht_dropped_total", "counter", "DHT datagrams dropped, by reason.");
	const struct { const char *why; int i; } drops[] = {
		{ "malformed", DHT_C_DROP_MALFORMED }, { "unmatched", DHT_C_DROP_UNMATCHED },
		{ "rate", DHT_C_DROP_RATE }, { "filtered", DHT_C_DROP_FILTERED }, { "bad_token", DHT_C_BAD_TOKEN },
		{ "queue_full", DHT_C_QUEUE_FULL },
	};
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		sb_printf(b, "seedd_dht_dropped_total{reason=\"%s\"} %llu\n", drops[i].why, (unsigned long long)c[drops[i].i]);
	family(b, "dht_infohash_events_total", "counter", "Infohashes heard, by provenance.");
	sb_printf(b, "seedd_dht_infohash_events_total{source=\"get_peers\"} %llu\n", (unsigned long long)c[DHT_C_GET_PEERS]);
	sb_printf(b, "seedd_dht_infohash_events_total{source=\"announce_peer\"} %llu\n", (unsigned long long)c[DHT_C_ANNOUNCES]);
	sb_printf(b, "seedd_dht_infohash_events_total{source=\"sample\"} %llu\n", (unsigned long long)c[DHT_C_SAMPLES]);
	one(b, "dht_infohashes", "gauge", "Infohashes in the table.", d->ih.n);
	one(b, "dht_infohashes_evicted_total", "counter", "Infohashes evicted from the full table.", d->ih.evicted);
	one(b, "dht_nodes", "gauge", "DHT nodes that answered us, in the node table.", d->nodes.count);
	one(b, "dht_queue", "gauge", "DHT nodes waiting for our find_node.", d->qlen);
	one(b, "dht_queries_in_flight", "gauge", "Our KRPC queries waiting for an answer.", d->inflight);
	one(b, "dht_rate_limit", "gauge", "Most KRPC queries we send per second (--dht-rate).", d->cfg.rate);
	one(b, "dht_unsolicited_queries_last_minute", "gauge", "Queries from outside in the last whole minute.",
	    d->unsolicited_last_minute);
	one(b, "dht_reachable", "gauge", "1 when queries from outside came lately.", dht_reachable(d, now));
}

static long
rss_bytes(void)
{
	char buf[128];
	long pages = 0, rss = 0;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %ld", &pages, &rss) != 2)
		return -1;
	return rss * sysconf(_SC_PAGESIZE);
}

char *
metrics_text(const struct metrics_src *m, size_t *len)
{
	struct sbuf b;
	int64_t now = (int64_t)time(NULL);

	sb_init(&b, 16384);
	dns(&b, m);
	if (m->primary)
		primary(&b, m);
	crawler(&b, m);
	dht(&b, m, now);
	family(&b, "snapshot_last_success_timestamp_seconds", "gauge",
	       "Unix time of the last successful write of each data file (0: not yet).");
	sb_printf(&b, "seedd_snapshot_last_success_timestamp_seconds{file=\"zone.csv\"} %lld\n", (long long)m->store->last_save);
	int64_t nodes = m->crawler->on ? m->crawler->files.last_save : m->dht->on ? m->dht->nodes_last_save : 0;
	sb_printf(&b, "seedd_snapshot_last_success_timestamp_seconds{file=\"nodes.csv\"} %lld\n", (long long)nodes);
	if (m->dht->on)
		sb_printf(&b, "seedd_snapshot_last_success_timestamp_seconds{file=\"infohashes.csv\"} %lld\n",
		    (long long)m->dht->ih_last_save);
	one(&b, "snapshot_errors_total", "counter", "Failed writes of data files.",
	    m->store->save_errors + m->crawler->files.save_errors);
	one(&b, "http_requests_total", "counter", "Requests to this HTTP server.", m->http->requests);
	long rss = rss_bytes();
	one(&b, "process_resident_memory_bytes", "gauge", "Resident memory of seedd.", rss > 0 ? (unsigned long long)rss : 0);
	one(&b, "process_start_time_seconds", "gauge", "Unix time seedd started.", (unsigned long long)m->start_time);
	if (b.err) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

int
metrics_health(const struct metrics_src *m, int64_t now, char *why, size_t whylen)
{
	if (!m->store->loaded) {
		snprintf(why, whylen, "zone not loaded\n");
		return 503;
	}
	/* Served, but a restart would lose what changed: the operator must know. */
	if (m->store->save_failing) {
		snprintf(why, whylen, "zone.csv cannot be written in the data directory\n");
		return 503;
	}
	if (m->crawler->on && m->crawler->core.outage) {
		snprintf(why, whylen, "our network seems down: nearly every check of good nodes fails\n");
		return 503;
	}
	if (m->dht->on && !dht_reachable(m->dht, now)) {
		snprintf(why, whylen, "not reachable from the DHT: no query from outside for %d minutes\n",
		         DHT_QUIET_S / 60);
		return 503;
	}
	snprintf(why, whylen, "ok\n");
	return 200;
}
