#!/bin/sh
# make demo, in two parts, on loopback only:
# 1. seedd serves the example zone at 127.0.0.1:5353 (crawler off: the
#    example rows are real or documentation addresses, not nodes to call),
#    asked with dig. Data directory build/demo.
# 2. seedd crawls a small simulated network (tests/sim: six nodes on
#    127.1.13.0/24, both dialects, a dead node and a black hole) from one
#    seed, publishes the good nodes and writes nodes.csv. Data directory
#    build/demo-crawl.
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
