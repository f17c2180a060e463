/*
 * xgb_util.c
 *    Small glue for the XGBoost C API: error reporting, the array interface
 *    strings its in-place prediction takes, and reading its JSON dumps.
 *
 * Owns no handles: callers free their boosters and matrices (PG_TRY or a
 * memory context callback), this file only turns failures into ERRORs.
 */
#include "postgres.h"

#include "xgb_json.h"
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

json_object *
pd_json_member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

bool
pd_json_member_is(json_object *o, const char *key, const char *value)
{
	json_object *v = pd_json_member(o, key);

	return v != NULL && strcmp(json_object_get_string(v), value) == 0;
}

int
pd_json_int_at(json_object *array, int i)
{
	json_object *v = json_object_array_get_idx(array, i);

	return v == NULL ? -1 : json_object_get_int(v);
}
