#!/usr/bin/env bash
# SPEC 4, TCP (RFC 7766): 2-byte length prefix, several queries per
# connection (pipelined), queries split across writes, idle timeout 10 s, a
# capped connection pool, and no slow, silent or garbage-sending client can
# stop the server from answering (UDP or new TCP connections).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"



D=$(new_dir); P=$(free_port)
write_soa "$D" 300
add_rows "$D" "$ZONE,47.74.45.239" "$ZONE,8.8.8.8" "$ZONE,2001:4860::7" \
	"host.$ZONE,93.184.216.34" "www.$ZONE,$ZONE"
start "$D" P

# The idle-timeout measurement runs in the background while the rest goes on
# (a separate server below takes the connection-hogging tests, so nothing
# evicts these connections early).
IDLE_OUT=$TMPBASE/idle.out
PYTHONPATH="$HERE" "$PY" - "$P" >"$IDLE_OUT" 2>&1 <<'EOF' &
import sys, threading
from dnsraw import tcp_connect, tcp_frame, tcp_read_msg, build_query, wait_closed, parse
port = int(sys.argv[1])
res = {}
def idle(key, host, query_first):
    try:
        s = tcp_connect(host, port, 2)
        if query_first:
            s.sendall(tcp_frame(build_query("host.seed.example.com", qid=5)))
            m = tcp_read_msg(s)
            if m is None or parse(m)["id"] != 5:
                res[key] = "noanswer"
                return
        t = wait_closed(s, 16)
        res[key] = "open" if t is None else "%.1f" % t
    except OSError as e:
        res[key] = "error:%s" % e
ts = [threading.Thread(target=idle, args=a) for a in
      (("silent4", "127.0.0.1", False), ("silent6", "::1", False),
       ("afterquery4", "127.0.0.1", True), ("afterquery6", "::1", True))]
for t in ts: t.start()
for t in ts: t.join()
for k in sorted(res): print(k, res[k])
EOF
IDLE_PID=$!

# Pipelining: 3 queries in one write, 3 replies on the same connection,
# matched by ID; then the connection still serves a 4th query a second later.
pyrun "$P" <<'EOF'
import socket, sys, time
from dnsraw import tcp_connect, tcp_frame, tcp_read_msg, build_query, parse, report
port = int(sys.argv[1])
for host, g in (("127.0.0.1", "tcp4"), ("::1", "tcp6")):
    want = {101: ("seed.example.com.", "NOERROR"), 102: ("host.seed.example.com.", "NOERROR"),
            103: ("nope.seed.example.com.", "NXDOMAIN")}
    try:
        s = tcp_connect(host, port, 2)
        s.sendall(b"".join(tcp_frame(build_query(n.rstrip("."), "A", qid=i)) for i, (n, _) in want.items()))
        got = {}
        for _ in range(3):
            m = tcp_read_msg(s)
            if m is None:
                break
            r = parse(m)
            got[r["id"]] = (r["question"][0][0], r["rcodename"])
        report("pipelined-3-in-one-write-" + g, got == want, "want %s, got %s" % (want, got))
        time.sleep(1)
        s.sendall(tcp_frame(build_query("host.seed.example.com", qid=104)))
        m = tcp_read_msg(s)
        r = parse(m) if m else None
        report("same-connection-4th-query-" + g, r is not None and r["id"] == 104 and r["an"] == 1,
               "4th query on the connection after 1 s: %s" % str(r and (r["id"], r["an"])))
        s.close()
    except OSError as e:
        report("pipelined-3-in-one-write-" + g, False, "socket error %s" % e)

    # One query dribbled in pieces: length byte by byte, then the message in 3 parts.
    try:
        q = tcp_frame(build_query("host.seed.example.com", qid=201))
        s = tcp_connect(host, port, 2)
        for part in (q[:1], q[1:2], q[2:9], q[9:20], q[20:]):
            s.sendall(part)
            time.sleep(0.15)
        m = tcp_read_msg(s)
        r = parse(m) if m else None
        report("split-query-" + g, r is not None and r["id"] == 201 and r["an"] == 1 and r["rcodename"] == "NOERROR",
               "query sent in 5 pieces: %s" % str(r and (r["id"], r["rcodename"], r["an"])))
        # Two queries whose boundary falls inside a write.
        q1 = tcp_frame(build_query("seed.example.com", qid=301))
        q2 = tcp_frame(build_query("host.seed.example.com", qid=302))
        s.sendall(q1 + q2[:7])
        time.sleep(0.2)
        s.sendall(q2[7:])
        ids = []
        for _ in range(2):
            m = tcp_read_msg(s)
            ids.append(parse(m)["id"] if m else None)
        report("split-across-two-queries-" + g, sorted(ids, key=str) == [301, 302], "replies %s" % ids)
        s.close()
    except OSError as e:
        report("split-query-" + g, False, "socket error %s" % e)

    # 300 queries in one write: 300 replies, every ID once.
    s = tcp_connect(host, port, 2)
    s.sendall(b"".join(tcp_frame(build_query("host.seed.example.com", qid=1000 + i)) for i in range(300)))
    ids = []
    while len(ids) < 300:
        m = tcp_read_msg(s)
        if m is None:
            break
        ids.append(parse(m)["id"])
    s.close()
    report("pipelined-300-" + g, sorted(ids) == list(range(1000, 1300)),
           "300 pipelined queries gave %d replies" % len(ids))

    # A client that half-closes after its query still gets the reply.
    s = tcp_connect(host, port, 2)
    s.sendall(tcp_frame(build_query("host.seed.example.com", qid=501)))
    s.shutdown(socket.SHUT_WR)
    m = tcp_read_msg(s)
    s.close()
    report("half-close-after-query-" + g, m is not None and parse(m)["id"] == 501,
           "no reply after shutdown(SHUT_WR): %s" % (m.hex() if m else None))

    # The reply carries the right 2-byte length prefix and fits 64 KiB.
    s = tcp_connect(host, port, 2)
    s.sendall(tcp_frame(build_query("www.seed.example.com", qid=401, edns=4096)))
    m = tcp_read_msg(s)
    try:
        r = parse(m) if m else None
    except Exception as e:
        r = None
    report("length-prefix-exact-" + g, r is not None and r["id"] == 401 and r["an"] == 3,
           "a reply whose length prefix matches its parse: %s" % (m.hex() if m else None))
    s.close()
EOF

# kdig: several queries on one kept-open connection.
o=$(KDIG @127.0.0.1 -p "$P" +tcp +keepopen $ZONE A host.$ZONE A nope.$ZONE A)
t "kdig-keepopen-3-queries-tcp4" "kdig +keepopen output: $(echo "$o" | grep -E 'status|From' | tr '\n' '|')" \
	eq "$(echo "$o" | grep -o 'status: [A-Z]*' | tr '\n' ' ')$(echo "$o" | grep -c '(TCP)')" \
	"status: NOERROR status: NOERROR status: NXDOMAIN 3"
o=$(KDIG @::1 -p "$P" +tcp +keepopen $ZONE AAAA www.$ZONE A $ZONE SOA)
t "kdig-keepopen-3-queries-tcp6" "kdig +keepopen output: $(echo "$o" | grep -E 'status|From' | tr '\n' '|')" \
	eq "$(echo "$o" | grep -o 'status: [A-Z]*' | tr '\n' ' ')$(echo "$o" | grep -c '(TCP)')" \
	"status: NOERROR status: NOERROR status: NOERROR 3"

# Hostile clients, against a second server (so its connection pool is
# separate from the idle measurement above).
D2=$(new_dir); P2=$(free_port)
write_soa "$D2" 300
{
	echo "$ZONE,47.74.45.239"; echo "host.$ZONE,93.184.216.34"
	for i in $(seq 1 100); do echo "big.$ZONE,93.184.3.$i"; done
} >>"$D2/zone.csv"
start "$D2" P2
pyrun "$P2" <<'EOF'
import socket, struct, sys, time
from dnsraw import (tcp_connect, tcp_frame, tcp_read_msg, build_query, parse, report,
                    udp_exchange, tcp_exchange, family_of)
port = int(sys.argv[1])

def udp_ok(host, qid):
    m = udp_exchange(host, port, build_query("host.seed.example.com", qid=qid), 2.0)
    return m is not None and parse(m)["id"] == qid and parse(m)["an"] == 1

def tcp_ok(host, qid):
    try:
        m = tcp_exchange(host, port, build_query("host.seed.example.com", qid=qid), 2.0)
    except OSError:
        return False
    return m is not None and parse(m)["id"] == qid and parse(m)["an"] == 1

hogs = []
# A client that sends many queries for a large answer and never reads: the
# server's send buffer fills up.
for host in ("127.0.0.1", "::1"):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.setblocking(False)
    q = tcp_frame(build_query("big.seed.example.com", qid=7, edns=4096))
    sent = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2 and sent < 4000:
        try:
            s.send(q)
            sent += 1
        except BlockingIOError:
            time.sleep(0.01)
    hogs.append(s)
time.sleep(0.3)
report("nonreading-client-udp4-still-answered", udp_ok("127.0.0.1", 11), "UDP query unanswered while a TCP client does not read")
report("nonreading-client-udp6-still-answered", udp_ok("::1", 12), "UDP query unanswered while a TCP client does not read")
report("nonreading-client-tcp4-new-connection-answered", tcp_ok("127.0.0.1", 13), "new TCP connection unanswered")

# Garbage length prefixes (65535, then junk) and a client stuck halfway
# through a length prefix.
for host in ("127.0.0.1", "::1"):
    s = tcp_connect(host, port, 2)
    s.sendall(b"\xff\xff" + b"\x00garbage" * 100)
    hogs.append(s)
    s = tcp_connect(host, port, 2)
    s.sendall(b"\x00")
    hogs.append(s)
    s = tcp_connect(host, port, 2)
    s.sendall(b"\x01\x00" + b"\x12\x34" + b"\x00" * 30)   # claims 256, sends 32
    hogs.append(s)
time.sleep(0.2)
report("garbage-length-udp4-still-answered", udp_ok("127.0.0.1", 21), "UDP unanswered after garbage TCP clients")
report("garbage-length-udp6-still-answered", udp_ok("::1", 22), "UDP unanswered after garbage TCP clients")
report("garbage-length-tcp6-new-connection-answered", tcp_ok("::1", 23), "new TCP connection unanswered")

# More silent connections than the pool holds: new clients are still served.
idle = []
err = None
try:
    for i in range(300):
        idle.append(tcp_connect("127.0.0.1" if i % 2 else "::1", port, 2))
except OSError as e:
    err = e
report("pool-300-silent-connections-opened", err is None, "could not open 300 connections: %s" % err)
time.sleep(0.3)
report("pool-full-tcp4-new-connection-answered", tcp_ok("127.0.0.1", 31), "new TCP connection unanswered with 300 silent ones open")
report("pool-full-tcp6-new-connection-answered", tcp_ok("::1", 32), "new TCP connection unanswered with 300 silent ones open")
report("pool-full-udp4-answered", udp_ok("127.0.0.1", 33), "UDP unanswered with 300 silent TCP connections open")
for s in idle + hogs:
    s.close()
time.sleep(0.2)
report("after-hogs-tcp4-answered", tcp_ok("127.0.0.1", 41), "TCP unanswered after the hostile clients left")
EOF
t "seedd-alive-after-hostile-clients" "seedd (pid $SEEDD_PID) exited: $(tail -n 3 "$D2/log" | tr '\n' '|')" kill -0 "$SEEDD_PID"

# Idle timeout results: closed after ~10 s (not before 5 s, by 16 s).
wait "$IDLE_PID"
echo "# idle: $(tr "\n" " " <"$IDLE_OUT")"
idle_ok() {
	local v
	v=$(awk -v k="$1" '$1==k {print $2}' "$IDLE_OUT")
	case $v in ''|open|noanswer|error*) return 1 ;; esac
	awk -v v="$v" 'BEGIN { exit !(v >= 5 && v <= 16) }'
}
for k in silent4 silent6 afterquery4 afterquery6; do
	t "idle-close-$k" "idle connection ($k): want closed by the server 5..16 s after the last activity, got '$(awk -v k="$k" '$1==k {print $2}' "$IDLE_OUT")' ($(tr '\n' ' ' <"$IDLE_OUT"))" idle_ok "$k"
done
stop_all
