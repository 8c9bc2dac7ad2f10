#!/usr/bin/env bash
# SPEC 4, apex A/AAAA: up to --answers distinct node addresses, a random
# subset per query, shuffled, preferring distinct /16 (IPv4) and /32 (IPv6);
# no good node -> NOERROR, no answer, SOA in authority; non-global node rows
# published only with --allow-private; ANY -> the apex A records only.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnscommon.bash"



# 1. 60 v4 + 60 v6 nodes, --answers 5: random subsets of 5.
D1=$(new_dir); P1=$(free_port)
write_soa "$D1" 300
{
	for i in $(seq 1 60); do echo "$ZONE,31.$i.$((i * 3)).$((i + 1))"; done
	for i in $(seq 1 60); do printf '%s,2a03:%x::%x\n' "$ZONE" "$i" "$((i + 7))"; done
	echo "ns.$ZONE,1.2.3.4"
} >>"$D1/zone.csv"
start "$D1" P1 --answers 5
pyrun "$P1" <<'EOF'
import sys
from dnsraw import ask, report, rdatas
port = int(sys.argv[1])
v4 = {"31.%d.%d.%d" % (i, i * 3, i + 1) for i in range(1, 61)}
v6 = {"2a03:%x::%x" % (i, i + 7) for i in range(1, 61)}
for host, tcp, g in (("127.0.0.1", False, "udp4"), ("::1", False, "udp6"),
                     ("127.0.0.1", True, "tcp4"), ("::1", True, "tcp6")):
    for qt, nodes in (("A", v4), ("AAAA", v6)):
        answers, bad = [], []
        for i in range(20):
            r = ask(host, port, "seed.example.com", qt, tcp)
            if r is None:
                bad.append("no reply")
                continue
            a = rdatas(r, "AN", qt)
            ttls = {ttl for _, ttl, _, _, _ in r["AN"]}
            if r["rcodename"] != "NOERROR" or len(a) != 5 or len(set(a)) != 5 \
                    or not set(a) <= nodes or r["an"] != 5 or ttls != {60}:
                bad.append("rcode=%s an=%d %s ttls=%s" % (r["rcodename"], r["an"], a, ttls))
            answers.append(tuple(a))
        report("picks-%s-5-distinct-nodes-%s" % (qt.lower(), g), not bad,
               "want 5 distinct addresses from the node rows at TTL 60 in each of 20 answers: %s" % bad[:3])
        union = set(x for a in answers for x in a)
        report("picks-%s-random-union-%s" % (qt.lower(), g), len(union) > 10,
               "20 answers of 5 saw only %d distinct addresses of 60: %s" % (len(union), sorted(union)))
        subsets = {frozenset(a) for a in answers}
        report("picks-%s-subsets-differ-%s" % (qt.lower(), g), len(subsets) >= 10,
               "20 answers gave only %d distinct subsets" % len(subsets))
EOF

# ANY at the apex: the A records only (RFC 8482), never SOA, NS or AAAA.
for tp in $TRANSPORTS; do
	g=$(tag "$tp")
	r=$(rq "$tp" "$P1" $ZONE ANY)
	t "any-apex-a-only-$g" "ANY $ZONE: want NOERROR with 1..5 A and nothing else in the answer, got $(brief "$r")" \
		eval '[ "$(hdr "$r" rcode)" = NOERROR ] && [ "$(nsec "$r" AN A)" -ge 1 ] && [ "$(nsec "$r" AN A)" -le 5 ] && [ "$(nsec "$r" AN)" = "$(nsec "$r" AN A)" ]'
	t "any-apex-no-soa-ns-aaaa-$g" "ANY $ZONE: SOA/NS/AAAA present somewhere: $(brief "$r")" \
		eval '[ "$(sec "$r" AN | grep -cE " (SOA|NS|AAAA) ")" = 0 ] && [ "$(sec "$r" NS | grep -cE " (NS|AAAA) ")" = 0 ] && [ "$(sec "$r" AR | grep -c " AAAA ")" = 0 ]'
done
o=$(DIG @127.0.0.1 -p "$P1" +noall +answer $ZONE ANY | awk '{print $4}' | sort -u | tr '\n' ' ')
t "dig-any-apex" "dig ANY answer types: '$o'" eq "$o" "A "
o=$(KDIG @::1 -p "$P1" +tcp +noall +answer $ZONE ANY | awk '{print $4}' | sort -u | tr '\n' ' ')
t "kdig-any-apex-tcp6" "kdig ANY answer types: '$o'" eq "$o" "A "

# 2. Diversity: 10 nodes in 10 different /16 plus 20 in one /16 (and the
# same for IPv6 /32), --answers 10: every answer spans 10 prefixes.
D2=$(new_dir); P2=$(free_port)
write_soa "$D2" 300
{
	for i in $(seq 1 10); do echo "$ZONE,$((40 + i)).$((i * 7)).1.1"; done
	for i in $(seq 1 20); do echo "$ZONE,45.67.$i.$((i + 100))"; done
	for i in $(seq 1 10); do printf '%s,2a04:%x::1\n' "$ZONE" "$((i * 16))"; done
	for i in $(seq 1 20); do printf '%s,2a05:1234:%x::1\n' "$ZONE" "$i"; done
} >>"$D2/zone.csv"
start "$D2" P2 --answers 10
# 3. Three /16 (2 + 2 + 20 nodes), --answers 4: each answer holds all three.
D3=$(new_dir); P3=$(free_port)
write_soa "$D3" 300
{
	echo "$ZONE,51.10.0.1"; echo "$ZONE,51.10.0.2"
	echo "$ZONE,51.20.0.1"; echo "$ZONE,51.20.0.2"
	for i in $(seq 1 20); do echo "$ZONE,51.30.0.$i"; done
} >>"$D3/zone.csv"
start "$D3" P3 --answers 4
pyrun "$P2" "$P3" <<'EOF'
import ipaddress, sys
from dnsraw import ask, report, rdatas
p2, p3 = int(sys.argv[1]), int(sys.argv[2])
pfx4 = lambda a: ".".join(a.split(".")[:2])
pfx6 = lambda a: ipaddress.ip_address(a).packed[:4]
for host, tcp, g in (("127.0.0.1", False, "udp4"), ("::1", False, "udp6"),
                     ("127.0.0.1", True, "tcp4"), ("::1", True, "tcp6")):
    for qt, pfx, what in (("A", pfx4, "16"), ("AAAA", pfx6, "32")):
        bad = []
        for i in range(20):
            r = ask(host, p2, "seed.example.com", qt, tcp)
            a = rdatas(r, "AN", qt) if r else []
            if len(a) != 10 or len({pfx(x) for x in a}) != 10:
                bad.append("%d addresses in %d /%s: %s" % (len(a), len({pfx(x) for x in a}), what, a))
        report("picks-%s-distinct-slash%s-%s" % (qt.lower(), what, g), not bad,
               "want 10 addresses in 10 distinct /%s in each of 20 answers; %d bad, e.g. %s" % (what, len(bad), bad[:2]))
    bad = []
    for i in range(20):
        r = ask(host, p3, "seed.example.com", "A", tcp)
        a = rdatas(r, "AN", "A") if r else []
        if len(a) != 4 or {pfx4(x) for x in a} != {"51.10", "51.20", "51.30"}:
            bad.append(a)
    report("picks-a-all-three-slash16-%s" % g, not bad,
           "2+2+20 nodes in three /16, --answers 4: want all three /16 in every answer; bad: %s" % bad[:3])
EOF

# 4. Shuffled: 3 nodes (some rows repeated, an IPv6 address also written
#    differently), all 3 exactly once in every answer, not always in the same order.
D4=$(new_dir); P4=$(free_port)
write_soa "$D4" 300
add_rows "$D4" "$ZONE,47.74.45.239" "$ZONE,47.75.45.236" "$ZONE,8.8.8.8" \
	"$ZONE,2001:4860::7" "$ZONE,2a00:1450::8" "$ZONE,2a01:4f8::9" \
	"$ZONE,8.8.8.8" "$ZONE,47.74.45.239" "$ZONE,2001:4860:0:0::7" "$ZONE,2A00:1450::8"
start "$D4" P4
pyrun "$P4" <<'EOF'
import sys
from dnsraw import ask, report, rdatas
port = int(sys.argv[1])
want = {"A": {"47.74.45.239", "47.75.45.236", "8.8.8.8"},
        "AAAA": {"2001:4860::7", "2a00:1450::8", "2a01:4f8::9"}}
for host, tcp, g in (("127.0.0.1", False, "udp4"), ("::1", True, "tcp6")):
    for qt in ("A", "AAAA"):
        orders, bad = set(), []
        for i in range(30):
            r = ask(host, port, "seed.example.com", qt, tcp)
            a = rdatas(r, "AN", qt) if r else []
            if set(a) != want[qt] or len(a) != 3:
                bad.append(a)
            orders.add(tuple(a))
        report("picks-%s-all-3-%s" % (qt.lower(), g), not bad, "want the 3 nodes each time; bad: %s" % bad[:3])
        report("picks-%s-shuffled-%s" % (qt.lower(), g), len(orders) >= 2,
               "30 answers all in the same order: %s" % sorted(orders))
EOF

# 5. No good node: NOERROR, no answer, SOA in authority (TTL min(3600, 300)).
# 6. Only non-global node rows: not published without --allow-private.
# 7. The same rows with --allow-private: published.
PRIV4="10.1.2.3 127.0.0.2 192.0.2.1 192.168.1.1 172.16.5.5 100.64.0.1 169.254.1.1 198.18.0.1 198.51.100.7 203.0.113.9"
PRIV6="2001:db8::1 fd00::1 fe80::1 ::1"
D5=$(new_dir); P5=$(free_port)
write_soa "$D5" 300; add_rows "$D5" "ns.$ZONE,1.2.3.4" "host.$ZONE,93.184.216.34"
start "$D5" P5
D6=$(new_dir); P6=$(free_port)
write_soa "$D6" 300; add_rows "$D6" "ns.$ZONE,1.2.3.4"
for a in $PRIV4 $PRIV6; do add_rows "$D6" "$ZONE,$a"; done
cp "$D6/zone.csv" "$TMPBASE/private.csv"
start "$D6" P6
D7=$(new_dir); P7=$(free_port)
cp "$TMPBASE/private.csv" "$D7/zone.csv"
start "$D7" P7 --allow-private --answers 25
SOA300="ns.$ZONE. hostmaster.$ZONE. 2026112201 28800 7200 604800 300"
for tp in $TRANSPORTS; do
	g=$(tag "$tp")
	for qt in A AAAA; do
		for pp in "$P5:no-nodes" "$P6:private-only"; do
			r=$(rq "$tp" "${pp%%:*}" $ZONE $qt)
			t "${pp#*:}-$qt-nodata-$g" "$ZONE $qt: want NOERROR aa=1 an=0 and SOA TTL 300 in authority, got $(brief "$r")" \
				eq "$(hdr "$r" rcode) $(hdr "$r" aa) $(hdr "$r" an) $(ttls "$r" NS SOA) $(rdatas "$r" NS SOA)" \
				"NOERROR 1 0 300 $SOA300"
		done
	done
	r=$(rq "$tp" "$P7" $ZONE A)
	t "allow-private-a-$g" "--allow-private: want all 10 non-global v4 rows, got $(brief "$r")" \
		eq "$(rdatas "$r" AN A | sort | tr '\n' ' ')" "$(echo $PRIV4 | tr ' ' '\n' | sort | tr '\n' ' ')"
	r=$(rq "$tp" "$P7" $ZONE AAAA)
	t "allow-private-aaaa-$g" "--allow-private: want all 4 non-global v6 rows, got $(brief "$r")" \
		eq "$(rdatas "$r" AN AAAA | sort | tr '\n' ' ')" "$(echo $PRIV6 | tr ' ' '\n' | sort | tr '\n' ' ')"
done
o=$(DIG @127.0.0.1 -p "$P5" $ZONE A)
t "dig-no-nodes-nodata" "dig: $(echo "$o" | grep -E 'status|AUTHORITY' | tr '\n' '|')" \
	eval '[ "$(digstatus "$o")" = NOERROR ] && has "$o" "ANSWER: 0, AUTHORITY: 1," && has "$o" "^$ZONE\.[[:space:]]+300[[:space:]]+IN[[:space:]]+SOA"'
stop_all
