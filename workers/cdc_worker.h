/*
 * cdc_worker.h — the change-data-capture background worker (cdc_worker.c).
 *
 * cdc_worker_init() (called from _PG_init) defines the freight.cdc_* GUCs and freight.database,
 * and registers the worker.  Other workers that need the database name read freight_database.
 */
#ifndef CDC_WORKER_H
#define CDC_WORKER_H

#include "fmgr.h"

/* GUC freight.database: the database freight's background workers connect to. */
extern char *freight_database;

extern void cdc_worker_init(void);
extern PGDLLEXPORT void cdc_worker_main(Datum main_arg);

#endif							/* CDC_WORKER_H */
