/* planted: a choice whose one branch is not a constant */
static void
run(bool all, const char *where)
{
	SPI_execute(all ? "SELECT 1" : where, true, 0);
}
