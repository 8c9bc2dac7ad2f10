#!/usr/bin/env bash
# The crawler's limits (SPEC 2, 5), each a seedd run against one part of a
# simulated network (tests/sim/topo.py limits, 127.1.14.0-127.1.24.255):
#   off   --concurrency 0: no node is contacted, zone.csv is served as is
#   cap   --concurrency 3 with 12 black holes: never more than 3 checks at
#         once, so the pass lasts at least 12/3 x --timeout
#   max   --max-nodes 10 with 31 nodes: the table stays at 10
#   wide  one answer listing 1100 peers: at most 1000 are taken
source "$(dirname "$0")/../lib.sh"
PREFIX=crawl-limits
source "$ROOT/tests/sim/crawl.bash"
crawl_need_tools

W=$TMPBASE
"$PY" "$SIMDIR/topo.py" limits --out "$W/topo.json" --timeout 1
sim_start "$W/topo.json" limits
seed_of() { "$PY" "$SIMDIR/topo.py" get "$W/topo.json" group-seed "$1"; }
# stat EXPR: a Python expression over the simulator's stats s, now.
stat() { sim_snapshot && "$PY" -c 'import json, sys; s = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$SIM_STATS" "$1"; }
# No host names here: --resolver points at a closed loopback port, so that
# nothing is ever asked of the resolver in /etc/resolv.conf.
common() { C=(--zone seed.test --listen "127.0.0.1:$1" --allow-private --answers 1024 --port 32767
	--interval 600 --snapshot-interval 1 --log-level debug --resolver "127.0.0.1:$(free_port)"); }

# off: the crawler is off; the seed is never contacted.
dir=$(new_dir); port=$(free_port)
printf 'ns.seed.test,hostmaster.seed.test 7 3600 600 86400 60\nseed.test,127.1.17.200\n' >"$dir/zone.csv"
common "$port"; crawl_start "$dir" "${C[@]}" --seed "$(seed_of off)" --concurrency 0 --timeout 1
sleep 2
dig_a "$port" seed.test "$W/dig.off"
got=$(tr '\n' ' ' <"$W/dig.off")
[ "$got" = "127.1.17.200 " ] && pass "$PREFIX/off/zone-as-is" || fail "$PREFIX/off/zone-as-is" "dig said '$got', want the zone.csv row 127.1.17.200"
n=$(stat 's["nodes"]["offseed"]["conns"] + s["nodes"]["offpeer"]["conns"]')
[ "$n" = 0 ] && pass "$PREFIX/off/no-check" || fail "$PREFIX/off/no-check" "the seed was contacted $n times with --concurrency 0"
stop_seedd

# cap: 12 black holes and 12 good nodes behind one seed, 3 checks at once.
dir=$(new_dir); port=$(free_port)
common "$port"; crawl_start "$dir" "${C[@]}" --seed "$(seed_of cap)" --concurrency 3 --timeout 1
if crawl_wait_done 25 cap/pass-done; then
	# Black holes hold their slot for the whole --timeout: a 4th check in
	# flight would show as 4 of them open at once.
	sim_snapshot
	bh=$("$PY" "$SIMDIR/check.py" overlap "$SIM_STATS" --ids capbh)
	[ "$bh" = 3 ] && pass "$PREFIX/cap/concurrency" ||
		fail "$PREFIX/cap/concurrency" "$bh black holes were held open at once with --concurrency 3 (want 3)"
	[ "${PASS_MS:-0}" -ge 3900 ] && pass "$PREFIX/cap/black-holes-wait-their-turn" ||
		fail "$PREFIX/cap/black-holes-wait-their-turn" "pass done after ${PASS_MS}ms; 12 black holes, 3 at a time, 1 s each take 4 s"
fi
stop_seedd
rows=$("$PY" "$SIMDIR/check.py" rows "$dir" 2>&1)
bh=$(printf '%s\n' "$rows" | awk '$1 ~ /^127\.1\.14\.(1[0-9]|2[01])$/ && $3 == "no" && $4 == "timeout"' | wc -l)
gd=$(printf '%s\n' "$rows" | awk '$1 ~ /^127\.1\.14\.(3[0-9]|4[01])$/ && $3 == "yes"' | wc -l)
[ "$bh" = 12 ] && [ "$gd" = 12 ] && pass "$PREFIX/cap/rows" ||
	fail "$PREFIX/cap/rows" "want 12 black holes no/timeout and 12 good yes, got $bh and $gd: $(printf '%s' "$rows" | head -c 300)"

# max: 31 good nodes, a table of 10.
dir=$(new_dir); port=$(free_port)
common "$port"; crawl_start "$dir" "${C[@]}" --seed "$(seed_of max)" --concurrency 16 --timeout 1 --max-nodes 10
crawl_wait_done 20 max/pass-done
dig_a "$port" seed.test "$W/dig.max"
stop_seedd
n=$("$PY" "$SIMDIR/check.py" rows "$dir" 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && [ "$n" -le 10 ] && pass "$PREFIX/max/table-capped" || fail "$PREFIX/max/table-capped" "nodes.csv has $n rows with --max-nodes 10"
n=$(grep -c '^127\.1\.15\.' "$W/dig.max")
grep -qx 127.1.15.1 "$W/dig.max" && [ "$n" -le 10 ] && pass "$PREFIX/max/published-capped" ||
	fail "$PREFIX/max/published-capped" "dig: $n addresses, want the seed 127.1.15.1 and at most 10: $(head -c 200 "$W/dig.max")"

# wide: one answer of 1100 peers.
dir=$(new_dir); port=$(free_port)
common "$port"; crawl_start "$dir" "${C[@]}" --seed "$(seed_of wide)" --concurrency 64 --timeout 2
crawl_wait_done 30 wide/pass-done
stop_seedd
n=$("$PY" "$SIMDIR/check.py" rows "$dir" 2>/dev/null | awk '$1 ~ /^127\.1\.(2[0-4])\./' | wc -l)
[ "$n" -ge 1 ] && [ "$n" -le 1000 ] && pass "$PREFIX/wide/at-most-1000-peers-per-answer" ||
	fail "$PREFIX/wide/at-most-1000-peers-per-answer" "$n of the 1100 peers of one answer got rows"
echo "(wide: $n of 1100 peers kept)"
sim_stop
