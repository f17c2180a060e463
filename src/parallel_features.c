/*
 * parallel_features.c
 *    The features of many customers, computed by the backend together with
 *    parallel workers (PostgreSQL's parallel infrastructure, the way
 *    parallel index builds use it), for assess_all.
 *
 * Workers share the leader's snapshot, user and transaction start time, so
 * every customer's features are exactly what pd_compute_features gives in
 * the leader. Participants take chunks of customers in order; the leader
 * asks for the features of the first k customers when it needs them, so it
 * can score and write some while the workers compute the next (see
 * policy.c). Workers only read. While the chunk it needs is being computed
 * the leader computes one further on only if that does not leave it alone
 * with its own backlog at the end (see leader_should_help). The last few
 * chunks are the leader's alone: a worker's exit takes 10-35 ms (mostly
 * the kernel unmapping the shared buffers it touched), and
 * DestroyParallelContext waits for it, so a worker that stops early dies
 * while the leader scores and writes its last batches (the wait went from
 * about 10 ms to 2).
 * One job serves many batches: a worker costs 10-20 ms to start, and a
 * fresh one computes slowly at first (cold caches). If no worker can be
 * started the leader computes them all. Knows nothing about models or
 * risk levels.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/condition_variable.h"
#include "storage/shm_toc.h"

#include "features.h"
#include "parallel_features.h"

#define JOB_KEY UINT64CONST(0x5044464541540001)
#define CHUNK   32          /* customers a participant takes at a time */
#define TAIL    (5 * CHUNK) /* the last customers: the leader's (see below) */

int pd_assess_parallel_workers = 1;

/*
 * In the DSM segment: the job, then n ids, n rows of features and one
 * "done" flag per chunk.
 */
typedef struct FeatureJob
{
	TimestampTz as_of;
	int n;
	int tail;                     /* the last customers no worker takes */
	pg_atomic_uint32 next;        /* the first customer nobody has taken yet */
	ConditionVariable chunk_done; /* broadcast when a chunk is done */
	pg_atomic_uint64 computed;    /* customers computed, by anyone */
	pg_atomic_uint64 compute_us;  /* the time that took, summed */
} FeatureJob;

struct PdFeatureJob
{
	int ready;             /* the first customers known to be done */
	ParallelContext *pcxt; /* NULL: the backend computes them all */
	FeatureJob *job;       /* in pcxt's DSM segment, or palloc'd */

	/*
	 * The caller's own time per customer: outside the waits, its time for
	 * the customers handed back before the last wait returned.
	 */
	instr_time returned_at; /* when the last wait returned; zero: never */
	int returned_upto;      /* the 'upto' it returned for */
	int counted_upto;       /* customers consume_us is the time of */
	uint64 consume_us;
};

static int
n_chunks(int n)
{
	return (n + CHUNK - 1) / CHUNK;
}

static Size
job_size(int n)
{
	return MAXALIGN(sizeof(FeatureJob)) + MAXALIGN(sizeof(pg_uuid_t) * n) +
	       MAXALIGN(sizeof(double) * PD_NUM_FEATURES * n) +
	       sizeof(pg_atomic_uint32) * n_chunks(n);
}

static pg_uuid_t *
job_ids(FeatureJob *job)
{
	return (pg_uuid_t *) ((char *) job + MAXALIGN(sizeof(FeatureJob)));
}

static double *
job_features(FeatureJob *job)
{
	return (double *) ((char *) job_ids(job) +
	                   MAXALIGN(sizeof(pg_uuid_t) * job->n));
}

static pg_atomic_uint32 *
job_done_flags(FeatureJob *job)
{
	return (pg_atomic_uint32 *) ((char *) job_features(job) +
	                             MAXALIGN(sizeof(double) * PD_NUM_FEATURES *
	                                      job->n));
}

/* Computes the next chunk nobody has taken; false if none is left. */
static bool
take_chunk(FeatureJob *job)
{
	uint32 start = pg_atomic_fetch_add_u32(&job->next, CHUNK);
	pg_uuid_t *ids = job_ids(job);
	double *features = job_features(job);
	int end;
	instr_time started, elapsed;
	PdFeatureReader *reader;

	if (start >= (uint32) job->n)
		return false;
	end = Min((int) start + CHUNK, job->n);
	INSTR_TIME_SET_CURRENT(started);
	reader = pd_feature_reader_open();
	for (int i = start; i < end; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pd_feature_reader_compute(reader, &ids[i], job->as_of,
		                          features + i * PD_NUM_FEATURES);
	}
	pd_feature_reader_close(reader);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, started);
	pg_atomic_fetch_add_u64(&job->compute_us,
	                        INSTR_TIME_GET_MICROSEC(elapsed));
	pg_atomic_fetch_add_u64(&job->computed, end - start);
	pg_write_barrier(); /* the features before the flag */
	pg_atomic_write_u32(&job_done_flags(job)[start / CHUNK], 1);
	ConditionVariableBroadcast(&job->chunk_done);
	return true;
}

PGDLLEXPORT void pd_features_worker_main(dsm_segment *seg, shm_toc *toc);

void
pd_features_worker_main(dsm_segment *seg, shm_toc *toc)
{
	FeatureJob *job = shm_toc_lookup(toc, JOB_KEY, false);

	while ((int) pg_atomic_read_u32(&job->next) < job->n - job->tail &&
	       take_chunk(job))
		;
}

static void
init_job(FeatureJob *job, const pg_uuid_t *ids, TimestampTz as_of, int n)
{
	job->as_of = as_of;
	job->n = n;
	job->tail = Min(TAIL, n / 8);
	pg_atomic_init_u32(&job->next, 0);
	ConditionVariableInit(&job->chunk_done);
	pg_atomic_init_u64(&job->computed, 0);
	pg_atomic_init_u64(&job->compute_us, 0);
	memcpy(job_ids(job), ids, sizeof(pg_uuid_t) * n);
	for (int c = 0; c < n_chunks(n); c++)
		pg_atomic_init_u32(&job_done_flags(job)[c], 0);
}

PdFeatureJob *
pd_features_start(const pg_uuid_t *ids, TimestampTz as_of, int n)
{
	/* only for jobs that keep a worker busy well past its start */
	int nworkers = Min(pd_assess_parallel_workers, n / (8 * CHUNK));
	PdFeatureJob *fj = palloc0(sizeof(PdFeatureJob));

	if (nworkers <= 0)
	{
		fj->job = palloc(job_size(n));
		init_job(fj->job, ids, as_of, n);
		return fj;
	}

	EnterParallelMode();
	fj->pcxt = CreateParallelContext("pre_delinquency",
	                                 "pd_features_worker_main", nworkers);
	shm_toc_estimate_chunk(&fj->pcxt->estimator, job_size(n));
	shm_toc_estimate_keys(&fj->pcxt->estimator, 1);
	InitializeParallelDSM(fj->pcxt);
	fj->job = shm_toc_allocate(fj->pcxt->toc, job_size(n));
	init_job(fj->job, ids, as_of, n);
	shm_toc_insert(fj->pcxt->toc, JOB_KEY, fj->job);
	LaunchParallelWorkers(fj->pcxt);
	return fj;
}

/*
 * Whether the leader, while a worker computes the chunk it needs, should
 * compute one further on rather than wait. Always doing so, it computes
 * about as many chunks as a worker and is then left alone scoring and
 * writing its backlog at the end (on 2 cores, a sixth of assess_all's
 * time). So it helps while what it has left (its own time per customer,
 * over the customers not yet handed back) is less than what the workers
 * have left (the features' time per customer, over the customers nobody
 * has taken, shared among them); until both are measured, it helps.
 */
static bool
leader_should_help(PdFeatureJob *fj)
{
	FeatureJob *job = fj->job;
	int workers = fj->pcxt != NULL ? fj->pcxt->nworkers_launched : 0;
	uint64 computed = pg_atomic_read_u64(&job->computed);
	int untaken = job->n - Min((int) pg_atomic_read_u32(&job->next), job->n);
	double compute_us, leader_left, workers_left;

	if (workers == 0 || computed == 0 || fj->counted_upto == 0)
		return true;
	compute_us = (double) pg_atomic_read_u64(&job->compute_us) / computed;
	leader_left = (double) fj->consume_us / fj->counted_upto *
	                  (job->n - fj->returned_upto) +
	              compute_us * Min(untaken, job->tail);
	workers_left = compute_us * Max(untaken - job->tail, 0) / workers;
	return leader_left < workers_left;
}

/* The caller's time since the last wait returned, for leader_should_help. */
static void
count_caller_time(PdFeatureJob *fj)
{
	instr_time now;

	if (INSTR_TIME_IS_ZERO(fj->returned_at))
		return;
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, fj->returned_at);
	fj->consume_us += INSTR_TIME_GET_MICROSEC(now);
	fj->counted_upto = fj->returned_upto;
}

const double *
pd_features_wait(PdFeatureJob *fj, int upto)
{
	FeatureJob *job = fj->job;
	pg_atomic_uint32 *done = job_done_flags(job);

	Assert(upto <= job->n);
	count_caller_time(fj);
	while (fj->ready < upto)
	{
		bool needed_untaken;

		if (pg_atomic_read_u32(&done[fj->ready / CHUNK]))
		{
			pg_read_barrier(); /* the flag before the features */
			fj->ready = Min(fj->ready + CHUNK, job->n);
			continue;
		}
		needed_untaken = (int) pg_atomic_read_u32(&job->next) <= fj->ready;
		if ((needed_untaken || leader_should_help(fj)) && take_chunk(job))
			continue;

		/*
		 * A worker is computing the chunk needed. A worker's ERROR or
		 * FATAL reaches this backend as an interrupt, which the sleep
		 * serves (and rethrows); a worker killed otherwise takes the whole
		 * server through crash recovery.
		 */
		ConditionVariablePrepareToSleep(&job->chunk_done);
		while (!pg_atomic_read_u32(&done[fj->ready / CHUNK]))
			ConditionVariableTimedSleep(&job->chunk_done, 100,
			                            PG_WAIT_EXTENSION);
		ConditionVariableCancelSleep();
	}
	fj->returned_upto = upto;
	INSTR_TIME_SET_CURRENT(fj->returned_at);
	return job_features(job);
}

void
pd_features_finish(PdFeatureJob *fj)
{
	if (fj->pcxt != NULL)
	{
		WaitForParallelWorkersToFinish(fj->pcxt);
		DestroyParallelContext(fj->pcxt);
		ExitParallelMode();
	}
	else
		pfree(fj->job);
	pfree(fj);
}
