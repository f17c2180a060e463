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

/*
 * XGBoost's last message without what makes it unreadable or unstable: the
 * "[hh:mm:ss] file.cc:line: " prefix and the stack trace after the first
 * line.
 */
char *
pd_xgb_last_error(void)
{
	const char *message = XGBGetLastError();
	const char *newline;

	if (message[0] == '[' && strchr(message, ']') != NULL)
	{
		const char *after = strchr(message, ']') + 1;
		const char *colon = strstr(after, ": ");

		while (*after == ' ')
			after++;
		/* skip "path:line: " when the next word is one */
		if (colon != NULL && strchr(after, ' ') > colon &&
		    strchr(after, ':') < colon)
			after = colon + 2;
		message = after;
	}
	newline = strchr(message, '\n');
	return newline ? pnstrdup(message, newline - message) : pstrdup(message);
}

char *
pd_xgb_dense_interface(const float *data, int nrow, int ncol)
{
	return psprintf("{\"data\": [%lu, true], \"shape\": [%d, %d], "
	                "\"typestr\": \"<f4\", \"version\": 3}",
	                (unsigned long) (uintptr_t) data, nrow, ncol);
}
