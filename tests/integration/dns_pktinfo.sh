#!/usr/bin/env bash
# SPEC 4: replies leave from the address the query arrived on when bound to
# a wildcard address (IP_PKTINFO / IPV6_RECVPKTINFO). seedd listens on
# 0.0.0.0:PORT and [::]:PORT together (the default pair); queries go to
# several 127/8 addresses and ::1 from sockets connected to that address, so
# a reply from any other source is never received.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"

D=$(new_dir); P=$(free_port)
write_soa "$D" 300
add_rows "$D" "$ZONE,47.74.45.239" "host.$ZONE,93.184.216.34"
ok=0
for try in 1 2 3 4 5; do
	if start_seedd "$D" --zone "$ZONE" --concurrency 0 -l "0.0.0.0:$P" -l "[::]:$P"; then ok=1; break; fi
	# A port held by some client's ephemeral socket: try another one.
	grep -q "Address in use" "$D/log" || break
	P=$(free_port)
done
if [ "$ok" = 1 ]; then
	pass "wildcard-v4-and-v6-bind-together"
else
	fail "wildcard-v4-and-v6-bind-together" "seedd -l 0.0.0.0:$P -l [::]:$P did not start: $(tail -n 3 "$D/log" | tr '\n' '|')"
	exit 1
fi

pyrun "$P" <<'EOF'
import socket, sys
from dnsraw import build_query, parse, report, family_of, tcp_exchange
port = int(sys.argv[1])
for i, dst in enumerate(("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.1.2.3", "::1")):
    fam = family_of(dst)
    # Connected socket: the kernel delivers only datagrams from dst:port.
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((dst, port))
    s.send(build_query("host.seed.example.com", qid=1000 + i))
    try:
        r = parse(s.recv(4096))
        ok = r["id"] == 1000 + i and r["an"] == 1
        why = "reply %d/%d" % (r["id"], r["an"])
    except (socket.timeout, ConnectionRefusedError) as e:
        ok, why = False, "no reply from %s:%d within 2 s (%s)" % (dst, port, e.__class__.__name__)
    s.close()
    report("udp-reply-from-arrival-address-connected-%s" % dst, ok, why)
    # Unconnected socket: recvfrom says where the reply came from.
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(build_query("host.seed.example.com", qid=2000 + i), (dst, port))
    try:
        m, src = s.recvfrom(4096)
        ok = src[0] == dst and src[1] == port and parse(m)["id"] == 2000 + i
        why = "reply came from %s port %d" % (src[0], src[1])
    except socket.timeout:
        ok, why = False, "no reply within 2 s"
    s.close()
    report("udp-reply-source-is-%s" % dst, ok, why)
    m = tcp_exchange(dst, port, build_query("host.seed.example.com", qid=3000 + i), 2)
    report("tcp-on-wildcard-%s" % dst, m is not None and parse(m)["id"] == 3000 + i,
           "TCP via %s: %s" % (dst, m.hex() if m else "no reply"))
EOF

for a in 127.0.0.2 127.0.0.3; do
	o=$(DIG @$a -p "$P" +short host.$ZONE A)
	t "dig-wildcard-bind-$a" "dig @$a (reply must come from $a) printed '$o'" eq "$o" "93.184.216.34"
done
o=$(DIG @::1 -p "$P" +short host.$ZONE A)
t "dig-wildcard-bind-v6" "dig @::1 on [::]:$P printed '$o'" eq "$o" "93.184.216.34"
o=$(KDIG @127.0.0.4 -p "$P" +notcp +short $ZONE A)
t "kdig-wildcard-bind-127.0.0.4" "kdig @127.0.0.4 printed '$o'" eq "$o" "47.74.45.239"
stop_all
