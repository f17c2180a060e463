#!/usr/bin/env bash
# make demo: everything from a fresh machine to a synthetic bank and the
# features of a stressed and a calm customer, side by side.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$PD_ROOT"

DEMO_CUSTOMERS=${DEMO_CUSTOMERS:-2000}
DEMO_DAYS=${DEMO_DAYS:-365}

say "building and installing the extension"
build_and_install
say "starting a scratch PostgreSQL 15 on port $PD_PORT (data in /tmp/pre_delinquency.$PD_PORT)"
start_scratch
fresh_database pd_demo
export PGDATABASE=pd_demo

say "generating a synthetic bank: $DEMO_CUSTOMERS customers, $DEMO_DAYS days (seed 42)"
psql -qX -v ON_ERROR_STOP=1 <<SQL
\pset footer off
SET client_min_messages = warning;
SELECT customers, transactions, payments, failed_transactions,
       round(episode_share::numeric, 3) AS episode_share,
       round(elapsed_ms::numeric / 1000, 1) AS seconds
FROM pre_delinquency.generate_synthetic($DEMO_CUSTOMERS, $DEMO_DAYS, 42);
SQL

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

Try it yourself:
  eval \$(scripts/pg_scratch.sh env); export PGDATABASE=pd_demo
  psql -x -c "SELECT * FROM pre_delinquency.customer_features('<customer_id>')"
  scripts/pg_scratch.sh stop        # when done
EOF
