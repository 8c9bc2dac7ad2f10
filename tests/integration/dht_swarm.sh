#!/usr/bin/env bash
# The DHT sniffer (SPEC 6) against real, independent DHT implementations on
# loopback: 8 libtorrent sessions (python3-libtorrent) and 6 bittorrent-dht
# nodes (npm), each on its own 127.3.x.1:6881, L1 (127.3.1.1) the hub.
# Infohashes stored before seedd starts (found only through BEP 51), then
# announces and lookups while seedd runs; the packets every harness node
# sent and received are the ground truth that seedd's infohashes.csv and
# nodes.csv are checked against, with politeness (no libtorrent ban, at most
# 5 packets/s to a node), one stable id per remote, and a raw KRPC probe.
# See tests/dht/README.md. Nothing leaves 127.0.0.0/8.
# DHT_SEEDD=PATH runs another binary; DHT_KEEP=DIR keeps the work files;
# DHT_SWARM_ARGS passes options to swarm.py run (e.g. --restrict, --seed N).
source "$(dirname "$0")/../lib.sh"
PREFIX=dht-swarm
SEEDD=${DHT_SEEDD:-$SEEDD}
PY=/usr/bin/python3
DHTDIR="$ROOT/tests/dht"
W="$TMPBASE/swarm"
mkdir -p "$W"
SWARM_PID=""
PROBE_PID=""
if [ -n "${DHT_KEEP:-}" ]; then
	trap 'mkdir -p "$DHT_KEEP" && cp -a "$TMPBASE"/. "$DHT_KEEP"/ && echo "kept $DHT_KEEP"; cleanup' EXIT
fi

missing=""
"$PY" -c 'import libtorrent' 2>/dev/null || missing="$missing python3-libtorrent"
command -v node >/dev/null || missing="$missing nodejs"
[ -f "$DHTDIR/node_modules/bittorrent-dht/package.json" ] || missing="$missing (npm ci in tests/dht)"
if [ -n "$missing" ]; then
	fail "$PREFIX/tools" "missing:$missing (run tests/deps.sh)"
	exit 1
fi
[ -x "$SEEDD" ] || { fail "$PREFIX/tools" "$SEEDD missing: run make"; exit 1; }
busy=$(ss -Hanu 'sport = :6881' | awk '$4 ~ /^127\.3\.([0-8]|1[1-6])\.1(%lo)?:6881$/ { print $4 }')
[ -z "$busy" ] || { fail "$PREFIX/ports" "swarm addresses already in use: $(echo $busy)"; exit 1; }

# The swarm forms and stores S; then it waits for seedd (the go file).
"$PY" "$DHTDIR/swarm.py" run --work "$W" --ready-file "$W/ready" --go-file "$W/go" ${DHT_SWARM_ARGS:-} 2>"$W/swarm.log" &
SWARM_PID=$!
SEEDD_PIDS="$SEEDD_PIDS $SWARM_PID"
for _ in $(seq 1 400); do
	[ -f "$W/ready" ] && break
	kill -0 "$SWARM_PID" 2>/dev/null || break
	sleep 0.1
done
if [ ! -f "$W/ready" ]; then
	fail "$PREFIX/swarm-up" "the swarm did not form: $(tail -n 5 "$W/swarm.log" | tr '\n' ' ')"
	exit 1
fi
pass "$PREFIX/swarm-up"

dir=$(new_dir)
port=$(free_port)
t0=$(date +%s)
if ! start_seedd "$dir" --zone dht.test --listen "127.0.0.1:$port" --concurrency 0 --allow-private \
	--snapshot-interval 1 --log-level debug --dht 127.3.0.1:6881 --dht-bootstrap 127.3.1.1:6881; then
	fail "$PREFIX/seedd-start" "$(tail -n 5 "$dir/log" | tr '\n' ' ')"
	exit 1
fi
grep -q 'info dht msg=listening addr=127.3.0.1:6881' "$dir/log" && pass "$PREFIX/dht-listening" ||
	fail "$PREFIX/dht-listening" "no 'info dht msg=listening addr=127.3.0.1:6881' line"
touch "$W/go"

# The raw probe runs from its own address while the workload goes on.
"$PY" "$DHTDIR/probe.py" --target 127.3.0.1:6881 --bind 127.3.90.1 --out "$W/probe.json" \
	--prefix "$PREFIX" >"$W/probe.out" 2>&1 &
PROBE_PID=$!
SEEDD_PIDS="$SEEDD_PIDS $PROBE_PID"

# The swarm's own phases take about 80 s; give up on it after 150 s.
for _ in $(seq 1 1500); do
	kill -0 "$SWARM_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$SWARM_PID" 2>/dev/null; then
	kill -KILL "$SWARM_PID"
	fail "$PREFIX/swarm-done" "the swarm did not finish in time: $(tail -n 3 "$W/swarm.log" | tr '\n' ' ')"
fi
wait "$SWARM_PID"
src=$?
wait "$PROBE_PID"
grep -E '^(PASS|FAIL) ' "$W/probe.out"
grep -qE '^(PASS|FAIL) ' "$W/probe.out" || fail "$PREFIX/probe" "$(tail -n 3 "$W/probe.out" | tr '\n' ' ')"

kill -0 "$SEEDD_PID" 2>/dev/null && pass "$PREFIX/seedd-alive" || fail "$PREFIX/seedd-alive" "seedd died: $(tail -n 3 "$dir/log" | tr '\n' ' ')"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC"
echo "# seedd ran $(($(date +%s) - t0)) s; $(grep -c ' dht ' "$dir/log") dht log lines, $(grep -c ' warn \| error ' "$dir/log") warn/error lines"
grep -E ' (warn|error) ' "$dir/log" | head -n 5 | sed 's/^/# seedd: /'

if [ "$src" != 0 ] || [ ! -s "$W/truth.json" ]; then
	fail "$PREFIX/swarm-done" "swarm.py exited $src: $(tail -n 5 "$W/swarm.log" | tr '\n' ' ')"
	exit 1
fi
"$PY" "$DHTDIR/swarm.py" check --work "$W" --data "$dir" --prefix "$PREFIX"
