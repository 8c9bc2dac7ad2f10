#!/usr/bin/env bash
# bench/scale.sh: seedd at the sizes a busy seeder reaches (issue 14):
# 100,000 nodes and 1,000,000 infohashes. Loopback only: every address is in
# 127.60.0.0/16 and 127.61.0.0/16 (servers in 127.60.255.0/24, node rows in
# 127.60.0-254.x and 127.61.0-159.x, the KRPC driver's sources in
# 127.61.160.0/19). Parts (BENCH_SCALE_PARTS, default all, in this order):
#
# first  Time from exec to the first DNS answer with A records.
#        bench/scale_first.c opens a UDP socket, takes CLOCK_MONOTONIC,
#        forks and execs seedd and asks the apex A every 1 ms until an answer
#        with A records comes back. Data (bench/scale_gen.py, the formats
#        seedd writes): zone.csv with BENCH_SCALE_NODES node rows (SOA, the
#        rows, two static rows) and a nodes.csv of the same nodes, all good
#        with recent checks; --allow-private (loopback node rows are not
#        published without it). Also seedd's time on a CPU and waiting for
#        one until then (/proc/PID/schedstat): a busy machine shows there.
#        Four set-ups, BENCH_SCALE_RUNS runs each
#        (interleaved, a fresh copy of the data each run), medians:
#        crawler off (--concurrency 0: nodes.csv is then not read at all)
#        and on (defaults, --interval BENCH_SCALE_INTERVAL: no node is due
#        at start; nothing listens at the nodes' addresses), each with
#        zone.csv + nodes.csv and with zone.csv alone (crawler on: every
#        zone row is then a fresh candidate, checked at once: refused).
#        Goal <= 50 ms. Then the parse rate of the same nodes.csv by
#        seedd's reader built as seedd is (bench/scale_parse.c, musl, -O2
#        -flto), before the runs: the best of 20 passes over the file in
#        memory. Goal >= 2 M rows a second.
# rss    RSS with the crawler's 100k nodes: seedd (crawler on) on zone.csv +
#        nodes.csv, BENCH_SCALE_SETTLE s after its "loaded file=nodes.csv"
#        line (the empty run: after "started"): VmRSS
#        (steady) and VmHWM (peak, loading included) from /proc/PID/status;
#        bytes a node = (VmRSS - VmRSS of the same seedd on an empty data
#        dir) / nodes. Goals: RSS <= 16 MiB, peak <= 1.10 x steady.
# ih     RSS with 1M infohashes: seedd --concurrency 0 --dht (bootstrap to
#        127.60.255.2:6881, where nothing answers) on an infohashes.csv of
#        BENCH_SCALE_INFOHASHES rows, BENCH_SCALE_SETTLE s after its "loaded"
#        line. Goals: RSS <= 64 MiB, peak <= 1.10 x steady.
# writes Disk writes a day under a steady trickle, default flags but for
#        what loopback needs (--allow-private, addresses, --resolver and
#        --dht-bootstrap to silent loopback addresses) and --interval:
#        zone.csv + nodes.csv (BENCH_SCALE_BAD of the nodes failing) +
#        infohashes.csv, crawler and DHT on.
#        * Nodes: --interval BENCH_SCALE_INTERVAL (360000 s = 100 h). seedd
#          checks a good node once an interval, and a failing one at 1, 1,
#          2, 4... intervals capped at 4 h (or 4 intervals while it answered
#          in the last 2 days), never sooner than one interval; loaded nodes
#          fall due when that delay since their last check has passed. The
#          generated last checks are spread evenly over the last interval
#          and the failing nodes last answered over 2 days ago with 2-5
#          failures in a row, so every node is due once per interval:
#          N / 100 h = 1% of the rows an hour (1,000 checks an hour, one
#          every 3.6 s). The nodes due during the run listen
#          (tests/sim/simnet.py, the fast engine) and answer, except
#          BENCH_SCALE_DYING of the good ones (their checks fail: refused,
#          then the early re-check 30 s later fails too and they leave the
#          zone) and the failing ones. Without answering nodes, seedd's
#          own-outage guard (90% of good nodes failing within 60 s) would
#          trip and stop counting the failures: no row would change.
#        * DHT: bench/scale_krpc.py, per minute, 100 lookups of new
#          infohashes and 1,000 of ones seedd holds (get_peers, 30% followed
#          by announce_peer with the token), each from its own address.
#        After BENCH_SCALE_WARMUP s (the start-up writes and the first
#        snapshot), bench/scale_mon.py measures BENCH_SCALE_MINUTES minutes,
#        from between two snapshots to between two others (snapshots come
#        every 60 s after "started"): write_bytes of /proc/PID/io (which
#        includes a reaped child's writes: bench/scale_iocheck.c checks that
#        and that the file system counts them; live children are added, and
#        the ends are taken when none is alive), extrapolated to a day; as a
#        cross-check the new data in the data dir's files (files renamed into
#        place, growth of files appended to); the device's sectors written
#        (whole machine, context only). seedd's
#        log goes through a FIFO, so it is not counted. Meanwhile the apex A
#        is asked every 20 ms: the slowest answer shows how long a snapshot
#        written in the loop holds DNS.
#        Goal <= 1 GB (10^9 bytes) a day.
# term   SIGTERM with the largest files (after "writes", on its seedd, else
#        on one started the same way with a minute of trickle): time to
#        exit and status; then whether everything was written: a restart
#        on a copy of the files (and whatever log lies beside them) loads
#        every infohash (those loaded plus the new ones, at most 1,000,000)
#        and every node (seedd's last summary), zone.csv has a row for each
#        node nodes.csv calls good, every row is whole, the last new
#        infohash the driver got an answer for is in infohashes.csv (or a
#        file beside it), no .tmp is left.
#        Goal: exit 0 within 2 s with everything written.
#
# Goals are reported, not asserted: exit 0 when the measurements ran;
# non-zero when something could not be set up (or seedd died).
# The binary is copied at the start: rebuilding ./seedd meanwhile does not
# mix two builds (the end says when it changed).
#
# Environment:
#   BENCH_SEEDD              seedd binary (default ./seedd)
#   BENCH_SCALE_PARTS        parts to run (default "first rss ih writes term")
#   BENCH_SCALE_MINUTES      measured minutes of "writes" (default 5)
#   BENCH_SCALE_WARMUP       seconds before them (default 90)
#   BENCH_SCALE_NODES        node rows (default 100000, at most 105410)
#   BENCH_SCALE_INFOHASHES   infohashes.csv rows (default 1000000)
#   BENCH_SCALE_RUNS         runs of each "first" set-up (default 5)
#   BENCH_SCALE_SETTLE       seconds before RSS is read (default 10)
#   BENCH_SCALE_INTERVAL     crawler --interval (default 360000)
#   BENCH_SCALE_BAD          share of failing nodes in "writes" (default 0.10)
#   BENCH_SCALE_DYING        share of due good nodes that fail (default 0.02)
#   BENCH_SCALE_NEW          new infohashes a minute (default 100)
#   BENCH_SCALE_OLD          known infohashes looked up a minute (default 1000)
#   BENCH_SCALE_DIR          where the temp dir goes; must be a disk, not
#                            tmpfs (default /var/tmp)
#   BENCH_KEEP               non-empty: keep the temp dir (data, logs, JSON)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEEDD_SRC=${BENCH_SEEDD:-$ROOT/seedd}
PARTS=" ${BENCH_SCALE_PARTS:-first rss ih writes term} "
MINUTES=${BENCH_SCALE_MINUTES:-5}
WARMUP=${BENCH_SCALE_WARMUP:-90}
NODES=${BENCH_SCALE_NODES:-100000}
NIH=${BENCH_SCALE_INFOHASHES:-1000000}
RUNS=${BENCH_SCALE_RUNS:-5}
SETTLE=${BENCH_SCALE_SETTLE:-10}
INTERVAL=${BENCH_SCALE_INTERVAL:-360000}
BAD=${BENCH_SCALE_BAD:-0.10}
DYING=${BENCH_SCALE_DYING:-0.02}
NEW_PER_MIN=${BENCH_SCALE_NEW:-100}
OLD_PER_MIN=${BENCH_SCALE_OLD:-1000}
BASE=${BENCH_SCALE_DIR:-/var/tmp}
PY=/usr/bin/python3
ZONE=scale.test
IP_DNS=127.60.255.3
IP_DHT=127.60.255.1
IP_BOOT=127.60.255.2
IP_RES=127.60.255.4
IP_CLIENT=127.60.255.10
IP_PROBE=127.60.255.11
SRC_KRPC=127.61.160.0/19

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

for v in MINUTES WARMUP NODES NIH RUNS SETTLE INTERVAL NEW_PER_MIN OLD_PER_MIN; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done
(( NODES >= 1 && NODES <= 105410 )) || die "BENCH_SCALE_NODES must be 1..105410"
(( MINUTES >= 1 && RUNS >= 1 && NIH >= 1 )) || die "BENCH_SCALE_MINUTES, _RUNS, _INFOHASHES must be >= 1"
for p in $PARTS; do
	[[ " first rss ih writes term " == *" $p "* ]] || die "unknown part '$p' in BENCH_SCALE_PARTS"
done
want() { [[ $PARTS == *" $1 "* ]]; }
[[ -x $SEEDD_SRC ]] || die "$SEEDD_SRC missing: run make seedd first"
for t in cc ss md5sum findmnt "$PY"; do command -v "$t" >/dev/null || die "$t missing"; done
"$PY" -c 'import websockets' 2>/dev/null || die "python3-websockets missing (tests/deps.sh)"
[[ -d $BASE ]] || die "BENCH_SCALE_DIR $BASE is not a directory"

# --- workspace and cleanup ---------------------------------------------------
WORK=$(mktemp -d "$BASE/seedd-bench-scale.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ -n ${BENCH_KEEP:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
# Forget a pid we waited for ourselves.
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

BIN=$WORK/bin
mkdir -p "$BIN"
SEEDD=$BIN/seedd
cp "$SEEDD_SRC" "$SEEDD"
SEEDD_MD5=$(md5sum <"$SEEDD" | cut -c1-32)
for t in scale_first scale_iocheck; do
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$BIN/$t" "$ROOT/bench/$t.c" ||
		die "cannot build bench/$t.c"
done
# The nodes.csv reader as seedd is built (musl, -O2 -flto), from this tree's sources.
( cd "$ROOT" && gcc -specs third_party/musl-gcc.specs -std=c11 -D_GNU_SOURCE -O2 -flto -static -Wall -Wextra -Werror \
	-isystem third_party/root/usr/include -Isrc -o "$BIN/scale_parse" bench/scale_parse.c src/nodes/node_table.c \
	src/nodes/nodes_csv.c src/nodes/health.c src/base/addr.c src/base/csv.c src/base/numfmt.c src/base/url.c ) ||
	die "cannot build bench/scale_parse.c"

# A port nothing uses on this machine (UDP or TCP); sets variable $1.
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
P_DNS=; P_DHT=; P_RES=
pick_port P_DNS; pick_port P_DHT; pick_port P_RES
# Nothing may answer where seedd's resolver and DHT bootstrap point.
ss -Huan "dst $IP_BOOT or src $IP_BOOT" | grep -q . && die "something uses $IP_BOOT"

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 }
	END { if (NR == 0) print "none"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now_ns() { date +%s%N; }
yesno() { if awk "BEGIN { exit !($1) }"; then echo yes; else echo no; fi; }
# Wait until file $1 has a line matching $2, while pid $3 lives; up to $4 s.
wait_line() {
	local i
	for (( i = 0; i < $4 * 50; i++ )); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# Rows of the results table: figure, measured, goal, met.
TABLE=()
row() { TABLE+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"); }

# --- environment ---------------------------------------------------------------
FS_LINE=$(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$WORK" | head -n 1)
FSTYPE=$(findmnt -n -o FSTYPE -T "$WORK" | head -n 1)
echo "seedd: $SEEDD_SRC, $(stat -c %s "$SEEDD") bytes, md5 $SEEDD_MD5" \
	"(commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet -- src 2>/dev/null || echo ', src/ modified'))"
echo "machine: $(uname -srm), $(nproc) CPUs, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data dir: $WORK on $FS_LINE"
echo "parts:${PARTS% }; nodes $NODES, infohashes $NIH, --interval $INTERVAL"
echo

IOCHECK=""
if want writes || want term; then
	[[ $FSTYPE != tmpfs && $FSTYPE != ramfs ]] || die "$WORK is on $FSTYPE: give BENCH_SCALE_DIR on a disk"
	IOCHECK=$("$BIN/scale_iocheck" "$WORK") || { echo "$IOCHECK" >&2; die "write_bytes cannot be trusted here"; }
	echo "$IOCHECK" | sed 's/^/  /'
	echo
fi

# --- data ------------------------------------------------------------------------
gen_nodes() { # DIR [more scale_gen.py nodes flags]
	local d=$1; shift
	"$PY" "$ROOT/bench/scale_gen.py" nodes --dir "$d" --zone "$ZONE" --nodes "$NODES" --interval "$INTERVAL" "$@"
}
IH_CSV=$WORK/data-ih/infohashes.csv
gen_ih() {
	[[ -s $IH_CSV ]] && return
	mkdir -p "$WORK/data-ih"
	local t0; t0=$(now_ns)
	"$PY" "$ROOT/bench/scale_gen.py" infohashes --out "$IH_CSV" --rows "$NIH" || die "cannot generate infohashes.csv"
	echo "infohashes.csv: $NIH rows, $(stat -c %s "$IH_CSV") bytes, generated in $(( ($(now_ns) - t0) / 1000000 )) ms"
}
FULL=$WORK/data-full   # zone.csv + nodes.csv, every node good
ZONLY=$WORK/data-zone  # the same zone.csv alone
if want first || want rss; then
	gen_nodes "$FULL" >"$WORK/gen-full.json" || die "cannot generate the node data"
	mkdir -p "$ZONLY"
	cp "$FULL/zone.csv" "$ZONLY/"
	echo "zone.csv: $(( $(wc -l <"$FULL/zone.csv") - 1 )) rows, $(stat -c %s "$FULL/zone.csv") bytes;" \
		"nodes.csv: $(( $(wc -l <"$FULL/nodes.csv") - 1 )) rows, $(stat -c %s "$FULL/nodes.csv") bytes"
fi

COMMON=(--zone "$ZONE" --listen "$IP_DNS:$P_DNS" --allow-private --resolver "$IP_RES:$P_RES")

# --- 1. first answer ---------------------------------------------------------------
if want first; then
	declare -A FA=() FAIL=() CPU=() RUNQ=()
	SETUPS=("off full" "on full" "off zone" "on zone")
	# Before the runs: a seedd stopping (writing its files) must not share the CPU with it.
	parse=$("$BIN/scale_parse" "$FULL/nodes.csv" 20) || die "scale_parse failed"
	echo "nodes.csv parse, best of 20: $parse"
	echo "first answer: $RUNS runs of each set-up, interleaved"
	for r in $(seq 1 "$RUNS"); do
		for s in "${SETUPS[@]}"; do
			read -r crawl data <<<"$s"
			src=$FULL; [[ $data == zone ]] && src=$ZONLY
			run=$WORK/run-first
			rm -rf "$run"; cp -a "$src" "$run"
			args=("${COMMON[@]}" -d "$run" --interval "$INTERVAL")
			[[ $crawl == off ]] && args+=(--concurrency 0)
			out=$("$BIN/scale_first" -s "$IP_CLIENT" -q "$IP_DNS:$P_DNS" -z "$ZONE" -l "$WORK/first.log" \
				-- "$SEEDD" "${args[@]}") || true
			ms=$(sed -n 's/^first_answer_ms=\([0-9.]*\) .*/\1/p' <<<"$out")
			CPU[$s]+="$(sed -n 's/.* cpu_ms=\([0-9.]*\) .*/\1/p' <<<"$out") "
			RUNQ[$s]+="$(sed -n 's/.* runq_ms=\([0-9.]*\) .*/\1/p' <<<"$out") "
			printf '  run %d crawler %-3s %-20s %s\n' "$r" "$crawl" "$( [[ $data == full ]] && echo zone.csv+nodes.csv || echo zone.csv)" "$out"
			if [[ -n $ms ]]; then FA[$s]+="$ms "; else FAIL[$s]=$(( ${FAIL[$s]:-0} + 1 )); tail -n 5 "$WORK/first.log" >&2; fi
		done
	done
	rm -rf "$WORK/run-first"
	for s in "${SETUPS[@]}"; do
		read -r crawl data <<<"$s"
		m=$(median <<<"${FA[$s]:-}")
		label="first answer, crawler $crawl, $( [[ $data == full ]] && echo "zone.csv + nodes.csv" || echo "zone.csv only")"
		[[ $crawl == off && $data == full ]] && label+=" (not read)"
		if [[ $m == none ]]; then
			row "$label" "no answer" "<= 50 ms" "no"
		else
			row "$label" "$(printf '%.0f ms' "$m") (median; $(tr ' ' '\n' <<<"${FA[$s]}" | grep . | sort -g | awk '{ printf "%s%.0f", (NR > 1 ? "/" : ""), $1 }'); on CPU $(printf '%.0f' "$(median <<<"${CPU[$s]}")"), waiting $(printf '%.0f' "$(median <<<"${RUNQ[$s]}")"))$( [[ -n ${FAIL[$s]:-} ]] && echo ", ${FAIL[$s]} failed")" \
				"<= 50 ms" "$(yesno "$m <= 50")"
		fi
	done
	rate=$(sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' <<<"$parse")
	row "nodes.csv parse (seedd's reader, musl)" "$(awk -v r="$rate" 'BEGIN { printf "%.2f M rows/s", r / 1e6 }')" \
		">= 2 M rows/s" "$(yesno "$rate >= 2000000")"
	echo
fi

# Start seedd in the background with args; its pid in $SPID, log in $1.
start_seedd() {
	local log=$1; shift
	"$SEEDD" "$@" >/dev/null 2>"$log" &
	SPID=$!
	PIDS+=("$SPID")
}
stop_seedd() { # PID: SIGTERM, wait; its exit status
	local st=0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" || st=$?
	forget "$1"
	return $st
}
# VmRSS and VmHWM of seedd on data dir $1 (copied), $2 s after the line $3, more flags after.
# Sets RSS_KB, HWM_KB, READY_MS (exec to the line), READY_CPU and READY_RUNQ
# (ms on a CPU and waiting for one until then).
measure_rss() {
	local src=$1 secs=$2 line=$3; shift 3
	local run=$WORK/run-rss t0
	rm -rf "$run"; mkdir -p "$run"
	[[ -n $src ]] && cp -a "$src/." "$run/"
	t0=$(now_ns)
	start_seedd "$WORK/rss.log" "${COMMON[@]}" -d "$run" "$@"
	wait_line "$WORK/rss.log" "$line" "$SPID" 120 || { tail -n 20 "$WORK/rss.log" >&2; die "seedd: no '$line' line"; }
	READY_MS=$(( ($(now_ns) - t0) / 1000000 ))
	read -r READY_CPU READY_RUNQ < <(awk '{ printf "%.0f %.0f\n", $1 / 1e6, $2 / 1e6 }' "/proc/$SPID/schedstat")
	sleep "$secs"
	kill -0 "$SPID" 2>/dev/null || { tail -n 20 "$WORK/rss.log" >&2; die "seedd died"; }
	RSS_KB=$(status_kb "$SPID" VmRSS); HWM_KB=$(status_kb "$SPID" VmHWM)
	stop_seedd "$SPID" || note "seedd exited $? on SIGTERM (rss run)"
	cp "$WORK/rss.log" "$WORK/rss.$(date +%s%N).log"
	rm -rf "$run"
}

# --- 2. RSS with the crawler's nodes -------------------------------------------------
if want rss; then
	measure_rss "" "$SETTLE" "msg=started" --interval "$INTERVAL"
	base_rss=$RSS_KB; base_hwm=$HWM_KB
	measure_rss "$FULL" "$SETTLE" "msg=loaded file=nodes.csv" --interval "$INTERVAL"
	grep -q "msg=loaded file=nodes.csv nodes=$NODES " "$WORK/rss.log" ||
		{ grep 'loaded' "$WORK/rss.log" >&2; die "seedd did not load $NODES nodes"; }
	per_node=$(awk -v a="$RSS_KB" -v b="$base_rss" -v n="$NODES" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
	echo "crawler, $NODES nodes: nodes.csv loaded after $READY_MS ms (on CPU $READY_CPU ms, waiting $READY_RUNQ ms); ${SETTLE}s later VmRSS $(mib "$RSS_KB") MiB, VmHWM $(mib "$HWM_KB") MiB;" \
		"empty data dir: VmRSS $(mib "$base_rss") MiB, VmHWM $(mib "$base_hwm") MiB; $per_node B a node"
	row "RSS, crawler with $NODES nodes (steady VmRSS)" "$(mib "$RSS_KB") MiB ($per_node B a node; empty: $(mib "$base_rss") MiB)" "<= 16 MiB" "$(yesno "$RSS_KB <= 16384")"
	row "  peak (VmHWM) / steady" "$(mib "$HWM_KB") MiB = $(awk -v a="$HWM_KB" -v b="$RSS_KB" 'BEGIN { printf "%.2f", a / b }') x" "<= 1.10 x" "$(yesno "$HWM_KB <= 1.10 * $RSS_KB")"
	echo
fi

# --- 3. RSS with the infohashes ----------------------------------------------------------
DHT_ARGS=(--dht "$IP_DHT:$P_DHT" --dht-bootstrap "$IP_BOOT:6881")
if want ih; then
	gen_ih
	measure_rss "" "$SETTLE" "msg=started" --concurrency 0 "${DHT_ARGS[@]}"
	base_rss=$RSS_KB
	mkdir -p "$WORK/data-ih-only"; cp "$IH_CSV" "$WORK/data-ih-only/"
	measure_rss "$WORK/data-ih-only" "$SETTLE" "msg=loaded file=infohashes.csv" --concurrency 0 "${DHT_ARGS[@]}"
	rm -rf "$WORK/data-ih-only"
	loaded=$(grep -m1 'msg=loaded file=infohashes.csv' "$WORK/rss.log" | sed -n 's/.* infohashes=\([0-9]*\).*/\1/p')
	(( ${loaded:-0} == NIH )) || note "seedd loaded ${loaded:-?} infohashes, not $NIH"
	per_ih=$(awk -v a="$RSS_KB" -v b="$base_rss" -v n="$NIH" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
	echo "DHT, $NIH infohashes: loaded after $READY_MS ms (on CPU $READY_CPU ms, waiting $READY_RUNQ ms); ${SETTLE}s later VmRSS $(mib "$RSS_KB") MiB, VmHWM $(mib "$HWM_KB") MiB;" \
		"empty data dir: VmRSS $(mib "$base_rss") MiB; $per_ih B an infohash"
	row "RSS, DHT with $NIH infohashes (steady VmRSS)" "$(mib "$RSS_KB") MiB ($per_ih B each; loaded in $READY_MS ms, $READY_CPU on CPU)" "<= 64 MiB" "$(yesno "$RSS_KB <= 65536")"
	row "  peak (VmHWM) / steady" "$(mib "$HWM_KB") MiB = $(awk -v a="$HWM_KB" -v b="$RSS_KB" 'BEGIN { printf "%.2f", a / b }') x" "<= 1.10 x" "$(yesno "$HWM_KB <= 1.10 * $RSS_KB")"
	echo
fi

# --- 4. writes under a trickle, 5. SIGTERM ---------------------------------------------------
# Sum of key $2 over seedd's "$1 msg=summary" lines logged between unix times $3 and $4.
sum_summary() {
	"$PY" - "$WORK/big.log" "$1" "$2" "$3" "$4" <<-'EOF'
	import calendar, re, sys, time
	path, sub, key, t0, t1 = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
	tot = 0
	for line in open(path):
	    if (" %s msg=summary " % sub) not in line:
	        continue
	    t = calendar.timegm(time.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%SZ"))
	    m = re.search(r" %s=(\d+)" % key, line)
	    if m and t0 <= t <= t1:
	        tot += int(m.group(1))
	print(tot)
	EOF
}
last_summary() { # SUBSYSTEM KEY: the value in seedd's last summary line
	grep " $1 msg=summary " "$WORK/big.log" | tail -n 1 | sed -n "s/.* $2=\\([0-9]*\\).*/\\1/p"
}
fmt_bytes() { awk -v b="$1" 'BEGIN { split("B KB MB GB TB", u); i = 1; while (b >= 1000 && i < 5) { b /= 1000; i++ } printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i] }'; }

if want writes || want term; then
	gen_ih
	W=$WORK/data-big
	span=$(( WARMUP + MINUTES * 60 + 60 ))
	want writes || span=120
	gen_nodes "$W" --bad "$BAD" --dying "$DYING" --window "$span" --topo "$WORK/topo.json" >"$WORK/gen-big.json" ||
		die "cannot generate the node data"
	cp "$IH_CSV" "$W/"
	read -r n_good n_bad n_listen n_dying n_baddue n_due < <("$PY" -c 'import json, sys; d = json.load(open(sys.argv[1]));
print(d["good"], d["bad"], d["listening"], d["dying"], d["bad_due"], d["due_within"])' "$WORK/gen-big.json")
	echo "trickle set-up: $NODES nodes ($n_good good, $n_bad failing), --interval $INTERVAL: $(awk -v n="$NODES" -v i="$INTERVAL" 'BEGIN { printf "%.0f", n * 3600 / i }') checks due an hour;" \
		"$n_due due within ${span}s of now (+10% jitter +60 s): $n_listen listen, $n_dying good ones silent, $n_baddue failing"
	echo "files: zone.csv $(stat -c %s "$W/zone.csv") B, nodes.csv $(stat -c %s "$W/nodes.csv") B, infohashes.csv $(stat -c %s "$W/infohashes.csv") B"

	# The nodes that answer.
	"$PY" "$ROOT/tests/sim/simnet.py" "$WORK/topo.json" --ready "$WORK/sim.ready" --engine fast --light \
		--max-seconds $(( span + 600 )) 2>"$WORK/sim.log" &
	SIMPID=$!; PIDS+=("$SIMPID")
	for _ in $(seq 1 300); do [[ -s $WORK/sim.ready ]] && break; kill -0 "$SIMPID" 2>/dev/null || break; sleep 0.1; done
	[[ -s $WORK/sim.ready ]] || { cat "$WORK/sim.log" >&2; die "the simulated nodes did not come up"; }

	# seedd's log through a FIFO: what cat writes is not seedd's.
	mkfifo "$WORK/log.fifo"
	cat "$WORK/log.fifo" >"$WORK/big.log" &
	CATPID=$!; PIDS+=("$CATPID")
	ARGS=("${COMMON[@]}" -d "$W" --interval "$INTERVAL" "${DHT_ARGS[@]}")
	echo "seedd ${ARGS[*]}"
	"$SEEDD" "${ARGS[@]}" >/dev/null 2>"$WORK/log.fifo" &
	BIGPID=$!; PIDS+=("$BIGPID")
	wait_line "$WORK/big.log" "msg=started" "$BIGPID" 120 || { tail -n 20 "$WORK/big.log" >&2; die "seedd did not start"; }
	T_STARTED=$(date +%s.%N)
	# A build may read the big files after its first turn of the loop: wait for them.
	wait_line "$WORK/big.log" "msg=loaded file=infohashes.csv" "$BIGPID" 120 &&
		wait_line "$WORK/big.log" "msg=loaded file=nodes.csv nodes=" "$BIGPID" 120 ||
		{ tail -n 20 "$WORK/big.log" >&2; die "seedd did not load its files"; }
	grep -q "msg=loaded file=infohashes.csv infohashes=$NIH " "$WORK/big.log" || note "infohashes.csv not loaded whole: $(grep 'file=infohashes' "$WORK/big.log")"
	grep -q "msg=loaded file=nodes.csv nodes=$NODES " "$WORK/big.log" || note "nodes.csv not loaded whole: $(grep 'file=nodes.csv' "$WORK/big.log")"

	"$PY" "$ROOT/bench/scale_krpc.py" --to "$IP_DHT:$P_DHT" --existing "$NIH" --new-per-min "$NEW_PER_MIN" \
		--old-per-min "$OLD_PER_MIN" --src "$SRC_KRPC" --status "$WORK/krpc.json" 2>"$WORK/krpc.log" &
	KPID=$!; PIDS+=("$KPID")

	if want writes; then
		T0=$(awk -v s="$T_STARTED" -v w="$WARMUP" 'BEGIN { printf "%.3f", s + w }')
		T1=$(awk -v s="$T0" -v m="$MINUTES" 'BEGIN { printf "%.3f", s + m * 60 }')
		echo "warm-up ${WARMUP}s, then $MINUTES minutes measured (ends about $(date -d "@${T1%.*}" '+%H:%M:%S'))"
		"$PY" "$ROOT/bench/scale_mon.py" --pid "$BIGPID" --dir "$W" --start "$T0" --seconds $(( MINUTES * 60 )) \
			--dns "$IP_DNS:$P_DNS" --zone "$ZONE" --from "$IP_PROBE" --out "$WORK/mon.json" &
		MPID=$!; PIDS+=("$MPID")
		wait "$MPID" || { tail -n 20 "$WORK/big.log" >&2; die "the measurement failed (seedd died?)"; }
		forget "$MPID"
	else
		sleep 60
	fi
	kill -0 "$BIGPID" 2>/dev/null || { tail -n 20 "$WORK/big.log" >&2; die "seedd died"; }
	BIG_RSS=$(status_kb "$BIGPID" VmRSS); BIG_HWM=$(status_kb "$BIGPID" VmHWM)
	kill -TERM "$KPID"; wait "$KPID" || true; forget "$KPID"
	[[ -s $WORK/krpc.json ]] || die "the KRPC driver left no status"

	if want writes; then
		read -r wb cwb fb secs dev worst kids waits < <("$PY" -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(d["write_bytes"], d["cancelled_write_bytes"], d["file_bytes"], d["seconds"],
      d["device_sectors_written"] if d["device_sectors_written"] is not None else -1, d["worst_minute_bytes"],
      d["children_seen"], "/".join(str(x) for x in d["waited_for_quiet_s"]))' "$WORK/mon.json")
		read -r dns_sent dns_ans dns_lost dns_slow dns_worst < <("$PY" -c 'import json, sys; d = json.load(open(sys.argv[1]))["dns"]
print(d["sent"], d["answered"], d["lost"], d["slower_than_100ms"], d["slowest_ms"])' "$WORK/mon.json")
		# Per file: "name rewrites appends links bytes".
		"$PY" -c 'import json, sys
for n, f in json.load(open(sys.argv[1]))["files"].items():
    print(n, f["rewrites"], f["appends"], f["links"], f["bytes"])' "$WORK/mon.json" >"$WORK/mon.files"
		per_day=$(awk -v b="$wb" -v s="$secs" 'BEGIN { printf "%.0f", b * 86400 / s }')
		per_min=$(awk -v b="$wb" -v s="$secs" 'BEGIN { printf "%.0f", b * 60 / s }')
		checks=$(sum_summary crawl checked "${T0%.*}" "${T1%.*}")
		forgotten=$(sum_summary crawl forgotten "${T0%.*}" "${T1%.*}")
		gp=$(sum_summary dht get_peers "${T0%.*}" "${T1%.*}")
		ann=$(sum_summary dht announces "${T0%.*}" "${T1%.*}")
		echo
		echo "measured ${secs}s: write_bytes $wb (cancelled $cwb), $(fmt_bytes "$per_min") a minute; most in any 60 s: $(fmt_bytes "$worst")"
		echo "  the data dir's files, as seen every 0.25 s: $(fmt_bytes "$fb") new data" \
			"($(awk -v a="$fb" -v b="$wb" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }') of write_bytes):"
		while read -r n rw ap ln by; do
			printf '    %-24s %3d rewritten, %3d appended to, %3d linked; %s\n' "$n" "$rw" "$ap" "$ln" "$(fmt_bytes "$by")"
		done <"$WORK/mon.files"
		(( dev >= 0 )) && echo "  device $(findmnt -n -o SOURCE -T "$W"): $(fmt_bytes $(( dev * 512 ))) written meanwhile by the whole machine (journal and other processes included)"
		echo "  children of seedd seen: $kids; waited for no live child at the ends: $waits s"
		echo "  trickle (seedd's summaries in the window): $checks node checks ($(awk -v c="$checks" -v s="$secs" 'BEGIN { printf "%.0f", c * 3600 / s }') an hour," \
			"$(awk -v c="$checks" -v s="$secs" -v n="$NODES" 'BEGIN { printf "%.2f", 100 * c * 3600 / s / n }')% of the rows), $forgotten forgotten;" \
			"$gp get_peers and $ann announces ($(awk -v c="$gp" -v s="$secs" 'BEGIN { printf "%.0f", c * 60 / s }') get_peers a minute)"
		echo "  KRPC driver (whole run): $(cat "$WORK/krpc.json")"
		echo "  DNS meanwhile (apex A every 20 ms): $dns_ans of $dns_sent answered, $dns_lost lost (2 s)," \
			"$dns_slow slower than 100 ms, slowest $dns_worst ms"
		row "writes a day (trickle; ${MINUTES} min x 1440/${MINUTES})" "$(fmt_bytes "$per_day") ($(fmt_bytes "$per_min")/min)" "<= 1 GB" "$(yesno "$per_day <= 1000000000")"
		per_file=""
		while read -r n rw ap ln by; do
			if (( by > 0 )); then per_file+="${per_file:+, }$n $(fmt_bytes "$by")"; fi
		done <"$WORK/mon.files"
		row "  cross-check: new data in the data dir's files" "$(fmt_bytes "$fb") in ${secs}s (${per_file:-none})" "" ""
	fi
	want writes && row "DNS during it (apex A every 20 ms)" "slowest $dns_worst ms; $dns_slow of $dns_sent over 100 ms, $dns_lost lost" "" ""
	row "RSS with both ($NODES nodes, $NIH infohashes)" "VmRSS $(mib "$BIG_RSS") MiB, VmHWM $(mib "$BIG_HWM") MiB" "" ""

	# SIGTERM: time to exit, status, files complete.
	want_nodes=$(last_summary crawl nodes)
	read -r last_new new_ans < <("$PY" -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(d["last_new"] or "-", d["new_answered"])' "$WORK/krpc.json")
	# The table holds what it loaded and every new infohash, up to its cap (DHT_IH_MAX).
	want_ih=$(( NIH + new_ans )); (( want_ih > 1000000 )) && want_ih=1000000
	ino_ih=$(stat -c %i "$W/infohashes.csv"); ino_nodes=$(stat -c %i "$W/nodes.csv")
	t0=$(now_ns)
	kill -TERM "$BIGPID"
	# A watchdog in one process (nothing left behind when it is killed).
	"$PY" -c 'import os, sys, time; time.sleep(30); os.kill(int(sys.argv[1]), 9)' "$BIGPID" 2>/dev/null &
	DOG=$!; PIDS+=("$DOG")
	st=0; wait "$BIGPID" || st=$?
	t1=$(now_ns)
	forget "$BIGPID"
	kill "$DOG" 2>/dev/null || true; wait "$DOG" 2>/dev/null || true; forget "$DOG"
	wait "$CATPID" 2>/dev/null || true; forget "$CATPID"
	stop_ms=$(( (t1 - t0) / 1000000 ))
	ls -l "$W" >"$WORK/after-term.ls"
	ih_rows=$(( $(wc -l <"$W/infohashes.csv") - 1 ))
	ih_bad=$(awk -F, 'NR > 1 && (NF != 7 || length($1) != 40)' "$W/infohashes.csv" | wc -l)
	nd_rows=$(awk -F, 'NR > 1 && $5 == "infnote"' "$W/nodes.csv" | wc -l)
	nd_bad=$(awk -F, 'NR > 1 && NF != 22' "$W/nodes.csv" | wc -l)
	zn_rows=$(awk -F, -v z="$ZONE" 'NR > 1 && $1 == z' "$W/zone.csv" | wc -l)
	tails_ok=yes
	for f in infohashes.csv nodes.csv zone.csv; do
		[[ $(tail -c 1 "$W/$f" | od -An -c | tr -d ' ') == '\n' ]] || tails_ok=no
	done
	tmps=$(find "$W" -name '*.tmp' | wc -l)
	# The last new infohash: in the file, or in a change log beside it.
	has_new=no
	for f in "$W"/infohashes.csv "$W"/infohashes.csv.*; do
		case $f in *.old | *.rejected.* | *.tmp) continue ;; esac
		if [[ $has_new == no ]] && grep -qas "$last_new," "$f"; then has_new=${f##*/}; fi
	done
	new_ih=no; [[ $(stat -c %i "$W/infohashes.csv") != "$ino_ih" ]] && new_ih=yes
	new_nodes=no; [[ $(stat -c %i "$W/nodes.csv") != "$ino_nodes" ]] && new_nodes=yes
	# What a restart reads back (the files and whatever log beside them): a
	# copy of the data dir, seedd with the same flags until it has loaded,
	# then SIGKILL (nothing written).
	rm -rf "$WORK/reload"; cp -a "$W" "$WORK/reload"
	"$SEEDD" "${COMMON[@]}" -d "$WORK/reload" --interval "$INTERVAL" "${DHT_ARGS[@]}" >/dev/null 2>"$WORK/reload.log" &
	RPID=$!; PIDS+=("$RPID")
	re_ih=?; re_nodes=?; want_pub=?
	if wait_line "$WORK/reload.log" "msg=loaded file=infohashes.csv" "$RPID" 60 &&
		wait_line "$WORK/reload.log" "msg=loaded file=nodes.csv nodes=" "$RPID" 60; then
		re_ih=$(grep -m1 'msg=loaded file=infohashes.csv' "$WORK/reload.log" | sed -n 's/.* infohashes=\([0-9]*\).*/\1/p')
		re_nodes=$(grep -m1 'msg=loaded file=nodes.csv nodes=' "$WORK/reload.log" | sed -n 's/.* nodes=\([0-9]*\).*/\1/p')
		# The nodes that nodes.csv says are good: zone.csv must hold exactly as many.
		want_pub=$(grep -m1 'msg=loaded file=nodes.csv nodes=' "$WORK/reload.log" | sed -n 's/.* published=\([0-9]*\).*/\1/p')
	else
		tail -n 5 "$WORK/reload.log" >&2
	fi
	kill -KILL "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; forget "$RPID"
	rm -rf "$WORK/reload"
	complete=yes
	[[ $re_ih == "$want_ih" && $re_nodes == "${want_nodes:-x}" && $ih_bad == 0 && $nd_bad == 0 &&
		$zn_rows == "$want_pub" && $tails_ok == yes && $tmps == 0 && $has_new != no ]] || complete=no
	echo
	echo "SIGTERM: exit status $st after $stop_ms ms; last log line: $(tail -n 1 "$WORK/big.log" | cut -c1-120)"
	echo "  infohashes.csv: $ih_rows rows, $ih_bad malformed, rewritten: $new_ih; a restart loads $re_ih (want $want_ih:" \
		"$NIH + $new_ans new, at most 1,000,000); last new infohash ${last_new} found: $has_new"
	echo "  nodes.csv: $nd_rows crawler rows, $nd_bad malformed, rewritten: $new_nodes; a restart loads $re_nodes (last summary: ${want_nodes:-?})"
	echo "  zone.csv: $zn_rows node rows (good nodes in nodes.csv as a restart reads it: $want_pub); files end in newline: $tails_ok; .tmp left: $tmps"
	echo "  files after: $(awk 'NR > 1 { printf "%s%s %s B", (n++ ? ", " : ""), $NF, $5 }' "$WORK/after-term.ls")"
	want writes && row "files after the run (zone / nodes / infohashes)" "$(fmt_bytes "$(stat -c %s "$W/zone.csv")") / $(fmt_bytes "$(stat -c %s "$W/nodes.csv")") / $(fmt_bytes "$(stat -c %s "$W/infohashes.csv")")" "" ""
	if want term; then
		row "SIGTERM with the largest files: time to exit" "$stop_ms ms, status $st" "<= 2000 ms, 0" "$(yesno "$stop_ms <= 2000 && $st == 0")"
		row "  everything written (restart loads; rows whole)" "ih $re_ih of $want_ih, nodes $re_nodes of ${want_nodes:-?}, zone $zn_rows of $want_pub" "all" "$complete"
	fi
	kill "$SIMPID" 2>/dev/null || true; wait "$SIMPID" 2>/dev/null || true; forget "$SIMPID"
	echo
fi

# --- the table -------------------------------------------------------------------------------
now_md5=$(md5sum <"$SEEDD_SRC" 2>/dev/null | cut -c1-32 || echo gone)
printf '%s\n' "${TABLE[@]}" | awk -F'\t' '
	{ f[NR] = $1; m[NR] = $2; g[NR] = $3; y[NR] = $4
	  if (length($1) > w1) w1 = length($1); if (length($2) > w2) w2 = length($2); if (length($3) > w3) w3 = length($3) }
	END {
		if (w1 < 6) w1 = 6; if (w2 < 8) w2 = 8; if (w3 < 4) w3 = 4
		printf "%-" w1 "s  %-" w2 "s  %-" w3 "s  %s\n", "figure", "measured", "goal", "met"
		for (i = 1; i <= NR; i++) printf "%-" w1 "s  %-" w2 "s  %-" w3 "s  %s\n", f[i], m[i], g[i], y[i]
	}'
[[ $now_md5 == "$SEEDD_MD5" ]] ||
	echo "NOTE: $SEEDD_SRC changed during the run; these figures are for the build copied at the start (md5 $SEEDD_MD5)"
exit 0
