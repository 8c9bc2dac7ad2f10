#!/usr/bin/env bash
# SPEC 4: apex SOA/NS with glue, --ns/--mbox overrides, the SOA built from
# the flags, static A/AAAA rows, CNAME (in-zone target followed, out-of-zone
# not), TTLs, header flags (AA, RA, RD, ID), the question echoed byte for byte
# and name compression. UDP and TCP, 127.0.0.1 and ::1; dig and kdig too.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"

D=$(new_dir)
P=$(free_port)
write_soa "$D" 300
add_rows "$D" \
	"$ZONE,47.74.45.239" "$ZONE,47.74.45.236" "$ZONE,8.8.8.8" \
	"$ZONE,2001:4860::7" "$ZONE,2a00:1450::8" \
	"ns.$ZONE,1.2.3.4" "ns.$ZONE,2001:4860::53" \
	"www.$ZONE,$ZONE" \
	"host.$ZONE,93.184.216.34" "host.$ZONE,93.184.216.35" "host.$ZONE,2606:2800:220::1" \
	"alias.$ZONE,host.$ZONE" \
	"ext.$ZONE,www.example.net" \
	"chain.$ZONE,alias.$ZONE" \
	"loop1.$ZONE,loop2.$ZONE" "loop2.$ZONE,loop1.$ZONE" \
	"a.b.$ZONE,1.1.1.1" \
	"UPPER.Seed.Example.COM,9.9.9.9"
start "$D" P --ttl 123

NODES4="47.74.45.236 47.74.45.239 8.8.8.8"
NODES6="2001:4860::7 2a00:1450::8"
SOA_RD="ns.$ZONE. hostmaster.$ZONE. 2026112201 28800 7200 604800 300"
sorted() { tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//'; }

for tp in $TRANSPORTS; do
	g=$(tag "$tp")

	r=$(rq "$tp" "$P" $ZONE A)
	t "apex-a-$g" "want NOERROR aa=1 and the 3 nodes at TTL 123, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" aa) $(rdatas "$r" AN A | sorted) / $(ttls "$r" AN A)" \
		"NOERROR 1 $(echo $NODES4 | sorted) / 123"
	t "apex-a-only-a-$g" "answer holds other types: $(brief "$r")" eq "$(sec "$r" AN | grep -vc ' A ')" 0

	r=$(rq "$tp" "$P" $ZONE AAAA)
	t "apex-aaaa-$g" "want the 2 v6 nodes at TTL 123, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(rdatas "$r" AN AAAA | sorted) / $(ttls "$r" AN AAAA)" \
		"NOERROR $(echo $NODES6 | sorted) / 123"

	r=$(rq "$tp" "$P" $ZONE SOA)
	t "apex-soa-$g" "want SOA '$SOA_RD' TTL 3600 aa=1, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" aa) $(hdr "$r" an) $(ttls "$r" AN SOA) $(rdatas "$r" AN SOA)" \
		"NOERROR 1 1 3600 $SOA_RD"

	r=$(rq "$tp" "$P" $ZONE NS)
	t "apex-ns-$g" "want NS ns.$ZONE. TTL 3600, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" aa) $(hdr "$r" an) $(ttls "$r" AN NS) $(rdatas "$r" AN NS)" \
		"NOERROR 1 1 3600 ns.$ZONE."
	t "apex-ns-glue-$g" "want glue A 1.2.3.4 and AAAA 2001:4860::53 (TTL 3600) for ns.$ZONE, got $(brief "$r")" \
		eq "$(sec "$r" AR A | awk '{print $2,$3,$6}') / $(sec "$r" AR AAAA | awk '{print $2,$3,$6}')" \
		"ns.$ZONE. 3600 1.2.3.4 / ns.$ZONE. 3600 2001:4860::53"

	r=$(rq "$tp" "$P" host.$ZONE A)
	t "static-a-$g" "want 2 static A at TTL 3600, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" aa) $(rdatas "$r" AN A | sorted) / $(ttls "$r" AN A)" \
		"NOERROR 1 93.184.216.34 93.184.216.35 / 3600"
	r=$(rq "$tp" "$P" host.$ZONE AAAA)
	t "static-aaaa-$g" "want AAAA 2606:2800:220::1 TTL 3600, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" an) $(rdatas "$r" AN AAAA) $(ttls "$r" AN AAAA)" \
		"NOERROR 1 2606:2800:220::1 3600"

	r=$(rq "$tp" "$P" HoSt.SeEd.ExAmPlE.CoM A)
	t "static-case-insensitive-$g" "mixed-case name not matched: $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(rdatas "$r" AN A | sorted)" "NOERROR 93.184.216.34 93.184.216.35"

	r=$(rq "$tp" "$P" upper.$ZONE A)
	t "static-row-upper-case-in-file-$g" "row UPPER.Seed.Example.COM: want 9.9.9.9 for upper.$ZONE, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(rdatas "$r" AN A)" "NOERROR 9.9.9.9"
	r=$(rq "$tp" "$P" alias.$ZONE A)
	t "cname-static-target-$g" "want CNAME host.$ZONE. then its 2 A (TTL 3600), got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" aa) $(sec "$r" AN | head -n1 | awk '{print $2,$3,$5,$6}') $(sec "$r" AN A | awk '{print $2}' | sort -u) $(rdatas "$r" AN A | sorted) / $(ttls "$r" AN A)" \
		"NOERROR 1 alias.$ZONE. 3600 CNAME host.$ZONE. host.$ZONE. 93.184.216.34 93.184.216.35 / 3600"

	r=$(rq "$tp" "$P" www.$ZONE A)
	t "cname-apex-target-a-$g" "want CNAME $ZONE. then the 3 node A (TTL 123), got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(sec "$r" AN | head -n1 | awk '{print $3,$5,$6}') $(sec "$r" AN A | awk '{print $2}' | sort -u) $(rdatas "$r" AN A | sorted) / $(ttls "$r" AN A)" \
		"NOERROR 3600 CNAME $ZONE. $ZONE. $(echo $NODES4 | sorted) / 123"
	r=$(rq "$tp" "$P" www.$ZONE AAAA)
	t "cname-apex-target-aaaa-$g" "want CNAME then the 2 node AAAA, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(nsec "$r" AN CNAME) $(rdatas "$r" AN AAAA | sorted)" \
		"NOERROR 1 $(echo $NODES6 | sorted)"
	r=$(rq "$tp" "$P" www.$ZONE CNAME)
	t "cname-qtype-cname-$g" "want the CNAME alone, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" an) $(rdatas "$r" AN CNAME)" "NOERROR 1 $ZONE."

	r=$(rq "$tp" "$P" ext.$ZONE A)
	t "cname-out-of-zone-$g" "want NOERROR aa=1 with only CNAME www.example.net., got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" aa) $(hdr "$r" an) $(rdatas "$r" AN CNAME)" \
		"NOERROR 1 1 www.example.net."

	r=$(rq "$tp" "$P" chain.$ZONE A)
	t "cname-chain-$g" "want chain->alias->host CNAMEs then host's 2 A, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(sec "$r" AN CNAME | awk '{print $2,$6}' | tr '\n' ' ')$(rdatas "$r" AN A | sorted)" \
		"NOERROR chain.$ZONE. alias.$ZONE. alias.$ZONE. host.$ZONE. 93.184.216.34 93.184.216.35"
	r=$(rq "$tp" "$P" loop1.$ZONE A)
	t "cname-loop-answered-$g" "CNAME loop loop1<->loop2: want a reply (bounded, no A), got $(brief "$r")" \
		eval '[ -n "$(hdr "$r" rcode)" ] && [ "$(nsec "$r" AN A)" = 0 ] && [ "$(nsec "$r" AN CNAME)" -ge 1 ] && [ "$(nsec "$r" AN CNAME)" -le 16 ]'

	# Name compression in the SOA record too: uncompressed the reply would be
	# 12 + 22 (question) + 12 + 70 (rdata) = 116 bytes.
	r=$(rq "$tp" "$P" $ZONE SOA)
	t "soa-compressed-$g" "SOA reply of $(hdr "$r" len) bytes, want < 116 (names compressed)" \
		eval '[ -n "$(hdr "$r" len)" ] && [ "$(hdr "$r" len)" -lt 116 ]'

	# Flags: AA=1, RA=0, RD and ID copied, with and without RD.
	r=$(rq "$tp" "$P" --id 0xbeef $ZONE A)
	t "flags-rd1-$g" "want id=48879 qr=1 aa=1 rd=1 ra=0 tc=0, got $(hline "$r")" \
		eq "$(hdr "$r" id) $(hdr "$r" qr) $(hdr "$r" aa) $(hdr "$r" rd) $(hdr "$r" ra) $(hdr "$r" tc)" "48879 1 1 1 0 0"
	r=$(rq "$tp" "$P" --id 0 --norec $ZONE A)
	t "flags-rd0-$g" "want id=0 aa=1 rd=0 ra=0, got $(hline "$r")" \
		eq "$(hdr "$r" id) $(hdr "$r" aa) $(hdr "$r" rd) $(hdr "$r" ra)" "0 1 0 0"
	r=$(rq "$tp" "$P" --id 0xffff --norec nope.$ZONE A)
	t "flags-rd0-nxdomain-$g" "want id=65535 aa=1 rd=0 ra=0 on NXDOMAIN, got $(hline "$r")" \
		eq "$(hdr "$r" id) $(hdr "$r" aa) $(hdr "$r" rd) $(hdr "$r" ra) $(hdr "$r" rcode)" "65535 1 0 0 NXDOMAIN"
	r=$(rq "$tp" "$P" --id 0x0102 example.org A)
	t "flags-refused-$g" "want id=258 rd=1 ra=0 on REFUSED, got $(hline "$r")" \
		eq "$(hdr "$r" id) $(hdr "$r" rd) $(hdr "$r" ra) $(hdr "$r" rcode)" "258 1 0 REFUSED"

	# The question comes back byte for byte, case preserved, and the answer
	# owner is compressed to it (a pointer to offset 12).
	q=$(qsec_hex SeEd.ExAmPlE.cOm A)
	r=$(rq "$tp" "$P" SeEd.ExAmPlE.cOm A)
	qh=$(printf '%s\n' "$r" | sed -n 's/^QHEX //p')
	t "question-echo-case-$g" "sent $q, got $qh" eq "$qh" "$q"
	rawh=$(printf '%s\n' "$r" | sed -n 's/^RAW //p')
	t "answer-owner-compressed-$g" "first answer owner is not c00c: ${rawh:24:${#q}+8}" \
		eq "${rawh:24+${#q}:4}" "c00c"
	q=$(qsec_hex WwW.sEeD.eXaMpLe.CoM A)
	r=$(rq "$tp" "$P" WwW.sEeD.eXaMpLe.CoM A)
	t "question-echo-case-cname-$g" "sent $q, got $(printf '%s\n' "$r" | sed -n 's/^QHEX //p')" \
		eq "$(printf '%s\n' "$r" | sed -n 's/^QHEX //p')" "$q"
done

# The same through dig and kdig.
o=$(DIG @127.0.0.1 -p "$P" $ZONE SOA +short)
t "dig-soa-udp4" "dig +short SOA gave '$o'" eq "$o" "$SOA_RD"
o=$(DIG @::1 -p "$P" +tcp $ZONE NS +short)
t "dig-ns-tcp6" "dig +tcp NS gave '$o'" eq "$o" "ns.$ZONE."
o=$(DIG @127.0.0.1 -p "$P" +norec $ZONE A)
t "dig-flags-norec" "dig +norec flags '$(digflags "$o")', want 'qr aa'" eq "$(digflags "$o")" "qr aa"
o=$(DIG @::1 -p "$P" +rec $ZONE A)
t "dig-flags-rec" "dig +rec flags '$(digflags "$o")', want 'qr aa rd'" eq "$(digflags "$o")" "qr aa rd"
o=$(DIG @127.0.0.1 -p "$P" +noall +answer host.$ZONE A | awk '{print $2, $5}' | sort | tr '\n' ' ')
t "dig-static-ttl" "dig answer '$o'" eq "$o" "3600 93.184.216.34 3600 93.184.216.35 "
o=$(KDIG @::1 -p "$P" +tcp +short alias.$ZONE A | sort | tr '\n' ' ')
t "kdig-cname-tcp6" "kdig +short alias A gave '$o'" eq "$o" "93.184.216.34 93.184.216.35 host.$ZONE. "
o=$(KDIG @127.0.0.1 -p "$P" +notcp +short $ZONE AAAA | sort | tr '\n' ' ')
t "kdig-apex-aaaa-udp4" "kdig +short AAAA gave '$o'" eq "$o" "2001:4860::7 2a00:1450::8 "

# --ns (repeatable) and --mbox override the MNAME/RNAME of zone.csv; glue
# only for the in-zone NS name.
D2=$(new_dir)
P2=$(free_port)
write_soa "$D2" 300
add_rows "$D2" "$ZONE,8.8.8.8" "ns1.$ZONE,5.5.5.5" "ns.$ZONE,1.2.3.4"
start "$D2" P2 --ns ns1.$ZONE --ns ns.other.example.net --mbox admin.example.net
for tp in 127.0.0.1/udp ::1/tcp; do
	g=$(tag "$tp")
	r=$(rq "$tp" "$P2" $ZONE SOA)
	t "soa-ns-mbox-override-$g" "want MNAME ns1.$ZONE. RNAME admin.example.net., got $(brief "$r")" \
		eq "$(rdatas "$r" AN SOA)" "ns1.$ZONE. admin.example.net. 2026112201 28800 7200 604800 300"
	r=$(rq "$tp" "$P2" $ZONE NS)
	t "ns-override-$g" "want NS ns.other.example.net. ns1.$ZONE. (TTL 3600), got $(brief "$r")" \
		eq "$(rdatas "$r" AN NS | sorted) $(ttls "$r" AN NS)" "ns.other.example.net. ns1.$ZONE. 3600"
	t "ns-override-glue-$g" "want exactly glue ns1.$ZONE A 5.5.5.5, got $(brief "$r")" \
		eq "$(sec "$r" AR | grep -v '^OPT' | awk '{print $2,$3,$5,$6}')" "ns1.$ZONE. 3600 A 5.5.5.5"
done

# Without --ns the apex NS is the SOA MNAME of zone.csv.
D3=$(new_dir)
P3=$(free_port)
write_soa "$D3" 300 dns1.$ZONE
add_rows "$D3" "$ZONE,8.8.8.8" "dns1.$ZONE,9.9.9.9"
start "$D3" P3
r=$(rq 127.0.0.1/udp "$P3" $ZONE NS)
t "ns-is-mname" "want NS dns1.$ZONE. with glue 9.9.9.9, got $(brief "$r")" \
	eq "$(rdatas "$r" AN NS) $(rdatas "$r" AR A)" "dns1.$ZONE. 9.9.9.9"

# No zone.csv: the SOA comes from the flags (refresh 900, retry 300,
# expire 604800, minimum 60, serial from the clock).
D4=$(new_dir)
P4=$(free_port)
start "$D4" P4
r=$(rq ::1/udp "$P4" $ZONE SOA)
soa=$(rdatas "$r" AN SOA)
t "soa-default" "want 'ns.$ZONE. hostmaster.$ZONE. SERIAL 900 300 604800 60', got $(brief "$r")" \
	eq "$(echo "$soa" | awk '{print $1,$2,$4,$5,$6,$7}')" "ns.$ZONE. hostmaster.$ZONE. 900 300 604800 60"
serial=$(echo "$soa" | awk '{print $3}')
now=$(date -u +%s)
today=$(date -u +%Y%m%d)
serial_ok() {
	[ -n "$serial" ] || return 1
	[ $((serial > now - 86400 && serial < now + 86400)) = 1 ] && return 0
	[ "${serial:0:8}" = "$today" ] && [ ${#serial} = 10 ]
}
t "soa-default-serial-clock" "serial '$serial' is neither unix time (~$now) nor ${today}nn" serial_ok
r=$(rq ::1/udp "$P4" nope.$ZONE A)
t "soa-default-negative-ttl" "want NXDOMAIN with SOA TTL 60, got $(brief "$r")" \
	eq "$(hdr "$r" rcode) $(ttls "$r" NS SOA)" "NXDOMAIN 60"
r=$(rq 127.0.0.1/tcp "$P4" $ZONE NS)
t "ns-default" "want NS ns.$ZONE. without zone.csv, got $(brief "$r")" eq "$(rdatas "$r" AN NS)" "ns.$ZONE."

# No zone.csv with --ns and --mbox: the SOA takes them.
D5=$(new_dir)
P5=$(free_port)
start "$D5" P5 --ns a.ns.example.net --ns b.ns.example.net --mbox dns-admin.example.net
r=$(rq 127.0.0.1/udp "$P5" $ZONE SOA)
t "soa-default-ns-mbox" "want MNAME a.ns.example.net. RNAME dns-admin.example.net., got $(brief "$r")" \
	eq "$(rdatas "$r" AN SOA | awk '{print $1,$2,$4,$5,$6,$7}')" "a.ns.example.net. dns-admin.example.net. 900 300 604800 60"
r=$(rq ::1/tcp "$P5" $ZONE NS)
t "ns-default-flags" "want NS a.ns.example.net. b.ns.example.net., no glue, got $(brief "$r")" \
	eq "$(rdatas "$r" AN NS | sorted) $(hdr "$r" ar)" "a.ns.example.net. b.ns.example.net. 0"

stop_all
