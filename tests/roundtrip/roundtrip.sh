#!/usr/bin/env bash
# tests/roundtrip/roundtrip.sh [SRC_DIR]: a 100,000-row nodes.csv from
# bench/scale_gen.py (as bench/scale.sh makes it, 10% failing nodes) read
# into a node table and written again by SRC_DIR's nodes_csv.c (default:
# this tree's src/).
#  - What it writes must read back and write again byte-identical.
#  - It may differ from the generator's text only in the reliability column
#    (the generator rounds its own r1d to 3 decimals, seedd r1d as written
#    to 6: 0.9525 reads as 0.95250000000000001 and writes 0.953).
# Prints the md5 of what it wrote: two revisions that keep the format give
# the same.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=$(cd "${1:-$ROOT/src}" && pwd)
TP=$ROOT/third_party/root
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

python3 "$ROOT/bench/scale_gen.py" nodes --dir "$T" --zone scale.test --nodes 100000 --interval 360000 \
	--bad 0.10 --seed 1 --now 1796611637 >/dev/null
cc -std=c11 -D_GNU_SOURCE -O1 -isystem "$TP/usr/include" -I"$SRC" -o "$T/rt" "$ROOT/tests/roundtrip/nodescsv_rt.c" \
	"$SRC"/nodes/node_table.c "$SRC"/nodes/nodes_csv.c "$SRC"/nodes/health.c "$SRC"/base/{addr,csv,numfmt,url}.c -lm
"$T/rt" "$T/nodes.csv" "$T/out1.csv"
"$T/rt" "$T/out1.csv" "$T/out2.csv"
fail=0
if cmp -s "$T/out1.csv" "$T/out2.csv"; then
	echo "PASS roundtrip/what seedd writes reads back byte-identical"
else
	echo "FAIL roundtrip/what seedd writes does not read back the same:"
	diff "$T/out1.csv" "$T/out2.csv" | head -10
	fail=1
fi
# Rows that differ from the generator's, with the reliability column blanked: none may be left.
cut -d, -f1-9,11- "$T/nodes.csv" >"$T/in.cut"
cut -d, -f1-9,11- "$T/out1.csv" >"$T/out.cut"
rel=$(diff "$T/nodes.csv" "$T/out1.csv" | grep -c '^>' || true)
if cmp -s "$T/in.cut" "$T/out.cut"; then
	echo "PASS roundtrip/the generator's rows come back but for $rel reliability ties"
else
	echo "FAIL roundtrip/rows differ from the generator's beyond reliability:"
	diff "$T/in.cut" "$T/out.cut" | head -10
	fail=1
fi
echo "# roundtrip: $(($(wc -l <"$T/out1.csv") - 1)) rows written, md5 $(md5sum <"$T/out1.csv" | cut -c1-32)"
exit $fail
