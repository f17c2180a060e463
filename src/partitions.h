/*
 * partitions.h
 *    Partition ownership for scale-out: which partitions of
 *    transactions_topic this database owns (pre_delinquency.partitions),
 *    and which partition a key goes to (the Java client's partitioner).
 */
#ifndef PD_PARTITIONS_H
#define PD_PARTITIONS_H

#include "postgres.h"

#include "utils/guc.h"

/* more than a bank runs on one topic; bounded so the list fits in shmem */
#define PD_MAX_OWNED_PARTITIONS 256

typedef struct PdPartitionList
{
	int n;                                    /* 0: consumer-group mode */
	int32 partition[PD_MAX_OWNED_PARTITIONS]; /* ascending, no repeats */
} PdPartitionList;

/* The GUC's text and its parsed form (NULL or n == 0: consumer group). */
extern char *pd_partitions_text;
extern const PdPartitionList *pd_owned_partitions;

extern bool pd_check_partitions(char **newval, void **extra, GucSource source);
extern void pd_assign_partitions(const char *newval, void *extra);

/* "0-2,5": a list written back in its shortest form, palloc'd */
extern char *pd_format_partitions(const int32 *partitions, int n);

#endif
