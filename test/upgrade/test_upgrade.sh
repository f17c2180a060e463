#!/usr/bin/env bash
# The upgrade path 0.1.0 -> 0.2.0 (sql/pre_delinquency--0.1.0--0.2.0.sql):
#   1. CREATE EXTENSION (0.2.0) and CREATE EXTENSION VERSION '0.1.0' +
#      ALTER EXTENSION UPDATE give the same objects, definitions, privileges,
#      seeded rows and pg_dump configuration (test/upgrade/catalog.sql);
#   2. pg_dump / pg_restore keeps a DBA's changes to the seeded rows;
#   3. ALTER EXTENSION UPDATE on a database holding a bank, with the workers
#      running and bin/pd_simulate streaming through bin/pd_broker: no event
#      lost or doubled, the bank's rows intact, the same workers running.
# Prints "check <name> ok|FAILED ..." lines; exits non-zero on a failure.
# Port: PD_UPGRADE_PORT (default 55472). Needs: make (bin/), kcat, python3.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

export PD_PORT=${PD_UPGRADE_PORT:-55472}
export PD_DB=pd_upgrade
export PD_SCRATCH=/tmp/pre_delinquency.upgrade.$PD_PORT
work=$(mktemp -d /tmp/pd_upgrade_test.XXXXXX)
failed=0
broker_pid=
sender=
PGBIN=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)

check() { # name, condition (0 = ok), detail
	if [ "$2" -eq 0 ]; then echo "check $1 ok $3"; else echo "check $1 FAILED $3"; failed=1; fi
}
cleanup() {
	[ -n "$sender" ] && kill "$sender" 2>/dev/null
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
	scripts/pg_scratch.sh destroy >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
describe() { q -d "$1" -f test/upgrade/catalog.sql >"$2" || { echo "catalog.sql failed on $1"; exit 1; }; }
wait_for() { # database, sql that returns t when done, seconds
	for _ in $(seq $(($3 * 5))); do
		[ "$(q -d "$1" -c "$2")" = t ] && return 0
		sleep 0.2
	done
	return 1
}

bin/pd_broker --partitions 4 >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
for _ in $(seq 50); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
brokers=$(head -1 "$work/broker.out" | sed 's/^bootstrap.servers=//')
[ -n "$brokers" ] || { echo "pd_broker did not start:"; cat "$work/broker.err"; exit 1; }

scripts/pg_scratch.sh destroy >/dev/null 2>&1
scripts/pg_scratch.sh start || exit 1
eval "$(scripts/pg_scratch.sh env)"

# --- 1. a new 0.2.0 and an updated 0.1.0 are the same ---------------------------
for d in pd_new pd_old; do createdb "$d" || exit 1; done
q -d pd_new -c "CREATE EXTENSION pre_delinquency"
q -d pd_old -c "CREATE EXTENSION pre_delinquency VERSION '0.1.0'"
describe pd_new "$work/new"
describe pd_old "$work/old_0.1.0"
# the comparison must be able to see what 0.2.0 changed
changed=$(diff "$work/new" "$work/old_0.1.0" | grep -c '^[<>]')
check catalog_sees_the_change "$([ "$changed" -gt 0 ] && echo 0 || echo 1)" "($changed lines differ between 0.1.0 and 0.2.0)"
q -d pd_old -c "ALTER EXTENSION pre_delinquency UPDATE"
describe pd_old "$work/old_updated"
lines=$(wc -l <"$work/new")
diff "$work/new" "$work/old_updated" >"$work/catalog.diff"
check new_equals_updated "$([ "$lines" -gt 300 ] && [ ! -s "$work/catalog.diff" ] && echo 0 || echo 1)" \
	"($lines lines describing the extension; $(grep -c '^[<>]' "$work/catalog.diff") differ; versions $(q -d pd_new -c "SELECT extversion FROM pg_extension WHERE extname = 'pre_delinquency'") and $(q -d pd_old -c "SELECT extversion FROM pg_extension WHERE extname = 'pre_delinquency'"))"
head -20 "$work/catalog.diff" | sed 's/^/    | /'

# --- 2. pg_dump keeps a DBA's changes to seeded and added rows ------------------
config="SELECT string_agg(r::text, ' ' ORDER BY r::text) FROM pre_delinquency.risk_levels r
UNION ALL SELECT string_agg(p::text, ' ' ORDER BY p::text) FROM pre_delinquency.intervention_policies p
UNION ALL SELECT string_agg(t::text, ' ' ORDER BY t::text) FROM pre_delinquency.score_triggers t
UNION ALL SELECT string_agg(name || is_active, ' ' ORDER BY model_id) FROM pre_delinquency.models"
q -d pd_old -c "UPDATE pre_delinquency.risk_levels SET min_score = 0.35 WHERE risk_level = 'MEDIUM'" \
	-c "UPDATE pre_delinquency.intervention_policies SET message_template = 'Call {risk_level}' WHERE risk_level = 'HIGH'" \
	-c "UPDATE pre_delinquency.score_triggers SET enabled = true WHERE rule = 'every_transaction'" \
	-c "UPDATE pre_delinquency.score_triggers SET min_amount = 5000 WHERE rule = 'large_amount'" \
	-c "INSERT INTO pre_delinquency.risk_levels VALUES ('SEVERE', 0.9, 4)" \
	-c "INSERT INTO pre_delinquency.intervention_policies VALUES ('SEVERE', 'branch_visit', 'phone', 1, 'Visit', true)"
q -d pd_old -c "$config" >"$work/config.before"
"$PGBIN/pg_dump" -Fc -d pd_old -f "$work/pd_old.dump" 2>"$work/dump.err" &&
	createdb pd_restored && "$PGBIN/pg_restore" -d pd_restored "$work/pd_old.dump" 2>"$work/restore.err"
restore_status=$?
q -d pd_restored -c "$config" >"$work/config.after" 2>>"$work/restore.err"
check dump_restore_keeps_config "$([ $restore_status = 0 ] && cmp -s "$work/config.before" "$work/config.after" && echo 0 || echo 1)" \
	"(risk levels, policies, score triggers and models before and after pg_dump/pg_restore$(
		[ $restore_status = 0 ] || echo "; restore failed: $(head -3 "$work/restore.err" | tr '\n' ' ')"))"
diff "$work/config.before" "$work/config.after" | head -6 | cut -c1-200 | sed 's/^/    | /'

# --- 3. ALTER EXTENSION UPDATE under a running stream ---------------------------
q -c "CREATE EXTENSION pre_delinquency VERSION '0.1.0'"
q -c "SET client_min_messages = warning; SELECT count(*) FROM pre_delinquency.generate_synthetic(300, 200, 17)" >/dev/null
q -c "LOAD 'pre_delinquency'" \
	-c "ALTER SYSTEM SET shared_preload_libraries = 'pre_delinquency'" \
	-c "ALTER SYSTEM SET pre_delinquency.database = '$PD_DB'" \
	-c "ALTER SYSTEM SET pre_delinquency.kafka_brokers = '$brokers'" \
	-c "ALTER SYSTEM SET pre_delinquency.batch_wait = '20ms'"
scripts/pg_scratch.sh stop && scripts/pg_scratch.sh start || exit 1
wait_for "$PD_DB" "SELECT count(*) = 2 FROM pre_delinquency.worker_status WHERE pid IS NOT NULL" 30
pids_before=$(q -c "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type LIKE 'pre_delinquency %'")
bank="SELECT md5(string_agg(x, '' ORDER BY x)) FROM (
	SELECT c::text AS x FROM pre_delinquency.customers c
	UNION ALL SELECT p::text FROM pre_delinquency.payments p
	UNION ALL SELECT t::text FROM pre_delinquency.transactions t
	WHERE t.txn_time < '$(q -c "SELECT now()")') s"
bank_before=$(q -c "$bank")
base_txns=$(q -c "SELECT count(*) FROM pre_delinquency.transactions")

sent=8000
bin/pd_simulate "$sent" 2 --brokers "$brokers" --dsn "" --seed 5 --bad-fraction 0.02 \
	>"$work/simulate.out" 2>&1 &
sender=$!
wait_for "$PD_DB" "SELECT events_consumed >= 2000 FROM pre_delinquency.pipeline_stats" 60
t0=$(date +%s%N)
q -c "ALTER EXTENSION pre_delinquency UPDATE"
update_status=$?
update_ms=$((($(date +%s%N) - t0) / 1000000))
consumed_at_update=$(q -c "SELECT events_consumed FROM pre_delinquency.pipeline_stats")
wait "$sender"
sim_status=$?
sender=
check update_under_stream "$([ $update_status = 0 ] && [ "$consumed_at_update" -gt 0 ] && [ "$consumed_at_update" -lt "$sent" ] && echo 0 || echo 1)" \
	"(ALTER EXTENSION UPDATE took $update_ms ms with $consumed_at_update of $sent events consumed; pd_simulate exit $sim_status: $(tail -1 "$work/simulate.out"))"
wait_for "$PD_DB" "SELECT sum(next_offset) >= $sent FROM pre_delinquency.kafka_offsets" 120
wait_for "$PD_DB" "SELECT count(*) = 0 FROM pre_delinquency.outbox" 60
new=$(($(q -c "SELECT count(*) FROM pre_delinquency.transactions") - base_txns))
dead=$(q -c "SELECT count(*) FROM pre_delinquency.dead_letters")
offsets=$(q -c "SELECT sum(next_offset) FROM pre_delinquency.kafka_offsets")
dups=$(q -c "SELECT duplicates FROM pre_delinquency.pipeline_stats")
check no_event_lost_or_doubled "$([ $((new + dead)) = "$sent" ] && [ "$offsets" = "$sent" ] && [ "$dups" = 0 ] && [ "$dead" -gt 0 ] && echo 0 || echo 1)" \
	"($sent sent: $new rows + $dead dead letters, stored offsets $offsets, duplicates $dups)"
check bank_intact "$([ "$(q -c "$bank")" = "$bank_before" ] && echo 0 || echo 1)" "(customers, payments and earlier transactions unchanged)"
pids_after=$(q -c "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type LIKE 'pre_delinquency %'")
check workers_kept_running "$([ -n "$pids_before" ] && [ "$pids_before" = "$pids_after" ] && echo 0 || echo 1)" \
	"(worker pids $pids_before before, $pids_after after)"
scores=$(q -c "SELECT count(*) FROM pre_delinquency.risk_scores")
kcat -b "$brokers" -C -t predictions-stream -e -o beginning -q >"$work/predictions" 2>/dev/null
ids=$(python3 -c '
import json, sys
print(len({json.loads(l)["event_id"] for l in open(sys.argv[1]) if l.strip()}))' "$work/predictions")
check predictions_all_sent "$([ "$scores" -gt 0 ] && [ "$ids" = "$scores" ] && echo 0 || echo 1)" \
	"($scores risk scores, $ids distinct prediction ids on predictions-stream)"
describe "$PD_DB" "$work/stream_updated"
diff "$work/new" "$work/stream_updated" >"$work/stream.diff"
check updated_under_stream_equals_new "$([ ! -s "$work/stream.diff" ] && echo 0 || echo 1)" \
	"(version $(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pre_delinquency'"); $(grep -c '^[<>]' "$work/stream.diff") lines differ from a new 0.2.0)"
head -10 "$work/stream.diff" | sed 's/^/    | /'
exit $failed
