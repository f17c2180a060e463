/* planted: a query held in a variable that is not a constant literal */
static void
run(const char *sql)
{
	SPI_execute_with_args(sql, 0, NULL, NULL, NULL, false, 0);
}
