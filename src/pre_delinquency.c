/*
 * pre_delinquency.c
 *    Module entry point: PG_MODULE_MAGIC, _PG_init and the extension's GUCs.
 *
 * Everything else lives in one file per concern: features.c (the 31
 * features and the label), synthetic.c (the synthetic bank), schema.c (where
 * the tables are), pd_util.c (money and calendar helpers).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);

void
_PG_init(void)
{
	MarkGUCPrefixReserved("pre_delinquency");
}
