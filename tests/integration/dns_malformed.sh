#!/usr/bin/env bash
# SPEC 4: QDCOUNT != 1, bad labels, compression loops and truncated input get
# FORMERR when the header can be read; packets under 12 bytes and packets
# with QR=1 get no reply at all. Hand-made packets over UDP and TCP, v4 and v6;
# after each silent case a normal query proves the server is still there.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"

D=$(new_dir); P=$(free_port)
write_soa "$D" 300
add_rows "$D" "$ZONE,47.74.45.239" "host.$ZONE,93.184.216.34" "a.b.$ZONE,1.1.1.1"
start "$D" P

# name kind hex: kind is formerr, nxdomain (a valid control) or silent.
CASES=$(PYTHONPATH="$HERE" "$PY" - <<'EOF'
import struct
from dnsraw import header, encode_name, build_query
tc = struct.pack(">HH", 1, 1)          # type A, class IN
q = encode_name("seed.example.com") + tc
h = header()
big = lambda n: b"".join(bytes([len(l)]) + l.encode() for l in n)
apex = encode_name("seed.example.com")
cases = [
    ("qdcount-0", "formerr", header(qd=0)),
    ("qdcount-0-with-question-bytes", "formerr", header(qd=0) + q),
    ("qdcount-2", "formerr", header(qd=2) + q + encode_name("host.seed.example.com") + tc),
    ("qdcount-2-only-one-present", "formerr", header(qd=2) + q),
    ("qdcount-65535", "formerr", header(qd=65535) + q),
    ("header-only", "formerr", h),
    ("name-cut-in-label", "formerr", h + b"\x04seed\x07exam"),
    ("name-without-root", "formerr", h + b"\x04seed\x07example\x03com"),
    ("no-qtype", "formerr", h + apex),
    ("half-qclass", "formerr", h + apex + b"\x00\x01\x00"),
    ("pointer-to-itself", "formerr", h + b"\xc0\x0c" + tc),
    ("pointer-loop-label", "formerr", h + b"\x01a\xc0\x0c" + tc),
    ("pointer-loop-two-pointers", "formerr", h + b"\xc0\x0e\xc0\x0c" + tc),
    ("pointer-past-end", "formerr", h + b"\xc0\xff" + tc),
    ("pointer-cut", "formerr", h + b"\x01a\xc0"),
    ("label-64-bytes", "formerr", h + b"\x40" + b"a" * 64 + apex + tc),
    ("label-type-0x80", "formerr", h + b"\x81" + b"a" + apex + tc),
    ("name-256-bytes", "formerr", h + big(["a" * 63] * 3 + ["b" * 45]) + apex + tc),
    ("name-over-300-bytes", "formerr", h + big(["a" * 63] * 5) + apex + tc),
    # Controls: the limits themselves are valid.
    ("label-63-bytes", "nxdomain", h + big(["a" * 63]) + apex + tc),
    ("name-255-bytes", "nxdomain", h + big(["a" * 63] * 3 + ["b" * 44]) + apex + tc),
    # One label "a.b" (a dot inside a label) is not the name a.b.seed.example.com.
    ("label-with-dot", "nxdomain", h + b"\x03a.b" + apex + tc),
    ("label-with-nul-byte", "nxdomain", h + b"\x05host\x00" + apex + tc),
    # Records after the question are skipped; cut ones are truncated input.
    ("authority-rr-cut", "formerr", header(ns=1) + q + apex + struct.pack(">HHIH", 6, 1, 0, 22) + b"\x00" * 10),
    ("additional-missing", "formerr", header(ar=1) + q),
    ("ixfr-with-soa-authority", "refused", header(ns=1) + apex + struct.pack(">HH", 251, 1)
        + apex + struct.pack(">HHIH", 6, 1, 0, 22) + b"\x00\x00" + b"\x00" * 20),
    # No reply at all.
    ("empty-packet", "silent", b""),
    ("1-byte", "silent", b"\x12"),
    ("11-bytes", "silent", h[:11]),
    ("qr1-response", "silent", build_query("seed.example.com", qr=1)),
    ("qr1-formerr-shape", "silent", header(qr=1, qd=0)),
    ("qr1-notimp-shape", "silent", build_query("seed.example.com", qr=1, opcode=4)),
    ("qr1-refused-shape", "silent", build_query("example.org", qr=1)),
]
for name, kind, pkt in cases:
    print(name, kind, pkt.hex() or "-")
EOF
)

for tp in $TRANSPORTS; do
	g=$(tag "$tp")
	bg=""
	while read -r name kind hex; do
		[ "$hex" = - ] && hex=
		case $kind in
		formerr)
			r=$(rs "$tp" "$P" "$hex")
			t "$name-formerr-$g" "sent '$hex': want FORMERR qr=1 id=4660 rd=1 ra=0 an=0, got $(brief "$r")" \
				eq "$(hdr "$r" rcode) $(hdr "$r" qr) $(hdr "$r" id) $(hdr "$r" rd) $(hdr "$r" ra) $(hdr "$r" an)" "FORMERR 1 4660 1 0 0"
			;;
		nxdomain)
			r=$(rs "$tp" "$P" "$hex")
			t "$name-valid-$g" "sent '$hex' (at the limit, valid): want NXDOMAIN, got $(brief "$r")" \
				eq "$(hdr "$r" rcode) $(hdr "$r" aa)" "NXDOMAIN 1"
			;;
		refused)
			r=$(rs "$tp" "$P" "$hex")
			t "$name-refused-$g" "sent '$hex': want REFUSED id=4660, got $(brief "$r")" \
				eq "$(hdr "$r" rcode) $(hdr "$r" id)" "REFUSED 4660"
			;;
		silent)
			# In parallel: each waits 0.5 s for a reply that must not come.
			rs "$tp" "$P" "$hex" 0.5 >"$TMPBASE/silent.$name.$g" &
			bg="$bg $!"
			;;
		esac
	done <<<"$CASES"
	wait $bg
	while read -r name kind hex; do
		[ "$kind" = silent ] || continue
		r=$(cat "$TMPBASE/silent.$name.$g")
		t "$name-no-reply-$g" "sent '$hex': want no reply, got $(brief "$r")" eq "$r" NOREPLY
	done <<<"$CASES"
	# Still serving after all of that.
	r=$(rq "$tp" "$P" host.$ZONE A)
	t "alive-after-malformed-$g" "host.$ZONE A: want 93.184.216.34, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(rdatas "$r" AN A)" "NOERROR 93.184.216.34"
done

# A short packet over TCP and then a good query on the same connection:
# the short one gets nothing (the connection may be closed), and the
# server keeps serving new connections.
o=$(PYTHONPATH="$HERE" "$PY" - "$P" <<'EOF'
import socket, struct, sys
from dnsraw import tcp_connect, tcp_frame, tcp_read_msg, build_query, parse
port = int(sys.argv[1])
s = tcp_connect("127.0.0.1", port, 0.5)
s.sendall(tcp_frame(b"\x12\x34\x00"))
m = tcp_read_msg(s)
print("short:", "NOREPLY" if m is None else m.hex())
s.close()
m = None
s = tcp_connect("127.0.0.1", port, 2)
s.sendall(tcp_frame(build_query("host.seed.example.com", qid=99)))
m = tcp_read_msg(s)
print("next:", "NOREPLY" if m is None else "%d %d" % (parse(m)["id"], parse(m)["an"]))
EOF
)
t "tcp-short-message-silent" "output: $o" has "$o" "^short: NOREPLY$"
t "tcp-after-short-message" "output: $o" has "$o" "^next: 99 1$"
stop_all
