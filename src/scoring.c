/*
 * scoring.c
 *    The active model, cached per backend, and what it answers from SQL:
 *    score_customer, explain_customer (exact TreeSHAP), activate_model, and
 *    reading the model shipped with the extension.
 *
 * A backend keeps one booster, created lazily on first use in the backend
 * (never in the postmaster: libgomp is not fork-safe). Every call finds the
 * active row of pre_delinquency.models through a one-row index scan and
 * reloads the booster only when that row changed (another model activated,
 * or the row rewritten), so a model activated in another session is used
 * from the next statement on. Tree evaluation is XGBoost's; nothing here
 * reimplements it.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "features.h"
#include "pd_util.h"
#include "schema.h"
#include "scoring.h"
#include "xgb_util.h"

int pd_xgboost_nthread = 1;

/* The booster of this backend and the row version it was loaded from. */
typedef struct ModelCache
{
	BoosterHandle booster;
	int model_id;
	TransactionId xmin;
	ItemPointerData tid;
	int nthread;
	uint64 generation; /* counts loads: what others remember of a booster */
} ModelCache;

static ModelCache cache = {NULL, 0, InvalidTransactionId, {{0}}, 0, 0};

static const char *const predict_config =
    "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, "
    "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, "
    "\"cache_id\": 0}";

void
pd_features_to_row(const double *features, float *row)
{
	for (int i = 0; i < PD_NUM_FEATURES; i++)
		row[i] = (float) features[i];
}

/* ERROR unless the model's feature list is exactly the engine's. */
static void
check_feature_names(int model_id, Datum names_datum)
{
	ArrayType *names = DatumGetArrayTypeP(names_datum);
	Datum *elems;
	bool *nulls;
	int n;
	bool same;

	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls,
	                  &n);
	same = (n == PD_NUM_FEATURES);
	for (int i = 0; same && i < n; i++)
		same = !nulls[i] && strcmp(TextDatumGetCString(elems[i]),
		                           pd_feature_name_list[i]) == 0;
	if (!same)
		ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
		                errmsg("model %d expects other features than this "
		                       "version of pre_delinquency computes",
		                       model_id),
		                errdetail("The model's feature_names must be the %d "
		                          "names of feature_names(), in order.",
		                          PD_NUM_FEATURES),
		                errhint("Activate a model trained by this version, "
		                        "e.g. with train_model().")));
}

/*
 * A new booster from UBJ or JSON bytes, checked to take our features.
 * Freed again if anything fails.
 */
BoosterHandle
pd_load_booster(int model_id, bytea *bytes)
{
	BoosterHandle booster = NULL;
	bst_ulong nfeatures = 0;

	/*
	 * XGBoost loads a model with OpenMP's default team, one thread per core,
	 * before any nthread applies: the backend gained a thread that then
	 * spun on another core for milliseconds, more CPU than the backend's
	 * own first score. XGBoost names its team size everywhere else.
	 */
	omp_set_num_threads(pd_xgboost_nthread);
	XGB_CHECK(XGBoosterCreate(NULL, 0, &booster), "creating a booster");
	PG_TRY();
	{
		if (XGBoosterLoadModelFromBuffer(booster, VARDATA_ANY(bytes),
		                                 VARSIZE_ANY_EXHDR(bytes)) != 0)
			ereport(
			    ERROR,
			    (errcode(ERRCODE_DATA_CORRUPTED),
			     errmsg("the booster of model %d cannot be loaded", model_id),
			     errdetail("XGBoost: %s", pd_xgb_last_error()),
			     errhint("Store an XGBoost UBJ or JSON model in "
			             "models.booster, or activate another model.")));
		XGB_CHECK(XGBoosterGetNumFeature(booster, &nfeatures),
		          "reading the model's feature count");
		if (nfeatures != PD_NUM_FEATURES)
			ereport(
			    ERROR,
			    (errcode(ERRCODE_DATA_EXCEPTION),
			     errmsg("the booster of model %d takes %lu features, not %d",
			            model_id, (unsigned long) nfeatures,
			            PD_NUM_FEATURES)));
		pd_check_booster(booster, model_id, VARDATA_ANY(bytes),
		                 VARSIZE_ANY_EXHDR(bytes));
		XGB_CHECK(XGBoosterSetParam(booster, "nthread",
		                            psprintf("%d", pd_xgboost_nthread)),
		          "setting nthread");
	}
	PG_CATCH();
	{
		XGBoosterFree(booster);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return booster;
}

BoosterHandle
pd_active_booster(int *model_id)
{
	const PdSchema *s = pd_schema();
	Relation rel = table_open(s->models, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple tuple;

	/* systable_beginscan takes heap column numbers */
	ScanKeyInit(&key, s->model_is_active, BTEqualStrategyNumber, F_BOOLEQ,
	            BoolGetDatum(true));
	scan = systable_beginscan(rel, s->models_active_idx, true,
	                          GetActiveSnapshot(), 1, &key);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
		        (errcode(ERRCODE_NO_DATA_FOUND), errmsg("no model is active"),
		         errhint("Activate one with SELECT "
		                 "pre_delinquency.activate_model(model_id) "
		                 "(see pre_delinquency.models).")));

	if (cache.booster == NULL ||
	    HeapTupleHeaderGetXmin(tuple->t_data) != cache.xmin ||
	    !ItemPointerEquals(&tuple->t_self, &cache.tid))
	{
		TupleDesc desc = RelationGetDescr(rel);
		bool isnull;
		int id =
		    DatumGetInt32(heap_getattr(tuple, s->model_id, desc, &isnull));
		Datum names =
		    heap_getattr(tuple, s->model_feature_names, desc, &isnull);
		Datum bytes = heap_getattr(tuple, s->model_booster, desc, &isnull);
		BoosterHandle fresh;

		check_feature_names(id, names);
		fresh = pd_load_booster(id, DatumGetByteaPP(bytes));
		if (cache.booster != NULL)
			XGBoosterFree(cache.booster);
		cache.booster = fresh;
		cache.model_id = id;
		cache.xmin = HeapTupleHeaderGetXmin(tuple->t_data);
		cache.tid = tuple->t_self;
		cache.nthread = pd_xgboost_nthread;
		cache.generation++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (cache.nthread != pd_xgboost_nthread)
	{
		XGB_CHECK(XGBoosterSetParam(cache.booster, "nthread",
		                            psprintf("%d", pd_xgboost_nthread)),
		          "setting nthread");
		cache.nthread = pd_xgboost_nthread;
	}
	*model_id = cache.model_id;
	return cache.booster;
}

uint64
pd_booster_generation(void)
{
	return cache.generation;
}

/*
 * The proxy matrix in-place prediction fills. Created once per backend:
 * without one, XGBoost builds a fresh proxy, and reads the cgroup CPU quota
 * files, on every call.
 */
static DMatrixHandle
prediction_proxy(void)
{
	static DMatrixHandle proxy = NULL;

	if (proxy == NULL)
		XGB_CHECK(XGProxyDMatrixCreate(&proxy), "creating a proxy matrix");
	return proxy;
}

void
pd_predict(BoosterHandle booster, const float *rows, int nrow,
           float *probabilities)
{
	bst_ulong const *shape;
	bst_ulong dim;
	const float *result;

	XGB_CHECK(XGBoosterPredictFromDense(
	              booster, pd_xgb_dense_interface(rows, nrow, PD_NUM_FEATURES),
	              psprintf(predict_config, 0), prediction_proxy(), &shape,
	              &dim, &result),
	          "predicting");
	memcpy(probabilities, result, nrow * sizeof(float));
}

void
pd_contributions(BoosterHandle booster, const float *rows, int nrow,
                 float *contributions)
{
	DMatrixHandle matrix = NULL;
	bst_ulong const *shape;
	bst_ulong dim;
	const float *result;

	XGB_CHECK(
	    XGDMatrixCreateFromMat(rows, nrow, PD_NUM_FEATURES, NAN, &matrix),
	    "building a matrix");
	PG_TRY();
	{
		XGB_CHECK(XGBoosterPredictFromDMatrix(booster, matrix,
		                                      psprintf(predict_config, 2),
		                                      &shape, &dim, &result),
		          "computing SHAP contributions");
		memcpy(contributions, result,
		       (size_t) nrow * (PD_NUM_FEATURES + 1) * sizeof(float));
	}
	PG_FINALLY();
	{
		XGDMatrixFree(matrix);
	}
	PG_END_TRY();
}

/* SQL: score_customer(customer_id, as_of) -------------------------------- */

PG_FUNCTION_INFO_V1(pd_score_customer);
Datum
pd_score_customer(PG_FUNCTION_ARGS)
{
	double features[PD_NUM_FEATURES];
	float row[PD_NUM_FEATURES];
	float probability;
	int model_id;
	BoosterHandle booster;

	pd_require_argument(fcinfo, 0, "customer_id");
	pd_require_argument(fcinfo, 1, "as_of");
	booster = pd_active_booster(&model_id);
	pd_compute_features(PG_GETARG_UUID_P(0), PG_GETARG_TIMESTAMPTZ(1),
	                    features);
	pd_features_to_row(features, row);
	pd_predict(booster, row, 1, &probability);
	PG_RETURN_FLOAT8((double) probability);
}

/* SQL: explain_customer(customer_id, as_of, top_n) ----------------------- */

typedef struct Contribution
{
	int feature;
	double value;
	double contribution;
} Contribution;

static int
compare_by_magnitude(const void *a, const void *b)
{
	double x = fabs(((const Contribution *) a)->contribution);
	double y = fabs(((const Contribution *) b)->contribution);

	if (x != y)
		return x > y ? -1 : 1;
	return ((const Contribution *) a)->feature -
	       ((const Contribution *) b)->feature;
}

PG_FUNCTION_INFO_V1(pd_explain_customer);
Datum
pd_explain_customer(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double features[PD_NUM_FEATURES];
	float row[PD_NUM_FEATURES];
	float contrib[PD_NUM_FEATURES + 1];
	Contribution ranked[PD_NUM_FEATURES];
	int top_n = PG_ARGISNULL(2) ? PD_NUM_FEATURES : PG_GETARG_INT32(2);
	int model_id;
	BoosterHandle booster;

	pd_require_argument(fcinfo, 0, "customer_id");
	pd_require_argument(fcinfo, 1, "as_of");
	if (top_n < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("top_n must not be negative"),
		                errhint("Pass NULL for every feature and the bias.")));

	booster = pd_active_booster(&model_id);
	pd_compute_features(PG_GETARG_UUID_P(0), PG_GETARG_TIMESTAMPTZ(1),
	                    features);
	pd_features_to_row(features, row);
	pd_contributions(booster, row, 1, contrib);

	for (int i = 0; i < PD_NUM_FEATURES; i++)
	{
		ranked[i].feature = i;
		ranked[i].value = features[i];
		ranked[i].contribution = contrib[i];
	}
	qsort(ranked, PD_NUM_FEATURES, sizeof(Contribution), compare_by_magnitude);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < Min(top_n, PD_NUM_FEATURES); i++)
	{
		Datum values[3];
		bool nulls[3] = {false, false, false};

		values[0] =
		    CStringGetTextDatum(pd_feature_name_list[ranked[i].feature]);
		values[1] = Float8GetDatum(ranked[i].value);
		values[2] = Float8GetDatum(ranked[i].contribution);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
		                     nulls);
	}
	if (PG_ARGISNULL(2))
	{
		/* all features: add the bias, so that the rows sum to the margin */
		Datum values[3] = {CStringGetTextDatum("(bias)"), 0,
		                   Float8GetDatum(contrib[PD_NUM_FEATURES])};
		bool nulls[3] = {false, true, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
		                     nulls);
	}
	return (Datum) 0;
}

/* SQL: activate_model(model_id) ------------------------------------------ */

PG_FUNCTION_INFO_V1(pd_activate_model);
Datum
pd_activate_model(PG_FUNCTION_ARGS)
{
	Oid argtypes[1] = {INT4OID};
	Datum args[1];
	bool isnull;
	Datum names;
	Datum bytes;
	int model_id;

	pd_require_argument(fcinfo, 0, "model_id");
	model_id = PG_GETARG_INT32(0);
	args[0] = Int32GetDatum(model_id);

	SPI_connect();
	/* one activation at a time; scoring sessions keep reading meanwhile */
	SPI_execute(
	    "LOCK TABLE pre_delinquency.models IN SHARE ROW EXCLUSIVE MODE", false,
	    0);
	SPI_execute_with_args(
	    "SELECT feature_names, booster FROM pre_delinquency.models "
	    "WHERE model_id = $1",
	    1, argtypes, args, NULL, true, 1);
	if (SPI_processed == 0)
		ereport(
		    ERROR,
		    (errcode(ERRCODE_NO_DATA_FOUND),
		     errmsg("model %d does not exist", model_id),
		     errhint(
		         "See SELECT model_id, name FROM pre_delinquency.models.")));
	names = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
	                      &isnull);
	bytes = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
	                      &isnull);

	/* refuse a model that could not score before anyone depends on it */
	check_feature_names(model_id, names);
	XGBoosterFree(pd_load_booster(model_id, DatumGetByteaPP(bytes)));

	SPI_execute(
	    "UPDATE pre_delinquency.models SET is_active = false WHERE is_active",
	    false, 0);
	SPI_execute_with_args("UPDATE pre_delinquency.models SET is_active = true "
	                      "WHERE model_id = $1",
	                      1, argtypes, args, NULL, false, 0);
	SPI_finish();
	PG_RETURN_VOID();
}

/* SQL: read_shipped_model() ---------------------------------------------- */

/*
 * The model shipped with the extension, as the JSON text of
 * $sharedir/extension/pre_delinquency_model.json, or NULL if the file is
 * absent (only while bootstrapping the very first model). The path is
 * fixed: no caller chooses what file is read.
 */
PG_FUNCTION_INFO_V1(pd_read_shipped_model);
Datum
pd_read_shipped_model(PG_FUNCTION_ARGS)
{
	char sharepath[MAXPGPATH];
	char *path;
	FILE *file;
	StringInfoData text;
	char buffer[8192];
	size_t n;

	get_share_path(my_exec_path, sharepath);
	path = psprintf("%s/extension/pre_delinquency_model.json", sharepath);
	file = AllocateFile(path, "r");
	if (file == NULL)
	{
		ereport(
		    WARNING,
		    (errcode_for_file_access(),
		     errmsg("no shipped model at \"%s\": no model is active", path),
		     errhint("Train one with train_model() and activate it with "
		             "activate_model().")));
		PG_RETURN_NULL();
	}
	initStringInfo(&text);
	while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0)
		appendBinaryStringInfo(&text, buffer, n);
	if (ferror(file))
		ereport(ERROR, (errcode_for_file_access(),
		                errmsg("could not read \"%s\": %m", path)));
	FreeFile(file);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(text.data, text.len));
}
