#!/usr/bin/env bash
# tests/interop/tsig.sh: dns/tsig.c against dig, kdig, knotd and nsd.
# Not part of make test (it needs those tools and a few loopback ports):
#
#   tests/interop/tsig.sh [WORKDIR]
#
# Builds build/interop/tsig_interop (the core plus a reply builder that
# reads the clock and does I/O), then on 127.66.0.1-4, ports 25353-25355:
#  - tsig_responder.py answers on 127.66.0.1:25353 with replies signed by
#    our code; dig and kdig ask it SOA over UDP and AXFR over TCP (three
#    messages, every one signed), and must accept; with one reply spoiled
#    after signing (TSIG_CORRUPT), with a wrong secret or key name, and
#    with our clock 1000 s off (signed BADTIME), they must say so;
#  - knotd (127.66.0.2:25354) and nsd (127.66.0.4:25355) transfer the zone
#    from it as TSIG secondaries, and fail when the third message is spoilt;
#  - tsig_interop query sends them a signed SOA query and NOTIFY and checks
#    their signed answers with tsig_verify_response;
#  - tsig_check.py (Python's hmac, no code of ours) checks the MACs of the
#    captured requests and of our reply chains.
# One PASS/FAIL/NOTE line per check; exits 1 when any FAIL. Every request
# and reply stays in WORKDIR (default: a fresh directory under /tmp).
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)
work=${1:-$(mktemp -d /tmp/tsig-interop.XXXXXX)}
mkdir -p "$work"
secret=vKCr+YsqAb9nBjzaasLd0lwG9SFi7wVOYNJIZau+yY8= # keymgr -t xfr-key hmac-sha256
K=hmac-sha256:xfr-key:$secret
tool=$root/build/interop/tsig_interop
fails=0
pids=()

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { # NAME FILE PATTERN [absent-PATTERN]
	if grep -qE -- "$3" "$2" && { [ $# -lt 4 ] || ! grep -qE -- "$4" "$2"; }; then pass "$1"; else
		fail "$1 (see $2)"; fi
}
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

mkdir -p build/interop
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wconversion -Werror -isystem third_party/root/usr/include \
	-Isrc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -o "$tool" tests/interop/tsig_interop.c \
	src/dns/tsig.c src/dns/tsig_key.c src/dns/wire.c src/dns/dname.c third_party/root/usr/lib/x86_64-linux-gnu/libbearssl.a || exit 2

cat >"$work/xfr-key.conf" <<EOF
key "xfr-key" {
	algorithm hmac-sha256;
	secret "$secret";
};
EOF

responder=
start_responder() { # OUTDIR [VAR=VALUE...]
	local out=$1
	shift
	[ -n "$responder" ] && { kill "$responder" 2>/dev/null; wait "$responder" 2>/dev/null; }
	env "$@" /usr/bin/python3 tests/interop/tsig_responder.py 127.66.0.1 25353 "$work/xfr-key.conf" \
		"$work/$out" "$tool" >"$work/$out.log" 2>&1 &
	responder=$!
	pids+=("$responder")
	for _ in $(seq 50); do
		ss -ltn 2>/dev/null | grep -q '127.66.0.1:25353 ' && return 0
		sleep 0.1
	done
	echo "responder did not start"; exit 2
}
wait_for() { # FILE PATTERN SECONDS
	for _ in $(seq $(($3 * 10))); do grep -qE -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# ---- dig and kdig against our replies ----
start_responder good
dig -y $K @127.66.0.1 -p 25353 seed.test SOA +tries=1 +timeout=3 >"$work/dig-soa.txt" 2>&1
check "dig SOA: signed reply accepted" "$work/dig-soa.txt" "TSIG.*NOERROR 0" "Couldn't verify|WARNING -- Some TSIG"
kdig -y $K @127.66.0.1 -p 25353 seed.test SOA +retry=0 +timeout=3 >"$work/kdig-soa.txt" 2>&1
check "kdig SOA: signed reply accepted" "$work/kdig-soa.txt" "TSIG.*NOERROR 0" ";; (WARNING|ERROR)"
dig -y $K @127.66.0.1 -p 25353 seed.test AXFR +tries=1 +timeout=3 >"$work/dig-axfr.txt" 2>&1
check "dig AXFR: 3 signed messages accepted" "$work/dig-axfr.txt" "XFR size: 32 records \(messages 3" \
	"Couldn't verify|WARNING -- Some TSIG"
kdig -y $K @127.66.0.1 -p 25353 seed.test AXFR +retry=0 +timeout=3 >"$work/kdig-axfr.txt" 2>&1
check "kdig AXFR: 3 signed messages accepted" "$work/kdig-axfr.txt" "3 messages, 32 records" ";; (WARNING|ERROR)"
for n in 1 2 3 4; do
	f=$(ls "$work"/good/$n-udp.bin "$work"/good/$n-tcp.bin 2>/dev/null)
	if /usr/bin/python3 tests/interop/tsig_check.py $secret "$f" "$work/good/$n-reply.bin" >"$work/check-$n.txt"; then
		pass "python hmac: request $n and our replies ($(grep -c 'MAC ok' "$work/check-$n.txt") MACs)"
	else
		fail "python hmac: request $n (see $work/check-$n.txt)"
	fi
done

# Controls: the tools really check (a spoilt Nth message after signing).
for n in 1 2 3; do
	start_responder corrupt$n TSIG_CORRUPT=$n
	dig -y $K @127.66.0.1 -p 25353 seed.test AXFR +tries=1 +timeout=3 >"$work/dig-axfr-corrupt$n.txt" 2>&1
	check "dig AXFR, message $n spoilt: rejected" "$work/dig-axfr-corrupt$n.txt" "tsig verify failure"
	kdig -y $K @127.66.0.1 -p 25353 seed.test AXFR +retry=0 +timeout=3 >"$work/kdig-axfr-corrupt$n.txt" 2>&1
	if grep -q "failed to verify TSIG" "$work/kdig-axfr-corrupt$n.txt"; then
		pass "kdig AXFR, message $n spoilt: rejected"
	elif [ $n -gt 1 ]; then
		echo "NOTE kdig AXFR, message $n spoilt: not noticed (kdig 3.2 seems to check only the first message's TSIG; dig, knotd and nsd check every one)"
	else
		fail "kdig AXFR, message $n spoilt: accepted (see $work/kdig-axfr-corrupt$n.txt)"
	fi
done
start_responder corrupt-soa TSIG_CORRUPT=1
dig -y $K @127.66.0.1 -p 25353 seed.test SOA +tries=1 +timeout=3 >"$work/dig-soa-corrupt.txt" 2>&1
check "dig SOA spoilt: rejected" "$work/dig-soa-corrupt.txt" "tsig verify failure"
kdig -y $K @127.66.0.1 -p 25353 seed.test SOA +retry=0 +timeout=3 >"$work/kdig-soa-corrupt.txt" 2>&1
check "kdig SOA spoilt: rejected" "$work/kdig-soa-corrupt.txt" "failed to verify TSIG"

# Error replies.
start_responder errors
dig -y hmac-sha256:xfr-key:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= @127.66.0.1 -p 25353 seed.test SOA \
	+tries=1 +timeout=3 >"$work/dig-badsig.txt" 2>&1
check "dig, wrong secret: NOTAUTH, unsigned BADSIG" "$work/dig-badsig.txt" "TSIG.* 0 [0-9]+ BADSIG"
kdig -y hmac-sha256:other-key:$secret @127.66.0.1 -p 25353 seed.test SOA +retry=0 +timeout=3 >"$work/kdig-badkey.txt" 2>&1
check "kdig, other key name: BADKEY echoing it" "$work/kdig-badkey.txt" "other-key.*TSIG.* 0 [0-9]+ BADKEY"
start_responder skew TSIG_SKEW=1000
dig -y $K @127.66.0.1 -p 25353 seed.test SOA +tries=1 +timeout=3 >"$work/dig-badtime.txt" 2>&1
check "dig, our clock +1000 s: signed BADTIME verified" "$work/dig-badtime.txt" "clocks are unsynchronized" \
	"tsig verify failure"
kdig -y $K @127.66.0.1 -p 25353 seed.test SOA +retry=0 +timeout=3 >"$work/kdig-badtime.txt" 2>&1
check "kdig, our clock +1000 s: signed BADTIME verified" "$work/kdig-badtime.txt" "TSIG out of time window" \
	"failed to verify"
start_responder skew-corrupt TSIG_SKEW=1000 TSIG_CORRUPT=1
dig -y $K @127.66.0.1 -p 25353 seed.test SOA +tries=1 +timeout=3 >"$work/dig-badtime-corrupt.txt" 2>&1
check "dig, BADTIME spoilt: MAC rejected" "$work/dig-badtime-corrupt.txt" "tsig verify failure"
kdig -y $K @127.66.0.1 -p 25353 seed.test SOA +retry=0 +timeout=3 >"$work/kdig-badtime-corrupt.txt" 2>&1
check "kdig, BADTIME spoilt: MAC rejected" "$work/kdig-badtime-corrupt.txt" "failed to verify TSIG"

# ---- knotd and nsd as secondaries, and as servers for our client ----
start_responder secondaries
mkdir -p "$work/knot/zones" "$work/knot/db" "$work/nsd"
cat >"$work/knot/knot.conf" <<EOF
server:
    rundir: "$work/knot"
    listen: 127.66.0.2@25354
    pidfile: "$work/knot/knot.pid"
log:
  - target: stderr
    any: info
database:
    storage: "$work/knot/db"
key:
  - id: xfr-key
    algorithm: hmac-sha256
    secret: $secret
remote:
  - id: primary
    address: 127.66.0.1@25353
    key: xfr-key
acl:
  - id: from_primary
    address: 127.66.0.0/16
    key: xfr-key
    action: notify
template:
  - id: default
    storage: "$work/knot/zones"
zone:
  - domain: seed.test
    master: primary
    acl: from_primary
    zonefile-sync: -1
    journal-content: none
EOF
cat >"$work/nsd/nsd.conf" <<EOF
server:
    ip-address: 127.66.0.4@25355
    zonesdir: "$work/nsd"
    pidfile: "$work/nsd/nsd.pid"
    xfrdfile: "$work/nsd/xfrd.state"
    zonelistfile: "$work/nsd/zone.list"
    xfrdir: "$work/nsd"
    database: ""
    username: ""
    chroot: ""
    logfile: "$work/nsd/nsd.log"
    verbosity: 2
remote-control:
    control-enable: no
key:
    name: xfr-key
    algorithm: hmac-sha256
    secret: "$secret"
zone:
    name: seed.test
    zonefile: "seed.test.zone"
    request-xfr: AXFR 127.66.0.1@25353 xfr-key
    allow-notify: 127.66.0.0/16 xfr-key
EOF
knotd -c "$work/knot/knot.conf" >"$work/knot/knotd.log" 2>&1 &
pids+=($!)
nsd -d -c "$work/nsd/nsd.conf" >"$work/nsd/nsd.stdout" 2>&1 &
nsd_pid=$!
pids+=($nsd_pid)
wait_for "$work/knot/knotd.log" "AXFR, incoming.*finished|AXFR.*failed" 10
check "knotd: AXFR of 3 signed messages" "$work/knot/knotd.log" "AXFR, incoming.*finished.*3 messages"
wait_for "$work/nsd/nsd.log" "TSIG verified|bad tsig" 10
check "nsd: AXFR, TSIG verified" "$work/nsd/nsd.log" "TSIG verified with key xfr-key"

for srv in "knotd 127.66.0.2 25354" "nsd 127.66.0.4 25355"; do
	set -- $srv
	for type in soa notify; do
		if TSIG_SAVE="$work/$1-$type" "$tool" query "$work/xfr-key.conf" $2 $3 seed.test $type >"$work/$1-$type.txt" 2>&1; then
			pass "our signed $type to $1, its signed reply verified: $(head -n 1 "$work/$1-$type.txt")"
		else
			fail "our signed $type to $1 (see $work/$1-$type.txt)"
		fi
		r=$work/$1-$type-resp.bin
		[ -f "$r" ] && /usr/bin/python3 -c "import sys; d=open(sys.argv[1],'rb').read(); sys.stdout.buffer.write(len(d).to_bytes(2,'big')+d)" "$r" >"$r.stream"
		if [ -f "$r" ] && /usr/bin/python3 tests/interop/tsig_check.py $secret "$work/$1-$type-req.bin" "$r.stream" >"$work/$1-$type-check.txt"; then
			pass "python hmac: our $type request and $1's reply"
		else
			fail "python hmac: our $type request and $1's reply (see $work/$1-$type-check.txt)"
		fi
	done
done

# Controls: the third message spoilt, each secondary must refuse the transfer.
start_responder secondaries-corrupt TSIG_CORRUPT=3
knotc -s "$work/knot/knot.sock" zone-retransfer seed.test >/dev/null 2>&1
wait_for "$work/knot/knotd.log" "failed to verify TSIG" 10
check "knotd: spoilt third message refused" "$work/knot/knotd.log" "refresh.*failed \(failed to verify TSIG\)"
kill $nsd_pid; wait $nsd_pid 2>/dev/null
rm -f "$work/nsd/xfrd.state" "$work/nsd/zone.list" "$work/nsd/seed.test.zone"
nsd -d -c "$work/nsd/nsd.conf" >>"$work/nsd/nsd.stdout" 2>&1 &
pids+=($!)
wait_for "$work/nsd/nsd.log" "bad tsig" 10
check "nsd: spoilt third message refused" "$work/nsd/nsd.log" "bad tsig signature"

echo "work directory: $work"
[ $fails -eq 0 ]
