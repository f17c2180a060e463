# Helpers shared by the streaming suites (test/stream/test_stream.sh,
# test/faults/run.sh): check lines, psql one-liners, waiting for a
# condition, the workers' pids, and a scratch cluster with the workers
# preloaded. Source it from the project root after setting PD_PORT, PD_DB
# and PD_SCRATCH; the caller owns `failed` and its own clean-up.

check() { # name, condition (0 = ok), detail
	if [ "$2" -eq 0 ]; then echo "check $1 ok $3"; else echo "check $1 FAILED $3"; failed=1; fi
}

q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }

wait_for() { # sql that returns t when done, seconds
	for _ in $(seq $(($2 * 5))); do
		[ "$(q "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}

worker_pid() { # ingest | relay
	q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pre_delinquency $1'" 2>/dev/null
}

ingest_pid() { worker_pid ingest; }

# A fresh scratch cluster, the extension, a bank of $2 customers (seed 17),
# then the workers preloaded and pointed at broker list $1.
start_pipeline_cluster() { # brokers, customers
	scripts/pg_scratch.sh destroy >/dev/null 2>&1
	scripts/pg_scratch.sh start || exit 1
	eval "$(scripts/pg_scratch.sh env)"
	q "CREATE EXTENSION pre_delinquency"
	q "SET client_min_messages = warning; SELECT count(*) FROM pre_delinquency.generate_synthetic($2, 200, 17)" >/dev/null
	# PD_WORKER_ROLE: the workers connect as that role (created here, with
	# LOGIN and the extension's pre_delinquency_worker privileges only)
	[ -z "${PD_WORKER_ROLE:-}" ] || q "CREATE ROLE $PD_WORKER_ROLE LOGIN IN ROLE pre_delinquency_worker"
	psql -qX -v ON_ERROR_STOP=1 \
		-c "LOAD 'pre_delinquency'" \
		-c "ALTER SYSTEM SET pre_delinquency.worker_role = '${PD_WORKER_ROLE:-}'" \
		-c "ALTER SYSTEM SET shared_preload_libraries = 'pre_delinquency'" \
		-c "ALTER SYSTEM SET pre_delinquency.database = '$PD_DB'" \
		-c "ALTER SYSTEM SET pre_delinquency.kafka_brokers = '$1'" \
		-c "ALTER SYSTEM SET pre_delinquency.batch_wait = '20ms'"
	scripts/pg_scratch.sh stop && scripts/pg_scratch.sh start || exit 1
}
