/* planted: a StringInfo assembling SQL, prepared with SPI */
static void
by_name(const char *table)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfo(&q, "SELECT count(*) FROM %s", table);
	SPI_prepare(q.data, 0, NULL);
}
