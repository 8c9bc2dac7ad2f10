#!/usr/bin/env bash
# SPEC 4, EDNS(0) (RFC 6891, RFC 3225): OPT in the reply with our payload
# size 1232, no OPT without EDNS, version > 0 -> BADVERS, unknown options
# ignored, the DO bit copied back, malformed OPT -> FORMERR.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"

D=$(new_dir); P=$(free_port)
write_soa "$D" 300
add_rows "$D" "$ZONE,47.74.45.239" "$ZONE,8.8.8.8" "host.$ZONE,93.184.216.34"
start "$D" P

for tp in $TRANSPORTS; do
	g=$(tag "$tp")
	r=$(rq "$tp" "$P" --edns 4096 $ZONE A)
	t "edns-opt-1232-$g" "EDNS 4096 query: want NOERROR an=2 and 'OPT udp=1232 ver=0 do=0 ercode=0 owner=.', got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" an) $(printf '%s\n' "$r" | grep '^OPT' | cut -d' ' -f1-6)" \
		"NOERROR 2 OPT udp=1232 ver=0 do=0 ercode=0 owner=."
	r=$(rq "$tp" "$P" --edns 512 host.$ZONE A)
	t "edns-opt-small-client-$g" "EDNS 512 query: want OPT udp=1232, got $(brief "$r")" \
		eq "$(printf '%s\n' "$r" | grep '^OPT' | cut -d' ' -f1-3)" "OPT udp=1232 ver=0"
	r=$(rq "$tp" "$P" $ZONE A)
	t "no-edns-no-opt-$g" "query without EDNS: want no OPT and ar=0, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" ar) $(printf '%s\n' "$r" | grep -c '^OPT')" "NOERROR 0 0"
	r=$(rq "$tp" "$P" nope.$ZONE A)
	t "no-edns-no-opt-nxdomain-$g" "NXDOMAIN without EDNS: want no OPT, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(printf '%s\n' "$r" | grep -c '^OPT')" "NXDOMAIN 0"
	r=$(rq "$tp" "$P" --edns 1232 nope.$ZONE A)
	t "edns-opt-on-nxdomain-$g" "NXDOMAIN with EDNS: want OPT udp=1232, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(printf '%s\n' "$r" | grep '^OPT' | cut -d' ' -f1-2)" "NXDOMAIN OPT udp=1232"

	for v in 1 255; do
		r=$(rq "$tp" "$P" --id 0x7777 --edns 1232 --ednsver "$v" $ZONE A)
		t "edns-version-$v-badvers-$g" "EDNS version $v: want BADVERS (header rcode 0 + OPT ercode 1, OPT ver=0), an=0, id 30583; got $(brief "$r")" \
			eq "$(hdr "$r" rcode) $(hdr "$r" an) $(hdr "$r" id) $(printf '%s\n' "$r" | grep '^OPT' | cut -d' ' -f3,5)" \
			"BADVERS 0 30583 ver=0 ercode=1"
	done

	r=$(rq "$tp" "$P" --edns 1232 --opt 65001:abcd $ZONE A)
	t "edns-unknown-option-ignored-$g" "option 65001: want NOERROR an=2, OPT without the option echoed, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" an) $(printf '%s\n' "$r" | grep '^OPT' | sed 's/.*opts=//')" "NOERROR 2 "
	r=$(rq "$tp" "$P" --edns 1232 --opt 10:0102030405060708 --opt 65535: host.$ZONE A)
	t "edns-cookie-and-empty-option-$g" "cookie + empty option 65535: want NOERROR with the answer, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(rdatas "$r" AN A)" "NOERROR 93.184.216.34"

	r=$(rq "$tp" "$P" --edns 1232 --do $ZONE A)
	t "edns-do-copied-$g" "DO=1 query: want OPT do=1, got $(brief "$r")" \
		eq "$(printf '%s\n' "$r" | grep '^OPT' | cut -d' ' -f4)" "do=1"
	r=$(rq "$tp" "$P" --edns 1232 --do nope.$ZONE A)
	t "edns-do-copied-nxdomain-$g" "DO=1 NXDOMAIN: want OPT do=1, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(printf '%s\n' "$r" | grep '^OPT' | cut -d' ' -f4)" "NXDOMAIN do=1"
done

# Well-formed but unusual: an authority record before the OPT (its DO must
# still be seen), a 400-byte padding option, Z bits set in the OPT TTL (not
# echoed: RFC 6891 6.1.4).
while read -r name want hex; do
	for tp in $TRANSPORTS; do
		g=$(tag "$tp")
		r=$(rs "$tp" "$P" "$hex")
		t "edns-$name-$g" "sent $hex: want '$want', got $(brief "$r")" \
			eq "$(hdr "$r" rcode) $(hdr "$r" an) $(printf '%s\n' "$r" | grep '^OPT' | cut -d' ' -f2-4)" "${want//_/ }"
	done
done < <(PYTHONPATH="$HERE" "$PY" - <<'EOF'
import struct
from dnsraw import header, encode_name, opt_rr, build_query
apex = encode_name("seed.example.com")
q = apex + struct.pack(">HH", 1, 1)
soa_rr = apex + struct.pack(">HHIH", 6, 1, 0, 22) + b"\x00\x00" + b"\x00" * 20
print("authority-rr-then-opt-do", "NOERROR_2_udp=1232_ver=0_do=1",
      (header(ns=1, ar=1) + q + soa_rr + opt_rr(do=True)).hex())
print("answer-rr-then-opt-do", "NOERROR_2_udp=1232_ver=0_do=1",
      (header(an=1, ar=1) + q + soa_rr + opt_rr(do=True)).hex())
print("padding-400", "NOERROR_2_udp=1232_ver=0_do=0",
      build_query("seed.example.com", edns=1232, options=[(12, b"\0" * 400)]).hex())
print("z-flags-not-echoed", "NOERROR_2_udp=1232_ver=0_do=0",
      (header(ar=1) + q + b"\x00" + struct.pack(">HHIH", 41, 1232, 0x7fff, 0)).hex())
EOF
)
for tp in $TRANSPORTS; do
	g=$(tag "$tp")
	r=$(rq "$tp" "$P" --edns 1232 --do --opt 65001:abcd $ZONE A)
	o=$(printf '%s\n' "$r" | sed -n 's/^RAW //p')
	# The reply ends with its OPT: root, type 41, size 1232 (04d0), TTL
	# 00 00 8000 (ercode 0, version 0, only DO), RDLEN 0.
	t "edns-reply-opt-bytes-$g" "want the reply to end 00002904d0000080000000, raw reply $o" \
		has "$o" "00002904d0000080000000$"
done

# Malformed OPT records, built byte by byte: each must give FORMERR with the ID copied.
while read -r name hex; do
	for tp in $TRANSPORTS; do
		g=$(tag "$tp")
		r=$(rs "$tp" "$P" "$hex")
		t "edns-malformed-$name-formerr-$g" "sent $hex: want FORMERR qr=1 id=4660, got $(brief "$r")" \
			eq "$(hdr "$r" rcode) $(hdr "$r" qr) $(hdr "$r" id)" "FORMERR 1 4660"
	done
done < <(PYTHONPATH="$HERE" "$PY" - <<'EOF'
import struct
from dnsraw import header, encode_name, opt_rr
q = encode_name("seed.example.com") + struct.pack(">HH", 1, 1)
opt_hdr = lambda rdlen: b"\x00" + struct.pack(">HHIH", 41, 1232, 0, rdlen)
cases = {
    "two-opt": header(ar=2) + q + opt_rr() + opt_rr(),
    "two-opt-with-options": header(ar=2) + q + opt_rr(options=[(65001, b"\xab")]) + opt_rr(do=True),
    "non-root-owner": header(ar=1) + q + opt_rr(owner=encode_name("seed.example.com")),
    "option-overruns-rdlen": header(ar=1) + q + opt_hdr(6) + struct.pack(">HH", 65001, 10) + b"\xab\xcd",
    "option-header-cut": header(ar=1) + q + opt_hdr(2) + b"\xfd\xe9",
    "rdlen-past-end": header(ar=1) + q + opt_hdr(20) + struct.pack(">HH", 65001, 2) + b"\xab\xcd",
    "opt-cut-in-fixed-part": header(ar=1) + q + b"\x00\x00\x29\x04",
}
for k, v in cases.items():
    print(k, v.hex())
EOF
)

# The same through dig and kdig.
o=$(DIG @127.0.0.1 -p "$P" +edns=1 +noednsnegotiation $ZONE A)
t "dig-edns1-badvers" "dig +edns=1 status '$(digstatus "$o")'" eq "$(digstatus "$o")" BADVERS
o=$(DIG @::1 -p "$P" +ednsopt=65001:abcd $ZONE A)
t "dig-ednsopt-unknown" "dig +ednsopt=65001:abcd: status '$(digstatus "$o")', $(echo "$o" | grep -c '^seed') answers" \
	eq "$(digstatus "$o") $(echo "$o" | grep -c "^$ZONE\.")" "NOERROR 2"
o=$(DIG @127.0.0.1 -p "$P" +dnssec $ZONE A)
t "dig-dnssec-do" "dig +dnssec EDNS line: '$(echo "$o" | grep '; EDNS')'" \
	has "$o" "^; EDNS: version: 0, flags: do; udp: 1232"
o=$(DIG @::1 -p "$P" +tcp $ZONE A)
t "dig-edns-udp1232-tcp6" "dig +tcp EDNS line: '$(echo "$o" | grep '; EDNS')'" \
	has "$o" "^; EDNS: version: 0, flags:; udp: 1232"
o=$(DIG @127.0.0.1 -p "$P" +noedns $ZONE A)
t "dig-noedns-no-opt" "dig +noedns printed an OPT pseudosection" \
	eval 'hasnt "$o" "OPT PSEUDOSECTION" && [ "$(digstatus "$o")" = NOERROR ]'
o=$(KDIG @::1 -p "$P" +edns=1 $ZONE A)
t "kdig-edns1-badvers" "kdig +edns=1 output: $(echo "$o" | grep -iE 'status|EDNS' | tr '\n' '|')" has "$o" "status: BADVERS"
o=$(KDIG @127.0.0.1 -p "$P" +dnssec +tcp $ZONE A)
t "kdig-dnssec-do-tcp4" "kdig +dnssec EDNS line: $(echo "$o" | grep -i 'Version' | tr '\n' '|')" \
	has "$o" "Version: 0; flags: do; UDP size: 1232 B"
stop_all
