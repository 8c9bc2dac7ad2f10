#!/usr/bin/env bash
# --metrics (issue 5): the HTTP server on loopback. /metrics in the
# Prometheus text format, accepted by `promtool check metrics` (crawler off
# with the DHT on, then crawler on); counters move by exactly what was sent
# (dig queries of several types, short and QR=1 UDP packets); HEAD, 405,
# 404, 431, 400; /healthz 200 with the DHT on and nobody outside yet (the
# first 10 minutes), 503 during the crawler's own-outage guard (twelve good
# nodes in nodes.csv on loopback addresses where nothing listens: every
# check is refused at once) and 503 while zone.csv cannot be written (seedd
# runs as 65534 with --user; its data directory is given back to root).
# Slow clients: 8 idle connections fill the server, a 9th is closed at
# once, DNS answers meanwhile, the idle ones are dropped after about 5 s.
# The one 503 case not tested: the DHT unreachable for 10 minutes.
source "$(dirname "$0")/../lib.sh"
PREFIX=appliance-metrics
PY=/usr/bin/python3
ZONE=seed.example.com

if ! command -v promtool >/dev/null 2>&1; then
	fail "$PREFIX/promtool" "promtool not installed (Debian package prometheus; see tests/deps.sh)"
fi

# m FILE 'NAME{LABELS}': the sample's value ("" when absent).
m() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
# get PORT PATH OUT: curl, body to OUT, prints "CODE CONTENT-TYPE".
get() { curl -s -m 3 -o "$3" -w '%{http_code} %{content_type}' "http://127.0.0.1:$1$2"; }
# dq PORT TYPE: one dig query, one try; prints the status.
dq() { dig +time=1 +tries=1 -p "$1" @127.0.0.1 "$ZONE" "$2" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
wait_for() { # wait_for SECONDS COMMAND...
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	return 1
}
# boot DIR ARGS...: seedd with --metrics on a free port; sets DNSP, HTTP.
# A port taken meanwhile by someone else's socket: try other ones.
boot() {
	local dir=$1 _; shift
	for _ in 1 2 3 4 5; do
		DNSP=$(free_port); HTTP=$(free_port)
		[ "$DNSP" != "$HTTP" ] || continue
		start_seedd "$dir" --zone "$ZONE" --listen "127.0.0.1:$DNSP" --metrics "127.0.0.1:$HTTP" "$@" && return 0
		grep -q "cannot bind" "$dir/log" 2>/dev/null || break
	done
	return 1
}
# raw PORT HEX: send bytes on one TCP connection, print what comes back
# (until EOF or reset) on one line, escaped.
raw() {
	"$PY" - "$@" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
out = b""
try:
    s.sendall(bytes.fromhex(sys.argv[2]))
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError as e:
    out += b" <" + type(e).__name__.encode() + b">"
print(repr(out))
EOF
}
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# --- A: crawler off, DHT on (bootstrap to a loopback port where nothing listens)
A=$(new_dir); write_zone "$A"
DHTP=$(free_port); BOOT=$(free_port)
if ! boot "$A" --concurrency 0 --allow-private --dht "127.0.0.1:$DHTP" --dht-bootstrap "127.0.0.1:$BOOT"; then
	fail "$PREFIX/start" "$(tail -n 5 "$A/log" | tr '\n' '|')"; exit 1
fi
grep -q "info metrics msg=listening addr=127.0.0.1:$HTTP" "$A/log" && pass "$PREFIX/listening logged" ||
	fail "$PREFIX/listening logged" "$(grep metrics "$A/log")"

r=$(get "$HTTP" /metrics "$A/m0")
[ "$r" = "200 text/plain; version=0.0.4; charset=utf-8" ] && pass "$PREFIX/metrics 200 text/plain 0.0.4" ||
	fail "$PREFIX/metrics 200 text/plain 0.0.4" "got '$r'"
if promtool check metrics <"$A/m0" >"$A/prom" 2>&1; then pass "$PREFIX/promtool (dht on)"
else fail "$PREFIX/promtool (dht on)" "$(head -n 5 "$A/prom" | tr '\n' '|')"; fi
bad=$(grep -v '^#' "$A/m0" | grep -v '^seedd_' | head -n 3)
[ -z "$bad" ] && [ -s "$A/m0" ] && pass "$PREFIX/every sample prefixed seedd_" || fail "$PREFIX/every sample prefixed seedd_" "$bad"
miss=""
for f in dns_queries_total dns_responses_total dns_dropped_total dns_truncated_total dns_tcp_connections_total \
	zone_nodes zone_serial crawler_on dht_on dht_datagrams_total dht_queries_total dht_messages_total \
	dht_dropped_total dht_infohashes dht_nodes dht_queue dht_reachable snapshot_last_success_timestamp_seconds \
	process_resident_memory_bytes process_start_time_seconds http_requests_total; do
	grep -q "^# TYPE seedd_$f " "$A/m0" || miss="$miss $f"
done
for s in 'seedd_crawler_on 0' 'seedd_dht_on 1' 'seedd_zone_nodes{family="ipv4"} 3' 'seedd_zone_nodes{family="ipv6"} 1' \
	'seedd_zone_serial 2026112201'; do
	grep -qxF "$s" "$A/m0" || miss="$miss [$s]"
done
for r in short qr_set notimp_opcode formerr badvers refused_class refused_zone refused_transfer; do
	grep -q "^seedd_dns_dropped_total{reason=\"$r\"} " "$A/m0" || miss="$miss dropped:$r"
done
[ -z "$miss" ] && pass "$PREFIX/families and values" || fail "$PREFIX/families and values" "missing:$miss"

# Counters: 3 A, 2 AAAA, 1 TXT (type "other"), 2 short packets, 1 reply (QR=1).
# The last dig goes through the same UDP socket after the raw packets, so
# they have been read when it is answered.
st=""
for t in A A AAAA TXT A; do st="$st $(dq "$DNSP" $t)"; done
"$PY" - "$DNSP" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("127.0.0.1", int(sys.argv[1]))
s.sendto(b"\x12\x34\x01\x00\x00", dst)                       # 5 bytes: short
s.sendto(b"\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00", dst)  # 11 bytes: short
q = b"\x12\x36\x81\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04seed\x07example\x03com\x00\x00\x01\x00\x01"
s.sendto(q, dst)                                             # QR=1: dropped
EOF
st="$st $(dq "$DNSP" AAAA)"
[ "$st" = " NOERROR NOERROR NOERROR NOERROR NOERROR NOERROR" ] && pass "$PREFIX/dig answers" || fail "$PREFIX/dig answers" "$st"
get "$HTTP" /metrics "$A/m1" >/dev/null
delta() { echo $(( ${2:-0} - ${1:-0} )); }
d=""
for k in 'seedd_dns_queries_total{type="A"} 3' 'seedd_dns_queries_total{type="AAAA"} 2' \
	'seedd_dns_queries_total{type="other"} 1' 'seedd_dns_queries_total{type="SOA"} 0' \
	'seedd_dns_dropped_total{reason="short"} 2' 'seedd_dns_dropped_total{reason="qr_set"} 1' \
	'seedd_dns_dropped_total{reason="formerr"} 0' 'seedd_dns_responses_total{rcode="NOERROR"} 6' \
	'seedd_dns_responses_total{rcode="FORMERR"} 0' 'seedd_http_requests_total 1'; do
	key=${k% *} want=${k##* }
	got=$(delta "$(m "$A/m0" "$key")" "$(m "$A/m1" "$key")")
	[ "$got" = "$want" ] || d="$d $key:+$got(want +$want)"
done
[ -z "$d" ] && pass "$PREFIX/counters move by what was sent" || fail "$PREFIX/counters move by what was sent" "$d"

# HEAD: the headers of GET, no body.
curl -s -m 3 -I "http://127.0.0.1:$HTTP/metrics" | tr -d '\r' >"$A/head"
len=$(sed -n 's/^Content-Length: //Ip' "$A/head")
if head -n 1 "$A/head" | grep -q '^HTTP/1.1 200' && [ "${len:-0}" -gt 1000 ] &&
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$A/head"; then pass "$PREFIX/HEAD"
else fail "$PREFIX/HEAD" "$(tr '\n' '|' <"$A/head")"; fi
out=$(raw "$HTTP" "$(hex $'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n')")
case "$out" in *'Content-Length: 3\r\n'*'\r\n\r\n'\') pass "$PREFIX/HEAD sends no body" ;;
*) fail "$PREFIX/HEAD sends no body" "$out" ;; esac

r=$(curl -s -m 3 -o /dev/null -w '%{http_code}' -X POST --data x "http://127.0.0.1:$HTTP/metrics")
[ "$r" = 405 ] && pass "$PREFIX/POST 405" || fail "$PREFIX/POST 405" "got $r"
r=$(get "$HTTP" /nope /dev/null)
[ "${r%% *}" = 404 ] && pass "$PREFIX/unknown path 404" || fail "$PREFIX/unknown path 404" "got $r"
printf -v big 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n' "$(head -c 5000 /dev/zero | tr '\0' a)"
out=$(raw "$HTTP" "$(hex "$big")")
case "$out" in "b'HTTP/1.1 431 "*) pass "$PREFIX/oversized head 431" ;; *) fail "$PREFIX/oversized head 431" "${out:0:200}" ;; esac
# Exactly at the limit it is still read (a 4096-byte head).
pad=$((4096 - ${#big} + 5000))
printf -v atlim 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n' "$(head -c $pad /dev/zero | tr '\0' a)"
out=$(raw "$HTTP" "$(hex "$atlim")")
case "$out" in "b'HTTP/1.1 200 "*'ok\n'\') pass "$PREFIX/a 4096-byte head is read (${#atlim})" ;;
*) fail "$PREFIX/a 4096-byte head is read (${#atlim})" "${out:0:200}" ;; esac
printf -v over 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n' "$(head -c $((pad + 1)) /dev/zero | tr '\0' a)"
out=$(raw "$HTTP" "$(hex "$over")")
case "$out" in "b'HTTP/1.1 431 "*) pass "$PREFIX/a ${#over}-byte head 431" ;; *) fail "$PREFIX/a ${#over}-byte head 431" "${out:0:200}" ;; esac
out=$(raw "$HTTP" "$(hex $'BLAH\r\n\r\n')")
case "$out" in "b'HTTP/1.1 400 "*) pass "$PREFIX/bad request line 400" ;; *) fail "$PREFIX/bad request line 400" "$out" ;; esac
out=$(raw "$HTTP" "$(hex $'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')")
case "$out" in *'Connection: close\r\n'*) pass "$PREFIX/Connection: close" ;; *) fail "$PREFIX/Connection: close" "$out" ;; esac

# /healthz with the DHT on: nobody outside has asked us anything, but we
# started less than 10 minutes ago.
r=$(get "$HTTP" /healthz "$A/h")
[ "${r%% *}" = 200 ] && [ "$(cat "$A/h")" = ok ] && pass "$PREFIX/healthz 200 ok (dht on, no one outside yet)" ||
	fail "$PREFIX/healthz 200 ok (dht on, no one outside yet)" "$r $(cat "$A/h")"
get "$HTTP" /metrics "$A/m2" >/dev/null
[ "$(m "$A/m2" seedd_dht_reachable)" = 1 ] && [ "$(m "$A/m2" 'seedd_dht_datagrams_total{direction="in"}')" = 0 ] &&
	pass "$PREFIX/dht reachable (grace) with no datagram in" ||
	fail "$PREFIX/dht reachable (grace) with no datagram in" "$(grep -E '^seedd_dht_(reachable|datagrams)' "$A/m2" | tr '\n' ' ')"

# Slow clients: 8 idle connections take every slot; a 9th is closed at
# once; DNS answers meanwhile; after about 5 s the idle ones are dropped.
"$PY" - "$HTTP" "$DNSP" <<'EOF'
import select, socket, sys, time
http, dns = int(sys.argv[1]), int(sys.argv[2])
P = "appliance-metrics/"
def report(name, ok, why=""):
    print(("PASS " + P + name) if ok else ("FAIL " + P + name + ": " + why), flush=True)
t0 = time.monotonic()
slow = [socket.create_connection(("127.0.0.1", http), timeout=2) for _ in range(8)]
slow[0].sendall(b"GET /metr")          # a head that never ends
slow[1].sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
time.sleep(0.3)
# The 9th: closed at once, whatever it sends.
t = time.monotonic()
try:
    s9 = socket.create_connection(("127.0.0.1", http), timeout=2)
    s9.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
    got = s9.recv(1000)
except OSError as e:
    got = type(e).__name__
dt = time.monotonic() - t
report("9th connection closed at once", got in (b"", "ConnectionResetError", "BrokenPipeError") and dt < 1,
       "got %r after %.2f s" % (got, dt))
# DNS meanwhile: a query for the apex SOA answered at once, 5 times.
q = b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04seed\x07example\x03com\x00\x00\x06\x00\x01"
worst, ok = 0.0, True
for i in range(5):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    t = time.monotonic()
    try:
        u.sendto(q, ("127.0.0.1", dns))
        r = u.recv(1500)
        ok = ok and r[:2] == b"\xab\xcd" and r[3] & 15 == 0
    except OSError:
        ok = False
    worst = max(worst, time.monotonic() - t)
    u.close()
report("DNS answers while HTTP is full", ok and worst < 0.3, "ok=%s worst %.3f s" % (ok, worst))
# The idle ones are closed after about 5 s (not before 4, not after 8).
for s in slow:
    s.setblocking(False)
left, when = set(range(8)), {}
while left and time.monotonic() - t0 < 9:
    r, _, _ = select.select([slow[i] for i in left], [], [], 0.1)
    for s in r:
        i = slow.index(s)
        try:
            d = s.recv(4096)
        except OSError as e:
            d = b""
        if d == b"" or not d.startswith(b"HTTP/1.1 2"):
            when[i] = time.monotonic() - t0
            left.discard(i)
report("idle connections dropped after about 5 s",
       not left and min(when.values()) > 4 and max(when.values()) < 8,
       "still open %s, closed at %s" % (sorted(left), {k: round(v, 2) for k, v in when.items()}))
EOF
r=$(get "$HTTP" /metrics "$A/m3")
[ "${r%% *}" = 200 ] && [ -s "$A/m3" ] && pass "$PREFIX/metrics answers again" || fail "$PREFIX/metrics answers again" "got $r"
d=$(delta "$(m "$A/m2" seedd_http_requests_total)" "$(m "$A/m3" seedd_http_requests_total)")
# The 9th connection was closed before its request was read: not counted.
[ "$d" -ge 1 ] && pass "$PREFIX/http_requests_total grows" || fail "$PREFIX/http_requests_total grows" "+$d"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/stop" || fail "$PREFIX/stop" "rc=$SEEDD_RC"

# --- B: the own-outage guard. Twelve good nodes on loopback addresses where
# nothing listens: every check is refused, the guard turns on, /healthz 503.
B=$(new_dir)
{
	echo 'ip,good,last_check_time,port,network'
	for i in $(seq 1 12); do echo "127.5.53.$i,yes,$(date -u -d '-10 min' '+%F %T'),32767,infnote"; done
} >"$B/nodes.csv"
if ! boot "$B" --allow-private --interval 2 --timeout 1 --concurrency 16 --snapshot-interval 1; then
	fail "$PREFIX/start (outage)" "$(tail -n 5 "$B/log" | tr '\n' '|')"; exit 1
fi
wait_for 8 grep -q 'our network seems down' "$B/log"
r=$(get "$HTTP" /healthz "$B/h")
if [ "${r%% *}" = 503 ] && grep -q '^our network seems down' "$B/h" && [ "$(wc -l <"$B/h")" = 1 ]; then
	pass "$PREFIX/healthz 503 during our own outage"
else fail "$PREFIX/healthz 503 during our own outage" "$r '$(cat "$B/h")'; $(grep -c 'result=bad' "$B/log") bad checks"; fi
get "$HTTP" /metrics "$B/m" >/dev/null
if promtool check metrics <"$B/m" >"$B/prom" 2>&1; then pass "$PREFIX/promtool (crawler on)"
else fail "$PREFIX/promtool (crawler on)" "$(head -n 5 "$B/prom" | tr '\n' '|')"; fi
miss=""
for f in crawler_checks_total crawler_check_errors_total crawler_nodes crawler_outage; do
	grep -q "^# TYPE seedd_$f " "$B/m" || miss="$miss $f"
done
for s in 'seedd_crawler_on 1' 'seedd_crawler_outage 1' 'seedd_crawler_nodes{state="known"} 12'; do
	grep -qxF "$s" "$B/m" || miss="$miss [$s]"
done
[ "$(m "$B/m" 'seedd_crawler_check_errors_total{error="refused"}')" -ge 10 ] 2>/dev/null || miss="$miss refused<10"
[ -z "$miss" ] && pass "$PREFIX/crawler families" || fail "$PREFIX/crawler families" "$miss: $(grep '^seedd_crawler' "$B/m" | tr '\n' ' ')"
stop_seedd

# --- C: zone.csv cannot be written. seedd runs as 65534 (--user) in a data
# directory of its own; once it has written zone.csv the directory is given
# back to root (0755) and zone.csv is changed on disk, so it must be written
# again and cannot be.
C=$(new_dir); chown 65534:65534 "$C"
if ! boot "$C" --concurrency 0 --user 65534:65534 --snapshot-interval 1; then
	fail "$PREFIX/start (--user)" "$(tail -n 5 "$C/log" | tr '\n' '|')"; exit 1
fi
wait_for 5 test -s "$C/zone.csv"
r=$(get "$HTTP" /healthz "$C/h")
[ "${r%% *}" = 200 ] && pass "$PREFIX/healthz 200 (zone written)" || fail "$PREFIX/healthz 200 (zone written)" "$r $(cat "$C/h")"
chown 0:0 "$C"; chmod 0755 "$C"
echo "$ZONE,1.2.3.4" >>"$C/zone.csv"
wait_for 5 grep -q 'cannot write zone.csv' "$C/log"
sleep 1.2
get "$HTTP" /metrics "$C/m" >/dev/null
[ "$(m "$C/m" seedd_snapshot_errors_total)" -ge 1 ] 2>/dev/null && pass "$PREFIX/snapshot errors counted" ||
	fail "$PREFIX/snapshot errors counted" "$(grep '^seedd_snapshot' "$C/m" | tr '\n' ' ')"
r=$(get "$HTTP" /healthz "$C/h")
if [ "${r%% *}" = 503 ] && grep -qi 'zone' "$C/h" && [ "$(wc -l <"$C/h")" = 1 ]; then
	pass "$PREFIX/healthz 503 while zone.csv cannot be written"
else fail "$PREFIX/healthz 503 while zone.csv cannot be written" "$r '$(cat "$C/h")'; log: $(grep -c 'cannot write zone.csv' "$C/log") failed writes"; fi
chown 65534:65534 "$C"
healthy() { [ "$(get "$HTTP" /healthz /dev/null)" = "200 text/plain; charset=utf-8" ]; }
wait_for 4 healthy
r=$(get "$HTTP" /healthz "$C/h")
[ "${r%% *}" = 200 ] && grep -q "^$ZONE,1.2.3.4\$" "$C/zone.csv" && pass "$PREFIX/healthz 200 once zone.csv is written again" ||
	fail "$PREFIX/healthz 200 once zone.csv is written again" "$r $(cat "$C/h")"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/stop (--user)" || fail "$PREFIX/stop (--user)" "rc=$SEEDD_RC"
