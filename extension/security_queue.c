/*
 * security_queue.c — ring buffer of security events in shared memory (see security_queue.h).
 *
 * Producers are any backend, often inside an error hook; the single consumer is the janitor
 * worker.  A spinlock guards a few hundred fixed-size slots: pushing is a copy of well under a
 * kilobyte of text with no allocation and no catalog access.  When the ring is full the event is
 * counted as dropped; the janitor reports the count as an event of its own.
 */
#include "postgres.h"

#include "common/ip.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/backend_status.h"
#include "utils/timestamp.h"

#include "security_queue.h"

#define SECURITY_QUEUE_SLOTS	256

typedef struct SecurityQueue
{
	slock_t		mutex;
	uint64		head;			/* next slot to write (monotonic) */
	uint64		tail;			/* next slot to read (monotonic) */
	uint64		dropped;
	int			consumer_procno;	/* janitor's pgprocno, -1 when not running */
	SecurityQueuedEvent slots[SECURITY_QUEUE_SLOTS];
} SecurityQueue;

static SecurityQueue *queue;

static shmem_request_hook_type prev_shmem_request_hook;
static shmem_startup_hook_type prev_shmem_startup_hook;

static void
security_queue_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SecurityQueue)));
}

static void
security_queue_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	queue = ShmemInitStruct("freight security event queue", sizeof(SecurityQueue), &found);
	if (!found)
	{
		SpinLockInit(&queue->mutex);
		queue->head = queue->tail = queue->dropped = 0;
		queue->consumer_procno = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
security_queue_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = security_queue_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = security_queue_shmem_startup;
}

/* Numeric client address of this backend, or "" for Unix sockets and background processes. */
static void
client_address(char *buf, size_t len)
{
	buf[0] = '\0';
	if (MyBEEntry == NULL || (MyBEEntry->st_clientaddr.addr.ss_family != AF_INET &&
							  MyBEEntry->st_clientaddr.addr.ss_family != AF_INET6))
		return;
	if (pg_getnameinfo_all(&MyBEEntry->st_clientaddr.addr, MyBEEntry->st_clientaddr.salen,
						   buf, len, NULL, 0, NI_NUMERICHOST) != 0)
		buf[0] = '\0';
}

void
security_queue_push(const char *kind, const char *severity, const char *actor,
					int sqlerrcode, const char *message, const char *statement)
{
	SecurityQueuedEvent ev;
	int			consumer = -1;
	bool		stored = false;

	if (queue == NULL)
		return;
	memset(&ev, 0, offsetof(SecurityQueuedEvent, message));
	ev.time = GetCurrentTimestamp();
	ev.dbid = MyDatabaseId;
	ev.userid = GetUserId();
	ev.session_userid = GetSessionUserId();
	ev.pid = MyProcPid;
	ev.sqlerrcode = sqlerrcode;
	strlcpy(ev.kind, kind, sizeof(ev.kind));
	strlcpy(ev.severity, severity, sizeof(ev.severity));
	strlcpy(ev.actor, actor ? actor : "", sizeof(ev.actor));
	client_address(ev.client_addr, sizeof(ev.client_addr));
	strlcpy(ev.message, message ? message : "", sizeof(ev.message));
	strlcpy(ev.statement, statement ? statement : "", sizeof(ev.statement));

	SpinLockAcquire(&queue->mutex);
	if (queue->head - queue->tail < SECURITY_QUEUE_SLOTS)
	{
		memcpy(&queue->slots[queue->head % SECURITY_QUEUE_SLOTS], &ev, sizeof(ev));
		queue->head++;
		stored = true;
	}
	else
		queue->dropped++;
	consumer = queue->consumer_procno;
	SpinLockRelease(&queue->mutex);

	if (stored && consumer >= 0)
		SetLatch(&ProcGlobal->allProcs[consumer].procLatch);
}

/*
 * Copy up to max of the oldest queued events into events[] without removing them; the janitor
 * (the only consumer) calls security_queue_consume(n) once they are committed to the table.
 */
int
security_queue_peek(SecurityQueuedEvent *events, int max)
{
	int			n = 0;

	SpinLockAcquire(&queue->mutex);
	if (MyProc != NULL)
		queue->consumer_procno = MyProc->pgprocno;
	while (n < max && queue->tail + n < queue->head)
	{
		memcpy(&events[n], &queue->slots[(queue->tail + n) % SECURITY_QUEUE_SLOTS],
			   sizeof(SecurityQueuedEvent));
		n++;
	}
	SpinLockRelease(&queue->mutex);
	return n;
}

void
security_queue_consume(int n)
{
	SpinLockAcquire(&queue->mutex);
	queue->tail += n;
	SpinLockRelease(&queue->mutex);
}

uint64
security_queue_take_dropped(void)
{
	uint64		dropped;

	SpinLockAcquire(&queue->mutex);
	dropped = queue->dropped;
	queue->dropped = 0;
	SpinLockRelease(&queue->mutex);
	return dropped;
}
