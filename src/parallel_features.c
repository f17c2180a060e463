/*
 * parallel_features.c
 *    The features of many customers, computed by the backend together with
 *    parallel workers (PostgreSQL's parallel infrastructure, the way
 *    parallel index builds use it), for assess_all.
 *
 * Workers share the leader's snapshot, user and transaction start time, so
 * every customer's features are exactly what pd_compute_features gives in
 * the leader. Workers only read; the leader scores and writes after they
 * are done (nothing may write while in parallel mode). If no worker can be
 * started the leader computes them all. Knows nothing about models or
 * risk levels.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shm_toc.h"

#include "features.h"
#include "parallel_features.h"

#define JOB_KEY UINT64CONST(0x5044464541540001)
#define CHUNK   32 /* customers a participant takes at a time */

int pd_assess_parallel_workers = 1;

/* In the DSM segment: the job, then n ids, then n rows of features. */
typedef struct FeatureJob
{
	TimestampTz as_of;
	int n;
	pg_atomic_uint32 next; /* the first customer nobody has taken yet */
} FeatureJob;

static Size
job_size(int n)
{
	return MAXALIGN(sizeof(FeatureJob)) + MAXALIGN(sizeof(pg_uuid_t) * n) +
	       sizeof(double) * PD_NUM_FEATURES * n;
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

/* Takes chunks of customers until none is left; leader and workers alike. */
static void
work(FeatureJob *job)
{
	pg_uuid_t *ids = job_ids(job);
	double *features = job_features(job);

	for (;;)
	{
		uint32 start = pg_atomic_fetch_add_u32(&job->next, CHUNK);

		if (start >= (uint32) job->n)
			break;
		for (int i = start; i < Min((int) start + CHUNK, job->n); i++)
		{
			CHECK_FOR_INTERRUPTS();
			pd_compute_features(&ids[i], job->as_of,
			                    features + i * PD_NUM_FEATURES);
		}
	}
}

PGDLLEXPORT void pd_features_worker_main(dsm_segment *seg, shm_toc *toc);

void
pd_features_worker_main(dsm_segment *seg, shm_toc *toc)
{
	work(shm_toc_lookup(toc, JOB_KEY, false));
}

void
pd_compute_features_many(const pg_uuid_t *ids, const TimestampTz as_of, int n,
                         double *features)
{
	/* a worker costs a few milliseconds to start: only for big batches */
	int nworkers = Min(pd_assess_parallel_workers, n / (8 * CHUNK));
	ParallelContext *pcxt;
	FeatureJob *job;

	if (nworkers <= 0)
	{
		for (int i = 0; i < n; i++)
			pd_compute_features(&ids[i], as_of,
			                    features + i * PD_NUM_FEATURES);
		return;
	}

	EnterParallelMode();
	pcxt = CreateParallelContext("pre_delinquency", "pd_features_worker_main",
	                             nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, job_size(n));
	shm_toc_estimate_keys(&pcxt->estimator, 1);
	InitializeParallelDSM(pcxt);
	job = shm_toc_allocate(pcxt->toc, job_size(n));
	job->as_of = as_of;
	job->n = n;
	pg_atomic_init_u32(&job->next, 0);
	memcpy(job_ids(job), ids, sizeof(pg_uuid_t) * n);
	shm_toc_insert(pcxt->toc, JOB_KEY, job);

	LaunchParallelWorkers(pcxt);
	work(job);
	WaitForParallelWorkersToFinish(pcxt);
	memcpy(features, job_features(job), sizeof(double) * PD_NUM_FEATURES * n);

	DestroyParallelContext(pcxt);
	ExitParallelMode();
}
