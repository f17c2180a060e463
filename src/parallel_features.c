/*
 * parallel_features.c
 *    The features of many customers, computed by the backend together with
 *    parallel workers (PostgreSQL's parallel infrastructure, the way
 *    parallel index builds use it), for assess_all.
 *
 * Workers share the leader's snapshot, user and transaction start time, so
 * every customer's features are exactly what pd_compute_features gives in
 * the leader. Workers only read. Meanwhile the leader may do other work
 * (assess_all scores and writes the previous batch, see policy.c), then
 * takes what is left. If no worker can be started the leader computes them
 * all. Knows nothing about models or risk levels.
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

/* What pd_features_start began and pd_features_finish ends. */
struct PdFeatureJob
{
	const pg_uuid_t *ids;
	TimestampTz as_of;
	int n;
	ParallelContext *pcxt; /* NULL: the backend computes them all */
	FeatureJob *job;       /* in pcxt's DSM segment */
};

PdFeatureJob *
pd_features_start(const pg_uuid_t *ids, TimestampTz as_of, int n)
{
	/* a worker costs a few milliseconds to start: only for big batches */
	int nworkers = Min(pd_assess_parallel_workers, n / (8 * CHUNK));
	PdFeatureJob *fj = palloc0(sizeof(PdFeatureJob));
	FeatureJob *job;

	fj->ids = ids;
	fj->as_of = as_of;
	fj->n = n;
	if (nworkers <= 0)
		return fj;

	EnterParallelMode();
	fj->pcxt = CreateParallelContext("pre_delinquency",
	                                 "pd_features_worker_main", nworkers);
	shm_toc_estimate_chunk(&fj->pcxt->estimator, job_size(n));
	shm_toc_estimate_keys(&fj->pcxt->estimator, 1);
	InitializeParallelDSM(fj->pcxt);
	job = shm_toc_allocate(fj->pcxt->toc, job_size(n));
	job->as_of = as_of;
	job->n = n;
	pg_atomic_init_u32(&job->next, 0);
	memcpy(job_ids(job), ids, sizeof(pg_uuid_t) * n);
	shm_toc_insert(fj->pcxt->toc, JOB_KEY, job);
	fj->job = job;

	LaunchParallelWorkers(fj->pcxt);
	return fj;
}

void
pd_features_finish(PdFeatureJob *fj, double *features)
{
	if (fj->pcxt == NULL)
	{
		for (int i = 0; i < fj->n; i++)
			pd_compute_features(&fj->ids[i], fj->as_of,
			                    features + i * PD_NUM_FEATURES);
		pfree(fj);
		return;
	}
	work(fj->job); /* whatever the workers have not taken yet */
	WaitForParallelWorkersToFinish(fj->pcxt);
	memcpy(features, job_features(fj->job),
	       sizeof(double) * PD_NUM_FEATURES * fj->n);
	DestroyParallelContext(fj->pcxt);
	ExitParallelMode();
	pfree(fj);
}
