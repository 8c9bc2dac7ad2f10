#include <string.h>

#include "dns/wire.h"
#include "t.h"

/* Read the name at offset off of a hex packet; returns the length or 0 with err. */
static size_t
name_at(const char *hex, size_t off, uint8_t out[DNAME_MAX], int *err)
{
	static uint8_t pkt[2048];
	int n = t_hex(hex, pkt, sizeof(pkt));
	struct rd r;

	rd_init(&r, pkt, (size_t)n);
	r.off = off;
	size_t len = rd_name(&r, out);
	*err = r.err;
	return len;
}

#define HDR "000000000000000000000000"

void
test_dns_wire(void)
{
	uint8_t name[DNAME_MAX], buf[512], wire[DNAME_MAX];
	int err;
	size_t len;

	/* RFC 1035 4.1.4 example shape: F.ISI.ARPA, then FOO.F.ISI.ARPA as label + pointer. */
	const char *pkt = HDR "0146034953490441525041 00" "03464f4f c00c";
	len = name_at(pkt, 12, name, &err);
	CHECK("plain name", err == 0 && len == 12 && memcmp(name, "\1F\3ISI\4ARPA", 12) == 0);
	len = name_at(pkt, 24, name, &err);
	CHECK("backward pointer", err == 0 && len == 16 && memcmp(name, "\3FOO\1F\3ISI\4ARPA", 16) == 0);

	CHECK("pointer to itself", (name_at(HDR "c00c", 12, name, &err), err == RD_BADNAME));
	CHECK("pointer loop", (name_at(HDR "0161c00e" "0162c00c", 16, name, &err), err == RD_BADNAME));
	CHECK("pointer forward", (name_at(HDR "c00e 0161 00", 12, name, &err), err == RD_BADNAME));
	CHECK("pointer past the end", (name_at(HDR "0161 c0ff", 12, name, &err), err == RD_BADNAME));
	CHECK("pointer into header", (name_at(HDR "c002", 12, name, &err), err == RD_BADNAME));
	CHECK("half pointer", (name_at(HDR "c0", 12, name, &err), err == RD_SHORT));
	CHECK("label type 0x40", (name_at(HDR "4161 00", 12, name, &err), err == RD_BADNAME));
	CHECK("label type 0x80", (name_at(HDR "8161 00", 12, name, &err), err == RD_BADNAME));
	CHECK("label past the end", (name_at(HDR "0561626300", 12, name, &err), err == RD_SHORT));
	CHECK("missing root", (name_at(HDR "03616263", 12, name, &err), err == RD_SHORT));

	/* 64-byte label: length byte 0x40 is a reserved label type, never a length. */
	char big[600];
	strcpy(big, HDR "40");
	for (int i = 0; i < 64; i++)
		strcat(big, "61");
	strcat(big, "00");
	CHECK("64-byte label", (name_at(big, 12, name, &err), err == RD_BADNAME));
	/* 63-byte label is fine. */
	strcpy(big, HDR "3f");
	for (int i = 0; i < 63; i++)
		strcat(big, "61");
	strcat(big, "00");
	len = name_at(big, 12, name, &err);
	CHECK("63-byte label", err == 0 && len == 65);
	/* 255 bytes of wire name is the most: 4 x 63-byte labels = 256 with the root. */
	char huge[2200];
	strcpy(huge, HDR);
	for (int l = 0; l < 4; l++) {
		strcat(huge, "3f");
		for (int i = 0; i < 63; i++)
			strcat(huge, "61");
	}
	strcat(huge, "00");
	CHECK("256-byte name", (name_at(huge, 12, name, &err), err == RD_BADNAME));
	strcpy(huge, HDR);
	for (int l = 0; l < 3; l++) {
		strcat(huge, "3f");
		for (int i = 0; i < 63; i++)
			strcat(huge, "61");
	}
	strcat(huge, "3d");
	for (int i = 0; i < 61; i++)
		strcat(huge, "61");
	strcat(huge, "00");
	len = name_at(huge, 12, name, &err);
	CHECK("255-byte name", err == 0 && len == 255);
	/* 256 bytes reached through a pointer is refused just the same. */
	char viaptr[2400];
	strcpy(viaptr, HDR "3e");
	for (int i = 0; i < 62; i++)
		strcat(viaptr, "61");
	strcat(viaptr, "00");
	strcat(viaptr, "3f");
	for (int i = 0; i < 63; i++)
		strcat(viaptr, "61");
	strcat(viaptr, "3f");
	for (int i = 0; i < 63; i++)
		strcat(viaptr, "61");
	strcat(viaptr, "3f");
	for (int i = 0; i < 63; i++)
		strcat(viaptr, "61");
	strcat(viaptr, "c00c");
	CHECK("256-byte name via pointer", (name_at(viaptr, 12 + 64, name, &err), err == RD_BADNAME));

	/* Integers and the sticky error. */
	struct rd r;
	uint8_t three[3] = { 1, 2, 3 };
	rd_init(&r, three, 3);
	CHECK("u16", rd_u16(&r) == 0x0102);
	CHECK("u16 short", rd_u16(&r) == 0 && r.err == RD_SHORT);
	CHECK("sticky", rd_u8(&r) == 0 && r.err == RD_SHORT);

	/* Writer: compression against an earlier name, rollback, overflow. */
	struct wr w;
	wr_init(&w, buf, sizeof(buf));
	dname_from_text(wire, "seed.example.com");
	wr_bytes(&w, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	wr_name(&w, wire);
	dname_from_text(wire, "ns.seed.example.com");
	wr_name(&w, wire);
	CHECK("compressed suffix", w.off == 12 + 18 + 5 && memcmp(buf + 30, "\2ns\xc0\x0c", 5) == 0);
	dname_from_text(wire, "ns.seed.example.com");
	wr_name(&w, wire);
	CHECK("whole name pointer", w.off == 37 && buf[35] == 0xc0 && buf[36] == 30);
	dname_from_text(wire, "example.com");
	wr_name(&w, wire);
	CHECK("inner suffix pointer", w.off == 39 && buf[37] == 0xc0 && buf[38] == 17);
	struct wr_mark m = wr_mark(&w);
	dname_from_text(wire, "other.org");
	wr_name(&w, wire);
	wr_rollback(&w, m);
	dname_from_text(wire, "other.org");
	wr_name(&w, wire);
	CHECK("rollback forgets names", w.off == 39 + 11);

	uint8_t small[16];
	wr_init(&w, small, sizeof(small));
	wr_bytes(&w, "0123456789", 10);
	m = wr_mark(&w);
	wr_u32(&w, 1);
	wr_u32(&w, 2);
	CHECK("overflow sets err", w.err != 0 && w.off == 14);
	wr_rollback(&w, m);
	CHECK("rollback clears", w.err == 0 && w.off == 10);

	/* Text forms. */
	CHECK("text upper to lower", dname_from_text(wire, "SeEd.Example.COM.") == 18 && memcmp(wire, "\4seed\7example\3com", 18) == 0);
	CHECK("text root", dname_from_text(wire, ".") == 1);
	CHECK("text empty label", dname_from_text(wire, "a..b") < 0);
	CHECK("text bad char", dname_from_text(wire, "a b.c") < 0);
	char t[DNAME_TEXT_MAX];
	dname_from_text(wire, "www.seed.example.com");
	dname_to_text(wire, t, sizeof(t));
	CHECK("text round trip", strcmp(t, "www.seed.example.com") == 0);
	uint8_t apex[DNAME_MAX], sub[DNAME_MAX], other[DNAME_MAX];
	dname_from_text(apex, "seed.example.com");
	dname_from_text(sub, "a.b.seed.example.com");
	dname_from_text(other, "xseed.example.com");
	CHECK("in zone", dname_in_zone(sub, apex) && dname_in_zone(apex, apex));
	CHECK("not in zone by label", !dname_in_zone(other, apex));
}
