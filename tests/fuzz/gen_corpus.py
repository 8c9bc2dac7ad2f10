#!/usr/bin/env python3
"""Write the crafted seed inputs of the fuzz targets (deterministic).

    tests/fuzz/gen_corpus.py [CORPUS_DIR]     (default tests/fuzz/corpus)

fuzz_dns:      queries for each kind of name in the fuzz zone and the
               attack packets of STYLE.md 6 (pointer loops, self-pointers,
               pointers past the end or into the header, 64-byte labels,
               256-byte names, truncated headers, QDCOUNT 0 and 2, two OPT
               records, OPT with a non-root owner, ...). Real dig/kdig
               queries come from capture_queries.py.
fuzz_zonefile: zone.csv files: SPEC 3's example, the prototype's file, bad
               rows, CRLF, IPv6, CNAME conflicts, duplicates.
fuzz_config:   argument vectors, NUL-separated (argv[0] is added by the target).
fuzz_wire:     names with and without compression.
fuzz_nodeset:  op programs (see fuzz_nodeset.c).
fuzz_changelog: change logs (see fuzz_changelog.c): two good batches, a
               torn tail, a wrong CRC, a stale header, NAME.log.next after
               a compaction died, appends and compactions.
"""
import os
import struct
import sys
import zlib

APEX = "seed.example.com"


def name(text):
    if text in (".", ""):
        return b"\0"
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def opt(size=1232, ext=0, version=0, flags=0, options=b"", owner=b"\0"):
    return owner + struct.pack("!HHBBHH", 41, size, ext, version, flags, len(options)) + options


def query(qname, qtype=1, qclass=1, edns=None, flags=0x0100, qid=0x1234):
    ar = 1 if edns is not None else 0
    q = header(qid, flags, 1, 0, 0, ar) + name(qname) + struct.pack("!HH", qtype, qclass)
    return q + (edns if edns is not None else b"")


def siphash24(key, data):
    """SipHash-2-4 (for seeds with valid server cookies); checked below against RFC 9018 A.1."""
    M = (1 << 64) - 1
    rotl = lambda x, b: ((x << b) | (x >> (64 - b))) & M
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rnd():
        v[0] = (v[0] + v[1]) & M; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & M; v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & M; v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & M; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32)

    whole = len(data) & ~7
    for i in range(0, whole, 8):
        m = struct.unpack("<Q", data[i:i + 8])[0]
        v[3] ^= m; rnd(); rnd(); v[0] ^= m
    last = data[whole:] + bytes(7 - len(data) % 8) + bytes([len(data) & 0xff])
    m = struct.unpack("<Q", last)[0]
    v[3] ^= m; rnd(); rnd(); v[0] ^= m
    v[2] ^= 0xff
    for _ in range(4):
        rnd()
    return struct.pack("<Q", v[0] ^ v[1] ^ v[2] ^ v[3])


def server_cookie(secret, cc, ip, ts):
    head = bytes([1, 0, 0, 0]) + struct.pack("!I", ts)
    return head + siphash24(secret, cc + head + ip)


assert server_cookie(bytes.fromhex("e5e973e5a6b2a43f48e7dc849e37bfcf"), bytes.fromhex("2464c4abcf10c957"),
                     bytes([198, 51, 100, 100]), 1559731985).hex() == "010000005cf79f111f8130c3eee29480"

# What fuzz_dns.c uses: its secrets (current, previous), clock and client addresses.
FUZZ_SECRET_PREV = b"cookie" + bytes(10)
FUZZ_SECRET_CUR = b"ookie" + bytes(11)
FUZZ_NOW = 1800000000
FUZZ_IP4 = bytes([192, 0, 2, 1])
FUZZ_IP6 = bytes.fromhex("20010db8000000000000000000000001")


def cookie_opt(data):
    return opt(options=struct.pack("!HH", 10, len(data)) + data)


def cookie_seeds():
    s = {}
    cc = bytes.fromhex("0123456789abcdef")
    # fuzz_dns picks the client from the low bit of the first byte (the ID's high byte).
    v4 = lambda q: bytes([q[0] & 0xfe]) + q[1:]
    v6 = lambda q: bytes([q[0] | 1]) + q[1:]
    s["cookie_client_only"] = v4(query(APEX, 1, edns=cookie_opt(cc)))
    good = cc + server_cookie(FUZZ_SECRET_CUR, cc, FUZZ_IP4, FUZZ_NOW - 100)
    s["cookie_valid"] = v4(query(APEX, 1, edns=cookie_opt(good)))
    old = cc + server_cookie(FUZZ_SECRET_CUR, cc, FUZZ_IP4, FUZZ_NOW - 2000)
    s["cookie_valid_renewed"] = v4(query(APEX, 1, edns=cookie_opt(old)))
    prev = cc + server_cookie(FUZZ_SECRET_PREV, cc, FUZZ_IP6, FUZZ_NOW - 10)
    s["cookie_valid_prev_secret_v6"] = v6(query(APEX, 28, edns=cookie_opt(prev)))
    s["cookie_expired"] = v4(query(APEX, 1, edns=cookie_opt(cc + server_cookie(FUZZ_SECRET_CUR, cc, FUZZ_IP4, FUZZ_NOW - 3601))))
    s["cookie_bad_hash"] = v4(query(APEX, 1, edns=cookie_opt(good[:-1] + bytes([good[-1] ^ 1]))))
    s["cookie_other_server_8"] = v4(query(APEX, 1, edns=cookie_opt(cc + bytes(8))))
    s["cookie_max_40"] = v4(query(APEX, 1, edns=cookie_opt(cc + bytes(32))))
    for n in (0, 7, 9, 15, 41):
        s["cookie_malformed_%d" % n] = v4(query(APEX, 1, edns=cookie_opt(bytes(range(n)))))
    s["cookie_twice"] = v4(query(APEX, 1, edns=opt(options=(struct.pack("!HH", 10, 8) + cc) * 2)))
    s["cookie_probe_qd0"] = v4(header(qd=0, ar=1) + cookie_opt(good))
    s["cookie_probe_qd0_client"] = v4(header(qd=0, ar=1) + cookie_opt(cc))
    s["cookie_probe_qd0_no_opt"] = header(qd=0)
    s["cookie_nxdomain"] = v4(query("nothere.x." + APEX, 1, edns=cookie_opt(good)))
    s["cookie_badvers"] = v4(query(APEX, 1, edns=opt(version=1, options=struct.pack("!HH", 10, 24) + good)))
    return s


def dns_seeds():
    s = {}
    e = opt()
    # Every kind of name in the fuzz zone (fuzz_dns.c), with and without EDNS.
    for label, qname, qtype in [
        ("apex_a", APEX, 1), ("apex_aaaa", APEX, 28), ("apex_any", APEX, 255),
        ("apex_soa", APEX, 6), ("apex_ns_glue", APEX, 2), ("apex_cname", APEX, 5),
        ("apex_mx_nodata", APEX, 15), ("www_cname_to_apex", "www." + APEX, 1),
        ("chain_a", "a." + APEX, 1), ("chain_aaaa", "a." + APEX, 28),
        ("chain_cname", "a." + APEX, 5), ("loop", "loop1." + APEX, 1),
        ("ext_cname", "ext." + APEX, 1), ("dangling_cname", "dangling." + APEX, 1),
        ("cname_to_wildcard", "wild." + APEX, 28), ("ent_nodata", "y.z." + APEX, 1),
        ("ent_deep", "z." + APEX, 255), ("deep_a", "x.y.z." + APEX, 1),
        ("big_tc", "big." + APEX, 1), ("big_any", "big." + APEX, 255),
        ("v6only_a_nodata", "v6only." + APEX, 1), ("long_cname", "long." + APEX, 1),
        ("wildcard_a", "rnd123." + APEX, 1), ("wildcard_soa", "rnd123." + APEX, 6),
        ("nxdomain_two_labels", "a.b.nothere." + APEX, 1), ("ns_a_glue", "ns." + APEX, 1),
        ("out_of_zone", "example.org", 1), ("parent_zone", "example.com", 1),
        ("root", ".", 2), ("axfr", APEX, 252), ("ixfr", APEX, 251),
    ]:
        s["q_" + label] = query(qname, qtype)
        s["q_" + label + "_edns"] = query(qname, qtype, edns=e)
    s["q_big_tc_edns4096"] = query("big." + APEX, 1, edns=opt(4096))
    s["q_apex_a_edns512"] = query(APEX, 1, edns=opt(512))
    s["q_apex_a_edns0size"] = query(APEX, 1, edns=opt(0))
    s["q_apex_a_edns65535_do"] = query(APEX, 1, edns=opt(65535, flags=0x8000))
    s["q_apex_a_edns_v1"] = query(APEX, 1, edns=opt(version=1))
    s["q_apex_a_edns_extrcode"] = query(APEX, 1, edns=opt(ext=0xff))
    s["q_apex_a_edns_cookie"] = query(APEX, 1, edns=opt(options=struct.pack("!HH", 10, 8) + b"\x01" * 8))
    s["q_apex_a_edns_two_options"] = query(APEX, 1, edns=opt(options=struct.pack("!HH", 3, 0) + struct.pack("!HH", 65001, 2) + b"ab"))
    s["q_class_ch"] = query("version.bind", 16, 3)
    s["q_class_any"] = query(APEX, 1, 255)
    s["q_class_none"] = query(APEX, 1, 254)
    s["q_opcode_notify"] = query(APEX, 6, flags=0x2000)
    s["q_opcode_update"] = query(APEX, 6, flags=0x2800)
    s["q_opcode_15"] = query(APEX, 1, flags=0x7900)
    s["q_qr_set"] = query(APEX, 1, flags=0x8100)
    s["q_all_flags_but_qr"] = query(APEX, 1, flags=0x07ff)
    s["q_mixed_case"] = query("SeEd.ExAmPlE.cOm", 1)
    s["q_mixed_case_chain"] = query("A.SEED.EXAMPLE.COM", 1)

    q = header() + name(APEX) + struct.pack("!HH", 1, 1)
    s["a_truncated_header"] = header()[:11]
    s["a_header_only"] = header()
    s["a_header_only_qd0"] = header(qd=0)
    s["a_qdcount0"] = header(qd=0) + q[12:]
    s["a_qdcount2"] = header(qd=2) + q[12:] + q[12:]
    s["a_question_no_type"] = header() + name(APEX)
    s["a_question_half_type"] = header() + name(APEX) + b"\0"
    s["a_name_no_root"] = header() + b"\x04seed\x07example"
    s["a_label_past_end"] = header() + b"\x3fabc"
    # Compression: loops, self-pointers, forward and past-the-end pointers.
    s["a_ptr_self"] = header() + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    s["a_ptr_loop"] = header() + b"\x01a\xc0\x0e" + struct.pack("!HH", 1, 1)
    s["a_ptr_two_loop"] = header(an=1) + name(APEX) + struct.pack("!HH", 1, 1) + b"\xc0\x24\xc0\x22" + struct.pack("!HHIH", 1, 1, 0, 0)
    s["a_ptr_forward"] = header() + b"\xc0\x10\x00\x00" + name(APEX) + struct.pack("!HH", 1, 1)
    s["a_ptr_past_end"] = header() + b"\xc3\xff" + struct.pack("!HH", 1, 1)
    s["a_ptr_into_header"] = header() + b"\x01a\xc0\x02" + struct.pack("!HH", 1, 1)
    s["a_ptr_truncated"] = header() + b"\x01a\xc0"
    s["a_ptr_backward_ok_in_answer"] = header(an=1) + q[12:] + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x01\x02\x03\x04"
    s["a_ptr_chain_in_additional"] = (header(ar=2) + name(APEX) + struct.pack("!HH", 1, 1)
                                      + b"\x01x\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 0)
                                      + b"\x01y\xc0\x22" + struct.pack("!HHIH", 1, 1, 0, 0))
    s["a_label_type_0x40"] = header() + b"\x41" + b"a" * 1 + b"\0" + struct.pack("!HH", 1, 1)
    s["a_label_type_0x80"] = header() + b"\x80\x00" + struct.pack("!HH", 1, 1)
    s["a_label_64"] = header() + b"\x40" + b"a" * 64 + name(APEX) + struct.pack("!HH", 1, 1)
    label63 = b"\x3f" + b"a" * 63
    s["a_name_255"] = header() + label63 * 3 + b"\x2c" + b"b" * 44 + name(APEX) + struct.pack("!HH", 1, 1)
    s["a_name_256"] = header() + label63 * 3 + b"\x2d" + b"b" * 45 + name(APEX) + struct.pack("!HH", 1, 1)
    s["a_name_256_via_ptr"] = (header(an=1) + label63 * 3 + b"\x2c" + b"b" * 44 + name(APEX) + struct.pack("!HH", 1, 1)
                               + b"\x01c\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 0))
    # EDNS abuse.
    s["a_two_opt"] = header(ar=2) + q[12:] + opt() + opt()
    s["a_opt_nonroot_owner"] = header(ar=1) + q[12:] + opt(owner=name("x"))
    s["a_opt_ptr_owner"] = header(ar=1) + q[12:] + opt(owner=b"\xc0\x0c")
    s["a_opt_option_overruns"] = header(ar=1) + q[12:] + opt(options=struct.pack("!HH", 10, 200) + b"\0" * 8)
    s["a_opt_option_half"] = header(ar=1) + q[12:] + opt(options=b"\x00\x0a\x00")
    s["a_opt_rdlen_past_end"] = header(ar=1) + q[12:] + b"\0" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 50)
    s["a_opt_in_answer"] = header(an=1) + q[12:] + opt()
    s["a_opt_after_other_rr"] = header(ar=2) + q[12:] + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + b"\1\2\3\4" + opt()
    s["a_arcount_ffff"] = header(ar=0xFFFF) + q[12:] + opt()
    s["a_ancount_ffff"] = header(an=0xFFFF) + q[12:]
    s["a_rr_rdlen_past_end"] = header(ns=1) + q[12:] + b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 0, 300)
    s["a_trailing_garbage"] = q + b"\xde\xad\xbe\xef"
    s["a_tsig_like"] = header(ar=1) + q[12:] + name("key.example") + struct.pack("!HHIH", 250, 255, 0, 6) + b"\0" * 6
    return s


ZONES = {
    "spec_example.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400\n"
        "seed.example.com,47.74.45.239\n"
        "seed.example.com,2001:db8::7\n"
        "www.seed.example.com,seed.example.com\n",
    "prototype_infnote.csv":
        "primaryserver.infnote.com,test.admin.infnote.com 2016071114 28800 7200 604800 86400\n"
        "infnote.com,47.74.45.239\n"
        "infnote.com,47.74.45.236\n"
        "infnote.com,47.74.45.237\n"
        "infnote.com,47.74.45.238\n",
    "prototype_form.csv":
        "primaryserver.seed.example.com,test.admin.seed.example.com 2016071114 28800 7200 604800 86400\n"
        "seed.example.com,47.74.45.239\n"
        "seed.example.com,47.74.45.236\n"
        "seed.example.com,47.74.45.237\n"
        "seed.example.com,47.74.45.238\n",
    "test_zone.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400\n"
        "seed.example.com,47.74.45.239\n"
        "seed.example.com,47.74.45.236\n"
        "seed.example.com,8.8.8.8\n"
        "seed.example.com,2001:4860::7\n"
        "ns.seed.example.com,1.2.3.4\n"
        "www.seed.example.com,seed.example.com\n"
        "a.b.seed.example.com,1.1.1.1\n",
    "soa_only.csv": "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\n",
    "soa_no_newline.csv": "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5",
    "soa_tabs_spaces.csv": "  ns.seed.example.com ,\thostmaster.seed.example.com\t4294967295  2147483647 0 1 2\t\n",
    "soa_bad_overflow.csv": "ns.seed.example.com,hostmaster.seed.example.com 4294967296 28800 7200 604800 86400\nseed.example.com,1.2.3.4\n",
    "soa_bad_timer31.csv": "ns.seed.example.com,hostmaster.seed.example.com 1 2147483648 7200 604800 86400\n",
    "soa_bad_seven_fields.csv": "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5 6\n",
    "soa_bad_missing.csv": "seed.example.com,47.74.45.239\nseed.example.com,47.74.45.236\n",
    "soa_root_names.csv": ".,. 0 0 0 0 0\nwww.seed.example.com,.\n",
    "soa_empty_mname.csv": ",hostmaster 7 7 7 7 7\nx.seed.example.com,\n",
    "crlf.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400\r\n"
        "seed.example.com,47.74.45.239\r\n"
        "www.seed.example.com,seed.example.com\r\n"
        "\r\n"
        "v6.seed.example.com,2001:db8::1\r\n",
    "ipv6.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400\n"
        "seed.example.com,2001:4860:4860::8888\n"
        "seed.example.com,2a00:1450:4001:82a::200e\n"
        "seed.example.com,::ffff:47.74.45.239\n"
        "seed.example.com,fe80::1\n"
        "seed.example.com,ff02::1\n"
        "seed.example.com,::\n"
        "v6.seed.example.com,2001:db8:0:0:0:0:0:1\n"
        "v6.seed.example.com,2001:DB8::2\n"
        "v4v6.seed.example.com,1.2.3.4\n"
        "v4v6.seed.example.com,::1.2.3.4\n",
    "cname_conflicts.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400\n"
        "www.seed.example.com,seed.example.com\n"
        "www.seed.example.com,1.2.3.4\n"
        "www.seed.example.com,other.seed.example.com\n"
        "addr.seed.example.com,1.2.3.4\n"
        "addr.seed.example.com,target.example.net\n"
        "dup.seed.example.com,5.6.7.8\n"
        "dup.seed.example.com,5.6.7.8\n"
        "DUP.Seed.Example.Com.,5.6.7.8\n"
        "seed.example.com,www.seed.example.com\n"
        "loop1.seed.example.com,loop2.seed.example.com\n"
        "loop2.seed.example.com,loop1.seed.example.com\n",
    "bad_rows.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400\n"
        "seed.example.com\n"
        "seed.example.com,1.2.3.4,extra\n"
        "seed.example.com,0.0.0.0\n"
        "seed.example.com,224.0.0.1\n"
        "seed.example.com,255.255.255.255\n"
        "seed.example.com,1.2.3.256\n"
        "bad name.seed.example.com,1.2.3.4\n"
        "under_score.seed.example.com,1.2.3.4\n"
        "-dash.seed.example.com,1.2.3.4\n"
        "example.org,1.2.3.4\n"
        "xseed.example.com,1.2.3.4\n"
        "a..seed.example.com,1.2.3.4\n"
        "x.seed.example.com,bad!target\n"
        "x.seed.example.com,\n"
        ",1.2.3.4\n"
        ",\n"
        "   \t  \n"
        "" + "l" * 64 + ".seed.example.com,1.2.3.4\n"
        "y.seed.example.com," + "t" * 64 + ".example\n"
        "ok.seed.example.com,9.9.9.9\n",
    "many_fields.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\n"
        + ",".join(["f"] * 49) + "\n"
        + "ok.seed.example.com,9.9.9.9\n",
    "long_line.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\n"
        + "x" * 4100 + ",1.2.3.4\n"
        + "ok.seed.example.com,9.9.9.9\n",
    "names_255.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\n"
        + ".".join(["a" * 63] * 3 + ["b" * 44]) + ".seed.example.com,1.2.3.4\n"
        + ".".join(["a" * 63] * 3 + ["b" * 45]) + ".seed.example.com,1.2.3.4\n"
        + "c.seed.example.com," + ".".join(["a" * 63] * 3 + ["b" * 61]) + "\n",
    "many_nodes.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\n"
        + "".join("seed.example.com,%d.%d.%d.%d\n" % (11 + i % 40, i % 7, i, 1 + i % 250) for i in range(120)),
    "with_nul.csv": "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\nseed.example.com,1.2.3.4\0\n",
    "ent_tree.csv":
        "ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\n"
        "a.b.c.d.seed.example.com,1.1.1.1\n"
        "c.d.seed.example.com,2.2.2.2\n"
        "d.seed.example.com,d2.seed.example.com\n"
        "e.d.seed.example.com,3.3.3.3\n",
}


CONFIGS = {
    "minimal": ["--zone", APEX],
    "short": ["-z", APEX, "-l", "127.0.0.1:5353", "-d", "/tmp"],
    "full": ["--zone", APEX, "--listen", "0.0.0.0:5353", "--listen", "[::1]:5353",
             "--ns", "ns1." + APEX, "--ns", "ns2.example.net", "--mbox", "hostmaster@example.com",
             "--ttl", "60", "--answers", "25", "--wildcard", "--allow-private",
             "--data-dir", "/var/lib/seedd", "--snapshot-interval", "60", "--log-level", "debug"],
    "equals_form": ["--zone=" + APEX, "--listen=127.0.0.1", "--ttl=0", "--answers=1024"],
    "abbrev": ["--zo", APEX, "--wild", "--log", "warn"],
    "help": ["--help"],
    "version": ["-V"],
    "short_bundle": ["-hV"],
    "attached_short": ["-z" + APEX, "-l127.0.0.1:53"],
    "double_dash": ["--zone", APEX, "--", "extra"],
    "positional": [APEX],
    "missing_value": ["--zone"],
    "unknown_flag": ["--zone", APEX, "--frobnicate"],
    "unknown_short": ["-x"],
    "bad_ttl": ["--zone", APEX, "--ttl", "-1"],
    "bad_ttl_big": ["--zone", APEX, "--ttl", "2147483648"],
    "bad_answers": ["--zone", APEX, "--answers", "0"],
    "bad_answers_hex": ["--zone", APEX, "--answers", "0x10"],
    "bad_listen_port0": ["--zone", APEX, "--listen", "1.2.3.4:0"],
    "bad_listen_v6": ["--zone", APEX, "--listen", "[::1"],
    "listen_v6_bare": ["--zone", APEX, "--listen", "::1"],
    "many_listen": ["--zone", APEX] + sum((["-l", "127.0.0.%d" % i] for i in range(1, 18)), []),
    "many_ns": ["--zone", APEX] + sum((["--ns", "ns%d.%s" % (i, APEX)] for i in range(9)), []),
    "dup_ns": ["--zone", APEX, "--ns", "ns." + APEX, "--ns", "NS." + APEX.upper() + "."],
    "bad_mbox": ["--zone", APEX, "--mbox", "a.b@c@d"],
    "root_zone": ["--zone", "."],
    "long_zone": ["--zone", ".".join(["a" * 63] * 3 + ["b" * 61])],
    "long_zone_mbox": ["--zone", ".".join(["a" * 63] * 3 + ["b" * 61]), "--mbox", "h.example.com"],
    "empty_args": ["", "", "--zone", ""],
    "bad_loglevel": ["--zone", APEX, "--log-level", "trace"],
    "snapshot_bad": ["--zone", APEX, "--snapshot-interval", "86401"],
    "empty_datadir": ["--zone", APEX, "-d", ""],
}


def wire_seeds():
    s = {}
    q = query(APEX, 1)
    s["query"] = q
    s["answer_ptrs"] = q + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\1\2\3\4" + b"\x03www\xc0\x0c" + b"\x01a\xc0\x2e"
    s["ptr_chain"] = header() + name(APEX) + b"\xc0\x0c\xc0\x1e\xc0\x20\xc0\x22"
    s["ptr_self"] = header() + b"\xc0\x0c"
    s["ptr_loop"] = header() + b"\x01a\xc0\x0e\xc0\x0c"
    s["label64"] = header() + b"\x40" + b"a" * 64 + b"\0"
    s["name256"] = header() + (b"\x3f" + b"a" * 63) * 4 + b"\0"
    s["name255"] = header() + (b"\x3f" + b"a" * 63) * 3 + b"\x3e" + b"b" * 62 + b"\0"
    return s


def nodeset_seeds():
    s = {}
    # byte 0: family and cap; then (op, arg) pairs: op%8 0-2 add, 3-4 del, 5 has, 6 pick, 7 clear (arg < 8)
    s["v4_fill_pick"] = bytes([2 * 31]) + b"".join(bytes([0, a]) for a in range(0, 256, 7)) + bytes([6, 39, 6, 5, 6, 1])
    s["v6_fill_del"] = bytes([1 + 2 * 7]) + b"".join(bytes([1, a, 3, a ^ 1]) for a in range(0, 64, 3)) + bytes([6, 20])
    s["v4_cap1"] = bytes([0]) + bytes([0, 1, 0, 2, 3, 1, 0, 2, 5, 2, 6, 3])
    s["v4_one_prefix"] = bytes([2 * 10]) + b"".join(bytes([0, a]) for a in range(16)) + bytes([6, 8, 3, 3, 3, 4, 6, 30, 7, 0, 6, 4])
    return s


def changelog_seeds():
    # byte 0: 1 NAME.log, 2 NAME.log.next, 4 append, 8/16/24 compaction, 32*k (dev, ino) k
    base = "2049:1234567"  # the harness's (dev, ino) 0
    head = "#seedd-log base=%s\n" % base

    def batch(rows, crc=None, nbytes=None):
        c = zlib.crc32(rows.encode()) if crc is None else crc
        return rows + "#batch %d %08x\n" % (len(rows) if nbytes is None else nbytes, c)

    b1 = batch("aa,1,2\nbb,3,4\n")
    b2 = batch("cc,5,6\n")
    s = {}
    s["two_batches"] = bytes([1]) + (head + b1 + b2).encode()
    s["two_batches_tokens"] = bytes([1]) + b"#seedd-log base=@BASE@\naa,1\nbb,2\n@T@cc,3\n@T@"
    s["torn_tail"] = bytes([1]) + (head + b1 + "cc,5,6\n#batch 7 ").encode()
    s["torn_rows"] = bytes([1]) + (head + b1 + "cc,5,6\ndd,7").encode()
    s["wrong_crc"] = bytes([1]) + (head + b1 + batch("cc,5,6\n", crc=0x12345678) + b2).encode()
    s["wrong_len"] = bytes([1]) + (head + batch("cc,5,6\n", nbytes=6)).encode()
    s["lax_trailer"] = bytes([1]) + b"#seedd-log base=@BASE@\naa,1\n#batch  +@N@\t0x@C@\n"
    # changelog.c reads a trailer line of at most 39 bytes before its newline
    aa = "#batch %s %08x\n"
    s["trailer_39"] = bytes([1]) + (head + "aa\n" + aa % ("0" * 22 + "3", zlib.crc32(b"aa\n"))).encode()
    s["trailer_40"] = bytes([1]) + (head + "aa\n" + aa % ("0" * 23 + "3", zlib.crc32(b"aa\n"))).encode()
    s["empty_batch"] = bytes([1]) + (head + "#batch 0 00000000\n" + b2).encode()
    s["stale_header"] = bytes([1]) + ("#seedd-log base=2049:7654321\n" + b1).encode()
    s["stale_log_next"] = bytes([3]) + ("#seedd-log base=2049:1\n" + b1 + "@NEXT@" + head + b2).encode()
    s["next_torn_append"] = bytes([3 | 4]) + ("#seedd-log base=2049:1\n" + b1 + "@NEXT@" + head + b2 + "ee,9").encode() + b"@APPEND@ff,1\n"
    s["append_torn"] = bytes([1 | 4]) + (head + b1 + "cc,5").encode() + b"@APPEND@dd,7,8\nee,9,9\n"
    s["append_new_log"] = bytes([4 | 32]) + b"@APPEND@aa,1\n"
    s["compact_done"] = bytes([1 | 4 | 8]) + (head + b1).encode() + b"@APPEND@cc,5\n"
    s["compact_abort"] = bytes([1 | 4 | 16 | 64]) + b"#seedd-log base=@BASE@\naa\n@T@@APPEND@bb\n"
    s["compact_crash"] = bytes([1 | 4 | 24 | 96]) + b"#seedd-log base=@BASE@\naa\n@T@@APPEND@bb\n"
    return s


def write(dirpath, files):
    os.makedirs(dirpath, exist_ok=True)
    for fname, data in files.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(dirpath, fname), "wb") as f:
            f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    write(os.path.join(root, "fuzz_dns"), dns_seeds())
    write(os.path.join(root, "fuzz_dns"), cookie_seeds())
    write(os.path.join(root, "fuzz_zonefile"), ZONES)
    write(os.path.join(root, "fuzz_config"), {k: "\0".join(v) for k, v in CONFIGS.items()})
    write(os.path.join(root, "fuzz_wire"), wire_seeds())
    write(os.path.join(root, "fuzz_nodeset"), nodeset_seeds())
    write(os.path.join(root, "fuzz_changelog"), changelog_seeds())


if __name__ == "__main__":
    main()
