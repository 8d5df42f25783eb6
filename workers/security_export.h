/*
 * security_export.h — the janitor's export of security events to a JSON-lines file and to a
 * syslog server (security_export.c).
 */
#ifndef SECURITY_EXPORT_H
#define SECURITY_EXPORT_H

extern void security_export_define_gucs(void);
extern bool security_export_configured(void);
typedef enum SecurityExportTarget
{
	SECURITY_EXPORT_FILE,
	SECURITY_EXPORT_SYSLOG
} SecurityExportTarget;

extern void security_export_run(SecurityExportTarget target);
extern int64 security_export_low_water(void);

#endif							/* SECURITY_EXPORT_H */
