/*
 * body_decode.h — the request bodies besides JSON that PostgREST accepts for writes, decoded
 * into the JSON the write path takes:
 *   text/csv: a header line of column names, then one row per line (RFC 4180 quoting, "" for a
 *     quote inside a quoted field, CRLF or LF, a leading byte order mark skipped); an unquoted
 *     NULL is SQL NULL, an empty field the empty string -> a JSON array of objects with string
 *     (or null) values;
 *   application/x-www-form-urlencoded: one row, key=value pairs percent-decoded ('+' is a
 *     space) -> a JSON object of strings.
 * Values stay strings: PostgreSQL casts them to the column types (json_populate_recordset).
 * Pure C (jansson only): unit-tested in test/unit/api_grammar.c and fuzzed by fuzz_query.c.
 */
#ifndef API_BODY_DECODE_H
#define API_BODY_DECODE_H

#include <jansson.h>
#include <stddef.h>

/* Returns a new JSON array, or NULL with a one-sentence reason in err. */
json_t	   *body_from_csv(const char *data, size_t len, char *err, size_t errlen);

/* Returns a new JSON object, or NULL with a one-sentence reason in err. */
json_t	   *body_from_form(const char *data, size_t len, char *err, size_t errlen);

#endif
