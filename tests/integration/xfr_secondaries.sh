#!/usr/bin/env bash
# seedd as a hidden primary for real secondaries: NSD and Knot transfer
# seed.test from it with TSIG, are told of each new serial by NOTIFY and
# follow the rotations by IXFR. Everything on 127.69.0.0/16:
#   127.69.0.1  seedd (DNS, /metrics; NOTIFY leaves from here)
#   127.69.0.2  NSD     127.69.0.3  Knot
#   127.69.0.4  a --notify target where nothing listens
#   127.69.0.5  a second seedd that allows transfers to 127.69.9.9 only
#   127.69.0.50 a client outside that --xfr-allow
# Checks: both secondaries load the zone at seedd's serial, serve its static
# rows and exactly the transferred 5+5 node sample; a rotation (every 3 s)
# reaches both by IXFR; kdig and dig read their answers and seedd's signed
# AXFR without a complaint; an unsigned AXFR, a wrong secret and a source
# outside --xfr-allow are refused and counted; NOTIFY is acknowledged by
# each secondary, retried to the dead target only, and (second phase, no
# rotation) not sent again once acknowledged; SIGTERM exits 0.
source "$(dirname "$0")/../lib.sh"
PREFIX=xfr-secondaries
ZONE=seed.test
NET=127.69
SEEDD_AT=$NET.0.1
NSD_AT=$NET.0.2
KNOT_AT=$NET.0.3
DEAD_AT=$NET.0.4
SEEDD2_AT=$NET.0.5
OUTSIDE_AT=$NET.0.50
CLIENT_AT=$NET.0.60 # dig and kdig ask seedd from here (inside --xfr-allow)
KEY=xfr-key

for tool in nsd knotd dig kdig curl; do
	if ! command -v $tool >/dev/null 2>&1; then
		fail "$PREFIX/tools" "$tool not installed (see tests/deps.sh)"
		exit 1
	fi
done

# --- processes: NSD and Knot besides lib.sh's seedd ones ---------------------
OTHER_PIDS=""
# pids PID: the process and its descendants (NSD forks xfrd and a server).
pids() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do pids "$c"; done
}
stop_others() {
	local p all="" _
	for p in $OTHER_PIDS; do all="$all $(pids "$p")"; done
	for p in $all; do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 1 50); do
		for p in $all; do kill -0 "$p" 2>/dev/null && break; p=""; done
		[ -z "${p:-}" ] && break
		sleep 0.1
	done
	for p in $all; do kill -KILL "$p" 2>/dev/null; done
	OTHER_PIDS=""
}
# XFR_KEEP=DIR keeps the configurations and logs there.
trap 'stop_others; [ -n "${XFR_KEEP:-}" ] && cp -r "$TMPBASE" "$XFR_KEEP"; cleanup' EXIT

# --- helpers ---------------------------------------------------------------
ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# until_ok SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
until_ok() {
	local end=$(($(ms) + $(awk -v s="$1" 'BEGIN { print int(s * 1000) }'))); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(ms)" -gt $end ] && return 1
		sleep 0.1
	done
}
# q ADDR PORT NAME TYPE [dig options]: the records' RDATA, sorted.
q() {
	local a=$1 p=$2 n=$3 t=$4; shift 4
	dig @"$a" -p "$p" "$n" "$t" +short +norec +tries=1 +time=2 "$@" 2>/dev/null | sort
}
serial() { q "$1" "$2" $ZONE SOA | awk 'NF == 7 { print $3 }'; }
# at_serial ADDR PORT SERIAL: the server serves SERIAL or a later one.
at_serial() { local s; s=$(serial "$1" "$2"); [ -n "$s" ] && [ "$s" -ge "$3" ]; }
same_serial() { local a b; a=$(serial "$1" "$2"); b=$(serial $SEEDD_AT "$SP"); [ -n "$a" ] && [ "$a" = "$b" ]; }
# metrics PORT FILE; m FILE 'NAME{LABELS}': one sample's value (0 when absent).
metrics() { curl -s -m 3 -o "$2" "http://$SEEDD_AT:$1/metrics"; }
m() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"; }
metric_ge() { # PORT 'NAME{LABELS}' MIN
	local f=$TMPBASE/metrics.poll
	metrics "$1" "$f" && [ "$(m "$f" "$2")" -ge "$3" ]
}
# axfr FILE: seedd's zone by AXFR, signed (MY_AXFR counts them).
MY_AXFR=0
axfr() {
	MY_AXFR=$((MY_AXFR + 1))
	dig -y "$TSIG" -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE AXFR +tries=1 +time=3 >"$1" 2>&1
}
# apex_set FILE TYPE: the apex's addresses of a dig listing, sorted.
apex_set() { awk -v t="$2" -v z="$ZONE." '$1 == z && $4 == t { print $5 }' "$1" | sort; }
one_line() { tr '\n' ' ' | sed 's/ $//'; }
taken=" "
port() { # a free port no other call returned
	local p
	while :; do
		p=$(free_port) || return 1
		case $taken in *" $p "*) continue ;; esac
		taken="$taken$p "
		echo "$p"
		return 0
	done
}
# The ports are picked in this shell: $(port) would forget what was taken.
pick() { local p; p=$(port); taken="$taken$p "; printf -v "$1" '%s' "$p"; }
pick SP; pick MP; pick NP; pick KP; pick DP; pick SP2; pick MP2

# --- key, zone, configurations ---------------------------------------------
SECRET=$(head -c 32 /dev/urandom | base64)
TSIG=hmac-sha256:$KEY:$SECRET
BADTSIG=hmac-sha256:$KEY:$(head -c 32 /dev/urandom | base64)
D=$(new_dir)
cat >"$TMPBASE/xfr.key" <<EOF
key "$KEY" {
	algorithm hmac-sha256;
	secret "$SECRET";
};
EOF
{
	echo "ns.$ZONE,hostmaster.$ZONE 2026010100 900 300 604800 60"
	echo "ns.$ZONE,203.0.113.53"
	echo "www.$ZONE,93.184.216.34"
	echo "alias.$ZONE,www.$ZONE"
	echo "v6.$ZONE,2606:2800:220:1::34"
	for i in $(seq 1 20); do
		echo "$ZONE,23.$i.$((i * 7)).$((i + 10))"
		echo "$ZONE,2a01:$(printf %x $((0x100 + i))):c0::$i"
	done
} >"$D/zone.csv"
grep "^$ZONE,.*\." "$D/zone.csv" | cut -d, -f2 | sort >"$TMPBASE/nodes4"
grep "^$ZONE,.*:" "$D/zone.csv" | cut -d, -f2 | sort >"$TMPBASE/nodes6"

# README.md's "Hidden primary" shows these two files as they are here.
N=$TMPBASE/nsd
mkdir -p "$N"
cat >"$N/nsd.conf" <<EOF
server:
    ip-address: $NSD_AT@$NP
    do-ip6: no
    server-count: 1
    username: ""            # the test runs as it is, in a temporary directory
    chroot: ""
    zonesdir: "$N"
    database: ""
    zonelistfile: "$N/zone.list"
    xfrdfile: "$N/xfrd.state"
    xfrdir: "$N"
    pidfile: "$N/nsd.pid"
    logfile: "$N/nsd.log"
    verbosity: 2
    rrl-ratelimit: 0        # the test asks from one address
remote-control:
    control-enable: no
key:
    name: $KEY
    algorithm: hmac-sha256
    secret: "$SECRET"
zone:
    name: $ZONE
    zonefile: "$ZONE.zone"
    request-xfr: $SEEDD_AT@$SP $KEY
    allow-notify: $SEEDD_AT $KEY
    outgoing-interface: $NSD_AT   # the source address --xfr-allow sees
EOF

K=$TMPBASE/knot
mkdir -p "$K/db" "$K/zones"
cat >"$K/knot.conf" <<EOF
server:
    listen: $KNOT_AT@$KP
    rundir: "$K"
    pidfile: "$K/knot.pid"
log:
  - target: "$K/knot.log"
    any: info
database:
    storage: "$K/db"
key:
  - id: $KEY
    algorithm: hmac-sha256
    secret: $SECRET
remote:
  - id: seedd
    address: $SEEDD_AT@$SP
    via: $KNOT_AT           # the source address --xfr-allow sees
    key: $KEY
acl:
  - id: notify-from-seedd
    address: $SEEDD_AT
    key: $KEY
    action: notify
template:
  - id: default
    storage: "$K/zones"
zone:
  - domain: $ZONE
    master: seedd
    acl: notify-from-seedd
EOF

# --- 1. seedd, then the secondaries ----------------------------------------
SEEDD_ARGS=(--zone $ZONE --concurrency 0 --answers 5 --xfr-answers 5 --tsig-key "$TMPBASE/xfr.key"
	--xfr-allow $NET.0.0/16 --notify $NSD_AT:$NP --notify $KNOT_AT:$KP)
if start_seedd "$D" --listen $SEEDD_AT:"$SP" --metrics $SEEDD_AT:"$MP" "${SEEDD_ARGS[@]}" \
	--notify $DEAD_AT:"$DP" --xfr-rotate 3; then
	pass "$PREFIX/seedd-started"
else
	fail "$PREFIX/seedd-started" "$(tail -n 5 "$D/log")"
	exit 1
fi
SEEDD1=$SEEDD_PID
nsd -d -c "$N/nsd.conf" >"$N/stdout" 2>&1 &
NSD_PID=$!
knotd -c "$K/knot.conf" >"$K/stdout" 2>&1 &
KNOT_PID=$!
OTHER_PIDS="$NSD_PID $KNOT_PID"

S0=$(serial $SEEDD_AT "$SP")
[ -n "$S0" ] && pass "$PREFIX/seedd-soa ($S0)" || fail "$PREFIX/seedd-soa" "no SOA from seedd"

# --- 3. both load the zone ---------------------------------------------------
declare -A AT=([nsd]=$NSD_AT [knot]=$KNOT_AT) PT=([nsd]=$NP [knot]=$KP)
declare -A LOG=([nsd]="$N/nsd.log" [knot]="$K/knot.log")
for s in nsd knot; do
	if until_ok 10 same_serial "${AT[$s]}" "${PT[$s]}"; then
		pass "$PREFIX/$s-loaded (serial $(serial "${AT[$s]}" "${PT[$s]}"))"
	else
		fail "$PREFIX/$s-loaded" "serial '$(serial "${AT[$s]}" "${PT[$s]}")', seedd's '$(serial $SEEDD_AT "$SP")'; log: $(tail -n 5 "${LOG[$s]}" | one_line)"
	fi
done

for s in nsd knot; do
	a=${AT[$s]} p=${PT[$s]}
	got="$(q "$a" "$p" www.$ZONE A) / $(q "$a" "$p" alias.$ZONE A | one_line) / $(q "$a" "$p" v6.$ZONE AAAA) / $(q "$a" "$p" ns.$ZONE A) / $(q "$a" "$p" $ZONE NS)"
	want="93.184.216.34 / 93.184.216.34 www.$ZONE. / 2606:2800:220:1::34 / 203.0.113.53 / ns.$ZONE."
	[ "$got" = "$want" ] && pass "$PREFIX/$s-static-rows" || fail "$PREFIX/$s-static-rows" "want '$want', got '$got'"
done

# sample_check NAME: the secondary's apex A and AAAA are 5 node rows each and
# exactly the sample of seedd's AXFR at the same serial (rotations race this:
# tried until the secondary's serial, the AXFR's and the secondary's again agree).
sample_check() {
	local s=$1 a=${AT[$1]} p=${PT[$1]} end ser1 ser2 ser3 f=$TMPBASE/axfr.$1
	end=$((SECONDS + 6))
	while [ $SECONDS -lt $end ]; do
		ser1=$(serial "$a" "$p")
		q "$a" "$p" $ZONE A >"$f.a"
		q "$a" "$p" $ZONE AAAA >"$f.aaaa"
		axfr "$f"
		ser2=$(awk -v z="$ZONE." '$1 == z && $4 == "SOA" { print $7; exit }' "$f")
		ser3=$(serial "$a" "$p")
		[ -n "$ser1" ] && [ "$ser1" = "$ser2" ] && [ "$ser2" = "$ser3" ] && break
		sleep 0.2
	done
	if [ -z "$ser1" ] || [ "$ser1" != "$ser2" ] || [ "$ser2" != "$ser3" ]; then
		fail "$PREFIX/$s-sample" "never at seedd's serial: $ser1 $ser2 $ser3"
		return
	fi
	local fam
	for fam in A AAAA; do
		local mine want nodes=$TMPBASE/nodes4 lc=a
		[ $fam = AAAA ] && { nodes=$TMPBASE/nodes6; lc=aaaa; }
		mine=$(one_line <"$f.$lc")
		want=$(apex_set "$f" $fam | one_line)
		if [ "$(wc -l <"$f.$lc")" = 5 ] && [ "$mine" = "$want" ] && [ -z "$(comm -23 "$f.$lc" "$nodes")" ] &&
			[ "$(sort -u "$f.$lc" | wc -l)" = 5 ]; then
			pass "$PREFIX/$s-sample-$lc (serial $ser1: $mine)"
		else
			fail "$PREFIX/$s-sample-$lc" "serial $ser1: secondary '$mine', seedd's AXFR '$want'"
		fi
	done
}
sample_check nsd
sample_check knot
for s in nsd knot; do cp "$TMPBASE/axfr.$s.a" "$TMPBASE/$s.a.before"; done

# --- 4. a rotation reaches both by IXFR ------------------------------------
S1=$(serial $SEEDD_AT "$SP")
if until_ok 5 eval '[ "$(serial $SEEDD_AT "$SP")" -gt "$S1" ]'; then
	S2=$(serial $SEEDD_AT "$SP")
	pass "$PREFIX/rotation ($S1 -> $S2)"
else
	S2=$((S1 + 1))
	fail "$PREFIX/rotation" "serial still $(serial $SEEDD_AT "$SP") 5 s after $S1"
fi
t0=$(ms)
for s in nsd knot; do
	if until_ok 5 at_serial "${AT[$s]}" "${PT[$s]}" "$S2"; then
		pass "$PREFIX/$s-follows (serial $(serial "${AT[$s]}" "${PT[$s]}") within $(($(ms) - t0)) ms)"
	else
		fail "$PREFIX/$s-follows" "serial '$(serial "${AT[$s]}" "${PT[$s]}")', want >= $S2; log: $(tail -n 5 "${LOG[$s]}" | one_line)"
	fi
done
sample_check nsd
sample_check knot
for s in nsd knot; do
	cmp -s "$TMPBASE/axfr.$s.a" "$TMPBASE/$s.a.before" && echo "NOTE $s: the new sample repeats the old one (allowed)"
done

# Who used IXFR: Knot says so in its log; NSD 4.6 does not name the kind at
# any verbosity, so its share is seedd's count less Knot's. Counted while
# nothing moves: seedd's serial the same before and after, both at it.
xfr_counts() {
	local a b f=$TMPBASE/m.counts
	a=$(serial $SEEDD_AT "$SP")
	same_serial "$NSD_AT" "$NP" && same_serial "$KNOT_AT" "$KP" || return 1
	metrics "$MP" "$f" || return 1
	KA=$(grep -c "AXFR, incoming.*finished" "$K/knot.log")
	KI=$(grep -c "IXFR, incoming.*finished" "$K/knot.log")
	SA=$(m "$f" 'seedd_xfr_started_total{kind="axfr"}')
	SI=$(m "$f" 'seedd_xfr_started_total{kind="ixfr_diff"}')
	SF=$(m "$f" 'seedd_xfr_started_total{kind="ixfr_full"}')
	b=$(serial $SEEDD_AT "$SP")
	[ "$a" = "$b" ]
}
if until_ok 6 xfr_counts; then
	[ "$KI" -ge 1 ] && [ "$KA" = 1 ] && pass "$PREFIX/knot-ixfr (log: $KA AXFR, then $KI IXFR)" ||
		fail "$PREFIX/knot-ixfr" "knot's log: $KA AXFR, $KI IXFR: $(grep -E 'XFR' "$K/knot.log" | tail -n 3 | one_line)"
	[ $((SI - KI)) -ge 1 ] && [ $((SA - KA - MY_AXFR)) = 1 ] && [ "$SF" = 0 ] &&
		pass "$PREFIX/nsd-ixfr (seedd sent $SA AXFR, $SI IXFR diffs; Knot took $KA and $KI, dig $MY_AXFR AXFR)" ||
		fail "$PREFIX/nsd-ixfr" "seedd sent $SA AXFR, $SI IXFR diffs, $SF IXFR as whole zone; Knot took $KA AXFR, $KI IXFR, dig $MY_AXFR AXFR"
else
	fail "$PREFIX/ixfr-counts" "never quiet: seedd $(serial $SEEDD_AT "$SP"), nsd $(serial $NSD_AT "$NP"), knot $(serial $KNOT_AT "$KP")"
fi

# --- 5. answers stay valid --------------------------------------------------
for s in nsd knot; do
	a=${AT[$s]} p=${PT[$s]} f=$TMPBASE/ans.$s
	kdig @"$a" -p "$p" $ZONE A +tcp +norec +retry=0 +timeout=2 >"$f.kdig" 2>&1
	dig @"$a" -p "$p" $ZONE A +norec +tries=1 +time=2 >"$f.dig" 2>&1
	for c in kdig dig; do
		if grep -q "status: NOERROR" "$f.$c" && ! grep -qE ';; (WARNING|ERROR|Warning)|communications error|bad packet' "$f.$c" &&
			[ "$(apex_set "$f.$c" A | wc -l)" = 5 ]; then
			pass "$PREFIX/$s-$c-answer"
		else
			fail "$PREFIX/$s-$c-answer" "$(one_line <"$f.$c")"
		fi
	done
done

# Records of one version: SOA, NS, ns A, www A, alias CNAME, v6 AAAA, 5 A, 5 AAAA, SOA.
NREC=17
f=$TMPBASE/kdig.axfr
kdig -y "$TSIG" -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE AXFR +retry=0 +timeout=3 >"$f" 2>&1
if grep -qE "Received [0-9]+ B \(1 messages, $NREC records\)" "$f" && ! grep -qE ';; (WARNING|ERROR)' "$f" &&
	[ "$(apex_set "$f" A | wc -l)" = 5 ] && [ "$(apex_set "$f" AAAA | wc -l)" = 5 ]; then
	pass "$PREFIX/kdig-axfr-signed ($(grep -E 'Received' "$f"))"
else
	fail "$PREFIX/kdig-axfr-signed" "$(tail -n 12 "$f" | one_line)"
fi
f=$TMPBASE/dig.axfr
axfr "$f"
if grep -qE "XFR size: $NREC records \(messages 1" "$f" && grep -qE "TSIG\s+hmac-sha256\. .* NOERROR 0" "$f" &&
	! grep -qE "Couldn't verify|tsig verify failure|WARNING -- Some TSIG|Transfer failed" "$f"; then
	pass "$PREFIX/dig-axfr-signed ($(grep -E 'XFR size' "$f"))"
else
	fail "$PREFIX/dig-axfr-signed" "$(tail -n 12 "$f" | one_line)"
fi
f=$TMPBASE/dig.ixfr
dig -y "$TSIG" -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE IXFR="$S1" +tries=1 +time=3 >"$f" 2>&1
n=$(awk -v z="$ZONE." '$1 == z && $4 == "SOA"' "$f" | wc -l)
if [ "$n" -ge 3 ] && grep -qE "TSIG\s+hmac-sha256\. .* NOERROR 0" "$f" &&
	! grep -qE "Couldn't verify|tsig verify failure|WARNING -- Some TSIG|Transfer failed" "$f"; then
	pass "$PREFIX/dig-ixfr-signed (from $S1: $(grep -E 'XFR size' "$f"))"
else
	fail "$PREFIX/dig-ixfr-signed" "$(tail -n 12 "$f" | one_line)"
fi
# A signed query that is not a transfer gets a signed answer, over TCP and
# UDP (secondaries ask the SOA over UDP); a wrong secret gets BADSIG.
for tp in tcp udp; do
	f=$TMPBASE/dig.soa.$tp
	dig -y "$TSIG" -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE SOA +norec $([ $tp = tcp ] && echo +tcp || echo +notcp) +tries=1 +time=2 >"$f" 2>&1
	grep -q "status: NOERROR" "$f" && grep -qE "TSIG\s+hmac-sha256\. .* NOERROR 0" "$f" &&
		! grep -qE "Couldn't verify|tsig verify failure|WARNING" "$f" &&
		pass "$PREFIX/dig-soa-signed-$tp" ||
		fail "$PREFIX/dig-soa-signed-$tp" "$(grep -E "status:|TSIG|Couldn't|WARNING" "$f" | one_line)"
	f=$TMPBASE/dig.soa.bad.$tp
	dig -y "$BADTSIG" -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE SOA +norec $([ $tp = tcp ] && echo +tcp || echo +notcp) +tries=1 +time=2 >"$f" 2>&1
	grep -q "status: NOTAUTH" "$f" && grep -qE "TSIG\s+hmac-sha256\. .* BADSIG 0" "$f" &&
		pass "$PREFIX/dig-soa-wrong-secret-$tp (NOTAUTH, BADSIG)" ||
		fail "$PREFIX/dig-soa-wrong-secret-$tp" "$(grep -E "status:|TSIG|Couldn't|WARNING" "$f" | one_line)"
done

# --- 6. refusals ------------------------------------------------------------
metrics "$MP" "$TMPBASE/m.before"
f=$TMPBASE/dig.unsigned
dig -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE AXFR +tries=1 +time=2 >"$f" 2>&1
kdig -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE AXFR +retry=0 +timeout=2 >"$f.kdig" 2>&1
grep -q "Transfer failed" "$f" && grep -q "REFUSED" "$f.kdig" &&
	pass "$PREFIX/unsigned-axfr-refused" || fail "$PREFIX/unsigned-axfr-refused" "$(one_line <"$f") / $(one_line <"$f.kdig")"
f=$TMPBASE/dig.badsig
dig -y "$BADTSIG" -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE AXFR +tries=1 +time=2 >"$f" 2>&1
kdig -y "$BADTSIG" -b $CLIENT_AT @$SEEDD_AT -p "$SP" $ZONE AXFR +retry=0 +timeout=2 >"$f.kdig" 2>&1
grep -qE "TSIG\s+hmac-sha256\. .* BADSIG 0" "$f" && grep -q "Transfer failed" "$f" &&
	grep -q "server replied with error 'BADSIG'" "$f.kdig" &&
	pass "$PREFIX/wrong-secret-refused (NOTAUTH with TSIG error BADSIG)" ||
	fail "$PREFIX/wrong-secret-refused" "$(one_line <"$f") / $(one_line <"$f.kdig")"
metrics "$MP" "$TMPBASE/m.after"
d() { echo $(($(m "$TMPBASE/m.after" "$1") - $(m "$TMPBASE/m.before" "$1"))); }
u=$(d 'seedd_xfr_requests_total{result="refused_unsigned"}')
b=$(d 'seedd_tsig_requests_total{result="badsig"}')
[ "$u" = 2 ] && [ "$b" = 2 ] && pass "$PREFIX/metrics-refusals (refused_unsigned +$u, badsig +$b)" ||
	fail "$PREFIX/metrics-refusals" "want refused_unsigned +2 and badsig +2 (dig, kdig), got +$u, +$b"

# A second seedd that allows transfers to 127.69.9.9 only.
D2=$(new_dir)
cp "$D/zone.csv" "$D2/zone.csv"
if start_seedd "$D2" --listen $SEEDD2_AT:"$SP2" --metrics $SEEDD2_AT:"$MP2" --zone $ZONE --concurrency 0 \
	--tsig-key "$TMPBASE/xfr.key" --xfr-allow $NET.9.9; then
	SEEDD2=$SEEDD_PID
	f=$TMPBASE/dig.outside
	dig -y "$TSIG" -b $OUTSIDE_AT @$SEEDD2_AT -p "$SP2" $ZONE AXFR +tries=1 +time=2 >"$f" 2>&1
	kdig -y "$TSIG" -b $OUTSIDE_AT @$SEEDD2_AT -p "$SP2" $ZONE AXFR +retry=0 +timeout=2 >"$f.kdig" 2>&1
	grep -q "Transfer failed" "$f" && grep -qE "TSIG\s+hmac-sha256\. .* NOERROR 0" "$f" &&
		! grep -qE "Couldn't verify|tsig verify failure" "$f" &&
		grep -q "REFUSED" "$f.kdig" && ! grep -qE ';; WARNING.*TSIG|failed to verify' "$f.kdig" &&
		pass "$PREFIX/outside-source-refused (signed REFUSED)" ||
		fail "$PREFIX/outside-source-refused" "$(one_line <"$f") / $(one_line <"$f.kdig")"
	curl -s -m 3 -o "$TMPBASE/m2" "http://$SEEDD2_AT:$MP2/metrics"
	r=$(m "$TMPBASE/m2" 'seedd_xfr_requests_total{result="refused_source"}')
	[ "$r" = 2 ] && pass "$PREFIX/metrics-refused-source" || fail "$PREFIX/metrics-refused-source" "want 2, got $r"
	stop_seedd "$SEEDD2"
	[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-second-seedd" || fail "$PREFIX/sigterm-second-seedd" "exit $SEEDD_RC"
else
	fail "$PREFIX/second-seedd-started" "$(tail -n 5 "$D2/log")"
fi

# --- 7. NOTIFY: acknowledged by each, retried to the dead target only ------
acked() { grep -q "msg=\"notify acknowledged\" to=$1 serial=$2 " "$D/log"; }
for s in nsd knot; do
	to=${AT[$s]}:${PT[$s]}
	n=$(grep -c "msg=\"notify acknowledged\" to=$to " "$D/log")
	acked "$to" "$S2" && pass "$PREFIX/$s-notify-acknowledged ($n serials, $S2 among them)" ||
		fail "$PREFIX/$s-notify-acknowledged" "$(grep "to=$to" "$D/log" | tail -n 3 | one_line)"
done
metrics "$MP" "$TMPBASE/m3"
sent3=$(m "$TMPBASE/m3" 'seedd_notify_total{result="sent"}')
until_ok 5 metric_ge "$MP" 'seedd_notify_total{result="sent"}' $((sent3 + 1))
metrics "$MP" "$TMPBASE/m4"
retried=$(m "$TMPBASE/m4" 'seedd_notify_total{result="retried"}')
sent4=$(m "$TMPBASE/m4" 'seedd_notify_total{result="sent"}')
superseded=$(m "$TMPBASE/m4" 'seedd_notify_total{result="superseded"}')
dead=$(grep -c "to=$DEAD_AT:$DP " "$D/log")
# The retries are the dead target's once the secondaries' (tries - 1 of
# each acknowledged NOTIFY) are taken away.
theirs=$(grep -E "msg=\"notify acknowledged\" to=($NSD_AT:$NP|$KNOT_AT:$KP) " "$D/log" |
	sed -n 's/.* tries=\([0-9]*\) .*/\1/p' | awk '{ r += $1 - 1 } END { print r + 0 }')
[ "$sent4" -gt "$sent3" ] && [ $((retried - theirs)) -gt 0 ] && [ "$superseded" -gt 0 ] && [ "$dead" = 0 ] &&
	pass "$PREFIX/dead-target-retried (sent $sent3 -> $sent4, retried $retried of which the secondaries' $theirs, superseded $superseded)" ||
	fail "$PREFIX/dead-target-retried" "sent $sent3 -> $sent4, retried $retried (secondaries' $theirs), superseded $superseded, log lines for it: $dead"
# The others are not held back: every try of theirs was answered at once.
# (Not the first serial: it was sent before they were up.)
slow=$(grep -E "msg=\"notify acknowledged\" to=($NSD_AT:$NP|$KNOT_AT:$KP) " "$D/log" | grep -v " serial=$S0 " |
	grep -v " tries=1 ")
n=$(grep -E "msg=\"notify acknowledged\" to=($NSD_AT:$NP|$KNOT_AT:$KP) " "$D/log" | grep -vc " serial=$S0 ")
[ -z "$slow" ] && [ "$n" -ge 2 ] && pass "$PREFIX/others-acknowledged-first-try ($n NOTIFYs)" ||
	fail "$PREFIX/others-acknowledged-first-try" "$(echo "$slow" | head -n 3 | one_line)"

# --- 8. SIGTERM -------------------------------------------------------------
LAST=$(serial $SEEDD_AT "$SP")
stop_seedd "$SEEDD1"
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC: $(tail -n 3 "$D/log")"

# --- 7b. no rotation: once acknowledged, NOTIFY is not sent again ----------
# The same seedd restarted without the dead target and with a rotation an
# hour away: its first version must reach both (a serial above the last
# one), each NOTIFY answered once, then nothing more is sent for 3.5 s
# (retries would come 1 and 3 s after the first send).
mv "$D/log" "$D/log.1"
if start_seedd "$D" --listen $SEEDD_AT:"$SP" --metrics $SEEDD_AT:"$MP" "${SEEDD_ARGS[@]}" --xfr-rotate 3600; then
	S3=$(serial $SEEDD_AT "$SP")
	[ -n "$S3" ] && [ "$S3" -gt "$LAST" ] && pass "$PREFIX/restart-serial-grows ($LAST -> $S3)" ||
		fail "$PREFIX/restart-serial-grows" "before $LAST, after '$S3'"
	for s in nsd knot; do
		until_ok 6 acked "${AT[$s]}:${PT[$s]}" "$S3" && until_ok 4 at_serial "${AT[$s]}" "${PT[$s]}" "$S3" &&
			pass "$PREFIX/$s-after-restart (serial $S3)" ||
			fail "$PREFIX/$s-after-restart" "serial '$(serial "${AT[$s]}" "${PT[$s]}")', want $S3; $(grep notify "$D/log" | tail -n 3 | one_line)"
	done
	metrics "$MP" "$TMPBASE/m5"
	sent5=$(m "$TMPBASE/m5" 'seedd_notify_total{result="sent"}')
	if until_ok 3.5 metric_ge "$MP" 'seedd_notify_total{result="sent"}' $((sent5 + 1)); then
		fail "$PREFIX/notify-stops-when-acknowledged" "sent grew past $sent5"
	else
		metrics "$MP" "$TMPBASE/m6"
		got="$(m "$TMPBASE/m6" 'seedd_notify_total{result="sent"}') $(m "$TMPBASE/m6" 'seedd_notify_total{result="retried"}') $(m "$TMPBASE/m6" 'seedd_notify_total{result="acknowledged"}')"
		[ "$got" = "2 0 2" ] && pass "$PREFIX/notify-stops-when-acknowledged (sent 2, retried 0, acknowledged 2)" ||
			fail "$PREFIX/notify-stops-when-acknowledged" "sent, retried, acknowledged: $got, want 2 0 2"
	fi
	stop_seedd
	[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0-restarted" || fail "$PREFIX/sigterm-exit-0-restarted" "exit $SEEDD_RC"
else
	fail "$PREFIX/restart" "$(tail -n 5 "$D/log")"
fi
errs=$(cat "$D/log.1" "$D/log" "$D2/log" 2>/dev/null | grep -E '^[^ ]+ (error|fatal) ' | head -n 3)
[ -z "$errs" ] && pass "$PREFIX/no-errors-logged" || fail "$PREFIX/no-errors-logged" "$(echo "$errs" | one_line)"
