#!/usr/bin/env bash
# make test-faults: fault injection against the real Apache Kafka broker.
# A scratch Postgres with the workers preloaded, a single-node KRaft broker
# (scripts/kafka.sh), events from bin/pd_simulate and the poison corpus
# (test/faults/corpus/), and these faults, one case each:
#   poison         malformed, truncated, mistyped, unknown, NaN, huge, empty,
#                  binary, 10 MB, duplicate and out-of-order events
#   big_backlog    120 MB of 10 MB messages waiting while Postgres is down:
#                  batches stay bounded (32 MB of payload)
#   ingest_kill9   kill -9 of the ingest worker at random moments
#   relay_kill9    kill -9 of the relay worker while a produce quota makes the
#                  broker acknowledge slowly
#   pg_crash       immediate shutdown of Postgres mid-stream, then restart
#   broker_kill9   SIGKILL of the broker under load, restarted at once, then
#                  down for a long while
# After each case (every message consumed, the outbox empty), test/faults/
# verify.py reads the topics back and compares them with the database:
# 0 lost, 0 duplicated rows, dead letters exactly the bad messages with their
# reason, every risk_scores / interventions id on its topic, both workers
# running. Prints "check <name> ok|FAILED" lines and a table.
#
# PD_FAULTS=full (default) | short (make test: fewer, shorter faults)
# PD_FAULTS_PORT (Postgres, default 55464), PD_FAULTS_KAFKA_PORT (default
# 55460; the broker also uses the next port), PD_FAULTS_SEED (random kill
# moments; default: printed), PD_FAULTS_BROKER=kafka | pd_broker (pd_broker
# only to develop the harness: it loses its messages when killed).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

mode=${PD_FAULTS:-full}
case $mode in full | short) ;; *) echo "PD_FAULTS must be full or short, not $mode"; exit 2 ;; esac
export PD_PORT=${PD_FAULTS_PORT:-55464}
export PD_DB=pd_faults
export PD_SCRATCH=/tmp/pre_delinquency.faults.$PD_PORT
kafka_port=${PD_FAULTS_KAFKA_PORT:-55460}
seed=${PD_FAULTS_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
work=$(mktemp -d /tmp/pd_faults.XXXXXX)
failed=0
sim_pid=
source test/stream/lib.sh
source test/faults/broker.sh

if [ "$mode" = full ]; then
	ingest_kills=20 relay_kills=3 pg_crashes=5 broker_kills=2 broker_down=60
else
	ingest_kills=4 relay_kills=2 pg_crashes=2 broker_kills=0 broker_down=15
fi
customer=c0ffee00-0000-4000-8000-000000000001 # the corpus' customer

cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	scripts/pg_scratch.sh destroy >/dev/null 2>&1
	broker_stop
	rm -rf "$work"
}
trap cleanup EXIT
# ^C or a kill: exit through the EXIT trap, which stops the broker (it runs
# in its own session and would not get the signal)
trap 'exit 130' INT TERM HUP

# A random number of tenths of a second in [$1, $2] tenths.
pause() { sleep "$(awk -v t=$(($1 + RANDOM % ($2 - $1 + 1))) 'BEGIN { printf "%.1f", t / 10 }')"; }

# Waits until Postgres answers again (after a crash-restart of the cluster).
wait_postgres() {
	for _ in $(seq 300); do [ "$(q 'SELECT 1' 2>/dev/null)" = 1 ] && return 0; sleep 0.2; done
	return 1
}

# Waits until worker $1 runs with a pid other than $2.
wait_worker() {
	local pid
	for _ in $(seq 300); do
		pid=$(worker_pid "$1")
		[ -n "$pid" ] && [ "$pid" != "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

# Live events for the bank's customers, 5 % bad, until stream_stop.
stream_start() { # seed, ms between events
	bin/pd_simulate --brokers "$brokers" --dsn "" --customers 0 --seed "$1" --bad-fraction 0.05 \
		-X message.timeout.ms=300000 0 "$2" >"$work/sim.$1" 2>&1 &
	sim_pid=$!
	# a fault must not hit pd_simulate's start (it reads the customers from
	# Postgres): wait for its first events in the database
	local before
	before=$(q "SELECT count(*) FROM pre_delinquency.transactions")
	for _ in $(seq 150); do
		[ "$(q "SELECT count(*) FROM pre_delinquency.transactions")" -gt "$before" ] && return 0
		kill -0 "$sim_pid" 2>/dev/null || break
		sleep 0.2
	done
	echo "    pd_simulate sent nothing: $(tail -3 "$work/sim.$1")"
}

stream_stop() { # seed
	kill -INT "$sim_pid" 2>/dev/null
	wait "$sim_pid"
	echo "    pd_simulate (exit status $?): $(tail -1 "$work/sim.$1")"
	sim_pid=
}

# Sum of the end offsets of transactions-stream's partitions. Only while
# nothing produces to it: kcat -e does not end while messages keep coming.
topic_end() {
	timeout 120 kcat -b "$brokers" -C -t transactions-stream -o -1 -e -q -f '%p %o\n' \
		-X fetch.message.max.bytes=33554432 2>/dev/null | awk '{ s += $2 + 1 } END { print s + 0 }'
}

# Every message consumed and every outbox row sent.
settle() { # seconds
	local end
	end=$(topic_end)
	wait_for "SELECT coalesce(sum(next_offset), 0) = $end AND NOT EXISTS (SELECT FROM pre_delinquency.outbox)
	          FROM pre_delinquency.kafka_offsets WHERE topic = 'transactions-stream'" "$1"
}

table=$work/table
printf '%-14s %8s %8s %10s %5s %12s %16s %7s  %s\n' case sent "rows+dl" duplicates lost "dead letters" "missing on topic" workers faults >"$table"

# Checks and a table row for case $1 after its faults ($2: description).
verify_case() {
	local name=$1 faults=$2 out workers
	if ! settle 240; then
		echo "    $name: not settled after 240 s: $(q "SELECT string_agg(worker || ' ' || coalesce(pid::text, '-') || ' ' || state, '; ') FROM pre_delinquency.worker_status" 2>&1), outbox $(q 'SELECT count(*) FROM pre_delinquency.outbox' 2>&1), stored $(q "SELECT sum(next_offset) FROM pre_delinquency.kafka_offsets" 2>&1), topic end $(topic_end)"
	fi
	out=$(python3 test/faults/verify.py --brokers "$brokers" --marks "$work/marks" 2>"$work/problems.$name") ||
		{ check "${name}_verified" 1 "(verify.py failed: $(tail -3 "$work/problems.$name"))"; return; }
	local sent distinct_good dead_expected in_db duplicates lost wrong_reason good_dead_lettered
	local scores interventions prediction_msgs intervention_msgs missing_on_topic
	eval "$out"
	sed 's/^/    /' "$work/problems.$name"
	workers=$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('pre_delinquency ingest', 'pre_delinquency relay')")
	check "${name}_no_loss" "$([ "$lost" = 0 ] && [ "$good_dead_lettered" = 0 ] && [ "$sent" -gt 0 ] && echo 0 || echo 1)" \
		"($sent sent: $distinct_good distinct good events, $dead_expected bad; lost $lost, good ones dead-lettered $good_dead_lettered)"
	check "${name}_no_duplicates" "$([ "$duplicates" = 0 ] && echo 0 || echo 1)" "($duplicates duplicated rows)"
	check "${name}_dead_letters_exact" "$([ "$wrong_reason" = 0 ] && [ "$in_db" = $((distinct_good + dead_expected)) ] && echo 0 || echo 1)" \
		"($dead_expected expected, $wrong_reason with another reason; $in_db rows and dead letters for $((distinct_good + dead_expected)))"
	check "${name}_ids_on_topics" "$([ "$missing_on_topic" = 0 ] && [ "$scores" -gt 0 ] && echo 0 || echo 1)" \
		"($scores risk scores, $interventions interventions, $missing_on_topic missing; $prediction_msgs + $intervention_msgs messages)"
	check "${name}_workers_running" "$([ "$workers" = 2 ] && echo 0 || echo 1)" "($workers of 2)"
	printf '%-14s %8s %8s %10s %5s %12s %16s %7s  %s\n' "$name" "$sent" "$in_db" "$duplicates" "$lost" \
		"$dead_expected/$((dead_expected - wrong_reason))" "$missing_on_topic" "$workers/2" "$faults" >>"$table"
}

echo "fault injection: $mode run, broker $broker_kind, seed $seed (PD_FAULTS_SEED=$seed repeats the kill moments)"

# --- set-up -----------------------------------------------------------------
broker_start || exit 1
broker_topics || { echo "could not create the topics on $brokers"; exit 1; }
start_pipeline_cluster "$brokers" 300 >/dev/null
q "INSERT INTO pre_delinquency.customers (customer_id, monthly_income, salary_day, income_bracket, account_type, opened_at)
   VALUES ('$customer', 5200, 25, 'middle', 'savings', '2024-01-01')"
wait_for "SELECT count(*) = 2 FROM pre_delinquency.worker_status WHERE pid IS NOT NULL" 60 ||
	{ echo "the workers did not start"; exit 1; }

# --- poison: the corpus, one message per file, key = the corpus' customer -----
send_file() { # file, expected outcome, [kcat options]
	local file=$1 expect=$2
	shift 2
	kcat -b "$brokers" -P -t transactions-stream -k "$customer" -H "pd-expect=$expect" \
		-X message.max.bytes=16777216 "$@" "$file" 2>>"$work/kcat.err" ||
		echo "    could not send $file"
}
sent_corpus=0
for f in test/faults/corpus/*__*; do
	name=$(basename "$f")
	expect=${name%%__*}
	if [ -s "$f" ]; then
		send_file "$f" "$expect"
	else # kcat sends no message for an empty file: an empty value, and a null one
		printf '%s|\n' "$customer" | kcat -b "$brokers" -P -t transactions-stream -K'|' -H "pd-expect=$expect" 2>>"$work/kcat.err"
		printf '%s|\n' "$customer" | kcat -b "$brokers" -P -Z -t transactions-stream -K'|' -H "pd-expect=$expect" 2>>"$work/kcat.err"
		sent_corpus=$((sent_corpus + 1))
	fi
	sent_corpus=$((sent_corpus + 1))
done
# Generated, not stored: one byte over the 64 kB limit, and 10 MB of JSON and
# of binary (the topic allows 16 MB; the dead letter keeps every byte).
big=0
python3 - "$work" "$customer" <<'PY'
import json, os, sys
d, c = sys.argv[1], sys.argv[2]
e = {"event_id": "f00d0000-0000-4000-8000-00000000bbbb", "customer_id": c,
     "txn_time": "2026-11-20T10:00:00Z", "amount": 1, "txn_type": "debit",
     "category": "dining", "channel": "card", "is_failed": False, "merchant_id": ""}
base = len(json.dumps(e))
for name, size in (("over_64k", 64 * 1024 + 1), ("10mb_json", 10 * 1024 * 1024)):
    e["merchant_id"] = "M" * (size - base)
    open(os.path.join(d, name), "w").write(json.dumps(e))
open(os.path.join(d, "10mb_binary"), "wb").write(b"\xff" + os.urandom(10 * 1024 * 1024 - 1))
PY
for f in over_64k 10mb_json 10mb_binary; do
	if [ "$f" != over_64k ] && [ "$broker_kind" != kafka ]; then
		echo "    skipped $f: pd_broker keeps about 5 MB per partition"
		continue
	fi
	send_file "$work/$f" oversized
	big=$((big + 1))
done
verify_case poison "$sent_corpus corpus + $big oversized"
amount=$(q "SELECT amount FROM pre_delinquency.transactions WHERE event_id = 'f00d0000-0000-4000-8000-000000000002'")
check poison_first_of_duplicate_ids_wins "$([ "$amount" = 10.00 ] && echo 0 || echo 1)" "(amount $amount, 10.00 expected)"
bytes=$(q "SELECT string_agg(octet_length(payload)::text, ' ' ORDER BY dead_letter_id) FROM pre_delinquency.dead_letters WHERE reason = 'oversized'")
want=$(wc -c <"$work/over_64k")
[ "$big" = 3 ] && want="$want 10485760 10485760"
check poison_oversized_kept_whole "$([ "$bytes" = "$want" ] && echo 0 || echo 1)" "(dead letter payloads: $bytes bytes; $want expected)"

# --- big_backlog: 12 x 10 MB waiting for the ingest worker -------------------
# A regression check: a batch stops at 32 MB of payload (ingest_worker.c),
# so 120 MB of oversized messages take at least 3 batches, even with a
# batch_wait long enough to gather them all (before: one batch, and memory
# growing with the backlog until an out-of-memory kill restarted the cluster
# and the same batch came round again).
if [ "$broker_kind" = kafka ]; then
	q "ALTER SYSTEM SET pre_delinquency.batch_wait = '2s'"
	scripts/pg_scratch.sh stop
	for i in $(seq 12); do echo "$work/10mb_binary"; done | xargs kcat -b "$brokers" -P -t transactions-stream \
		-k "$customer" -H pd-expect=oversized -X message.max.bytes=16777216 2>>"$work/kcat.err"
	scripts/pg_scratch.sh start >/dev/null || exit 1
	settle 120
	read -r batches events < <(q "SELECT batches, events FROM pre_delinquency.worker_status WHERE worker = 'ingest'" | tr '|' ' ')
	peak=$(awk '/VmHWM/ { printf "%d MB", $2 / 1024 }' "/proc/$(worker_pid ingest)/status" 2>/dev/null)
	check big_backlog_batches_bounded "$([ "$events" = 12 ] && [ "$batches" -ge 3 ] && echo 0 || echo 1)" \
		"(12 messages of 10 MB in $batches batches, 3 or more expected; ingest worker peak memory $peak)"
	q "ALTER SYSTEM RESET pre_delinquency.batch_wait"
	q "SELECT pg_reload_conf()" >/dev/null
	verify_case big_backlog "12 x 10 MB while Postgres was down"
fi

# --- ingest_kill9: kill -9 of the ingest worker at random moments ------------
# Half the kills hit a worker that has just started (joining the group,
# reading its stored offsets), half one that has been consuming for a while.
stream_start 101 2
kills=0
for i in $(seq "$ingest_kills"); do
	if [ $((RANDOM % 2)) = 0 ]; then pause 0 10; else
		wait_for "SELECT state IN ('consuming', 'ingesting') FROM pre_delinquency.worker_status WHERE worker = 'ingest'" 30
		pause 0 20
	fi
	pid=$(worker_pid ingest)
	[ -n "$pid" ] && kill -9 "$pid" && kills=$((kills + 1))
	wait_postgres
	wait_worker ingest "$pid"
done
stream_stop 101
check ingest_kill9_faults_injected "$([ "$kills" -ge "$ingest_kills" ] && echo 0 || echo 1)" "($kills kill -9 of $ingest_kills)"
verify_case ingest_kill9 "$kills x kill -9 ingest"

# --- relay_kill9: kill -9 of the relay while acknowledgements are slow ------
broker_throttle_relay 4096 || check relay_kill9_quota_set 1 ""
# Each kill comes while the relay is producing a backlog (assess_all: a
# prediction for every customer), a random moment after it started.
stream_start 202 5
kills=0
for i in $(seq "$relay_kills"); do
	q "SET client_min_messages = warning; SELECT count(*) FROM pre_delinquency.assess_all()" >/dev/null
	wait_for "SELECT state = 'producing' FROM pre_delinquency.worker_status WHERE worker = 'relay'" 20
	pause 5 30
	pid=$(worker_pid relay)
	depth=$(q "SELECT count(*) FROM pre_delinquency.outbox")
	state=$(q "SELECT state FROM pre_delinquency.worker_status WHERE worker = 'relay'")
	[ -n "$pid" ] && kill -9 "$pid" && kills=$((kills + 1)) && echo "    relay killed while $state, $depth rows in the outbox"
	wait_postgres
	wait_worker relay "$pid"
done
stream_stop 202
broker_throttle_relay off
check relay_kill9_faults_injected "$([ "$kills" -ge "$relay_kills" ] && echo 0 || echo 1)" "($kills kill -9 of $relay_kills)"
verify_case relay_kill9 "$kills x kill -9 relay, quota 4 kB/s"

# --- pg_crash: immediate shutdown and restart mid-stream ---------------------
stream_start 303 2
crashes=0
for i in $(seq "$pg_crashes"); do
	pause 10 40
	scripts/pg_scratch.sh crash && crashes=$((crashes + 1))
	pause 0 20
	scripts/pg_scratch.sh start >/dev/null || echo "    Postgres did not start again"
	wait_worker ingest ""
done
stream_stop 303
check pg_crash_faults_injected "$([ "$crashes" -ge "$pg_crashes" ] && echo 0 || echo 1)" "($crashes immediate shutdowns of $pg_crashes)"
verify_case pg_crash "$crashes x immediate shutdown"

# --- broker_kill9: SIGKILL of the broker under load, then a long outage ------
if broker_keeps_data; then
	stream_start 404 2
	kills=0
	for i in $(seq "$broker_kills"); do
		pause 20 40
		broker_kill && kills=$((kills + 1))
		broker_start || echo "    the broker did not start again"
	done
	pause 20 40
	broker_kill && kills=$((kills + 1))
	sleep "$broker_down"
	broker_start || echo "    the broker did not start again"
	sleep 3
	stream_stop 404
	check broker_kill9_faults_injected "$([ "$kills" -ge $((broker_kills + 1)) ] && echo 0 || echo 1)" "($kills SIGKILLs, the last one down ${broker_down} s)"
	verify_case broker_kill9 "$kills x SIGKILL broker, down ${broker_down} s"
else
	echo "    broker_kill9 not run: $broker_kind loses its messages when killed (PD_FAULTS_BROKER=kafka)"
fi

echo
cat "$table"
psql -qX -c "SELECT worker, pid, state, batches, events, errors FROM pre_delinquency.worker_status" | sed 's/^/    /'
[ "$broker_kind" = kafka ] || { echo "not the real broker: this run does not count"; failed=1; }
exit $failed
