/*
 * redact.c
 *    Keeps pre_delinquency.kafka_properties (broker credentials: SASL
 *    passwords, key passwords) out of the server log.
 *
 * The GUC is GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL, so views and SHOW hide
 * it, and our own errors name a bad key, never a value. Two messages that
 * PostgreSQL itself writes would still carry the value, so an emit_log_hook
 * rewrites them before they reach the log:
 *   - the postmaster's 'parameter "..." changed to "<value>"' on reload;
 *   - a statement naming the setting (ALTER SYSTEM SET ... under
 *     log_statement, as the STATEMENT of an error, or quoted by a syntax
 *     error).
 * The hook is installed by _PG_init in every process that loads the
 * library, the postmaster included when it is preloaded. It knows nothing
 * about Kafka.
 */
#include "postgres.h"

#include "tcop/tcopprot.h"
#include "utils/elog.h"

#include "redact.h"

#define SECRET_GUC "kafka_properties"

static emit_log_hook_type prev_emit_log_hook = NULL;

static bool
mentions_secret(const char *text)
{
	return text != NULL && strstr(text, SECRET_GUC) != NULL;
}

/*
 * The messages of PostgreSQL's that carry the value: the reload notice
 * ('parameter "..." changed to "<value>"') and statements logged by
 * log_statement / log_min_duration_statement ("statement: ...",
 * "duration: ... statement: ...", "execute <name>: ..."). Other messages
 * naming the setting ("cannot be changed now", "must be superuser ... to
 * examine", ours: "pre_delinquency.kafka_properties: librdkafka refused
 * property \"x\"") name it without a value and stay as they are.
 */
static const char *
redacted_message(const char *message)
{
	if (strncmp(message, "parameter \"", 11) == 0 &&
	    strstr(message, "changed to") != NULL)
		return "parameter \"pre_delinquency." SECRET_GUC
		       "\" changed (value not shown)";
	if (strstr(message, "statement: ") != NULL ||
	    strncmp(message, "execute ", 8) == 0)
		return "statement: (not shown: it names pre_delinquency." SECRET_GUC
		       ")";
	return NULL;
}

static void
redact_emit_log_hook(ErrorData *edata)
{
	const char *replacement;

	if (mentions_secret(debug_query_string))
	{
		/* the statement text may hold the value: never log it */
		edata->hide_stmt = true;
		edata->hide_ctx = true;
		/* a syntax error quotes the text "at or near" the error */
		if (edata->sqlerrcode == ERRCODE_SYNTAX_ERROR)
		{
			edata->message =
			    pstrdup("syntax error in a statement naming "
			            "pre_delinquency." SECRET_GUC " (text not shown)");
			edata->cursorpos = 0;
		}
	}
	if (mentions_secret(edata->message) &&
	    (replacement = redacted_message(edata->message)) != NULL)
		edata->message = pstrdup(replacement);
	if (mentions_secret(edata->detail))
		edata->detail = NULL;
	if (mentions_secret(edata->context))
		edata->context = NULL;
	if (mentions_secret(edata->internalquery))
		edata->internalquery = NULL;
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
pd_install_redaction(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = redact_emit_log_hook;
}
