#!/usr/bin/env bash
# SPEC 3/4: zone.csv read again on SIGHUP and when it changes on disk (mtime
# or size, polled): static rows replaced, the answers follow, and the SOA
# serial grows with every change. Waits are bounded polls, never fixed sleeps.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"

D=$(new_dir); P=$(free_port)
write_soa "$D" 300
add_rows "$D" "$ZONE,47.74.45.239" "ns.$ZONE,1.2.3.4" "host.$ZONE,93.184.216.34"
start "$D" P
PID=$SEEDD_PID

serial() { rdatas "$(rq 127.0.0.1/udp "$P" $ZONE SOA)" AN SOA | awk '{print $3}'; }
answer() { rdatas "$(rq "${3:-127.0.0.1/udp}" "$P" "$1" "$2")" AN "$2" | sort | tr '\n' ' ' | sed 's/ $//'; }
# poll_for SECONDS CMD...: run CMD every 0.1 s until it succeeds or time is up.
poll_for() {
	local end=$((SECONDS + $1)); shift
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
answer_is() { [ "$(answer "$1" "$2")" = "$3" ]; }
# The file on disk carries the served serial (seedd has written its own
# copy), so our next edit does not race with that write. Not a check.
file_settled() { [ "$(head -n1 "$D/zone.csv" | awk '{print $2}')" = "$(serial)" ]; }
gt() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -gt "$2" ]; }

s0=$(serial)
t "reload-initial-serial" "served serial '$s0', want 2026112201" eq "$s0" 2026112201
poll_for 3 file_settled

# 1. SIGHUP alone: a same-size edit with the mtime put back, which only a
#    re-read on the signal can notice.
"$PY" - "$D/zone.csv" <<'EOF'
import os, sys
p = sys.argv[1]
st = os.stat(p)
with open(p, "r+b") as f:
    data = f.read()
    new = data.replace(b"host.seed.example.com,93.184.216.34", b"host.seed.example.com,93.184.216.99")
    assert new != data and len(new) == len(data)
    f.seek(0); f.write(new); f.truncate()
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
EOF
kill -HUP "$PID"
t "sighup-same-size-edit-answered" "after SIGHUP host.$ZONE A is '$(answer host.$ZONE A)', want 93.184.216.99 within 3 s" \
	poll_for 3 answer_is host.$ZONE A 93.184.216.99
s1=$(serial)
t "sighup-serial-grew" "serial $s0 -> '$s1' after a changed zone" gt "$s1" "$s0"
t "sighup-answer-tcp6" "over TCP/::1 host.$ZONE A is '$(answer host.$ZONE A ::1/tcp)'" \
	eq "$(answer host.$ZONE A ::1/tcp)" 93.184.216.99
poll_for 3 file_settled

# 2. SIGHUP after adding a static row.
add_rows "$D" "new.$ZONE,5.6.7.8"
kill -HUP "$PID"
t "sighup-new-row-answered" "new.$ZONE A is '$(answer new.$ZONE A)', want 5.6.7.8 within 3 s" \
	poll_for 3 answer_is new.$ZONE A 5.6.7.8
s2=$(serial)
t "sighup-new-row-serial-grew" "serial $s1 -> '$s2'" gt "$s2" "$s1"
r=$(rq ::1/udp "$P" new.$ZONE A)
t "sighup-new-row-static-ttl" "new row: want TTL 3600 aa=1, got $(brief "$r")" \
	eq "$(ttls "$r" AN A) $(hdr "$r" aa)" "3600 1"
o=$(DIG @127.0.0.1 -p "$P" +short new.$ZONE A)
t "dig-sighup-new-row" "dig +short new.$ZONE printed '$o'" eq "$o" 5.6.7.8
poll_for 3 file_settled

# 3. No signal: an edit on disk is picked up by the poll (~1 s).
add_rows "$D" "polled.$ZONE,5.6.7.9"
t "poll-new-row-answered" "without a signal polled.$ZONE A is '$(answer polled.$ZONE A)', want 5.6.7.9 within 4 s" \
	poll_for 4 answer_is polled.$ZONE A 5.6.7.9
s3=$(serial)
t "poll-serial-grew" "serial $s2 -> '$s3'" gt "$s3" "$s2"
poll_for 3 file_settled

# 4. A removed row disappears (SIGHUP).
grep -v "^host\.$ZONE," "$D/zone.csv" >"$D/zone.new" && cat "$D/zone.new" >"$D/zone.csv" && rm -f "$D/zone.new"
kill -HUP "$PID"
nx() { [ "$(hdr "$(rq 127.0.0.1/udp "$P" host.$ZONE A)" rcode)" = NXDOMAIN ]; }
t "sighup-removed-row-nxdomain" "host.$ZONE A still '$(answer host.$ZONE A)' after its row was removed" poll_for 3 nx
s4=$(serial)
t "sighup-removed-row-serial-grew" "serial $s3 -> '$s4'" gt "$s4" "$s3"
poll_for 3 file_settled

# 5. The SOA line itself: an operator serial ahead of ours and a new REFRESH.
"$PY" - "$D/zone.csv" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
mname_rname, rest = lines[0].split(",", 1)
f = rest.split()
f[1], f[2] = "2030010101", "14400"
lines[0] = mname_rname + "," + " ".join(f)
open(p, "w").write("\n".join(lines))
EOF
kill -HUP "$PID"
soa_is() { [ "$(rdatas "$(rq 127.0.0.1/udp "$P" $ZONE SOA)" AN SOA | awk '{print $4}')" = 14400 ]; }
t "sighup-soa-line-reread" "SOA after editing REFRESH to 14400: $(rdatas "$(rq 127.0.0.1/udp "$P" $ZONE SOA)" AN SOA)" poll_for 3 soa_is
s5=$(serial)
t "sighup-operator-serial-ahead" "operator set serial 2030010101, served '$s5'" \
	eval '[ -n "$s5" ] && [ "$s5" -ge 2030010101 ]'
t "reload-seedd-alive" "seedd exited: $(tail -n 3 "$D/log" | tr '\n' '|')" kill -0 "$PID"
stop_all
