#!/usr/bin/env bash
# Two ingest workers in one database (pre_delinquency.ingest_workers = 2)
# against the embedded broker, 4 partitions: the consumer group splits the
# partitions between them, every event has its effect exactly once through
# kill -9 of one of them mid-stream (rebalances while events arrive:
# revocations while a batch is being polled), the stored offsets are
# exactly what was sent, and static assignment gives each worker every
# second owned partition. Prints "check <name> ok|FAILED ..." lines; exits
# non-zero on a failure. Needs: make (bin/), kcat.
#
# PD_BROKER=kafka runs it against a real Apache Kafka (scripts/kafka.sh, the
# topics created through the Admin API): Kafka's own group coordinator does
# the splitting and the rebalances; checks are named kafka/<name>.
#
# Settings: PD_WORKERS_PORT (default 55466: the cluster; pd_broker or Kafka
# on +1, Kafka's controller on +2).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

export PD_PORT=${PD_WORKERS_PORT:-55466}
export PD_DB=pd_workers
export PD_SCRATCH=/tmp/pre_delinquency.workers.$PD_PORT
broker_port=$((PD_PORT + 1))
work=$(mktemp -d /tmp/pd_workers_test.XXXXXX)
failed=0
broker_pid=
broker_kind=${PD_BROKER:-pd_broker}
source test/stream/lib.sh # check (named per broker below), q, wait_for, start_pipeline_cluster
case $broker_kind in
pd_broker) prefix= ;;
kafka) prefix=kafka/ ;;
*) echo "PD_BROKER must be pd_broker or kafka, not '$broker_kind'"; exit 2 ;;
esac
check() { # name, condition (0 = ok), detail
	if [ "$2" -eq 0 ]; then echo "check $prefix$1 ok $3"; else echo "check $prefix$1 FAILED $3"; failed=1; fi
}

cleanup() {
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
	[ "$broker_kind" = kafka ] && scripts/kafka.sh stop "$work/kafka"
	scripts/pg_scratch.sh destroy >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ "$broker_kind" = kafka ]; then
	# a broker that cannot be had is a failed check, never a skipped tier
	if ! { scripts/kafka.sh fetch && scripts/kafka.sh start "$work/kafka" "$broker_port" &&
		scripts/kafka.sh create-topics "$broker_port" transactions-stream:4 \
			predictions-stream:3 interventions-stream:3; } >"$work/kafka.out" 2>&1; then
		check kafka_broker_available 1 "($(tail -3 "$work/kafka.out" | tr '\n' ' '))"
		exit 1
	fi
	brokers=$(sed -n 's/^bootstrap.servers=//p' "$work/kafka.out" | head -1)
else
	bin/pd_broker --partitions 4 --port "$broker_port" >"$work/broker.out" 2>"$work/broker.err" &
	broker_pid=$!
	for _ in $(seq 50); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
	brokers=$(head -1 "$work/broker.out" | sed 's/^bootstrap.servers=//')
fi
[ -n "$brokers" ] || { echo "the broker did not start:"; cat "$work"/broker.err "$work"/kafka.out 2>/dev/null; exit 1; }

start_pipeline_cluster "$brokers" 300
q "ALTER SYSTEM SET pre_delinquency.ingest_workers = 2"
scripts/pg_scratch.sh stop >/dev/null && scripts/pg_scratch.sh start >/dev/null || exit 1
base_txns=$(q "SELECT count(*) FROM pre_delinquency.transactions")

generate() { # batch number, events, bad events
	psql -qXAt -v ON_ERROR_STOP=1 -v batch="$1" -v events="$2" -v bad="$3" -v seed=0.25 \
		-f test/stream/events.sql | sed 1d >"$work/events.$1"
}
send() { kcat -b "$brokers" -P -t transactions-stream -K'|' -l "$work/events.$1"; }
rows() { echo $(($(q "SELECT count(*) FROM pre_delinquency.transactions") - base_txns)); }
ingest_pid_of() { # worker_status name
	q "SELECT pid FROM pre_delinquency.worker_status WHERE worker = '$1'"
}
# the assignment as "worker=partitions ..." once both workers have theirs
assignment() {
	q "SELECT string_agg(worker || '=' || array_to_string(assigned, ','), ' ' ORDER BY worker)
	   FROM pre_delinquency.ingest_assignment"
}
both_assigned="SELECT count(*) = 2 AND sum(cardinality(assigned)) = 4
	FROM pre_delinquency.ingest_assignment"

# --- 1. two workers, the partitions split between them --------------------
names=$(q "SELECT string_agg(coalesce(a.application_name, '?'), ',' ORDER BY w.worker)
           FROM pre_delinquency.worker_status w LEFT JOIN pg_stat_activity a USING (pid)
           WHERE w.worker LIKE 'ingest%'")
check two_ingest_workers_running "$([ "$names" = "pre_delinquency ingest,pre_delinquency ingest 2" ] && echo 0 || echo 1)" "($names)"
wait_for "$both_assigned" 90
split=$(assignment)
disjoint=$(q "SELECT count(DISTINCT p) = 4 AND count(*) = 4 AND bool_and(cardinality(assigned) > 0)
              FROM pre_delinquency.ingest_assignment, unnest(assigned) p")
check group_splits_partitions "$([ "$disjoint" = t ] && echo 0 || echo 1)" "($split)"

# --- 2. events in: each worker applies its share, exactly once ------------
generate 1 3000 150
generate 2 6000 300
send 1
wait_for "SELECT events_consumed >= 3000 FROM pre_delinquency.pipeline_stats" 90
shares=$(q "SELECT string_agg(worker || '=' || events, ' ' ORDER BY worker)
            FROM pre_delinquency.worker_status WHERE worker LIKE 'ingest%'")
busy=$(q "SELECT count(*) FROM pre_delinquency.worker_status WHERE worker LIKE 'ingest%' AND events > 0")
check both_workers_ingest "$([ "$busy" = 2 ] && echo 0 || echo 1)" "(events: $shares)"
new=$(rows)
dead=$(q "SELECT count(*) FROM pre_delinquency.dead_letters")
check events_applied_once "$([ "$new" = 2850 ] && [ "$dead" = 150 ] && echo 0 || echo 1)" "(rows $new of 2850, dead letters $dead of 150)"

# --- 3. kill -9 of one worker mid-stream, twice ----------------------------
# The postmaster answers a kill -9 by restarting every backend, so both
# workers come back and rejoin the group one after the other while events
# keep arriving: the first to join takes all four partitions, the second's
# join revokes them from it, possibly with a batch half polled.
send 2 &
sender=$!
for victim in "ingest 2" "ingest"; do
	sleep 1
	pid=$(ingest_pid_of "$victim")
	[ -n "$pid" ] && kill -9 "$pid"
	for _ in $(seq 100); do [ -n "$(q 'SELECT 1' 2>/dev/null)" ] && break; sleep 0.2; done
done
wait "$sender"
wait_for "SELECT (SELECT count(*) FROM pre_delinquency.transactions) - $base_txns = 2850 + 5700
          AND (SELECT count(*) FROM pre_delinquency.dead_letters) = 450" 120
new=$(rows)
dead=$(q "SELECT count(*) FROM pre_delinquency.dead_letters")
check kill9_one_worker_no_loss_no_double "$([ "$new" = 8550 ] && [ "$dead" = 450 ] && echo 0 || echo 1)" \
	"(rows $new of 8550, dead letters $dead of 450)"
wait_for "$both_assigned" 90
check both_workers_back "$?" "($(assignment))"
wait_for "SELECT sum(next_offset) = 9000 FROM pre_delinquency.kafka_offsets" 30
stored=$(q "SELECT sum(next_offset) || ' over ' || count(*) || ' partitions' FROM pre_delinquency.kafka_offsets")
check offsets_exact "$([ "${stored%% *}" = 9000 ] && echo 0 || echo 1)" "(9000 sent, $stored)"

# --- 3b. Kafka's own tool sees two members, one per worker ----------------
if [ "$broker_kind" = kafka ]; then
	for _ in 1 2 3 4 5; do
		scripts/kafka.sh run org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
			--bootstrap-server "$brokers" --describe --group feature-processor-group --members \
			>"$work/members.out" 2>"$work/members.err"
		members=$(awk '$1 == "feature-processor-group" { print $4 "=" $NF }' "$work/members.out" | LC_ALL=C sort | paste -sd' ')
		[ "$members" = "pre_delinquency-ingest-2=2 pre_delinquency-ingest=2" ] && break
		sleep 2
	done
	check group_members_are_the_two_workers \
		"$([ "$members" = "pre_delinquency-ingest-2=2 pre_delinquency-ingest=2" ] && echo 0 || echo 1)" \
		"(client id=partitions: $members$(head -c 200 "$work/members.err" | tr '\n' ' '))"
fi

# --- 4. static assignment: every second owned partition each ---------------
q "ALTER SYSTEM SET pre_delinquency.partitions = '0-3'"
q "SELECT pg_reload_conf()" >/dev/null
wait_for "SELECT count(*) = 2 AND bool_and(mode = 'static') FROM pre_delinquency.ingest_assignment" 60
split=$(assignment)
check static_share_every_second_partition "$([ "$split" = "ingest=0,2 ingest 2=1,3" ] && echo 0 || echo 1)" "($split)"
generate 3 2000 100
send 3
wait_for "SELECT (SELECT count(*) FROM pre_delinquency.transactions) - $base_txns = 8550 + 1900" 90
new=$(rows)
stored=$(q "SELECT sum(next_offset) FROM pre_delinquency.kafka_offsets")
check static_events_applied_once "$([ "$new" = 10450 ] && [ "$stored" = 11000 ] && echo 0 || echo 1)" \
	"(rows $new of 10450, offsets $stored of 11000)"

workers=$(q "SELECT count(*) FROM pre_delinquency.worker_status WHERE pid IS NOT NULL")
check workers_still_running "$([ "$workers" = 3 ] && echo 0 || echo 1)" "($workers of 3)"
psql -qX -c "SELECT worker, state, batches, events, errors FROM pre_delinquency.worker_status" | sed 's/^/    /'
exit $failed
