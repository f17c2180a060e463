/*
 * schema.c
 *    Finds the extension's tables, indexes and column numbers by name and
 *    caches them per backend, so that the C readers (features, label) can use
 *    direct index scans without hard-coding OIDs or column positions.
 *
 * The cache is dropped on any relation cache invalidation (ALTER, DROP,
 * DROP EXTENSION), which is rare and cheap to recover from.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "schema.h"

static PdSchema schema;
static bool schema_valid = false;
static bool callback_registered = false;

static void
invalidate_schema(Datum arg, Oid relid)
{
	schema_valid = false;
}

static Oid
lookup_relation(const char *name)
{
	Oid			relid = get_relname_relid(name, schema.namespace_oid);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation pre_delinquency.%s does not exist", name),
				 errhint("The extension's objects were altered; reinstall it with "
						 "DROP EXTENSION pre_delinquency; CREATE EXTENSION pre_delinquency.")));
	return relid;
}

static AttrNumber
lookup_column(Oid relid, const char *name)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column %s of pre_delinquency.%s does not exist",
						name, get_rel_name(relid)),
				 errhint("The extension's tables were altered; restore the column.")));
	return attnum;
}

static void
load_schema(void)
{
	PdSchema   *s = &schema;

	s->namespace_oid = get_namespace_oid("pre_delinquency", true);
	if (!OidIsValid(s->namespace_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("extension pre_delinquency is not installed in this database"),
				 errhint("Run CREATE EXTENSION pre_delinquency.")));

	s->customers = lookup_relation("customers");
	s->customers_pkey = lookup_relation("customers_pkey");
	s->cust_monthly_income = lookup_column(s->customers, "monthly_income");
	s->cust_salary_day = lookup_column(s->customers, "salary_day");
	s->cust_opened_at = lookup_column(s->customers, "opened_at");
	s->cust_opening_balance = lookup_column(s->customers, "opening_balance");
	s->cust_min_balance = lookup_column(s->customers, "min_balance");

	s->transactions = lookup_relation("transactions");
	s->transactions_time_idx = lookup_relation("transactions_customer_time_idx");
	s->transactions_salary_idx = lookup_relation("transactions_salary_idx");
	s->txn_time = lookup_column(s->transactions, "txn_time");
	s->txn_amount = lookup_column(s->transactions, "amount");
	s->txn_type = lookup_column(s->transactions, "txn_type");
	s->txn_category = lookup_column(s->transactions, "category");
	s->txn_channel = lookup_column(s->transactions, "channel");
	s->txn_merchant_id = lookup_column(s->transactions, "merchant_id");
	s->txn_is_failed = lookup_column(s->transactions, "is_failed");

	s->payments = lookup_relation("payments");
	s->payments_due_idx = lookup_relation("payments_customer_due_idx");
	s->pay_kind = lookup_column(s->payments, "kind");
	s->pay_due_date = lookup_column(s->payments, "due_date");
	s->pay_amount_due = lookup_column(s->payments, "amount_due");
	s->pay_paid_date = lookup_column(s->payments, "paid_date");
	s->pay_amount_paid = lookup_column(s->payments, "amount_paid");

	s->ledger = lookup_relation("balance_ledger");
	s->ledger_pkey = lookup_relation("balance_ledger_pkey");
	s->ledger_month = lookup_column(s->ledger, "month");
	s->ledger_net_cents = lookup_column(s->ledger, "net_cents");
}

const PdSchema *
pd_schema(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(invalidate_schema, (Datum) 0);
		callback_registered = true;
	}
	if (!schema_valid)
	{
		load_schema();
		schema_valid = true;
	}
	return &schema;
}
