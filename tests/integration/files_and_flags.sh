#!/usr/bin/env bash
# Bad flags exit 2 with one line naming the flag; start-up failures exit 1
# with advice; unusable or partly bad zone.csv files are kept, never lost.
source "$(dirname "$0")/../lib.sh"

# expect_exit NAME CODE PATTERN ARGS...: exit code and one stderr line matching PATTERN.
expect_exit() {
	local name=$1 code=$2 pattern=$3; shift 3
	local err rc
	# A flag that became valid would start a server: never wait for it.
	err=$(timeout 5 "$SEEDD" "$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" != "$code" ]; then fail "flags/$name" "exit $rc, want $code: $err"; return; fi
	if [ "$(printf '%s\n' "$err" | wc -l)" != 1 ]; then fail "flags/$name" "want one line, got: $err"; return; fi
	if ! printf '%s' "$err" | grep -qE -- "$pattern"; then fail "flags/$name" "message '$err' lacks /$pattern/"; return; fi
	pass "flags/$name"
}

d=$(new_dir)
expect_exit no-zone 2 "--zone" 
expect_exit bad-zone 2 "--zone: 'a\.\.b'" --zone a..b
expect_exit bad-ttl 2 "--ttl: 'x'" --zone a.b --ttl x
expect_exit bad-answers 2 "--answers: '0'" --zone a.b --answers 0
expect_exit bad-listen 2 "--listen: '1\.2\.3:53'" --zone a.b --listen 1.2.3:53
expect_exit bad-port 2 "--listen: '127\.0\.0\.1:99999'" --zone a.b -l 127.0.0.1:99999
expect_exit bad-interval 2 "--snapshot-interval: '0'" --zone a.b --snapshot-interval 0
expect_exit bad-level 2 "--log-level: 'loud'" --zone a.b --log-level loud
expect_exit unknown-flag 2 "--no-such-flag" --zone a.b --no-such-flag 5
expect_exit bad-seed 2 "--seed: 'ftp://127\.0\.0\.1'" --zone a.b --seed ftp://127.0.0.1
expect_exit bad-seed-port 2 "--seed: '127\.0\.0\.1:0'" --zone a.b --seed 127.0.0.1:0
expect_exit bad-net-port 2 "--port: '65536'" --zone a.b --port 65536
expect_exit bad-timeout 2 "--timeout: '0'" --zone a.b --timeout 0
expect_exit bad-concurrency 2 "--concurrency: '-1'" --zone a.b --concurrency -1
expect_exit bad-max-nodes 2 "--max-nodes: '0'" --zone a.b --max-nodes 0
expect_exit bad-resolver 2 "--resolver: 'resolver\.example'" --zone a.b --resolver resolver.example
expect_exit missing-value 2 "--ttl" --zone a.b --ttl
expect_exit positional 2 "stray" --zone a.b stray
expect_exit no-data-dir 1 "data directory '/nonexistent/x'.*--data-dir" --zone a.b -l 127.0.0.1:5399 -d /nonexistent/x
"$SEEDD" --help | grep -q -- "--zone NAME" && pass flags/help || fail flags/help "no usage text"
"$SEEDD" --version | grep -qE '^seedd [0-9]' && pass flags/version || fail flags/version "no version"

# Port 53 without privilege: exit 1 with the advice of SPEC 2.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	err=$(setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$SEEDD" --zone a.b -l 127.0.0.1:53 -d /tmp 2>&1 >/dev/null); rc=$?
	if [ "$rc" = 1 ] && printf '%s' "$err" | grep -q -- "--listen 0.0.0.0:5353"; then pass flags/port53-unprivileged
	else fail flags/port53-unprivileged "exit $rc: $err"; fi
fi
# Address already in use: exit 1 naming the address.
port=$(free_port)
dd=$(new_dir)
start_seedd "$dd" --zone a.b --concurrency 0 -l "127.0.0.1:$port"
err=$("$SEEDD" --zone a.b -l "127.0.0.1:$port" -d "$(new_dir)" 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] && printf '%s' "$err" | grep -q "127.0.0.1:$port" && pass flags/address-in-use || fail flags/address-in-use "exit $rc: $err"
stop_seedd >/dev/null

# No zone.csv: SOA and NS from flags; zone.csv written.
dir=$(new_dir); port=$(free_port)
start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port" --ns ns1.seed.example.com --mbox ops@example.com
soa=$(dig +short @127.0.0.1 -p "$port" seed.example.com SOA)
echo "$soa" | grep -qE '^ns1\.seed\.example\.com\. ops\.example\.com\. [0-9]{10} 900 300 604800 60$' \
	&& pass files/soa-from-flags || fail files/soa-from-flags "got '$soa'"
[ -s "$dir/zone.csv" ] && head -n1 "$dir/zone.csv" | grep -q '^ns1.seed.example.com,ops.example.com ' \
	&& pass files/zone-written || fail files/zone-written "$(cat "$dir/zone.csv" 2>&1)"
stop_seedd >/dev/null

# An unusable zone.csv is renamed .rejected.<time>, zone.csv.old is served.
dir=$(new_dir); port=$(free_port)
write_zone "$dir"; cp "$dir/zone.csv" "$dir/zone.csv.old"
printf 'this is not a zone file\n' >"$dir/zone.csv"
start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port"
ls "$dir" | grep -qE '^zone\.csv\.rejected\.[0-9]+$' && grep -qx 'this is not a zone file' "$dir"/zone.csv.rejected.* \
	&& pass files/unusable-renamed || fail files/unusable-renamed "$(ls "$dir")"
a=$(dig +short @127.0.0.1 -p "$port" ns.seed.example.com A)
[ "$a" = 1.2.3.4 ] && pass files/old-served || fail files/old-served "got '$a'"
grep -q 'unusable' "$dir/log" && pass files/unusable-logged || fail files/unusable-logged "$(cat "$dir/log")"
head -n1 "$dir/zone.csv" | grep -q '^ns.seed.example.com,' && pass files/rewritten-from-old || fail files/rewritten-from-old "$(head -n1 "$dir/zone.csv")"
stop_seedd >/dev/null

# Malformed rows: skipped with file and line in the log, the file as read kept.
dir=$(new_dir); port=$(free_port)
write_zone "$dir"
printf 'garbage row\nother.org,1.2.3.4\n' >>"$dir/zone.csv"
start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port"
grep -q 'file=zone.csv line=9 ' "$dir/log" && grep -q 'file=zone.csv line=10 ' "$dir/log" \
	&& pass files/bad-rows-logged || fail files/bad-rows-logged "$(grep skipped "$dir/log")"
grep -qx 'garbage row' "$dir"/zone.csv.rejected.* 2>/dev/null && pass files/bad-rows-kept || fail files/bad-rows-kept "$(ls "$dir")"
a=$(dig +short @127.0.0.1 -p "$port" ns.seed.example.com A)
[ "$a" = 1.2.3.4 ] && pass files/good-rows-served || fail files/good-rows-served "got '$a'"
stop_seedd >/dev/null

# Private node rows are not published without --allow-private, and are with it.
dir=$(new_dir); port=$(free_port)
printf 'ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\nseed.example.com,10.0.0.1\nseed.example.com,8.8.8.8\n' >"$dir/zone.csv"
start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port"
a=$(dig +short @127.0.0.1 -p "$port" seed.example.com A | sort | tr '\n' ' ')
[ "$a" = "8.8.8.8 " ] && pass files/private-not-published || fail files/private-not-published "got '$a'"
grep -qx 'seed.example.com,10.0.0.1' "$dir"/zone.csv.rejected.* 2>/dev/null \
	&& pass files/private-rows-kept || fail files/private-rows-kept "$(ls "$dir")"
stop_seedd >/dev/null
start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port" --allow-private
printf 'ns.seed.example.com,hostmaster.seed.example.com 1 2 3 4 5\nseed.example.com,10.0.0.1\nseed.example.com,8.8.8.8\n' >"$dir/zone.csv"
kill -HUP "$SEEDD_PID"; sleep 0.3
a=$(dig +short @127.0.0.1 -p "$port" seed.example.com A | sort | tr '\n' ' ')
[ "$a" = "10.0.0.1 8.8.8.8 " ] && pass files/private-with-flag || fail files/private-with-flag "got '$a'"
stop_seedd >/dev/null

# SIGTERM: exit 0 within 2 s with zone.csv written.
dir=$(new_dir); port=$(free_port)
write_zone "$dir"
start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port"
rm -f "$dir/zone.csv.old"
t0=$(date +%s%N); kill -TERM "$SEEDD_PID"; wait "$SEEDD_PID"; rc=$?; t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$rc" = 0 ] && [ "$ms" -lt 2000 ] && pass files/sigterm-exit-0 || fail files/sigterm-exit-0 "exit $rc after ${ms} ms"
[ -f "$dir/zone.csv.old" ] && grep -qx 'www.seed.example.com,seed.example.com' "$dir/zone.csv" \
	&& pass files/written-on-sigterm || fail files/written-on-sigterm "$(ls "$dir")"
start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port"
kill -INT "$SEEDD_PID"; wait "$SEEDD_PID"; rc=$?
[ "$rc" = 0 ] && pass files/sigint-exit-0 || fail files/sigint-exit-0 "exit $rc"
