/*
 * webhook_funcs.c — SQL adapters for webhook registration: URL safety check and secret
 * generation.  The rules themselves live in webhook_url.c and webhook_sign.c.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "webhook_dispatch.h"
#include "webhook_sign.h"
#include "webhook_url.h"

PG_FUNCTION_INFO_V1(freight_webhook_check_url);
PG_FUNCTION_INFO_V1(freight_webhook_new_secret);

/*
 * freight.webhook_check_url(url text) → text: the URL itself when it is an acceptable target,
 * else 22023 with the reason.  The dispatcher checks the address again at connect time, so a
 * name that later resolves to a private address is refused then too.
 */
Datum
freight_webhook_check_url(PG_FUNCTION_ARGS)
{
	text	   *url_text = PG_GETARG_TEXT_PP(0);
	char	   *url = text_to_cstring(url_text);
	char		host[256];
	char		reason[512];
	const char *error;

	if (strlen(url) != (size_t) VARSIZE_ANY_EXHDR(url_text))
		error = "The URL contains a NUL byte.";
	else
		error = webhook_url_syntax_error(url, host, sizeof(host));
	if (error != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid webhook URL"),
				 errdetail_internal("%s", error),
				 errhint("Use an absolute http:// or https:// URL, e.g. https://hooks.example.com/freight.")));
	error = webhook_host_error(host, webhook_allow_private, reason, sizeof(reason));
	if (error != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook URL is not allowed"),
				 errdetail_internal("%s", error),
				 webhook_allow_private ? 0 :
				 errhint("Webhooks may only target public addresses; an administrator can set freight.webhook_allow_private for testing.")));
	PG_RETURN_TEXT_P(url_text);
}

/* freight.webhook_new_secret() → text: "whsec_" + base64 of 32 random bytes. */
Datum
freight_webhook_new_secret(PG_FUNCTION_ARGS)
{
	char		secret[WEBHOOK_SECRET_TEXT_MAX];
	text	   *result;

	if (!webhook_secret_generate(secret))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes for a webhook secret")));
	result = cstring_to_text(secret);
	explicit_bzero(secret, sizeof(secret));
	PG_RETURN_TEXT_P(result);
}
