/*
 * security_queue.h — security events that must outlive the transaction that saw them.
 *
 * A failed GRANT, a permission-denied error or a full rate-limit table aborts the transaction that
 * noticed it, so that transaction cannot insert into freight.security_events.  Such events go into
 * a small ring buffer in shared memory instead (no allocation, no catalog access: safe inside an
 * error hook); the janitor worker drains it into freight.security_events.  Any module may call
 * security_queue_push(), e.g. just before ereport(ERROR, ...).
 */
#ifndef SECURITY_QUEUE_H
#define SECURITY_QUEUE_H

#include "datatype/timestamp.h"

#define SECURITY_QUEUE_TEXT_MAX	512

typedef struct SecurityQueuedEvent
{
	TimestampTz time;
	Oid			dbid;
	Oid			userid;			/* current user when it happened */
	Oid			session_userid;
	int			pid;
	int			sqlerrcode;		/* 0 when not about an error */
	char		kind[32];
	char		severity[16];
	char		actor[136];		/* empty: the current user's name is filled in when drained */
	char		client_addr[64];	/* empty for local or background processes */
	char		message[SECURITY_QUEUE_TEXT_MAX];
	char		statement[SECURITY_QUEUE_TEXT_MAX];
} SecurityQueuedEvent;

extern void security_queue_init(void);
extern void security_queue_push(const char *kind, const char *severity, const char *actor,
								int sqlerrcode, const char *message, const char *statement);
extern int	security_queue_peek(SecurityQueuedEvent *events, int max);
extern void security_queue_consume(int n);
extern uint64 security_queue_take_dropped(void);

#endif							/* SECURITY_QUEUE_H */
