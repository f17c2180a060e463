#!/usr/bin/env bash
# make test-asan: the extension and the tools built with AddressSanitizer and
# UndefinedBehaviorSanitizer, then the regression suite (pg_regress), the
# tools' suite and the streaming suite (test/stream) run under them. Fails if
# any sanitizer report appears.
#
# Nothing of the normal build is touched: a copy of the sources in
# build/asan/tree, its own copy of PostgreSQL in build/asan/pg (so the
# instrumented pre_delinquency.so is installed there only), its own ports.
# PostgreSQL itself is not instrumented: the server runs with gcc's ASan
# runtime preloaded (LD_PRELOAD), leak detection off (the postmaster and
# backends deliberately never free at exit); the tools run with
# LeakSanitizer on. Every report goes to a file under build/asan/reports/,
# scanned at the end.
#
# Settings: PD_ASAN_SKIP_BUILD=1 reuses build/asan/tree as it is,
#           PD_ASAN_PORT (default 55462, pg_regress and the tools),
#           PD_ASAN_STREAM_PORT (default 55482, the streaming suite).
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$PD_ROOT"

asan=$PD_ROOT/build/asan
tree=$asan/tree
reports=$asan/reports
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g"
libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)
[ -f "$libasan" ] && [ -f "$libubsan" ] ||
	{ echo "gcc's sanitizer runtimes are missing (libasan, libubsan): run make deps" >&2; exit 1; }

passed=0
failed=0
failures=()
record() { # name, status (0 = pass)
	if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

rm -rf "$reports"
mkdir -p "$reports"
# the server writes its reports here as the postgres user
chmod 1777 "$reports"
eval "$(scripts/pg_private.sh "$asan/pg")"
export PG_CONFIG
if [ -n "${PD_ASAN_SKIP_BUILD:-}" ] && [ -f "$tree/pre_delinquency.so" ]; then
	say "reusing the sanitizer build in build/asan/tree (PD_ASAN_SKIP_BUILD)"
	# (the scripts and tests of the tree are refreshed all the same)
	cp -a scripts test "$tree/"
else
	say "copying the sources to build/asan/tree and PostgreSQL to build/asan/pg"
	rm -rf "$tree"
	mkdir -p "$tree"
	for f in Makefile pre_delinquency.control META.json README.md src sql expected models scripts test tools; do
		cp -a "$f" "$tree/"
	done
	# objects of the normal build must not be linked in uninstrumented
	find "$tree" \( -name '*.o' -o -name '*.so' -o -name '*.bc' \) -delete

	say "building the extension and the tools with $sanitize"
	log=$asan/build.log
	if ! make -C "$tree" -s COPT="$sanitize" >"$log" 2>&1 ||
		! make -C "$tree" -s COPT="$sanitize" install >>"$log" 2>&1; then
		tail -30 "$log" >&2
		echo "The sanitizer build failed (log: $log)." >&2
		exit 1
	fi
fi
# is it really instrumented? (grep -c reads all: no SIGPIPE under pipefail)
if ! nm -D "$tree/pre_delinquency.so" | grep -c __asan_report >/dev/null ||
	! nm "$tree/bin/pd_broker" | grep -c __asan_report >/dev/null; then
	echo "The build in $tree is not instrumented: is COPT honoured?" >&2
	exit 1
fi

# Without this stub, ASan preloaded into postgres deadlocks it at start-up
# (test/asan/swift_demangle_stub.c says why).
stub=$asan/swift_demangle_stub.so
gcc -shared -fPIC -O2 -Wall -Werror -o "$stub" test/asan/swift_demangle_stub.c ||
	{ echo "could not build $stub" >&2; exit 1; }

# The server: ASan first in the process (LD_PRELOAD), no leak check at exit,
# every report into a file; UBSan stops at the first error (the code is
# built with -fno-sanitize-recover) and names it.
server_asan="detect_leaks=0:log_path=$reports/server-asan:abort_on_error=0:detect_odr_violation=0"
server_ubsan="print_stacktrace=1:halt_on_error=1:log_path=$reports/server-ubsan"
export PD_SERVER_ENV="LD_PRELOAD=$libasan:$stub:$libubsan ASAN_OPTIONS=$server_asan UBSAN_OPTIONS=$server_ubsan"
# The tools (pd_broker, pd_simulate, pd_topics): leaks are errors.
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/tool-asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/tool-ubsan"
export LSAN_OPTIONS="log_path=$reports/tool-lsan"

# A suite prints "check <name> ok|FAILED" lines (as in scripts/test.sh).
run_suite() { # suite name, log file, command...
	local suite=$1 log=$2 status checks
	shift 2
	"$@" >"$log" 2>&1
	status=$?
	grep '^check ' "$log" | sed 's/^/    /'
	checks=$(sed -nE 's/^check ([A-Za-z_0-9./-]+) (ok|FAILED).*/\1 \2/p' "$log")
	while read -r name result; do
		[ -n "$name" ] && record "$suite $name" "$([ "$result" = ok ] && echo 0 || echo 1)"
	done <<<"$checks"
	if [ "$status" -ne 0 ] && ! grep -q FAILED <<<"$checks"; then
		record "$suite (exit status $status)" 1
		tail -20 "$log" | sed 's/^/    | /'
	fi
}

export PD_PORT=${PD_ASAN_PORT:-55462}
export PD_STREAM_PORT=${PD_ASAN_STREAM_PORT:-55482}
export PD_SCRATCH=/tmp/pre_delinquency.asan.$PD_PORT
cleanup() {
	(cd "$tree" && scripts/pg_scratch.sh destroy >/dev/null 2>&1)
}
trap cleanup EXIT

cd "$tree"
say "the scratch PostgreSQL on port $PD_PORT under ASan/UBSan"
scripts/pg_scratch.sh destroy >/dev/null 2>&1
start_scratch

# the runtime must really be in the server, or "no reports" proves nothing
postmaster=$(head -1 "$PD_SCRATCH/data/postmaster.pid")
if grep -q libasan "/proc/$postmaster/maps" && grep -q swift_demangle_stub "/proc/$postmaster/maps"; then
	echo "check server_runs_with_asan ok (postmaster $postmaster)"
	record "server_runs_with_asan" 0
else
	echo "check server_runs_with_asan FAILED (no libasan in /proc/$postmaster/maps)"
	record "server_runs_with_asan" 1
fi

say "pg_regress under ASan/UBSan"
mkdir -p build/regress
make -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" >"$asan/pg_regress.log" 2>&1
while read -r name status; do
	echo "    $name ... $status"
	record "pg_regress $name" "$([ "$status" = ok ] && echo 0 || echo 1)"
done < <(sed -nE 's/^(test +)?([a-z_]+) +\.\.\. +(ok|FAILED|failed).*/\2 \3/p' "$asan/pg_regress.log")
grep -q 'tests passed' "$asan/pg_regress.log" || record "pg_regress (see build/asan/pg_regress.log)" 1

say "the tools under ASan/UBSan and LeakSanitizer (test/tools)"
fresh_database pd_asan_tools
psql -qX -d pd_asan_tools -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
	-c "SELECT customers FROM pre_delinquency.generate_synthetic(200, 120, 5, '2025-06-30 00:00+00')" >/dev/null
PGDATABASE=pd_asan_tools run_suite tools "$asan/tools.log" test/tools/test_tools.sh
scripts/pg_scratch.sh destroy >/dev/null 2>&1

say "streaming end to end under ASan/UBSan (test/stream)"
run_suite stream "$asan/stream.log" test/stream/test_stream.sh

say "sanitizer reports"
shopt -s nullglob
found=("$reports"/*)
if [ ${#found[@]} -eq 0 ]; then
	echo "    none"
	record "no sanitizer reports" 0
else
	for f in "${found[@]}"; do
		echo "    ${f#$PD_ROOT/}:"
		grep -E 'ERROR|runtime error|SUMMARY|^    #[0-9] ' "$f" | head -12 | sed 's/^/      /'
	done
	record "no sanitizer reports (${#found[@]} report files in build/asan/reports)" 1
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
