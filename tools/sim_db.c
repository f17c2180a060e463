/*
 * sim_db.c
 *    Reading the bank for pd_simulate (libpq): a seeded sample of
 *    pre_delinquency.customers with what their next events should respect,
 *    and the stored transactions for --replay, streamed row by row.
 *
 * Only reads; the session runs in UTC so that dates given to --replay mean
 * UTC days, as everywhere in FEATURES.md.
 */
#include "sim_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sample: a fixed order that depends on the seed, cut at the limit. */
#define SAMPLE_CTE                                                            \
	"WITH sample AS ("                                                        \
	" SELECT customer_id, monthly_income, salary_day"                         \
	" FROM pre_delinquency.customers"                                         \
	" ORDER BY md5(customer_id::text || $1), customer_id"                     \
	" LIMIT $2::bigint) "

static const char *const customers_sql = SAMPLE_CTE
    "SELECT s.customer_id, s.monthly_income::float8, s.salary_day,"
    " (SELECT (extract(epoch FROM max(t.txn_time)) * 1000000)::int8"
    "  FROM pre_delinquency.transactions t"
    "  WHERE t.customer_id = s.customer_id AND t.txn_type = 'credit'"
    "  AND t.category = 'salary' AND NOT t.is_failed"
    "  AND t.txn_time <= now()),"
    " (SELECT p.amount_due::float8 FROM pre_delinquency.payments p"
    "  WHERE p.customer_id = s.customer_id AND p.kind = 'loan'"
    "  ORDER BY p.due_date DESC LIMIT 1)"
    " FROM sample s";

static const char *const merchants_sql = SAMPLE_CTE
    "SELECT t.customer_id, t.category, t.merchant_id"
    " FROM sample s JOIN pre_delinquency.transactions t"
    "  ON t.customer_id = s.customer_id"
    " WHERE t.txn_time >= now() - interval '60 days'"
    " AND t.txn_time < now() AND t.txn_type = 'debit' AND NOT t.is_failed"
    " AND t.merchant_id IS NOT NULL"
    " GROUP BY 1, 2, 3 ORDER BY 1, count(*) DESC, 3";

static const char *const replay_sql =
    "SELECT event_id, customer_id,"
    " to_char(txn_time, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " amount::text, txn_type, category, channel, merchant_id, is_failed"
    " FROM pre_delinquency.transactions"
    " WHERE txn_time >= $1::timestamptz AND txn_time < $2::timestamptz"
    " ORDER BY txn_time, event_id"
    " LIMIT $3::bigint";

static void
die_on_result(PGconn *conn, PGresult *res, const char *what)
{
	const char *hint = "";
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (state != NULL && strcmp(state, "42P01") == 0)
		hint = " (is the extension installed in this database? "
		       "CREATE EXTENSION pre_delinquency)";
	tool_die(TOOL_EXIT_FAILURE, "%s: %s%s", what,
	         res ? PQresultErrorMessage(res) : PQerrorMessage(conn), hint);
}

PGconn *
sim_db_connect(const char *dsn)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *values[] = {dsn, "pd_simulate", NULL};
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	PGresult *res;

	if (PQstatus(conn) != CONNECTION_OK)
		tool_die(TOOL_EXIT_FAILURE, "cannot connect to the database: %s",
		         PQerrorMessage(conn));
	res = PQexec(conn, "SET TimeZone = 'UTC'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die_on_result(conn, res, "SET TimeZone");
	PQclear(res);
	return conn;
}

int
sim_db_load_bank(PGconn *conn, SimBank *bank, long limit, uint64_t seed)
{
	char seed_text[24];
	char limit_text[24];
	const char *params[2] = {seed_text, limit > 0 ? limit_text : NULL};
	PGresult *res;
	int n;
	int first = bank->ncustomers;

	snprintf(seed_text, sizeof(seed_text), "%" PRIu64, seed);
	snprintf(limit_text, sizeof(limit_text), "%ld", limit);

	/* one snapshot for both queries, so the sample is the same */
	PQclear(PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
	res = PQexecParams(conn, customers_sql, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die_on_result(conn, res, "reading pre_delinquency.customers");
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
	{
		SimCustomer *c = sim_bank_add(bank, PQgetvalue(res, i, 0),
		                              strtod(PQgetvalue(res, i, 1), NULL),
		                              atoi(PQgetvalue(res, i, 2)));

		if (!PQgetisnull(res, i, 3))
			c->last_salary_usec = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		if (!PQgetisnull(res, i, 4))
			c->emi = strtod(PQgetvalue(res, i, 4), NULL);
	}
	PQclear(res);
	sim_bank_finish(bank);

	res = PQexecParams(conn, merchants_sql, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die_on_result(conn, res, "reading pre_delinquency.transactions");
	for (int i = 0, m = PQntuples(res); i < m; i++)
	{
		SimCustomer *c = sim_bank_find(bank, PQgetvalue(res, i, 0));

		if (c != NULL)
			sim_bank_add_merchant(c, PQgetvalue(res, i, 1),
			                      PQgetvalue(res, i, 2));
	}
	PQclear(res);
	PQclear(PQexec(conn, "COMMIT"));
	return bank->ncustomers - first;
}

void
sim_replay_start(SimReplay *r, PGconn *conn, const char *from, const char *to,
                 long limit)
{
	char limit_text[24];
	const char *params[3] = {from, to, limit > 0 ? limit_text : NULL};

	snprintf(limit_text, sizeof(limit_text), "%ld", limit);
	r->conn = conn;
	r->row = NULL;
	if (!PQsendQueryParams(conn, replay_sql, 3, NULL, params, NULL, NULL, 0))
		die_on_result(conn, NULL, "reading pre_delinquency.transactions");
	/* rows arrive one by one: a long history never sits in memory */
	if (!PQsetSingleRowMode(conn))
		tool_die(TOOL_EXIT_FAILURE, "libpq refused single-row mode");
}

bool
sim_replay_next(SimReplay *r, SimEvent *ev)
{
	PGresult *res;

	if (r->row != NULL)
	{
		PQclear(r->row);
		r->row = NULL;
	}
	if (r->conn == NULL)
		return false;
	res = PQgetResult(r->conn);
	if (res != NULL && PQresultStatus(res) == PGRES_SINGLE_TUPLE)
	{
		r->row = res;
		ev->event_id = PQgetvalue(res, 0, 0);
		ev->customer_id = PQgetvalue(res, 0, 1);
		ev->txn_time = PQgetvalue(res, 0, 2);
		ev->amount = PQgetvalue(res, 0, 3);
		ev->txn_type = PQgetvalue(res, 0, 4);
		ev->category = PQgetvalue(res, 0, 5);
		ev->channel = PQgetvalue(res, 0, 6);
		ev->merchant_id =
		    PQgetisnull(res, 0, 7) ? NULL : PQgetvalue(res, 0, 7);
		ev->is_failed = PQgetvalue(res, 0, 8)[0] == 't';
		return true;
	}
	if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (state != NULL && strncmp(state, "22", 2) == 0)
			tool_die(TOOL_EXIT_USAGE,
			         "--replay: %sGive FROM and TO as times or dates, e.g. "
			         "--replay 2025-01-01 '2025-02-01 12:00+00' (dates are "
			         "UTC days).",
			         PQresultErrorMessage(res));
		die_on_result(r->conn, res, "reading pre_delinquency.transactions");
	}
	/* the final (empty) result, then NULL */
	PQclear(res);
	while ((res = PQgetResult(r->conn)) != NULL)
		PQclear(res);
	r->conn = NULL;
	return false;
}

void
sim_replay_finish(SimReplay *r)
{
	PGresult *res;

	if (r->row != NULL)
	{
		PQclear(r->row);
		r->row = NULL;
	}
	if (r->conn == NULL)
		return;
	/* stopped early (COUNT reached, or Ctrl-C): cancel the rest */
	{
		PGcancel *cancel = PQgetCancel(r->conn);
		char err[256];

		if (cancel != NULL)
		{
			PQcancel(cancel, err, sizeof(err));
			PQfreeCancel(cancel);
		}
	}
	while ((res = PQgetResult(r->conn)) != NULL)
		PQclear(res);
	r->conn = NULL;
}
