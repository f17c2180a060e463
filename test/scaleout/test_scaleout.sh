#!/usr/bin/env bash
# Scale-out end to end: two scratch PostgreSQL clusters share one topic of 6
# partitions on a real Apache Kafka broker (scripts/kafka.sh), A owning
# partitions 0-2 and B 3-5 (pre_delinquency.partitions, static assignment).
# A bank is generated once, its customers loaded into the database that owns
# them (kafka_partition()), then its whole transaction history is replayed
# through the topic (pd_simulate --replay, the Java client's partitioner).
# Shows: every event landed exactly once across the two, every customer in
# exactly one, no dead letters, each database's offsets only its partitions,
# the group's lag visible to Kafka's own tool, a listed partition the topic
# lacks reported and not fatal; and the ingest rate of each database.
# Prints "check <name> ok|FAILED ..." lines; exits non-zero on a failure.
#
# Settings: PD_SCALEOUT_PORT (default 55470: cluster A; B on +1, the broker
# on +5 and up), PD_SCALEOUT_CUSTOMERS (default 1000), PD_SCALEOUT_DAYS
# (default 60), PD_SCALEOUT_BROKER=kafka|pd_broker (default kafka; pd_broker,
# the embedded broker, only for development: it keeps ~5 MB per partition),
# PD_SCALEOUT_BASELINE=1 (a measurement, not a test: A owns all 6
# partitions and the whole bank, B nothing; prints the rate and stops).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

base_port=${PD_SCALEOUT_PORT:-55470}
port_a=$base_port
port_b=$((base_port + 1))
broker_port=$((base_port + 5))
customers=${PD_SCALEOUT_CUSTOMERS:-1000}
days=${PD_SCALEOUT_DAYS:-60}
broker_kind=${PD_SCALEOUT_BROKER:-kafka}
partitions=6
baseline=${PD_SCALEOUT_BASELINE:-0}
if [ "$baseline" = 1 ]; then
	range_a=(0 5) range_b=(-1 -1) # B owns nothing and is not connected
else
	range_a=(0 2) range_b=(3 5)
fi
work=$(mktemp -d /tmp/pre_delinquency.scaleout_test.XXXXXX)
failed=0
broker_pid=

check() { # name, condition (0 = ok), detail
	if [ "$2" -eq 0 ]; then echo "check $1 ok $3"; else echo "check $1 FAILED $3"; failed=1; fi
}
ok_if() { [ "$@" ] && echo 0 || echo 1; }

scratch() { # A|B, pg_scratch.sh arguments...
	local port=$port_a
	[ "$1" = B ] && port=$port_b
	shift
	PD_PORT=$port PD_DB=pd_scale PD_SCRATCH=/tmp/pre_delinquency.scaleout.$port scripts/pg_scratch.sh "$@"
}
# psql on a cluster: A|B, database, then psql arguments
qdb() {
	local port=$port_a
	[ "$1" = B ] && port=$port_b
	PGHOST=/tmp/pre_delinquency.scaleout.$port/sock PGPORT=$port PGDATABASE=$2 \
		psql -qXAt -v ON_ERROR_STOP=1 "${@:3}"
}
q() { qdb "$1" pd_scale -c "$2"; }

cleanup() {
	if [ "$broker_kind" = kafka ]; then
		scripts/kafka.sh stop "$work/kafka" >/dev/null 2>&1
	elif [ -n "$broker_pid" ]; then
		kill "$broker_pid" 2>/dev/null
	fi
	scratch A destroy >/dev/null 2>&1
	scratch B destroy >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
eval "$(scratch A env)" # PGUSER: the clusters' owner
unset PGHOST PGPORT PGDATABASE

wait_for() { # A|B, sql that returns t when done, seconds
	for _ in $(seq $(($3 * 5))); do
		[ "$(q "$1" "$2" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}

# --- the broker: one topic of 6 partitions ------------------------------------
if [ "$broker_kind" = kafka ]; then
	[ -x scripts/kafka.sh ] || { echo "scripts/kafka.sh is missing: the real broker cannot be had"; exit 1; }
	scripts/kafka.sh start "$work/kafka" "$broker_port" >"$work/broker.out" 2>"$work/broker.err" ||
		{ echo "Apache Kafka did not start:"; tail -20 "$work/broker.err"; exit 1; }
	brokers=$(sed -n 's/^bootstrap.servers=//p' "$work/broker.out" | head -1)
	scripts/kafka.sh create-topics "$broker_port" transactions-stream:$partitions \
		predictions-stream:$partitions interventions-stream:$partitions >"$work/topics.out" 2>&1 ||
		{ echo "could not create the topics:"; cat "$work/topics.out"; exit 1; }
else
	bin/pd_broker --partitions $partitions --port "$broker_port" >"$work/broker.out" 2>"$work/broker.err" &
	broker_pid=$!
	for _ in $(seq 50); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
	brokers=$(sed -n 's/^bootstrap.servers=//p' "$work/broker.out" | head -1)
fi
[ -n "$brokers" ] || { echo "no broker ($broker_kind):"; cat "$work/broker.err"; exit 1; }
echo "broker: $broker_kind at $brokers, transactions-stream with $partitions partitions"

# --- two clusters; the bank generated once, in a staging database on A -------
for c in A B; do
	scratch $c destroy >/dev/null 2>&1
	scratch $c start >/dev/null || { echo "cluster $c did not start"; exit 1; }
	q $c "CREATE EXTENSION pre_delinquency"
done
qdb A postgres -c "CREATE DATABASE pd_bank"
qdb A pd_bank -c "CREATE EXTENSION pre_delinquency"
qdb A pd_bank -c "SET client_min_messages = warning" \
	-c "SELECT format('bank: %s customers, %s transactions, %s payments', customers, transactions, payments)
	    FROM pre_delinquency.generate_synthetic($customers, $days, 42, '2025-06-30 00:00+00')"

# Each database gets the customers (and their bills) whose events it will
# receive: the partition of the key customer_id among the topic's partitions.
owned_where() { # first, last partition
	echo "pre_delinquency.kafka_partition(customer_id::text, $partitions) BETWEEN $1 AND $2"
}
load_owned() { # A|B, first, last
	qdb A pd_bank -c "COPY (SELECT * FROM pre_delinquency.customers WHERE $(owned_where "$2" "$3")) TO STDOUT" |
		q "$1" "COPY pre_delinquency.customers FROM STDIN"
	qdb A pd_bank -c "COPY (SELECT * FROM pre_delinquency.payments WHERE $(owned_where "$2" "$3")) TO STDOUT" |
		q "$1" "COPY pre_delinquency.payments FROM STDIN"
}
load_owned A "${range_a[@]}"
load_owned B "${range_b[@]}"
expect_a=$(qdb A pd_bank -c "SELECT count(*) FROM pre_delinquency.transactions WHERE $(owned_where "${range_a[@]}")")
expect_b=$(qdb A pd_bank -c "SELECT count(*) FROM pre_delinquency.transactions WHERE $(owned_where "${range_b[@]}")")
total=$(qdb A pd_bank -c "SELECT count(*) FROM pre_delinquency.transactions")
echo "customers: A $(q A "SELECT count(*) FROM pre_delinquency.customers"), B $(q B "SELECT count(*) FROM pre_delinquency.customers"); their transactions: A $expect_a, B $expect_b"

configure() { # A|B, partitions
	qdb "$1" pd_scale -c "LOAD 'pre_delinquency'" \
		-c "ALTER SYSTEM SET shared_preload_libraries = 'pre_delinquency'" \
		-c "ALTER SYSTEM SET pre_delinquency.database = 'pd_scale'" \
		-c "ALTER SYSTEM SET pre_delinquency.kafka_brokers = '$brokers'" \
		-c "ALTER SYSTEM SET pre_delinquency.partitions = '$2'" >/dev/null
	scratch "$1" stop && scratch "$1" start >/dev/null || { echo "cluster $1 did not restart"; exit 1; }
}
configure A "${range_a[0]}-${range_a[1]}"
[ "$baseline" = 1 ] || configure B "${range_b[0]}-${range_b[1]}"
for c in A $([ "$baseline" = 1 ] || echo B); do
	wait_for $c "SELECT count(*) = 1 FROM pre_delinquency.ingest_assignment" 60
done
assign_a=$(q A "SELECT mode || ' ' || owned || ' ' || assigned::text || ' of ' || topic_partitions FROM pre_delinquency.ingest_assignment")
assign_b=$(q B "SELECT mode || ' ' || owned || ' ' || assigned::text || ' of ' || topic_partitions FROM pre_delinquency.ingest_assignment")
if [ "$baseline" = 1 ]; then
	echo "baseline: A $assign_a"
else
	check static_assignment "$(ok_if "$assign_a" = "static 0-2 {0,1,2} of 6" -a "$assign_b" = "static 3-5 {3,4,5} of 6")" \
		"(A: $assign_a; B: $assign_b)"
fi

# --- the bank's history through the topic ------------------------------------
# CPU time of each ingest worker (utime + stime, clock ticks), for the rate
# per CPU-second: on a shared machine the wall-clock rate says little.
ingest_cpu() { # A|B
	local pid
	pid=$(q "$1" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pre_delinquency ingest'" 2>/dev/null)
	[ -n "$pid" ] && awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0
}
cpu0_a=$(ingest_cpu A) cpu0_b=$(ingest_cpu B)
t0=$(date +%s.%N)
PGHOST=/tmp/pre_delinquency.scaleout.$port_a/sock PGPORT=$port_a bin/pd_simulate 0 0 \
	--brokers "$brokers" --dsn "dbname=pd_bank" --replay 2000-01-01 2100-01-01 >"$work/simulate.out" 2>"$work/simulate.err"
sent=$(sed -nE 's/.*delivered ([0-9]+),.*/\1/p' "$work/simulate.out")
t_sent=$(date +%s.%N)
echo "sent: $(cat "$work/simulate.out")"
[ "$sent" = "$total" ] || { echo "pd_simulate delivered ${sent:-nothing} of $total:"; cat "$work/simulate.err"; exit 1; }

# when each database has consumed its share (polled together, 0.2 s apart)
done_a= done_b=
for _ in $(seq 1500); do
	now=$(date +%s.%N)
	[ -z "$done_a" ] && [ "$(q A "SELECT events_consumed >= $expect_a FROM pre_delinquency.pipeline_stats")" = t ] && done_a=$now
	[ -z "$done_b" ] && [ "$(q B "SELECT events_consumed >= $expect_b FROM pre_delinquency.pipeline_stats")" = t ] && done_b=$now
	[ -n "$done_a" ] && [ -n "$done_b" ] && break
	sleep 0.2
done
rows_a=$(q A "SELECT count(*) FROM pre_delinquency.transactions")
rows_b=$(q B "SELECT count(*) FROM pre_delinquency.transactions")
check all_events_consumed "$(ok_if -n "$done_a" -a -n "$done_b")" "(A $rows_a of $expect_a, B $rows_b of $expect_b rows)"
cpu_a=$(( $(ingest_cpu A) - cpu0_a )) cpu_b=$(( $(ingest_cpu B) - cpu0_b ))
rate() {
	awk -v ca="$cpu_a" -v cb="$cpu_b" -v na="$expect_a" -v nb="$expect_b" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		printf "cpu: ingest worker A %.1f s (%.0f events per CPU-second), B %.1f s (%.0f events per CPU-second)\n",
			ca / hz, (ca > 0 ? na * hz / ca : 0), cb / hz, (cb > 0 ? nb * hz / cb : 0) }'
	awk -v t0="$t0" -v ts="$t_sent" -v a="$done_a" -v b="$done_b" -v na="$expect_a" -v nb="$expect_b" 'BEGIN {
		if (a == "" || b == "") exit
		end = a > b ? a : b
		printf "rate: A %.0f events/s, B %.0f events/s, together %.0f events/s (%d events, produced in %.1f s, all ingested %.1f s after the first was sent)\n",
			na / (a - t0), (nb > 0 ? nb / (b - t0) : 0), (na + nb) / (end - t0), na + nb, ts - t0, end - t0 }'
}
if [ "$baseline" = 1 ]; then
	rate
	exit $failed
fi

# --- exactly once across the two, every customer in one ----------------------
qdb A pd_bank -c "CREATE TABLE landed (db text, event_id uuid, customer_id uuid)" \
	-c "CREATE TABLE present (db text, customer_id uuid)"
for c in A B; do
	q $c "COPY (SELECT '$c', event_id, customer_id FROM pre_delinquency.transactions) TO STDOUT" |
		qdb A pd_bank -c "COPY landed FROM STDIN"
	q $c "COPY (SELECT '$c', customer_id FROM pre_delinquency.customers) TO STDOUT" |
		qdb A pd_bank -c "COPY present FROM STDIN"
done
read -r missing twice extra < <(qdb A pd_bank -F ' ' -c "
	SELECT (SELECT count(*) FROM pre_delinquency.transactions t
	        WHERE NOT EXISTS (SELECT FROM landed l WHERE l.event_id = t.event_id)),
	       (SELECT count(*) FROM (SELECT event_id FROM landed GROUP BY 1 HAVING count(*) > 1) d),
	       (SELECT count(*) FROM landed l
	        WHERE NOT EXISTS (SELECT FROM pre_delinquency.transactions t WHERE t.event_id = l.event_id))")
check every_event_exactly_once "$(ok_if "$missing" = 0 -a "$twice" = 0 -a "$extra" = 0 -a $((rows_a + rows_b)) = "$total")" \
	"($total events: $rows_a in A + $rows_b in B, $missing missing, $twice in both, $extra unknown)"
read -r cust_total cust_none cust_both wrong_db < <(qdb A pd_bank -F ' ' -c "
	SELECT (SELECT count(*) FROM pre_delinquency.customers),
	       (SELECT count(*) FROM pre_delinquency.customers c
	        WHERE NOT EXISTS (SELECT FROM present p WHERE p.customer_id = c.customer_id)),
	       (SELECT count(*) FROM (SELECT customer_id FROM present GROUP BY 1 HAVING count(*) > 1) d),
	       (SELECT count(*) FROM landed l JOIN present p USING (customer_id) WHERE l.db <> p.db)")
check every_customer_in_one_database "$(ok_if "$cust_none" = 0 -a "$cust_both" = 0 -a "$wrong_db" = 0)" \
	"($cust_total customers: $cust_none in none, $cust_both in both, $wrong_db events in the other database)"
dead_a=$(q A "SELECT count(*) FROM pre_delinquency.dead_letters")
dead_b=$(q B "SELECT count(*) FROM pre_delinquency.dead_letters")
check no_dead_letters "$(ok_if "$dead_a" = 0 -a "$dead_b" = 0)" "(A $dead_a, B $dead_b; an event in the wrong database would be an unknown customer)"

# --- offsets: each database only its partitions, together the whole topic ----
offsets_a=$(q A "SELECT string_agg(kafka_partition || ':' || next_offset, ' ' ORDER BY kafka_partition) FROM pre_delinquency.kafka_offsets")
offsets_b=$(q B "SELECT string_agg(kafka_partition || ':' || next_offset, ' ' ORDER BY kafka_partition) FROM pre_delinquency.kafka_offsets")
foreign=$(( $(q A "SELECT count(*) FROM pre_delinquency.kafka_offsets WHERE kafka_partition NOT BETWEEN 0 AND 2") +
	$(q B "SELECT count(*) FROM pre_delinquency.kafka_offsets WHERE kafka_partition NOT BETWEEN 3 AND 5") ))
stored=$(( $(q A "SELECT coalesce(sum(next_offset), 0) FROM pre_delinquency.kafka_offsets") +
	$(q B "SELECT coalesce(sum(next_offset), 0) FROM pre_delinquency.kafka_offsets") ))
check offsets_only_owned_partitions "$(ok_if "$foreign" = 0 -a "$stored" = "$total")" \
	"(A $offsets_a; B $offsets_b; $stored stored of $total sent)"

# --- the group's lag, as Kafka's own tool sees the mirrored commits ----------
if [ "$broker_kind" = kafka ]; then
	sleep 2 # the last async commit
	scripts/kafka.sh run org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
		--bootstrap-server "$brokers" --describe --group feature-processor-group >"$work/groups.out" 2>&1
	read -r rows lag < <(awk '$2 == "transactions-stream" { n++; lag += $6 } END { print n + 0, lag + 0 }' "$work/groups.out")
	check group_lag_visible_to_kafka_tools "$(ok_if "$rows" = "$partitions" -a "$lag" = 0)" \
		"(kafka-consumer-groups: $rows partitions, total lag $lag)"
	[ "$rows" = "$partitions" ] || sed 's/^/    | /' "$work/groups.out" | head -20
fi

# --- a partition the topic does not have: reported, not fatal ----------------
qdb A pd_scale -c "ALTER SYSTEM SET pre_delinquency.partitions = '0-2,7'" -c "SELECT pg_reload_conf()" >/dev/null
wait_for A "SELECT missing = '{7}' FROM pre_delinquency.ingest_assignment" 60
missing_row=$(q A "SELECT assigned::text || ' missing ' || missing::text FROM pre_delinquency.ingest_assignment")
error=$(q A "SELECT last_error FROM pre_delinquency.worker_status WHERE worker = 'ingest'")
pid=$(q A "SELECT pid FROM pre_delinquency.worker_status WHERE worker = 'ingest'")
check missing_partition_reported "$(ok_if "$missing_row" = "{0,1,2} missing {7}" -a -n "$pid")" \
	"(assigned $missing_row; worker_status: $error)"
qdb A pd_scale -c "ALTER SYSTEM SET pre_delinquency.partitions = '5-2'" >"$work/bad_guc.out" 2>&1
grep -q 'runs backwards' "$work/bad_guc.out"
check bad_partition_list_refused $? "($(grep -o "DETAIL: .*" "$work/bad_guc.out"))"

# --- how fast: each database on its share, both together ---------------------
rate
exit $failed
