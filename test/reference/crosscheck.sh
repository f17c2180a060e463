#!/usr/bin/env bash
# Cross-check the C feature engine against the plain-SQL reference pd_ref on
# the data of the database psql reaches (PG* variables, e.g.
# eval "$(scripts/pg_scratch.sh env)"). The extension must be installed and
# the data loaded (for instance by pre_delinquency.generate_synthetic).
#
#   test/reference/crosscheck.sh [psql options, e.g. -d db -v max_customers=200]
#
# 1. (re)loads pd_ref (features_ref.sql);
# 2. if the fixture customers of fixtures.sql are present, checks both
#    implementations against the hand-computed values (fixtures_expected.sql);
# 3. runs crosscheck.sql once per zone of CROSSCHECK_TZ (default
#    "UTC America/Los_Angeles"): results must not depend on the session zone.
# Exits non-zero at the first failure; the last line says PASS or FAIL.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
zones=${CROSSCHECK_TZ:-UTC America/Los_Angeles}
status=0

psql -X -q -v ON_ERROR_STOP=1 "$@" -f "$here/features_ref.sql"

fixtures=$(psql -X -qAt -v ON_ERROR_STOP=1 "$@" -c \
	"SELECT count(*) FROM pre_delinquency.customers
	 WHERE customer_id = 'f1c5e000-0000-4000-8000-000000000007'")
if [ "$fixtures" = 1 ]; then
	for impl in pd_ref pre_delinquency; do
		echo "== fixtures against $impl"
		psql -X -v ON_ERROR_STOP=1 -v impl="$impl" "$@" \
			-f "$here/fixtures_expected.sql" || status=1
	done
fi

for tz in $zones; do
	echo "== crosscheck, session TimeZone $tz"
	psql -X -v ON_ERROR_STOP=1 -v tz="$tz" "$@" -f "$here/crosscheck.sql" || status=1
done

if [ "$status" -eq 0 ]; then
	echo "crosscheck.sh: PASS"
else
	echo "crosscheck.sh: FAIL"
fi
exit "$status"
