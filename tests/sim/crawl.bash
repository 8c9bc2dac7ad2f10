# Helpers of the crawler's integration tests (tests/integration/crawl_*.sh),
# sourced after tests/lib.sh. Not named *.sh: tests/run.sh runs only tests.
#
# A test starts the simulated network (simnet.py, on 127.1.0.0/16 only),
# a seedd that serves net.test names for the crawler's --resolver, and the
# crawling seedd; waits for its "crawl pass done" line with a deadline; and
# turns check.py's verdicts into pass/fail lines.
#
# CRAWL_REF=1 runs the reference crawler (refcrawl.py) in place of seedd's
# crawler and then a plain seedd that serves what it wrote: this validates
# the simulator and the checks themselves, never seedd's crawler.
# CRAWL_KEEP=DIR copies the test's work files (logs, nodes.csv, the
# simulator's stats and topology) to DIR at exit, for debugging.

SIMDIR="$ROOT/tests/sim"
PY=/usr/bin/python3
CRAWL_REF=${CRAWL_REF:-}
PREFIX=${PREFIX:-crawl}
SIM_PID=""
SIM_STATS=""
CRAWL_LOG=""
CRAWL_MISSES=0
if [ -n "${CRAWL_KEEP:-}" ]; then
	trap 'mkdir -p "$CRAWL_KEEP" && cp -a "$TMPBASE"/. "$CRAWL_KEEP"/ && echo "kept $CRAWL_KEEP"; cleanup' EXIT
fi

# report: check.py's "ok NAME" / "bad NAME WHY" lines as pass/fail lines.
report() {
	local verdict name why
	while read -r verdict name why; do
		case $verdict in
		ok) pass "$name" ;;
		bad) fail "$name" "$why" ;;
		*) echo "$verdict $name $why" ;;
		esac
	done
}

# crawl_need_tools: python3 with websockets, openssl and dig (tests/deps.sh).
crawl_need_tools() {
	local missing=""
	"$PY" -c 'import websockets' 2>/dev/null || missing="$missing python3-websockets"
	command -v openssl >/dev/null || missing="$missing openssl"
	command -v dig >/dev/null || missing="$missing dnsutils"
	if [ -n "$missing" ]; then
		fail "$PREFIX/tools" "missing Debian packages:$missing (run tests/deps.sh)"
		exit 1
	fi
	[ -x "$SEEDD" ] || { fail "$PREFIX/tools" "$SEEDD missing: run make"; exit 1; }
}

# sim_start TOPO NAME [simnet options]: the simulated network, up within 30 s.
# Sets SIM_PID and SIM_STATS (written by sim_stop or sim_snapshot).
sim_start() {
	local topo=$1 name=$2; shift 2
	local ready="$TMPBASE/$name.ready"
	SIM_STATS="$TMPBASE/$name.stats.json"
	SIM_LOG="$TMPBASE/$name.sim.log"
	"$PY" "$SIMDIR/simnet.py" "$topo" --ready "$ready" --stats "$SIM_STATS" --max-seconds 300 "$@" 2>"$SIM_LOG" &
	SIM_PID=$!
	SEEDD_PIDS="$SEEDD_PIDS $SIM_PID"
	local i
	for i in $(seq 1 300); do
		[ -s "$ready" ] && return 0
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "$PREFIX/simnet-up" "the simulated network did not come up: $(tail -n 5 "$SIM_LOG" | tr '\n' ' ')"
	exit 1
}

# sim_snapshot: have the running simulator write SIM_STATS now.
sim_snapshot() {
	rm -f "$SIM_STATS"
	kill -USR1 "$SIM_PID" 2>/dev/null
	local i
	for i in $(seq 1 50); do [ -s "$SIM_STATS" ] && return 0; sleep 0.1; done
	return 1
}

# sim_stop: stop the simulator; SIM_STATS holds what it saw.
sim_stop() {
	rm -f "$SIM_STATS"
	kill -TERM "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	[ -s "$SIM_STATS" ] || fail "$PREFIX/simnet-stats" "the simulator wrote no stats: $(tail -n 5 "$SIM_LOG" | tr '\n' ' ')"
}

# resolver_start ROWS-FILE: a seedd serving the zone net.test with the
# static rows NAME,IP of ROWS-FILE, its crawler off. Sets RESOLVER_PORT.
resolver_start() {
	local rows=$1 dir
	dir=$(new_dir)
	RESOLVER_PORT=$(free_port)
	{ echo "ns.net.test,hostmaster.net.test 1 3600 600 86400 60"; cat "$rows"; } >"$dir/zone.csv"
	local off=(--concurrency 0)
	[ -n "$CRAWL_REF" ] && ! "$SEEDD" --help 2>&1 | grep -q -- --concurrency && off=()
	if ! start_seedd "$dir" --zone net.test --listen "127.0.0.1:$RESOLVER_PORT" --allow-private "${off[@]}"; then
		fail "$PREFIX/resolver-starts" "seedd --zone net.test --concurrency 0 did not start: $(tail -n 2 "$dir/log" | tr '\n' ' ')"
		exit 1
	fi
}

# crawl_start DIR ARGS...: the crawling seedd on data directory DIR (do not
# pass -d/--data-dir in ARGS). Sets CRAWL_LOG and SEEDD_PID.
# A seedd that does not start (unknown flag: no crawler yet) ends the test.
crawl_start() {
	local dir=$1; shift
	if [ -z "$CRAWL_REF" ]; then
		CRAWL_LOG="$dir/log"
		if ! start_seedd "$dir" "$@"; then
			fail "$PREFIX/seedd-starts" "seedd $* did not start: $(tail -n 2 "$dir/log" | tr '\n' ' ')"
			exit 1
		fi
		return 0
	fi
	# Reference mode: refcrawl.py does one pass, then a plain seedd serves.
	local serve=() a crawl=1 orig=("$@")
	while [ $# -gt 0 ]; do
		a=$1; shift
		case $a in
		--allow-private|--wildcard) serve+=("$a") ;;
		--zone|--listen|--answers|--snapshot-interval|--log-level|--ttl) serve+=("$a" "$1"); shift ;;
		--concurrency) [ "$1" = 0 ] && crawl=0; shift ;;
		*) [ $# -gt 0 ] && [ "${1#--}" = "$1" ] && shift ;;
		esac
	done
	CRAWL_LOG="$dir/crawl.log"
	"$SEEDD" --help 2>&1 | grep -q -- --concurrency && serve+=(--concurrency 0)
	if [ $crawl = 1 ]; then
		timeout 120 "$PY" "${REFCRAWL:-$SIMDIR/refcrawl.py}" --data-dir "$dir" "${orig[@]}" 2>"$CRAWL_LOG"
	fi
	start_seedd "$dir" "${serve[@]}" || { fail "$PREFIX/seedd-starts" "$(tail -n 2 "$dir/log")"; exit 1; }
}

# crawl_wait_done SECONDS [NAME]: wait for the "crawl pass done" line (the
# assertion is named $PREFIX/NAME, default pass-done). Sets PASS_MS
# (the ms= it reports) and PASS_LINE; returns 1 with a fail line on timeout
# or when seedd died.
crawl_wait_done() {
	local secs=$1 i n="$PREFIX/${2:-pass-done}"
	PASS_MS=""; PASS_LINE=""
	# After one miss, a seedd that never prints the line is not waited for long.
	[ "$CRAWL_MISSES" -gt 0 ] && [ "$secs" -gt 5 ] && secs=5
	for i in $(seq 1 $((secs * 10))); do
		PASS_LINE=$(grep -m1 'crawl msg="crawl pass done"' "$CRAWL_LOG" 2>/dev/null)
		if [ -n "$PASS_LINE" ]; then
			PASS_MS=$(printf '%s\n' "$PASS_LINE" | sed -n 's/.* ms=\([0-9][0-9]*\).*/\1/p')
			if printf '%s' "$PASS_LINE" | grep -E ' info crawl msg="crawl pass done"( |$)' |
				grep -E ' nodes=[0-9]+( |$)' | grep -E ' good=[0-9]+( |$)' | grep -qE ' ms=[0-9]+( |$)'; then
				pass "$n"
			else
				fail "$n" "malformed line: $PASS_LINE"
			fi
			return 0
		fi
		if ! kill -0 "$SEEDD_PID" 2>/dev/null; then
			fail "$n" "seedd exited before its 'crawl pass done' line: $(tail -n 3 "$CRAWL_LOG" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
	fail "$n" "no 'info crawl msg=\"crawl pass done\"' line within ${secs}s; last lines: $(tail -n 3 "$CRAWL_LOG" | tr '\n' ' ')"
	CRAWL_MISSES=$((CRAWL_MISSES + 1))
	return 1
}

# dig_a PORT NAME OUT: the A records of NAME over TCP, one a line.
dig_a() {
	dig +short +tcp +time=2 +tries=1 @127.0.0.1 -p "$1" "$2" A >"$3" 2>&1
}
