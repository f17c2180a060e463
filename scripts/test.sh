#!/usr/bin/env bash
# make test: build, install, start the scratch cluster, then every suite:
#   1. pg_regress (sql/, expected/) against the scratch cluster
#   2. the reference cross-check: C engine vs the pure-SQL reference
#      (test/reference/) on generated, adversarial and hand-made data, and
#      vs a second, Python reading (test/reference/py) on the same data and
#      boundary-biased fuzz banks
#   3. scores and SHAP values against XGBoost's Python package (test/model/)
#   4. ingest against a concurrent DELETE of the customer (test/ingest),
#      the event parser alone, the tools, and the workers end to end against
#      the embedded broker (test/event_json, test/tools, test/stream), also
#      with two ingest workers in one database
#   5. the workers end to end again against a real Apache Kafka broker
#      (test/stream with PD_BROKER=kafka; scripts/kafka.sh fetches it once),
#      two ingest workers included
#   6. scale-out: two clusters owning 3 partitions each of one real topic
#      (test/scaleout)
#   7. a short fault-injection run against Apache Kafka (test/faults)
#   8. the security review (test/security) and the upgrade path
#      0.1.0 -> 0.2.0 under a running stream (test/upgrade)
#   9. the quick side-by-side benchmark against the peer (scripts/bench.sh
#      --quick): both sides ran and the peer agreed; figures printed only
#  10. a short libFuzzer run on the event parser (test/fuzz; make fuzz for more)
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
reserve_listen_ports
build_and_install
say "starting the scratch PostgreSQL on port $PD_PORT"
start_scratch

say "pg_regress and the isolation specs"
mkdir -p build/regress build/isolation
regress_log=build/regress/pg_regress.log
make -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" >"$regress_log" 2>&1
grep -E '^(test +)?[a-z_]+ +\.\.\. ' "$regress_log" | sed 's/^/    /'
while read -r name status; do
	record "pg_regress $name" "$([ "$status" = ok ] && echo 0 || echo 1)"
done < <(sed -nE 's/^(test +)?([a-z_]+) +\.\.\. +(ok|FAILED|failed).*/\2 \3/p' "$regress_log")
if grep -q FAILED "$regress_log" || ! grep -q 'tests passed' "$regress_log"; then
	for diffs in build/regress/regression.diffs build/isolation/regression.diffs; do
		[ -f "$diffs" ] && head -60 "$diffs" && echo "    (full diff: $diffs)"
	done
fi

say "reference cross-check: C engine vs the pure-SQL reference of FEATURES.md"
# One database holding a generated bank, an adversarial random bank and the
# hand-made fixtures; every customer at seven as_of times, in two TimeZones.
fresh_database pd_crosscheck
crosscheck_log=build/crosscheck.log
{
	psql -qX -d pd_crosscheck -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
		-c "SELECT customers, transactions, payments FROM pre_delinquency.generate_synthetic(300, 400, 11, '2025-06-30 00:00+00')" &&
	psql -qX -d pd_crosscheck -v ON_ERROR_STOP=1 -f test/reference/random_bank.sql &&
	psql -qX -d pd_crosscheck -v ON_ERROR_STOP=1 -f test/reference/fixtures.sql &&
	test/reference/crosscheck.sh -d pd_crosscheck
} >"$crosscheck_log" 2>&1
crosscheck_status=$?
# One check per feature and for the labels, per TimeZone; one per fixture run.
checks=$(awk '
	/^fixtures \(/ { name = $2; gsub(/[():]/, "", name); print "fixtures/" name " " ($NF == "PASS" ? 0 : 1) }
	/^== crosscheck, session TimeZone/ { tz = $5; labels = 0 }
	/^ +[0-9]+ \| [a-z_0-9]+ +\| +[0-9]+ \| +[0-9]+ \|/ {
		split($0, c, "|"); gsub(/ /, "", c[2]); gsub(/ /, "", c[3]); gsub(/ /, "", c[4]);
		print tz "/" c[2] " " ((c[3] > 0 && c[4] == 0) ? 0 : 1) }
	/^== labels/ { labels = 1; next }
	labels == 1 && /^ +[0-9]+ \| +[0-9]+ \|/ {
		split($0, c, "|"); gsub(/ /, "", c[1]); gsub(/ /, "", c[2]);
		print tz "/labels " ((c[1] > 0 && c[2] == 0) ? 0 : 1); labels = 0 }
' "$crosscheck_log")
if [ -z "$checks" ]; then
	record "crosscheck (did not run)" 1
else
	while read -r name status; do record "crosscheck $name" "$status"; done <<<"$checks"
fi
grep -E '^CROSSCHECK|^fixtures \(|crosscheck.sh:' "$crosscheck_log" | sed 's/^/    /'
if [ "$crosscheck_status" -ne 0 ]; then
	record "crosscheck.sh exit status" 1
	tail -40 "$crosscheck_log"
	echo "    (full log: $crosscheck_log)"
fi

# A suite prints "check <name> ok|FAILED ..." lines; each is one test. A
# suite that exits non-zero is a failure too, whatever it printed.
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

say "the shipped model against XGBoost's own Python package"
scripts/venv.sh
fresh_database pd_modelcheck
psql -qX -d pd_modelcheck -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
	-c "SELECT customers FROM pre_delinquency.generate_synthetic(500, 300, 21, '2025-06-30 00:00+00')" >/dev/null
PGDATABASE=pd_modelcheck run_suite model build/model_check.log \
	.venv/bin/python test/model/check_scores.py '2025-06-01 00:00+00'

say "a second reading of FEATURES.md: the C engine vs a Python reference (test/reference/py)"
# the cross-check's database again (its banks and fixtures), plus two fuzz
# banks whose transactions and payments sit on the windows' edges
PGDATABASE=pd_crosscheck run_suite reference_py build/reference_py.log \
	test/reference/py/run.sh .venv/bin/python

say "ingest against a concurrent DELETE of the customer (test/ingest)"
run_suite ingest build/ingest_lock.log test/ingest/test_customer_lock.sh

say "the event parser on its own (test/event_json)"
run_suite event_json build/event_json.log test/event_json/run.sh

say "fuzzing the event parser for ${PD_FUZZ_SMOKE_SECONDS:-25} s (test/fuzz; make fuzz runs longer)"
run_suite fuzz build/fuzz_smoke.log test/fuzz/run.sh "${PD_FUZZ_SMOKE_SECONDS:-25}"

say "the tools against the embedded broker (test/tools)"
PGDATABASE=pd_modelcheck run_suite tools build/tools.log test/tools/test_tools.sh

say "streaming end to end through the workers (test/stream)"
t0=$SECONDS
run_suite stream build/stream.log test/stream/test_stream.sh
echo "    ($((SECONDS - t0)) s)"

say "two ingest workers in one database: split, kill -9, static shares (test/stream)"
t0=$SECONDS
run_suite ingest_workers build/ingest_workers.log test/stream/test_ingest_workers.sh
echo "    ($((SECONDS - t0)) s)"

say "the same against a real Apache Kafka broker (test/stream, PD_BROKER=kafka)"
t0=$SECONDS
PD_BROKER=kafka run_suite stream build/stream_kafka.log test/stream/test_stream.sh
grep '^    (Kafka' build/stream_kafka.log
echo "    ($((SECONDS - t0)) s)"

say "two ingest workers against a real Apache Kafka: its group coordinator splits (test/stream, PD_BROKER=kafka)"
t0=$SECONDS
PD_BROKER=kafka run_suite ingest_workers build/ingest_workers_kafka.log test/stream/test_ingest_workers.sh
echo "    ($((SECONDS - t0)) s)"

say "scale-out: two databases, each owning 3 of 6 partitions, real Kafka (test/scaleout)"
t0=$SECONDS
run_suite scaleout build/scaleout.log test/scaleout/test_scaleout.sh
grep -E '^(bank|rate|cpu):' build/scaleout.log | sed 's/^/    /'
echo "    ($((SECONDS - t0)) s)"

say "fault injection against Apache Kafka, short run (test/faults; make test-faults: the full run)"
t0=$SECONDS
PD_FAULTS=short run_suite faults build/faults.log test/faults/run.sh
sed -n '/^case  /,/^ *worker |/p' build/faults.log | grep -v ' worker |' | sed 's/^/    /'
echo "    ($((SECONDS - t0)) s)"

say "security: no SQL built from strings, broker credentials kept secret (test/security)"
run_suite security build/security.log test/security/test_security.sh

say "upgrade 0.1.0 -> 0.2.0: same catalog, pg_dump, under a running stream (test/upgrade)"
run_suite upgrade build/upgrade.log test/upgrade/test_upgrade.sh

say "the side-by-side benchmark against the seed's architecture, quick (scripts/bench.sh --quick)"
run_suite bench build/bench_quick.log scripts/bench.sh --quick
sed -n '/^pre_delinquency vs the peer/,/^(the bench took/p' build/bench_quick.log | sed 's/^/    /'

# stopped, not destroyed: its data stays for a look (make scratch-start)
scripts/pg_scratch.sh stop

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
