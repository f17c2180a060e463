#!/usr/bin/env bash
# Fuzzes the event parser and validator (src/event_json.c over
# src/json_strict.c) with libFuzzer: test/fuzz/fuzz_event.c built by clang
# with -fsanitize=fuzzer,address,undefined, leak detection on. Time-boxed.
#
#   test/fuzz/run.sh [SECONDS]    (make fuzz; FUZZ_SECONDS, default 60)
#
# Corpus: the committed seeds (test/fuzz/corpus/, from make_corpus.py; plus
# test/faults/corpus/ when that directory exists) are read; what the fuzzer
# finds accumulates in build/fuzz/corpus/ (git-ignored), so that a later run
# starts from there. A crash, leak or broken promise is saved under
# build/fuzz/crashes/ and fails the run. Then the line coverage of the two
# files over the whole corpus (clang source-based coverage).
# Prints "check fuzz_event_parser ok|FAILED" (make test runs a short one).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-${FUZZ_SECONDS:-60}}
build=$root/build/fuzz
cc=$(command -v clang || command -v clang-14) ||
	{ echo "clang is missing: run make deps"; exit 2; }
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
[ -x "$pg_config" ] || pg_config=pg_config
pg_includes=$("$pg_config" --includedir-server) ||
	{ echo "PostgreSQL server headers are missing: run make deps"; exit 2; }

mkdir -p "$build/corpus" "$build/crashes"
sources=("$root/src/event_json.c" "$root/src/json_strict.c" "$root/src/categories.c"
	"$here/fuzz_event.c")
# (PostgreSQL's headers, included by categories.c, use gcc's gnu_printf)
cflags=(-std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-ignored-attributes -I"$pg_includes")

# fuzz_event: the fuzzer; fuzz_event_cov: the same, instrumented for
# coverage only, to measure what the corpus reaches
if ! "$cc" "${cflags[@]}" -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	"${sources[@]}" -ljson-c -lm -o "$build/fuzz_event" 2>"$build/build.log" ||
	! "$cc" "${cflags[@]}" -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
		"${sources[@]}" -ljson-c -lm -o "$build/fuzz_event_cov" 2>>"$build/build.log"; then
	cat "$build/build.log"
	echo "check fuzz_event_parser FAILED (the harness does not build; output above)"
	exit 1
fi

seeds=("$here/corpus")
[ -d "$root/test/faults/corpus" ] && seeds+=("$root/test/faults/corpus")

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
log=$build/fuzz.log
echo "fuzzing the event parser for $seconds s (seeds: ${seeds[*]#$root/})"
"$build/fuzz_event" "$build/corpus" "${seeds[@]}" \
	-dict="$here/event.dict" -max_len=70000 -max_total_time="$seconds" \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$build/crashes/" >"$log" 2>&1
status=$?

stat() { sed -nE "s/^stat::$1: *([0-9]+).*/\1/p" "$log" | tail -1; }
runs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
rss=$(stat peak_rss_mb)
last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
corpus=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$last")
echo "  ${runs:-?} executions in $seconds s (${rate:-?} exec/s), cov ${cov:-?} ft ${ft:-?}," \
	"corpus ${corpus:-?} inputs, peak RSS ${rss:-?} MB"

# line coverage of the parser's two files over everything the corpus holds
(
	cd "$build" && rm -f cov.profraw &&
	LLVM_PROFILE_FILE=cov.profraw ./fuzz_event_cov -runs=0 corpus "${seeds[@]}" >cov.log 2>&1 &&
	llvm-profdata merge -sparse cov.profraw -o cov.profdata &&
	llvm-cov report ./fuzz_event_cov -instr-profile=cov.profdata \
		"$root/src/event_json.c" "$root/src/json_strict.c" >coverage.txt 2>>cov.log
) && awk '$1 ~ /(event_json|json_strict)\.c$/ {
	printf "  line coverage %s: %s of %d lines, branches %s\n", $1, $(NF-3), $(NF-5), $NF }' \
	"$build/coverage.txt" ||
	echo "  (line coverage not measured: see $build/cov.log)"

if [ "$status" -ne 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error|broken promise' "$log"; then
	grep -E 'ERROR|runtime error|broken promise|SUMMARY|Test unit written' "$log" | head -10 | sed 's/^/  /'
	echo "  reproduce: $build/fuzz_event <file under build/fuzz/crashes/>; full log: $log"
	echo "check fuzz_event_parser FAILED (libFuzzer exit status $status)"
	exit 1
fi
echo "check fuzz_event_parser ok (${runs:-?} executions, 0 crashes, 0 leaks)"
