/* planted (must pass): constants and parameters only */
#define SAMPLE "SELECT customer_id FROM pre_delinquency.customers"
static const char *const by_id = SAMPLE " WHERE customer_id = $1";

static void
fine(PGconn *conn, Datum *args, Oid *types, const char **params)
{
	SPI_execute("SELECT 1", true, 0);
	SPI_execute_with_args("UPDATE pre_delinquency.models SET is_active = true "
	                      "WHERE model_id = $1",
	                      1, types, args, NULL, false, 0);
	SPI_prepare(by_id, 1, types);
	PQexecParams(conn, by_id, 1, NULL, params, NULL, NULL, 0);
	PQexec(conn, "BEGIN");
	elog(LOG, "%s", psprintf("ingesting %d events", 3));
}
