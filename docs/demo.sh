#!/bin/sh
# make demo: run seedd on the example zone at 127.0.0.1:5353, ask it with
# dig, stop it. The data directory is build/demo (zone.csv is rewritten there).
set -eu
cd "$(dirname "$0")/.."
dir=build/demo
mkdir -p "$dir"
cp docs/example-zone.csv "$dir/zone.csv"
# --concurrency 0: the example rows are documentation addresses, not nodes to crawl.
./seedd --zone seed.example.com --listen 127.0.0.1:5353 --data-dir "$dir" --concurrency 0 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do
	dig +short +tries=1 +time=1 @127.0.0.1 -p 5353 seed.example.com SOA >/dev/null 2>&1 && break
	sleep 0.2
done
echo '$ dig @127.0.0.1 -p 5353 seed.example.com A'
dig @127.0.0.1 -p 5353 seed.example.com A
echo '$ dig @127.0.0.1 -p 5353 www.seed.example.com AAAA +short'
dig @127.0.0.1 -p 5353 www.seed.example.com AAAA +short
