#!/usr/bin/env bash
# The own-outage guard (SPEC 5): when nearly every check of good nodes
# fails at once, the fault is ours. seedd crawls 15 good nodes
# (tests/sim/topo.py outage, 127.1.25.0/24), then the whole simulated
# network disappears (as if our uplink went down). The guard must say so in
# the log, keep every node published, and leave the nodes' history as it
# was (checks not counted); when the network is back, seedd says so and
# goes on counting. Without the guard the nodes would be unpublished after
# two failed checks each (--interval 2: within about 6 s).
source "$(dirname "$0")/../lib.sh"
PREFIX=crawl-outage
source "$ROOT/tests/sim/crawl.bash"
crawl_need_tools

W=$TMPBASE
"$PY" "$SIMDIR/topo.py" outage --out "$W/topo.json" --timeout 1
sim_start "$W/topo.json" outage
dir=$(new_dir); port=$(free_port)
crawl_start "$dir" --zone seed.test --listen "127.0.0.1:$port" --allow-private --answers 1024 --port 32767 \
	--seed "$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" seeds)" --interval 2 --timeout 1 --concurrency 16 \
	--snapshot-interval 1 --log-level debug --resolver "127.0.0.1:$(free_port)"
crawl_wait_done 20
want=$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" published | sort | tr '\n' ' ')
dig_a "$port" seed.test "$W/dig1"
got=$(sort "$W/dig1" | tr '\n' ' ')
[ "$got" = "$want" ] && [ -n "$want" ] && pass "$PREFIX/published-before" || fail "$PREFIX/published-before" "got '$got' want '$want'"

# Our network goes down: every node refuses at once.
sim_stop
for _ in $(seq 1 150); do
	grep -q 'our network seems down' "$CRAWL_LOG" && break
	sleep 0.1
done
grep -q 'warn crawl msg="nearly every check of good nodes fails: our network seems down' "$CRAWL_LOG" &&
	pass "$PREFIX/outage-logged" || fail "$PREFIX/outage-logged" "no outage line; last: $(tail -n 3 "$CRAWL_LOG" | tr '\n' ' ')"
sleep 6 # without the guard every node would be unpublished by now
dig_a "$port" seed.test "$W/dig2"
got=$(sort "$W/dig2" | tr '\n' ' ')
[ "$got" = "$want" ] && pass "$PREFIX/still-published" || fail "$PREFIX/still-published" "got '$got' want '$want'"
fails=$(grep -c 'result=bad reason=refused' "$CRAWL_LOG")
[ "$fails" -ge 15 ] && pass "$PREFIX/kept-checking" || fail "$PREFIX/kept-checking" "only $fails failed checks logged"
sleep 1.5 # a snapshot
bad=$(awk -F, 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["good"] != "yes" || $c["checks"] != 1 || $c["last_error"] != "" { print $c["ip"] ":" $c["good"] ":" $c["checks"] ":" $c["last_error"] }' "$dir/nodes.csv")
[ -z "$bad" ] && [ "$(wc -l <"$dir/nodes.csv")" = 16 ] && pass "$PREFIX/history-untouched" ||
	fail "$PREFIX/history-untouched" "rows changed by the outage: $bad"

# The network comes back: the first success ends the outage.
sim_start "$W/topo.json" outage2
for _ in $(seq 1 400); do
	grep -q 'our network is back' "$CRAWL_LOG" && break
	sleep 0.1
done
grep -q 'info crawl msg="checks succeed again: our network is back"' "$CRAWL_LOG" &&
	pass "$PREFIX/back-logged" || fail "$PREFIX/back-logged" "no line saying the network is back"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC"
sim_stop
