#!/usr/bin/env bash
# Response rate limiting (RRL, like BIND's) and DNS cookies (RFC 7873/9018)
# under an amplification flood: rrlflood.py sends from 256 loopback
# addresses in four /24s (127.51.0-3.1-64), each /24 at 10x --rrl (200 q/s
# against --rrl 20) for 10 s, the apex A question with EDNS(0) 4096 and no
# cookie, while a legitimate client on 127.52.0.1 asks 5 times a second.
# Checked: no /24 gets back more bytes than it sent; the legitimate client
# is answered in full every time; the flood gets no full answer after its
# first second; a real client in a flooded /24 gets TC and its answer over
# TCP (dig); a client returning a valid server cookie is exempt (kdig), one
# without a cookie is not; the /metrics counters (limited = slipped +
# dropped, slip 2 truncates about half); one or two "rrl:" log lines naming
# a flooded /24 and no line per query; with --rrl 0 nothing is truncated.
# Every address used is in 127.51.0.0/22 or 127.52.0.0/24 (reserved for
# this test) or the server's 127.0.0.1.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"

PRE=dns-rrl
FLOOD="$HERE/rrlflood.py"
NANS=25

# j FILE EXPR: one value out of rrlflood's JSON (EXPR is Python over d).
j() { "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# scrape PORT FILE: /metrics into FILE; m FILE 'NAME{LABELS}': one sample
# of it ("" when absent).
scrape() { curl -s -m 3 -o "$2" "http://127.0.0.1:$1/metrics"; }
m() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
rrlm() { m "$1" "seedd_dns_rrl_responses_total{result=\"$2\"}"; }
# int... : every argument a non-negative integer.
int() { local v; for v; do [[ $v =~ ^[0-9]+$ ]] || return 1; done; }
# le A B, gt A B: integer comparisons that fail on a missing value.
le() { int "$1" "$2" && [ "$1" -le "$2" ]; }
gt() { int "$1" "$2" && [ "$1" -gt "$2" ]; }
# boot DIR PORTVAR MPORTVAR ARGS...: seedd through dnscommon's start, with
# --metrics on a free port of its own.
boot() {
	local dir=$1 pv=$2 mv=$3 m; shift 3
	m=$(free_port)
	while [ "$m" = "${!pv}" ]; do m=$(free_port); done
	printf -v "$mv" '%s' "$m"
	start "$dir" "$pv" --metrics "127.0.0.1:$m" --log-level info "$@"
}
# zone DIR: the SOA and 25 apex A records (public addresses, data only).
zone() {
	local i
	write_soa "$1" 300
	for i in $(seq 1 $NANS); do add_rows "$1" "$ZONE,11.$i.0.1"; done
}
# kind OUT: what one kdig +ignore run got: FULL (over UDP, NOERROR, TC
# clear, 25 A records), TC (truncated), NOREPLY, or OTHER and its header.
kind() {
	local n
	n=$(printf '%s\n' "$1" | awk '!/^;/ && $4 == "A"' | grep -c .)
	if ! has "$1" '^;; ->>HEADER<<-'; then echo NOREPLY
	elif has "$1" '^;; Flags:.* tc'; then echo TC
	elif has "$1" 'status: NOERROR' && has "$1" '\(UDP\)' && [ "$n" = "$NANS" ]; then echo FULL
	else echo "OTHER $n A: $(printf '%s\n' "$1" | grep -E 'status|Flags|From' | tr '\n' '|')"
	fi
}

D=$(new_dir); P=$(free_port)
zone "$D"
boot "$D" P M --rrl 20 --rrl-slip 2

# A server cookie for 127.51.1.200, before the flood (kdig prints the whole
# option, client cookie then server cookie: 8 + 8..32 bytes, RFC 7873 4).
o=$(timeout 5 kdig -b 127.51.1.200 @127.0.0.1 -p "$P" +time=2 +retry=0 +cookie $ZONE A 2>&1)
COOKIE=$(printf '%s\n' "$o" | sed -n 's/^;; COOKIE: \([0-9A-Fa-f]*\).*/\1/p' | head -n 1)
t "$PRE/kdig-gets-server-cookie" "kdig +cookie from 127.51.1.200: no server cookie in '$(printf '%s\n' "$o" | grep -E 'COOKIE|status|Flags' | tr '\n' '|')'" \
	eval '[ ${#COOKIE} -ge 32 ] && [ ${#COOKIE} -le 80 ]'

# The flood: 10 s at 200 q/s per /24, in the background.
F=$TMPBASE/flood.json
FLOOD_T0=$(date +%s)
"$PY" "$FLOOD" --port "$P" --rate 200 --seconds 10 >"$F" 2>"$TMPBASE/flood.err" &
FLOOD_PID=$!

# Two seconds in, every flooded bucket is deep below zero (it drains at
# 200/s, refills at 20/s down to a floor of -300) and stays limited for
# about 15 s after the flood stops: these clients need no hurry.
sleep 2.5

# (c) dig from a flooded /24 (it sends a client cookie only, so it is not
# exempt): a dropped try times out and dig tries again; a slipped one is
# truncated and dig retries over TCP, which is never limited. Three tries
# are all dropped about one time in eight, so, like a resolver asking again,
# up to three runs of dig.
DIGO=$TMPBASE/dig.out
(
	for run in 1 2 3; do
		o=$(timeout 10 dig -b 127.51.0.200 @127.0.0.1 -p "$P" $ZONE A +tries=3 +time=1 2>&1)
		if printf '%s\n' "$o" | grep -q 'Truncated, retrying in TCP mode'; then break; fi
	done
	printf 'RUNS %s\n%s\n' "$run" "$o"
) >"$DIGO" 2>&1 &
DIG_PID=$!

# (d) 10 queries from 127.51.1.200 returning its server cookie: exempt, so
# all full answers over UDP (+ignore: a truncated reply is shown as is, not
# retried over TCP). Control: 10 from 127.51.1.201 without a cookie.
CKO=$TMPBASE/cookie.out
(
	for i in $(seq 1 10); do
		o=$(timeout 5 kdig -b 127.51.1.200 @127.0.0.1 -p "$P" +time=2 +retry=0 +ignore "+cookie=$COOKIE" $ZONE A 2>&1)
		kind "$o"
	done
) >"$CKO" 2>&1 &
CK_PID=$!
NCO=$TMPBASE/nocookie.out
(
	for i in $(seq 1 10); do
		o=$(timeout 5 kdig -b 127.51.1.201 @127.0.0.1 -p "$P" +time=1 +retry=0 +ignore +nocookie $ZONE A 2>&1)
		kind "$o"
	done
) >"$NCO" 2>&1 &
NC_PID=$!

wait "$DIG_PID" "$CK_PID" "$NC_PID"
wait "$FLOOD_PID"
FLOOD_RC=$?
if [ "$FLOOD_RC" != 0 ] || ! j "$F" 'd["total"]["queries"]' >/dev/null 2>&1; then
	fail "$PRE/flood-ran" "rrlflood.py exited $FLOOD_RC: $(tail -n 5 "$TMPBASE/flood.err" | tr '\n' '|')"
	exit 1
fi
echo "# flood: send $(j "$F" 'd["send"]') total $(j "$F" 'd["total"]') legit $(j "$F" 'd["legit"]')"
echo "# timeline (sent/replies/tc/full per second): $(j "$F" '" ".join("%(sent)d/%(replies)d/%(tc)d/%(full)d" % s for s in d["timeline"])')"

# The flood itself went out as planned (else the figures below mean little).
t "$PRE/flood-sent-at-rate" "sent $(j "$F" 'd["send"]')" \
	eq "$(j "$F" 'int(d["send"]["sent"] >= 0.95 * d["send"]["planned"] and d["send"]["duration_s"] < 10.5)')" 1

# (a) No flooded /24 got back more bytes than it sent.
for n in 0 1 2 3; do
	k="127.51.$n.0/24"
	read -r bout bin < <(j "$F" "'%(bytes_out)d %(bytes_in)d' % d['prefixes']['$k']")
	t "$PRE/no-amplification-127.51.$n.0/24" "$k sent $bout bytes and got $bin back: $(j "$F" "d['prefixes']['$k']")" \
		eval 'gt "$bout" 0 && le "$bin" "$bout"'
done

# The flood's own full answers: a burst at first, none after its first second.
t "$PRE/flood-no-full-answers-after-first-second" "full answers per second: $(j "$F" '[s["full"] for s in d["timeline"]]')" \
	eq "$(j "$F" 'sum(s["full"] for s in d["timeline"][1:])')" 0
tc=$(j "$F" 'd["total"]["tc"]')
t "$PRE/flood-slips-truncated" "no TC reply to the flood: $(j "$F" 'd["total"]')" gt "$tc" 0

# (b) The legitimate client: every one of its 50 queries answered in full.
t "$PRE/legit-client-answered-in-full" "legitimate client at 5 q/s: $(j "$F" 'd["legit"]')" \
	eq "$(j "$F" '"%(sent)d %(answered)d %(with_records)d %(full)d %(tc)d %(lost)d" % d["legit"]')" "50 50 50 50 0 0"

# (c) dig: truncated over UDP, then the answer over TCP.
o=$(cat "$DIGO")
nA=$(printf '%s\n' "$o" | awk '!/^;/ && $4 == "A"' | grep -c .)
t "$PRE/dig-truncated-then-tcp-answer" "dig from 127.51.0.200 during the flood: $(printf '%s\n' "$o" | grep -E '^RUNS|Truncated|status|flags|SERVER|timed out|reached' | tr '\n' '|') A records: $nA" \
	eval 'has "$o" "Truncated, retrying in TCP mode" && has "$o" "status: NOERROR" && has "$o" "\(TCP\)" && eq "$nA" "$NANS"'
echo "# dig runs needed: $(sed -n 's/^RUNS //p' "$DIGO")"

# (d) cookies: exempt with a valid server cookie, limited without.
nfull=$(grep -c '^FULL' "$CKO")
t "$PRE/valid-cookie-exempt-10-of-10" "with the server cookie, $nfull of 10 full answers: $(sort "$CKO" | uniq -c | tr '\n' ' ')" \
	eq "$nfull" 10
nfull=$(grep -c '^FULL' "$NCO")
t "$PRE/no-cookie-limited" "without a cookie, $nfull of 10 full answers (want at most 5): $(sort "$NCO" | uniq -c | tr '\n' ' ')" \
	le "$nfull" 5
echo "# cookie: $(sort "$CKO" | uniq -c | tr '\n' ' ') no cookie: $(sort "$NCO" | uniq -c | tr '\n' ' ')"

# (e) /metrics, one scrape (every client is done by now).
MF=$TMPBASE/metrics.txt
scrape "$M" "$MF"
lim=$(rrlm "$MF" limited); sl=$(rrlm "$MF" slipped); dr=$(rrlm "$MF" dropped)
echo "# metrics: $(grep -E '^seedd_dns_(cookies|rrl)_' "$MF" | tr '\n' ' ')"
t "$PRE/metrics-limited-slipped-dropped-positive" "limited=$lim slipped=$sl dropped=$dr" \
	eval 'gt "$lim" 0 && gt "$sl" 0 && gt "$dr" 0'
t "$PRE/metrics-limited-is-slipped-plus-dropped" "limited=$lim slipped=$sl dropped=$dr" \
	eval 'int "$lim" "$sl" "$dr" && eq "$lim" "$((sl + dr))"'
t "$PRE/metrics-slip-2-truncates-about-half" "slipped=$sl of limited=$lim (want 40-60%)" \
	awk -v s="${sl:-0}" -v l="${lim:-0}" 'BEGIN { exit !(l > 0 && s >= 0.4 * l && s <= 0.6 * l) }'
# The flood got every slip the server counted (loopback loses nothing), but
# for those of dig's and kdig's queries (13 at most).
t "$PRE/metrics-slipped-matches-flood-tc" "server slipped=$sl, the flood got $tc TC replies" \
	eval 'le "$tc" "$sl" && le "$sl" "$((tc + 20))"'

# (f) The log: one line (two at most) for the whole episode, naming a flooded
# /24; nothing per query.
nr=$(grep -c 'rrl:' "$D/log")
nl=$(grep -c . "$D/log")
t "$PRE/log-one-or-two-rrl-lines" "$nr rrl: lines: $(grep 'rrl:' "$D/log" | head -n 3 | tr '\n' '|')" \
	eval 'le 1 "$nr" && le "$nr" 2'
t "$PRE/log-names-flooded-prefix" "rrl: lines: $(grep 'rrl:' "$D/log" | head -n 3 | tr '\n' '|')" \
	eval "grep 'rrl:' '$D/log' | grep -Eq '127\\.51\\.[0-3]\\.0/24'"
# The first line within about a second of limiting starting (0.1 s into the
# flood); the log's time stamps have whole seconds, hence 2 s.
first=$(grep -m1 'rrl:' "$D/log" | awk '{ print $1 }')
ft=""
[ -n "$first" ] && ft=$(date -d "$first" +%s 2>/dev/null)
t "$PRE/log-first-line-within-2s" "flood started at $(date -u -d "@$FLOOD_T0" +%FT%TZ), first rrl: line at '$first'" \
	eval 'int "$ft" && le "$ft" "$((FLOOD_T0 + 2))"'
t "$PRE/log-no-line-per-query" "$nl log lines; last: $(tail -n 5 "$D/log" | tr '\n' '|')" le "$nl" 29
echo "# log: $(grep 'rrl:' "$D/log" | head -n 2 | tr '\n' '|')"
stop_all

# (g) --rrl 0: the same flood, 3 s, is answered in full; nothing limited.
D2=$(new_dir); P2=$(free_port)
zone "$D2"
boot "$D2" P2 M2 --rrl 0
F2=$TMPBASE/flood0.json
if ! "$PY" "$FLOOD" --port "$P2" --rate 200 --seconds 3 >"$F2" 2>"$TMPBASE/flood0.err"; then
	fail "$PRE/flood-rrl-0-ran" "rrlflood.py failed: $(tail -n 5 "$TMPBASE/flood0.err" | tr '\n' '|')"
	exit 1
fi
echo "# rrl 0: total $(j "$F2" 'd["total"]')"
t "$PRE/rrl-0-no-tc" "with --rrl 0: $(j "$F2" 'd["total"]')" eq "$(j "$F2" 'd["total"]["tc"]')" 0
t "$PRE/rrl-0-every-query-answered-in-full" "with --rrl 0: $(j "$F2" 'd["total"]') planned $(j "$F2" 'd["send"]["planned"]')" \
	eq "$(j "$F2" 'int(d["total"]["full"] == d["total"]["queries"] == d["send"]["planned"])')" 1
MF2=$TMPBASE/metrics0.txt
scrape "$M2" "$MF2"
lim=$(rrlm "$MF2" limited)
t "$PRE/rrl-0-metrics-limited-zero" "with --rrl 0, limited=$lim" eq "$lim" 0
t "$PRE/rrl-0-log-silent" "rrl: lines with --rrl 0: $(grep 'rrl:' "$D2/log" | head -n 2 | tr '\n' '|')" \
	eval "! grep -q 'rrl:' '$D2/log'"
stop_all
