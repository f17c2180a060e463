/* planted: the project's kept-plan wrapper given a query that is not a constant */
static void
run_kept(const char *query)
{
	static SPIPlanPtr plan = NULL;

	pd_execute_kept(&plan, query, 0, NULL, NULL, NULL, false);
}
