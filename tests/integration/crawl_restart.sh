#!/usr/bin/env bash
# A crawl survives a restart (SPEC 3, 5): seedd crawls a small simulated
# network (tests/sim/topo.py restart, 127.1.13.0/24), stops; started again
# without --seed it serves the same set at once from its snapshots, keeps
# each node's history (first_seen, checks, successes), re-checks the good
# nodes, and speaks 1.1 first to the nodes it learnt speak 1.1.
source "$(dirname "$0")/../lib.sh"
PREFIX=crawl-restart
source "$ROOT/tests/sim/crawl.bash"
crawl_need_tools

W=$TMPBASE
"$PY" "$SIMDIR/topo.py" restart --out "$W/topo.json" --timeout 1
sim_start "$W/topo.json" restart

dir=$(new_dir); port=$(free_port)
common=(--zone seed.test --listen "127.0.0.1:$port" --allow-private --answers 1024 --port 32767
	--timeout 1 --concurrency 8 --snapshot-interval 1 --log-level debug
	--resolver "127.0.0.1:$(free_port)") # no names here: never the resolver of /etc/resolv.conf
since=$(date +%s)
crawl_start "$dir" "${common[@]}" --seed "$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" seeds)" --interval 600
crawl_wait_done 20
dig_a "$port" seed.test "$W/dig1"
serial1=$(dig +short @127.0.0.1 -p "$port" seed.test SOA | awk '{print $3}')
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC"
cp "$dir/nodes.csv" "$W/before.csv" 2>/dev/null
"$PY" "$SIMDIR/check.py" crawl "$W/topo.json" "$dir" --since "$since" --prefix "$PREFIX/first" \
	--dig "$W/dig1" | report

# Run 2: no --seed, a short --interval so the good nodes come due at once.
crawl_start "$dir" "${common[@]}" --interval 2
dig_a "$port" seed.test "$W/dig2"
# The same nodes, published again from the snapshots: not a change of the zone.
serial2=$(dig +short @127.0.0.1 -p "$port" seed.test SOA | awk '{print $3}')
[ -n "$serial1" ] && [ "$serial1" = "$serial2" ] && pass "$PREFIX/serial-unchanged" ||
	fail "$PREFIX/serial-unchanged" "serial before the stop $serial1, after the restart $serial2"
a=$(sort "$W/dig1" | tr '\n' ' '); b=$(sort "$W/dig2" | tr '\n' ' ')
want=$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" published | sort | tr '\n' ' ')
[ "$b" = "$want" ] && [ "$a" = "$b" ] && pass "$PREFIX/served-at-once" ||
	fail "$PREFIX/served-at-once" "right after the restart dig said '$b'; before it '$a'; want '$want'"

# Wait (at most 20 s) until every good node was checked again in nodes.csv.
goods=$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" published)
rechecked() {
	local ip n0 n1
	for ip in $goods; do
		n0=$(awk -F, -v ip="$ip" 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i } NR>1 && $c["ip"]==ip { print $c["checks"] }' "$W/before.csv")
		n1=$(awk -F, -v ip="$ip" 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i } NR>1 && $c["ip"]==ip { print $c["checks"] }' "$dir/nodes.csv" 2>/dev/null)
		[ -n "$n1" ] && [ "${n1%%.*}" -gt "${n0%%.*}" ] 2>/dev/null || return 1
	done
}
for _ in $(seq 1 200); do
	[ -n "$CRAWL_REF" ] && break
	rechecked && break
	kill -0 "$SEEDD_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$CRAWL_REF" ] && timeout 60 "$PY" "$SIMDIR/refcrawl.py" --data-dir "$dir" "${common[@]}" 2>>"$CRAWL_LOG"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/second-sigterm-exit-0" || fail "$PREFIX/second-sigterm-exit-0" "exit $SEEDD_RC"
sim_stop
"$PY" "$SIMDIR/check.py" restart "$W/topo.json" "$W/before.csv" "$dir/nodes.csv" --stats "$SIM_STATS" \
	--prefix "$PREFIX" | report
