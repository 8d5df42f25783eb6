/*
 * main.c — freight-api: configuration, pools, schema cache, the LISTEN connection (schema
 * reloads on NOTIFY pgrst, the JWT keys on NOTIFY pgrst, 'reload config', server-sent events on
 * NOTIFY freight_events), the HTTP daemon and graceful shutdown on SIGTERM/SIGINT (SIGUSR1
 * reloads the schema cache and the JWT keys).
 *
 *   freight-api [config-file]        (or FREIGHT_CONFIG=path; FREIGHT_* variables override)
 *   freight-api --sign-jwt CLAIMS [config-file]
 *                                    prints an HS256 token signed with jwt-secret (FREIGHT_JWT_SECRET
 *                                    or the config file's; "@path" reads the key from a file)
 */
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "http.h"
#include "pool_conn.h"
#include "rest_tx.h"
#include "sse.h"

Server		server;

SchemaCache *
server_cache_acquire(void)
{
	SchemaCache *sc;

	pthread_mutex_lock(&server.cache_lock);
	sc = server.cache;
	if (sc)
		sc->refcount++;
	pthread_mutex_unlock(&server.cache_lock);
	return sc;
}

void
server_cache_release(SchemaCache *sc)
{
	bool		last;

	if (sc == NULL)
		return;
	pthread_mutex_lock(&server.cache_lock);
	last = --sc->refcount == 0;
	pthread_mutex_unlock(&server.cache_lock);
	if (last)
		sc_free(sc);
}

static char *
schemas_array_literal(void)
{
	Buf			b;

	buf_init(&b);
	buf_putc(&b, '{');
	for (int i = 0; i < server.nschemas; i++)
	{
		buf_printf(&b, "%s\"", i ? "," : "");
		for (const char *p = server.schemas[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, *p);
		}
		buf_putc(&b, '"');
	}
	buf_putc(&b, '}');
	return buf_steal(&b);
}

bool
server_cache_reload(char *err, size_t errlen)
{
	PgConn	   *c = pool_acquire(server.pool, server.cfg.db_pool_timeout_ms);
	char	   *schemas = schemas_array_literal();
	const char *params[4] = {schemas, server.cfg.security_log_function, server.cfg.api_key_function,
	server.cfg.rate_limit_function};
	PipeStmt	st = {sc_catalog_query, params, 4, NULL};
	SchemaCache *sc = NULL;
	SchemaCache *old;

	if (c == NULL)
	{
		snprintf(err, errlen, "schema cache: no free database connection");
		free(schemas);
		return false;
	}
	if (pg_pipeline(c, &st, 1, false, err, errlen))
	{
		if (PQresultStatus(st.result) == PGRES_TUPLES_OK && PQntuples(st.result) == 1)
			sc = sc_from_json(PQgetvalue(st.result, 0, 0), err, errlen);
		else
			snprintf(err, errlen, "schema cache query failed: %s", PQresultErrorMessage(st.result));
		PQclear(st.result);
	}
	pool_release(server.pool, c);
	free(schemas);
	if (sc == NULL)
		return false;
	sc->refcount = 1;
	pthread_mutex_lock(&server.cache_lock);
	old = server.cache;
	server.cache = sc;
	pthread_mutex_unlock(&server.cache_lock);
	server_cache_release(old);
	fprintf(stderr, "{\"level\":\"info\",\"event\":\"schema_cache_loaded\",\"relations\":%d,\"functions\":%d,\"relationships\":%d}\n",
			sc->nrels, sc->nfuncs, sc->nfks);
	return true;
}

static void
reload_or_warn(void)
{
	char		err[512];

	if (!server_cache_reload(err, sizeof(err)))
		fprintf(stderr, "{\"level\":\"error\",\"event\":\"schema_cache_failed\",\"message\":\"%s\"}\n", err);
}

/*
 * Re-reads jwt-secret as it was given at start (an "@path" file is read again) and swaps the
 * keys in; tokens verified with the old keys are forgotten.  A value that does not parse
 * keeps the current keys and logs a warning.
 */
static void
reload_jwt_keys(void)
{
	char		err[512];
	int			nkeys;
	json_t	   *line;
	char	   *text;

	if (server.jwt == NULL)
		return;
	nkeys = jwt_key_reload(server.jwt, server.cfg.jwt_secret, server.cfg.jwt_secret_is_base64, err, sizeof(err));
	if (nkeys >= 0)
		auth_jwt_cache_clear();
	line = nkeys >= 0 ? json_pack("{s:s,s:s,s:i}", "level", "info", "event", "jwt_keys_loaded", "keys", nkeys)
		: json_pack("{s:s,s:s,s:s}", "level", "warning", "event", "jwt_keys_reload_failed", "message", err);
	text = json_dumps(line, JSON_COMPACT);
	fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(line);
}

/* The LISTEN connection: reconnects with backoff (max 32 s) and reloads after reconnecting. */
static void *
listener_main(void *arg)
{
	int			backoff = 1;

	(void) arg;
	while (!server.stopping)
	{
		PGconn	   *conn = pg_connect(server.cfg.db_uri);
		PGresult   *r;

		if (PQstatus(conn) != CONNECTION_OK)
		{
			PQfinish(conn);
			for (int i = 0; i < backoff * 10 && !server.stopping; i++)
				usleep(100000);
			backoff = backoff < 32 ? backoff * 2 : 32;
			continue;
		}
		r = PQexec(conn, "LISTEN pgrst; LISTEN freight_events");
		PQclear(r);
		if (backoff > 1)
			reload_or_warn();
		backoff = 1;
		while (!server.stopping && PQstatus(conn) == CONNECTION_OK)
		{
			struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
			PGnotify   *n;

			if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
				break;
			if (!PQconsumeInput(conn))
				break;
			while ((n = PQnotifies(conn)) != NULL)
			{
				if (strcmp(n->relname, "pgrst") == 0 && strcmp(n->extra, "reload config") == 0)
					reload_jwt_keys();
				else if (strcmp(n->relname, "pgrst") == 0)
					reload_or_warn();
				else
					sse_wake_all();
				PQfreemem(n);
			}
		}
		PQfinish(conn);
	}
	return NULL;
}

static void
split_schemas(void)
{
	char	   *copy = xstrdup(server.cfg.db_schemas);
	char	   *save = NULL;

	for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
	{
		server.schemas = xrealloc(server.schemas, sizeof(char *) * (size_t) (server.nschemas + 1));
		server.schemas[server.nschemas++] = xstrdup(tok);
	}
	free(copy);
}

static char *
default_static_dir(const char *argv0)
{
	char		exe[4096];
	ssize_t		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char	   *slash;
	Buf			b;

	(void) argv0;
	if (n <= 0)
		return xstrdup("static");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	buf_init(&b);
	buf_printf(&b, "%s/static", exe);
	return buf_steal(&b);
}

/*
 * freight-api --sign-jwt CLAIMS [config-file]: prints CLAIMS (a JSON object) as an HS256 token
 * signed with the HMAC key of jwt-secret, read as the daemon reads it (FREIGHT_JWT_SECRET over the
 * config file's jwt-secret; a secret, an oct JWK or JWK Set, or "@path" of a file holding one),
 * so the daemon accepts it.  Demo and test tokens.  Exit status 2 without a jwt-secret or with a
 * bad config file, 1 when the key cannot be loaded or cannot sign.
 */
static int
sign_jwt_command(const char *claims, const char *config_path)
{
	ApiConfig	cfg;
	char		err[1024];
	json_t	   *parsed = json_loads(claims, 0, NULL);
	bool		is_object = json_is_object(parsed);
	JwtKey	   *key;
	char	   *token;

	json_decref(parsed);
	if (!config_read(&cfg, config_path, err, sizeof(err)))
	{
		fprintf(stderr, "freight-api: --sign-jwt: %s\n", err);
		return 2;
	}
	if (cfg.jwt_secret == NULL || cfg.jwt_secret[0] == '\0')
	{
		fputs("freight-api: --sign-jwt needs a jwt-secret: FREIGHT_JWT_SECRET or the config file's jwt-secret "
			  "(an HMAC secret of at least 32 characters, an oct JWK or @/path/file)\n", stderr);
		return 2;
	}
	if (!is_object)
	{
		fputs("freight-api: --sign-jwt: CLAIMS must be a JSON object, such as '{\"role\":\"web_user\"}'\n", stderr);
		return 1;
	}
	if ((key = jwt_key_load(cfg.jwt_secret, cfg.jwt_secret_is_base64, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "freight-api: --sign-jwt: %s\n", err);
		return 1;
	}
	token = jwt_key_sign_hs256(key, claims, err, sizeof(err));
	jwt_key_free(key);
	if (token == NULL)
	{
		fprintf(stderr, "freight-api: --sign-jwt: %s\n", err);
		return 1;
	}
	puts(token);
	free(token);
	return 0;
}

int
main(int argc, char **argv)
{
	char		err[1024];
	char		url[300];
	Buf			socket_json;
	const char *config_path = argc > 1 ? argv[1] : getenv("FREIGHT_CONFIG");
	sigset_t	sigs;
	pthread_t	listener;
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *admin = NULL;
	int			sig;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
	{
		puts("usage: freight-api [config-file]\n"
			 "       freight-api --sign-jwt CLAIMS [config-file]   (an HS256 token signed with jwt-secret)\n"
			 "       freight-api --dump-config [config-file]       (the settings in effect, as a config file)\n"
			 "settings: FREIGHT_DB_URI, FREIGHT_DB_SCHEMAS, FREIGHT_DB_ANON_ROLE, FREIGHT_JWT_SECRET,\n"
			 "FREIGHT_DB_POOL, FREIGHT_API_PORT and more (see README.md, section Configuration)");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--dump-config") == 0)
	{
		ApiConfig	cfg;

		if (argc > 3)
		{
			fputs("usage: freight-api --dump-config [config-file]\n", stderr);
			return 2;
		}
		if (!config_load(&cfg, argc == 3 ? argv[2] : getenv("FREIGHT_CONFIG"), err, sizeof(err)))
		{
			fprintf(stderr, "freight-api: %s\n", err);
			return 2;
		}
		config_dump(&cfg, stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--sign-jwt") == 0)
	{
		if (argc != 3 && argc != 4)
		{
			fputs("usage: freight-api --sign-jwt CLAIMS [config-file]\n", stderr);
			return 2;
		}
		return sign_jwt_command(argv[2], argc == 4 ? argv[3] : getenv("FREIGHT_CONFIG"));
	}
	if (!config_load(&server.cfg, config_path, err, sizeof(err)))
	{
		fprintf(stderr, "freight-api: %s\n", err);
		return 2;
	}
	tx_init(&server.cfg);
	if (server.cfg.static_dir == NULL)
		server.cfg.static_dir = default_static_dir(argv[0]);
	split_schemas();
	if (server.cfg.jwt_secret && (server.jwt = jwt_key_load(server.cfg.jwt_secret, server.cfg.jwt_secret_is_base64, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "freight-api: %s\n", err);
		return 2;
	}
	pthread_mutex_init(&server.cache_lock, NULL);

	/* Signals are handled by sigwait in this thread only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	server.pool = pool_create(server.cfg.db_uri, server.cfg.db_pool, err, sizeof(err));
	if (server.pool == NULL)
	{
		fprintf(stderr, "freight-api: cannot connect to the database: %s\n", err);
		return 1;
	}
	if (server.cfg.db_replica_uri &&
		(server.replica_pool = pool_create(server.cfg.db_replica_uri, server.cfg.db_pool, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "freight-api: cannot connect to the replica: %s\n", err);
		return 1;
	}
	if (server.cfg.db_pipelines > 0 &&
		((server.pipeline = async_pool_start(server.cfg.db_uri, server.cfg.db_pipelines, err, sizeof(err))) == NULL ||
		 (server.cfg.db_replica_uri &&
		  (server.replica_pipeline = async_pool_start(server.cfg.db_replica_uri, server.cfg.db_pipelines,
													  err, sizeof(err))) == NULL)))
	{
		fprintf(stderr, "freight-api: cannot connect to the database: %s\n", err);
		return 1;
	}
	if (!server_cache_reload(err, sizeof(err)))
	{
		fprintf(stderr, "freight-api: %s\n", err);
		return 1;
	}
	pthread_create(&listener, NULL, listener_main, NULL);
	sse_start();
	daemon = http_start(err, sizeof(err));
	if (daemon == NULL)
	{
		fprintf(stderr, "freight-api: %s\n", err);
		return 1;
	}
	if (server.cfg.admin_port > 0 && (admin = http_start_admin(err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "freight-api: %s\n", err);
		return 1;
	}
	http_base_url(url, sizeof(url));
	buf_init(&socket_json);
	if (server.cfg.unix_socket)
	{
		buf_puts(&socket_json, ",\"socket\":\"");
		buf_json_escape(&socket_json, server.cfg.unix_socket);
		buf_putc(&socket_json, '"');
	}
	fprintf(stderr, "{\"level\":\"info\",\"event\":\"listening\",\"url\":\"%s/api/\"%s,\"threads\":%d,\"db_pool\":%d,\"db_pipelines\":%d}\n",
			url, socket_json.len ? socket_json.data : "", server.cfg.threads, server.cfg.db_pool,
			server.cfg.db_pipelines);
	buf_free(&socket_json);
	if (admin)
		fprintf(stderr, "{\"level\":\"info\",\"event\":\"admin_listening\",\"port\":%d}\n", server.cfg.admin_port);
	for (;;)
	{
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
		{
			reload_or_warn();
			reload_jwt_keys();
		}
		else if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	fprintf(stderr, "{\"level\":\"info\",\"event\":\"shutting_down\"}\n");
	/* Stop accepting, close event streams, let in-flight requests finish, then close the pool. */
	MHD_quiesce_daemon(daemon);
	if (server.cfg.unix_socket)
		unlink(server.cfg.unix_socket);	/* new clients fail at once instead of waiting */
	server.stopping = true;
	sse_stop();
	for (int i = 0; i < 300 && http_active_requests() > 0; i++)
		usleep(100000);
	if (http_active_requests() > 0)
	{
		/* a request still waits for the database: leave without tearing down under it */
		fprintf(stderr, "{\"level\":\"warning\",\"event\":\"stopped\",\"unfinished_requests\":%d}\n",
				http_active_requests());
		fflush(stdout);
		return 1;
	}
	MHD_stop_daemon(daemon);
	if (admin)
		MHD_stop_daemon(admin);
	if (server.pipeline)
		async_pool_stop(server.pipeline);
	if (server.replica_pipeline)
		async_pool_stop(server.replica_pipeline);
	pthread_join(listener, NULL);
	pool_destroy(server.pool);
	if (server.replica_pool)
		pool_destroy(server.replica_pool);
	server_cache_release(server.cache);
	jwt_key_free(server.jwt);
	fflush(stdout);
	fprintf(stderr, "{\"level\":\"info\",\"event\":\"stopped\"}\n");
	return 0;
}
