#!/usr/bin/env bash
# bench/crawl.sh: how fast seedd's crawler finds every good node of a
# simulated network (tests/sim/simnet.py on 127.2.0.0/16, loopback only).
#
# BENCH_NODES nodes (20% dead, 5% black holes that accept TCP and never
# answer, the rest good, half dialect 0.1 and half 1.1), each good node
# reporting about 30 random peers, the graph connected from the seed.
# seedd crawls from the seed; the time to full recall is the ms= of its
# "crawl pass done" line, and every good node must then be published (node
# rows of zone.csv, written on SIGTERM). A black hole holds a check slot for
# the whole --timeout, so no crawler can finish sooner than
# ceil(black holes / concurrency) x timeout: the ratio to that bound is
# reported (goal <= 1.5), not asserted. Also seedd's peak RSS (VmHWM) and
# CPU time, and the simulator's own capacity and load, so that a slow
# simulator is not taken for a slow crawler.
# Exit 0 when the measurement ran with recall 100%; non-zero when the set-up
# failed, seedd died or never finished its pass, or recall fell short.
#
# Environment:
#   BENCH_SEEDD        seedd binary (default ./seedd)
#   BENCH_NODES        nodes in the network (default 5000)
#   BENCH_DEAD         fraction of dead nodes, nothing listening (default 0.20)
#   BENCH_BLACKHOLES   fraction of black holes (default 0.05)
#   BENCH_PEERS        peers each good node reports, about (default 30)
#   BENCH_CONCURRENCY  seedd --concurrency (default 256)
#   BENCH_TIMEOUT      seedd --timeout (default 5)
#   BENCH_SEED         random seed of the topology (default 1)
#   BENCH_DEADLINE     seconds to wait for the pass (default 120)
#   BENCH_SEEDD_ARGS   more seedd flags, word-split
#   BENCH_PROBE        0: skip measuring the simulator before the run (default 1)
#   BENCH_SIM_SHARDS   simulator processes sharing the nodes (default 1)
#   BENCH_KEEP         non-empty: keep the temp dir (topology, logs, CSVs)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEEDD=${BENCH_SEEDD:-$ROOT/seedd}
NODES=${BENCH_NODES:-5000}
DEAD=${BENCH_DEAD:-0.20}
BLACKHOLES=${BENCH_BLACKHOLES:-0.05}
PEERS=${BENCH_PEERS:-30}
CONCURRENCY=${BENCH_CONCURRENCY:-256}
TIMEOUT=${BENCH_TIMEOUT:-5}
TOPO_SEED=${BENCH_SEED:-1}
DEADLINE=${BENCH_DEADLINE:-120}
PROBE=${BENCH_PROBE:-1}
SHARDS=${BENCH_SIM_SHARDS:-1}
PY=/usr/bin/python3
SIM=$ROOT/tests/sim
ZONE=seed.test

die() { echo "bench: $*" >&2; exit 1; }

[[ -x $SEEDD ]] || die "$SEEDD missing: run make first"
"$PY" -c 'import websockets' 2>/dev/null || die "python3-websockets missing (tests/deps.sh)"
command -v ss >/dev/null || die "ss missing (iproute2)"

# Sockets: the simulator listens on one per live node; seedd needs one per
# check in flight plus its own.
need=$(( NODES + CONCURRENCY + 1024 ))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= need )) || die "ulimit -n is $(ulimit -n), need $need (raise the hard limit)"

WORK=$(mktemp -d /tmp/seedd-bench-crawl.XXXXXX)
SIM_PID=""; SEEDD_PID=""
cleanup() {
	[[ -n $SEEDD_PID ]] && kill "$SEEDD_PID" 2>/dev/null && wait "$SEEDD_PID" 2>/dev/null
	local p
	for p in $SIM_PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if [[ -n ${BENCH_KEEP:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
secs() { awk -v t="$1" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }'; }

# A loopback port nothing listens on (UDP and TCP), for DNS and for a
# --resolver that must never be asked (no host names in this network).
pick_port() {
	local p
	while :; do
		p=$(( 20000 + RANDOM % 12000 ))
		ss -Htuan "sport = :$p" | grep -q . && continue
		echo "$p"; return
	done
}

# --- the network -------------------------------------------------------------
"$PY" "$SIM/topo.py" bench --out "$WORK/topo.json" --nodes "$NODES" --dead "$DEAD" \
	--blackholes "$BLACKHOLES" --peers "$PEERS" --base 127.2 --seed "$TOPO_SEED" --timeout "$TIMEOUT"
count() { "$PY" "$SIM/topo.py" get "$WORK/topo.json" count "$@"; }
N_DEAD=$(count dead); N_BH=$(count blackhole); N_G01=$(count good01); N_G11=$(count good11)
N_GOOD=$(( N_G01 + N_G11 ))
"$PY" "$SIM/topo.py" get "$WORK/topo.json" published | sort >"$WORK/want"
echo "network: $NODES nodes on 127.2.0.0/16: $N_GOOD good ($N_G01 dialect 0.1, $N_G11 dialect 1.1)," \
	"$N_DEAD dead, $N_BH black holes; about $PEERS peers per good node"

# One process serves about 5,000-7,000 checks per CPU second (measured by
# the probe below); BENCH_SIM_SHARDS=2 splits the nodes over two.
SIM_PIDS=()
for k in $(seq 0 $(( SHARDS - 1 ))); do
	"$PY" "$SIM/simnet.py" "$WORK/topo.json" --ready "$WORK/ready.$k" --shard "$k/$SHARDS" \
		--engine fast --light --max-seconds $(( DEADLINE + 300 )) 2>"$WORK/sim.$k.log" &
	SIM_PIDS+=($!)
done
SIM_PID="${SIM_PIDS[*]}"
for k in $(seq 0 $(( SHARDS - 1 ))); do
	for _ in $(seq 1 300); do
		[[ -s $WORK/ready.$k ]] && break
		kill -0 "${SIM_PIDS[$k]}" 2>/dev/null || break
		sleep 0.1
	done
	[[ -s $WORK/ready.$k ]] || { cat "$WORK/sim.$k.log" >&2; die "the simulator did not come up"; }
	echo "simulator: $(tail -n 1 "$WORK/sim.$k.log" | sed 's/^simnet: //')"
done
sim_ticks() { local p t=0; for p in "${SIM_PIDS[@]}"; do t=$(( t + $(ticks "$p") )); done; echo $t; }

# --- the simulator's own capacity ---------------------------------------------
if (( PROBE )); then
	# Every good node checked once by a lean client at the same concurrency.
	s0=$(sim_ticks)
	pr=$("$PY" "$SIM/refcrawl.py" --probe "$WORK/topo.json" --concurrency "$CONCURRENCY")
	s1=$(sim_ticks)
	read -r p_rate p_fail p_secs < <("$PY" -c 'import json, sys; d = json.loads(sys.argv[1]);
print(d["per_second"], d["failed"], d["seconds"])' "$pr")
	p_cpu=$(secs $(( s1 - s0 )))
	p_cap=$(awk -v n="$N_GOOD" -v c="$p_cpu" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')
	echo "simulator probe: $N_GOOD good nodes checked once each by a lean client in ${p_secs}s" \
		"($p_rate/s, $p_fail failed); the simulator spent ${p_cpu}s CPU: it serves about $p_cap checks per CPU second"
	(( p_fail == 0 )) || die "the simulator failed $p_fail probe checks"
fi

# --- the crawl -----------------------------------------------------------------
mkdir -p "$WORK/data"
DNS_PORT=$(pick_port); NO_RESOLVER=$(pick_port)
# shellcheck disable=SC2206
extra=(${BENCH_SEEDD_ARGS:-})
sim0=$(sim_ticks)
"$SEEDD" --zone "$ZONE" --listen "127.0.0.1:$DNS_PORT" --data-dir "$WORK/data" --allow-private \
	--seed ws://127.2.0.1:32767 --port 32767 --interval 3600 --timeout "$TIMEOUT" \
	--concurrency "$CONCURRENCY" --resolver "127.0.0.1:$NO_RESOLVER" --snapshot-interval 600 \
	--log-level info "${extra[@]}" 2>"$WORK/seedd.log" &
SEEDD_PID=$!
w0=$(date +%s%N)
line=""
for _ in $(seq 1 $(( DEADLINE * 20 ))); do
	line=$(grep -m1 'crawl msg="crawl pass done"' "$WORK/seedd.log" || true)
	[[ -n $line ]] && break
	kill -0 "$SEEDD_PID" 2>/dev/null || { tail -n 5 "$WORK/seedd.log" >&2; die "seedd exited"; }
	sleep 0.05
done
w1=$(date +%s%N)
[[ -n $line ]] || { tail -n 5 "$WORK/seedd.log" >&2; die "no 'crawl pass done' line within ${DEADLINE}s"; }
sim1=$(sim_ticks)
hwm=$(awk '/^VmHWM:/ { print $2, $3 }' "/proc/$SEEDD_PID/status")
cpu=$(ticks "$SEEDD_PID")
kill -TERM "$SEEDD_PID"; wait "$SEEDD_PID" || die "seedd exited $? on SIGTERM"; SEEDD_PID=""

ms=$(sed -n 's/.* ms=\([0-9][0-9]*\).*/\1/p' <<<"$line")
[[ -n $ms ]] || die "no ms= in: $line"
awk -F, -v z="$ZONE" 'NR > 1 && $1 == z && $2 ~ /^[0-9.]+$/ { print $2 }' "$WORK/data/zone.csv" | sort -u >"$WORK/got"
found=$(comm -12 "$WORK/want" "$WORK/got" | wc -l)
wrong=$(comm -13 "$WORK/want" "$WORK/got" | wc -l)
recall=$(awk -v f="$found" -v n="$N_GOOD" 'BEGIN { printf "%.2f", 100 * f / n }')
bound=$(awk -v b="$N_BH" -v c="$CONCURRENCY" -v t="$TIMEOUT" 'BEGIN { w = int((b + c - 1) / c); if (w < 1) w = 1; print w * t * 1000 }')
ratio=$(awk -v m="$ms" -v b="$bound" 'BEGIN { printf "%.2f", m / b }')
sim_busy=$(awk -v t=$(( sim1 - sim0 )) -v hz="$HZ" -v ns=$(( w1 - w0 )) 'BEGIN { printf "%.0f", 100 * t / hz / (ns / 1e9) }')

echo
echo "seedd --concurrency $CONCURRENCY --timeout $TIMEOUT ${extra[*]:-}"
echo "pass line: ${line#* info }"
echo "time to full recall: ${ms} ms"
echo "recall: $found of $N_GOOD good nodes published (${recall}%); $wrong published that are not good"
echo "lower bound: ceil($N_BH black holes / $CONCURRENCY) x ${TIMEOUT}s = ${bound} ms"
echo "ratio: $ratio (goal <= 1.5)"
echo "seedd peak RSS (VmHWM): $hwm; CPU time (utime+stime): $(secs "$cpu") s"
echo "simulator during the crawl: $(secs $(( sim1 - sim0 ))) s CPU, ${sim_busy}% of one core ($SHARDS process(es))"
(( sim_busy < 90 * SHARDS )) || echo "WARNING: the simulator was saturated: the time measures it, not seedd"
(( found == N_GOOD )) || die "recall ${recall}%: $(( N_GOOD - found )) good nodes not published"
(( wrong == 0 )) || die "$wrong published addresses are not good nodes"
