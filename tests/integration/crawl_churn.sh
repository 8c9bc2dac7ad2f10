#!/usr/bin/env bash
# Nodes come and go under a running crawl (SPEC 5, src/nodes/health.h): a black-box
# test of the health model with a real seedd, the simulated network
# (tests/sim/topo.py churn, 127.1.27.0/24) and a pre-written nodes.csv:
#   s, a1-a3  always up; s is the --seed, the others are learnt from it;
#   L1-L6     30 days of answers in nodes.csv; L1-L3 die at t0+20 s
#             (t0: the simulator's ready time), L4-L6 stay up;
#   n1-n4     3 refused checks in nodes.csv (the last 5 s ago), never an
#             answer; they start to listen at t0+12 s.
# seedd runs 115 s at --interval 5 --timeout 1 --log-level debug; the
# published set is sampled every second with dig and from zone.csv.
#
# The bounds (interval 5 s, timeout 1 s):
# - the dead leave within 3 x interval + timeout = 16 s of down_at: the
#   next regular check comes within 1.1 interval, the early re-check of a
#   published node that failed 1.1 s later (interval/10, at least 1 s); a
#   second regular interval and a timeout are margin for a loaded machine.
# - the new appear within 4 x interval x 1.1 + timeout + 2 s = 25 s of
#   up_at: their 3 failures make the next steps 2, 4, 8 ... intervals from
#   the last failure (health_delay: interval << (fails - 2)). The first
#   check of the run comes 2 intervals after the last_check of nodes.csv,
#   about 5 s after the start, and fails (fail 4), so the step pending at
#   up_at is 4 intervals (+10% jitter) at most: a fifth failure would need
#   a check 18 s after the fourth, after up_at. Then + the timeout, + 2 s
#   for the sampling and a loaded machine.
# - zone.csv (with what zone.csv.log adds and withdraws since it was
#   written) is written once a --snapshot-interval (1 s) and read once a
#   second: its bounds have 2 s more than dig's.
# - published at the first answer: every dig sample from 2 s after the
#   node's first good check in the log (whole seconds) has it.
# - politeness (the simulator's count of accepted connections): the nodes
#   up all the time got between 0.8 and 1.25 times run/interval; no node got
#   two connections within 0.8 interval (the jitter is +-10%).
# Then a second, short seedd at --log-level info: no line per check.
source "$(dirname "$0")/../lib.sh"
PREFIX=crawl-churn
source "$ROOT/tests/sim/crawl.bash"
if [ -n "$CRAWL_REF" ]; then
	echo "SKIP $PREFIX: the reference crawler does one pass; this test needs a running crawler"
	exit 0
fi
crawl_need_tools

RUN=${CHURN_RUN:-115}   # seconds of the main run
INFO_RUN=20             # seconds of the --log-level info run
IV=5
W=$TMPBASE
"$PY" "$SIMDIR/topo.py" churn --out "$W/topo.json" --timeout 1 --up-at 12 --down-at 20
sim_start "$W/topo.json" churn
seed=$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" seeds)

dir=$(new_dir); port=$(free_port)
common=(--zone seed.test --allow-private --answers 64 --port 32767
	--interval "$IV" --timeout 1 --concurrency 16 --snapshot-interval 1
	--resolver "127.0.0.1:$(free_port)") # nothing listens there: no names in this network
"$PY" "$SIMDIR/topo.py" get "$W/topo.json" nodes-csv >"$dir/nodes.csv"
# And the zone.csv the run that wrote that history would have left: its
# good nodes published. seedd serves zone.csv from its first answer and
# reads nodes.csv a moment later (issue 14), so the long-lived nodes are
# there from the first sample on, as they would be after a restart.
{
	echo "ns.seed.test,hostmaster.seed.test 2026120101 28800 7200 604800 60"
	awk -F, 'NR > 1 && $2 == "yes" { print "seed.test," $1 }' "$dir/nodes.csv"
} >"$dir/zone.csv"
start=$EPOCHREALTIME
crawl_start "$dir" "${common[@]}" --listen "127.0.0.1:$port" --seed "$seed" --log-level debug

# One sample a second until start + RUN: "dig|zone T_BEFORE T_AFTER ADDR...".
us() { local t=${1/./}; echo $((10#$t)); }
end_us=$(( $(us "$start") + RUN * 1000000 ))
next_us=$(us "$start")
samples=$W/samples
: >"$samples"
while :; do
	now_us=$(us "$EPOCHREALTIME")
	[ "$now_us" -ge "$end_us" ] && break
	tb=$EPOCHREALTIME
	dig +short +time=1 +tries=2 @127.0.0.1 -p "$port" seed.test A >"$W/dig.out" 2>&1 || echo ERR >>"$W/dig.out"
	ta=$EPOCHREALTIME
	echo "dig $tb $ta $(tr -s ' \n' '  ' <"$W/dig.out")" >>"$samples"
	tb=$EPOCHREALTIME
	if [ -f "$dir/zone.csv" ]; then
		# zone.csv, then what zone.csv.log adds (+) and withdraws (-) since it was written.
		z=$(cat "$dir/zone.csv" "$dir/zone.csv.log" 2>/dev/null | awk -F, '
			/^seed\.test,/ { on[$2] = 1; next }
			/^\+seed\.test,/ { on[$2] = 1; next }
			/^-seed\.test,/ { delete on[$2] }
			END { for (a in on) print a }' | sort | tr '\n' ' ')
	else
		z=NOFILE
	fi
	ta=$EPOCHREALTIME
	echo "zone $tb $ta $z" >>"$samples"
	kill -0 "$SEEDD_PID" 2>/dev/null || break
	next_us=$((next_us + 1000000))
	now_us=$(us "$EPOCHREALTIME")
	while [ "$next_us" -le "$now_us" ]; do next_us=$((next_us + 1000000)); done
	d=$((next_us - now_us))
	sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
done
end=$EPOCHREALTIME
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC"
if sim_snapshot; then
	cp "$SIM_STATS" "$W/main.stats.json"
	"$PY" "$SIMDIR/check.py" churn "$W/topo.json" --samples "$samples" --nodes "$dir/nodes.csv" \
		--log "$dir/log" --stats "$W/main.stats.json" --start "$start" --end "$end" \
		--interval "$IV" --timeout 1 --prefix "$PREFIX" | report
else
	fail "$PREFIX/simnet-stats" "the simulator wrote no stats on SIGUSR1"
fi

# The same network, a fresh seedd at --log-level info for INFO_RUN seconds:
# no line per check; the start lines, one "crawl pass done", nothing else
# (no minute summary within 20 s).
dir2=$(new_dir)
crawl_start "$dir2" "${common[@]}" --listen "127.0.0.1:$(free_port)" --seed "$seed" --log-level info
crawl_wait_done 10 info/pass-done
sleep $((INFO_RUN - 1))
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/info/sigterm-exit-0" || fail "$PREFIX/info/sigterm-exit-0" "exit $SEEDD_RC"
sim_stop
n=$(grep -c 'node=' "$dir2/log")
[ "$n" = 0 ] && pass "$PREFIX/info/no-line-per-check" ||
	fail "$PREFIX/info/no-line-per-check" "$n lines with node=, e.g. $(grep -m1 'node=' "$dir2/log")"
# Every line is one of these: the start lines, one "crawl pass done", the
# stop lines (and the minute summary, were it reached).
n=$(grep -c 'crawl pass done' "$dir2/log")
total=$(wc -l <"$dir2/log")
others=$(grep -vE ' (info zone msg="no usable zone.csv|info crawl msg="trust anchors loaded"|info dns msg=listening |warn main msg="running as root|info (crawl|main) msg=started |info crawl msg="crawl pass done"|info crawl msg=summary |info main msg="stopping"|info main msg=stopped )' "$dir2/log")
[ "$n" = 1 ] && [ -z "$others" ] && [ "$total" -le 12 ] && pass "$PREFIX/info/few-lines" ||
	fail "$PREFIX/info/few-lines" "$total lines, $n 'crawl pass done'; unexpected: $(printf '%s\n' "$others" | head -n 3 | tr '\n' ' ')"
