#!/usr/bin/env bash
# SPEC 4: NODATA and NXDOMAIN with the SOA in authority and the negative TTL
# min(3600, MINIMUM) (RFC 2308), empty non-terminals (RFC 8020), REFUSED out
# of zone and for classes other than IN, NOTIMP for opcodes other than QUERY,
# AXFR/IXFR REFUSED, --wildcard off and on.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"

rows=("$ZONE,47.74.45.239" "$ZONE,8.8.8.8" "$ZONE,2001:4860::7" "ns.$ZONE,1.2.3.4"
	"host.$ZONE,93.184.216.34" "www.$ZONE,$ZONE" "a.b.$ZONE,1.1.1.1" "deep.x.y.$ZONE,1.0.0.1")

DA=$(new_dir); PA=$(free_port)
write_soa "$DA" 300; add_rows "$DA" "${rows[@]}"
start "$DA" PA
DB=$(new_dir); PB=$(free_port)
write_soa "$DB" 86400; add_rows "$DB" "${rows[@]}"
start "$DB" PB

SOA300="ns.$ZONE. hostmaster.$ZONE. 2026112201 28800 7200 604800 300"
SOA86400="ns.$ZONE. hostmaster.$ZONE. 2026112201 28800 7200 604800 86400"

# neg NAME TP PORT QNAME QTYPE RCODE TTL SOA: a negative answer, checked whole.
neg() {
	local n=$1 tp=$2 port=$3 qn=$4 qt=$5 rc=$6 ttl=$7 soa=$8 r
	r=$(rq "$tp" "$port" "$qn" "$qt")
	t "$n" "$qn $qt: want $rc aa=1 an=0 and one SOA '$ZONE. $ttl $soa' in authority, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) aa=$(hdr "$r" aa) an=$(hdr "$r" an) ns=$(hdr "$r" ns) $(sec "$r" NS SOA | awk '{print $2,$3}') $(rdatas "$r" NS SOA)" \
		"$rc aa=1 an=0 ns=1 $ZONE. $ttl $soa"
}

for tp in $TRANSPORTS; do
	g=$(tag "$tp")
	neg "nodata-static-aaaa-min300-$g" "$tp" "$PA" host.$ZONE AAAA NOERROR 300 "$SOA300"
	neg "nodata-apex-txt-min300-$g" "$tp" "$PA" $ZONE TXT NOERROR 300 "$SOA300"
	neg "nodata-ns-mx-min300-$g" "$tp" "$PA" ns.$ZONE MX NOERROR 300 "$SOA300"
	neg "nodata-ns-below-apex-$g" "$tp" "$PA" host.$ZONE NS NOERROR 300 "$SOA300"
	neg "nodata-soa-below-apex-$g" "$tp" "$PA" host.$ZONE SOA NOERROR 300 "$SOA300"
	neg "nxdomain-min300-$g" "$tp" "$PA" nope.$ZONE A NXDOMAIN 300 "$SOA300"
	neg "nxdomain-below-static-min300-$g" "$tp" "$PA" x.host.$ZONE A NXDOMAIN 300 "$SOA300"
	neg "ent-min300-$g" "$tp" "$PA" b.$ZONE A NOERROR 300 "$SOA300"
	neg "ent-two-levels-y-$g" "$tp" "$PA" y.$ZONE AAAA NOERROR 300 "$SOA300"
	neg "ent-two-levels-xy-$g" "$tp" "$PA" x.y.$ZONE A NOERROR 300 "$SOA300"
	neg "nxdomain-beside-ent-$g" "$tp" "$PA" z.y.$ZONE A NXDOMAIN 300 "$SOA300"
	neg "nodata-static-aaaa-min86400-$g" "$tp" "$PB" host.$ZONE AAAA NOERROR 3600 "$SOA86400"
	neg "nxdomain-min86400-$g" "$tp" "$PB" nope.$ZONE A NXDOMAIN 3600 "$SOA86400"
	neg "ent-min86400-$g" "$tp" "$PB" b.$ZONE A NOERROR 3600 "$SOA86400"
	# --wildcard is off: a random label does not exist.
	neg "wildcard-off-nxdomain-$g" "$tp" "$PA" rnd$RANDOM.$ZONE A NXDOMAIN 300 "$SOA300"

	# Out of zone: REFUSED, no answer (including a name that merely ends
	# with the apex's text without a label boundary).
	for qn in example.org example.com xseed.example.com com . ns.seed.example.com.evil.org; do
		r=$(rq "$tp" "$PA" "$qn" A)
		t "refused-out-of-zone-$qn-$g" "$qn A: want REFUSED an=0 qd=1, got $(brief "$r")" \
			eq "$(hdr "$r" rcode) $(hdr "$r" an) $(hdr "$r" qd) $(hdr "$r" ra)" "REFUSED 0 1 0"
	done

	# Classes other than IN (and ANY): REFUSED with the question echoed.
	for c in CH HS NONE CLASS7; do
		q=$(qsec_hex version.bind TXT "$c")
		r=$(rq "$tp" "$PA" --class "$c" version.bind TXT)
		t "class-$c-refused-$g" "$c TXT version.bind: want REFUSED an=0 and question $q, got $(brief "$r") QHEX $(printf '%s\n' "$r" | sed -n 's/^QHEX //p')" \
			eq "$(hdr "$r" rcode) $(hdr "$r" an) $(hdr "$r" qd) $(printf '%s\n' "$r" | sed -n 's/^QHEX //p')" "REFUSED 0 1 $q"
	done
	r=$(rq "$tp" "$PA" --class CH $ZONE A)
	t "class-ch-in-zone-refused-$g" "CH A $ZONE: want REFUSED an=0, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" an)" "REFUSED 0"
	r=$(rq "$tp" "$PA" --class ANY $ZONE A)
	t "class-any-answered-$g" "ANY-class A $ZONE: want NOERROR (class ANY is accepted), got $(brief "$r")" \
		eq "$(hdr "$r" rcode)" "NOERROR"

	# Opcodes other than QUERY: NOTIMP, ID and opcode copied.
	for op in 1 2 4 5 6 15; do
		r=$(rq "$tp" "$PA" --id 0x4242 --opcode "$op" $ZONE SOA)
		t "opcode-$op-notimp-$g" "opcode $op: want NOTIMP id=16962 opcode=$op an=0, got $(brief "$r")" \
			eq "$(hdr "$r" rcode) $(hdr "$r" id) $(hdr "$r" opcode) $(hdr "$r" an) $(hdr "$r" qr)" "NOTIMP 16962 $op 0 1"
	done

	# Zone transfers: REFUSED.
	for x in AXFR IXFR; do
		r=$(rq "$tp" "$PA" $ZONE "$x")
		t "xfr-$x-refused-$g" "$x $ZONE: want REFUSED an=0, got $(brief "$r")" \
			eq "$(hdr "$r" rcode) $(hdr "$r" an)" "REFUSED 0"
	done
done

# The same through dig and kdig.
o=$(DIG @127.0.0.1 -p "$PA" CH TXT version.bind)
t "dig-chaos-version-bind" "want status REFUSED, the question echoed and no answer; got: $(echo "$o" | grep -E 'status|^;version|ANSWER' | tr '\n' '|')" \
	eval '[ "$(digstatus "$o")" = REFUSED ] && has "$o" "^;version\.bind\.[[:space:]]+CH[[:space:]]+TXT" && has "$o" "ANSWER: 0,"'
o=$(DIG @::1 -p "$PA" +opcode=2 $ZONE)
t "dig-opcode-status-notimp" "dig +opcode=2 status '$(digstatus "$o")'" eq "$(digstatus "$o")" NOTIMP
o=$(DIG @127.0.0.1 -p "$PA" nope.$ZONE)
t "dig-nxdomain" "dig nope status '$(digstatus "$o")'" eq "$(digstatus "$o")" NXDOMAIN
o=$(DIG @::1 -p "$PA" +tcp b.$ZONE A)
t "dig-ent-noerror" "dig b.$ZONE status '$(digstatus "$o")' flags '$(digflags "$o")'" \
	eq "$(digstatus "$o") $(digflags "$o")" "NOERROR qr aa rd"
o=$(DIG @127.0.0.1 -p "$PA" $ZONE AXFR)
t "dig-axfr-refused" "dig AXFR printed: $(echo "$o" | tail -n 3 | tr '\n' '|')" \
	eval 'has "$o" "Transfer failed" && hasnt "$o" "[[:space:]]SOA[[:space:]]"'
o=$(KDIG @::1 -p "$PA" $ZONE AXFR)
t "kdig-axfr-refused" "kdig AXFR printed: $(echo "$o" | head -n 3 | tr '\n' '|')" \
	eval 'has "$o" "REFUSED" && hasnt "$o" "[[:space:]]SOA[[:space:]]"'
o=$(KDIG @127.0.0.1 -p "$PA" $ZONE IXFR=2026112200)
t "kdig-ixfr-refused" "kdig IXFR printed: $(echo "$o" | head -n 3 | tr '\n' '|')" \
	eval 'has "$o" "REFUSED" && hasnt "$o" "[[:space:]]SOA[[:space:]]+ns\."'

# --wildcard: a single random label answers like the apex.
DW=$(new_dir); PW=$(free_port)
write_soa "$DW" 300; add_rows "$DW" "${rows[@]}" "$ZONE,2a00:1450::8"
start "$DW" PW --wildcard --ttl 77
for tp in $TRANSPORTS; do
	g=$(tag "$tp")
	lbl=Rnd$RANDOM$RANDOM
	r=$(rq "$tp" "$PW" $lbl.$ZONE A)
	owners=$(sec "$r" AN | awk '{print tolower($2)}' | sort -u)
	t "wildcard-a-$g" "$lbl.$ZONE A: want NOERROR aa=1 the 2 v4 nodes, owner $lbl.$ZONE., TTL 77; got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" aa) $(rdatas "$r" AN A | sort | tr '\n' ' ')$owners $(ttls "$r" AN A)" \
		"NOERROR 1 47.74.45.239 8.8.8.8 $(echo "$lbl.$ZONE." | tr 'A-Z' 'a-z') 77"
	r=$(rq "$tp" "$PW" $lbl.$ZONE AAAA)
	t "wildcard-aaaa-$g" "$lbl.$ZONE AAAA: want the 2 v6 nodes, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(rdatas "$r" AN AAAA | sort | tr '\n' ' ')" "NOERROR 2001:4860::7 2a00:1450::8 "
	r=$(rq "$tp" "$PW" $lbl.$ZONE TXT)
	t "wildcard-txt-nodata-$g" "$lbl.$ZONE TXT: want NOERROR/NODATA with SOA (like the apex), got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" an) $(nsec "$r" NS SOA)" "NOERROR 0 1"
	r=$(rq "$tp" "$PW" $lbl.$ZONE ANY)
	t "wildcard-any-a-only-$g" "$lbl.$ZONE ANY: want only the 2 v4 nodes, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(sec "$r" AN | awk '{print $5}' | sort -u | tr '\n' ' ')$(hdr "$r" an)" "NOERROR A 2"
	r=$(rq "$tp" "$PW" x.$lbl.$ZONE A)
	t "wildcard-two-labels-nxdomain-$g" "x.$lbl.$ZONE A: want NXDOMAIN, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" an) $(nsec "$r" NS SOA)" "NXDOMAIN 0 1"
	r=$(rq "$tp" "$PW" host.$ZONE A)
	t "wildcard-static-still-static-$g" "host.$ZONE A: want only the static 93.184.216.34, got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(rdatas "$r" AN A) $(ttls "$r" AN A)" "NOERROR 93.184.216.34 3600"
	r=$(rq "$tp" "$PW" host.$ZONE AAAA)
	t "wildcard-static-nodata-$g" "host.$ZONE AAAA (static name, A only): want NODATA, not node AAAA; got $(brief "$r")" \
		eq "$(hdr "$r" rcode) $(hdr "$r" an)" "NOERROR 0"
	r=$(rq "$tp" "$PW" www.$ZONE A)
	t "wildcard-static-cname-$g" "www.$ZONE A: want the CNAME first, got $(brief "$r")" \
		eq "$(sec "$r" AN | head -n1 | awk '{print $5,$6}')" "CNAME $ZONE."
done
o=$(DIG @127.0.0.1 -p "$PW" +short zzz$RANDOM.$ZONE A | sort | tr '\n' ' ')
t "dig-wildcard-a" "dig +short random label gave '$o'" eq "$o" "47.74.45.239 8.8.8.8 "
stop_all
