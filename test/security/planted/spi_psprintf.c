/* planted: SQL pasted together with psprintf and run through SPI */
static void
delete_customer(const char *id)
{
	SPI_execute(psprintf("DELETE FROM pre_delinquency.customers WHERE customer_id = '%s'", id),
	            false, 0);
}
