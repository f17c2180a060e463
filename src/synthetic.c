/* synthetic.c — being written */
#include "postgres.h"
#include "fmgr.h"

PG_FUNCTION_INFO_V1(pd_generate_synthetic);

Datum
pd_generate_synthetic(PG_FUNCTION_ARGS)
{
	elog(ERROR, "not implemented yet");
}
