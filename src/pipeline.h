/*
 * pipeline.h
 *    The streaming pipeline's settings (GUCs), its two background workers,
 *    and the counters they keep in shared memory for the monitoring views.
 */
#ifndef PD_PIPELINE_H
#define PD_PIPELINE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "ingest.h"

/* GUCs, defined in pipeline_stats.c's pd_define_pipeline_gucs() */
extern char *pd_database;
extern char *pd_worker_role;
extern char *pd_kafka_brokers;
extern char *pd_kafka_properties;
extern char *pd_transactions_topic;
extern char *pd_predictions_topic;
extern char *pd_interventions_topic;
extern char *pd_consumer_group;
extern int pd_batch_size;
extern int pd_batch_wait_ms;
extern int pd_ingest_workers;

/* pre_delinquency.ingest_workers' upper bound (shared-memory slots) */
#define PD_MAX_INGEST_WORKERS 8

/*
 * Which of the ingest workers this process is (0 .. ingest_workers - 1; 0
 * in every other process). Its counters, state and assignment go to its own
 * slot; worker_status names it "ingest" (0) or "ingest N" (N = index + 1).
 */
extern int pd_ingest_worker_index;

/*
 * An ingest worker's name built on base: base itself for the first, then
 * base, separator and the worker's number (index + 1): "ingest",
 * "ingest 2"; "pre_delinquency-ingest-2" as its Kafka client.id. Palloc'd.
 */
extern char *pd_ingest_worker_name(const char *base, char separator,
                                   int index);

extern void pd_define_pipeline_gucs(void);

/* From _PG_init, when loaded by shared_preload_libraries. */
extern void pd_register_workers(void);

/*
 * The shared counters: their size, requested when preloading, and attaching
 * to them from the shared-memory startup hook (under AddinShmemInitLock).
 */
extern Size pd_pipeline_shmem_size(void);
extern void pd_pipeline_shmem_attach(void);

/* Each worker, right after BackgroundWorkerInitializeConnection. */
extern void pd_worker_connect(void);
extern bool pd_worker_reload_config(void);

/*
 * A transaction with SPI and a snapshot around one unit of a worker's work;
 * the commit returns to the caller's memory context (begin's result).
 */
extern MemoryContext pd_worker_begin(void);
extern void pd_worker_commit(MemoryContext caller);

/* Background worker entry points (bgw_function_name). */
extern PGDLLEXPORT void pd_ingest_worker_main(Datum arg);
extern PGDLLEXPORT void pd_relay_worker_main(Datum arg);

/* Counters ------------------------------------------------------------- */

typedef enum PdWorkerKind
{
	PD_WORKER_INGEST,
	PD_WORKER_RELAY
} PdWorkerKind;

/*
 * The relay sleeps on its latch; the ingest worker wakes it after each
 * commit, so predictions leave as soon as they exist.
 */
struct Latch;
extern void pd_pipeline_set_relay_latch(struct Latch *latch);
extern void pd_pipeline_wake_relay(void);

/*
 * All of these are no-ops when the library was not preloaded. An ingest
 * worker's calls go to slot pd_ingest_worker_index.
 */
extern void pd_stats_worker_started(PdWorkerKind kind);
extern void pd_stats_worker_state(PdWorkerKind kind, const char *state);
extern void pd_stats_worker_error(PdWorkerKind kind, const char *message);
extern void pd_stats_ingest_batch(int consumed, const PdIngestStats *stats);
extern void pd_stats_relay_batch(int produced, int failed,
                                 const double *latencies_ms, int n_latencies);
extern void pd_stats_high_watermark(const char *topic, int32 partition,
                                    int64 high);
/* what this ingest worker consumes (static: its owned partitions) */
extern void pd_stats_assignment(bool is_static, const char *topic,
                                int topic_partitions, const int32 *assigned,
                                int n_assigned, const int32 *missing,
                                int n_missing);

/*
 * librdkafka configuration: the defaults, then bootstrap.servers and
 * pre_delinquency.kafka_properties ("key=value" pairs separated by ';' or
 * newlines), then the required settings the guarantees rest on. ERRORs
 * naming a bad key, never echoing a value.
 */
struct rd_kafka_conf_s;
extern struct rd_kafka_conf_s *pd_kafka_conf(const char *const (*defaults)[2],
                                             int n_defaults,
                                             const char *const (*required)[2],
                                             int n_required);

#endif
