/*
 * config.c — defaults, config file and FREIGHT_* environment variables (see config.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "buf.h"

extern char **environ;

typedef enum
{
	OPT_STR, OPT_INT, OPT_LONG, OPT_BOOL
} OptType;

typedef struct Option
{
	const char *file_key;
	const char *env;
	OptType		type;
	size_t		offset;
} Option;

#define OPT(k, e, t, f) {k, e, t, offsetof(ApiConfig, f)}
static const Option options[] = {
	OPT("db-uri", "FREIGHT_DB_URI", OPT_STR, db_uri),
	OPT("db-replica-uri", "FREIGHT_DB_REPLICA_URI", OPT_STR, db_replica_uri),
	OPT("replica-wait-ms", "FREIGHT_REPLICA_WAIT_MS", OPT_INT, replica_wait_ms),
	OPT("db-schemas", "FREIGHT_DB_SCHEMAS", OPT_STR, db_schemas),
	OPT("db-anon-role", "FREIGHT_DB_ANON_ROLE", OPT_STR, db_anon_role),
	OPT("jwt-secret", "FREIGHT_JWT_SECRET", OPT_STR, jwt_secret),
	OPT("jwt-secret-is-base64", "FREIGHT_JWT_SECRET_IS_BASE64", OPT_BOOL, jwt_secret_is_base64),
	OPT("jwt-aud", "FREIGHT_JWT_AUD", OPT_STR, jwt_aud),
	OPT("jwt-role-claim-key", "FREIGHT_JWT_ROLE_CLAIM", OPT_STR, jwt_role_claim),
	OPT("db-pool", "FREIGHT_DB_POOL", OPT_INT, db_pool),
	OPT("db-pool-timeout-ms", "FREIGHT_DB_POOL_TIMEOUT_MS", OPT_INT, db_pool_timeout_ms),
	OPT("db-pipelines", "FREIGHT_DB_PIPELINES", OPT_INT, db_pipelines),
	OPT("db-max-rows", "FREIGHT_DB_MAX_ROWS", OPT_LONG, db_max_rows),
	OPT("db-plan-enabled", "FREIGHT_DB_PLAN_ENABLED", OPT_BOOL, db_plan_enabled),
	OPT("db-aggregates-enabled", "FREIGHT_DB_AGGREGATES_ENABLED", OPT_BOOL, db_aggregates_enabled),
	OPT("server-host", "FREIGHT_API_HOST", OPT_STR, host),
	OPT("server-port", "FREIGHT_API_PORT", OPT_INT, port),
	OPT("admin-server-port", "FREIGHT_ADMIN_PORT", OPT_INT, admin_port),
	OPT("admin-server-host", "FREIGHT_ADMIN_HOST", OPT_STR, admin_host),
	OPT("server-unix-socket", "FREIGHT_API_UNIX_SOCKET", OPT_STR, unix_socket),
	OPT("server-unix-socket-mode", "FREIGHT_API_UNIX_SOCKET_MODE", OPT_STR, unix_socket_mode),
	OPT("server-threads", "FREIGHT_API_THREADS", OPT_INT, threads),
	OPT("server-max-body", "FREIGHT_MAX_BODY", OPT_LONG, max_body),
	OPT("log-slow-ms", "FREIGHT_SLOW_MS", OPT_INT, slow_ms),
	OPT("server-trace-header", "FREIGHT_SERVER_TRACE_HEADER", OPT_STR, trace_header),
	OPT("server-timing-enabled", "FREIGHT_SERVER_TIMING", OPT_BOOL, server_timing),
	OPT("log-access", "FREIGHT_ACCESS_LOG", OPT_BOOL, access_log),
	OPT("log-sql", "FREIGHT_LOG_SQL", OPT_BOOL, log_sql),
	OPT("server-cors-allowed-origins", "FREIGHT_CORS_ALLOWED_ORIGINS", OPT_STR, cors_allowed_origins),
	OPT("server-tls-cert", "FREIGHT_TLS_CERT", OPT_STR, tls_cert),
	OPT("server-tls-key", "FREIGHT_TLS_KEY", OPT_STR, tls_key),
	OPT("server-tls-client-ca", "FREIGHT_TLS_CLIENT_CA", OPT_STR, tls_client_ca),
	OPT("openapi-mode", "FREIGHT_OPENAPI_MODE", OPT_STR, openapi_mode_name),
	OPT("db-extra-search-path", "FREIGHT_DB_EXTRA_SEARCH_PATH", OPT_STR, db_extra_search_path),
	OPT("openapi-server-proxy-uri", "FREIGHT_OPENAPI_SERVER_PROXY_URI", OPT_STR, openapi_proxy_uri),
	OPT("server-static-dir", "FREIGHT_STATIC_DIR", OPT_STR, static_dir),
	OPT("server-compress-min", "FREIGHT_COMPRESS_MIN", OPT_LONG, compress_min),
	OPT("api-key-function", "FREIGHT_API_KEY_FUNCTION", OPT_STR, api_key_function),
	OPT("api-key-role", "FREIGHT_API_KEY_ROLE", OPT_STR, api_key_role),
	OPT("service-role", "FREIGHT_SERVICE_ROLE", OPT_STR, service_role),
	OPT("api-key-cache-seconds", "FREIGHT_API_KEY_CACHE_SECONDS", OPT_INT, api_key_cache_seconds),
	OPT("rate-limit-function", "FREIGHT_RATE_LIMIT_FUNCTION", OPT_STR, rate_limit_function),
	OPT("security-log-function", "FREIGHT_SECURITY_LOG_FUNCTION", OPT_STR, security_log_function),
	OPT("db-pre-request", "FREIGHT_DB_PRE_REQUEST", OPT_STR, db_pre_request),
	OPT("db-tx-end", "FREIGHT_DB_TX_END", OPT_STR, db_tx_end),
};

static bool
set_option(ApiConfig *cfg, const Option *o, const char *value, char *err, size_t errlen)
{
	void	   *field = (char *) cfg + o->offset;
	char	   *end;
	long long	n;

	if (o->type == OPT_STR)
	{
		free(*(char **) field);
		*(char **) field = value[0] ? xstrdup(value) : NULL;
		return true;
	}
	if (o->type == OPT_BOOL)
	{
		bool		on = strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
			strcasecmp(value, "on") == 0 || strcasecmp(value, "yes") == 0;

		if (!on && !(strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0 ||
					 strcasecmp(value, "off") == 0 || strcasecmp(value, "no") == 0))
		{
			snprintf(err, errlen, "%s: expected a boolean, got \"%s\"", o->file_key, value);
			return false;
		}
		*(bool *) field = on;
		return true;
	}
	errno = 0;
	n = strtoll(value, &end, 10);
	if (errno != 0 || *end != '\0' || end == value || n < 0 || (o->type == OPT_INT && n > 1000000))
	{
		snprintf(err, errlen, "%s: expected a non-negative integer, got \"%s\"", o->file_key, value);
		return false;
	}
	if (o->type == OPT_INT)
		*(int *) field = (int) n;
	else if (strcmp(o->file_key, "db-max-rows") == 0)
		*(long long *) field = n;
	else
		*(long *) field = (long) n;
	return true;
}

/*
 * app.settings.NAME = value: NAME (lower-cased, as PostgreSQL folds setting names) of letters,
 * digits and _; a later value for the same name replaces the earlier one.  source: the key as
 * written, for the error.
 */
static bool
set_app_setting(ApiConfig *cfg, const char *source, const char *name, const char *value, char *err,
				size_t errlen)
{
	char	   *lower = xstrdup(name);

	for (char *c = lower; *c; c++)
		*c = (char) tolower((unsigned char) *c);
	if (lower[0] == '\0' || lower[strspn(lower, "abcdefghijklmnopqrstuvwxyz0123456789_")] != '\0')
	{
		snprintf(err, errlen, "%s: a setting name is letters, digits and _", source);
		free(lower);
		return false;
	}
	for (int i = 0; i < cfg->napp_settings; i++)
		if (strcmp(cfg->app_setting_names[i], lower) == 0)
		{
			free(lower);
			free(cfg->app_setting_values[i]);
			cfg->app_setting_values[i] = xstrdup(value);
			return true;
		}
	cfg->app_setting_names = xrealloc(cfg->app_setting_names, sizeof(char *) * (size_t) (cfg->napp_settings + 1));
	cfg->app_setting_values = xrealloc(cfg->app_setting_values, sizeof(char *) * (size_t) (cfg->napp_settings + 1));
	cfg->app_setting_names[cfg->napp_settings] = lower;
	cfg->app_setting_values[cfg->napp_settings++] = xstrdup(value);
	return true;
}

static char *
trim(char *s)
{
	char	   *e;

	while (isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	if (e - s >= 2 && s[0] == '\'' && e[-1] == '\'')
	{
		e[-1] = '\0';
		s++;
	}
	else if (e - s >= 2 && s[0] == '"' && e[-1] == '"')
	{
		/* "...": \" and \\ stand for " and \ (as in PostgREST's config files) */
		char	   *w = ++s;

		e[-1] = '\0';
		for (const char *r = s; *r; r++)
		{
			if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
				r++;
			*w++ = *r;
		}
		*w = '\0';
	}
	return s;
}

static bool
load_file(ApiConfig *cfg, const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;

	if (f == NULL)
	{
		snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f))
	{
		char	   *eq, *key, *value;
		bool		known = false;

		lineno++;
		key = trim(line);
		if (key[0] == '\0' || key[0] == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL)
		{
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			fclose(f);
			return false;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		if (strncmp(key, "app.settings.", 13) == 0)
		{
			if (!set_app_setting(cfg, key, key + 13, value, err, errlen))
			{
				fclose(f);
				return false;
			}
			continue;
		}
		for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
			if (strcmp(options[i].file_key, key) == 0)
			{
				known = true;
				if (!set_option(cfg, &options[i], value, err, errlen))
				{
					fclose(f);
					return false;
				}
			}
		if (!known)
		{
			snprintf(err, errlen, "%s:%d: unknown setting \"%s\"", path, lineno, key);
			fclose(f);
			return false;
		}
	}
	fclose(f);
	return true;
}

/* db-tx-end: how every transaction ends, and whether Prefer: tx= may change it. */
static bool
parse_tx_end(ApiConfig *cfg, char *err, size_t errlen)
{
	const char *v = cfg->db_tx_end ? cfg->db_tx_end : "commit";

	cfg->tx_rollback = strncmp(v, "rollback", 8) == 0;
	cfg->tx_allow_override = strstr(v, "-allow-override") != NULL;
	if (strcmp(v, "commit") != 0 && strcmp(v, "commit-allow-override") != 0 &&
		strcmp(v, "rollback") != 0 && strcmp(v, "rollback-allow-override") != 0)
	{
		snprintf(err, errlen, "db-tx-end must be commit, commit-allow-override, rollback or "
				 "rollback-allow-override, got \"%s\"", v);
		return false;
	}
	return true;
}

/* One name of db-pre-request at *p: plain up to a dot, or double-quoted ("" for a quote). */
static char *
take_name(const char **p)
{
	const char *s = *p;
	Buf			name;

	buf_init(&name);
	if (*s == '"')
	{
		for (s++; *s; s++)
		{
			if (*s == '"' && *++s != '"')
				break;
			buf_putc(&name, *s);
		}
	}
	else
		for (; *s && *s != '.'; s++)
			buf_putc(&name, *s);
	*p = s;
	return buf_steal(&name);
}

/* db-pre-request: "function" or "schema.function"; the statement that calls it, names quoted. */
static bool
parse_pre_request(ApiConfig *cfg, char *err, size_t errlen)
{
	const char *p = cfg->db_pre_request;
	char	   *first, *second = NULL;
	bool		ok;
	Buf			b;

	if (p == NULL)
		return true;
	first = take_name(&p);
	if (*p == '.')
	{
		p++;
		second = take_name(&p);
	}
	ok = *p == '\0' && first[0] != '\0' && (second == NULL || second[0] != '\0');
	if (ok)
	{
		buf_init(&b);
		buf_puts(&b, "SELECT ");
		buf_ident(&b, first);
		if (second)
		{
			buf_putc(&b, '.');
			buf_ident(&b, second);
		}
		buf_puts(&b, "()");
		cfg->pre_request_sql = buf_steal(&b);
	}
	else
		snprintf(err, errlen, "db-pre-request must be a function name or schema.function, got \"%s\"",
				 cfg->db_pre_request);
	free(first);
	free(second);
	return ok;
}

/* An origin as browsers send it: scheme://host[:port], host a name, IPv4 or [IPv6], no path. */
static bool
is_origin(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char) *p))
		return false;
	while (isalnum((unsigned char) *p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (strncmp(p, "://", 3) != 0)
		return false;
	p += 3;
	if (*p == '[')
	{
		p++;
		while (isxdigit((unsigned char) *p) || *p == ':' || *p == '.')
			p++;
		if (*p++ != ']')
			return false;
	}
	else
	{
		const char *host = p;

		while (isalnum((unsigned char) *p) || *p == '-' || *p == '.')
			p++;
		if (p == host)
			return false;
	}
	if (*p == ':')
	{
		const char *port = ++p;

		while (isdigit((unsigned char) *p))
			p++;
		if (p == port || p - port > 5)
			return false;
	}
	return *p == '\0';
}

/* An http:// or https:// URL with a host, and nothing a JSON document or a browser chokes on. */
static bool
is_http_url(const char *s)
{
	const char *host = strncmp(s, "https://", 8) == 0 ? s + 8 : strncmp(s, "http://", 7) == 0 ? s + 7 : NULL;

	return host && *host && *host != '/' && strpbrk(s, " \t\"<>\\") == NULL;
}

/* server-cors-allowed-origins: "https://a.example, http://localhost:5173" into cors_origins. */
static bool
parse_cors_origins(ApiConfig *cfg, char *err, size_t errlen)
{
	char	   *list, *item, *save = NULL;
	int			n = 0, commas = 0;

	if (cfg->cors_allowed_origins == NULL)
		return true;
	list = xstrdup(cfg->cors_allowed_origins);
	for (const char *c = list; *c; c++)
		commas += *c == ',';
	cfg->cors_origins = xmalloc((commas + 2) * sizeof(char *));
	for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		item = trim(item);
		if (item[0] == '\0')
			continue;			/* "a, b," and "a,,b": nothing between the commas */
		if (!is_origin(item))
		{
			snprintf(err, errlen, "server-cors-allowed-origins: \"%s\" is not an origin: write "
					 "scheme://host[:port] with no path, e.g. https://app.example.com", item);
			free(list);
			return false;
		}
		cfg->cors_origins[n++] = xstrdup(item);
	}
	cfg->cors_origins[n] = NULL;
	free(list);
	if (n == 0)
	{
		snprintf(err, errlen, "server-cors-allowed-origins lists no origin; leave it unset to allow any");
		return false;
	}
	return true;
}

bool
config_read(ApiConfig *cfg, const char *path, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->db_schemas = xstrdup("api");
	cfg->jwt_role_claim = xstrdup("role");
	cfg->host = xstrdup("127.0.0.1");
	cfg->db_pool = 10;
	cfg->db_pool_timeout_ms = 10000;
	cfg->db_pipelines = 2;
	cfg->port = 3000;
	cfg->unix_mode = 0660;
	cfg->max_body = 1024 * 1024;
	cfg->slow_ms = 500;
	cfg->access_log = true;
	cfg->compress_min = 1024;
	cfg->replica_wait_ms = 200;
	cfg->api_key_function = xstrdup("freight.authenticate_api_key");
	cfg->api_key_role = xstrdup("freight_customer");
	cfg->service_role = xstrdup("freight_app");
	cfg->api_key_cache_seconds = 30;
	cfg->rate_limit_function = xstrdup("freight.rate_limit");
	cfg->security_log_function = xstrdup("freight.log_security_event");
	if (path && !load_file(cfg, path, err, errlen))
		return false;
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
	{
		const char *v = getenv(options[i].env);

		if (v && !set_option(cfg, &options[i], v, err, errlen))
			return false;
	}
	for (char **e = environ; *e; e++)
	{
		const char *eq = strchr(*e, '=');
		char	   *name;
		bool		ok;

		if (strncmp(*e, "FREIGHT_APP_SETTINGS_", 21) != 0 || eq == NULL)
			continue;
		name = xstrdup(*e);
		name[eq - *e] = '\0';
		ok = set_app_setting(cfg, name, name + 21, eq + 1, err, errlen);
		free(name);
		if (!ok)
			return false;
	}
	return true;
}

bool
config_load(ApiConfig *cfg, const char *path, char *err, size_t errlen)
{
	if (!config_read(cfg, path, err, errlen))
		return false;
	if (cfg->db_uri == NULL)
	{
		snprintf(err, errlen, "no database: set FREIGHT_DB_URI or db-uri");
		return false;
	}
	if (cfg->unix_socket_mode)
	{
		char	   *end;
		long		mode = strtol(cfg->unix_socket_mode, &end, 8);

		if (end == cfg->unix_socket_mode || *end != '\0' || mode < 0 || mode > 0777 || (mode & 0600) != 0600)
		{
			snprintf(err, errlen, "server-unix-socket-mode must be octal permissions from 600 to 777 (the "
					 "daemon's user must read and write), got \"%s\"", cfg->unix_socket_mode);
			return false;
		}
		cfg->unix_mode = (int) mode;
	}
	if (cfg->openapi_mode_name)
	{
		static const char *const modes[] = {"follow-privileges", "ignore-privileges", "disabled"};

		cfg->openapi_mode = -1;
		for (int i = 0; i < 3; i++)
			if (strcmp(cfg->openapi_mode_name, modes[i]) == 0)
				cfg->openapi_mode = i;
		if (cfg->openapi_mode < 0)
		{
			snprintf(err, errlen, "openapi-mode must be follow-privileges, ignore-privileges or disabled, got \"%s\"",
					 cfg->openapi_mode_name);
			return false;
		}
	}
	if (cfg->openapi_proxy_uri && !is_http_url(cfg->openapi_proxy_uri))
	{
		snprintf(err, errlen, "openapi-server-proxy-uri must be an http:// or https:// URL with a host, e.g. "
				 "https://api.example.com/v1, got \"%s\"", cfg->openapi_proxy_uri);
		return false;
	}
	if (cfg->trace_header &&
		cfg->trace_header[strspn(cfg->trace_header, "!#$%&'*+-.^_`|~0123456789"
								 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")] != '\0')
	{
		snprintf(err, errlen, "server-trace-header must be a header name (letters, digits, - and the like), got \"%s\"",
				 cfg->trace_header);
		return false;
	}
	if (cfg->host == NULL)
	{
		snprintf(err, errlen, "server-host is empty: give an IPv4 or IPv6 address, a host name, or * for every address");
		return false;
	}
	if (cfg->admin_port > 65535 || (cfg->admin_port == cfg->port && cfg->unix_socket == NULL &&
									 (cfg->admin_host == NULL || strcmp(cfg->admin_host, cfg->host) == 0)))
	{
		snprintf(err, errlen, "admin-server-port must be in 1..65535 and differ from server-port, got %d",
				 cfg->admin_port);
		return false;
	}
	if (cfg->db_pool < 1 || cfg->db_pipelines < 0 || cfg->db_pipelines > 64 || cfg->port < 1 ||
		cfg->port > 65535)
	{
		snprintf(err, errlen, "db-pool must be >= 1, db-pipelines in 0..64 and server-port in 1..65535");
		return false;
	}
	if (cfg->threads <= 0)
		cfg->threads = cfg->db_pool;
	return parse_tx_end(cfg, err, errlen) && parse_pre_request(cfg, err, errlen) &&
		parse_cors_origins(cfg, err, errlen);
}

/* Does the libpq connection string or URI hold a password (or not parse, so that it might)? */
static bool
has_password(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	bool		found = opts == NULL;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		found |= strcmp(o->keyword, "password") == 0 && o->val && o->val[0];
	PQconninfoFree(opts);
	return found;
}

/* A value in the config file's quoting: "...", with \ and " escaped. */
static void
dump_value(FILE *out, const char *v)
{
	fputc('"', out);
	for (; *v; v++)
	{
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		fputc(*v, out);
	}
	fputs("\"\n", out);
}

void
config_dump(const ApiConfig *cfg, FILE *out)
{
	fputs("# freight-api --dump-config: the settings in effect (defaults, config file, environment)\n", out);
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
	{
		const Option *o = &options[i];
		const void *field = (const char *) cfg + o->offset;

		if (o->type == OPT_STR && *(char *const *) field == NULL)
			fprintf(out, "# %s is not set\n", o->file_key);
		else if (o->type == OPT_STR && strcmp(o->file_key, "jwt-secret") == 0 &&
				 (*(char *const *) field)[0] != '@')
			fprintf(out, "# %s is set (%zu characters; not shown)\n", o->file_key, strlen(*(char *const *) field));
		else if (o->type == OPT_STR && strncmp(o->file_key, "db-", 3) == 0 && strstr(o->file_key, "-uri") &&
				 has_password(*(char *const *) field))
			fprintf(out, "# %s is set (it holds a password; not shown)\n", o->file_key);
		else if (o->type == OPT_STR)
		{
			fprintf(out, "%s = ", o->file_key);
			dump_value(out, *(char *const *) field);
		}
		else if (o->type == OPT_BOOL)
			fprintf(out, "%s = %s\n", o->file_key, *(const bool *) field ? "true" : "false");
		else if (o->type == OPT_INT)
			fprintf(out, "%s = %d\n", o->file_key, *(const int *) field);
		else if (strcmp(o->file_key, "db-max-rows") == 0)
			fprintf(out, "%s = %lld\n", o->file_key, *(const long long *) field);
		else
			fprintf(out, "%s = %ld\n", o->file_key, *(const long *) field);
	}
	for (int i = 0; i < cfg->napp_settings; i++)
	{
		fprintf(out, "app.settings.%s = ", cfg->app_setting_names[i]);
		dump_value(out, cfg->app_setting_values[i]);
	}
}
