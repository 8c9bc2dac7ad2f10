#!/usr/bin/env bash
# nodes.csv and its change log survive kill -9 at any moment (SPEC 3,
# base/changelog.h, nodes/nodes_file.h): a data dir with a nodes.csv of
# 20,000 nodes in 127.63.0.0/16 (this test's range alone), a few thousand
# of them due every --interval 8 s: 2,000 good ones that answer (simnet,
# fast engine), 300 good ones that stop answering at moments spread over
# the run, 300 failing ones that answer again, 400 that stay refused,
# 600 long-silent ones falling due one after another (forgotten at their
# check: gone rows); the nodes that answer report addresses of a pool
# that seedd learns (rows the log has first). Active rows carry a long
# URL (about 820 bytes a row), so the log passes half of nodes.csv after
# about 3.6 MB, and compactions (the in-loop whole write of nodes.csv,
# nodes.csv.log.next beside it meanwhile) happen within the rounds; every
# other one is hunted: once nodes.csv.log.next appears, the kill comes
# when nodes.csv.tmp holds a random share of nodes.csv (or is whole and
# being synced), or, every other hunt, the moment nodes.csv is the new
# file while nodes.csv.log.next is still there (after the commit, before
# the switch). Rounds: seedd on the dir
# (--snapshot-interval 1, --log-level debug), killed with SIGKILL 1.5-6 s
# after its crawler loaded (a hunting round with the log near the
# threshold goes on up to 6 s more for its compaction; with none seen two
# thirds of the way, up to 25 s); the dir is kept, so the log grows. Rounds
# 2, 5, 8 append a batch cut short to the log (as power loss leaves it).
# After every kill:
#   a. nodes.csv is a complete CSV (seedd's header, whole rows), no row
#      lost but by a gone row (a forgotten node), the other network's
#      rows kept as they were;
#   c. the independent replay of nodes.csv + the log that names its inode
#      (tests/integration/nodes_log_crash.py, changelog.h's rules) holds
#      every check that finished more than --snapshot-interval + 1 s
#      before the kill (from seedd's debug log, each line stamped when the
#      driver read it: never before seedd wrote it): a node's checks
#      count is at least what it loaded plus those checks, at most what it
#      loaded plus every check seen; a forgotten node's gone row is there;
#   b. (at the next start) seedd loads with no error line and its
#      loaded + replayed node count equals that replay's; a torn batch is
#      dropped and cut off the log; the zone it serves first has exactly
#      the node rows of zone.csv and zone.csv.log's good batches.
# Rounds 3 and 7 also check a copy of the crashed dir (nodes.csv and
# zone.csv hard linked: the logs name their inodes) with a short run
# stopped by SIGTERM,
# and the dir itself ends so:
#   d. exit 0, no *.tmp, nodes.csv.log a bare header naming nodes.csv, and
#      every check of that run in nodes.csv (c with no cutoff).
# NL_ROUNDS (default 10), NL_SEED, NL_NODES (default 20000) override the
# defaults; SEEDD=PATH tests another binary; NL_KEEP=DIR keeps the files.
_nl_seedd=${SEEDD:-}
source "$(dirname "$0")/../lib.sh"
[ -n "$_nl_seedd" ] && SEEDD=$_nl_seedd
PREFIX=nodes-log-crash
PY=/usr/bin/python3
H="$ROOT/tests/integration/nodes_log_crash.py"
ROUNDS=${NL_ROUNDS:-10}
SEED=${NL_SEED:-$RANDOM}
NODES=${NL_NODES:-20000}
RANDOM=$SEED
INTERVAL=8
IP=127.63.255.1    # seedd on the dir
RES=127.63.255.2   # its resolver: nothing there (no host name is resolved)
CIP=127.63.255.3   # seedd on a copy

SIMPID=""
nl_cleanup() {
	if [ -n "$SIMPID" ]; then kill "$SIMPID" 2>/dev/null; wait "$SIMPID" 2>/dev/null; fi
	[ -n "${NL_KEEP:-}" ] && mkdir -p "$NL_KEEP" && cp -a "$TMPBASE/." "$NL_KEEP/"
	cleanup # tests/lib.sh: seedd processes, the temp dir
}
trap nl_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

total=0
failed=0
ok() { pass "$PREFIX/$1"; total=$((total + 1)); }
ko() { fail "$PREFIX/$1" "$2"; total=$((total + 1)); failed=$((failed + 1)); }
ino() { stat -c %i "$1" 2>/dev/null || echo -; }
# report PREFIX: the helper's "ok NAME: ..." / "bad NAME: ..." lines as checks; "info" lines
# to INFO; no "end" line: the helper died (its traceback is in $TMPBASE/helper.err).
INFO=""
report() {
	local v rest ended=""
	INFO=""
	while IFS= read -r line; do
		v=${line%% *}
		rest=${line#* }
		case "$v" in
		ok) ok "$1/${rest%%: *}" ;;
		bad) ko "$1/${rest%%: *}" "${rest#*: }" ;;
		info) INFO="$INFO${INFO:+; }$rest" ;;
		end) ended=1 ;;
		*) ko "$1/helper" "unexpected output: $line" ;;
		esac
	done
	[ -n "$ended" ] || ko "$1/helper" "the checker died: $(tail -n 3 "$TMPBASE/helper.err" 2>/dev/null)"
}

dir=$(new_dir)
vdir="$TMPBASE/copy"
st="$TMPBASE/state.pkl"
port=$(free_port)
echo "seed $SEED, rounds $ROUNDS, nodes $NODES, seedd $SEEDD, dir $dir"
# A copy: a rebuild of the tree meanwhile must not change the binary under test
# (nor one caught in mid-link: tried until the copy runs).
for _ in $(seq 1 60); do
	cp "$SEEDD" "$TMPBASE/seedd" 2>/dev/null && "$TMPBASE/seedd" --version >/dev/null 2>&1 && break
	rm -f "$TMPBASE/seedd"
	sleep 0.5
done
[ -x "$TMPBASE/seedd" ] || { ko setup "no working binary at $SEEDD"; exit 0; }
SEEDD=$TMPBASE/seedd
if ss -Hltun | grep -q ' 127\.63\.'; then
	ko setup "something already listens in 127.63.0.0/16: $(ss -Hltun | grep ' 127\.63\.' | head -n 3)"
	exit 0
fi

# --- the data dir and the nodes that answer -----------------------------------------
t_start=$SECONDS
gen=$($PY "$H" gen "$dir" "$st" "$TMPBASE/topo.json" --nodes "$NODES" --interval "$INTERVAL" --seed "$SEED") ||
	{ ko setup "cannot generate the data"; exit 0; }
echo "data: $gen"
$PY "$ROOT/tests/sim/simnet.py" "$TMPBASE/topo.json" --ready "$TMPBASE/sim.ready" --engine fast --light \
	--max-seconds 900 2>"$TMPBASE/sim.log" &
SIMPID=$!
for _ in $(seq 1 300); do [ -s "$TMPBASE/sim.ready" ] && break; kill -0 "$SIMPID" 2>/dev/null || break; sleep 0.1; done
if [ ! -s "$TMPBASE/sim.ready" ]; then ko setup "simnet did not come up: $(tail -n 3 "$TMPBASE/sim.log")"; exit 0; fi
echo "simnet: $(cat "$TMPBASE/sim.ready"), setup $((SECONDS - t_start)) s"

common=(--zone nl.test --allow-private --interval "$INTERVAL" --timeout 2 --concurrency 256
	--snapshot-interval 1 --resolver "$RES:$port" --log-level debug)
seen=0           # compactions seen
hunted=0         # of which hunted
compacted=""     # rounds in which nodes.csv was replaced
cuts=""          # rounds killed with a compaction in flight

# run NAME DIR ADDR SECONDS [drive flags]: start seedd on DIR, drive it (J_* set); 0 when all went well.
run() {
	local name=$1 d=$2 addr=$3 secs=$4 out rc
	shift 4
	J_error=""
	if ! start_seedd "$d" "${common[@]}" --listen "$addr:$port"; then
		ko "$name/start" "seedd did not start: $(tail -n 3 "$d/log")"
		kill -KILL "$SEEDD_PID" 2>/dev/null; wait "$SEEDD_PID" 2>/dev/null
		return 1
	fi
	# (stderr aside meanwhile: bash reports the SIGKILL of its job there)
	exec 3>&2 2>>"$TMPBASE/drive.err"
	out=$($PY "$H" drive --pid "$SEEDD_PID" --log "$d/log" --dir "$d" --seconds "$secs" "$@")
	rc=$?
	wait "$SEEDD_PID"
	SEEDD_RC=$?
	exec 2>&3 3>&-
	eval "$out"
	if [ $rc != 0 ] || [ -n "$J_error" ]; then
		ko "$name/driver" "${J_error:-driver failed: $(tail -n 3 "$TMPBASE/drive.err")}; seedd: $(grep -v ' debug ' "$d/log" | tail -n 3)"
		kill -KILL "$SEEDD_PID" 2>/dev/null
		return 1
	fi
	return 0
}

for round in $(seq 1 "$ROUNDS"); do
	R="round $round"
	ino0=$(ino "$dir/nodes.csv")
	secs=$(( 15 + RANDOM % 46 ))   # tenths: 1.5 to 6 s
	hunt=()
	if [ $((seen % 2)) = 0 ]; then
		# In turn: while nodes.csv.tmp is written (when it holds 5-85% of nodes.csv's
		# size; or 90%: written whole, being synced), and after the commit, before
		# the switch.
		if [ $((hunted % 2)) = 1 ]; then
			hunt=(--hunt --hunt-commit)
		elif [ $((RANDOM % 4)) = 0 ]; then
			hunt=(--hunt --hunt-tmp 0.9)
		else
			hunt=(--hunt --hunt-tmp "$(printf '0.%02d' $(( 5 + RANDOM % 81 )))")
		fi
		# None yet two thirds of the way: wait for one (the log grows 150-250 KB a second).
		[ "$seen" = 0 ] && [ "$round" -ge $(( ROUNDS * 2 / 3 )) ] && hunt+=(--extend 25 --extend-frac 0)
	fi
	run "$R" "$dir" "$IP" "${secs:0:-1}.${secs: -1}" "${hunt[@]}" --seed "$((SEED * 100 + round))" \
		--out "$TMPBASE/r$round.json" || break
	cp "$dir/log" "$TMPBASE/log.$round"
	loaded_info=$(grep -o 'msg=loaded file=nodes.csv nodes=[0-9]*\|msg=replayed .*' "$dir/log" | tr '\n' ' ')
	if [ "$J_ncomp" -gt 0 ]; then
		[ ${#hunt[@]} -gt 0 ] && hunted=$((hunted + 1))
		seen=$((seen + J_ncomp))
	fi
	case "$J_cut" in none*) ;; *) cuts="$cuts $round" ;; esac
	[ "$ino0" != "$(ino "$dir/nodes.csv")" ] && compacted="$compacted $round"
	summary="killed ${J_kill_s}s after the load (${hunt[0]:+hunting, }$J_n checks, $J_rate/s, outages $J_outages);"
	summary="$summary compactions in the round: $J_ncomp${J_comp_at:+ at $J_comp_at s} (window seen ${J_window:--} s"
	summary="$summary${J_hunted_at:+, hunted at ${J_hunted_at}s}); in flight at the kill: $J_cut; at the kill: log"
	summary="$summary $J_log_bytes B, log.next $J_next_bytes B, tmp $J_tmp B, nodes.csv inode $ino0->$J_ino"

	# b on this round's start (the dir as the previous kill left it); rounds 2, 5, 8
	# append a batch cut short to the log that names nodes.csv; then a and c on the
	# dir as this kill left it.
	tear=()
	[ $((round % 3)) = 2 ] && tear=(--tear $(( round / 3 % 3 )))
	report "$R" < <($PY "$H" after "$dir/log" "$dir" "$st" "$TMPBASE/r$round.json" "${tear[@]}" 2>>"$TMPBASE/helper.err")
	after_info=$INFO

	# Rounds 3 and 7: a copy, stopped cleanly after a short run (b, c, d).
	copy=""
	if [ $((round % 4)) = 3 ]; then
		rm -rf "$vdir"
		mkdir "$vdir"
		ln "$dir/nodes.csv" "$vdir/nodes.csv"
		ln "$dir/zone.csv" "$vdir/zone.csv" # its log names its inode too
		for f in "$dir"/nodes.csv.log* "$dir"/zone.csv.log* "$dir"/*.tmp; do
			[ -e "$f" ] && cp "$f" "$vdir/"
		done
		copy="copied: $(cd "$vdir" && ls | tr '\n' ' ')"
		if run "$R/copy" "$vdir" "$CIP" 0.8 --term --out "$TMPBASE/c$round.json"; then
			if [ "$SEEDD_RC" = 0 ]; then ok "$R/copy/d clean exit"
			else ko "$R/copy/d clean exit" "exit $SEEDD_RC: $(grep -E ' (error|warn) ' "$vdir/log" | tail -n 3)"; fi
			report "$R/copy" < <($PY "$H" after "$vdir/log" "$vdir" "$st" "$TMPBASE/c$round.json" --clean --keep-state 2>>"$TMPBASE/helper.err")
			copy="$copy; its run: $J_n checks, then SIGTERM; $INFO"
		fi
	fi

	echo "SUMMARY $R: $summary; start: $loaded_info; after: $after_info${copy:+; $copy}"
done

# --- the dir itself, to the end: loads, runs, stops cleanly (b, c, d) ----------------
if run final "$dir" "$IP" 2 --term --out "$TMPBASE/final.json"; then
	if [ "$SEEDD_RC" = 0 ]; then ok "final/d clean exit"
	else ko "final/d clean exit" "exit $SEEDD_RC: $(grep -E ' (error|warn) ' "$dir/log" | tail -n 3)"; fi
	report final < <($PY "$H" after "$dir/log" "$dir" "$st" "$TMPBASE/final.json" --clean 2>>"$TMPBASE/helper.err")
	echo "SUMMARY final: $J_n checks, then SIGTERM; $INFO"
fi
if [ "$seen" -gt 0 ] && [ -n "$cuts" ]; then ok "a compaction was cut by a kill (rounds$cuts)"
elif [ "$seen" -gt 0 ]; then echo "note: $seen compactions, $hunted hunted, none in flight at its kill"
else ko "the log reached the compaction threshold" "no compaction in $ROUNDS rounds"; fi
echo "rounds in which nodes.csv was replaced:${compacted:- none}; killed with a compaction in flight:${cuts:- none}"
echo "TOTAL $PREFIX: $((total - failed)) of $total checks passed, $((SECONDS - t_start)) s (seed $SEED)"
[ "$failed" = 0 ] && pass "$PREFIX/all $total checks"
