/*
 * openapi.h — OpenAPI 3 description of the exposed schema, generated from the schema cache.
 */
#ifndef API_OPENAPI_H
#define API_OPENAPI_H

#include "buf.h"
#include "schema_cache.h"

void		openapi_render(const SchemaCache *sc, const char *schema, Buf *out);

#endif
