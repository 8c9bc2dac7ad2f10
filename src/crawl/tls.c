/*
 * tls: trust anchors from PEM, and the BearSSL client engine driven by
 * its state (SENDREC, RECVREC, SENDAPP, RECVAPP, CLOSED).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bearssl.h>

#include "crawl/tls.h"

#define TLS_OBUF (4096 + 85) /* we send small messages; records up to 4 KiB */

struct tls {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	int sys_errno;
	bool eof;
	unsigned char buf[BR_SSL_BUFSIZE_INPUT + TLS_OBUF];
};

/* --- trust anchors -------------------------------------------------------- */

/* A growing byte buffer for the DN and DER callbacks of BearSSL. */
struct bytes {
	unsigned char *p;
	size_t len, cap;
	bool oom;
};

static void
bytes_append(void *ctx, const void *buf, size_t len)
{
	struct bytes *d = ctx;

	if (d->oom)
		return;
	if (d->cap - d->len < len) {
		size_t cap = (d->cap ? d->cap * 2 : 256) + len;
		unsigned char *p = realloc(d->p, cap);
		if (!p) {
			d->oom = true;
			return;
		}
		d->p = p;
		d->cap = cap;
	}
	memcpy(d->p + d->len, buf, len);
	d->len += len;
}

static void *
dup_bytes(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (q)
		memcpy(q, p, n);
	return q;
}

static void
anchor_free(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
	} else {
		free(ta->pkey.key.ec.q);
	}
}

/* One DER certificate as an anchor; -1 when it cannot be decoded. */
static int
anchor_from_der(br_x509_trust_anchor *ta, const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	struct bytes dn = { 0 };
	const br_x509_pkey *pk;

	br_x509_decoder_init(&dc, bytes_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.oom) {
		free(dn.p);
		return -1;
	}
	memset(ta, 0, sizeof(*ta));
	ta->dn.data = dn.p;
	ta->dn.len = dn.len;
	/* Every certificate of the bundle is trusted as a CA, as openssl does with a CA file. */
	ta->flags = BR_X509_TA_CA;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (!ta->pkey.key.rsa.n || !ta->pkey.key.rsa.e) {
			anchor_free(ta);
			return -1;
		}
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (!ta->pkey.key.ec.q) {
			anchor_free(ta);
			return -1;
		}
	} else {
		free(dn.p);
		return -1;
	}
	return 0;
}

static int
anchors_push(struct tls_anchors *a, size_t *cap, const br_x509_trust_anchor *ta)
{
	if (a->n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		br_x509_trust_anchor *v = realloc(a->ta, c * sizeof(*v));
		if (!v)
			return -1;
		a->ta = v;
		*cap = c;
	}
	((br_x509_trust_anchor *)a->ta)[a->n++] = *ta;
	return 0;
}

/* A bundle being read, a piece a call (tls_anchors_step). */
struct tls_anchor_loader {
	br_pem_decoder_context pc;
	struct bytes der;
	size_t cap;
	unsigned bad;
	bool in_cert;
	int fd;
	char path[256];
};

struct tls_anchor_loader *
tls_anchors_open(struct tls_anchors *a, const char *path, char *err, size_t errlen)
{
	struct tls_anchor_loader *ld = calloc(1, sizeof(*ld));

	a->ta = NULL;
	a->n = 0;
	if (!ld) {
		snprintf(err, errlen, "out of memory reading %s", path);
		return NULL;
	}
	ld->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ld->fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		free(ld);
		return NULL;
	}
	snprintf(ld->path, sizeof(ld->path), "%s", path);
	br_pem_decoder_init(&ld->pc);
	return ld;
}

/* The end of a load: ld freed; 0, or -1 with a (the anchors read) freed too. */
static int
load_end(struct tls_anchor_loader *ld, struct tls_anchors *a, bool failed, char *err, size_t errlen)
{
	close(ld->fd);
	free(ld->der.p);
	if (!failed && ld->der.oom) {
		snprintf(err, errlen, "out of memory reading %s", ld->path);
		failed = true;
	}
	if (!failed && a->n == 0) {
		snprintf(err, errlen, "no usable certificate in %s (%u unreadable)", ld->path, ld->bad);
		failed = true;
	}
	free(ld);
	if (failed) {
		tls_anchors_free(a);
		return -1;
	}
	return 0;
}

int
tls_anchors_step(struct tls_anchor_loader *ld, struct tls_anchors *a, char *err, size_t errlen)
{
	unsigned char buf[TLS_ANCHORS_STEP];
	ssize_t r = read(ld->fd, buf, sizeof(buf));

	if (r < 0 && errno == EINTR)
		return 1;
	if (r < 0) {
		snprintf(err, errlen, "cannot read %s: %s", ld->path, strerror(errno));
		return load_end(ld, a, true, err, errlen);
	}
	/* A final newline flushes a last END line with none. */
	size_t n = r ? (size_t)r : 1, off = 0;
	if (!r)
		buf[0] = '\n';
	while (off < n) {
		off += br_pem_decoder_push(&ld->pc, buf + off, n - off);
		switch (br_pem_decoder_event(&ld->pc)) {
		case BR_PEM_BEGIN_OBJ:
			ld->in_cert = strcmp(br_pem_decoder_name(&ld->pc), "CERTIFICATE") == 0 ||
			              strcmp(br_pem_decoder_name(&ld->pc), "X509 CERTIFICATE") == 0;
			ld->der.len = 0;
			br_pem_decoder_setdest(&ld->pc, ld->in_cert ? bytes_append : NULL, &ld->der);
			break;
		case BR_PEM_END_OBJ:
			if (ld->in_cert) {
				br_x509_trust_anchor ta;
				if (ld->der.oom || anchor_from_der(&ta, ld->der.p, ld->der.len) < 0)
					ld->bad++;
				else if (anchors_push(a, &ld->cap, &ta) < 0) {
					anchor_free(&ta);
					ld->der.oom = true;
				}
			}
			ld->in_cert = false;
			break;
		case BR_PEM_ERROR:
			snprintf(err, errlen, "%s is not a PEM file", ld->path);
			return load_end(ld, a, true, err, errlen);
		}
	}
	return r == 0 ? load_end(ld, a, false, err, errlen) : 1;
}

void
tls_anchors_abandon(struct tls_anchor_loader *ld, struct tls_anchors *a)
{
	char err[8];

	load_end(ld, a, true, err, sizeof(err));
}

int
tls_anchors_load(struct tls_anchors *a, const char *path, char *err, size_t errlen)
{
	struct tls_anchor_loader *ld = tls_anchors_open(a, path, err, errlen);
	int rc;

	if (!ld)
		return -1;
	while ((rc = tls_anchors_step(ld, a, err, errlen)) == 1) {
	}
	return rc;
}

void
tls_anchors_free(struct tls_anchors *a)
{
	br_x509_trust_anchor *v = a->ta;

	for (size_t i = 0; i < a->n; i++)
		anchor_free(&v[i]);
	free(v);
	a->ta = NULL;
	a->n = 0;
}

/* --- the engine ----------------------------------------------------------- */

struct tls *
tls_new(const struct tls_anchors *a, const char *server_name)
{
	struct tls *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	br_ssl_client_init_full(&t->cc, &t->xc, a->ta, a->n);
	br_ssl_engine_set_buffers_bidi(&t->cc.eng, t->buf, BR_SSL_BUFSIZE_INPUT,
	                               t->buf + BR_SSL_BUFSIZE_INPUT, TLS_OBUF);
	t->sys_errno = 0;
	t->eof = false;
	/* The name is both the SNI and what the certificate must carry. */
	if (!br_ssl_client_reset(&t->cc, server_name, 0)) {
		free(t);
		return NULL;
	}
	return t;
}

void
tls_free(struct tls *t)
{
	free(t);
}

enum tls_status
tls_io(struct tls *t, int fd, uint32_t *want)
{
	br_ssl_engine_context *e = &t->cc.eng;

	*want = 0;
	for (;;) {
		unsigned st = br_ssl_engine_current_state(e);
		size_t len;

		if (st & BR_SSL_CLOSED)
			return br_ssl_engine_last_error(e) == BR_ERR_OK ? TLS_CLOSED : TLS_FAILED;
		if (st & BR_SSL_SENDREC) {
			unsigned char *p = br_ssl_engine_sendrec_buf(e, &len);
			ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
			if (w > 0) {
				br_ssl_engine_sendrec_ack(e, (size_t)w);
				continue;
			}
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno != EAGAIN) {
				t->sys_errno = errno;
				return TLS_FAILED;
			}
			*want |= EPOLLOUT;
		}
		if (st & BR_SSL_RECVREC) {
			/* Read only when nothing decrypted waits for the application. */
			if (!(st & BR_SSL_RECVAPP)) {
				unsigned char *p = br_ssl_engine_recvrec_buf(e, &len);
				ssize_t r = recv(fd, p, len, 0);
				if (r > 0) {
					br_ssl_engine_recvrec_ack(e, (size_t)r);
					continue;
				}
				if (r == 0) {
					t->eof = true;
					return TLS_CLOSED;
				}
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN) {
					t->sys_errno = errno;
					return TLS_FAILED;
				}
				*want |= EPOLLIN;
			}
		}
		return TLS_OK;
	}
}

const uint8_t *
tls_read(struct tls *t, size_t *len)
{
	br_ssl_engine_context *e = &t->cc.eng;

	*len = 0;
	if (!(br_ssl_engine_current_state(e) & BR_SSL_RECVAPP))
		return NULL;
	return br_ssl_engine_recvapp_buf(e, len);
}

void
tls_read_ack(struct tls *t, size_t len)
{
	br_ssl_engine_recvapp_ack(&t->cc.eng, len);
}

size_t
tls_write(struct tls *t, const uint8_t *p, size_t len)
{
	br_ssl_engine_context *e = &t->cc.eng;
	size_t room;

	if (!(br_ssl_engine_current_state(e) & BR_SSL_SENDAPP))
		return 0;
	unsigned char *buf = br_ssl_engine_sendapp_buf(e, &room);
	if (room > len)
		room = len;
	memcpy(buf, p, room);
	br_ssl_engine_sendapp_ack(e, room);
	br_ssl_engine_flush(e, 0);
	return room;
}

void
tls_close(struct tls *t)
{
	br_ssl_engine_close(&t->cc.eng);
}

const char *
tls_error(const struct tls *t)
{
	static char buf[96];
	int err = br_ssl_engine_last_error(&t->cc.eng);

	switch (err) {
	case BR_ERR_OK:
		if (t->sys_errno)
			return strerror(t->sys_errno);
		return t->eof ? "connection closed during TLS" : "no error";
	case BR_ERR_X509_NOT_TRUSTED:
		return "certificate not trusted by --ca-file";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "certificate does not match the host name";
	case BR_ERR_X509_EXPIRED:
		return "certificate expired or not yet valid";
	case BR_ERR_X509_EMPTY_CHAIN:
		return "server sent no certificate";
	case BR_ERR_X509_NOT_CA:
		return "chain includes a non-CA issuer";
	case BR_ERR_X509_BAD_SIGNATURE:
		return "bad certificate signature";
	case BR_ERR_BAD_VERSION:
		return "unsupported TLS version";
	case BR_ERR_BAD_HANDSHAKE:
	case BR_ERR_UNEXPECTED:
		return "TLS handshake failed";
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_RECV_FATAL_ALERT + 256)
		snprintf(buf, sizeof(buf), "server sent TLS alert %d", err - BR_ERR_RECV_FATAL_ALERT);
	else if (err >= BR_ERR_SEND_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT + 256)
		snprintf(buf, sizeof(buf), "TLS alert %d sent", err - BR_ERR_SEND_FATAL_ALERT);
	else
		snprintf(buf, sizeof(buf), "BearSSL error %d", err);
	return buf;
}
