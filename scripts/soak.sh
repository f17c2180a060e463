#!/usr/bin/env bash
# make soak: a long streaming run through the normal build, sampling the
# memory of the ingest and relay workers, to show whether it stays flat.
#
# A scratch cluster with the workers preloaded, a generated bank, the
# embedded broker (bin/pd_broker) and bin/pd_simulate sending live events of
# that bank at a steady rate (the broker keeps only ~5 MB per partition, so
# the rate must stay below what ingest sustains: the lag column shows it).
# Every SOAK_INTERVAL seconds one line: elapsed time, events consumed,
# consumer lag, outbox depth, and RssAnon (from /proc/<pid>/status) of both
# workers; the samples also go to build/soak/soak.csv. Ends with the growth
# of each worker over the first and second halves of the run.
#
# With SOAK_BROKER=kafka the broker is a real Apache Kafka (scripts/kafka.sh,
# C2 compiler on), which keeps every event, so the rate may exceed what
# ingest sustains: the lag then grows and ingest works through it in big
# batches. That is how a run of 10 million events fits in a quarter of an
# hour:  SOAK_BROKER=kafka SOAK_EVENTS=10000000 SOAK_RATE=20000 make soak
#
# Settings (environment):
#   SOAK_SECONDS   length of the run (default 900)
#   SOAK_RATE      events per second (default 400)
#   SOAK_EVENTS    events to send (default SOAK_SECONDS * SOAK_RATE)
#   SOAK_BROKER    pd_broker (default) or kafka
#   PD_SOAK_KAFKA_PORT  Kafka's port with SOAK_BROKER=kafka (default 55457;
#                  its controller takes the next one)
#   SOAK_INTERVAL  seconds between samples (default 30)
#   SOAK_CUSTOMERS customers of the generated bank (default 2000)
#   SOAK_BAD       share of malformed events, dead-lettered (default 0.01)
#   SOAK_KAFKA_PROPERTIES  pre_delinquency.kafka_properties for the run
#   SOAK_CSV       where the samples go (default build/soak/soak.csv)
#   PD_SOAK_PORT   port of its PostgreSQL (default 55456)
#   PD_SOAK_BROKER_PORT  port of its pd_broker (default 0: the kernel's pick)
#   SOAK_MAX_GROWTH_MB   if set, fail when a worker grew by more than this
#                        over the second half of the run
#   SOAK_HEAP=1    also sample malloc's bytes in use (mallinfo2 through gdb,
#                  which pauses the worker for a moment), to tell a leak (in
#                  use grows) from fragmentation or caches (only RSS grows)
#
# At the start and the end it also logs the workers' memory contexts
# (pg_log_backend_memory_contexts) and prints their grand totals: what
# PostgreSQL's own allocations hold, apart from librdkafka's and json-c's.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$PD_ROOT"

seconds=${SOAK_SECONDS:-900}
rate=${SOAK_RATE:-400}
interval=${SOAK_INTERVAL:-30}
customers=${SOAK_CUSTOMERS:-2000}
bad=${SOAK_BAD:-0.01}
for setting in "seconds=$seconds" "rate=$rate" "interval=$interval" "customers=$customers" "events=${SOAK_EVENTS:-1}"; do
	[[ ${setting#*=} =~ ^[1-9][0-9]*$ ]] ||
		{ echo "soak.sh: ${setting%%=*} must be a positive whole number, not '${setting#*=}'" >&2; exit 2; }
done
export PD_PORT=${PD_SOAK_PORT:-55456}
export PD_DB=pd_soak
export PD_SCRATCH=/tmp/pre_delinquency.soak.$PD_PORT
out=$PD_ROOT/build/soak
work=$(mktemp -d /tmp/pd_soak.XXXXXX)
broker_pid=
sim_pid=

cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
	[ -d "$work/kafka" ] && scripts/kafka.sh stop "$work/kafka" >/dev/null 2>&1
	scripts/pg_scratch.sh destroy >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }

# RssAnon of a process in MB (one decimal), or "-" if it is gone
rss_mb() {
	awk '/^RssAnon:/ { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) print "-" }' \
		"/proc/$1/status" 2>/dev/null || echo -
}

# malloc's bytes in use in MB (all arenas, mmapped chunks included), or "-"
# without SOAK_HEAP or gdb
heap_mb() {
	[ -n "${SOAK_HEAP:-}" ] && command -v gdb >/dev/null || { echo -; return; }
	timeout 60 gdb -p "$1" -batch \
		-ex 'print (long) (mallinfo2().uordblks + mallinfo2().hblkhd)' 2>/dev/null |
		awk '/^\$1 = / { printf "%.1f", $3 / 1048576; found = 1 } END { if (!found) print "-" }'
}

# The grand total of a backend's memory contexts, in kB, from the server log
contexts_kb() {
	local before
	before=$(wc -l <"$PD_SCRATCH/postgres.log")
	q "SELECT pg_log_backend_memory_contexts($1)" >/dev/null
	for _ in $(seq 60); do
		sleep 0.5
		tail -n +"$((before + 1))" "$PD_SCRATCH/postgres.log" | grep -q "\[$1\].*Grand total" && break
	done
	tail -n +"$((before + 1))" "$PD_SCRATCH/postgres.log" |
		sed -nE "s/.*\[$1\].*Grand total: ([0-9]+) bytes.*/\1/p" | tail -1 |
		awk '{ printf "%d", $1 / 1024 } END { if (NR == 0) print "?" }'
}

worker_pid() { q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pre_delinquency $1'"; }

say "building and installing (PG_CONFIG=${PG_CONFIG:-default})"
reserve_listen_ports
build_and_install
mkdir -p "$out"

case ${SOAK_BROKER:-pd_broker} in
pd_broker)
	bin/pd_broker --partitions 8 --port "${PD_SOAK_BROKER_PORT:-0}" >"$work/broker.out" 2>"$work/broker.err" &
	broker_pid=$!
	for _ in $(seq 50); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
	;;
kafka)
	kafka_port=${PD_SOAK_KAFKA_PORT:-55457}
	KAFKA_FULL_JIT=1 scripts/kafka.sh start "$work/kafka" "$kafka_port" >"$work/broker.out" 2>"$work/broker.err" ||
		{ cat "$work/broker.err"; echo "Kafka did not start." >&2; exit 1; }
	scripts/kafka.sh create-topics "$kafka_port" transactions-stream:8 predictions-stream:8 \
		interventions-stream:8 >/dev/null 2>>"$work/broker.err" ||
		{ cat "$work/broker.err"; echo "could not create the topics." >&2; exit 1; }
	;;
*) echo "SOAK_BROKER: pd_broker or kafka" >&2; exit 2 ;;
esac
brokers=$(head -1 "$work/broker.out" | sed 's/^bootstrap.servers=//')
[ -n "$brokers" ] || { cat "$work/broker.err"; echo "the broker did not start." >&2; exit 1; }

say "scratch PostgreSQL on port $PD_PORT, a bank of $customers customers, broker $brokers"
scripts/pg_scratch.sh destroy >/dev/null 2>&1
scripts/pg_scratch.sh start || exit 1
eval "$(scripts/pg_scratch.sh env)"
q "CREATE EXTENSION pre_delinquency"
q "SET client_min_messages = warning; SELECT count(*) FROM pre_delinquency.generate_synthetic($customers, 180, 7)" >/dev/null ||
	{ echo "could not generate the bank" >&2; exit 1; }
psql -qX -v ON_ERROR_STOP=1 \
	-c "LOAD 'pre_delinquency'" \
	-c "ALTER SYSTEM SET shared_preload_libraries = 'pre_delinquency'" \
	-c "ALTER SYSTEM SET pre_delinquency.database = '$PD_DB'" \
	-c "ALTER SYSTEM SET pre_delinquency.kafka_brokers = '$brokers'" \
	${SOAK_KAFKA_PROPERTIES:+-c "ALTER SYSTEM SET pre_delinquency.kafka_properties = '$SOAK_KAFKA_PROPERTIES'"} \
	>/dev/null || exit 1
scripts/pg_scratch.sh stop && scripts/pg_scratch.sh start || exit 1
for _ in $(seq 60); do
	[ "$(q "SELECT count(*) FROM pre_delinquency.worker_status WHERE state IN ('assigned', 'idle', 'consuming')")" = 2 ] && break
	sleep 1
done
ingest=$(worker_pid ingest)
relay=$(worker_pid relay)
[ -n "$ingest" ] && [ -n "$relay" ] || { echo "the workers did not start (log: $PD_SCRATCH/postgres.log)" >&2; exit 1; }

count=${SOAK_EVENTS:-$((seconds * rate))}
seconds=$(awk -v n="$count" -v r="$rate" 'BEGIN { printf "%d", n / r }')
delay=$(awk -v r="$rate" 'BEGIN { printf "%.4f", 1000 / r }')
say "streaming $count events at $rate/s for $seconds s; ingest pid $ingest, relay pid $relay"
bin/pd_simulate --brokers "$brokers" --dsn "" --customers 0 --seed 1 --bad-fraction "$bad" \
	"$count" "$delay" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!

csv=${SOAK_CSV:-$out/soak.csv}
echo "seconds,events,lag,outbox,ingest_rss_mb,relay_rss_mb,ingest_heap_mb,relay_heap_mb" >"$csv"
printf '%8s %10s %8s %8s %10s %10s %11s %11s\n' seconds events lag outbox \
	"ingest MB" "relay MB" "ingest heap" "relay heap"
start=$(date +%s)
sample() {
	local t events lag outbox ri rr hi hr
	t=$(($(date +%s) - start))
	events=$(q "SELECT events_consumed FROM pre_delinquency.pipeline_stats")
	lag=$(q "SELECT coalesce(sum(lag), 0) FROM pre_delinquency.consumer_lag")
	outbox=$(q "SELECT count(*) FROM pre_delinquency.outbox")
	ri=$(rss_mb "$ingest")
	rr=$(rss_mb "$relay")
	hi=$(heap_mb "$ingest")
	hr=$(heap_mb "$relay")
	printf '%8d %10s %8s %8s %10s %10s %11s %11s\n' "$t" "$events" "$lag" "$outbox" "$ri" "$rr" "$hi" "$hr"
	echo "$t,$events,$lag,$outbox,$ri,$rr,$hi,$hr" >>"$csv"
}
ci0=$(contexts_kb "$ingest")
cr0=$(contexts_kb "$relay")
sample
while kill -0 "$sim_pid" 2>/dev/null; do
	sleep "$interval"
	sample
done
wait "$sim_pid"
sim_status=$?
# let ingest and relay drain, sampling on (a backlog on Kafka takes a
# while; at most an hour), then the last sample
drained() {
	[ "$(q "SELECT (SELECT coalesce(sum(lag), 0) FROM pre_delinquency.consumer_lag) = 0 AND (SELECT count(*) FROM pre_delinquency.outbox) = 0")" = t ]
}
drain_start=$(date +%s)
until drained || [ $(($(date +%s) - drain_start)) -gt 3600 ]; do
	for _ in $(seq "$interval"); do drained && break; sleep 1; done
	drained || sample
done
sample
sed 's/^/    /' "$work/sim.out"
echo "memory contexts (grand total): ingest ${ci0} kB -> $(contexts_kb "$ingest") kB," \
	"relay ${cr0} kB -> $(contexts_kb "$relay") kB"

[ "$(worker_pid ingest)" = "$ingest" ] && [ "$(worker_pid relay)" = "$relay" ] ||
	{ echo "a worker restarted during the run (log: $PD_SCRATCH/postgres.log): RSS figures are not one process's" >&2; exit 1; }

# growth over each half of the samples, per worker
awk -F, -v max="${SOAK_MAX_GROWTH_MB:-}" -v csv="${csv#$PD_ROOT/}" '
	NR > 1 { n++; e[n] = $2; i[n] = $5; r[n] = $6 }
	END {
		h = int((n + 1) / 2)
		printf "ingest RSS %.1f -> %.1f -> %.1f MB (start, middle, end): +%.1f MB in the first half, +%.1f MB in the second\n",
			i[1], i[h], i[n], i[h] - i[1], i[n] - i[h]
		printf "relay  RSS %.1f -> %.1f -> %.1f MB: +%.1f MB, +%.1f MB; %d events consumed, samples in %s\n",
			r[1], r[h], r[n], r[h] - r[1], r[n] - r[h], e[n], csv
		if (max != "" && (i[n] - i[h] > max || r[n] - r[h] > max)) {
			printf "a worker grew by more than %s MB over the second half\n", max
			exit 1
		}
	}' "$csv" || exit 1
[ "$sim_status" -eq 0 ] || { echo "pd_simulate failed: $(tail -3 "$work/sim.err")" >&2; exit 1; }
