#!/usr/bin/env bash
# make demo: everything from a fresh machine to a synthetic bank and the
# features of a stressed and a calm customer, side by side.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$PD_ROOT"

DEMO_CUSTOMERS=${DEMO_CUSTOMERS:-2000}
DEMO_DAYS=${DEMO_DAYS:-365}

say "building and installing the extension"
reserve_listen_ports
build_and_install
# The demo has its own cluster (port 55433 unless PD_DEMO_PORT says
# otherwise) with the workers preloaded, and its own embedded broker.
export PD_PORT=${PD_DEMO_PORT:-55433}
export PD_DB=pd_demo
demo_dir=/tmp/pre_delinquency.demo
mkdir -p "$demo_dir"
if [ -f "$demo_dir/broker.pid" ]; then
	kill "$(cat "$demo_dir/broker.pid")" 2>/dev/null || true
fi
say "starting the embedded Kafka broker (bin/pd_broker)"
bin/pd_broker --partitions 4 >"$demo_dir/broker.out" 2>"$demo_dir/broker.log" &
echo $! >"$demo_dir/broker.pid"
for _ in $(seq 50); do [ -s "$demo_dir/broker.out" ] && break; sleep 0.1; done
brokers=$(head -1 "$demo_dir/broker.out" | sed 's/^bootstrap.servers=//')
[ -n "$brokers" ] || { cat "$demo_dir/broker.log" >&2; echo "pd_broker did not start (log above)." >&2; exit 1; }
echo "    bootstrap.servers=$brokers"

say "starting a fresh scratch PostgreSQL 15 on port $PD_PORT (data in /tmp/pre_delinquency.$PD_PORT)"
scripts/pg_scratch.sh destroy
start_scratch
psql -qX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pre_delinquency" >/dev/null

say "generating a synthetic bank: $DEMO_CUSTOMERS customers, $DEMO_DAYS days up to now (seed 42)"
psql -qX -v ON_ERROR_STOP=1 <<SQL
\pset footer off
SET client_min_messages = warning;
SELECT customers, transactions, payments, failed_transactions,
       round(episode_share::numeric, 3) AS episode_share,
       round(elapsed_ms::numeric / 1000, 1) AS seconds
FROM pre_delinquency.generate_synthetic($DEMO_CUSTOMERS, $DEMO_DAYS, 42);
SQL

say "starting the ingest and relay workers (shared_preload_libraries)"
psql -qX -v ON_ERROR_STOP=1 \
	-c "LOAD 'pre_delinquency'" \
	-c "ALTER SYSTEM SET shared_preload_libraries = 'pre_delinquency'" \
	-c "ALTER SYSTEM SET pre_delinquency.database = 'pd_demo'" \
	-c "ALTER SYSTEM SET pre_delinquency.kafka_brokers = '$brokers'" \
	-c "ALTER SYSTEM SET pre_delinquency.batch_wait = '20ms'" \
	-c "ALTER SYSTEM SET pre_delinquency.kafka_properties = '$PD_MOCK_KAFKA_PROPERTIES'" >/dev/null
scripts/pg_scratch.sh stop
start_scratch
for _ in $(seq 100); do
	[ "$(psql -qXAt -c "SELECT count(*) FROM pre_delinquency.worker_status WHERE state IN ('assigned', 'idle')")" = 2 ] && break
	sleep 0.2
done
psql -qX -c "SELECT worker, pid, state FROM pre_delinquency.worker_status" | sed 's/^/    /'

say "streaming 1,000 live events, 2% malformed (bin/pd_simulate 1000 5)"
bin/pd_simulate 1000 5 --brokers "$brokers" --dsn "" --seed 7 --stress-fraction 0.2 \
	--bad-fraction 0.02 2>&1 | tail -1 | sed 's/^/    /'
for _ in $(seq 150); do
	[ "$(psql -qXAt -c "SELECT events_consumed >= 1000 AND outbox_depth = 0 FROM pre_delinquency.pipeline_stats")" = t ] && break
	sleep 0.2
done

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
\pset footer off
\echo 'What the pipeline did (pipeline_stats):'
SELECT events_consumed AS consumed, inserted, duplicates, dead_letters, assessments,
       interventions, outbox_depth, produced,
       round(end_to_end_p50_ms::numeric, 1) AS e2e_p50_ms, round(end_to_end_p99_ms::numeric, 1) AS e2e_p99_ms
FROM pre_delinquency.pipeline_stats;
\echo 'Dead letters, with why:'
SELECT reason, count(*) AS events, min(detail) AS example FROM pre_delinquency.dead_letters GROUP BY 1 ORDER BY 1;
\echo 'Risk of the customers assessed, and the interventions they triggered:'
SELECT risk_level, count(*) AS assessments, round(avg(risk_score)::numeric, 3) AS avg_score
FROM pre_delinquency.risk_scores GROUP BY 1 ORDER BY min(risk_score) DESC;
SELECT risk_level, intervention_type, channel, count(*) AS interventions
FROM pre_delinquency.interventions GROUP BY 1, 2, 3 ORDER BY min(priority);
\echo 'Consumer lag (stored offsets vs the broker):'
SELECT topic, kafka_partition, stored_offset, high_watermark, lag FROM pre_delinquency.consumer_lag;
SQL
echo "Read back from Kafka (kcat), one prediction and one intervention:"
kcat -b "$brokers" -C -t predictions-stream -c 1 -e -q 2>/dev/null | cut -c1-300 | sed 's/^/    /'
kcat -b "$brokers" -C -t interventions-stream -c 1 -e -q 2>/dev/null | cut -c1-300 | sed 's/^/    /'
echo

say "features of every customer, as of now"
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
\pset footer off
SET search_path = pre_delinquency;
CREATE TEMP TABLE timing AS SELECT clock_timestamp() AS started;
CREATE TEMP TABLE f AS SELECT customer_id, customer_features(customer_id) AS f FROM customers;
SELECT count(*) AS customers,
       round(extract(epoch FROM clock_timestamp() - (SELECT started FROM timing))::numeric * 1000, 0) AS total_ms,
       round(extract(epoch FROM clock_timestamp() - (SELECT started FROM timing))::numeric * 1e6 / count(*), 0) AS us_per_customer
FROM f;

\echo
\echo 'Does stress foretell missed loan payments? Features as of 35 days ago, and what'
\echo 'happened to the loan instalments due in the 30 days after (customer_label):'
SELECT CASE WHEN (f).financial_stress_composite >= 0.5 THEN '4 severe  (>= 0.5)'
            WHEN (f).financial_stress_composite >= 0.3 THEN '3 high    (0.3-0.5)'
            WHEN (f).financial_stress_composite >= 0.1 THEN '2 some    (0.1-0.3)'
            ELSE '1 calm    (< 0.1)' END AS stress_35_days_ago,
       count(*) AS customers,
       round(avg((f).behavioral_anomaly_count)::numeric, 1) AS avg_anomalies,
       round(100.0 * avg(label), 1) AS pct_missed_or_late_loan
FROM (SELECT customer_features(customer_id, now() - interval '35 days') f,
             customer_label(customer_id, now() - interval '35 days') label
      FROM customers) s
GROUP BY 1 ORDER BY 1;

\echo
\echo 'Today: the most stressed customer next to a calm one:'
CREATE TEMP TABLE pair AS
SELECT (SELECT customer_id FROM f ORDER BY (f).financial_stress_composite DESC, customer_id LIMIT 1) AS stressed,
       (SELECT customer_id FROM f
        WHERE (f).financial_stress_composite = 0 AND (f).behavioral_anomaly_count = 0
        ORDER BY abs((f).total_spend_change_30d_pct) + abs((f).txn_frequency_drop_30d_pct), customer_id
        LIMIT 1) AS calm;
SELECT n.name AS feature,
       round(((to_jsonb((SELECT f FROM f, pair WHERE customer_id = stressed)) ->> n.name))::numeric, 2) AS stressed,
       round(((to_jsonb((SELECT f FROM f, pair WHERE customer_id = calm)) ->> n.name))::numeric, 2) AS calm
FROM unnest(feature_names()) WITH ORDINALITY AS n(name, i)
ORDER BY n.i;
SELECT stressed AS stressed_customer, calm AS calm_customer FROM pair;
SQL

cat <<EOF

Everything is still running. Try it yourself:
  eval \$(PD_PORT=$PD_PORT scripts/pg_scratch.sh env); export PGDATABASE=pd_demo
  psql -x -c "SELECT * FROM pre_delinquency.customer_features('<customer_id>')"
  psql -c "SELECT * FROM pre_delinquency.explain_customer('<customer_id>')"
  bin/pd_simulate 5000 1 --brokers $brokers --dsn "" --bad-fraction 0.01
  psql -c "SELECT * FROM pre_delinquency.pipeline_stats"
When done:  PD_PORT=$PD_PORT scripts/pg_scratch.sh stop; kill \$(cat $demo_dir/broker.pid)
EOF
