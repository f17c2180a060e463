#!/usr/bin/env bash
# make test-faults: build and install, then the fault-injection suite
# (test/faults/run.sh) against a real Apache Kafka broker (scripts/kafka.sh
# fetches it on first use). PD_FAULTS=short for the shorter run that make
# test includes. Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$PD_ROOT"

say "building and installing"
reserve_listen_ports
build_and_install
mkdir -p build
say "fault injection against Apache Kafka (PD_FAULTS=${PD_FAULTS:-full}; log build/faults.log)"
test/faults/run.sh 2>&1 | tee build/faults.log
status=${PIPESTATUS[0]}
passed=$(grep -c '^check [^ ]* ok' build/faults.log)
failed=$(grep -c '^check [^ ]* FAILED' build/faults.log)
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1 && echo "test/faults/run.sh exited with status $status"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
