#!/usr/bin/env bash
# bench/dns.sh: UDP query throughput of seedd against NSD and Knot (make bench).
#
# All three serve seed.example.com with 25 apex A records on 127.0.0.1 only.
# Each server gets one worker pinned to CPU 1 (capped at BENCH_SERVER_SHARE%
# of it), dnsperf runs pinned to CPU 0. Runs alternate between the servers
# (BENCH_ROUNDS rounds of BENCH_SECONDS each); the medians are compared.
# The ratio is reported, not asserted: exit 0 whenever the measurement ran,
# non-zero when a server could not be set up or seedd answered wrongly or died.
#
# Environment:
#   BENCH_SEEDD     seedd binary to measure (default ./seedd)
#   BENCH_SECONDS   length of one dnsperf run (default 10)
#   BENCH_ROUNDS    rounds of (seedd, nsd, knot) (default 3)
#   BENCH_CLIENTS   dnsperf -c, UDP sockets (default 8)
#   BENCH_INFLIGHT  dnsperf -q, queries outstanding (default 200)
#   BENCH_EDNS      1: queries carry EDNS(0) like a resolver's (default 1)
#   BENCH_SERVER_SHARE  percent of CPU 1 each server may use (default 50,
#                   a cgroup quota; 100: whole core, dnsperf-bound, see below)
#   BENCH_KEEP      non-empty: keep the temp dir (configs, dnsperf output)
#   BENCH_SEEDD_ARGS  seedd's rate limiting flags (default "--rrl 0", off as
#                   NSD's is; "--rrl 1000000": on but never reached, to
#                   measure its cost; "" for a binary without --rrl)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEEDD=${BENCH_SEEDD:-$ROOT/seedd}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-8}
INFLIGHT=${BENCH_INFLIGHT:-200}
EDNS=${BENCH_EDNS:-1}
SHARE=${BENCH_SERVER_SHARE:-50}
ZONE=seed.example.com
NANSWERS=25
SERVER_CPU=1
CLIENT_CPU=0

die() { echo "bench: $*" >&2; exit 1; }

[[ -x $SEEDD ]] || die "$SEEDD missing: run make first"
(( $(nproc) >= 2 )) || die "needs 2 CPUs (server and dnsperf pinned apart)"

# --- tools -----------------------------------------------------------------
need_install() {
	local t
	for t in dnsperf nsd knotd dig taskset ss pgrep; do
		command -v "$t" >/dev/null 2>&1 || return 0
	done
	return 1
}
# One list of packages in one place: tests/deps.sh installs them (as root).
if need_install; then
	"$ROOT/tests/deps.sh" >/dev/null || die "tests/deps.sh failed"
	need_install && die "tools still missing after tests/deps.sh"
fi

# --- workspace and cleanup -------------------------------------------------
# Process and all its descendants (NSD: xfrd -> main -> server worker).
descendants() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1" || true); do descendants "$c"; done
}
WORK=$(mktemp -d /tmp/seedd-bench.XXXXXX)
declare -A PID=()
CGROUP=""
cleanup() {
	local n p all=""
	for n in "${!PID[@]}"; do all+=" $(descendants "${PID[$n]}")"; done
	for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null || true; done
	for n in "${!PID[@]}"; do wait "${PID[$n]}" 2>/dev/null || true; done
	# NSD's workers outlive the process we started by a moment.
	for _ in $(seq 1 50); do
		for p in $all; do kill -0 "$p" 2>/dev/null && break; p=""; done
		[[ -z ${p:-} ]] && break
		sleep 0.1
	done
	[[ -n $CGROUP ]] && { rmdir "$CGROUP"/* "$CGROUP" 2>/dev/null || true; }
	if [[ -n ${BENCH_KEEP:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

# A port that nothing listens on, UDP or TCP (all servers take both); sets
# variable $1 (not echoed: a subshell would forget the ports already taken).
taken=" "
pick_port() {
	local p
	while :; do
		p=$(( 20000 + RANDOM % 40000 ))
		[[ $taken == *" $p "* ]] && continue
		grep -qE "[:.]$p\$" <<<"$(ss -Htuln | awk '{ print $5 }')" && continue
		taken+="$p "
		printf -v "$1" '%s' "$p"
		return
	done
}

# --- zone data (addresses are data only, never contacted) ------------------
SOA_MNAME=ns.$ZONE
SOA_RNAME=hostmaster.$ZONE
SOA_NUMS="2026112201 28800 7200 604800 86400"

mkdir -p "$WORK/seedd" "$WORK/nsd" "$WORK/knot/db"
{
	echo "$SOA_MNAME,$SOA_RNAME $SOA_NUMS"
	for i in $(seq 1 $NANSWERS); do echo "$ZONE,11.$i.0.1"; done
} >"$WORK/seedd/zone.csv"

{
	echo "\$ORIGIN $ZONE."
	echo "\$TTL 60"
	echo "@ 3600 IN SOA $SOA_MNAME. $SOA_RNAME. $SOA_NUMS"
	echo "@ 3600 IN NS $SOA_MNAME."
	for i in $(seq 1 $NANSWERS); do echo "@ IN A 11.$i.0.1"; done
} >"$WORK/zone.db"

pick_port PORT_SEEDD; pick_port PORT_NSD; pick_port PORT_KNOT

# NSD rate-limits by default (rrl); minimal-responses so its answer carries no
# authority NS, like seedd's and Knot's.
cat >"$WORK/nsd/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$PORT_NSD
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$WORK"
    database: ""
    zonelistfile: "$WORK/nsd/zone.list"
    xfrdfile: "$WORK/nsd/xfrd.state"
    xfrdir: "$WORK/nsd"
    pidfile: "$WORK/nsd/nsd.pid"
    logfile: "$WORK/nsd/nsd.log"
    verbosity: 0
    hide-version: yes
    minimal-responses: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $ZONE
    zonefile: "$WORK/zone.db"
EOF

# Knot has no rate limiting unless the rrl module is loaded; it is not.
# seedd runs with --rrl 0 likewise (one client address asking one name is
# exactly what rate limiting stops; bench/rrl.sh measures that part).
cat >"$WORK/knot/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$PORT_KNOT
    rundir: "$WORK/knot"
    pidfile: "$WORK/knot/knot.pid"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$WORK/knot/db"
control:
    listen: "$WORK/knot/knot.sock"
template:
  - id: default
    storage: "$WORK"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: $ZONE
    file: "$WORK/zone.db"
EOF

printf '%s A\n' "$ZONE" >"$WORK/queries.txt"

# --- servers ---------------------------------------------------------------
declare -A PORT=([seedd]=$PORT_SEEDD [nsd]=$PORT_NSD [knot]=$PORT_KNOT)
SERVERS=(seedd nsd knot)

taskset -c $SERVER_CPU "$SEEDD" --zone "$ZONE" --listen "127.0.0.1:$PORT_SEEDD" \
	--answers $NANSWERS --concurrency 0 -d "$WORK/seedd" --log-level warn ${BENCH_SEEDD_ARGS---rrl 0} \
	>"$WORK/seedd.log" 2>&1 &
PID[seedd]=$!
taskset -c $SERVER_CPU nsd -d -c "$WORK/nsd/nsd.conf" >"$WORK/nsd.out" 2>&1 &
PID[nsd]=$!
taskset -c $SERVER_CPU knotd -c "$WORK/knot/knot.conf" >"$WORK/knot.log" 2>&1 &
PID[knot]=$!

server_log() {
	case $1 in
	seedd) tail -n 20 "$WORK/seedd.log" ;;
	nsd) tail -n 20 "$WORK/nsd.out" "$WORK/nsd/nsd.log" 2>/dev/null ;;
	knot) tail -n 20 "$WORK/knot.log" ;;
	esac
}

# "STATUS COUNT SIZE": rcode, apex A records and bytes of one answer to a
# query like dnsperf's (EDNS without options, or none).
DIG_EDNS=+nocookie
(( EDNS )) || DIG_EDNS=+noedns
probe() {
	{ dig @127.0.0.1 -p "${PORT[$1]}" "$ZONE" A +norec $DIG_EDNS +tries=1 +time=1 2>/dev/null ||
		true; } |
		awk '/status:/ { sub(",", "", $6); st = $6 }
		     /MSG SIZE/ { size = $NF }
		     !/^;/ && $4 == "A" { n++ }
		     END { print (st == "" ? "NONE" : st), n + 0, size + 0 }'
}

# A server is up once it answers; then it must answer NOERROR with 25 A.
# FULL: the size of that answer; dnsperf's average reply size must match it,
# which it does only if every reply held all 25 records.
declare -A FULL=()
for s in "${SERVERS[@]}"; do
	ans="NONE 0 0"
	for _ in $(seq 1 50); do
		kill -0 "${PID[$s]}" 2>/dev/null || break
		ans=$(probe "$s")
		[[ $ans != NONE* ]] && break
		sleep 0.1
	done
	if [[ $ans != "NOERROR $NANSWERS "* ]]; then
		server_log "$s" >&2
		die "$s on 127.0.0.1:${PORT[$s]}: expected NOERROR with $NANSWERS A, got '$ans'"
	fi
	FULL[$s]=${ans##* }
	echo "$s: 127.0.0.1:${PORT[$s]} answers NOERROR with $NANSWERS A records (${FULL[$s]} bytes)"
done

# Knot pins its UDP workers to CPU (worker id % ncpus) at start, over the
# taskset: move every thread back, then check no thread of any server may run
# on another CPU.
taskset -a -p -c $SERVER_CPU "${PID[knot]}" >/dev/null
for s in "${SERVERS[@]}"; do
	for p in $(descendants "${PID[$s]}"); do
		for st in /proc/"$p"/task/*/status; do
			cpus=$(awk '/^Cpus_allowed_list:/ { print $2 }' "$st" 2>/dev/null) || continue
			[[ -z $cpus || $cpus == "$SERVER_CPU" ]] ||
				die "$s thread ${st%/status} may run on CPUs $cpus, not only $SERVER_CPU"
		done
	done
done

# CPU time (ticks, all threads) of a server's process tree.
cpu_ticks() {
	local p t=0 v
	for p in $(descendants "$1"); do
		# Fields after the ")" of comm, which may hold spaces ("nsd: main").
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || continue
		t=$(( t + v ))
	done
	echo $t
}
HZ=$(getconf CLK_TCK)
# "busy total" jiffies of one CPU (all processes, softirq included).
core_ticks() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b > 0 ? 100 * a / b : 0) }'; }

# dnsperf on one core sends about as many queries as one server core answers
# (~150k qps here), so with whole cores it is the load generator that is
# measured and every ratio comes out near 1. A CPU quota per server (cgroup
# cpu controller, v1 or v2) makes each server the bottleneck instead.
cap_servers() {
	local s p base=/sys/fs/cgroup
	if [[ -w $base/cpu/cgroup.procs ]]; then # v1
		CGROUP=$(mktemp -d "$base/cpu/seedd-bench.XXXXXX") || return 1
		for s in "${SERVERS[@]}"; do
			mkdir "$CGROUP/$s" &&
				echo 10000 >"$CGROUP/$s/cpu.cfs_period_us" &&
				echo $(( SHARE * 100 )) >"$CGROUP/$s/cpu.cfs_quota_us" || return 1
		done
	elif grep -qw cpu "$base/cgroup.controllers" 2>/dev/null; then # v2
		echo +cpu >"$base/cgroup.subtree_control" 2>/dev/null || true
		CGROUP=$(mktemp -d "$base/seedd-bench.XXXXXX") || return 1
		echo +cpu >"$CGROUP/cgroup.subtree_control" || return 1
		for s in "${SERVERS[@]}"; do
			mkdir "$CGROUP/$s" && echo "$(( SHARE * 100 )) 10000" >"$CGROUP/$s/cpu.max" || return 1
		done
	else
		return 1
	fi
	for s in "${SERVERS[@]}"; do
		for p in $(descendants "${PID[$s]}"); do echo "$p" >"$CGROUP/$s/cgroup.procs" || return 1; done
	done
}
if (( SHARE < 100 )) && ! cap_servers; then
	echo "WARNING: no usable cgroup cpu controller: servers get whole cores, dnsperf may be the limit" >&2
	SHARE=100
fi

# --- measurement -----------------------------------------------------------
DNSPERF_OPTS=(-s 127.0.0.1 -d "$WORK/queries.txt" -l "$SECONDS_PER_RUN"
	-c "$CLIENTS" -q "$INFLIGHT" -T 1 -t 2)
(( EDNS )) && DNSPERF_OPTS+=(-e)
echo "dnsperf ${DNSPERF_OPTS[*]} -p PORT (pinned to CPU $CLIENT_CPU; servers on CPU $SERVER_CPU)"
echo "$ROUNDS rounds x ${SECONDS_PER_RUN}s per server"

declare -A QPS=() LOST=() CPU=() CLI=()
fail=0
busy_runs=""
for r in $(seq 1 "$ROUNDS"); do
	for s in "${SERVERS[@]}"; do
		out=$WORK/dnsperf.$s.$r
		# Other load on the machine skews everything: sample both cores idle.
		read -r nb0 nt0 < <(core_ticks ""); sleep 0.5; read -r nb1 nt1 < <(core_ticks "")
		noise=$(pct $(( nb1 - nb0 )) $(( nt1 - nt0 )))
		(( noise <= 10 )) || busy_runs+="$s/$r:$noise% "
		t0=$(cpu_ticks "${PID[$s]}"); w0=$(date +%s%N)
		read -r sb0 st0 < <(core_ticks $SERVER_CPU); read -r cb0 ct0 < <(core_ticks $CLIENT_CPU)
		taskset -c $CLIENT_CPU dnsperf "${DNSPERF_OPTS[@]}" -p "${PORT[$s]}" >"$out" 2>&1 ||
			{ cat "$out" >&2; die "dnsperf failed against $s"; }
		t1=$(cpu_ticks "${PID[$s]}"); w1=$(date +%s%N)
		read -r sb1 st1 < <(core_ticks $SERVER_CPU); read -r cb1 ct1 < <(core_ticks $CLIENT_CPU)
		score=$(pct $(( sb1 - sb0 )) $(( st1 - st0 ))); ccore=$(pct $(( cb1 - cb0 )) $(( ct1 - ct0 )))
		qps=$(awk '/Queries per second:/ { printf "%d", $4 }' "$out")
		lost=$(awk '/Queries lost:/ { gsub(/[()%]/, "", $4); print $4 }' "$out")
		codes=$(sed -n 's/^ *Response codes: *//p' "$out")
		size=$(awk '/Average packet size:/ { print $NF }' "$out")
		cpu=$(awk -v t=$(( t1 - t0 )) -v hz="$HZ" -v ns=$(( w1 - w0 )) \
			'BEGIN { printf "%d", 100 * t / hz / (ns / 1e9) }')
		QPS[$s]+="$qps "; LOST[$s]+="$lost "; CPU[$s]+="$cpu "; CLI[$s]+="$ccore "
		printf 'round %d %-5s %8s qps  lost %5s%%  cpu: %s %3s%%, core%d %3s%%, core%d %3s%%  reply %sB  %s\n' \
			"$r" "$s" "$qps" "$lost" "$s" "$cpu" $SERVER_CPU "$score" $CLIENT_CPU "$ccore" "$size" "$codes"
		# Every reply must be NOERROR and full, and the server still up and right.
		if [[ $codes != "NOERROR "*"(100.00%)" ]]; then
			echo "bench: $s answered other than NOERROR: $codes" >&2; fail=1
		fi
		if [[ $size != "${FULL[$s]}" ]]; then
			echo "bench: $s replies averaged $size bytes, a full answer has ${FULL[$s]}" >&2; fail=1
		fi
		if ! kill -0 "${PID[$s]}" 2>/dev/null; then
			server_log "$s" >&2; die "$s died during the run"
		fi
		ans=$(probe "$s")
		if [[ $ans != "NOERROR $NANSWERS ${FULL[$s]}" ]]; then
			echo "bench: $s after the run: expected NOERROR with $NANSWERS A, got '$ans'" >&2; fail=1
		fi
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 }
	END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
declare -A MED=() MLOST=() MCPU=() MCLI=() PERCORE=()
limited=""
for s in "${SERVERS[@]}"; do
	MED[$s]=$(median <<<"${QPS[$s]}")
	MLOST[$s]=$(median <<<"${LOST[$s]}")
	MCPU[$s]=$(median <<<"${CPU[$s]}")
	MCLI[$s]=$(median <<<"${CLI[$s]}")
	PERCORE[$s]=$(awk -v q="${MED[$s]}" -v c="${MCPU[$s]}" 'BEGIN { printf "%.0f", (c > 0 ? q * 100 / c : 0) }')
	# Well under its CPU share, a server was not the bottleneck.
	awk -v c="${MCPU[$s]}" -v sh="$SHARE" 'BEGIN { exit !(c < 0.9 * sh) }' && limited+="$s "
done

echo
echo "median of $ROUNDS runs of ${SECONDS_PER_RUN}s, each server on $SHARE% of one core:"
printf 'seedd %.0f qps, nsd %.0f qps, knot %.0f qps\n' "${MED[seedd]}" "${MED[nsd]}" "${MED[knot]}"
echo "lost queries: seedd ${MLOST[seedd]}%, nsd ${MLOST[nsd]}%, knot ${MLOST[knot]}%"
echo "server cpu: seedd ${MCPU[seedd]}%, nsd ${MCPU[nsd]}%, knot ${MCPU[knot]}%;" \
	"dnsperf core: ${MCLI[seedd]}%, ${MCLI[nsd]}%, ${MCLI[knot]}%"
echo "qps per server cpu-second: seedd ${PERCORE[seedd]}, nsd ${PERCORE[nsd]}, knot ${PERCORE[knot]}" \
	"(ratios $(ratio "${PERCORE[seedd]}" "${PERCORE[nsd]}"), $(ratio "${PERCORE[seedd]}" "${PERCORE[knot]}"))"
[[ -z $limited ]] ||
	echo "NOTE: under 90% of its CPU share, so not saturated: ${limited}- its qps is a" \
		"lower bound (dnsperf or round-trip latency was the limit)"
echo "ratio seedd/nsd $(ratio "${MED[seedd]}" "${MED[nsd]}") (goal >= 1.2)"
echo "ratio seedd/knot $(ratio "${MED[seedd]}" "${MED[knot]}")"
[[ -z $busy_runs ]] ||
	echo "WARNING: the machine was busy before some runs (server/round:cpu busy): $busy_runs- numbers are unreliable"
(( fail == 0 )) || die "wrong or short answers seen during the measurement (see above)"
