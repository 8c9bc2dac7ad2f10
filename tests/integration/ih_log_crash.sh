#!/usr/bin/env bash
# infohashes.csv and its change log survive kill -9 at any moment (SPEC 3,
# base/changelog.h): a data dir with 200,000 realistic rows, then rounds of
# seedd under a few thousand get_peers a second (new infohashes, base
# ones, new ones of earlier rounds) from thousands of 127.62.x.y sources,
# killed with SIGKILL after 1.5-6 s. The dir is kept across rounds, so the
# log grows past half of infohashes.csv and compactions happen; every other
# one is hunted: the kill comes while it is in flight (its writer, seedd's
# forked child, left to finish alone or killed too, sometimes stalled with
# SIGSTOP first so that batches go to both logs). Rounds 2, 6, 10 also
# append a batch cut short to the log (as power loss would leave it).
# After every kill:
#   c. infohashes.csv is a complete CSV (header, whole rows, every base row);
#   a. seedd loads the dir with no error line, and holds at least the base
#      rows plus every new infohash answered before kill - 1.5 s;
#   b. once stopped cleanly, every get_peers answered before kill - 1.5 s
#      is counted, and no count exceeds what was sent; the log left is a
#      bare header naming the file; no *.tmp is left (d).
# a and b run on a copy of the crashed dir that shares infohashes.csv's
# inode (a hard link; the logs name it by dev:ino), so the dir itself
# keeps its log and goes on to the next round as the crash left it (its
# own next start is checked for a too). The driver records each answer's
# arrival and sends the kill itself (tests/integration/ih_log_crash.py).
# IH_ROUNDS, IH_RATE, IH_SEED override the defaults.
source "$(dirname "$0")/../lib.sh"
PREFIX=ih-log-crash
PY=/usr/bin/python3
H="$ROOT/tests/integration/ih_log_crash.py"
ROUNDS=${IH_ROUNDS:-12}
RATE=${IH_RATE:-12000}
SEED=${IH_SEED:-$RANDOM}
RANDOM=$SEED
BASE_ROWS=200000
IP=127.62.0.1     # the dir's seedd: DNS and DHT
VIP=127.62.0.3    # the seedd that checks a copy
PINGER=127.62.0.9

dir=$(new_dir)
vdir="$TMPBASE/verify"
st="$TMPBASE/state.pkl"
port=$(free_port)
dport=$(free_port)
[ "$dport" = "$port" ] && dport=$((port + 1))
common=(--zone d.test --allow-private --concurrency 0 --snapshot-interval 1
	--dht-bootstrap 127.62.0.2:6881 --log-level debug)
echo "seed $SEED, rounds $ROUNDS, rate $RATE/s, dir $dir"

total=0
failed=0
ok() { pass "$PREFIX/$1"; total=$((total + 1)); }
ko() { fail "$PREFIX/$1" "$2"; total=$((total + 1)); failed=$((failed + 1)); }
# jload FILE: the driver's summary as shell variables J_<key>.
jload() { eval "$($PY -c 'import json,shlex,sys
for k, v in json.load(open(sys.argv[1])).items():
    v = " ".join(map(str, v)) if isinstance(v, list) else json.dumps(v) if isinstance(v, bool) or v is None else v
    print("J_%s=%s" % (k, shlex.quote(str(v))))' "$1")"; }
ino() { stat -c %i "$1" 2>/dev/null || echo -; }
# alive PID: running (an orphan that has exited may wait a while as a zombie for its reaper).
alive() { local s; s=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }

# loadcheck NAME LOG EXPECT: check a on a seedd's log (it answered a ping, so its
# first turn, the load and the replay, is over). Sets LOADED for the summary.
loadcheck() {
	local name=$1 log=$2 want=$3 n r errs
	n=$(sed -n 's/.* info dht msg=loaded file=infohashes.csv infohashes=\([0-9]*\) .*/\1/p' "$log" | tail -n 1)
	r=$(grep ' msg=replayed file=infohashes.csv.log ' "$log" | tail -n 1)
	[ -n "$r" ] && n=$(printf '%s\n' "$r" | sed -n 's/.* infohashes=\([0-9]*\).*/\1/p')
	errs=$(grep -E '^[^ ]+ error ' "$log" | head -n 3)
	LOADED="N=${n:-none}${r:+ (${r#* msg=replayed file=infohashes.csv.log })}"
	local w; w=$(grep ' warn dht ' "$log" | sed 's/^.* warn dht //' | sort | uniq -c | sed 's/^ *//' | tr '\n' ';')
	[ -n "$w" ] && LOADED="$LOADED, warned: ${w%;}"
	if [ -z "$n" ]; then ko "$name" "no 'msg=loaded file=infohashes.csv' line: $(grep ' dht ' "$log" | head -n 5)"
	elif [ -n "$errs" ]; then ko "$name" "error lines: $errs"
	elif [ "$n" -lt "$want" ]; then ko "$name" "N=$n < $want (base rows + new infohashes answered before the cutoffs); $r"
	else ok "$name"; fi
}

# cleanstop NAME DIR [bg]: check b and d on DIR after seedd there stopped with
# SIGTERM. With bg, b (a second's reading of the file) runs in the background
# and reports through collect.
VPID=""
cleanstop() {
	local name=$1 d=$2 head want
	if stop_seedd && [ "$SEEDD_RC" = 0 ]; then ok "$name/clean exit"
	else ko "$name/clean exit" "exit $SEEDD_RC: $(grep -E ' (error|warn) ' "$d/log" | grep -v 'running as root' | tail -n 3)"; fi
	head=$(cat "$d/infohashes.csv.log" 2>/dev/null)
	want="#seedd-log base=$(stat -c %d "$d/infohashes.csv"):$(ino "$d/infohashes.csv")"
	if [ "$head" = "$want" ] && [ ! -e "$d/infohashes.csv.log.next" ]; then ok "$name/log is a bare header"
	else ko "$name/log is a bare header" "log '$(head -c 200 "$d/infohashes.csv.log" 2>/dev/null)' want '$want'; $(ls "$d")"; fi
	if ls "$d" | grep -q '\.tmp$'; then ko "$name/d no *.tmp after a clean stop" "$(ls -l "$d" | grep '\.tmp$')"
	else ok "$name/d no *.tmp after a clean stop"; fi
	VNAME="$name/b every get_peers answered before the cutoff counted"
	# The next round may begin meanwhile: what is read is set aside.
	ln -f "$d/infohashes.csv" "$TMPBASE/verify.csv"
	cp "$st" "$TMPBASE/verify.pkl"
	$PY "$H" verify "$TMPBASE/verify.csv" "$TMPBASE/verify.pkl" >"$TMPBASE/verify.out" &
	VPID=$!
	[ "${3:-}" = bg ] || collect
}
collect() {
	[ -n "$VPID" ] || return 0
	wait "$VPID"
	VPID=""
	case "$(cat "$TMPBASE/verify.out")" in ok*) ok "$VNAME" ;;
	*) ko "$VNAME" "$(cat "$TMPBASE/verify.out")" ;; esac
}

# --- the data dir ---------------------------------------------------------------
echo 'ns.d.test,hostmaster.d.test 1 2 3 4 5' >"$dir/zone.csv"
$PY "$H" gen $BASE_ROWS "$SEED" "$dir/infohashes.csv" "$st" || { ko setup "cannot generate"; exit 0; }
echo "infohashes.csv: $BASE_ROWS rows, $(stat -c %s "$dir/infohashes.csv") bytes"
want=$BASE_ROWS
t_start=$SECONDS
compactions=""
inflight=""
torn=""
seen=0     # rounds in which a compaction started
hunted=0   # of which hunted

for round in $(seq 1 "$ROUNDS"); do
	R="round $round"
	ino0=$(ino "$dir/infohashes.csv")
	start_seedd "$dir" "${common[@]}" --listen "$IP:$port" --dht "$IP:$dport" ||
		{ ko "$R/a start" "seedd did not start: $(tail -n 3 "$dir/log")"; break; }
	pid=$SEEDD_PID
	if ! $PY "$H" ping "$IP:$dport" $PINGER 15 >/dev/null; then
		ko "$R/a load" "no answer to a ping in 15 s: $(tail -n 3 "$dir/log")"; kill -KILL "$pid"; wait "$pid"; break
	fi
	loadcheck "$R/a load of the dir as the last kill left it" "$dir/log" "$want"
	main_loaded=$LOADED
	if [ -n "$torn" ]; then
		# The batch cut short last round is gone from the log before anything follows it.
		if grep -q ',4000000000,' "$dir/infohashes.csv.log" 2>/dev/null ||
			grep -q ' msg=replayed .* torn_tail=no ' "$dir/log"; then
			ko "$R/a torn batch dropped and cut off" "$(grep -c ',4000000000,' "$dir/infohashes.csv.log") rows of it left; $(grep ' msg=replayed ' "$dir/log")"
		else ok "$R/a torn batch dropped and cut off"; fi
	fi
	cp "$dir/log" "$TMPBASE/log.$round"

	# Drive and kill. Every other compaction is hunted: when log.next appears the
	# kill comes a moment later. The hunted ones go through four ways in turn
	# (starting at SEED % 4): 0, the writer is stopped (SIGSTOP) and the kill
	# comes 1.2-2.6 s later, when batches went to both logs, then the writer
	# finishes alone (SIGCONT); 1, the writer is killed too (the whole group
	# dies); 2, the writer finishes alone; 3, stopped, then killed too.
	secs=$(( 15 + RANDOM % 46 ))   # tenths: 1.5 to 6 s
	hunt=()
	if [ $((seen % 2)) = 0 ]; then
		hunt=(--hunt)
		case $(( (hunted + SEED) % 4 )) in 0|3) hunt+=(--stall-writer) ;; esac
		case $(( (hunted + SEED) % 4 )) in 1|3) hunt+=(--kill-writer) ;; esac
	fi
	# (stderr aside meanwhile: bash reports the SIGKILL of its job there)
	exec 3>&2 2>>"$TMPBASE/drive.err"
	$PY "$H" drive --state "$st" --to "$IP:$dport" --pid "$pid" --dir "$dir" --seconds "${secs:0:-1}.${secs: -1}" \
		--rate "$RATE" "${hunt[@]}" --seed "$((SEED * 100 + round))" --out "$TMPBASE/r$round.json"
	drc=$?
	wait "$pid"
	exec 2>&3 3>&-
	collect
	if [ $drc != 0 ] || [ ! -s "$TMPBASE/r$round.json" ]; then
		ko "$R/driver" "driver failed: $(tail -n 3 "$TMPBASE/drive.err")"; kill -KILL "$pid" 2>/dev/null; break
	fi
	jload "$TMPBASE/r$round.json"
	if [ "$J_compaction_seen_at_s" != null ]; then
		[ ${#hunt[@]} -gt 0 ] && hunted=$((hunted + 1))
		seen=$((seen + 1))
	fi
	want=$J_expect_infohashes
	kids=$J_children_at_kill

	# c, on the file as the kill left it (in the background meanwhile).
	$PY "$H" csvcheck "$dir/infohashes.csv" "$st" >"$TMPBASE/c.$round" &
	cpid=$!
	# A writer the kill left behind (seedd's forked child) goes on alone; wait for it.
	orphan=""
	for k in $kids; do
		for _ in $(seq 1 200); do alive "$k" || break; sleep 0.05; done
		alive "$k" && orphan="$orphan $k(still running)" || orphan="$orphan $k"
	done
	after=""
	if [ "$(ino "$dir/infohashes.csv")" != "$J_ino_at_kill" ]; then
		after="; the writer left behind replaced infohashes.csv after the kill"
		$PY "$H" csvcheck "$dir/infohashes.csv" "$st" >"$TMPBASE/c2.$round" &
		cpid="$cpid $!"
	fi
	# Rounds 2, 6, 10: a batch cut short at the end of the log, as a crash in
	# mid-append (or at power loss) leaves it; it must not count.
	torn=""
	if [ $((round % 4)) = 2 ]; then
		torn=$($PY "$H" tear "$dir" $(( round / 4 % 3 )) "$st" "$round") || { ko "$R/tear" "$torn"; torn=""; }
	fi

	# A copy that shares infohashes.csv's inode, for a and b.
	rm -rf "$vdir"; mkdir "$vdir"
	ln "$dir/infohashes.csv" "$vdir/infohashes.csv"
	for f in "$dir"/infohashes.csv.log* "$dir"/*.tmp "$dir/zone.csv" "$dir/nodes.csv"; do
		[ -e "$f" ] && cp "$f" "$vdir/"
	done
	copied=$(cd "$vdir" && ls | tr '\n' ' ')
	if start_seedd "$vdir" "${common[@]}" --listen "$VIP:$port" --dht "$VIP:$dport" &&
		$PY "$H" ping "$VIP:$dport" $PINGER 15 >/dev/null; then
		loadcheck "$R/a load of a copy of the crashed dir" "$vdir/log" "$want"
		copy_loaded=$LOADED
		cleanstop "$R" "$vdir" bg
	else
		ko "$R/a load of a copy of the crashed dir" "seedd did not start or answer: $(tail -n 3 "$vdir/log")"
		kill -KILL "$SEEDD_PID" 2>/dev/null; wait "$SEEDD_PID" 2>/dev/null
		copy_loaded=none
	fi

	rows=""
	wait $cpid
	for f in c c2; do
		[ -e "$TMPBASE/$f.$round" ] || continue
		out=$(cat "$TMPBASE/$f.$round")
		what="after the kill"; [ $f = c2 ] && what="once the writer left behind was done"
		case "$out" in ok*) ok "$R/c infohashes.csv complete $what" ;;
		*) ko "$R/c infohashes.csv complete $what" "$out" ;; esac
		rows=$(printf '%s\n' "$out" | sed -n 's/^ok rows=\([0-9]*\).*/\1/p')
	done

	saved=$(grep -c 'msg=saved file=infohashes.csv ' "$dir/log")
	[ "$ino0" != "$J_ino_at_kill" ] && compactions="$compactions $round"
	fl=no
	if [ "$J_log_next_at_kill" = true ] || [ -n "$kids" ]; then
		w="left to finish"
		case " ${hunt[*]} " in *" --kill-writer "*) w="killed too" ;; esac
		case " ${hunt[*]} " in *" --stall-writer "*) w="stalled, then $w" ;; esac
		fl="yes (log.next $J_next_bytes_at_kill B, tmp $J_tmp_at_kill B, writer${orphan:- none} $w)"
		inflight="$inflight $round"
	fi
	echo "SUMMARY $R: kill at $J_kill_s s (${hunt[0]:+hunting: }compaction started at ${J_compaction_seen_at_s/null/-} s);" \
		"sent $J_sent from $J_sources sources, answered $J_answered ($J_rate/s, $J_answered_before_cutoff before the cutoff, errors $J_errors;" \
		"latency p50/p99/max $J_latency_ms_p50/$J_latency_ms_p99/$J_latency_ms_max ms, longest silence" \
		"$J_longest_silence_ms ms at $J_longest_silence_at_s s); compactions committed in the round: $saved;" \
		"compaction in flight at the kill: $fl$after; log at kill $J_log_bytes_at_kill B;" \
		"infohashes.csv rows ${rows:-?} inode $ino0->$J_ino_at_kill->$(ino "$dir/infohashes.csv");" \
		"start: $main_loaded; copy: $copy_loaded; copied: $copied${torn:+; torn batch: $torn}"
done

collect

# --- the dir itself, after all that: loads, then a clean stop holds everything ----------
if start_seedd "$dir" "${common[@]}" --listen "$IP:$port" --dht "$IP:$dport" &&
	$PY "$H" ping "$IP:$dport" $PINGER 15 >/dev/null; then
	loadcheck "final/a load of the dir" "$dir/log" "$want"
	echo "final start: $LOADED"
	cleanstop final "$dir"
else
	ko "final/a load of the dir" "seedd did not start or answer: $(tail -n 3 "$dir/log")"
fi
echo "rounds in which seedd committed a compaction:${compactions:- none};" \
	"rounds killed with a compaction in flight:${inflight:- none}"
echo "TOTAL $PREFIX: $((total - failed)) of $total checks passed, $((SECONDS - t_start)) s (seed $SEED)"
[ "$failed" = 0 ] && pass "$PREFIX/all $total checks"
