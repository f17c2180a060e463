/*
 * parallel_features.c
 *    The features of many customers, computed by the backend together with
 *    parallel workers (PostgreSQL's parallel infrastructure, the way
 *    parallel index builds use it), for assess_all.
 *
 * Workers share the leader's snapshot, user and transaction start time, so
 * every customer's features are exactly what pd_compute_features gives in
 * the leader. Participants take chunks of customers in order; the leader
 * asks for the features of the first k customers when it needs them and
 * meanwhile computes chunks itself, so it can score and write one part
 * while the workers compute the next (see policy.c). Workers only read.
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
#include "storage/condition_variable.h"
#include "storage/shm_toc.h"

#include "features.h"
#include "parallel_features.h"

#define JOB_KEY UINT64CONST(0x5044464541540001)
#define CHUNK   32 /* customers a participant takes at a time */

int pd_assess_parallel_workers = 1;

/*
 * In the DSM segment: the job, then n ids, n rows of features and one
 * "done" flag per chunk.
 */
typedef struct FeatureJob
{
	TimestampTz as_of;
	int n;
	pg_atomic_uint32 next;        /* the first customer nobody has taken yet */
	ConditionVariable chunk_done; /* broadcast when a chunk is done */
} FeatureJob;

struct PdFeatureJob
{
	int ready;             /* the first customers known to be done */
	ParallelContext *pcxt; /* NULL: the backend computes them all */
	FeatureJob *job;       /* in pcxt's DSM segment, or palloc'd */
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

	if (start >= (uint32) job->n)
		return false;
	for (int i = start; i < Min((int) start + CHUNK, job->n); i++)
	{
		CHECK_FOR_INTERRUPTS();
		pd_compute_features(&ids[i], job->as_of,
		                    features + i * PD_NUM_FEATURES);
	}
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

	while (take_chunk(job))
		;
}

static void
init_job(FeatureJob *job, const pg_uuid_t *ids, TimestampTz as_of, int n)
{
	job->as_of = as_of;
	job->n = n;
	pg_atomic_init_u32(&job->next, 0);
	ConditionVariableInit(&job->chunk_done);
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

const double *
pd_features_wait(PdFeatureJob *fj, int upto)
{
	FeatureJob *job = fj->job;
	pg_atomic_uint32 *done = job_done_flags(job);

	Assert(upto <= job->n);
	while (fj->ready < upto)
	{
		if (pg_atomic_read_u32(&done[fj->ready / CHUNK]))
		{
			pg_read_barrier(); /* the flag before the features */
			fj->ready = Min(fj->ready + CHUNK, job->n);
			continue;
		}
		if (take_chunk(job))
			continue;
		/*
		 * Every chunk is taken: a worker is finishing the one needed. A
		 * worker's ERROR or FATAL reaches this backend as an interrupt,
		 * which the sleep serves (and rethrows); a worker killed otherwise
		 * takes the whole server through crash recovery.
		 */
		ConditionVariablePrepareToSleep(&job->chunk_done);
		while (!pg_atomic_read_u32(&done[fj->ready / CHUNK]))
			ConditionVariableTimedSleep(&job->chunk_done, 100,
			                            PG_WAIT_EXTENSION);
		ConditionVariableCancelSleep();
	}
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
