#!/usr/bin/env bash
# Node rows of zone.csv are crawl sources (SPEC 5): seedd starts with no
# --seed and no nodes.csv, only zone.csv rows for a good node and a dead one
# of a small simulated network (tests/sim/topo.py restart, 127.1.13.0/24).
# Both are served at once (the last known state), both are checked, the
# dead one is unpublished, and the good one's peers are found and published.
source "$(dirname "$0")/../lib.sh"
PREFIX=crawl-zone-rows
source "$ROOT/tests/sim/crawl.bash"
crawl_need_tools

W=$TMPBASE
"$PY" "$SIMDIR/topo.py" restart --out "$W/topo.json" --timeout 1
sim_start "$W/topo.json" zonerows
dir=$(new_dir); port=$(free_port)
printf 'ns.seed.test,hostmaster.seed.test 1 900 300 604800 60\nseed.test,127.1.13.1\nseed.test,127.1.13.4\nwww.seed.test,seed.test\n' >"$dir/zone.csv"
crawl_start "$dir" --zone seed.test --listen "127.0.0.1:$port" --allow-private --port 32767 \
	--interval 600 --timeout 1 --concurrency 8 --snapshot-interval 1 --log-level debug \
	--resolver "127.0.0.1:$(free_port)"
first=$(dig +short @127.0.0.1 -p "$port" seed.test A | sort | tr '\n' ' ')
crawl_wait_done 20
dig_a "$port" seed.test "$W/dig"
got=$(sort "$W/dig" | tr '\n' ' ')
want=$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" published | sort | tr '\n' ' ')
case "$first" in
"127.1.13.1 127.1.13.4 "|"127.1.13.1 "*) pass "$PREFIX/served-at-start" ;;
*) fail "$PREFIX/served-at-start" "right after the start: '$first'" ;;
esac
[ "$got" = "$want" ] && pass "$PREFIX/published-after-pass" || fail "$PREFIX/published-after-pass" "got '$got' want '$want'"
grep -q 'node=127.1.13.4:32767 result=bad reason=refused' "$CRAWL_LOG" && pass "$PREFIX/dead-row-checked" ||
	fail "$PREFIX/dead-row-checked" "no failed check of 127.1.13.4"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC"
sim_stop
grep -qx 'www.seed.test,seed.test' "$dir/zone.csv" && ! grep -qx 'seed.test,127.1.13.4' "$dir/zone.csv" &&
	pass "$PREFIX/zone-csv" || fail "$PREFIX/zone-csv" "$(cat "$dir/zone.csv")"
