#!/usr/bin/env bash
# make test: build, install, start the scratch cluster, then every suite:
#   1. pg_regress (sql/, expected/) against the scratch cluster
#   2. the reference cross-check: C engine vs pure SQL on a generated bank
# Ends with the line "N passed, N failed"; exits non-zero if anything failed.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$PD_ROOT"

passed=0
failed=0
failures=()

record() { # name, status (0 = pass)
	if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

say "building and installing"
build_and_install
say "starting the scratch PostgreSQL on port $PD_PORT"
start_scratch

say "pg_regress"
mkdir -p build/regress
regress_log=build/regress/pg_regress.log
make -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" >"$regress_log" 2>&1
grep -E '^(test| +)?[a-z_]+ +\.\.\. ' "$regress_log" | sed 's/^/    /'
while read -r name status; do
	record "pg_regress $name" "$([ "$status" = ok ] && echo 0 || echo 1)"
done < <(sed -nE 's/^(test +)?([a-z_]+) +\.\.\. +(ok|FAILED|failed).*/\2 \3/p' "$regress_log")
if grep -q FAILED "$regress_log" || ! grep -q 'tests passed' "$regress_log"; then
	[ -f build/regress/regression.diffs ] && head -60 build/regress/regression.diffs
	echo "    (full diff: build/regress/regression.diffs)"
fi

say "reference cross-check: C engine vs the pure-SQL reference of FEATURES.md"
test/reference/run_crosscheck.sh
while read -r name status; do
	record "crosscheck $name" "$([ "$status" = ok ] && echo 0 || echo 1)"
done < <(sed -nE 's/^check ([a-z_0-9]+) (ok|FAILED).*/\1 \2/p' build/crosscheck.log)

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
