#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [NAME...]
#
# Runs every libFuzzer target built in build/fuzz/ (or only the NAMEs given,
# e.g. fuzz_dns) for SECONDS each. New inputs go to a scratch corpus,
# tests/fuzz/corpus-work/NAME (git-ignored, kept between runs so coverage
# accumulates); the committed seeds in tests/fuzz/corpus/NAME and the bug
# reproducers in tests/fuzz/crashes/NAME are only read.
# tests/fuzz/NAME.dict is passed as a dictionary and tests/fuzz/NAME.options
# (one libFuzzer flag per line) as extra flags when they exist.
#
# Prints one line per target: "ok NAME: N execs in S s (R/s), C inputs" or
# "FAIL NAME: what (reproducer: PATH)" followed by the sanitizer summary;
# the full log is tests/fuzz/corpus-work/NAME.log. Exits 1 when any target
# crashed, leaked, timed out or ran out of memory, 2 on bad usage.
set -u
cd "$(dirname "$0")/../.."

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
	echo "usage: tests/fuzz/run.sh SECONDS [NAME...]" >&2
	exit 2
fi
secs=$1
shift

targets=()
if [ $# -gt 0 ]; then
	for n in "$@"; do targets+=("build/fuzz/$(basename "$n")"); done
else
	for t in build/fuzz/fuzz_*; do
		[ -f "$t" ] && [ -x "$t" ] && targets+=("$t")
	done
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "FAIL no fuzz targets in build/fuzz/ (run make fuzz)"
	exit 1
fi

work=tests/fuzz/corpus-work
mkdir -p "$work/artifacts"

# The Makefile builds with recoverable UBSan; make every report fatal so it
# leaves a reproducer instead of scrolling past.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:report_error_type=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

failed=0
for t in "${targets[@]}"; do
	name=$(basename "$t")
	if [ ! -x "$t" ]; then
		echo "FAIL $name: not built ($t missing)"
		failed=1
		continue
	fi
	mkdir -p "$work/$name"
	log="$work/$name.log"
	args=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1
	      -artifact_prefix="$work/artifacts/$name-")
	[ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
	if [ -f "tests/fuzz/$name.options" ]; then
		while read -r opt; do
			[ -n "$opt" ] && [ "${opt#\#}" = "$opt" ] && args+=("$opt")
		done <"tests/fuzz/$name.options"
	fi
	dirs=("$work/$name")
	[ -d "tests/fuzz/corpus/$name" ] && dirs+=("tests/fuzz/corpus/$name")
	# Reproducers of bugs found earlier: fixed ones are regression seeds.
	[ -d "tests/fuzz/crashes/$name" ] && dirs+=("tests/fuzz/crashes/$name")

	"$t" "${args[@]}" "${dirs[@]}" >"$log" 2>&1
	rc=$?

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	inputs=$(find "$work/$name" -type f | wc -l)
	if [ "$rc" = 0 ]; then
		echo "ok $name: ${execs:-?} execs in $secs s (${rate:-?}/s), $inputs inputs"
		continue
	fi
	failed=1
	what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [^(]*|runtime error: .*' "$log")
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	echo "FAIL $name: ${what:-exit status $rc} (reproducer: ${artifact:-none}; log: $log)"
	grep -m1 -E '^SUMMARY: ' "$log" | sed 's/^/    /'
	# The first frames of the target's own stack, skipping the sanitizer runtime.
	grep -E '^ +#[0-9]+ .* in ' "$log" | grep -vE ' in (__sanitizer|__asan|__ubsan|fuzzer::|__interceptor|__libc|_start|main |abort|raise|gsignal)' |
		head -n 6 | sed 's/^ */    /'
done
exit "$failed"
