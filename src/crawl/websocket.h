/*
 * ws: the client side of RFC 6455, without I/O. The caller moves bytes;
 * this module builds the upgrade request, reads the server's handshake
 * response, encodes masked client frames and parses server frames into
 * whole messages. Every reader is resumable: it takes any split of the
 * byte stream (one byte at a time works) and says how much it consumed.
 *
 * Error convention: the handshake reader and the frame parser return a
 * named enum; once a parser has failed it stays failed (sticky).
 */
#ifndef SEEDD_WS_H
#define SEEDD_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_MAX_MESSAGE (2u << 20) /* SPEC 5: messages are at most 2 MiB */
#define WS_HANDSHAKE_MAX 8192     /* the whole response header block */
#define WS_KEY_LEN 24             /* base64 of 16 random bytes */
#define WS_ACCEPT_LEN 28          /* base64 of a SHA-1 */
#define WS_CONTROL_MAX 125        /* RFC 6455 5.5 */

enum ws_opcode {
	WS_OP_CONT = 0x0, WS_OP_TEXT = 0x1, WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8, WS_OP_PING = 0x9, WS_OP_PONG = 0xA,
};

/* --- handshake --------------------------------------------------------- */

/* The Sec-WebSocket-Key for 16 random bytes: out gets WS_KEY_LEN chars + NUL. */
void ws_key(char out[WS_KEY_LEN + 1], const uint8_t nonce[16]);
/* The Sec-WebSocket-Accept a server must send for key (RFC 6455 4.2.2). */
void ws_accept(char out[WS_ACCEPT_LEN + 1], const char *key);
/*
 * The GET upgrade request, NUL-terminated. host is the Host header value
 * (with ":port" when not the scheme's default), path starts with '/'. No
 * extension or subprotocol is offered. Returns the length (without the
 * NUL), or 0 when cap is too small (length + 1 is needed), host is empty,
 * path does not start with '/', or host, path or key hold anything but
 * printable ASCII without space (0x21-0x7e).
 */
size_t ws_request(char *out, size_t cap, const char *host, const char *path, const char *key);

enum ws_hs_result {
	WS_HS_MORE,        /* need more bytes */
	WS_HS_OK,          /* 101 with a valid upgrade; *used ends at the blank line */
	WS_HS_STATUS,      /* not "HTTP/1.1 101" */
	WS_HS_UPGRADE,     /* Upgrade is not websocket */
	WS_HS_CONNECTION,  /* Connection lacks the upgrade token */
	WS_HS_ACCEPT,      /* Sec-WebSocket-Accept missing or wrong */
	WS_HS_EXTENSION,   /* an extension or subprotocol we did not offer */
	WS_HS_TOO_LONG,    /* header block over WS_HANDSHAKE_MAX */
	WS_HS_MALFORMED,   /* not HTTP: bad status line, header line, NUL, bare CR */
};

struct ws_hs {
	char expect[WS_ACCEPT_LEN + 1];
	char line[1024];
	size_t line_len, total;
	int status;   /* the HTTP status code once the status line is read */
	unsigned seen; /* bit set: status line read, headers found */
	enum ws_hs_result res;
};

void ws_hs_init(struct ws_hs *h, const char *key);
/*
 * Feed response bytes. Returns WS_HS_MORE until the blank line that ends
 * the headers, then the verdict. *used is how many bytes of p belong to
 * the handshake: bytes after it are the first websocket frames.
 * A failure is returned as soon as it is known, whatever follows: at the
 * end of the status line for a status other than 101 (h->status holds
 * it), at the end of the header line for a wrong Upgrade or
 * Sec-WebSocket-Accept (or a second one) and for any
 * Sec-WebSocket-Extensions or -Protocol, at the offending byte for
 * TOO_LONG and MALFORMED; a missing Upgrade, Connection token or Accept
 * at the blank line. *used then counts the bytes up to that point.
 * Lines end in CRLF or a bare LF; a line holds at most sizeof(h->line) - 1
 * bytes before its line ending; the block, blank line included, at most
 * WS_HANDSHAKE_MAX. The verdict sticks: later calls return it with
 * *used == 0. No allocation.
 */
enum ws_hs_result ws_hs_feed(struct ws_hs *h, const uint8_t *p, size_t n, size_t *used);
const char *ws_hs_result_name(enum ws_hs_result r);

/* --- frames ------------------------------------------------------------ */

/*
 * One client frame, masked with mask (RFC 6455 5.3: a client MUST mask).
 * Returns the length written, or 0 when cap is too small, op is not one
 * of enum ws_opcode, or a control frame is not fin or its payload is over
 * WS_CONTROL_MAX bytes. payload may be NULL when len is 0; out and
 * payload must not overlap.
 */
size_t ws_frame(uint8_t *out, size_t cap, enum ws_opcode op, bool fin,
                const uint8_t *payload, size_t len, const uint8_t mask[4]);
/* Bytes ws_frame needs for a payload of len; 0 when that overflows. */
size_t ws_frame_size(size_t len);

enum ws_event {
	WS_EV_MORE,    /* consumed everything, no event yet */
	WS_EV_TEXT,    /* a whole text message (valid UTF-8) */
	WS_EV_BINARY,  /* a whole binary message */
	WS_EV_PING,    /* answer with a pong carrying the same payload */
	WS_EV_PONG,
	WS_EV_CLOSE,   /* the peer's close; w->close_code tells the code */
	WS_EV_ERROR,   /* protocol error; ws_error tells which; sticky */
};

enum ws_error {
	WS_E_NONE,
	WS_E_RSV,          /* RSV1-3 set with no extension negotiated */
	WS_E_OPCODE,       /* reserved opcode */
	WS_E_MASKED,       /* a server frame was masked (5.1) */
	WS_E_CONTROL,      /* control frame fragmented or over 125 bytes */
	WS_E_CONTINUATION, /* continuation with no message started */
	WS_E_INTERLEAVED,  /* new data frame inside a fragmented message */
	WS_E_LENGTH,       /* non-minimal length encoding or 64-bit MSB set */
	WS_E_TOO_BIG,      /* message over WS_MAX_MESSAGE */
	WS_E_UTF8,         /* text message or close reason not UTF-8 */
	WS_E_CLOSE,        /* close payload of 1 byte or an invalid code */
	WS_E_NOMEM,
};

struct ws_parser {
	/* private: the frame being read */
	int state;
	uint8_t hdr[14];
	size_t hdr_len, hdr_need;
	uint8_t op;
	bool fin;
	uint64_t remain;
	/* the message being assembled (data frames) */
	uint8_t msg_op;  /* 0 when none in progress */
	uint8_t *msg;    /* malloc'd, grown up to WS_MAX_MESSAGE */
	size_t msg_len, msg_cap;
	/* realloc, set by ws_parser_init; tests swap it to provoke WS_E_NOMEM */
	void *(*grow)(void *, size_t);
	/* the control frame being assembled */
	uint8_t ctrl[WS_CONTROL_MAX];
	size_t ctrl_len;
	/* results */
	enum ws_error err;
	int close_code; /* -1 none given; set by each close frame */
	const uint8_t *data;
	size_t data_len;
};

void ws_parser_init(struct ws_parser *w);
void ws_parser_free(struct ws_parser *w);
/*
 * Consume server bytes. Returns as soon as an event is complete (*used
 * tells how far it read) or WS_EV_MORE with *used == n. After TEXT, BINARY,
 * PING, PONG and CLOSE the payload is w->data/w->data_len, valid until
 * the next call (never NULL, even when empty). For CLOSE, data is the
 * reason only and close_code the code (-1 for an empty close payload).
 * Control frames are returned between the fragments of a message.
 * Each check is made at the byte that completes what it looks at (a
 * header announcing a message over WS_MAX_MESSAGE fails at once), so
 * every split of the stream gives the same events. WS_EV_ERROR: w->err
 * tells why, *used is where it was detected; it sticks, later calls
 * return WS_EV_ERROR with *used == 0. The message buffer (malloc) grows
 * geometrically up to WS_MAX_MESSAGE; ws_parser_free releases it.
 */
enum ws_event ws_parse(struct ws_parser *w, const uint8_t *p, size_t n, size_t *used);
const char *ws_error_name(enum ws_error e);

#endif
