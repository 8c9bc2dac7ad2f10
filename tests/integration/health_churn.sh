#!/usr/bin/env bash
# The health model against the churn simulator (tests/churn/README.md):
# 1,000 nodes for 7 simulated days (2 of warm-up) under the baseline and
# ours, built with ASan+UBSan; its PASS/FAIL churn/NAME lines are the
# goals of SPEC 5 checked on ours (precision, coverage, no all-good node
# unpublished, dead nodes out within 2 intervals, no more checks than the
# baseline, none hammered) plus the baseline's sanity check.
source "$(dirname "$0")/../lib.sh"

CHURN="$ROOT/build/san/churn"
if [ ! -x "$CHURN" ]; then
	fail churn/build "no $CHURN (make build/san/churn)"
	exit 1
fi
"$CHURN" --assert --nodes 1000 --days 7 --warmup-days 2 --seed 1 >"$TMPBASE/out" 2>&1
rc=$?
cat "$TMPBASE/out"
if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$TMPBASE/out"; then
	fail churn/run "exited with status $rc"
fi
exit "$rc"
