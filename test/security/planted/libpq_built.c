/* planted: libpq with a query built by snprintf */
static void
drop(PGconn *conn, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "DROP TABLE %s", name);
	PQclear(PQexec(conn, sql));
}
