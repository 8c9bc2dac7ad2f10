#!/usr/bin/env bash
# bench/dht.sh: seedd's DHT responder against this machine's loopback limit,
# and its memory with a full infohash table (make bench).
#
# 1. Throughput. bench/krpcload (closed loop, BENCH_WINDOW queries
#    outstanding: ~45% get_peers, 35% find_node, 20% announce_peer with the
#    token of an earlier get_peers answer) sends from 262,144 loopback
#    addresses (127.4.0.0/14, so seedd's per-IP answer cap of a few packets a
#    second is never what is measured) to, in turn, bench/udpecho (recvmmsg /
#    sendmmsg echo: the most a one-core UDP server can answer here) and
#    seedd --dht. Servers pinned to CPU 0, the generator to CPU 1.
#    BENCH_ROUNDS rounds of BENCH_SECONDS each, alternating; the MEDIANS are
#    compared: "seedd answered N/s, echo M/s, ratio R (goal >= 0.5)".
#    One seedd serves all rounds and records every infohash it is asked
#    about: its table (cap 1,000,000) fills during the first rounds, so
#    later rounds measure a full table (each new infohash then evicts one).
#    Its snapshot of infohashes.csv is written by a forked child, so it does
#    not stall the runs.
#    Error answers (y=e) are not answers; they are reported apart (an
#    announce with a token seedd gave must never get 203).
# 2. Memory. A data dir whose infohashes.csv holds BENCH_INFOHASHES
#    (default 1,000,000, seedd's cap) distinct rows; seedd --dht loads it
#    (time to its "msg=loaded file=infohashes.csv" line), is asked about one
#    new infohash (so the table changed), gets SIGTERM, writes the file
#    again and exits. Peak RSS is the child's ru_maxrss
#    from wait4 (covers the shutdown write too), goal <= 64 MB; the
#    rewritten file must have all rows.
# The ratio and the RSS are reported, not asserted: exit 0 whenever the
# measurement ran; non-zero when set-up failed, seedd died or misbehaved
# (exit status, lost rows).
#
# Environment:
#   SEEDD, BENCH_SEEDD  seedd binary (default ./seedd)
#   BENCH_SECONDS    length of one load run (default 10)
#   BENCH_ROUNDS     rounds of (echo, seedd) (default 3)
#   BENCH_WINDOW     queries outstanding (default 512)
#   BENCH_INFOHASHES rows of the generated infohashes.csv (default 1000000)
#   BENCH_KEEP       non-empty: keep the temp dir (logs, CSVs)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEEDD=${SEEDD:-${BENCH_SEEDD:-$ROOT/seedd}}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
WINDOW=${BENCH_WINDOW:-512}
NIH=${BENCH_INFOHASHES:-1000000}
PY=/usr/bin/python3
SERVER_CPU=0
CLIENT_CPU=1
RSS_GOAL_KB=$(( 64 * 1024 ))

die() { echo "bench: $*" >&2; exit 1; }

[[ -x $SEEDD ]] || die "$SEEDD missing: run make first"
(( $(nproc) >= 2 )) || die "needs 2 CPUs (server and load generator pinned apart)"
for t in cc taskset ss "$PY"; do command -v "$t" >/dev/null || die "$t missing"; done

# --- tools -------------------------------------------------------------------
BIN=$ROOT/build/bench
mkdir -p "$BIN"
for t in udpecho krpcload; do
	extra=("$ROOT/bench/benchutil.c"); [[ $t == krpcload ]] && extra+=("$ROOT/bench/kanswer.c")
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$BIN/$t" "$ROOT/bench/$t.c" "${extra[@]}" ||
		die "cannot build bench/$t.c"
done

# --- workspace and cleanup ---------------------------------------------------
WORK=$(mktemp -d /tmp/seedd-bench-dht.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ -n ${BENCH_KEEP:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

# A loopback port nothing uses, UDP or TCP; sets variable $1 (not echoed: a
# subshell would forget the ports already taken).
taken=" "
pick_port() {
	local p
	while :; do
		p=$(( 20000 + RANDOM % 40000 ))
		[[ $taken == *" $p "* ]] && continue
		ss -Htuan "sport = :$p" | grep -q . && continue
		taken+="$p "
		printf -v "$1" '%s' "$p"
		return
	done
}

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# "busy total" jiffies of one CPU (softirq included).
core_ticks() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b > 0 ? 100 * a / b : 0) }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 }
	END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Value of key $1 in a "krpcload k=v ..." line $2.
kv() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# Start "$@" in the background, pinned to the server CPU; its pid in $LAST.
start_server() {
	taskset -c $SERVER_CPU "$@" &
	LAST=$!
	PIDS+=("$LAST")
}

# seedd answers a short probe (from addresses apart from the measured ones).
wait_answers() {
	local port=$1 pid=$2 out
	for _ in $(seq 1 20); do
		kill -0 "$pid" 2>/dev/null || return 1
		if ss -Huln "sport = :$port" | grep -q .; then
			out=$("$BIN/krpcload" -w 4 -u 0 -d 1 -t 200 -b 127.3.0.0/16 "127.0.0.1:$port" | tail -n 1)
			(( $(kv answers "$out" | grep . || echo 0) > 0 )) && return 0
		fi
		sleep 0.25
	done
	return 1
}

# --- 1. throughput -----------------------------------------------------------
P_ECHO=; P_DNS=; P_DHT=; P_BOOT=
pick_port P_ECHO; pick_port P_DNS; pick_port P_DHT; pick_port P_BOOT
mkdir -p "$WORK/data"

start_server "$BIN/udpecho" "127.0.0.1:$P_ECHO" 2>"$WORK/udpecho.log"
PID_ECHO=$LAST
start_server "$SEEDD" --zone bench.test --listen "127.0.0.1:$P_DNS" --concurrency 0 --allow-private \
	-d "$WORK/data" --dht "127.0.0.1:$P_DHT" --dht-bootstrap "127.0.0.1:$P_BOOT" --log-level warn \
	2>"$WORK/seedd.log"
PID_SEEDD=$LAST

wait_answers "$P_ECHO" "$PID_ECHO" || { cat "$WORK/udpecho.log" >&2; die "udpecho does not answer"; }
wait_answers "$P_DHT" "$PID_SEEDD" ||
	{ tail -n 20 "$WORK/seedd.log" >&2; die "seedd --dht 127.0.0.1:$P_DHT does not answer"; }

declare -A PORT=([echo]=$P_ECHO [seedd]=$P_DHT) PID=([echo]=$PID_ECHO [seedd]=$PID_SEEDD)
declare -A RATE=() CPU=() GEN=() LAST_OUT=()
echo "krpcload -w $WINDOW -d $SECONDS_PER_RUN (pinned to CPU $CLIENT_CPU; servers on CPU $SERVER_CPU):" \
	"$ROUNDS rounds, udpecho 127.0.0.1:$P_ECHO and seedd --dht 127.0.0.1:$P_DHT alternating"
fail=0
busy_runs=""
stalls=""
for r in $(seq 1 "$ROUNDS"); do
	for s in echo seedd; do
		out=$WORK/krpcload.$s.$r
		# Other load on the machine skews everything: sample both cores idle
		# (what our own servers do meanwhile, e.g. a snapshot, is not noise).
		o0=$(( $(ticks "$PID_ECHO") + $(ticks "$PID_SEEDD") ))
		read -r nb0 nt0 < <(core_ticks ""); sleep 0.5; read -r nb1 nt1 < <(core_ticks "")
		o1=$(( $(ticks "$PID_ECHO") + $(ticks "$PID_SEEDD") ))
		noise=$(pct $(( nb1 - nb0 - (o1 - o0) )) $(( nt1 - nt0 )))
		(( noise <= 10 )) || busy_runs+="$s/$r:$noise% "
		t0=$(ticks "${PID[$s]}"); w0=$(date +%s%N)
		read -r cb0 ct0 < <(core_ticks $CLIENT_CPU)
		# In the background, so that a signal to this script is handled at once.
		taskset -c $CLIENT_CPU "$BIN/krpcload" -w "$WINDOW" -d "$SECONDS_PER_RUN" \
			"127.0.0.1:${PORT[$s]}" >"$out" &
		PIDS+=($!)
		wait $! || die "krpcload failed against $s"
		unset 'PIDS[-1]'
		t1=$(ticks "${PID[$s]}"); w1=$(date +%s%N)
		read -r cb1 ct1 < <(core_ticks $CLIENT_CPU)
		line=$(tail -n 1 "$out")
		rate=$(kv rate "$line")
		cpu=$(awk -v t=$(( t1 - t0 )) -v hz="$HZ" -v ns=$(( w1 - w0 )) \
			'BEGIN { printf "%d", 100 * t / hz / (ns / 1e9) }')
		gen=$(pct $(( cb1 - cb0 )) $(( ct1 - ct0 )))
		RATE[$s]+="$rate "; CPU[$s]+="$cpu "; GEN[$s]+="$gen "; LAST_OUT[$s]=$out
		printf 'round %d %-5s %8s answers/s  errors %s (bad token %s)  lost %s  server cpu %3s%%  generator core %3s%%\n' \
			"$r" "$s" "$rate" "$(kv errors "$line")" "$(kv bad_token "$line")" "$(kv lost "$line")" "$cpu" "$gen"
		if (( ${rate:-0} == 0 )); then
			echo "bench: $s answered nothing" >&2; fail=1
		fi
		if (( $(kv bad_token "$line" | grep . || echo 0) > 0 )); then
			echo "bench: $s answered 203 to announces carrying its own token" >&2; fail=1
		fi
		lost=$(kv lost "$line" | grep . || echo 0)
		[[ $s == seedd ]] && (( lost >= WINDOW )) && stalls+="$r:$lost "
		if ! kill -0 "${PID[$s]}" 2>/dev/null; then
			tail -n 20 "$WORK/seedd.log" >&2; die "$s died during the run"
		fi
	done
done

for s in echo seedd; do
	RATE[$s]=$(median <<<"${RATE[$s]}")
	CPU[$s]=$(median <<<"${CPU[$s]}")
	GEN[$s]=$(median <<<"${GEN[$s]}")
done
echo
echo "last seedd run in full:"
sed 's/^/  /' "${LAST_OUT[seedd]}"
ratio=$(awk -v a="${RATE[seedd]}" -v b="${RATE[echo]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
echo "median of $ROUNDS runs of ${SECONDS_PER_RUN}s; server cpu: echo ${CPU[echo]}%, seedd ${CPU[seedd]}%;" \
	"generator core: ${GEN[echo]}%, ${GEN[seedd]}%"
awk -v c="${CPU[seedd]}" 'BEGIN { exit !(c < 90) }' &&
	echo "NOTE: seedd used under 90% of its core: it was not the bottleneck (per-IP caps, timeouts or the generator)"
printf 'seedd answered %.0f/s, echo %.0f/s, ratio %s (goal >= 0.5)\n' "${RATE[seedd]}" "${RATE[echo]}" "$ratio"
[[ -z $stalls ]] ||
	echo "NOTE: seedd left whole windows unanswered for over 100 ms (round:queries lost): $stalls-" \
		"its loop stalled (e.g. the infohashes.csv snapshot, written in the loop every --snapshot-interval)"
[[ -z $busy_runs ]] ||
	echo "WARNING: the machine was busy before some runs (server/round:cpu busy): $busy_runs- numbers are unreliable"

kill -TERM "$PID_SEEDD"
st=0; wait "$PID_SEEDD" || st=$?
kill "$PID_ECHO"; wait "$PID_ECHO" 2>/dev/null || true
PIDS=()
(( st == 0 )) || { tail -n 20 "$WORK/seedd.log" >&2; die "seedd exited $st on SIGTERM after the load"; }

# --- 2. memory with a full infohash table ------------------------------------
mkdir -p "$WORK/rss"
g0=$(date +%s%N)
# First 8 hex digits: i * an odd constant mod 2^32, a bijection, so rows are
# distinct; the rest random. Addresses are data only, never contacted.
awk -v n="$NIH" 'BEGIN {
	srand(1)
	print "infohash,first_seen,last_seen,get_peers,announces,samples,last_announcer"
	for (i = 0; i < n; i++) {
		h = (i * 2654435761) % 4294967296
		d1 = 1 + int(rand() * 20); d2 = d1 + 1 + int(rand() * 7)
		ann = rand() < 0.3 ? 1 + int(rand() * 5) : 0
		who = ann ? sprintf("127.5.%d.%d:%d", int(rand() * 256), int(rand() * 256), 1024 + int(rand() * 64000)) : ""
		printf "%08x%08x%08x%08x%08x,2026-10-%02d %02d:%02d:%02d,2026-10-%02d %02d:%02d:%02d,%d,%d,%d,%s\n",
			h, int(rand() * 4294967296), int(rand() * 4294967296), int(rand() * 4294967296),
			int(rand() * 4294967296), d1, int(rand() * 24), int(rand() * 60), int(rand() * 60),
			d2, int(rand() * 24), int(rand() * 60), int(rand() * 60),
			1 + int(rand() * 100), ann, int(rand() * 3), who
	}
}' >"$WORK/rss/infohashes.csv"
g1=$(date +%s%N)
rows=$(( $(wc -l <"$WORK/rss/infohashes.csv") - 1 ))
(( rows == NIH )) || die "generated $rows rows, wanted $NIH"
echo
echo "infohashes.csv: $NIH rows, $(( $(stat -c %s "$WORK/rss/infohashes.csv") / 1048576 )) MB," \
	"generated in $(( (g1 - g0) / 1000000 )) ms"

P_DNS2=; P_DHT2=; P_BOOT2=
pick_port P_DNS2; pick_port P_DHT2; pick_port P_BOOT2
# A wrapper that reaps seedd with wait4: ru_maxrss is the peak of the whole
# life, the shutdown write included, not a sample.
w0=$(date +%s%N)
"$PY" -c '
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
with open(sys.argv[1] + ".pid", "w") as f:
    f.write("%d\n" % pid)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d %d\n" % (ru.ru_maxrss, os.waitstatus_to_exitcode(status)))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
' "$WORK/rss.out" "$SEEDD" --zone bench.test --listen "127.0.0.1:$P_DNS2" --concurrency 0 --allow-private \
	-d "$WORK/rss" --dht "127.0.0.1:$P_DHT2" --dht-bootstrap "127.0.0.1:$P_BOOT2" --log-level info \
	2>"$WORK/rss.log" &
PID_WRAP=$!
PIDS+=("$PID_WRAP")
for _ in $(seq 1 500); do [[ -s $WORK/rss.out.pid ]] && break; sleep 0.01; done
[[ -s $WORK/rss.out.pid ]] || die "the wait4 wrapper did not start seedd"
PID_RSS=$(cat "$WORK/rss.out.pid")
PIDS=("$PID_RSS" "${PIDS[@]}")

line=""
for _ in $(seq 1 6000); do # 60 s
	line=$(grep -m1 'msg=loaded file=infohashes.csv' "$WORK/rss.log" || true)
	[[ -n $line ]] && break
	kill -0 "$PID_RSS" 2>/dev/null || { tail -n 20 "$WORK/rss.log" >&2; die "seedd exited while loading"; }
	sleep 0.01
done
w1=$(date +%s%N)
[[ -n $line ]] || { tail -n 20 "$WORK/rss.log" >&2; die "no 'msg=loaded file=infohashes.csv' line within 60 s"; }
loaded=$(sed -n 's/.* infohashes=\([0-9]*\).*/\1/p' <<<"$line")
hwm_loaded=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID_RSS/status")
rss_loaded=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PID_RSS/status")
ino0=$(stat -c %i "$WORK/rss/infohashes.csv")

# One get_peers of a new infohash: the table changed (and, full, evicted one),
# so SIGTERM must write all of it: the worst case of a shutdown.
/usr/bin/python3 "$ROOT/tests/dht/krpc_client.py" --to "127.0.0.1:$P_DHT2" --from 127.0.0.1 \
	get_peers 5eedd00000000000000000000000000000000001 >/dev/null || die "no answer to get_peers"
s0=$(date +%s%N)
kill -TERM "$PID_RSS"
for _ in $(seq 1 3000); do [[ -s $WORK/rss.out ]] && break; sleep 0.01; done # 30 s
s1=$(date +%s%N)
[[ -s $WORK/rss.out ]] || die "seedd did not exit within 30 s of SIGTERM"
read -r maxrss status <"$WORK/rss.out"
wait "$PID_WRAP" 2>/dev/null || true
PIDS=()
(( status == 0 )) || { tail -n 20 "$WORK/rss.log" >&2; die "seedd exited $status on SIGTERM"; }
out_rows=$(( $(wc -l <"$WORK/rss/infohashes.csv") ))
ino1=$(stat -c %i "$WORK/rss/infohashes.csv")

echo "load line: ${line#* info }"
echo "load time: $(( (w1 - w0) / 1000000 )) ms from exec to the loaded line; infohashes=${loaded:-?}"
echo "RSS after load: VmRSS $(( rss_loaded / 1024 )) MB, VmHWM $(( hwm_loaded / 1024 )) MB"
stop_ms=$(( (s1 - s0) / 1000000 ))
echo "SIGTERM to exit (rewrites infohashes.csv): $stop_ms ms$( (( stop_ms > 2000 )) && echo " (SPEC 7: within 2 s)")"
printf 'seedd peak RSS with %d infohashes: %.1f MB (ru_maxrss, whole life), goal <= 64 MB%s\n' \
	"$NIH" "$(awk -v k="$maxrss" 'BEGIN { print k / 1024 }')" \
	"$( (( maxrss <= RSS_GOAL_KB )) && echo "" || echo ": OVER" )"
echo "rewritten infohashes.csv: $out_rows lines (want $(( NIH + 1 )))"
# Written atomically (rename): a new inode.
[[ $ino0 != "$ino1" ]] || { echo "bench: infohashes.csv was not rewritten on SIGTERM" >&2; fail=1; }
[[ ${loaded:-} == "$NIH" ]] || { echo "bench: seedd loaded ${loaded:-?} infohashes, not $NIH" >&2; fail=1; }
(( out_rows == NIH + 1 )) || { echo "bench: rewritten infohashes.csv has $out_rows lines" >&2; fail=1; }
grep -q '^5eedd00000000000000000000000000000000001,' "$WORK/rss/infohashes.csv" ||
	{ echo "bench: the last infohash heard is not in the rewritten file" >&2; fail=1; }
(( fail == 0 )) || die "seedd misbehaved (see above)"
