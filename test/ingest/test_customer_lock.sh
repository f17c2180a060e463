#!/usr/bin/env bash
# Ingest against a concurrent DELETE of the customer, in two sessions. The
# bulk path (src/ingest_bulk.c) runs no per-row foreign key check: ingest.c
# checks each customer of a batch once and locks it FOR KEY SHARE, as the
# foreign key check would. These checks fail if that lock is missing:
#   deleted_customer_is_dead_letter  an event of a customer whose DELETE is
#       in flight waits for it, then becomes an unknown_customer dead letter
#       (never a transaction without its customer)
#   delete_waits_for_ingest  a DELETE of a customer whose events are being
#       ingested waits for that commit, then cascades; no orphan rows
# Runs against the scratch cluster of scripts/test.sh (PG* variables set).
# Prints "check <name> ok|FAILED (...)".
set -uo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
cd "$PD_ROOT"

db=pd_ingest_lock
fresh_database "$db"
q() { psql -qXAt -d "$db" -v ON_ERROR_STOP=1 "$@"; }
c1=c0000000-0000-4000-8000-000000000001
c2=c0000000-0000-4000-8000-000000000002
q -c "INSERT INTO pre_delinquency.customers VALUES
	('$c1', 50000, 5, 'middle', 'salary', '2024-01-01', 20000, 1000),
	('$c2', 30000, 1, 'low', 'savings', '2024-01-01', 500, 0)"
q -c "UPDATE pre_delinquency.score_triggers SET enabled = false"
# Failed events: they leave balance_ledger alone, whose own foreign key
# check would otherwise lock the customer too.
events() { # customer -> a text[] literal of two events
	local e='{"customer_id": "%s", "txn_time": "2025-06-01T1%d:00:00Z", "amount": 5, "txn_type": "debit", "category": "loan_payment", "channel": "autodebit", "is_failed": true}'
	printf "ARRAY['$e', '$e']" "$1" 0 "$1" 1
}
# Waits until a session of this database sleeps in pg_sleep (so what it ran
# before the sleep is done and its locks are held).
wait_for_sleeper() {
	for _ in $(seq 300); do
		[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND wait_event = 'PgSleep'")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
check() { # name, condition (0 = ok), detail
	if [ "$2" -eq 0 ]; then echo "check $1 ok ($3)"; else echo "check $1 FAILED ($3)"; fi
}

# 1. DELETE in flight, then ingest: the event waits, then is a dead letter.
q -c "BEGIN; DELETE FROM pre_delinquency.customers WHERE customer_id = '$c1'; SELECT pg_sleep(2); COMMIT" >/dev/null &
deleter=$!
wait_for_sleeper
t0=$(date +%s.%N)
result=$(q -F' ' -c "SELECT inserted, dead_letters FROM pre_delinquency.ingest_events($(events $c1))")
t1=$(date +%s.%N)
wait $deleter
waited=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a > 0.5) ? 1 : 0 }')
rows=$(q -c "SELECT count(*) FROM pre_delinquency.transactions WHERE customer_id = '$c1'")
letters=$(q -c "SELECT count(*) FROM pre_delinquency.dead_letters WHERE reason = 'unknown_customer'")
check deleted_customer_is_dead_letter \
	"$([ "$result" = "0 2" ] && [ "$rows" = 0 ] && [ "$letters" = 2 ] && [ "$waited" = 1 ]; echo $?)" \
	"inserted/dead letters: $result, rows: $rows, unknown_customer: $letters, waited for the DELETE: $waited"

# 2. Ingest in flight, then DELETE: the DELETE waits for the commit, then
#    cascades to the new transactions.
q -c "BEGIN; SELECT inserted FROM pre_delinquency.ingest_events($(events $c2)); SELECT pg_sleep(2); COMMIT" >/dev/null &
ingester=$!
wait_for_sleeper
t0=$(date +%s.%N)
q -c "DELETE FROM pre_delinquency.customers WHERE customer_id = '$c2'"
t1=$(date +%s.%N)
wait $ingester
waited=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a > 0.5) ? 1 : 0 }')
orphans=$(q -c "SELECT count(*) FROM pre_delinquency.transactions t WHERE NOT EXISTS (
	SELECT FROM pre_delinquency.customers c WHERE c.customer_id = t.customer_id)")
check delete_waits_for_ingest \
	"$([ "$orphans" = 0 ] && [ "$waited" = 1 ]; echo $?)" \
	"orphan transactions: $orphans, DELETE waited for the ingest: $waited"

PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "DROP DATABASE $db" >/dev/null
