/*
 * addr: IPv4/IPv6 addresses with a port, parsed from text and classified.
 * Parsers return 0 on success and -1 on bad input; nothing here does I/O.
 */
#ifndef SEEDD_ADDR_H
#define SEEDD_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* 20 bytes: the node table keeps one per node. */
struct addr {
	uint8_t family;    /* AF_INET or AF_INET6 */
	uint8_t ip[16];    /* 4 bytes used for AF_INET */
	uint16_t port;     /* host order */
};

#define ADDR_STRLEN 56 /* "[v6]:port" with room to spare */

/* An address literal alone: "1.2.3.4" or "2001:db8::1" (no port). */
int addr_parse_ip(struct addr *a, const char *s);
/* "1.2.3.4", "1.2.3.4:53", "[::1]:53", "[::1]" or "::1"; default_port when absent. */
int addr_parse_hostport(struct addr *a, const char *s, uint16_t default_port);
/* "1.2.3.4" or "2001:db8::1" */
void addr_ip_str(const struct addr *a, char *out, size_t len);
/* "1.2.3.4:53" or "[2001:db8::1]:53" */
void addr_str(const struct addr *a, char *out, size_t len);
socklen_t addr_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss);
/* A datagram's source as an addr: false for another family than IPv4 or IPv6. */
bool addr_from_sockaddr(struct addr *a, const struct sockaddr_storage *ss);
bool addr_is_any(const struct addr *a);
size_t addr_len(const struct addr *a);

/* A network: "ADDR" (one address) or "ADDR/BITS", bits within the family's length. */
struct addr_net {
	struct addr a;
	uint8_t bits;
};
int addr_parse_net(struct addr_net *n, const char *s);
/* Is ip (4 or 16 bytes) in n? An IPv4 address is never in an IPv6 network or the other way. */
bool addr_net_has(const struct addr_net *n, const uint8_t *ip, size_t iplen);

/* Never kept as a node: unspecified, multicast, IPv4 broadcast. */
bool addr_is_unusable(const struct addr *a);
/*
 * Globally routable: not loopback, RFC 1918, CGNAT, ULA, link-local,
 * documentation, benchmark, reserved or other special-purpose ranges.
 */
bool addr_is_global(const struct addr *a);

#endif
