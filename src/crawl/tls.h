/*
 * tls: BearSSL for wss:// checks (SPEC 5). Trust anchors are read once
 * from a PEM bundle (--ca-file); each TLS connection is one BearSSL client
 * engine with full chain validation, SNI and a host-name check, driven
 * from the event loop over a non-blocking socket. This is the thin socket
 * adapter of the engine: tls_io is the only function that does I/O.
 * Functions return -1 on failure; tls_error says why in words.
 */
#ifndef SEEDD_TLS_H
#define SEEDD_TLS_H

#include <stddef.h>
#include <stdint.h>

struct tls_anchors {
	void *ta; /* br_x509_trust_anchor[] */
	size_t n;
};

/* Load every CERTIFICATE of a PEM file; 0, or -1 with a reason in err. */
int tls_anchors_load(struct tls_anchors *a, const char *path, char *err, size_t errlen);
/*
 * The same a piece a call (a bundle of 150 certificates costs 30 ms of
 * CPU here; a piece about 2 ms): open (NULL, with err, when it cannot),
 * then step until it returns 0 (done) or -1 (err; a is empty). Either
 * ends the load and frees the loader.
 */
#define TLS_ANCHORS_STEP 16384
struct tls_anchor_loader;
struct tls_anchor_loader *tls_anchors_open(struct tls_anchors *a, const char *path, char *err, size_t errlen);
int tls_anchors_step(struct tls_anchor_loader *ld, struct tls_anchors *a, char *err, size_t errlen);
/* Stop a load under way (shutdown): the loader and what it read are freed. */
void tls_anchors_abandon(struct tls_anchor_loader *ld, struct tls_anchors *a);
void tls_anchors_free(struct tls_anchors *a);

struct tls;

/* A client engine for server_name (SNI and the name the certificate must match). */
struct tls *tls_new(const struct tls_anchors *a, const char *server_name);
void tls_free(struct tls *t);

enum tls_status { TLS_OK, TLS_CLOSED, TLS_FAILED };
/*
 * Move records between the engine and fd until the socket would block.
 * *want gets EPOLLIN/EPOLLOUT for what the engine waits on. TLS_CLOSED:
 * the peer closed cleanly (or the socket hit EOF); TLS_FAILED: see tls_error.
 */
enum tls_status tls_io(struct tls *t, int fd, uint32_t *want);
/* Plaintext received: a pointer and length (0 when none); tls_read_ack consumes. */
const uint8_t *tls_read(struct tls *t, size_t *len);
void tls_read_ack(struct tls *t, size_t len);
/* Queue plaintext; returns how much the engine took now (0 during the handshake). */
size_t tls_write(struct tls *t, const uint8_t *p, size_t len);
/* Start a close_notify. */
void tls_close(struct tls *t);
const char *tls_error(const struct tls *t);

#endif
