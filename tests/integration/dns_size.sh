#!/usr/bin/env bash
# SPEC 4, size: 512 bytes without EDNS, min(client size, 1232) with it; a
# node answer that does not fit gets fewer addresses (as many as fit), never
# TC; a static answer that does not fit sets TC over UDP and comes whole over
# TCP.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"

D=$(new_dir); P=$(free_port)
write_soa "$D" 300
{
	for i in $(seq 1 200); do echo "$ZONE,23.$i.7.9"; done
	for i in $(seq 1 200); do printf '%s,2a01:%x::1\n' "$ZONE" "$i"; done
	echo "www.$ZONE,$ZONE"
	for i in $(seq 1 60); do echo "big60.$ZONE,93.184.1.$i"; done
	for i in $(seq 1 100); do echo "big100.$ZONE,93.184.2.$i"; done
	for i in $(seq 1 30); do echo "big6.$ZONE,2606:2800:220::$i"; done
	for i in $(seq 1 1100); do echo "huge.$ZONE,94.$((i / 250)).$((i % 250)).1"; done
} >>"$D/zone.csv"
start "$D" P --answers 200

# fits NAME REPLY LIMIT RRSIZE: reply within LIMIT, TC=0, and one more
# record of RRSIZE bytes would not have fitted (as many as fit).
fits() {
	local n=$1 r=$2 lim=$3 rr=$4 len an
	len=$(hdr "$r" len); an=$(hdr "$r" an)
	t "$n" "want NOERROR tc=0 len<=$lim and len+$rr>$lim (as many as fit) with 0<an<200 distinct, got $(hline "$r"), $(rdatas "$r" AN A; rdatas "$r" AN AAAA) distinct=$( (rdatas "$r" AN A; rdatas "$r" AN AAAA) | uniq_count)" \
		eval '[ "$(hdr "$r" rcode) $(hdr "$r" tc)" = "NOERROR 0" ] && [ -n "$len" ] && [ "$len" -le "$lim" ] && [ $((len + rr)) -gt "$lim" ] && [ "$an" -gt 0 ] && [ "$an" -lt 200 ] && [ "$( (rdatas "$r" AN A; rdatas "$r" AN AAAA) | uniq_count)" = "$an" ]'
}

for tp in 127.0.0.1/udp ::1/udp; do
	g=$(tag "$tp")
	r=$(rq "$tp" "$P" $ZONE A); an512=$(hdr "$r" an)
	fits "nodes-a-noedns-512-$g" "$r" 512 16
	r=$(rq "$tp" "$P" $ZONE AAAA)
	fits "nodes-aaaa-noedns-512-$g" "$r" 512 28
	r=$(rq "$tp" "$P" --edns 1232 $ZONE A); an1232=$(hdr "$r" an)
	fits "nodes-a-edns1232-$g" "$r" 1232 16
	t "nodes-a-edns-more-than-noedns-$g" "EDNS 1232 gave $an1232 addresses, no EDNS $an512" \
		eval '[ "${an1232:-0}" -gt "${an512:-0}" ]'
	r=$(rq "$tp" "$P" --edns 1232 $ZONE AAAA)
	fits "nodes-aaaa-edns1232-$g" "$r" 1232 28
	r=$(rq "$tp" "$P" --edns 4096 $ZONE A)
	fits "nodes-a-edns4096-capped-1232-$g" "$r" 1232 16
	r=$(rq "$tp" "$P" --edns 800 $ZONE A)
	fits "nodes-a-edns800-$g" "$r" 800 16
	r=$(rq "$tp" "$P" --edns 100 $ZONE A)
	t "nodes-a-edns100-as-512-$g" "EDNS size 100 (treated as 512): want tc=0 an>0 len<=512, got $(hline "$r")" \
		eval '[ "$(hdr "$r" tc)" = 0 ] && [ "$(hdr "$r" an)" -gt 0 ] && [ "$(hdr "$r" len)" -le 512 ]'
	r=$(rq "$tp" "$P" www.$ZONE A)
	t "cname-to-nodes-no-tc-$g" "www A (CNAME to the apex) without EDNS: want tc=0 len<=512, CNAME plus >=1 A, got $(hline "$r")" \
		eval '[ "$(hdr "$r" tc)" = 0 ] && [ "$(hdr "$r" len)" -le 512 ] && [ "$(nsec "$r" AN CNAME)" = 1 ] && [ "$(nsec "$r" AN A)" -ge 1 ]'
	r=$(rq "$tp" "$P" $ZONE ANY)
	t "any-no-tc-$g" "ANY without EDNS: want tc=0 len<=512 an>0, got $(hline "$r")" \
		eval '[ "$(hdr "$r" tc)" = 0 ] && [ "$(hdr "$r" len)" -le 512 ] && [ "$(hdr "$r" an)" -gt 0 ]'

	# Static answers that do not fit: TC.
	r=$(rq "$tp" "$P" big60.$ZONE A)
	t "static-60a-noedns-tc-$g" "big60 A without EDNS: want tc=1 len<=512, got $(hline "$r")" \
		eval '[ "$(hdr "$r" tc)" = 1 ] && [ "$(hdr "$r" len)" -le 512 ]'
	r=$(rq "$tp" "$P" --edns 1232 big60.$ZONE A)
	t "static-60a-edns1232-whole-$g" "big60 A with EDNS 1232: want tc=0 an=60, got $(hline "$r")" \
		eq "$(hdr "$r" tc) $(hdr "$r" an) $(rdatas "$r" AN A | uniq_count)" "0 60 60"
	r=$(rq "$tp" "$P" --edns 1232 big100.$ZONE A)
	t "static-100a-edns1232-tc-$g" "big100 A with EDNS 1232: want tc=1 len<=1232, got $(hline "$r")" \
		eval '[ "$(hdr "$r" tc)" = 1 ] && [ "$(hdr "$r" len)" -le 1232 ]'
	r=$(rq "$tp" "$P" big6.$ZONE AAAA)
	t "static-30aaaa-noedns-tc-$g" "big6 AAAA without EDNS: want tc=1 len<=512, got $(hline "$r")" \
		eval '[ "$(hdr "$r" tc)" = 1 ] && [ "$(hdr "$r" len)" -le 512 ]'
done

for tp in 127.0.0.1/tcp ::1/tcp; do
	g=$(tag "$tp")
	r=$(rq "$tp" "$P" $ZONE A)
	t "nodes-a-tcp-all-$g" "apex A over TCP (--answers 200): want tc=0 and 200 distinct, got $(hline "$r")" \
		eq "$(hdr "$r" tc) $(hdr "$r" an) $(rdatas "$r" AN A | uniq_count)" "0 200 200"
	r=$(rq "$tp" "$P" $ZONE AAAA)
	t "nodes-aaaa-tcp-all-$g" "apex AAAA over TCP: want tc=0 and 200 distinct, got $(hline "$r")" \
		eq "$(hdr "$r" tc) $(hdr "$r" an) $(rdatas "$r" AN AAAA | uniq_count)" "0 200 200"
	r=$(rq "$tp" "$P" big60.$ZONE A)
	t "static-60a-tcp-whole-$g" "big60 A over TCP: want tc=0 an=60, got $(hline "$r")" \
		eq "$(hdr "$r" tc) $(hdr "$r" an)" "0 60"
	r=$(rq "$tp" "$P" big100.$ZONE A)
	t "static-100a-tcp-whole-$g" "big100 A over TCP: want tc=0 an=100, got $(hline "$r")" \
		eq "$(hdr "$r" tc) $(hdr "$r" an) $(rdatas "$r" AN A | uniq_count)" "0 100 100"
	# 1100 A rows: about 17.6 KB, far under the 65535 bytes a TCP message can carry.
	r=$(rq "$tp" "$P" huge.$ZONE A)
	t "static-1100a-tcp-whole-$g" "huge A (1100 static rows, ~17.6 KB) over TCP: want tc=0 an=1100, got $(hline "$r")" \
		eq "$(hdr "$r" tc) $(hdr "$r" an) $(rdatas "$r" AN A | uniq_count)" "0 1100 1100"
	r=$(rq "$tp" "$P" big6.$ZONE AAAA)
	t "static-30aaaa-tcp-whole-$g" "big6 AAAA over TCP: want tc=0 an=30, got $(hline "$r")" \
		eq "$(hdr "$r" tc) $(hdr "$r" an)" "0 30"
done

# dig and kdig.
o=$(DIG @127.0.0.1 -p "$P" +noedns +ignore big60.$ZONE A)
t "dig-static-tc" "dig +noedns +ignore big60: flags '$(digflags "$o")'" eq "$(digflags "$o")" "qr aa tc rd"
o=$(DIG @127.0.0.1 -p "$P" +noedns big60.$ZONE A)
t "dig-static-tc-retry-tcp" "dig +noedns big60 (falls back to TCP): $(echo "$o" | grep -E 'flags:|SERVER' | tr '\n' '|')" \
	eval '[ "$(echo "$o" | grep -c "^big60\.$ZONE\..*IN[[:space:]]A")" = 60 ] && has "$o" "\(TCP\)"'
o=$(DIG @127.0.0.1 -p "$P" +tcp huge.$ZONE A)
t "dig-static-1100a-tcp" "dig +tcp huge.$ZONE A: $(echo "$o" | grep -E 'flags:|MSG SIZE|SERVER' | tr '\n' '|') $(echo "$o" | grep -c "^huge\.") A records, want 1100" \
	eq "$(echo "$o" | grep -c "^huge\.$ZONE\..*IN[[:space:]]A")" 1100
o=$(KDIG @::1 -p "$P" +noedns big100.$ZONE A)
t "kdig-static-tc-retry-tcp" "kdig +noedns big100: $(echo "$o" | grep -E 'Flags|From' | tr '\n' '|')" \
	eval '[ "$(echo "$o" | grep -c "^big100\.$ZONE\..*IN[[:space:]]A")" = 100 ] && has "$o" "\(TCP\)"'
o=$(DIG @::1 -p "$P" +noedns $ZONE A)
n512=$(echo "$o" | grep -c "^$ZONE\..*IN[[:space:]]A")
sz512=$(echo "$o" | sed -n 's/.*MSG SIZE  rcvd: //p')
t "dig-nodes-noedns" "dig +noedns apex: flags '$(digflags "$o")' $n512 A, $sz512 bytes" \
	eval '[ "$(digflags "$o")" = "qr aa rd" ] && [ "$n512" -gt 0 ] && [ "${sz512:-9999}" -le 512 ] && has "$o" "\(UDP\)"'
o=$(DIG @::1 -p "$P" +bufsize=1232 $ZONE A)
n1232=$(echo "$o" | grep -c "^$ZONE\..*IN[[:space:]]A")
sz1232=$(echo "$o" | sed -n 's/.*MSG SIZE  rcvd: //p')
t "dig-nodes-bufsize1232" "dig +bufsize=1232 apex: flags '$(digflags "$o")' $n1232 A (no EDNS: $n512), $sz1232 bytes" \
	eval '[ "$(digflags "$o")" = "qr aa rd" ] && [ "$n1232" -gt "$n512" ] && [ "${sz1232:-9999}" -le 1232 ] && has "$o" "\(UDP\)"'
stop_all
