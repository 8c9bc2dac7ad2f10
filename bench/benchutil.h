/*
 * benchutil: what the bench tools share: an IPV4:PORT argument.
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <netinet/in.h>

/* 0, or -1 when s is not IPV4:PORT with min_port <= PORT <= 65535. */
int parse_addr(const char *s, struct sockaddr_in *sa, long min_port);

#endif
