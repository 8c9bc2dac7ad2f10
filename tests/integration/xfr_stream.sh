#!/usr/bin/env bash
# Large transfers stream from the loop without holding queries: a zone of
# 6,000 static rows (an AXFR of several messages), four signed transfers
# at once from kdig, again and again for a few seconds, while dig asks
# the apex over UDP. Every transfer must come whole (every record, a good
# TSIG), in several messages, and no UDP answer may wait behind them.
# Loopback: 127.70.0.0/16.
source "$(dirname "$0")/../lib.sh"

PREFIX=xfr-stream
for t in dig kdig curl; do
	command -v "$t" >/dev/null || { fail "$PREFIX/tools" "missing $t"; exit 0; }
done
dir=$(new_dir)
port=$(free_port)
secret=$(head -c 32 /dev/urandom | base64)
printf 'key "xfr-key" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$secret" >"$dir/key"
{
	echo "ns.stream.test,hostmaster.stream.test 2026120701 900 300 604800 60"
	for i in $(seq 1 30); do echo "stream.test,11.$i.0.1"; done
	for i in $(seq 1 6000); do echo "h$i.stream.test,10.$((i / 250)).$((i % 250)).1"; done
} >"$dir/zone.csv"
mport=$(free_port)
if ! start_seedd "$dir" -z stream.test -l "127.70.0.1:$port" --concurrency 0 --tsig-key "$dir/key" \
	--xfr-allow 127.70.0.0/16 --xfr-answers 10 --xfr-rotate 2 --metrics "127.70.0.1:$mport"; then
	fail "$PREFIX/start" "$(tail -n 3 "$dir/log")"
	exit 0
fi
# SOA, NS, 6000 static rows, 10 sampled addresses, SOA.
want=6013

xfr_loop() { # N: transfers until the deadline file goes; each result to $dir/xfr.N.*
	local n=$1 k=0
	while [ -e "$dir/running" ]; do
		kdig -b 127.70.0.2 -y "hmac-sha256:xfr-key:$secret" @127.70.0.1 -p "$port" stream.test AXFR \
			>"$dir/xfr.$n.$k" 2>&1
		k=$((k + 1))
	done
}
touch "$dir/running"
loops=()
for n in 1 2 3 4; do xfr_loop "$n" & loops+=($!); done
# UDP meanwhile: 60 queries, the slowest answer kept.
slow=0; lost=0
for i in $(seq 1 60); do
	out=$(dig +tries=1 +time=1 +stats -b 127.70.0.3 @127.70.0.1 -p "$port" stream.test A 2>&1)
	ms=$(sed -n 's/^;; Query time: \([0-9]*\) msec.*/\1/p' <<<"$out")
	if [ -z "$ms" ] || ! grep -q "status: NOERROR" <<<"$out"; then lost=$((lost + 1)); continue; fi
	[ "$ms" -gt "$slow" ] && slow=$ms
done
rm -f "$dir/running"
wait "${loops[@]}" # not seedd
# Per transfer: its record and message counts, and whether kdig said anything of TSIG or an error.
read -r total whole multi bad < <(awk -v want="$want" '
	FNR == 1 { if (NR > 1) done(); f = FILENAME; recs = ""; msgs = ""; err = 0 }
	/^;; Received/ { m = $0; sub(/.*\(/, "", m); split(m, a, " "); msgs = a[1]; recs = a[3] }
	/^;;/ && /(TSIG|[Ee]rror|failed)/ { err = 1 }
	function done() { total++; if (recs == want && !err) { whole++; if (msgs > 1) multi++ } else if (bad == "") bad = f }
	END { if (NR > 0) done(); printf "%d %d %d %s\n", total, whole, multi, (bad == "" ? "-" : bad) }
' "$dir"/xfr.*)
[ "$total" -ge 8 ] && [ "$whole" = "$total" ] && pass "$PREFIX/transfers whole and signed ($whole of $total)" ||
	fail "$PREFIX/transfers whole and signed" "$whole of $total whole; first bad: $bad: $(tail -n 3 "$bad" 2>/dev/null | tr '\n' ' ')"
[ "$multi" = "$whole" ] && [ "$multi" -gt 0 ] && pass "$PREFIX/in several messages" ||
	fail "$PREFIX/in several messages" "$multi of $whole"
[ "$lost" = 0 ] && [ "$slow" -lt 100 ] && pass "$PREFIX/UDP answered meanwhile (slowest $slow ms)" ||
	fail "$PREFIX/UDP answered meanwhile" "$lost of 60 lost, slowest $slow ms"
grep -q 'msg="transfer sent" to=127.70.0.2 kind=axfr' "$dir/log" && pass "$PREFIX/logged" || fail "$PREFIX/logged" "$(tail -n 3 "$dir/log")"
# As a secondary does: a signed SOA query, then an IXFR, an AXFR and a query on the same connection, each answer signed.
metric() { curl -s "http://127.70.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
c0=$(metric seedd_dns_tcp_connections_total)
serial=$(dig +short -b 127.70.0.3 @127.70.0.1 -p "$port" stream.test SOA | awk '{ print $3 }')
out=$(dig +tcp +keepopen -b 127.70.0.2 -y "hmac-sha256:xfr-key:$secret" @127.70.0.1 -p "$port" \
	stream.test SOA stream.test IXFR="$serial" stream.test AXFR stream.test A 2>&1)
c1=$(metric seedd_dns_tcp_connections_total)
signed=$(grep -c 'TSIG.*hmac-sha256\..* NOERROR 0' <<<"$out")
if [ "$((c1 - c0))" = 1 ] && [ "$signed" -ge 4 ] && ! grep -qiE "verify|couldn't|failed" <<<"$out" &&
	grep -q "XFR size: $want records" <<<"$out"; then
	pass "$PREFIX/SOA, IXFR, AXFR and a query on one connection, all signed"
else
	fail "$PREFIX/SOA, IXFR, AXFR and a query on one connection, all signed" \
		"connections $c0 -> $c1, $signed signed: $(grep -E 'status|XFR|TSIG|;; ' <<<"$out" | head -n 8 | tr '\n' ' ')"
fi
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC"
