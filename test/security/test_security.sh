#!/usr/bin/env bash
# The security review's tests beyond pg_regress (docs/SECURITY.md):
#   1. no SQL built from strings: check_sql_strings.py passes on the tree and
#      fails on every planted example under test/security/planted/;
#   2. broker credentials never reach the server log, worker_status or the
#      settings views: a scratch Postgres with the workers preloaded, SASL
#      settings holding marked secrets, then a reload with a bad property, a
#      logged ALTER SYSTEM, a syntax error quoting a secret, a secret as a
#      refused value and as an entry without '='.
# Prints "check <name> ok|FAILED ..." lines; exits non-zero on a failure.
# Port: PD_SECURITY_PORT (default 55452). Needs: make (bin/pd_broker).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

failed=0
check() { # name, condition (0 = ok), detail
	if [ "$2" -eq 0 ]; then echo "check $1 ok $3"; else echo "check $1 FAILED $3"; failed=1; fi
}

# --- 1. no SQL built from strings ---------------------------------------------
out=$(python3 test/security/check_sql_strings.py 2>&1)
check sql_strings_tree $? "($(tail -1 <<<"$out"))"
[ "$failed" -eq 0 ] || sed 's/^/    /' <<<"$out"
for f in test/security/planted/*; do
	name=$(basename "$f")
	python3 test/security/check_sql_strings.py "$f" >/dev/null 2>&1
	status=$?
	case $name in
	ok_*) check "sql_strings_planted_$name" "$([ $status = 0 ] && echo 0 || echo 1)" "(must pass: exit $status)" ;;
	*) check "sql_strings_planted_$name" "$([ $status = 1 ] && echo 0 || echo 1)" "(must be caught: exit $status)" ;;
	esac
done

# --- 2. broker credentials stay secret ----------------------------------------
export PD_PORT=${PD_SECURITY_PORT:-55452}
export PD_DB=pd_security
export PD_SCRATCH=/tmp/pre_delinquency.security.$PD_PORT
work=$(mktemp -d /tmp/pd_security_test.XXXXXX)
broker_pid=
cleanup() {
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
	scripts/pg_scratch.sh destroy >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

bin/pd_broker --partitions 2 >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
for _ in $(seq 50); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
brokers=$(head -1 "$work/broker.out" | sed 's/^bootstrap.servers=//')
[ -n "$brokers" ] || { echo "pd_broker did not start:"; cat "$work/broker.err"; exit 1; }

# Each secret is unique, so that a hit says which path leaked it.
s1=PdSecretOne$RANDOM s2=PdSecretTwo$RANDOM s3=PdSecretThree$RANDOM
s4=PdSecretFour$RANDOM s5=PdSecretFive$RANDOM
scripts/pg_scratch.sh destroy >/dev/null 2>&1
PD_EXTRA_CONF="shared_preload_libraries = 'pre_delinquency'
pre_delinquency.database = '$PD_DB'
pre_delinquency.kafka_brokers = '$brokers'
pre_delinquency.kafka_properties = 'security.protocol=sasl_plaintext;sasl.mechanisms=PLAIN;sasl.username=pd;sasl.password=$s1'
log_statement = 'all'" scripts/pg_scratch.sh start || exit 1
eval "$(scripts/pg_scratch.sh env)"
log=$PD_SCRATCH/postgres.log
q() { psql -qXAt -c "$1"; }
q "CREATE EXTENSION pre_delinquency"

ingest_pid() { q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pre_delinquency ingest'"; }
wait_for_ingest() { # seconds; prints the pid
	local pid
	for _ in $(seq $(($1 * 5))); do
		pid=$(ingest_pid)
		[ -n "$pid" ] && { echo "$pid"; return 0; }
		sleep 0.2
	done
	return 1
}
first_pid=$(wait_for_ingest 30)
sleep 3 # let the workers talk SASL to a broker that does not speak it

# A new secret and a property librdkafka refuses, through a logged
# ALTER SYSTEM and a reload: the workers restart and fail on the property.
q "ALTER SYSTEM SET pre_delinquency.kafka_properties = 'sasl.password=$s2;bogus.property=1'"
q "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 50); do grep -q 'refused property "bogus.property"' "$log" && break; sleep 0.2; done
check bad_property_named "$(grep -q 'refused property "bogus.property"' "$log" && echo 0 || echo 1)" \
	"(the server log names the refused key)"
check reload_notice_redacted "$(grep -q 'kafka_properties" changed (value not shown)' "$log" && echo 0 || echo 1)" \
	"(the postmaster's 'changed to' line, value not shown)"
# (the ingest worker leaves its group first, waiting at most 5 s for brokers
# it cannot authenticate with)
for _ in $(seq 75); do [ "$(ingest_pid)" != "$first_pid" ] && break; sleep 0.2; done
second_pid=$(ingest_pid)
# (the new one fails on bogus.property and is restarted every second, so
# there may be no pid at this instant)
exited=$(grep -c "worker \"pre_delinquency ingest\" (PID $first_pid) exited" "$log")
check workers_restart_on_new_credentials "$([ -n "$first_pid" ] && [ "$second_pid" != "$first_pid" ] && [ "$exited" = 1 ] && echo 0 || echo 1)" \
	"(ingest pid $first_pid exited after the change: $exited; now ${second_pid:-between restarts})"

# A syntax error quoting a secret; a secret librdkafka refuses as a value;
# a secret in an entry without '='.
psql -qXAt -c "ALTER SYSTEM SET pre_delinquency.kafka_properties = 'sasl.password=$s3" >/dev/null 2>&1
q "ALTER SYSTEM SET pre_delinquency.kafka_properties = 'security.protocol=$s4'"
q "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 50); do grep -q 'refused property "security.protocol"' "$log" && break; sleep 0.2; done
q "ALTER SYSTEM SET pre_delinquency.kafka_properties = '$s5'"
q "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 50); do grep -q "an entry has no '='" "$log" && break; sleep 0.2; done
check refused_value_not_echoed "$(grep -q 'refused property "security.protocol"' "$log" && echo 0 || echo 1)" \
	"(librdkafka refused the value; the log names the key)"
check entry_without_equals_not_echoed "$(grep -q "an entry has no '='" "$log" && echo 0 || echo 1)" ""

# What others can see: views, worker_status, the settings.
q "CREATE ROLE pd_security_reader LOGIN IN ROLE pre_delinquency_reader"
{
	q "SELECT * FROM pre_delinquency.worker_status"
	q "SELECT * FROM pre_delinquency.pipeline_stats"
	q "SELECT name, setting FROM pg_settings"
	q "SHOW ALL"
	psql -qXAt -U pd_security_reader -c "SELECT * FROM pre_delinquency.worker_status"
	psql -qXAt -U pd_security_reader -c "SHOW pre_delinquency.kafka_properties" 2>&1
} >"$work/views" 2>&1
for n in 1 2 3 4 5; do
	secret_var=s$n
	secret=${!secret_var}
	in_log=$(grep -c "$secret" "$log")
	in_views=$(grep -c "$secret" "$work/views")
	check "secret_$n""_hidden" "$([ "$in_log" = 0 ] && [ "$in_views" = 0 ] && echo 0 || echo 1)" \
		"(in the server log $in_log times, in views/settings/worker_status $in_views times)"
	[ "$in_log" = 0 ] || grep "$secret" "$log" | head -3 | sed 's/^/    | /'
done
# and the superuser still can (it is a setting, not a black hole)
check superuser_reads_setting "$([ "$(q 'SHOW pre_delinquency.kafka_properties')" = "$s5" ] && echo 0 || echo 1)" ""
exit $failed
