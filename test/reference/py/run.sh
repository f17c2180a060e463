#!/usr/bin/env bash
# The C engine against the Python reference (features_ref.py) on the database
# the PG* variables point at, which holds make test's cross-check data (a
# generated bank, the adversarial random bank, the hand-made fixtures): every
# customer of it at several as_of times in two TimeZones, then two
# boundary-biased fuzz banks at their anchors. One "check" line per data set.
#
#   PGDATABASE=pd_crosscheck test/reference/py/run.sh [python]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=${1:-python3}
status=0
run() { "$py" "$here/crosscheck.py" "$@" || status=1; }

"$py" "$here/fuzz_bank.py" 300 1 || exit 1
INSERT_TZ=Asia/Kolkata "$py" "$here/fuzz_bank.py" 300 2 || exit 1

# whole hours and midnights: many of the banks' transactions sit on them
run banks "SELECT customer_id FROM pre_delinquency.customers
           WHERE customer_id::text NOT LIKE 'f0220000-%' ORDER BY 1" \
	"2025-06-30 00:00+00,2025-06-01 00:00+00,2025-05-31 23:00+00,2025-04-15 13:37:00+00" \
	"UTC,America/Los_Angeles"
# the fuzz customers at the anchors they were built around (fuzz_bank.py)
run fuzz "SELECT customer_id FROM pre_delinquency.customers
          WHERE customer_id::text LIKE 'f0220000-%' ORDER BY 1" \
	"2025-03-01 00:00+00,2025-03-01 12:00+00,2024-03-01 00:00+00,2024-02-29 06:00+00,2025-06-15 00:00+00,2025-01-31 23:59:59.999999+00" \
	"UTC,Asia/Kolkata"
exit $status
