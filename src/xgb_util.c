/*
 * xgb_util.c
 *    Small glue for the XGBoost C API: error reporting and the array
 *    interface strings its in-place prediction takes.
 *
 * Owns no handles: callers free their boosters and matrices (PG_TRY or a
 * memory context callback), this file only turns failures into ERRORs.
 */
#include "postgres.h"

#include "xgb_util.h"

void
pd_xgb_error(const char *what)
{
	ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
	                errmsg("XGBoost failed while %s", what),
	                errdetail("%s", pd_xgb_last_error())));
}

/* XGBoost's last message without the stack trace it appends. */
char *
pd_xgb_last_error(void)
{
	const char *message = XGBGetLastError();
	const char *newline = strchr(message, '\n');

	return newline ? pnstrdup(message, newline - message) : pstrdup(message);
}

char *
pd_xgb_dense_interface(const float *data, int nrow, int ncol)
{
	return psprintf("{\"data\": [%lu, true], \"shape\": [%d, %d], "
	                "\"typestr\": \"<f4\", \"version\": 3}",
	                (unsigned long) (uintptr_t) data, nrow, ncol);
}
