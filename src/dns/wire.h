/*
 * dns_wire: the DNS reader and writer (RFC 1035 4.1).
 *
 * Reader: struct rd over (pointer, length). Every primitive returns early
 * once err is set and checks `len - off < need`, so a compound read tests
 * err once at the end. Reading past the end or a bad name sets err.
 *
 * Compression rule (the one we enforce): a pointer must point strictly
 * before the start of the label run that contains it, and never into the
 * 12-byte header. Each jump therefore lands strictly lower than the last,
 * so loops and self-pointers are impossible and decoding is bounded by the
 * packet length with no jump counter.
 *
 * Writer: struct wr over a fixed buffer. A write that does not fit sets
 * err and writes nothing; callers take a mark before a record and roll
 * back to it on overflow, so no record is ever half written. Names are
 * compressed against the names already written.
 */
#ifndef SEEDD_DNS_WIRE_H
#define SEEDD_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dname.h"

#define DNS_HDR 12

enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6,
	DNS_T_PTR = 12, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28,
	DNS_T_OPT = 41, DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_ANY = 255,
};
enum dns_class { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_ANY = 255 };
enum dns_rcode {
	DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3, DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5,
	DNS_R_BADVERS = 16, /* extended: upper bits travel in OPT */
	DNS_R_BADCOOKIE = 23, /* RFC 7873, extended too */
};

/* Header flag bits (second 16-bit word). */
#define DNS_F_QR 0x8000
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_AD 0x0020
#define DNS_F_CD 0x0010
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)

enum rd_err { RD_OK = 0, RD_SHORT, RD_BADNAME };

struct rd {
	const uint8_t *p;
	size_t len, off;
	int err;
};

void rd_init(struct rd *r, const uint8_t *p, size_t len);
uint8_t rd_u8(struct rd *r);
uint16_t rd_u16(struct rd *r);
uint32_t rd_u32(struct rd *r);
void rd_skip(struct rd *r, size_t n);
/* Name at the current offset into out (wire form, case as sent); returns its wire length. */
size_t rd_name(struct rd *r, uint8_t out[DNAME_MAX]);

#define WR_NAMES 32

struct wr {
	uint8_t *p;
	size_t cap, off;
	int err;
	int nnames;
	uint16_t names[WR_NAMES]; /* offsets of label runs available as pointer targets */
};

struct wr_mark {
	size_t off;
	int nnames;
};

void wr_init(struct wr *w, uint8_t *p, size_t cap);
void wr_u8(struct wr *w, uint8_t v);
void wr_u16(struct wr *w, uint16_t v);
void wr_u32(struct wr *w, uint32_t v);
void wr_bytes(struct wr *w, const void *b, size_t n);
/* Register the uncompressed name written at off as a compression target. */
void wr_name_known(struct wr *w, size_t off);
/* Write a lowercase wire name, compressed against earlier names. */
void wr_name(struct wr *w, const uint8_t *name);
/* Write a pointer to a name at off. */
void wr_ptr(struct wr *w, size_t off);
struct wr_mark wr_mark(const struct wr *w);
/* Back to the mark, clearing err: the record after the mark is gone whole. */
void wr_rollback(struct wr *w, struct wr_mark m);
void wr_put_u16(struct wr *w, size_t at, uint16_t v);

#endif
