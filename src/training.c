/*
 * training.c
 *    Training and evaluating models inside the database (being written).
 */
#include "postgres.h"

#include "fmgr.h"

PG_FUNCTION_INFO_V1(pd_train_model);
Datum
pd_train_model(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("train_model is not implemented yet")));
}

PG_FUNCTION_INFO_V1(pd_evaluate_model);
Datum
pd_evaluate_model(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("evaluate_model is not implemented yet")));
}
