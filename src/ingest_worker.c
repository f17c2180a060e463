/*
 * ingest_worker.c
 *    The ingest background worker: consumes transactions-stream with a
 *    librdkafka consumer group and applies each batch (ingest.c) in one
 *    transaction together with the next offsets in kafka_offsets, so every
 *    event has its effect exactly once. On assignment it seeks to the stored
 *    offsets; after commit it commits the same offsets to Kafka, only as a
 *    mirror for lag tools.
 *
 * Crash-only: an unexpected error ends the worker, the postmaster starts it
 * again, and it resumes from the offsets of the last committed batch.
 * librdkafka's threads never call Postgres: rebalance callbacks are served
 * on this thread, inside rd_kafka_consumer_poll.
 */
#include "postgres.h"

#include <librdkafka/rdkafka.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ingest.h"
#include "pipeline.h"

static volatile sig_atomic_t got_sigterm = false;
static bool assignment_failed = false;

static void
handle_sigterm(SIGNAL_ARGS)
{
	int save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * Sets each assigned partition's offset to the one stored in kafka_offsets
 * (partitions never consumed keep RD_KAFKA_OFFSET_INVALID: the consumer
 * then starts at the earliest message). Runs inside a rebalance callback,
 * so it must not throw through librdkafka: errors are caught and flagged.
 */
static void
load_stored_offsets(rd_kafka_topic_partition_list_t *partitions)
{
	MemoryContext caller = CurrentMemoryContext;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp(); /* now() of this transaction */
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		for (int i = 0; i < partitions->cnt; i++)
		{
			rd_kafka_topic_partition_t *p = &partitions->elems[i];
			Oid types[3] = {TEXTOID, TEXTOID, INT4OID};
			Datum args[3];
			bool isnull;

			args[0] = CStringGetTextDatum(pd_consumer_group);
			args[1] = CStringGetTextDatum(p->topic);
			args[2] = Int32GetDatum(p->partition);
			SPI_execute_with_args(
			    "SELECT next_offset FROM pre_delinquency.kafka_offsets "
			    "WHERE consumer_group = $1 AND topic = $2 AND kafka_partition "
			    "= $3",
			    3, types, args, NULL, true, 1);
			p->offset = SPI_processed == 0
			                ? RD_KAFKA_OFFSET_INVALID
			                : DatumGetInt64(SPI_getbinval(
			                      SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
			                      1, &isnull));
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		assignment_failed = true;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
}

static void
rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
          rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
	{
		load_stored_offsets(partitions);
		rd_kafka_assign(rk, partitions);
		pd_stats_worker_state(PD_WORKER_INGEST, "assigned");
	}
	else
		rd_kafka_assign(rk, NULL);
}

static rd_kafka_t *
create_consumer(void)
{
	const char *const defaults[][2] = {
	    {"client.id", "pre_delinquency-ingest"},
	    /* a crashed worker's partitions move on after 10 s, not 45 */
	    {"session.timeout.ms", "10000"},
	    {"heartbeat.interval.ms", "1000"},
	    /* latency: a fetch returns within 10 ms even when little arrived */
	    {"fetch.wait.max.ms", "10"},
	    /*
	     * memory: librdkafka prefetches up to 64 MB by default, and while
	     * the worker is behind (a backlog, a restart) that all becomes
	     * resident and stays so in malloc's arenas. 16 MB is ~40,000 events
	     * of ~400 bytes, several batches ahead of batch_size: enough to
	     * never wait on a fetch (make soak measures the workers' RSS).
	     */
	    {"queued.max.messages.kbytes", "16384"},
	};
	const char *const required[][2] = {
	    {"group.id", pd_consumer_group},
	    {"enable.auto.commit", "false"},
	    {"enable.auto.offset.store", "false"},
	    {"auto.offset.reset", "earliest"},
	    {"enable.partition.eof", "false"},
	};
	rd_kafka_conf_t *conf = pd_kafka_conf(defaults, lengthof(defaults),
	                                      required, lengthof(required));
	char errstr[512];
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_resp_err_t err;

	rd_kafka_conf_set_rebalance_cb(conf, rebalance);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
		ereport(ERROR,
		        (errcode(ERRCODE_CONNECTION_FAILURE),
		         errmsg("could not create the Kafka consumer: %s", errstr)));
	rd_kafka_poll_set_consumer(rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, pd_transactions_topic,
	                                  RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(rk, topics);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		ereport(ERROR, (errmsg("could not subscribe to %s: %s",
		                       pd_transactions_topic, rd_kafka_err2str(err))));
	rd_kafka_topic_partition_list_destroy(topics);
	return rk;
}

/* Waits, answering SIGHUP and SIGTERM, until kafka_brokers is set. */
static void
wait_for_brokers(void)
{
	while (!got_sigterm &&
	       (pd_kafka_brokers == NULL || pd_kafka_brokers[0] == '\0'))
	{
		pd_stats_worker_state(PD_WORKER_INGEST,
		                      "waiting for pre_delinquency.kafka_brokers");
		pgstat_report_activity(STATE_IDLE,
		                       "waiting for pre_delinquency.kafka_brokers");
		(void) WaitLatch(MyLatch,
		                 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
		                 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/* Polls until the batch is full, batch_wait has passed, or SIGTERM. */
static int
poll_batch(rd_kafka_t *rk, rd_kafka_message_t **batch)
{
	int n = 0;
	TimestampTz deadline = 0;

	while (n < pd_batch_size && !got_sigterm)
	{
		long wait =
		    deadline == 0 ? 100 : (deadline - GetCurrentTimestamp()) / 1000;
		rd_kafka_message_t *m;

		if (deadline != 0 && wait <= 0)
			break;
		m = rd_kafka_consumer_poll(rk, (int) Max(wait, 0));
		CHECK_FOR_INTERRUPTS();
		if (m == NULL)
		{
			if (n > 0 || deadline != 0)
				break;
			continue;
		}
		if (m->err)
		{
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				pd_stats_worker_error(PD_WORKER_INGEST,
				                      rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			if (n == 0)
				break;
			continue;
		}
		if (n == 0)
			deadline =
			    GetCurrentTimestamp() + (TimestampTz) pd_batch_wait_ms * 1000;
		batch[n++] = m;
	}
	return n;
}

/* Upserts the next offset of every partition the batch read from. */
static void
store_offsets(rd_kafka_message_t **batch, int n)
{
	for (int i = 0; i < n; i++)
	{
		bool last_of_partition = true;
		Oid types[4] = {TEXTOID, TEXTOID, INT4OID, INT8OID};
		Datum args[4];

		for (int j = i + 1; j < n && last_of_partition; j++)
			last_of_partition = !(batch[j]->rkt == batch[i]->rkt &&
			                      batch[j]->partition == batch[i]->partition);
		if (!last_of_partition)
			continue;
		args[0] = CStringGetTextDatum(pd_consumer_group);
		args[1] = CStringGetTextDatum(rd_kafka_topic_name(batch[i]->rkt));
		args[2] = Int32GetDatum(batch[i]->partition);
		args[3] = Int64GetDatum(batch[i]->offset + 1);
		SPI_execute_with_args(
		    "INSERT INTO pre_delinquency.kafka_offsets AS k "
		    "(consumer_group, topic, kafka_partition, next_offset) "
		    "VALUES ($1, $2, $3, $4) ON CONFLICT (consumer_group, topic, "
		    "kafka_partition) "
		    "DO UPDATE SET next_offset = excluded.next_offset, updated_at = "
		    "now()",
		    4, types, args, NULL, false, 0);
	}
}

/* The same offsets to Kafka, after our commit: only a mirror for lag tools. */
static void
mirror_offsets(rd_kafka_t *rk, rd_kafka_message_t **batch, int n)
{
	rd_kafka_topic_partition_list_t *offsets =
	    rd_kafka_topic_partition_list_new(8);

	for (int i = 0; i < n; i++)
	{
		rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(
		    offsets, rd_kafka_topic_name(batch[i]->rkt), batch[i]->partition);
		int64_t low, high;

		if (p == NULL)
			p = rd_kafka_topic_partition_list_add(
			    offsets, rd_kafka_topic_name(batch[i]->rkt),
			    batch[i]->partition);
		p->offset = batch[i]->offset + 1;
		if (rd_kafka_get_watermark_offsets(
		        rk, rd_kafka_topic_name(batch[i]->rkt), batch[i]->partition,
		        &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR)
			pd_stats_high_watermark(rd_kafka_topic_name(batch[i]->rkt),
			                        batch[i]->partition, high);
	}
	(void) rd_kafka_commit(rk, offsets, 1 /* async */);
	rd_kafka_topic_partition_list_destroy(offsets);
}

static void
apply_batch(rd_kafka_message_t **batch, int n)
{
	PdIngestMessage *messages = palloc(sizeof(PdIngestMessage) * n);
	PdIngestStats stats = {0};

	for (int i = 0; i < n; i++)
	{
		messages[i].topic = rd_kafka_topic_name(batch[i]->rkt);
		messages[i].partition = batch[i]->partition;
		messages[i].offset = batch[i]->offset;
		messages[i].key = batch[i]->key;
		messages[i].key_len = batch[i]->key_len;
		messages[i].payload = batch[i]->payload;
		messages[i].payload_len = batch[i]->len;
		messages[i].dead_letter_id = 0;
	}
	pgstat_report_activity(STATE_RUNNING, psprintf("ingesting %d events", n));
	pd_stats_worker_state(PD_WORKER_INGEST, "ingesting");
	SetCurrentStatementStartTimestamp(); /* now() of this transaction */
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pd_ingest_apply(messages, n, &stats);
	store_offsets(batch, n);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pd_stats_ingest_batch(n, &stats);
	if (stats.assessed > 0)
		pd_pipeline_wake_relay();
	pd_stats_worker_state(PD_WORKER_INGEST, "consuming");
	pgstat_report_activity(STATE_IDLE, NULL);
}

void
pd_ingest_worker_main(Datum arg)
{
	rd_kafka_t *rk;
	rd_kafka_message_t **batch;
	MemoryContext batch_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, handle_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(pd_database, NULL, 0);
	pd_stats_worker_started(PD_WORKER_INGEST);
	pgstat_report_appname("pre_delinquency ingest");

	wait_for_brokers();
	if (got_sigterm)
		proc_exit(0);
	rk = create_consumer();
	batch = MemoryContextAlloc(TopMemoryContext,
	                           sizeof(rd_kafka_message_t *) * 100000);
	batch_cxt = AllocSetContextCreate(TopMemoryContext, "ingest batch",
	                                  ALLOCSET_DEFAULT_SIZES);
	pd_stats_worker_state(PD_WORKER_INGEST, "consuming");
	ereport(LOG,
	        (errmsg("pre_delinquency ingest worker consuming %s as group %s",
	                pd_transactions_topic, pd_consumer_group)));

	while (!got_sigterm)
	{
		int n;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			char *brokers = pstrdup(pd_kafka_brokers);
			char *topic = pstrdup(pd_transactions_topic);
			char *group = pstrdup(pd_consumer_group);

			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* a new cluster, topic or group: start afresh from stored offsets
			 */
			if (strcmp(brokers, pd_kafka_brokers) != 0 ||
			    strcmp(topic, pd_transactions_topic) != 0 ||
			    strcmp(group, pd_consumer_group) != 0)
				break;
		}
		if (assignment_failed)
			elog(ERROR,
			     "could not read the stored offsets for a new assignment");
		n = poll_batch(rk, batch);
		if (n == 0)
			continue;
		MemoryContextSwitchTo(batch_cxt);
		apply_batch(batch, n);
		MemoryContextSwitchTo(TopMemoryContext);
		mirror_offsets(rk, batch, n);
		for (int i = 0; i < n; i++)
			rd_kafka_message_destroy(batch[i]);
		MemoryContextReset(batch_cxt);
	}
	pd_stats_worker_state(PD_WORKER_INGEST, "stopping");
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	/* a configuration change exits non-zero so that the postmaster restarts us
	 */
	proc_exit(got_sigterm ? 0 : 1);
}
