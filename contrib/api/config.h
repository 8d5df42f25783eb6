/*
 * config.h — freight-api configuration: a config file (key = value, PostgREST's key names)
 * overridden by FREIGHT_* environment variables.
 */
#ifndef API_CONFIG_H
#define API_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct ApiConfig
{
	char	   *db_uri;			/* FREIGHT_DB_URI / db-uri: libpq URI of the primary */
	char	   *db_replica_uri;	/* FREIGHT_DB_REPLICA_URI / db-replica-uri: reads, optional */
	int			replica_wait_ms;	/* FREIGHT_REPLICA_WAIT_MS: read-your-writes wait, default 200 */
	char	   *db_schemas;		/* FREIGHT_DB_SCHEMAS / db-schemas: comma list, default "api" */
	char	   *db_anon_role;	/* FREIGHT_DB_ANON_ROLE / db-anon-role: NULL = no anonymous */
	char	   *jwt_secret;		/* FREIGHT_JWT_SECRET / jwt-secret: HMAC secret or PEM key */
	bool		jwt_secret_is_base64;	/* FREIGHT_JWT_SECRET_IS_BASE64 / jwt-secret-is-base64 */
	char	   *jwt_aud;		/* FREIGHT_JWT_AUD / jwt-aud */
	char	   *jwt_role_claim; /* FREIGHT_JWT_ROLE_CLAIM / jwt-role-claim-key: default "role" */
	int			db_pool;		/* FREIGHT_DB_POOL / db-pool: connections, default 10 */
	int			db_pool_timeout_ms; /* FREIGHT_DB_POOL_TIMEOUT_MS: wait for a connection */
	int			db_pipelines;	/* FREIGHT_DB_PIPELINES / db-pipelines: connections that carry
								 * many requests each (pool_async.c), default 2; 0 = off */
	long long	db_max_rows;	/* FREIGHT_DB_MAX_ROWS / db-max-rows: 0 = unlimited */
	bool		db_plan_enabled;	/* FREIGHT_DB_PLAN_ENABLED / db-plan-enabled: EXPLAIN on request */
	bool		db_aggregates_enabled;	/* FREIGHT_DB_AGGREGATES_ENABLED / db-aggregates-enabled:
										 * col.sum(), count() in select=; default off */
	char	   *host;			/* FREIGHT_API_HOST / server-host: default 127.0.0.1 */
	int			port;			/* FREIGHT_API_PORT / server-port: default 3000 */
	int			admin_port;		/* FREIGHT_ADMIN_PORT / admin-server-port: /live, /ready, /metrics; 0 = off */
	char	   *admin_host;		/* FREIGHT_ADMIN_HOST / admin-server-host: default server-host */
	char	   *unix_socket;	/* FREIGHT_API_UNIX_SOCKET / server-unix-socket: listen there, not on TCP */
	char	   *unix_socket_mode;	/* FREIGHT_API_UNIX_SOCKET_MODE / server-unix-socket-mode: octal, 660 */
	int			unix_mode;		/* derived: unix_socket_mode as a number */
	int			threads;		/* FREIGHT_API_THREADS / server-threads: default = db_pool */
	long		max_body;		/* FREIGHT_MAX_BODY / server-max-body: bytes, default 1 MiB */
	int			slow_ms;		/* FREIGHT_SLOW_MS / log-slow-ms: default 500 */
	char	   *trace_header;	/* FREIGHT_SERVER_TRACE_HEADER / server-trace-header: echoed */
	bool		server_timing;	/* FREIGHT_SERVER_TIMING / server-timing-enabled: Server-Timing header */
	bool		access_log;		/* FREIGHT_ACCESS_LOG / log-access: default on */
	bool		log_sql;		/* FREIGHT_LOG_SQL / log-sql: each statement and its parameters */
	char	   *cors_allowed_origins;	/* FREIGHT_CORS_ALLOWED_ORIGINS / server-cors-allowed-origins:
										 * comma list; unset = any origin, as PostgREST */
	char	  **cors_origins;	/* derived: that list, NULL-terminated; NULL = any origin */
	char	   *tls_cert;		/* FREIGHT_TLS_CERT / server-tls-cert: PEM file, enables TLS */
	char	   *tls_key;		/* FREIGHT_TLS_KEY / server-tls-key */
	char	   *tls_client_ca;	/* FREIGHT_TLS_CLIENT_CA / server-tls-client-ca: enables mTLS */
	char	   *openapi_mode_name;	/* FREIGHT_OPENAPI_MODE / openapi-mode: follow-privileges (default),
									 * ignore-privileges or disabled */
	int			openapi_mode;	/* derived: OPENAPI_FOLLOW_PRIVILEGES, _IGNORE_PRIVILEGES, _DISABLED */
	char	   *db_extra_search_path;	/* FREIGHT_DB_EXTRA_SEARCH_PATH / db-extra-search-path: schemas
										 * after the exposed one in search_path; default public */
	char	   *openapi_proxy_uri;	/* FREIGHT_OPENAPI_SERVER_PROXY_URI / openapi-server-proxy-uri:
									 * the API's URL in the OpenAPI document; default /api */
	char	   *static_dir;		/* FREIGHT_STATIC_DIR: tracking page, default next to binary */
	long		compress_min;	/* FREIGHT_COMPRESS_MIN: bytes, default 1024 */
	char	   *api_key_function;	/* FREIGHT_API_KEY_FUNCTION: key -> row, default freight.authenticate_api_key */
	char	   *api_key_role;	/* FREIGHT_API_KEY_ROLE: role of key holders, default freight_customer */
	char	   *service_role;	/* FREIGHT_SERVICE_ROLE: runs key checks, limits, security log; freight_app */
	int			api_key_cache_seconds; /* FREIGHT_API_KEY_CACHE_SECONDS: default 30 */
	char	   *rate_limit_function;	/* FREIGHT_RATE_LIMIT_FUNCTION: default freight.rate_limit */
	char	   *security_log_function;	/* FREIGHT_SECURITY_LOG_FUNCTION: default freight.log_security_event */
	char	  **app_setting_names;	/* app.settings.NAME = value / FREIGHT_APP_SETTINGS_NAME: set */
	char	  **app_setting_values;	/* as app.settings.name in every transaction (as PostgREST) */
	int			napp_settings;
	char	   *db_pre_request; /* FREIGHT_DB_PRE_REQUEST / db-pre-request: [schema.]function */
	char	   *pre_request_sql;	/* derived: SELECT "schema"."function"() or NULL */
	char	   *db_tx_end;		/* FREIGHT_DB_TX_END / db-tx-end: commit (default), rollback, *-allow-override */
	bool		tx_rollback;	/* derived: transactions end in ROLLBACK unless overridden */
	bool		tx_allow_override;	/* derived: Prefer: tx=commit|rollback is honoured */
} ApiConfig;

enum
{
	OPENAPI_FOLLOW_PRIVILEGES, OPENAPI_IGNORE_PRIVILEGES, OPENAPI_DISABLED
};

/*
 * Reads defaults, then path (may be NULL), then the environment, without checking that the
 * settings make a runnable daemon (--sign-jwt needs only jwt-secret).  false + err on bad values.
 */
bool		config_read(ApiConfig *cfg, const char *path, char *err, size_t errlen);
/* config_read, then checks the daemon can run with it (a database, sane sizes). */
bool		config_load(ApiConfig *cfg, const char *path, char *err, size_t errlen);

/*
 * Writes cfg in the config file's syntax (freight-api --dump-config): every setting, unset ones
 * as comments; jwt-secret (unless @file) and database URIs with a password are not shown.
 */
void		config_dump(const ApiConfig *cfg, FILE *out);

#endif
