#!/bin/sh
# make demo, in two parts, on loopback only:
# 1. seedd serves the example zone at 127.0.0.1:5353 (crawler off: the
#    example rows are real or documentation addresses, not nodes to call),
#    asked with dig. Data directory build/demo.
# 2. seedd crawls a small simulated network (tests/sim: six nodes on
#    127.1.13.0/24, both dialects, a dead node and a black hole) from one
#    seed, publishes the good nodes and writes nodes.csv. Data directory
#    build/demo-crawl.
# 3. seedd runs the DHT sniffer on 127.1.14.1:6881 next to a fake DHT node
#    (tests/dht/krpc_client.py), which it finds through --dht-bootstrap;
#    two clients announce and look up infohashes, and infohashes.csv and the
#    dht rows of nodes.csv show what it heard. Data directory build/demo-dht.
set -eu
cd "$(dirname "$0")/.."
dir=build/demo
mkdir -p "$dir"
cp docs/example-zone.csv "$dir/zone.csv"
./seedd --zone seed.example.com --listen 127.0.0.1:5353 --data-dir "$dir" --concurrency 0 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do
	dig +short +tries=1 +time=1 @127.0.0.1 -p 5353 seed.example.com SOA >/dev/null 2>&1 && break
	sleep 0.2
done
echo '$ dig @127.0.0.1 -p 5353 seed.example.com A'
dig @127.0.0.1 -p 5353 seed.example.com A
echo '$ dig @127.0.0.1 -p 5353 www.seed.example.com AAAA +short'
dig @127.0.0.1 -p 5353 www.seed.example.com AAAA +short
kill $pid; wait $pid 2>/dev/null || true

echo
echo '== crawling a simulated network (tests/sim) =='
dir=build/demo-crawl
rm -rf "$dir"; mkdir -p "$dir"
/usr/bin/python3 tests/sim/topo.py restart --out "$dir/topo.json" --timeout 1
/usr/bin/python3 tests/sim/simnet.py "$dir/topo.json" --ready "$dir/ready" --max-seconds 60 2>"$dir/sim.log" &
sim=$!
trap 'kill $pid $sim 2>/dev/null || true; wait $pid $sim 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -s "$dir/ready" ] && break; sleep 0.1; done
seed=$(/usr/bin/python3 tests/sim/topo.py get "$dir/topo.json" seeds)
echo "\$ seedd --zone seed.test --listen 127.0.0.1:5353 --seed $seed --allow-private --timeout 1 --resolver 127.0.0.1:9 --log-level debug"
./seedd --zone seed.test --listen 127.0.0.1:5353 --data-dir "$dir" --seed "$seed" --allow-private \
	--timeout 1 --resolver 127.0.0.1:9 --log-level debug 2>"$dir/log" &
pid=$!
for _ in $(seq 1 50); do grep -q 'crawl pass done' "$dir/log" && break; sleep 0.1; done
grep ' crawl ' "$dir/log"
echo '$ dig @127.0.0.1 -p 5353 seed.test A +short'
dig @127.0.0.1 -p 5353 seed.test A +short
kill $pid; wait $pid 2>/dev/null || true
echo "\$ cut -d, -f1-4,8-12 $dir/nodes.csv"
cut -d, -f1-4,8-12 "$dir/nodes.csv"

echo
echo '== the DHT sniffer (a fake node and two clients on loopback) =='
dir=build/demo-dht
rm -rf "$dir"; mkdir -p "$dir"
kc=tests/dht/krpc_client.py
/usr/bin/python3 $kc --fake-node 127.1.14.2:6881 --seconds 20 >"$dir/fake.log" &
fake=$!
sleep 0.5
trap 'kill $pid $sim $fake 2>/dev/null || true; wait $pid $sim $fake 2>/dev/null || true' EXIT
echo "\$ seedd --zone seed.test --listen 127.0.0.1:5353 --concurrency 0 --allow-private --dht 127.1.14.1:6881 --dht-bootstrap 127.1.14.2:6881 --log-level debug"
./seedd --zone seed.test --listen 127.0.0.1:5353 --data-dir "$dir" --concurrency 0 --allow-private \
	--dht 127.1.14.1:6881 --dht-bootstrap 127.1.14.2:6881 --log-level debug 2>"$dir/log" &
pid=$!
sleep 1
echo "\$ krpc_client.py --from 127.1.14.10 announce 5b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c --port 51413"
/usr/bin/python3 $kc --to 127.1.14.1:6881 --from 127.1.14.10 announce 5b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c --port 51413
echo "\$ krpc_client.py --from 127.1.14.11 get_peers 5b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c"
/usr/bin/python3 $kc --to 127.1.14.1:6881 --from 127.1.14.11 get_peers 5b5f3c0fd0d7b3b6ea5bbea8e0c8b3b16a1b2f3c
echo "\$ krpc_client.py --from 127.1.14.12 get_peers 0123456789abcdef0123456789abcdef01234567"
/usr/bin/python3 $kc --to 127.1.14.1:6881 --from 127.1.14.12 get_peers 0123456789abcdef0123456789abcdef01234567
sleep 1
kill $pid; wait $pid 2>/dev/null || true
grep ' dht ' "$dir/log"
echo "\$ cat $dir/infohashes.csv"
cat "$dir/infohashes.csv"
echo "\$ grep ',dht,' $dir/nodes.csv | cut -d, -f1-9,19"
grep ',dht,' "$dir/nodes.csv" | cut -d, -f1-9,19
