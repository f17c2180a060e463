/* features.c — being written */
#include "postgres.h"
#include "fmgr.h"

PG_FUNCTION_INFO_V1(pd_customer_features);
PG_FUNCTION_INFO_V1(pd_feature_names);
PG_FUNCTION_INFO_V1(pd_customer_label);

Datum
pd_customer_features(PG_FUNCTION_ARGS)
{
	elog(ERROR, "not implemented yet");
}

Datum
pd_feature_names(PG_FUNCTION_ARGS)
{
	elog(ERROR, "not implemented yet");
}

Datum
pd_customer_label(PG_FUNCTION_ARGS)
{
	elog(ERROR, "not implemented yet");
}
