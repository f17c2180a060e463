/*
 * pipeline_stats.c
 *    The pipeline's settings and shared-memory counters: the GUCs the
 *    workers read, the librdkafka configuration built from them, and the
 *    counters behind worker_status, pipeline_stats and consumer_lag.
 *
 * Counters live in one shared struct under a spinlock; they exist only when
 * the library is in shared_preload_libraries (without it there are no
 * workers to count, and the SQL functions answer empty).
 */
#include "postgres.h"

#include <librdkafka/rdkafka.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "partitions.h"
#include "pipeline.h"

char *pd_database = NULL;
char *pd_worker_role = NULL;
char *pd_kafka_brokers = NULL;
char *pd_kafka_properties = NULL;
char *pd_transactions_topic = NULL;
char *pd_predictions_topic = NULL;
char *pd_interventions_topic = NULL;
char *pd_consumer_group = NULL;
int pd_batch_size = 20000;
int pd_batch_wait_ms = 10;
int pd_ingest_workers = 1;
int pd_ingest_worker_index = 0;

#define LATENCY_WINDOW 4096
#define MAX_PARTITIONS 256
/* the ingest workers' slots, then the relay's */
#define RELAY_SLOT PD_MAX_INGEST_WORKERS
#define NUM_SLOTS  (PD_MAX_INGEST_WORKERS + 1)

typedef struct WorkerSlot
{
	int pid;
	char state[64];
	TimestampTz started_at;
	TimestampTz last_batch_at;
	int64 batches;
	int64 events;
	int64 errors;
	char last_error[256];
} WorkerSlot;

typedef struct PartitionMark
{
	char topic[64];
	int32 partition;
	int64 high_watermark;
} PartitionMark;

/* What one ingest worker consumes, for the ingest_assignment view. */
typedef struct AssignmentMark
{
	bool known; /* false until the worker assigned something */
	bool is_static;
	char topic[64];
	int topic_partitions; /* -1: unknown (group mode, no metadata yet) */
	int n_assigned;
	int32 assigned[MAX_PARTITIONS];
	int n_missing;
	int32 missing[MAX_PARTITIONS];
} AssignmentMark;

typedef struct PipelineShared
{
	slock_t mutex;
	TimestampTz reset_at;
	WorkerSlot workers[NUM_SLOTS];
	int64 consumed, inserted, duplicates, dead_letters, assessed,
	    interventions, produced, produce_errors;
	int latency_next;
	int latency_count;
	float latency_ms[LATENCY_WINDOW];
	int n_partitions;
	PartitionMark partitions[MAX_PARTITIONS];
	AssignmentMark assignment[PD_MAX_INGEST_WORKERS];
	Latch *relay_latch; /* the relay's PGPROC latch, NULL when not running */
} PipelineShared;

static PipelineShared *shared = NULL;

/* this process's slot for a worker of this kind */
static WorkerSlot *
slot_of(PdWorkerKind kind)
{
	return &shared->workers[kind == PD_WORKER_RELAY ? RELAY_SLOT
	                                                : pd_ingest_worker_index];
}

char *
pd_ingest_worker_name(const char *base, char separator, int index)
{
	return index == 0 ? pstrdup(base)
	                  : psprintf("%s%c%d", base, separator, index + 1);
}

/* worker_status' name of a slot: ingest, ingest 2, ..., relay */
static char *
slot_name(int slot)
{
	return slot == RELAY_SLOT ? "relay"
	                          : pd_ingest_worker_name("ingest", ' ', slot);
}

/* GUCs ------------------------------------------------------------------- */

static bool
check_positive_name(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("The name must not be empty.");
		return false;
	}
	return true;
}

void
pd_define_pipeline_gucs(void)
{
	DefineCustomStringVariable("pre_delinquency.database",
	                           "Database the background workers connect to.",
	                           NULL, &pd_database, "postgres", PGC_SIGHUP, 0,
	                           check_positive_name, NULL, NULL);
	DefineCustomStringVariable(
	    "pre_delinquency.worker_role",
	    "Role the background workers connect as; empty: the bootstrap "
	    "superuser.",
	    "A role with LOGIN and the privileges of pre_delinquency_worker "
	    "(GRANT pre_delinquency_worker TO it) is enough.",
	    &pd_worker_role, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable(
	    "pre_delinquency.kafka_brokers",
	    "Kafka bootstrap servers (host:port,...); empty: the workers wait.",
	    NULL, &pd_kafka_brokers, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable(
	    "pre_delinquency.kafka_properties",
	    "Extra librdkafka properties, key=value separated by ';' (e.g. "
	    "SASL/SSL).",
	    "Passed through verbatim; never shown in views or logs.",
	    &pd_kafka_properties, "", PGC_SIGHUP,
	    GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL,
	    NULL);
	DefineCustomStringVariable("pre_delinquency.transactions_topic",
	                           "Topic the ingest worker consumes.", NULL,
	                           &pd_transactions_topic, "transactions-stream",
	                           PGC_SIGHUP, 0, check_positive_name, NULL, NULL);
	DefineCustomStringVariable("pre_delinquency.predictions_topic",
	                           "Topic prediction events go to.", NULL,
	                           &pd_predictions_topic, "predictions-stream",
	                           PGC_SIGHUP, 0, check_positive_name, NULL, NULL);
	DefineCustomStringVariable("pre_delinquency.interventions_topic",
	                           "Topic intervention events go to.", NULL,
	                           &pd_interventions_topic, "interventions-stream",
	                           PGC_SIGHUP, 0, check_positive_name, NULL, NULL);
	DefineCustomStringVariable("pre_delinquency.consumer_group",
	                           "Kafka consumer group of the ingest worker.",
	                           NULL, &pd_consumer_group,
	                           "feature-processor-group", PGC_SIGHUP, 0,
	                           check_positive_name, NULL, NULL);
	DefineCustomStringVariable(
	    "pre_delinquency.partitions",
	    "Partitions of transactions_topic this database owns, e.g. 0-2,5; "
	    "empty: consumer-group assignment.",
	    "With a list the ingest worker assigns itself exactly these "
	    "partitions (static assignment, for several databases sharing one "
	    "topic); offsets are still mirrored to the consumer group.",
	    &pd_partitions_text, "", PGC_SIGHUP, 0, pd_check_partitions,
	    pd_assign_partitions, NULL);
	DefineCustomIntVariable("pre_delinquency.batch_size",
	                        "Most events in one ingest transaction.", NULL,
	                        &pd_batch_size, 20000, 1, 100000, PGC_SIGHUP, 0,
	                        NULL, NULL, NULL);
	DefineCustomIntVariable("pre_delinquency.batch_wait",
	                        "Longest an ingest batch collects events while "
	                        "more keep arriving.",
	                        NULL, &pd_batch_wait_ms, 10, 1, 60000, PGC_SIGHUP,
	                        GUC_UNIT_MS, NULL, NULL, NULL);
	/*
	 * Read once, when the postmaster registers the workers. A postmaster
	 * setting can only be defined while preloading (elsewhere it is FATAL),
	 * so a backend that merely LOADs the library knows it as a reloadable
	 * one: ALTER SYSTEM there can still set it for the next start.
	 */
	DefineCustomIntVariable(
	    "pre_delinquency.ingest_workers",
	    "Ingest workers consuming transactions_topic together (takes effect "
	    "at server start).",
	    "Each consumes its share of the partitions (the consumer group's "
	    "assignment, or every Nth owned partition with "
	    "pre_delinquency.partitions) in its own transactions; more than the "
	    "topic's partitions leaves some idle.",
	    &pd_ingest_workers, 1, 1, PD_MAX_INGEST_WORKERS,
	    process_shared_preload_libraries_in_progress ? PGC_POSTMASTER
	                                                 : PGC_SIGHUP,
	    0, NULL, NULL, NULL);
}

static void
set_conf(rd_kafka_conf_t *conf, const char *const (*pairs)[2], int n)
{
	char errstr[512];

	for (int i = 0; i < n; i++)
		if (rd_kafka_conf_set(conf, pairs[i][0], pairs[i][1], errstr,
		                      sizeof(errstr)) != RD_KAFKA_CONF_OK)
		{
			rd_kafka_conf_destroy(conf);
			elog(ERROR, "librdkafka refused %s: %s", pairs[i][0], errstr);
		}
}

rd_kafka_conf_t *
pd_kafka_conf(const char *const (*defaults)[2], int n_defaults,
              const char *const (*required)[2], int n_required)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];
	char *properties = pstrdup(pd_kafka_properties ? pd_kafka_properties : "");
	char *saveptr = NULL;

	/* our defaults, then the DBA's properties, then what we cannot do without
	 */
	set_conf(conf, defaults, n_defaults);

	if (rd_kafka_conf_set(conf, "bootstrap.servers", pd_kafka_brokers, errstr,
	                      sizeof(errstr)) != RD_KAFKA_CONF_OK)
	{
		rd_kafka_conf_destroy(conf);
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("invalid pre_delinquency.kafka_brokers: %s", errstr)));
	}
	for (char *pair = strtok_r(properties, ";\n", &saveptr); pair != NULL;
	     pair = strtok_r(NULL, ";\n", &saveptr))
	{
		char *eq = strchr(pair, '=');
		char *key = pair;

		while (*key == ' ' || *key == '\t')
			key++;
		if (*key == '\0')
			continue;
		if (eq == NULL)
		{
			rd_kafka_conf_destroy(conf);
			ereport(
			    ERROR,
			    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			     errmsg(
			         "pre_delinquency.kafka_properties: an entry has no '='"),
			     errhint("Write key=value pairs separated by ';'.")));
		}
		*eq = '\0';
		/* the value may be a secret: name the key only */
		if (rd_kafka_conf_set(conf, key, eq + 1, errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK)
		{
			rd_kafka_conf_destroy(conf);
			ereport(
			    ERROR,
			    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			     errmsg("pre_delinquency.kafka_properties: librdkafka refused "
			            "property \"%s\"",
			            key)));
		}
	}
	set_conf(conf, required, n_required);
	return conf;
}

/* Shared memory ---------------------------------------------------------- */

Size
pd_pipeline_shmem_size(void)
{
	return MAXALIGN(sizeof(PipelineShared));
}

void
pd_pipeline_shmem_attach(void)
{
	bool found;

	shared = ShmemInitStruct("pre_delinquency pipeline",
	                         sizeof(PipelineShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(PipelineShared));
		SpinLockInit(&shared->mutex);
		shared->reset_at = GetCurrentTimestamp();
	}
}

/* Counting --------------------------------------------------------------- */

/*
 * A worker leaving: its slot loses the pid, so that worker_status does not
 * show a process that is gone. (kill -9 skips this, but then the postmaster
 * restarts every backend and the workers take their slots again.)
 */
static void
worker_exited(int code, Datum arg)
{
	WorkerSlot *w = &shared->workers[DatumGetInt32(arg)];

	SpinLockAcquire(&shared->mutex);
	if (w->pid == MyProcPid)
	{
		w->pid = 0;
		strlcpy(w->state,
		        code == 0 ? "stopped (restarts with the server)" : "exited",
		        sizeof(w->state));
	}
	SpinLockRelease(&shared->mutex);
}

void
pd_stats_worker_started(PdWorkerKind kind)
{
	WorkerSlot *w;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	w = slot_of(kind);
	memset(w, 0, sizeof(WorkerSlot));
	w->pid = MyProcPid;
	w->started_at = GetCurrentTimestamp();
	strlcpy(w->state, "starting", sizeof(w->state));
	SpinLockRelease(&shared->mutex);
	on_shmem_exit(worker_exited, Int32GetDatum(w - shared->workers));
}

void
pd_stats_worker_state(PdWorkerKind kind, const char *state)
{
	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	strlcpy(slot_of(kind)->state, state, sizeof(slot_of(kind)->state));
	SpinLockRelease(&shared->mutex);
}

void
pd_stats_worker_error(PdWorkerKind kind, const char *message)
{
	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	slot_of(kind)->errors++;
	strlcpy(slot_of(kind)->last_error, message,
	        sizeof(slot_of(kind)->last_error));
	SpinLockRelease(&shared->mutex);
}

void
pd_pipeline_set_relay_latch(Latch *latch)
{
	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	shared->relay_latch = latch;
	SpinLockRelease(&shared->mutex);
}

void
pd_pipeline_wake_relay(void)
{
	Latch *latch;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	latch = shared->relay_latch;
	SpinLockRelease(&shared->mutex);
	if (latch != NULL)
		SetLatch(latch);
}

void
pd_stats_ingest_batch(int consumed, const PdIngestStats *stats)
{
	WorkerSlot *w;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	w = slot_of(PD_WORKER_INGEST);
	w->batches++;
	w->events += consumed;
	w->last_batch_at = GetCurrentTimestamp();
	shared->consumed += consumed;
	shared->inserted += stats->inserted;
	shared->duplicates += stats->duplicates;
	shared->dead_letters += stats->dead_letters;
	shared->assessed += stats->assessed;
	shared->interventions += stats->interventions;
	SpinLockRelease(&shared->mutex);
}

void
pd_stats_relay_batch(int produced, int failed, const double *latencies_ms,
                     int n_latencies)
{
	WorkerSlot *w;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	w = slot_of(PD_WORKER_RELAY);
	w->batches++;
	w->events += produced;
	w->last_batch_at = GetCurrentTimestamp();
	shared->produced += produced;
	shared->produce_errors += failed;
	for (int i = 0; i < n_latencies; i++)
	{
		shared->latency_ms[shared->latency_next] = (float) latencies_ms[i];
		shared->latency_next = (shared->latency_next + 1) % LATENCY_WINDOW;
		if (shared->latency_count < LATENCY_WINDOW)
			shared->latency_count++;
	}
	SpinLockRelease(&shared->mutex);
}

void
pd_stats_high_watermark(const char *topic, int32 partition, int64 high)
{
	int i;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->n_partitions; i++)
		if (shared->partitions[i].partition == partition &&
		    strcmp(shared->partitions[i].topic, topic) == 0)
			break;
	if (i == shared->n_partitions && i < MAX_PARTITIONS)
	{
		strlcpy(shared->partitions[i].topic, topic,
		        sizeof(shared->partitions[i].topic));
		shared->partitions[i].partition = partition;
		shared->n_partitions++;
	}
	if (i < MAX_PARTITIONS)
		shared->partitions[i].high_watermark = high;
	SpinLockRelease(&shared->mutex);
}

void
pd_stats_assignment(bool is_static, const char *topic, int topic_partitions,
                    const int32 *assigned, int n_assigned,
                    const int32 *missing, int n_missing)
{
	AssignmentMark *a;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	a = &shared->assignment[pd_ingest_worker_index];
	a->known = true;
	a->is_static = is_static;
	strlcpy(a->topic, topic, sizeof(a->topic));
	a->topic_partitions = topic_partitions;
	a->n_assigned = Min(n_assigned, MAX_PARTITIONS);
	a->n_missing = Min(n_missing, MAX_PARTITIONS);
	/* the lists may be NULL when empty: memcpy from NULL is undefined */
	if (a->n_assigned > 0)
		memcpy(a->assigned, assigned, sizeof(int32) * a->n_assigned);
	if (a->n_missing > 0)
		memcpy(a->missing, missing, sizeof(int32) * a->n_missing);
	SpinLockRelease(&shared->mutex);
}

/* SQL -------------------------------------------------------------------- */

static int
compare_floats(const void *a, const void *b)
{
	float x = *(const float *) a, y = *(const float *) b;

	return x < y ? -1 : x > y;
}

PG_FUNCTION_INFO_V1(pd_worker_status);
Datum
pd_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WorkerSlot slots[NUM_SLOTS];

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;
	SpinLockAcquire(&shared->mutex);
	memcpy(slots, shared->workers, sizeof(slots));
	SpinLockRelease(&shared->mutex);
	for (int k = 0; k < NUM_SLOTS; k++)
	{
		Datum v[9];
		bool n[9] = {false};

		/* the configured ingest workers (whether running or not), the relay */
		if (k >= pd_ingest_workers && k != RELAY_SLOT)
			continue;
		v[0] = CStringGetTextDatum(slot_name(k));
		v[1] = Int32GetDatum(slots[k].pid);
		n[1] = slots[k].pid == 0;
		v[2] = CStringGetTextDatum(slots[k].started_at != 0 ? slots[k].state
		                                                    : "not started");
		v[3] = TimestampTzGetDatum(slots[k].started_at);
		n[3] = slots[k].started_at == 0;
		v[4] = TimestampTzGetDatum(slots[k].last_batch_at);
		n[4] = slots[k].last_batch_at == 0;
		v[5] = Int64GetDatum(slots[k].batches);
		v[6] = Int64GetDatum(slots[k].events);
		v[7] = Int64GetDatum(slots[k].errors);
		v[8] = CStringGetTextDatum(slots[k].last_error);
		n[8] = slots[k].last_error[0] == '\0';
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pd_pipeline_counters);
Datum
pd_pipeline_counters(PG_FUNCTION_ARGS)
{
	TupleDesc desc;
	Datum v[12];
	bool n[12] = {false};
	float *latencies = palloc(sizeof(float) * LATENCY_WINDOW);
	int count = 0;
	PipelineShared copy;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pipeline_counters must return a composite type");
	memset(&copy, 0, sizeof(copy));
	if (shared != NULL)
	{
		SpinLockAcquire(&shared->mutex);
		copy.consumed = shared->consumed;
		copy.inserted = shared->inserted;
		copy.duplicates = shared->duplicates;
		copy.dead_letters = shared->dead_letters;
		copy.assessed = shared->assessed;
		copy.interventions = shared->interventions;
		copy.produced = shared->produced;
		copy.produce_errors = shared->produce_errors;
		copy.reset_at = shared->reset_at;
		count = shared->latency_count;
		memcpy(latencies, shared->latency_ms, sizeof(float) * count);
		SpinLockRelease(&shared->mutex);
	}
	qsort(latencies, count, sizeof(float), compare_floats);
	v[0] = Int64GetDatum(copy.consumed);
	v[1] = Int64GetDatum(copy.inserted);
	v[2] = Int64GetDatum(copy.duplicates);
	v[3] = Int64GetDatum(copy.dead_letters);
	v[4] = Int64GetDatum(copy.assessed);
	v[5] = Int64GetDatum(copy.interventions);
	v[6] = Int64GetDatum(copy.produced);
	v[7] = Int64GetDatum(copy.produce_errors);
	v[8] = Float8GetDatum(count ? latencies[count / 2] : 0);
	n[8] = count == 0;
	v[9] = Float8GetDatum(
	    count ? latencies[Min(count - 1, (int) (count * 0.99))] : 0);
	n[9] = count == 0;
	v[10] = TimestampTzGetDatum(copy.reset_at);
	n[10] = shared == NULL;
	v[11] = BoolGetDatum(shared != NULL);
	PG_RETURN_DATUM(
	    HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, n)));
}

PG_FUNCTION_INFO_V1(pd_partition_watermarks);
Datum
pd_partition_watermarks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PartitionMark marks[MAX_PARTITIONS];
	int n = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;
	SpinLockAcquire(&shared->mutex);
	n = shared->n_partitions;
	memcpy(marks, shared->partitions, sizeof(PartitionMark) * n);
	SpinLockRelease(&shared->mutex);
	for (int i = 0; i < n; i++)
	{
		Datum v[3];
		bool nulls[3] = {false};

		v[0] = CStringGetTextDatum(marks[i].topic);
		v[1] = Int32GetDatum(marks[i].partition);
		v[2] = Int64GetDatum(marks[i].high_watermark);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pd_pipeline_stats_reset);
Datum
pd_pipeline_stats_reset(PG_FUNCTION_ARGS)
{
	if (shared == NULL)
		PG_RETURN_VOID();
	SpinLockAcquire(&shared->mutex);
	shared->consumed = shared->inserted = shared->duplicates = 0;
	shared->dead_letters = shared->assessed = shared->interventions = 0;
	shared->produced = shared->produce_errors = 0;
	shared->latency_next = shared->latency_count = 0;
	for (int k = 0; k < NUM_SLOTS; k++)
	{
		shared->workers[k].batches = shared->workers[k].events = 0;
		shared->workers[k].errors = 0;
		shared->workers[k].last_error[0] = '\0';
	}
	shared->reset_at = GetCurrentTimestamp();
	SpinLockRelease(&shared->mutex);
	PG_RETURN_VOID();
}

static Datum
int4_array(const int32 *values, int n)
{
	Datum *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int32GetDatum(values[i]);
	return PointerGetDatum(
	    construct_array(d, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}

/* One ingest_assignment row: what the worker of slot k consumes. */
static void
put_assignment_row(ReturnSetInfo *rsinfo, int k, const AssignmentMark *a)
{
	Datum v[7];
	bool n[7] = {false};

	v[0] = CStringGetTextDatum(slot_name(k));
	v[1] = CStringGetTextDatum(a->is_static ? "static" : "group");
	v[2] = CStringGetTextDatum(a->topic);
	if (a->is_static)
	{
		/* owned = assigned + missing, both ascending */
		int32 *owned =
		    palloc(sizeof(int32) * (a->n_assigned + a->n_missing + 1));
		int m = 0;

		for (int i = 0, j = 0; i < a->n_assigned || j < a->n_missing;)
			owned[m++] = j >= a->n_missing || (i < a->n_assigned &&
			                                   a->assigned[i] < a->missing[j])
			                 ? a->assigned[i++]
			                 : a->missing[j++];
		v[3] = CStringGetTextDatum(pd_format_partitions(owned, m));
	}
	else
		n[3] = true;
	v[4] = int4_array(a->assigned, a->n_assigned);
	v[5] = int4_array(a->missing, a->n_missing);
	v[6] = Int32GetDatum(a->topic_partitions);
	n[6] = a->topic_partitions < 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

PG_FUNCTION_INFO_V1(pd_ingest_assignment);
Datum
pd_ingest_assignment(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AssignmentMark *marks = palloc(sizeof(AssignmentMark) * pd_ingest_workers);

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;
	SpinLockAcquire(&shared->mutex);
	memcpy(marks, shared->assignment,
	       sizeof(AssignmentMark) * pd_ingest_workers);
	SpinLockRelease(&shared->mutex);
	for (int k = 0; k < pd_ingest_workers; k++)
		if (marks[k].known)
			put_assignment_row(rsinfo, k, &marks[k]);
	return (Datum) 0;
}
