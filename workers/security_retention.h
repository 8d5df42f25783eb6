/*
 * security_retention.h — the janitor's expiry of old security events (security_retention.c).
 */
#ifndef SECURITY_RETENTION_H
#define SECURITY_RETENTION_H

extern void security_retention_define_gucs(void);
extern bool security_retention_enabled(void);
extern uint64 security_retention_run(void);

/* Most events deleted in one transaction. */
#define SECURITY_RETENTION_BATCH 10000

#endif							/* SECURITY_RETENTION_H */
