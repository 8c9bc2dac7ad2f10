#!/usr/bin/env bash
# Fuzz smoke test (part of make test): build every libFuzzer target of
# tests/fuzz/ and run each for FUZZ_SMOKE_SECONDS (default 5) through
# tests/fuzz/run.sh, which also replays the committed seeds and the bug
# reproducers in tests/fuzz/crashes/. One result per target: fuzz/NAME for
# tests/fuzz/fuzz_NAME.c (fuzz/dns, fuzz/zonefile, ...).
# No network: the targets are pure functions over bytes.
source "$(dirname "$0")/../lib.sh"

secs=${FUZZ_SMOKE_SECONDS:-5}
cd "$ROOT" || exit 1

# CI installs clang with libFuzzer (clang, libclang-rt-*-dev): a missing one is a broken CI.
probe="$TMPBASE/probe"
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >"$probe.c"
if ! command -v clang >/dev/null 2>&1 ||
	! clang -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" >"$probe.log" 2>&1; then
	fail fuzz/toolchain "clang with libFuzzer missing"
	sed 's/^/  /' "$probe.log" 2>/dev/null | tail -n 5
	exit 0
fi

names=()
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] && names+=("$(basename "$src" .c)")
done
if [ ${#names[@]} -eq 0 ]; then
	fail fuzz/targets "no tests/fuzz/fuzz_*.c"
	exit 0
fi

# Build all at once (-k: one broken target does not hide the others), then
# ask make which ones are really up to date: a failed build leaves a stale
# binary or none.
build_log="$TMPBASE/fuzz-build.log"
make -k -j"$(nproc)" "${names[@]/#/build/fuzz/}" >"$build_log" 2>&1

for n in "${names[@]}"; do
	t="fuzz/${n#fuzz_}"
	if ! make -q "build/fuzz/$n" >/dev/null 2>&1 || [ ! -x "build/fuzz/$n" ]; then
		fail "$t" "build failed (make build/fuzz/$n)"
		grep -E 'error|Error' "$build_log" | grep -F "$n" | head -n 5 | sed 's/^/  /'
		continue
	fi
	out=$(./tests/fuzz/run.sh "$secs" "$n" 2>&1)
	if [ $? = 0 ]; then
		pass "$t"
		printf '%s\n' "$out" | sed 's/^/  /'
	else
		fail "$t" "$(printf '%s\n' "$out" | head -n 1 | sed 's/^FAIL //')"
		# Indented, so the runner does not count run.sh's own FAIL line twice.
		printf '%s\n' "$out" | tail -n +2 | sed 's/^/  /'
	fi
done
