/*
 * partitions.c
 *    Partition ownership for scale-out. Events are keyed by customer_id, so
 *    with several databases each owning a fixed set of partitions of
 *    transactions_topic a customer's whole history lives in one of them.
 *    This file owns the pre_delinquency.partitions setting (its syntax and
 *    check hook) and kafka_partition(), the key -> partition function of the
 *    Java client's default partitioner, so a DBA can load into a database
 *    exactly the customers whose events it will receive.
 *
 * How the ingest worker consumes the owned partitions is ingest_worker.c's.
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <librdkafka/rdkafka.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "partitions.h"

char *pd_partitions_text = NULL;
const PdPartitionList *pd_owned_partitions = NULL;

static int
compare_int32(const void *a, const void *b)
{
	int32 x = *(const int32 *) a, y = *(const int32 *) b;

	return x < y ? -1 : x > y;
}

/* A partition number at *p (after blanks); false if there is none. */
static bool
parse_number(const char **p, int32 *out)
{
	int64 v = 0;
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char) *s))
		return false;
	while (isdigit((unsigned char) *s))
	{
		v = v * 10 + (*s++ - '0');
		if (v > INT_MAX)
			return false;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	*out = (int32) v;
	*p = s;
	return true;
}

/*
 * Parses "0-5", "0,2,4", "0-2, 5" into an ascending list. Returns false
 * with GUC_check_errdetail set when the text is not such a list.
 */
static bool
parse_partitions(const char *text, PdPartitionList *list)
{
	const char *p = text;

	list->n = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true; /* empty: consumer-group mode */
	for (;;)
	{
		const char *entry = p;
		int32 first, last;

		if (!parse_number(&p, &first))
		{
			char *what = pnstrdup(entry, strcspn(entry, ","));

			if (strspn(what, " \t") == strlen(what))
				GUC_check_errdetail("An entry of the list is empty.");
			else if (strspn(what, " \t0123456789") == strlen(what))
				GUC_check_errdetail("Partition %s is out of range.", what);
			else
				GUC_check_errdetail("\"%s\" is not a partition number or a "
				                    "range like 0-5.",
				                    what);
			return false;
		}
		last = first;
		if (*p == '-')
		{
			p++;
			if (!parse_number(&p, &last))
			{
				GUC_check_errdetail("The range starting at %d has no end.",
				                    first);
				return false;
			}
			if (last < first)
			{
				GUC_check_errdetail("The range %d-%d runs backwards.", first,
				                    last);
				return false;
			}
		}
		if ((int64) last - first + 1 > PD_MAX_OWNED_PARTITIONS - list->n)
		{
			GUC_check_errdetail("At most %d partitions can be listed.",
			                    PD_MAX_OWNED_PARTITIONS);
			return false;
		}
		for (int64 v = first; v <= last; v++)
			list->partition[list->n++] = (int32) v;
		if (*p == '\0')
			break;
		if (*p != ',')
		{
			GUC_check_errdetail("Unexpected \"%s\": separate entries with "
			                    "commas.",
			                    p);
			return false;
		}
		p++;
	}
	qsort(list->partition, list->n, sizeof(int32), compare_int32);
	for (int i = 1; i < list->n; i++)
		if (list->partition[i] == list->partition[i - 1])
		{
			GUC_check_errdetail("Partition %d is listed twice.",
			                    list->partition[i]);
			return false;
		}
	return true;
}

bool
pd_check_partitions(char **newval, void **extra, GucSource source)
{
	/* PostgreSQL 15 frees a check hook's extra with free() */
	PdPartitionList *list = malloc(sizeof(PdPartitionList));

	if (list == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		return false;
	}
	if (!parse_partitions(*newval ? *newval : "", list))
	{
		free(list);
		GUC_check_errhint("Write partition numbers and ranges separated by "
		                  "commas, e.g. '0-2,5'; empty for consumer-group "
		                  "assignment.");
		return false;
	}
	*extra = list;
	return true;
}

void
pd_assign_partitions(const char *newval, void *extra)
{
	pd_owned_partitions = extra;
}

char *
pd_format_partitions(const int32 *partitions, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n;)
	{
		int j = i;

		while (j + 1 < n && partitions[j + 1] == partitions[j] + 1)
			j++;
		appendStringInfo(&buf, "%s%d", i > 0 ? "," : "", partitions[i]);
		if (j > i)
			appendStringInfo(&buf, "-%d", partitions[j]);
		i = j + 1;
	}
	return buf.data;
}

/*
 * kafka_partition(key text, partitions int): the partition the Java
 * client's default partitioner (and librdkafka's murmur2 and
 * murmur2_random, which pd_simulate uses) sends a message with this key
 * to: murmur2 of the key's bytes, made positive, modulo the partition
 * count. librdkafka's own function is called, so the answer is the
 * producer's by construction. The bytes are the text's in the database
 * encoding: UTF-8 databases give the Java client's String.getBytes(UTF_8).
 */
PG_FUNCTION_INFO_V1(pd_kafka_partition);
Datum
pd_kafka_partition(PG_FUNCTION_ARGS)
{
	text *key = PG_GETARG_TEXT_PP(0);
	int32 partitions = PG_GETARG_INT32(1);

	if (partitions < 1)
		ereport(
		    ERROR,
		    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		     errmsg("a topic has at least one partition, not %d", partitions),
		     errhint("Pass the partition count of the topic, e.g. 6.")));
	/* the murmur2 partitioner reads neither the topic nor the opaques */
	PG_RETURN_INT32(rd_kafka_msg_partitioner_murmur2(NULL, VARDATA_ANY(key),
	                                                 VARSIZE_ANY_EXHDR(key),
	                                                 partitions, NULL, NULL));
}
