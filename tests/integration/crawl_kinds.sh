#!/usr/bin/env bash
# The crawler (SPEC 5) against a simulated network with one node of every
# kind (tests/sim/topo.py kinds, on 127.1.10-12.0/24): both dialects, the info
# fallback, slow, chatty and fragmented answers, garbage (bad JSON, binary,
# oversized, RSV bits, wrong accept key), dead and black-hole nodes, wss with
# a test CA, host names resolved through a second seedd, other ports.
# After one pass: the published set (zone.csv and DNS) is exactly the good
# default-port nodes, and nodes.csv has the right row for every node.
source "$(dirname "$0")/../lib.sh"
PREFIX=crawl-kinds
source "$ROOT/tests/sim/crawl.bash"
crawl_need_tools

W=$TMPBASE
TIMEOUT=2
bash "$SIMDIR/mkcerts.sh" "$W/certs" || { fail "$PREFIX/certs" "openssl could not make the test CA"; exit 1; }
"$PY" "$SIMDIR/topo.py" kinds --out "$W/topo.json" --certs "$W/certs" --timeout $TIMEOUT
"$PY" "$SIMDIR/topo.py" get "$W/topo.json" zone-rows >"$W/rows"
sim_start "$W/topo.json" kinds
resolver_start "$W/rows"

dir=$(new_dir); port=$(free_port)
since=$(date +%s)
crawl_start "$dir" --zone seed.test --listen "127.0.0.1:$port" --allow-private --answers 1024 \
	--seed "$("$PY" "$SIMDIR/topo.py" get "$W/topo.json" seeds)" --port 32767 --interval 600 --timeout $TIMEOUT --concurrency 16 \
	--max-nodes 1000 --ca-file "$W/certs/ca.pem" --resolver "127.0.0.1:$RESOLVER_PORT" \
	--snapshot-interval 1 --log-level debug
crawl_wait_done 30
dig_a "$port" seed.test "$W/dig"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/sigterm-exit-0" || fail "$PREFIX/sigterm-exit-0" "exit $SEEDD_RC"
sim_stop
"$PY" "$SIMDIR/check.py" crawl "$W/topo.json" "$dir" --since "$since" --prefix "$PREFIX" \
	--dig "$W/dig" --log "$CRAWL_LOG" --stats "$SIM_STATS" | report
