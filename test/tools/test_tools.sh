#!/usr/bin/env bash
# End-to-end test of the tools make builds: bin/pd_broker, bin/pd_simulate,
# bin/pd_topics. Starts its own pd_broker on a free loopback port, runs
# pd_simulate in several modes against a database with a generated bank,
# reads every topic back with kcat and checks the events with python3
# (check_events.py beside this file); stops the broker.
#
#   test/tools/test_tools.sh [DSN]
#
# DSN: libpq connection string of a database with the extension and a bank
# in it (default "": the PG* environment), e.g. against the scratch cluster:
#   eval "$(scripts/pg_scratch.sh env)"
#   psql -c "SELECT * FROM pre_delinquency.generate_synthetic(200, 60, 1)"
#   test/tools/test_tools.sh
# The database is only read. Set PD_TEST_KAFKA=host:port to also try
# pd_topics against a real Kafka cluster; PD_TEST_VERBOSE=1 shows what each
# check saw (summaries, event mix) even when it passes.
#
# Prints "check <name> ok|FAILED" per check; exits 1 if any failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/bin
CHECK="python3 $ROOT/test/tools/check_events.py"
DSN=${1-}
WORK=$(mktemp -d /tmp/pd_test_tools.XXXXXX)
BROKER_PID=
failures=0

cleanup() {
	if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
		kill "$BROKER_PID" 2>/dev/null
		wait "$BROKER_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# check NAME COMMAND...: runs the command, its output indented on failure
# (always with PD_TEST_VERBOSE=1)
check() {
	local name=$1
	shift
	if "$@" >"$WORK/out" 2>&1; then
		echo "check $name ok"
		if [ -n "${PD_TEST_VERBOSE:-}" ]; then sed 's/^/    /' "$WORK/out"; fi
	else
		echo "check $name FAILED"
		sed 's/^/    /' "$WORK/out"
		failures=$((failures + 1))
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DSN" "$@"; }

# read_topic TOPIC FILE: every message of the topic, kcat's length-prefixed way
read_topic() {
	kcat -b "$BROKERS" -C -t "$1" -o beginning -e -q \
		-f '%p\t%o\t%K\t%k\t%S\t%h\n%s\n' >"$2"
}

simulate() { "$BIN/pd_simulate" --brokers "$BROKERS" "$@"; }

# --- prerequisites --------------------------------------------------------
for tool in kcat psql python3; do
	command -v $tool >/dev/null || { echo "test_tools: $tool is missing (make deps)" >&2; exit 2; }
done
if ! make -s -C "$ROOT" tools >"$WORK/build" 2>&1; then
	cat "$WORK/build" >&2
	echo "test_tools: the tools do not build (output above)" >&2
	exit 2
fi
ncust=$(psql_q -c 'SELECT count(*) FROM pre_delinquency.customers' 2>"$WORK/err") || {
	cat "$WORK/err" >&2
	echo "test_tools: cannot read pre_delinquency.customers through DSN \"$DSN\"" >&2
	exit 2
}
if [ "$ncust" -eq 0 ]; then
	echo "test_tools: no customers: run SELECT * FROM pre_delinquency.generate_synthetic(200, 60, 1) first" >&2
	exit 2
fi
psql_q -c 'SELECT customer_id FROM pre_delinquency.customers' >"$WORK/customers"

# --- the broker -------------------------------------------------------------
help_ok() {
	for t in pd_broker pd_simulate pd_topics; do
		"$BIN/$t" --help | grep -q "^Usage: $t" || { echo "$t --help"; return 1; }
	done
}
check help help_ok

PORT=$(free_port)
TOPICS=transactions-stream,predictions-stream,interventions-stream,t-live,t-seed1,t-seed2,t-bad,t-replay,t-paced,t-made-up
"$BIN/pd_broker" --port "$PORT" --partitions 3 --topics "$TOPICS" \
	>"$WORK/broker.out" 2>"$WORK/broker.err" &
BROKER_PID=$!
for _ in $(seq 100); do
	[ -s "$WORK/broker.out" ] && break
	sleep 0.05
done
BROKERS=$(sed -n '1s/^bootstrap.servers=//p' "$WORK/broker.out")

broker_up() {
	head -1 "$WORK/broker.out"
	[ "$(head -1 "$WORK/broker.out")" = "bootstrap.servers=127.0.0.1:$PORT" ] &&
		kcat -b "$BROKERS" -L -t t-live | grep -q 'topic "t-live" with 3 partitions'
}
check broker_first_line broker_up
[ -n "$BROKERS" ] || { echo "test_tools: pd_broker did not start:" >&2; cat "$WORK/broker.err" >&2; exit 1; }

broker_default_topics() {
	local md
	md=$(kcat -b "$BROKERS" -L)
	for t in transactions-stream predictions-stream interventions-stream; do
		grep -q "topic \"$t\" with 3 partitions" <<<"$md" || { echo "no $t"; return 1; }
	done
}
check broker_topics broker_default_topics

busy_port() {
	# a second broker on the same port must refuse, saying why
	! "$BIN/pd_broker" --port "$PORT" >"$WORK/b2.out" 2>"$WORK/b2.err" &&
		grep -q 'in use' "$WORK/b2.err" && [ ! -s "$WORK/b2.out" ]
}
check broker_port_in_use busy_port

# --- live events ----------------------------------------------------------
live() {
	simulate --dsn "$DSN" --topic t-live --seed 11 --stress-fraction 0.2 1000 0 >"$WORK/live.sum" || return 1
	cat "$WORK/live.sum"
	grep -q 'sent 1000 events to t-live (1000 valid, 0 bad), delivered 1000, delivery errors 0' "$WORK/live.sum" &&
		read_topic t-live "$WORK/live.msgs" &&
		$CHECK valid "$WORK/live.msgs" 1000 "$WORK/customers"
}
check simulate_live live

seeded() {
	simulate --dsn "$DSN" --topic t-seed1 --seed 5 --bad-fraction 0.05 300 0 &&
		simulate --dsn "$DSN" --topic t-seed2 --seed 5 --bad-fraction 0.05 300 0 &&
		read_topic t-seed1 "$WORK/s1.msgs" && read_topic t-seed2 "$WORK/s2.msgs" &&
		$CHECK same "$WORK/s1.msgs" "$WORK/s2.msgs"
}
check simulate_seed_deterministic seeded

bad() {
	simulate --dsn "$DSN" --topic t-bad --seed 3 --bad-fraction 0.1 700 0 >"$WORK/bad.sum" || return 1
	cat "$WORK/bad.sum"
	grep -q '(630 valid, 70 bad: truncated 10, wrong_type 10, unknown_customer 10, negative_amount 10, unknown_category 10, missing_field 10, binary_garbage 10)' "$WORK/bad.sum" &&
		read_topic t-bad "$WORK/bad.msgs" &&
		$CHECK bad "$WORK/bad.msgs" 700 70 "$WORK/customers"
}
check simulate_bad_events bad

paced() {
	local t0 t1
	t0=$(date +%s%N)
	simulate --dsn "$DSN" --topic t-paced --seed 1 21 50 || return 1
	t1=$(date +%s%N)
	# 20 pauses of 50 ms: at least a second (a lower bound, not a benchmark)
	echo "elapsed $(((t1 - t0) / 1000000)) ms"
	[ $(((t1 - t0) / 1000000)) -ge 1000 ] &&
		read_topic t-paced "$WORK/paced.msgs" &&
		$CHECK valid "$WORK/paced.msgs" 21 "$WORK/customers"
}
check simulate_paced paced

made_up_valid() {
	simulate --topic t-made-up --customers 50 --seed 2 200 0 || return 1
	read_topic t-made-up "$WORK/mu.msgs" || return 1
	# the made-up ids are the customers here
	python3 -c '
import json, sys
ids = set()
for line in open(sys.argv[1], "rb").read().split(b"\n"):
    if line.startswith(b"{"):
        ids.add(json.loads(line)["customer_id"])
print("\n".join(sorted(ids)))' "$WORK/mu.msgs" >"$WORK/mu.customers"
	[ "$(wc -l <"$WORK/mu.customers")" -le 50 ] &&
		$CHECK valid "$WORK/mu.msgs" 200 "$WORK/mu.customers"
}
check simulate_without_database made_up_valid

# --- replay -----------------------------------------------------------------
replay() {
	local from to rows
	# the last 10 days of the stored history
	to=$(psql_q -c "SELECT to_char(max(txn_time) + interval '1 microsecond', 'YYYY-MM-DD HH24:MI:SS.USOF') FROM pre_delinquency.transactions")
	from=$(psql_q -c "SELECT to_char(max(txn_time) - interval '10 days', 'YYYY-MM-DD HH24:MI:SS.USOF') FROM pre_delinquency.transactions")
	psql_q -c "\\copy (SELECT event_id, customer_id, txn_time AT TIME ZONE 'UTC', amount, txn_type, category, channel, coalesce(merchant_id, ''), is_failed FROM pre_delinquency.transactions WHERE txn_time >= '$from' AND txn_time < '$to' ORDER BY txn_time, event_id) TO '$WORK/rows.csv' CSV" || return 1
	rows=$(wc -l <"$WORK/rows.csv")
	echo "replay [$from, $to): $rows rows"
	[ "$rows" -gt 0 ] || return 1
	simulate --dsn "$DSN" --topic t-replay --replay "$from" "$to" 0 0 >"$WORK/replay.sum" || return 1
	cat "$WORK/replay.sum"
	grep -q "sent $rows events" "$WORK/replay.sum" &&
		read_topic t-replay "$WORK/replay.msgs" &&
		$CHECK replay "$WORK/replay.msgs" "$WORK/rows.csv"
}
check simulate_replay replay

replay_bad_range() {
	! simulate --dsn "$DSN" --topic t-replay --replay yesterday-ish tomorrow 0 0 2>"$WORK/err" &&
		grep -q -- '--replay' "$WORK/err"
}
check simulate_replay_bad_range replay_bad_range

# --- failures are reported ---------------------------------------------------
undeliverable() {
	local dead rc
	dead=$(free_port) # nothing listens there
	"$BIN/pd_simulate" --brokers "127.0.0.1:$dead" --seed 1 -X message.timeout.ms=1500 5 0 \
		>"$WORK/dead.sum" 2>"$WORK/dead.err"
	rc=$?
	cat "$WORK/dead.sum"
	[ $rc -eq 1 ] && grep -q 'delivered 0, delivery errors 5' "$WORK/dead.sum"
}
check simulate_delivery_errors_exit_1 undeliverable

usage_errors() {
	"$BIN/pd_simulate" 10 >/dev/null 2>&1
	[ $? -eq 2 ] || return 1
	"$BIN/pd_simulate" --bad-fraction 2 10 0 >/dev/null 2>&1
	[ $? -eq 2 ] || return 1
	"$BIN/pd_simulate" --replay 2025-01-01 2025-02-01 10 0 >/dev/null 2>&1
	[ $? -eq 2 ] || return 1
	"$BIN/pd_topics" >/dev/null 2>&1
	[ $? -eq 2 ]
}
check usage_errors_exit_2 usage_errors

topics_on_mock() {
	# the mock cluster has no CreateTopics: a clear error, exit 1
	"$BIN/pd_topics" --brokers "$BROKERS" --timeout 2000 --partitions 3 t-new >"$WORK/t.out" 2>"$WORK/t.err"
	local rc=$?
	cat "$WORK/t.out" "$WORK/t.err"
	[ $rc -eq 1 ] && grep -q 'pd_broker' "$WORK/t.err"
}
check topics_unsupported_on_pd_broker topics_on_mock

if [ -n "${PD_TEST_KAFKA:-}" ]; then
	real_kafka() {
		local t="pd-test-$$-$RANDOM"
		"$BIN/pd_topics" --brokers "$PD_TEST_KAFKA" --partitions 4 --replication 1 "$t" &&
			"$BIN/pd_topics" --brokers "$PD_TEST_KAFKA" --partitions 4 --replication 1 "$t" | tee /dev/stderr | grep -q "exists  $t (4 partitions)" &&
			kcat -b "$PD_TEST_KAFKA" -L -t "$t" | grep -q "with 4 partitions"
	}
	check topics_on_real_kafka real_kafka
fi

# --- stop ---------------------------------------------------------------------
broker_stops() {
	kill -TERM "$BROKER_PID"
	wait "$BROKER_PID"
	local rc=$?
	BROKER_PID=
	[ $rc -eq 0 ]
}
check broker_sigterm_exit_0 broker_stops

if [ $failures -gt 0 ]; then
	echo "test_tools: $failures check(s) FAILED"
	exit 1
fi
echo "test_tools: all checks ok"
