/*
 * cdc_batch.h — decoded changes waiting to be written to freight.events.
 *
 * The CDC worker's write callback hands every line of the output plugin (cdc_output.c) to
 * cdc_batch_add(); cdc_batch_write() then stores the whole batch in the caller's transaction
 * (multi-row inserts, as COPY does), skipping changes already recorded, and queues a NOTIFY
 * freight_events carrying the new highest event id.
 */
#ifndef CDC_BATCH_H
#define CDC_BATCH_H

#include "datatype/timestamp.h"

typedef struct CdcBatch CdcBatch;

extern CdcBatch *cdc_batch_create(MemoryContext parent);
extern void cdc_batch_add(CdcBatch *batch, const char *line, int len);
extern int	cdc_batch_count(CdcBatch *batch);
extern TimestampTz cdc_batch_last_commit_time(CdcBatch *batch);
/* Inserts the batch (inside a transaction, SPI connected); returns the rows written. */
extern uint64 cdc_batch_write(CdcBatch *batch);
extern void cdc_batch_reset(CdcBatch *batch);

#endif							/* CDC_BATCH_H */
