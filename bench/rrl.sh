#!/usr/bin/env bash
# bench/rrl.sh: response rate limiting under an amplification flood, seedd
# against NSD (make bench).
#
# Both serve seed.example.com with 25 apex A records on 127.0.0.1, with the
# same limit: seedd --rrl RATE --rrl-slip 2 (IPv4 prefix 24), NSD
# rrl-ratelimit: RATE, rrl-slip: 2, rrl-ipv4-prefix-length: 24. They run one
# after the other, each alone, pinned to CPU 1 (the flood to CPU 0 when
# there are two CPUs). tests/integration/rrlflood.py floods each from 256
# loopback addresses in four /24s (127.51.0-3.1-64), 10 x RATE queries a
# second per /24 for BENCH_SECONDS, the apex A question with EDNS(0) 4096 and
# no cookie; a legitimate client on 127.52.0.1 asks 5 times a second.
# For each server a table per /24: queries, replies, TC replies, full
# answers, bytes in and out (the server's view: in = the flood's queries,
# out = its replies to them), amplification (out / in); the legitimate
# client's answered %; what a slipped (TC) reply looks like; the server's
# own account (seedd's /metrics, NSD's "ratelimit block" log lines).
# Reported, not asserted: exit 0 whenever the measurement ran, non-zero when
# a server (or the flood) could not be set up.
#
# Environment:
#   BENCH_SEEDD     seedd binary (default ./seedd)
#   BENCH_RRL       responses a second per bucket, both servers (default 100)
#   BENCH_SECONDS   length of each flood (default 10)
#   BENCH_KEEP      non-empty: keep the temp dir (configs, logs, flood JSON)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEEDD=${BENCH_SEEDD:-$ROOT/seedd}
RATE=${BENCH_RRL:-100}
SECS=${BENCH_SECONDS:-10}
PY=/usr/bin/python3
FLOOD=$ROOT/tests/integration/rrlflood.py
ZONE=seed.example.com
NANSWERS=25
LEGIT_RATE=5

die() { echo "bench: $*" >&2; exit 1; }

[[ -x $SEEDD ]] || die "$SEEDD missing: run make first"
[[ $RATE =~ ^[0-9]+$ ]] && (( RATE >= 1 )) || die "BENCH_RRL must be a positive integer (got '$RATE')"
[[ $SECS =~ ^[0-9]+$ ]] && (( SECS >= 1 )) || die "BENCH_SECONDS must be a positive integer (got '$SECS')"
FLOOD_RATE=$(( 10 * RATE ))

need_install() {
	local t
	for t in nsd dig curl taskset ss pgrep; do
		command -v "$t" >/dev/null 2>&1 || return 0
	done
	return 1
}
# One list of packages in one place: tests/deps.sh installs them (as root).
if need_install; then
	"$ROOT/tests/deps.sh" >/dev/null || die "tests/deps.sh failed"
	need_install && die "tools still missing after tests/deps.sh"
fi
[[ -x $PY ]] || die "$PY missing"

# Server on CPU 1, flood on CPU 0, as in bench/dns.sh; one CPU: no pinning.
if (( $(nproc) >= 2 )); then
	ON_SERVER=(taskset -c 1); ON_CLIENT=(taskset -c 0)
else
	ON_SERVER=(); ON_CLIENT=()
fi

# --- workspace and cleanup -------------------------------------------------
descendants() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1" || true); do descendants "$c"; done
}
WORK=$(mktemp -d /tmp/seedd-bench-rrl.XXXXXX)
SPID=""
# stop_server: SIGTERM the server and its children (NSD: xfrd, server
# worker), wait until all are gone.
stop_server() {
	local p all
	[[ -n $SPID ]] || return 0
	all=$(descendants "$SPID")
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	for _ in $(seq 1 50); do
		for p in $all; do kill -0 "$p" 2>/dev/null && break; p=""; done
		[[ -z ${p:-} ]] && break
		sleep 0.1
	done
	SPID=""
}
cleanup() {
	stop_server
	if [[ -n ${BENCH_KEEP:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

taken=" "
pick_port() {
	local p
	while :; do
		p=$(( 20000 + RANDOM % 40000 ))
		[[ $taken == *" $p "* ]] && continue
		grep -qE "[:.]$p\$" <<<"$(ss -Htuan | awk '{ print $5 }')" && continue
		taken+="$p "
		printf -v "$1" '%s' "$p"
		return
	done
}

# --- zone data (addresses are data only, never contacted) ------------------
SOA="ns.$ZONE hostmaster.$ZONE 2026112201 28800 7200 604800 86400"
mkdir -p "$WORK/seedd" "$WORK/nsd"
{
	echo "ns.$ZONE,hostmaster.$ZONE 2026112201 28800 7200 604800 86400"
	for i in $(seq 1 $NANSWERS); do echo "$ZONE,11.$i.0.1"; done
} >"$WORK/seedd/zone.csv"
{
	echo "\$ORIGIN $ZONE."
	echo "\$TTL 60"
	set -- $SOA
	echo "@ 3600 IN SOA $1. $2. $3 $4 $5 $6 $7"
	echo "@ 3600 IN NS ns.$ZONE."
	for i in $(seq 1 $NANSWERS); do echo "@ IN A 11.$i.0.1"; done
} >"$WORK/zone.db"

pick_port PORT_SEEDD; pick_port PORT_METRICS; pick_port PORT_NSD

# NSD: RRL as seedd's (rate, slip 2, /24; IPv6 /56 like seedd's default
# though nothing here uses IPv6); minimal-responses so a full answer carries
# no authority NS, like seedd's; verbosity 2 logs each block and unblock of
# a prefix. rrl-whitelist-ratelimit only concerns query types whitelisted per
# zone (none here). answer-cookie on, as seedd always answers cookies: NSD
# 4.6 then exempts a query with a valid server cookie from RRL, like seedd
# (the flood sends no cookie, so this changes none of the figures).
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
    verbosity: 2
    hide-version: yes
    minimal-responses: yes
    rrl-ratelimit: $RATE
    rrl-slip: 2
    rrl-ipv4-prefix-length: 24
    rrl-ipv6-prefix-length: 56
    answer-cookie: yes
remote-control:
    control-enable: no
zone:
    name: $ZONE
    zonefile: "$WORK/zone.db"
EOF

# probe PORT: "STATUS COUNT SIZE" of one answer to a query from 127.0.0.1
# (outside every flooded prefix), EDNS without a cookie.
probe() {
	{ dig @127.0.0.1 -p "$1" "$ZONE" A +norec +nocookie +tries=1 +time=1 2>/dev/null || true; } |
		awk '/status:/ { sub(",", "", $6); st = $6 }
		     /MSG SIZE/ { size = $NF }
		     !/^;/ && $4 == "A" { n++ }
		     END { print (st == "" ? "NONE" : st), n + 0, size + 0 }'
}

# wait_up NAME PORT LOG...: until it answers NOERROR with 25 A (5 s).
wait_up() {
	local name=$1 port=$2 ans="NONE 0 0"; shift 2
	for _ in $(seq 1 50); do
		kill -0 "$SPID" 2>/dev/null || break
		ans=$(probe "$port")
		[[ $ans != NONE* ]] && break
		sleep 0.1
	done
	if [[ $ans != "NOERROR $NANSWERS "* ]]; then
		tail -n 20 "$@" >&2 2>/dev/null || true
		die "$name on 127.0.0.1:$port: expected NOERROR with $NANSWERS A, got '$ans'"
	fi
	echo "$name: 127.0.0.1:$port answers NOERROR with $NANSWERS A records (${ans##* } bytes)"
}

# flood NAME PORT: the flood, its JSON in $WORK/NAME.json.
flood() {
	"${ON_CLIENT[@]}" "$PY" "$FLOOD" --port "$2" --rate "$FLOOD_RATE" --seconds "$SECS" \
		--legit-rate $LEGIT_RATE >"$WORK/$1.json" 2>"$WORK/$1.flood.err" ||
		{ cat "$WORK/$1.flood.err" >&2; die "rrlflood.py failed against $1"; }
}

# report NAME: the table of one server's flood.
report() {
	PYTHONPATH="$ROOT/tests/integration" "$PY" - "$WORK/$1.json" "$1" <<'EOF'
import json, sys
from dnsraw import parse, ParseError
d = json.load(open(sys.argv[1]))
name = sys.argv[2]
s = d["send"]
print("%s: flood %d q/s per /24 x 4 for %gs (achieved %.0f q/s of %.0f, worst lag %.1f ms, "
      "%d send errors); query %d bytes" % (name, d["params"]["rate_per_prefix"], d["params"]["seconds"],
                                            s["achieved_rate"], s["target_rate"], s["max_lag_ms"],
                                            sum(s["send_errors"].values()), d["params"]["query_bytes"]))
hdr = ("prefix", "queries", "replies", "TC", "full", "bytes in", "bytes out", "amplif.")
fmt = "  %-15s %8s %8s %8s %6s %10s %10s %8s"
print(fmt % hdr)
rows = list(d["prefixes"].items()) + [("total", d["total"])]
for k, c in rows:
    print(fmt % (k, c["queries"], c["replies"], c["tc"], c["full"], c["bytes_out"], c["bytes_in"],
                 "%.3f" % c["amplification"] if c["amplification"] is not None else "-"))
l = d["legit"]
print("  legitimate client %s at %g q/s: %d/%d answered (%.1f%%), %d full, %d TC, %d lost, slowest %.1f ms"
      % (l["source"], d["params"]["legit_rate"], l["answered"], l["sent"],
         100.0 * l["answered"] / l["sent"] if l["sent"] else 0, l["full"], l["tc"], l["lost"], l["rtt_ms_max"]))
print("  per second, all /24s (full answers / TC): " +
      " ".join("%d/%d" % (t["full"], t["tc"]) for t in d["timeline"]))
sz = d["reply_sizes"]
print("  reply sizes: full %s; TC %s" % (
    ", ".join("%sB x%d" % kv for kv in sorted(sz["full"].items())) or "none",
    ", ".join("%sB x%d" % kv for kv in sorted(sz["tc"].items())) or "none"))
if d["samples"]["tc"]:
    m = bytes.fromhex(d["samples"]["tc"])
    try:
        r = parse(m)
        flags = " ".join(f for f in ("qr", "aa", "tc", "rd", "ra", "ad", "cd") if r[f])
        opt = r["opt"]
        print("  a slipped reply: %d bytes, flags %s, %s, question %s, %d/%d/%d records, %s" % (
            r["len"], flags, r["rcodename"],
            "echoed" if r["question"] else "absent", r["an"], r["ns"], r["ar"] - (1 if opt else 0),
            ("OPT udp=%d options=%s" % (opt["udp"], ",".join(str(c) for c, _ in opt["opts"]) or "none"))
            if opt else "no OPT"))
    except ParseError as e:
        print("  a slipped reply, unparseable (%s): %s" % (e, d["samples"]["tc"]))
else:
    print("  no slipped (TC) reply seen")
EOF
}

# --- seedd -----------------------------------------------------------------
echo "RRL bench: limit $RATE responses/s per bucket, slip 2, IPv4 /24; flood $FLOOD_RATE q/s from each of 4 /24s for ${SECS}s; legitimate client $LEGIT_RATE q/s"
echo
"${ON_SERVER[@]}" "$SEEDD" --zone "$ZONE" --listen "127.0.0.1:$PORT_SEEDD" --metrics "127.0.0.1:$PORT_METRICS" \
	--answers $NANSWERS --concurrency 0 -d "$WORK/seedd" --log-level info \
	--rrl "$RATE" --rrl-slip 2 --rrl-ipv4-prefix 24 >"$WORK/seedd.log" 2>&1 &
SPID=$!
wait_up seedd "$PORT_SEEDD" "$WORK/seedd.log"
flood seedd "$PORT_SEEDD"
kill -0 "$SPID" 2>/dev/null || { tail -n 20 "$WORK/seedd.log" >&2; die "seedd died during the flood"; }
curl -s -m 3 "http://127.0.0.1:$PORT_METRICS/metrics" >"$WORK/seedd.metrics" || true
stop_server
report seedd
echo "  seedd's /metrics: $(grep -E '^seedd_dns_rrl_responses_total' "$WORK/seedd.metrics" |
	sed 's/seedd_dns_rrl_responses_total{result="\([a-z]*\)"} /\1=/' | tr '\n' ' ')"
echo "  seedd's log: $(grep -c 'rrl:' "$WORK/seedd.log" || true) rrl: lines of $(grep -c . "$WORK/seedd.log" || true); first: $(grep -m1 'rrl:' "$WORK/seedd.log" || echo none)"
echo

# --- NSD -------------------------------------------------------------------
"${ON_SERVER[@]}" nsd -d -c "$WORK/nsd/nsd.conf" >"$WORK/nsd.out" 2>&1 &
SPID=$!
wait_up nsd "$PORT_NSD" "$WORK/nsd.out" "$WORK/nsd/nsd.log"
flood nsd "$PORT_NSD"
kill -0 "$SPID" 2>/dev/null || { tail -n 20 "$WORK/nsd.out" "$WORK/nsd/nsd.log" >&2; die "nsd died during the flood"; }
stop_server
report nsd
echo "  nsd's log: $(grep -c 'ratelimit block' "$WORK/nsd/nsd.log" || true) 'ratelimit block' lines," \
	"$(grep -c 'ratelimit unblock' "$WORK/nsd/nsd.log" || true) 'unblock'; first: $(grep -m1 'ratelimit block' "$WORK/nsd/nsd.log" | sed 's/^\[[^]]*\] //' || echo none)"
