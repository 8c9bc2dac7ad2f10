#!/usr/bin/env bash
# IPv6 nodes (SPEC 5: a node is address and port): seedd crawls nodes on
# [::1] in both dialects (tests/sim/topo.py ipv6) from an IPv6 seed, learns
# an IPv4 peer from them, publishes the good default-port nodes as AAAA and
# A, and reports the node on another port and the dead one in nodes.csv
# with bracketed URLs.
source "$(dirname "$0")/../lib.sh"
PREFIX=crawl-ipv6
source "$ROOT/tests/sim/crawl.bash"
crawl_need_tools
if ! "$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	fail "$PREFIX/ipv6-loopback" "this machine has no ::1"
	exit 0
fi

W=$TMPBASE
"$PY" "$SIMDIR/topo.py" ipv6 --out "$W/topo.json" --timeout 1
sim_start "$W/topo.json" ipv6
dir=$(new_dir); port=$(free_port)
crawl_start "$dir" --zone seed.test --listen "127.0.0.1:$port" --allow-private --port 32767 \
	--seed "$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" seeds)" --interval 600 --timeout 1 --concurrency 8 \
	--snapshot-interval 1 --log-level debug --resolver "127.0.0.1:$(free_port)"
crawl_wait_done 20
aaaa=$(dig +short @127.0.0.1 -p "$port" seed.test AAAA | tr '\n' ' ')
a=$(dig +short @127.0.0.1 -p "$port" seed.test A | tr '\n' ' ')
[ "$aaaa" = "::1 " ] && pass "$PREFIX/aaaa-published" || fail "$PREFIX/aaaa-published" "AAAA: '$aaaa'"
[ "$a" = "127.1.26.1 " ] && pass "$PREFIX/a-published" || fail "$PREFIX/a-published" "A: '$a'"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC"
sim_stop
rows=$(awk -F, 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{ print $c["ip"] "," $c["port"] "," $c["good"] "," $c["dialect"] "," $c["last_error"] "," $c["url"] }' "$dir/nodes.csv" | sort | tr '\n' ' ')
want="127.1.26.1,32767,yes,0.1,,ws://127.1.26.1:32767/ ::1,32767,yes,0.1,,ws://[::1]:32767/ ::1,32771,yes,1.1,,ws://[::1]:32771/ ::1,32772,yes,0.1,,ws://[::1]:32772/ ::1,32773,no,,refused,ws://[::1]:32773/ "
[ "$rows" = "$want" ] && pass "$PREFIX/nodes-csv" || fail "$PREFIX/nodes-csv" "got '$rows' want '$want'"
grep -qx 'seed.test,::1' "$dir/zone.csv" && grep -qx 'seed.test,127.1.26.1' "$dir/zone.csv" &&
	[ "$(grep -c '^seed.test,' "$dir/zone.csv")" = 2 ] && pass "$PREFIX/zone-csv" || fail "$PREFIX/zone-csv" "$(cat "$dir/zone.csv")"
