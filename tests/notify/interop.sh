#!/usr/bin/env bash
# tests/notify/interop.sh: NOTIFY messages built by server/notify.c sent to
# real secondaries, NSD and Knot (when installed), over loopback only.
# Not part of make test: it binds fixed addresses in NET (default
# 127.68.0.0/16, ports above 20000).
#
# For each server: the probe starts while the server is still down (so
# the first tries go unanswered and the core retries), the server starts
# with seed.test as a secondary of SRC (which allows its NOTIFYs), and the
# probe must be acked by a retry; then a probe from another address must be
# answered with an error rcode (rejected, also no more retries). The
# server's log must show it received the NOTIFY.
# Prints PASS/FAIL lines; exits 1 on a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NET=${NET:-127.68}
SRC=$NET.0.1         # the hidden primary: allowed to notify
OTHER=$NET.0.3       # not allowed
NSD_AT=$NET.0.2
KNOT_AT=$NET.0.4
PORT=${PORT:-20053}   # the secondaries listen here
XFR_PORT=20531        # where they would transfer from: nothing listens
T=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fail=0
say() { # ok name
	if [ "$1" = 0 ]; then echo "PASS notify/$2"; else echo "FAIL notify/$2"; fail=1; fi
}

TP=$ROOT/third_party/root
cc -std=c11 -D_GNU_SOURCE -O1 -isystem "$TP/usr/include" -I"$ROOT/src" -o "$T/probe" "$ROOT/tests/notify/probe.c" \
	"$ROOT"/src/server/notify.c "$ROOT"/src/base/{addr,rng}.c "$ROOT"/src/dns/{wire,dname}.c \
	"$TP/usr/lib/x86_64-linux-gnu/libbearssl.a" || exit 1

# run NAME START_CMD LOG TARGET
run() {
	local name=$1 start=$2 log=$3 target=$4
	"$T/probe" "$target" "$SRC" seed.test 2024120701 20 >"$T/$name.probe1" 2>&1 &
	local probe=$!
	sleep 2.5
	eval "$start" &
	pids+=($!)
	wait "$probe"
	local rc=$?
	echo "--- $name: probe from $SRC (allowed), started 2.5 s before the server"
	cat "$T/$name.probe1"
	say $rc "$name/acked-by-a-retry"
	grep -q 'attempt=3' "$T/$name.probe1"
	say $? "$name/retried-while-down"
	"$T/probe" "$target" "$OTHER" seed.test 2024120701 10 >"$T/$name.probe2" 2>&1
	rc=$?
	echo "--- $name: probe from $OTHER (not allowed)"
	cat "$T/$name.probe2"
	[ $rc = 1 ]
	say $? "$name/not-allowed-rejected"
	sleep 0.5
	echo "--- $name: its log"
	grep -i notify "$log" | head -n 8
}

if command -v nsd >/dev/null; then
	mkdir -p "$T/nsd"
	cat >"$T/nsd/nsd.conf" <<EOF
server:
	ip-address: $NSD_AT@$PORT
	username: ""
	chroot: ""
	pidfile: "$T/nsd/nsd.pid"
	database: ""
	zonelistfile: "$T/nsd/zone.list"
	zonesdir: "$T/nsd"
	xfrdfile: "$T/nsd/xfrd.state"
	xfrdir: "$T/nsd"
	logfile: "$T/nsd/nsd.log"
	verbosity: 2
	rrl-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: seed.test
	zonefile: "seed.test.zone"
	allow-notify: $SRC NOKEY
	request-xfr: $SRC@$XFR_PORT NOKEY
EOF
	nsd -v 2>&1 | head -n 1
	run nsd "exec nsd -c '$T/nsd/nsd.conf' -d" "$T/nsd/nsd.log" "$NSD_AT:$PORT"
else
	echo "SKIP notify/nsd: not installed"
fi

if command -v knotd >/dev/null; then
	mkdir -p "$T/knot"
	cat >"$T/knot/knot.conf" <<EOF
server:
    rundir: "$T/knot"
    listen: $KNOT_AT@$PORT
log:
  - target: "$T/knot/knot.log"
    any: debug
database:
    storage: "$T/knot"
remote:
  - id: primary
    address: $SRC@$XFR_PORT
acl:
  - id: notify_from_primary
    address: $SRC
    action: notify
zone:
  - domain: seed.test
    storage: "$T/knot"
    master: primary
    acl: notify_from_primary
EOF
	knotd -V 2>&1 | head -n 1
	run knot "exec knotd -c '$T/knot/knot.conf'" "$T/knot/knot.log" "$KNOT_AT:$PORT"
else
	echo "SKIP notify/knot: not installed"
fi
exit $fail
