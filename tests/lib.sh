# Shared helpers for integration tests (sourced by tests/integration/*.sh).
# A test reports each check with `pass NAME` or `fail NAME REASON`; the
# runner counts lines that start with "PASS " and "FAIL ".
# Every server a test starts listens on loopback only.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SEEDD="$ROOT/seedd"
TMPBASE=$(mktemp -d /tmp/seedd-test.XXXXXX)
SEEDD_PIDS=""

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}"; }

# check NAME CONDITION-COMMAND...: pass when the command succeeds.
check() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "$*"; fi
}

# A free UDP+TCP port on 127.0.0.1 and ::1, below the kernel's ephemeral
# range so that no client socket (dig's, say) can take it between this
# check and seedd's bind; checked against every socket, not only listeners.
free_port() {
	local p lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$lo" -gt 11000 ] || lo=32768
	for _ in $(seq 1 50); do
		p=$(( 10000 + RANDOM % (lo - 10000) ))
		if ! ss -Hanu "sport = :$p" | grep -q . && ! ss -Hant "sport = :$p" | grep -q .; then
			echo "$p"; return 0
		fi
	done
	return 1
}

# new_dir: a fresh data directory.
new_dir() { mktemp -d "$TMPBASE/data.XXXXXX"; }

# start_seedd DIR ARGS...: start seedd with its log in DIR/log, wait until it
# answers on the first --listen (or until 5 s pass). Sets SEEDD_PID.
start_seedd() {
	local dir=$1; shift
	"$SEEDD" -d "$dir" "$@" 2>"$dir/log" &
	SEEDD_PID=$!
	SEEDD_PIDS="$SEEDD_PIDS $SEEDD_PID"
	local i
	for i in $(seq 1 100); do
		if grep -q "msg=started" "$dir/log" 2>/dev/null; then return 0; fi
		if ! kill -0 "$SEEDD_PID" 2>/dev/null; then return 1; fi
		sleep 0.05
	done
	return 1
}

# stop_seedd [PID]: SIGTERM and wait; the exit status is in SEEDD_RC (and is
# the return value). Call it directly, not in $(...): a subshell cannot wait.
stop_seedd() {
	local pid=${1:-$SEEDD_PID}
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	SEEDD_RC=$?
	return $SEEDD_RC
}

cleanup() {
	for p in $SEEDD_PIDS; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMPBASE"
}
trap cleanup EXIT

# A ready-made zone.csv for apex seed.example.com.
write_zone() {
	cat >"$1/zone.csv" <<'ZONE'
ns.seed.example.com,hostmaster.seed.example.com 2026112201 28800 7200 604800 86400
seed.example.com,47.74.45.239
seed.example.com,47.74.45.236
seed.example.com,8.8.8.8
seed.example.com,2001:4860::7
ns.seed.example.com,1.2.3.4
www.seed.example.com,seed.example.com
a.b.seed.example.com,1.1.1.1
ZONE
}
