/*
 * security_hook.c — the database's own sources of security events.
 *
 * A ProcessUtility hook records GRANT, REVOKE, ALTER ROLE, CREATE ROLE run by non-admins (with
 * whether they succeeded) and SET ROLE / SET SESSION AUTHORIZATION to a role the session user
 * cannot become; an emit_log_hook records permission-denied errors.  Both only push into the
 * shared-memory queue (security_queue.c), which survives the transaction's abort and which the
 * janitor worker drains into freight.security_events (keeping only permission denials on objects
 * in the freight and api schemas).  Neither hook ever changes the outcome of a statement: an
 * admin (superuser or member of freight_admin) runs exactly as without freight.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/elog.h"
#include "utils/memutils.h"

#include "freight.h"
#include "security_export.h"
#include "security_queue.h"
#include "security_retention.h"

static ProcessUtility_hook_type prev_process_utility;
static emit_log_hook_type prev_emit_log_hook;

/*
 * A recorded utility statement that failed has its event already; when its error reaches the log
 * (emit_log_hook), it must not be recorded a second time as permission_denied.  The error is
 * recognised by its message; the mark is dropped at the next recorded statement or error.
 */
static bool failure_recorded;
static char failure_message[SECURITY_QUEUE_TEXT_MAX];

static void security_process_utility(PlannedStmt *pstmt, const char *queryString,
									 bool readOnlyTree, ProcessUtilityContext context,
									 ParamListInfo params, QueryEnvironment *queryEnv,
									 DestReceiver *dest, QueryCompletion *qc);
static void security_emit_log(ErrorData *edata);

void
security_init(void)
{
	security_queue_init();
	security_export_define_gucs();
	security_retention_define_gucs();
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = security_process_utility;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = security_emit_log;
}

/* Superusers and members of freight_admin are admins. */
static bool
current_user_is_admin(void)
{
	Oid			admin;

	if (superuser())
		return true;
	admin = get_role_oid("freight_admin", true);
	return OidIsValid(admin) && has_privs_of_role(GetUserId(), admin);
}

/* SET ROLE x / SET SESSION AUTHORIZATION x to a role the session user may not become. */
static bool
is_escalating_set(VariableSetStmt *stmt)
{
	A_Const    *arg;
	Oid			target;

	if (stmt->kind != VAR_SET_VALUE || stmt->args == NIL ||
		(strcmp(stmt->name, "role") != 0 && strcmp(stmt->name, "session_authorization") != 0))
		return false;
	if (!IsA(linitial(stmt->args), A_Const))
		return false;
	arg = linitial_node(A_Const, stmt->args);
	if (arg->isnull || !IsA(&arg->val, String))
		return false;
	target = get_role_oid(strVal(&arg->val), true);
	if (!OidIsValid(target))
		return false;
	if (strcmp(stmt->name, "session_authorization") == 0)
		return target != GetAuthenticatedUserId() && !superuser_arg(GetAuthenticatedUserId());
	return !is_member_of_role(GetSessionUserId(), target);
}

/* The command tag to record for a statement, or NULL when it is not recorded. */
static const char *
recorded_command(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_GrantStmt:
			return ((GrantStmt *) parsetree)->is_grant ? "GRANT" : "REVOKE";
		case T_GrantRoleStmt:
			return ((GrantRoleStmt *) parsetree)->is_grant ? "GRANT ROLE" : "REVOKE ROLE";
		case T_AlterRoleStmt:
		case T_AlterRoleSetStmt:
			return "ALTER ROLE";
		case T_CreateRoleStmt:
			return "CREATE ROLE";
		case T_VariableSetStmt:
			if (is_escalating_set((VariableSetStmt *) parsetree))
				return strcmp(((VariableSetStmt *) parsetree)->name, "role") == 0 ?
					"SET ROLE" : "SET SESSION AUTHORIZATION";
			return NULL;
		default:
			return NULL;
	}
}

static void
security_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						 ProcessUtilityContext context, ParamListInfo params,
						 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	const char *command = NULL;
	MemoryContext caller_context = CurrentMemoryContext;
	char		message[SECURITY_QUEUE_TEXT_MAX];

	if (IsTransactionState())
		command = recorded_command(pstmt->utilityStmt);
	if (command != NULL && current_user_is_admin())
		command = NULL;

	if (command == NULL)
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
								 dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
									dest, qc);
		return;
	}

	failure_recorded = false;
	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
								 dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
									dest, qc);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		snprintf(message, sizeof(message), "%s failed: %s", command,
				 edata->message ? edata->message : "");
		security_queue_push("privilege_escalation", "high", NULL, edata->sqlerrcode, message,
							queryString);
		strlcpy(failure_message, edata->message ? edata->message : "", sizeof(failure_message));
		failure_recorded = true;
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	PG_END_TRY();

	snprintf(message, sizeof(message), "%s succeeded", command);
	security_queue_push("privilege_escalation", "medium", NULL, 0, message, queryString);
}

static void
security_emit_log(ErrorData *edata)
{
	bool		already_recorded = false;

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
	if (edata->elevel >= ERROR && failure_recorded)
	{
		already_recorded = strncmp(edata->message ? edata->message : "", failure_message,
								   sizeof(failure_message) - 1) == 0;
		failure_recorded = false;
	}
	/* Refused decryptions are queued as decrypt_denied by crypto.c itself. */
	if (edata->elevel >= ERROR && edata->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE &&
		!already_recorded && OidIsValid(MyDatabaseId) && IsNormalProcessingMode() &&
		(edata->message == NULL || strcmp(edata->message, "permission denied to decrypt") != 0))
		security_queue_push("permission_denied", "medium", NULL, edata->sqlerrcode,
							edata->message, debug_query_string);
}
