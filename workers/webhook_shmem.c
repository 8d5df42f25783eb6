/*
 * webhook_shmem.c — the dispatcher's published latch and the wake-at-commit callback
 * (see webhook_shmem.h), plus the SQL function freight.webhook_wake().
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "webhook_shmem.h"

typedef struct WebhookShared
{
	Latch	   *dispatcher_latch;	/* in the dispatcher's PGPROC (shared memory), or NULL */
} WebhookShared;

static WebhookShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool wake_requested = false;
static bool callback_registered = false;

PG_FUNCTION_INFO_V1(freight_webhook_wake);

static void
webhook_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WebhookShared)));
}

static void
webhook_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("freight webhook dispatcher", sizeof(WebhookShared), &found);
	if (!found)
		shared->dispatcher_latch = NULL;
	LWLockRelease(AddinShmemInitLock);
}

void
webhook_shmem_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = webhook_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = webhook_shmem_startup;
}

static void
detach_dispatcher(int code, Datum arg)
{
	shared->dispatcher_latch = NULL;
	pg_memory_barrier();
}

void
webhook_shmem_attach_dispatcher(void)
{
	shared->dispatcher_latch = &MyProc->procLatch;
	pg_memory_barrier();
	on_shmem_exit(detach_dispatcher, (Datum) 0);
}

static void
wake_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_requested && shared != NULL)
			{
				Latch	   *latch = shared->dispatcher_latch;

				if (latch != NULL)
					SetLatch(latch);
			}
			wake_requested = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* A prepared transaction's deliveries are found when they fall due. */
			wake_requested = false;
			break;
		default:
			break;
	}
}

void
webhook_wake_at_commit(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		callback_registered = true;
	}
	wake_requested = true;
}

Datum
freight_webhook_wake(PG_FUNCTION_ARGS)
{
	webhook_wake_at_commit();
	PG_RETURN_VOID();
}
