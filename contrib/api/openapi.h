/*
 * openapi.h — OpenAPI 3 description of the exposed schema, generated from the schema cache.
 */
#ifndef API_OPENAPI_H
#define API_OPENAPI_H

#include <jansson.h>

#include "buf.h"
#include "schema_cache.h"

/*
 * The catalog query of what the current role may use in schema $1 (PostgREST's openapi-mode
 * follow-privileges): one json column {"rels": {name: "rawd" letters for select, insert
 * (append), update (write), delete}, "funcs": {name: true}, "cols": {name: [selectable columns]
 * for relations readable only through column grants}}.
 */
extern const char *const openapi_access_query;

/*
 * access: the parsed result of openapi_access_query, or NULL to describe everything; server_url:
 * the API's URL for the document's "servers" (openapi-server-proxy-uri, or "/api").
 */
void		openapi_render(const SchemaCache *sc, const char *schema, json_t *access, const char *server_url,
						   Buf *out);

#endif
