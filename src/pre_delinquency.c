/*
 * pre_delinquency.c
 *    Module entry point: PG_MODULE_MAGIC, _PG_init and the extension's GUCs.
 *
 * Everything else lives in one file per concern: features.c and payments.c
 * (the 31 features and the label), scoring.c (the model cache and XGBoost),
 * shap_batch.c (exact SHAP for a batch), policy.c (assessment and
 * interventions), parallel_features.c (assess_all's parallel workers),
 * synthetic*.c and bulk_writer.c (the synthetic bank), schema.c (where the
 * tables are), pd_util.c (money and calendar helpers), xgb_util.c (XGBoost
 * error handling), redact.c (broker credentials kept out of the server log).
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "pipeline.h"

#include "parallel_features.h"
#include "policy.h"
#include "redact.h"
#include "scoring.h"
#include "xgb_util.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* The pipeline's counters and the list of checked boosters. */
static void
request_shared_memory(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(pd_pipeline_shmem_size());
	RequestAddinShmemSpace(pd_model_check_shmem_size());
}

static void
attach_shared_memory(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pd_pipeline_shmem_attach();
	pd_model_check_shmem_attach();
	LWLockRelease(AddinShmemInitLock);
}

void
_PG_init(void)
{
	/* Nothing here may touch XGBoost: _PG_init can run in the postmaster. */
	DefineCustomIntVariable(
	    "pre_delinquency.xgboost_nthread",
	    "Threads XGBoost may use for one prediction or training run.",
	    "1 keeps a backend on one core, which is what a "
	    "database serving many sessions wants.",
	    &pd_xgboost_nthread, 1, 1, 64, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "pre_delinquency.intervention_cooldown",
	    "No second intervention of the same or a lower risk level "
	    "for a customer within this time.",
	    "An escalation to a higher level is never held back.",
	    &pd_intervention_cooldown, 7 * 24 * 3600, 0, PG_INT32_MAX, PGC_SUSET,
	    GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "pre_delinquency.assess_parallel_workers",
	    "Parallel workers assess_all may use to compute features, besides "
	    "the backend itself.",
	    "Features of a batch of customers are computed by the backend and "
	    "these workers together (within max_parallel_workers); 0 computes "
	    "them in the backend alone.",
	    &pd_assess_parallel_workers, 1, 0, 64, PGC_USERSET, 0, NULL, NULL,
	    NULL);
	pd_define_pipeline_gucs();
	MarkGUCPrefixReserved("pre_delinquency");
	pd_install_redaction();

	/*
	 * Workers, their counters and the list of checked boosters need
	 * shared_preload_libraries.
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = request_shared_memory;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = attach_shared_memory;
		pd_register_workers();
	}
}

static void
register_worker(const char *type, const char *name, const char *function,
                int index)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags =
	    BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1; /* seconds: crash-only recovery */
	strlcpy(worker.bgw_library_name, "pre_delinquency", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
	strlcpy(worker.bgw_name, name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, type, BGW_MAXLEN);
	worker.bgw_main_arg = Int32GetDatum(index);
	RegisterBackgroundWorker(&worker);
}

/*
 * Connects a worker to pre_delinquency.database as
 * pre_delinquency.worker_role (empty: the bootstrap superuser, a background
 * worker's default). The database's owner may set a search_path for the
 * database (ALTER DATABASE ... SET): with their schema ahead of pg_catalog,
 * an operator of theirs could run code as the workers' role (the superuser,
 * by default) inside our queries. So the workers use pg_catalog only
 * (pg_temp explicitly last); every query they run names the extension's
 * schema.
 */
void
pd_worker_connect(void)
{
	BackgroundWorkerInitializeConnection(
	    pd_database, pd_worker_role[0] != '\0' ? pd_worker_role : NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET,
	                PGC_S_OVERRIDE);
}

/*
 * Reloads the configuration file after a SIGHUP; true if the database or
 * the role changed, which the worker can only apply by exiting (with 1:
 * the postmaster starts it again, connected anew).
 */
bool
pd_worker_reload_config(void)
{
	char *database = pstrdup(pd_database);
	char *role = pstrdup(pd_worker_role);
	bool reconnect;

	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	reconnect = strcmp(database, pd_database) != 0 ||
	            strcmp(role, pd_worker_role) != 0;
	pfree(database);
	pfree(role);
	return reconnect;
}

/*
 * One unit of a worker's work in its own transaction, with SPI and a
 * snapshot. pd_worker_commit returns to the memory context that was current
 * at pd_worker_begin: a commit leaves TopMemoryContext current, and what a
 * worker allocated there after each batch was never freed (the relay grew
 * by 7 MB over 4 M events).
 */
MemoryContext
pd_worker_begin(void)
{
	MemoryContext caller = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp(); /* now() of this transaction */
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	return caller;
}

void
pd_worker_commit(MemoryContext caller)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
}

void
pd_register_workers(void)
{
	/* one backend_type for all ingest workers; names as in worker_status */
	for (int i = 0; i < pd_ingest_workers; i++)
		register_worker(
		    "pre_delinquency ingest",
		    pd_ingest_worker_name("pre_delinquency ingest", ' ', i),
		    "pd_ingest_worker_main", i);
	register_worker("pre_delinquency relay", "pre_delinquency relay",
	                "pd_relay_worker_main", 0);
}
