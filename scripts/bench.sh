#!/usr/bin/env bash
# make bench: customer_features latency over 1,000 customers with one year of
# history, and the cost at five years of history against one year (ratio).
# Timings are printed, never asserted.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$PD_ROOT"

BENCH_CUSTOMERS=${BENCH_CUSTOMERS:-1000}
BENCH_ROUNDS=${BENCH_ROUNDS:-5}
END_TIME='2025-06-30 00:00+00'

say "building and installing"
build_and_install
say "starting the scratch PostgreSQL on port $PD_PORT"
start_scratch

# Per-call wall time, measured in the backend around each call (no client
# round trip); includes a plpgsql loop overhead of about a microsecond.
timing_function=$(cat <<'SQL'
CREATE OR REPLACE FUNCTION pg_temp.time_features(rounds int, as_of timestamptz)
RETURNS TABLE (calls bigint, p50_ms float8, p99_ms float8, mean_ms float8, rows_per_call float8)
LANGUAGE plpgsql AS $$
DECLARE
	ids uuid[] := ARRAY(SELECT customer_id FROM pre_delinquency.customers ORDER BY customer_id);
	times float8[] := '{}';
	t0 timestamptz;
	f pre_delinquency.features;
	c uuid;
BEGIN
	FOR r IN 0 .. rounds LOOP
		FOREACH c IN ARRAY ids LOOP  -- round 0 warms the cache
			t0 := clock_timestamp();
			f := pre_delinquency.customer_features(c, as_of);
			IF r > 0 THEN
				times := times || extract(epoch FROM clock_timestamp() - t0)::float8 * 1000;
			END IF;
		END LOOP;
	END LOOP;
	RETURN QUERY
	SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY x),
	       percentile_cont(0.99) WITHIN GROUP (ORDER BY x), avg(x),
	       (SELECT count(*)::float8 / cardinality(ids) FROM pre_delinquency.transactions
	        WHERE txn_time >= as_of - interval '120 days' AND txn_time < as_of)
	FROM unnest(times) x;
END $$;
SQL
)

bench_history() { # database, days
	local db=$1 days=$2
	fresh_database "$db"
	psql -qX -d "$db" -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
		-c "SELECT * FROM pre_delinquency.generate_synthetic($BENCH_CUSTOMERS, $days, 7, '$END_TIME')" \
		-c "VACUUM ANALYZE" >/dev/null
	psql -qXAt -F' ' -d "$db" -v ON_ERROR_STOP=1 -c "$timing_function" \
		-c "SELECT * FROM pg_temp.time_features($BENCH_ROUNDS, '$END_TIME')"
}

say "history of 1 year: $BENCH_CUSTOMERS customers"
read -r calls1 p50_1 p99_1 mean1 rows1 < <(bench_history pd_bench_1y 365)
say "history of 5 years: $BENCH_CUSTOMERS customers"
read -r calls5 p50_5 p99_5 mean5 rows5 < <(bench_history pd_bench_5y 1825)

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
printf '\ncustomer_features, %s calls per history, %s, %s cores, %s\n' "$calls1" "$(date -u +%F)" "$(nproc)" "$cpu"
printf '%-22s %10s %10s %10s %16s\n' history p50_ms p99_ms mean_ms txns_in_120d
printf '%-22s %10.4f %10.4f %10.4f %16.1f\n' "1 year" "$p50_1" "$p99_1" "$mean1" "$rows1"
printf '%-22s %10.4f %10.4f %10.4f %16.1f\n' "5 years" "$p50_5" "$p99_5" "$mean5" "$rows5"
printf '%-22s %10.2f   (target <= 1.5)\n' "ratio 5y/1y (p50)" "$(awk -v a="$p50_5" -v b="$p50_1" 'BEGIN { print a / b }')"
printf '%-22s %10.4f   (target <= 0.15 ms)\n' "p50 at 1 year" "$p50_1"
