#!/usr/bin/env bash
# The DHT sniffer's files and flags (SPEC 2, 3, 6), without a swarm: a raw
# KRPC client on loopback (tests/dht/krpc_client.py) and a fake DHT node
# that answers find_node. Checked: infohashes.csv written, loaded at start
# so counts survive a restart, rows skipped with their line, an unusable
# file set aside; DHT rows of nodes.csv written by the sniffer alone
# (--concurrency 0) with the crawler's rows kept, and by the crawler with
# its own when it runs; bad DHT flags exit 2; a busy port exits 1.
source "$(dirname "$0")/../lib.sh"
PREFIX=dht-files
PY=/usr/bin/python3
CLIENT="$ROOT/tests/dht/krpc_client.py"
DHT=127.3.100.1:6881
FAKE=127.3.100.2:6881

# ihrow HASH DIR: the infohash's row as seedd holds it on disk: infohashes.csv,
# then its change log (a later row replaces an earlier one).
ihrow() { cat "$2/infohashes.csv" "$2/infohashes.csv.log" 2>/dev/null | grep "^$1," | tail -n 1; }
wait_for() { # wait_for SECONDS COMMAND...
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	return 1
}
IH1=0123456789abcdef0123456789abcdef01234567
IH2=fedcba9876543210fedcba9876543210fedcba98

# --- flags --------------------------------------------------------------------
dir=$(new_dir)
for bad in "--dht example.com" "--dht 127.0.0.1:0" "--dht-bootstrap router.example.com" "--dht-rate 0" \
	"--dht-rate many" "--dht-bootstrap 1.2.3.4:70000"; do
	# shellcheck disable=SC2086
	"$SEEDD" --zone d.test -d "$dir" $bad 2>"$dir/err"
	rc=$?
	flag=${bad%% *}
	[ $rc = 2 ] && grep -q -- "seedd: $flag: " "$dir/err" && [ "$(wc -l <"$dir/err")" = 1 ] &&
		pass "$PREFIX/bad flag '$bad'" || fail "$PREFIX/bad flag '$bad'" "rc=$rc $(cat "$dir/err")"
done
"$SEEDD" --help | grep -q -- '--dht-bootstrap HOST:PORT' && pass "$PREFIX/help" || fail "$PREFIX/help" "no --dht-bootstrap in --help"

# A port someone else holds: exit 1 with a line that says what to do.
port=$(free_port)
$PY -c "import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.3.100.1',6881)); time.sleep(5)" &
holder=$!
sleep 0.3
"$SEEDD" --zone d.test -d "$dir" --listen "127.0.0.1:$port" --concurrency 0 --allow-private --dht $DHT 2>"$dir/err"
rc=$?
kill $holder 2>/dev/null; wait $holder 2>/dev/null
[ $rc = 1 ] && grep -q "seedd: --dht 127.3.100.1:6881: cannot bind UDP" "$dir/err" &&
	pass "$PREFIX/busy port exits 1" || fail "$PREFIX/busy port exits 1" "rc=$rc $(cat "$dir/err")"

# --- infohashes.csv across a restart --------------------------------------------
dir=$(new_dir)
port=$(free_port)
common=(--zone d.test --listen "127.0.0.1:$port" --allow-private --snapshot-interval 1 --dht $DHT
	--dht-bootstrap $FAKE --log-level debug)
start_seedd "$dir" "${common[@]}" --concurrency 0 || fail "$PREFIX/start" "$(tail -n 3 "$dir/log")"
$PY "$CLIENT" --to $DHT --from 127.3.100.10 announce $IH1 --port 51413 >"$dir/c1" 2>&1
$PY "$CLIENT" --to $DHT --from 127.3.100.11 announce $IH1 --implied >"$dir/c2" 2>&1
$PY "$CLIENT" --to $DHT --from 127.3.100.12 get_peers $IH2 >"$dir/c3" 2>&1
grep -q '^announced' "$dir/c1" && grep -q '^announced' "$dir/c2" && pass "$PREFIX/announces answered" ||
	fail "$PREFIX/announces answered" "$(cat "$dir/c1" "$dir/c2")"
# The second announcer's implied port is its UDP source port (the client prints it).
src2=$(sed -n 's/^source //p' "$dir/c2")
wait_for 5 test -n "$(ihrow $IH1 "$dir" | grep ",0,2,0,127.3.100.11:")" &&
	r=$(ihrow $IH1 "$dir") || r=$(ihrow $IH1 "$dir")
case "$r" in
"$IH1",20??-??-??\ ??:??:??,20??-??-??\ ??:??:??,2,2,0,127.3.100.11:"$src2") pass "$PREFIX/announce row" ;;
*) fail "$PREFIX/announce row" "got '$r' (implied port $src2)" ;;
esac
wait_for 3 test -n "$(ihrow $IH2 "$dir")"
case "$(ihrow $IH2 "$dir")" in
"$IH2",*,1,0,0,) pass "$PREFIX/get_peers row" ;;
*) fail "$PREFIX/get_peers row" "got '$(ihrow $IH2 "$dir")'" ;;
esac
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/stop" || fail "$PREFIX/stop" "rc=$SEEDD_RC"

# A malformed row among good ones: skipped with its line, the rest loaded.
sed -i '2a\
not-a-hash,2026-11-22 14:00:00,2026-11-22 14:00:00,1,0,0,' "$dir/infohashes.csv"
start_seedd "$dir" "${common[@]}" --concurrency 0 || fail "$PREFIX/restart" "$(tail -n 3 "$dir/log")"
grep -q 'warn dht msg="row skipped" file=infohashes.csv line=3 error="infohash is not 40 hex digits"' "$dir/log" &&
	pass "$PREFIX/malformed row reported" || fail "$PREFIX/malformed row reported" "$(grep -i skip "$dir/log")"
grep -q 'info dht msg=loaded file=infohashes.csv infohashes=2 ' "$dir/log" && pass "$PREFIX/loaded at start" ||
	fail "$PREFIX/loaded at start" "$(grep 'dht msg=loaded' "$dir/log")"
$PY "$CLIENT" --to $DHT --from 127.3.100.13 get_peers $IH1 >"$dir/c4" 2>&1
# The last announcer comes back as a peer: a real one, never an invented one.
grep -q "^values 127.3.100.11:$src2\$" "$dir/c4" && pass "$PREFIX/values: the last announcer" ||
	fail "$PREFIX/values: the last announcer" "$(cat "$dir/c4")"
wait_for 5 test -n "$(ihrow $IH1 "$dir" | grep ',3,2,0,')"
case "$(ihrow $IH1 "$dir")" in
"$IH1",*,3,2,0,127.3.100.11:"$src2") pass "$PREFIX/counts survive a restart" ;;
*) fail "$PREFIX/counts survive a restart" "got '$(ihrow $IH1 "$dir")'" ;;
esac
stop_seedd
[ -f "$dir/infohashes.csv.old" ] && pass "$PREFIX/.old kept" || fail "$PREFIX/.old kept" "$(ls "$dir")"

# An unusable file (no infohash column) is set aside, not written over.
printf 'hash,count\nabc,1\n' >"$dir/infohashes.csv"
rm -f "$dir/infohashes.csv.old"
start_seedd "$dir" "${common[@]}" --concurrency 0 || fail "$PREFIX/start on a bad file" "$(tail -n 3 "$dir/log")"
stop_seedd
rej=$(ls "$dir" | grep '^infohashes.csv.rejected.' | head -n 1)
[ -n "$rej" ] && [ "$(cat "$dir/$rej")" = "$(printf 'hash,count\nabc,1')" ] &&
	head -n 1 "$dir/infohashes.csv" | grep -q '^infohash,first_seen,last_seen,get_peers,announces,samples,last_announcer$' &&
	pass "$PREFIX/unusable file set aside" || fail "$PREFIX/unusable file set aside" "$(ls "$dir")"

# --- DHT rows in nodes.csv ------------------------------------------------------
dir=$(new_dir)
$PY "$ROOT/tests/dht/krpc_client.py" --fake-node $FAKE --seconds 25 >"$dir/fake.log" 2>&1 &
fake=$!
printf 'ip,good,last_check_time,port,network\n127.3.100.20,yes,2026-11-22 14:44:32,32767,infnote\n' >"$dir/nodes.csv"
start_seedd "$dir" "${common[@]}" --concurrency 0 || fail "$PREFIX/start (crawler off)" "$(tail -n 3 "$dir/log")"
# While running, a changed row goes to nodes.csv.log (a later row wins); nodes.csv is whole again at exit.
noderow() { cat "$2/nodes.csv" "$2/nodes.csv.log" 2>/dev/null | grep "^$1," | tail -n 1; }
wait_for 8 test -n "$(noderow 127.3.100.2 "$dir" | grep ',yes,.*,6881,dht,')"
row=$(noderow 127.3.100.2 "$dir")
id=$(sed -n 's/^id //p' "$dir/fake.log" | head -n 1)
# The fake node's id in the node_id column, found by its name in the header
# (columns are added after it).
col=$(head -n 1 "$dir/nodes.csv" | tr ',' '\n' | grep -nx node_id | cut -d: -f1)
# nodes.csv as the test wrote it has no node_id column: the log's rows are in our order (19th).
[ -n "$col" ] || col=19
got=""; [ -z "$col" ] || got=$(printf '%s\n' "$row" | cut -d, -f"$col")
case "$row" in
127.3.100.2,yes,*,6881,dht,*) [ -n "$id" ] && [ "$got" = "$id" ] ;;
*) false ;;
esac && pass "$PREFIX/dht row written (crawler off)" ||
	fail "$PREFIX/dht row written (crawler off)" "got '$row' id '$id' (node_id is column ${col:-missing})"
stop_seedd
grep -q '^127.3.100.20,yes,2026-11-22 14:44:32,32767,infnote,' "$dir/nodes.csv" &&
	grep -q '^127.3.100.2,.*,6881,dht,' "$dir/nodes.csv" &&
	pass "$PREFIX/crawler rows kept (crawler off)" || fail "$PREFIX/crawler rows kept (crawler off)" "$(cat "$dir/nodes.csv")"
# With the crawler on, it writes both; the DHT row is not duplicated.
start_seedd "$dir" "${common[@]}" --concurrency 4 --timeout 1 || fail "$PREFIX/start (crawler on)" "$(tail -n 3 "$dir/log")"
sleep 3
# The DHT node is never published (the crawler's own node may be).
dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" d.test A >"$dir/dig" 2>&1
if ! grep -q ';;' "$dir/dig" && ! grep -qx '127.3.100.2' "$dir/dig"; then pass "$PREFIX/dht nodes not published"
else fail "$PREFIX/dht nodes not published" "$(cat "$dir/dig")"; fi
stop_seedd
n=$(grep -c '^127.3.100.2,.*,dht,' "$dir/nodes.csv")
[ "$n" = 1 ] && grep -q '^127.3.100.20,.*,infnote,' "$dir/nodes.csv" && pass "$PREFIX/crawler writes the dht rows once" ||
	fail "$PREFIX/crawler writes the dht rows once" "dht rows $n: $(cat "$dir/nodes.csv")"
kill $fake 2>/dev/null
wait $fake 2>/dev/null || true
