#!/usr/bin/env bash
# make test: unit tests (ASan+UBSan build), then every integration test
# against the static ./seedd. Prints each result and ends with the line
# "N passed, N failed", followed by ", N skipped" when a test printed
# "SKIP NAME: reason" (a check this machine cannot run; neither a pass nor
# a failure). Exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
skipped=0
out=$(mktemp)

run() {
	local label=$1; shift
	echo "== $label"
	"$@" >"$out" 2>&1
	local rc=$? p f s
	grep -E '^(PASS|FAIL|SKIP) ' "$out"
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL $label: exited with an error"; tail -n 20 "$out"; f=1
	fi
	if [ "$f" != 0 ]; then grep -vE '^(PASS|FAIL|SKIP) ' "$out" | tail -n 40; fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

run unit ./build/san/unit
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	run "$(basename "$t" .sh)" bash "$t"
done
rm -f "$out"
if [ "$skipped" = 0 ]; then
	echo "$passed passed, $failed failed"
else
	echo "$passed passed, $failed failed, $skipped skipped"
fi
[ "$failed" = 0 ]
