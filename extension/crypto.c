/*
 * crypto.c — SQL functions of encrypted columns: encrypt, decrypt, blind_index and key
 * management (rotate_data_key, rewrap_data_keys, reencrypt, ciphertext_key_id).
 *
 * Ciphertext format (32 bytes of overhead per value):
 *
 *   byte 0       format version (1)
 *   bytes 1-3    data key id, big-endian
 *   bytes 4-15   random 96-bit nonce
 *   ...          AES-256-GCM ciphertext, as long as the plaintext
 *   last 16      GCM tag
 *
 * The associated data is the 4-byte header followed by the caller's context string, by
 * convention 'freight.<table>.<column>:<primary key>'.  A ciphertext copied to another row,
 * column or table therefore fails to authenticate instead of decrypting to the wrong value.
 *
 * Reading plaintext requires the privileges of role freight_decrypt; everyone else sees the
 * ciphertext.  Random nonces limit a data key to about 2^32 encryptions: rotate data keys well
 * before that (freight.rotate_data_key()).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "crypto_keys.h"
#include "freight.h"
#include "security_queue.h"

#define CIPHERTEXT_VERSION	1
#define HEADER_LEN			4
#define OVERHEAD			(HEADER_LEN + AEAD_NONCE_LEN + AEAD_TAG_LEN)
#define MAX_PLAINTEXT_LEN	(1024 * 1024)
#define MAX_CONTEXT_LEN		1024
#define BLIND_INDEX_LABEL	"freight blind index v1:"

PG_FUNCTION_INFO_V1(freight_encrypt);
PG_FUNCTION_INFO_V1(freight_decrypt);
PG_FUNCTION_INFO_V1(freight_reencrypt);
PG_FUNCTION_INFO_V1(freight_blind_index);
PG_FUNCTION_INFO_V1(freight_ciphertext_key_id);
PG_FUNCTION_INFO_V1(freight_rotate_data_key);
PG_FUNCTION_INFO_V1(freight_rewrap_data_keys);
PG_FUNCTION_INFO_V1(freight_encryption_context);

static inline void
CheckLabel(text *context, const char *what, const char *hint)
{
	int			len = VARSIZE_ANY_EXHDR(context);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what),
				 errhint("%s", hint)));
	if (len > MAX_CONTEXT_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is too long", what),
				 errdetail("It is %d bytes; the limit is %d.", len, MAX_CONTEXT_LEN)));
}

static inline void
CheckContext(text *context)
{
	CheckLabel(context, "encryption context",
			   "Use the form 'freight.<table>.<column>:<primary key>'.");
}

static inline void
CheckCiphertext(bytea *ciphertext)
{
	int			len = VARSIZE_ANY_EXHDR(ciphertext);
	const uint8_t *c = (const uint8_t *) VARDATA_ANY(ciphertext);

	if (len < OVERHEAD)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("ciphertext is truncated"),
				 errdetail("It is %d bytes; a freight ciphertext has at least %d.", len, OVERHEAD)));
	if (c[0] != CIPHERTEXT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported ciphertext format version %d", c[0]),
				 errhint("The value was not produced by freight.encrypt, or by a newer version.")));
}

/*
 * Random nonces come from a per-backend buffer refilled from pg_strong_random() (OpenSSL's
 * DRBG): one call per few hundred values instead of one per value, which otherwise costs as
 * much as the encryption itself.  Bytes are handed out once and wiped as they are consumed.
 */
static uint8_t nonce_pool[AEAD_NONCE_LEN * 340];
static int	nonce_pool_left = 0;

static void
next_nonce(uint8_t *nonce)
{
	uint8_t    *p;

	if (nonce_pool_left < AEAD_NONCE_LEN)
	{
		if (!pg_strong_random(nonce_pool, sizeof(nonce_pool)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random nonce")));
		nonce_pool_left = sizeof(nonce_pool);
	}
	p = nonce_pool + sizeof(nonce_pool) - nonce_pool_left;
	memcpy(nonce, p, AEAD_NONCE_LEN);
	memset(p, 0, AEAD_NONCE_LEN);
	nonce_pool_left -= AEAD_NONCE_LEN;
}

static inline uint32_t
header_key_id(const uint8_t *header)
{
	return ((uint32_t) header[1] << 16) | ((uint32_t) header[2] << 8) | header[3];
}

/* Build the associated data: header || context, in a caller-provided or palloc'd buffer. */
static uint8_t *
build_aad(const uint8_t *header, text *context, int *aad_len)
{
	int			clen = VARSIZE_ANY_EXHDR(context);
	uint8_t    *aad = palloc(HEADER_LEN + clen);

	memcpy(aad, header, HEADER_LEN);
	memcpy(aad + HEADER_LEN, VARDATA_ANY(context), clen);
	*aad_len = HEADER_LEN + clen;
	return aad;
}

static bytea *
encrypt_bytes(const uint8_t *plaintext, int len, text *context)
{
	uint32_t	key_id;
	const uint8_t *key;
	bytea	   *out;
	uint8_t    *c;
	uint8_t    *aad;
	int			aad_len;

	if (len > MAX_PLAINTEXT_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value too long to encrypt"),
				 errdetail("It is %d bytes; encrypted columns hold at most %d.", len, MAX_PLAINTEXT_LEN)));

	key = crypto_active_data_key(&key_id);
	out = palloc(VARHDRSZ + OVERHEAD + len);
	SET_VARSIZE(out, VARHDRSZ + OVERHEAD + len);
	c = (uint8_t *) VARDATA(out);
	c[0] = CIPHERTEXT_VERSION;
	c[1] = (key_id >> 16) & 0xFF;
	c[2] = (key_id >> 8) & 0xFF;
	c[3] = key_id & 0xFF;
	next_nonce(c + HEADER_LEN);
	aad = build_aad(c, context, &aad_len);
	if (aead_seal(crypto_cipher(), key, c + HEADER_LEN, aad, aad_len, plaintext, len,
				  c + HEADER_LEN + AEAD_NONCE_LEN, c + HEADER_LEN + AEAD_NONCE_LEN + len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("encryption failed")));
	pfree(aad);
	return out;
}

/* Decrypt into a palloc'd text; the caller has checked the privilege. */
static text *
decrypt_to_text(bytea *ciphertext, text *context)
{
	const uint8_t *c = (const uint8_t *) VARDATA_ANY(ciphertext);
	int			len = VARSIZE_ANY_EXHDR(ciphertext) - OVERHEAD;
	const uint8_t *key = crypto_data_key(header_key_id(c));
	text	   *out = palloc(VARHDRSZ + len);
	uint8_t    *aad;
	int			aad_len;

	aad = build_aad(c, context, &aad_len);
	if (aead_open(crypto_cipher(), key, c + HEADER_LEN, aad, aad_len,
				  c + HEADER_LEN + AEAD_NONCE_LEN, len,
				  c + HEADER_LEN + AEAD_NONCE_LEN + len, (uint8_t *) VARDATA(out)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ciphertext does not authenticate for context \"%s\"", text_to_cstring(context)),
				 errdetail("The value was altered, or was encrypted for another table, column or row."),
				 errhint("Ciphertexts cannot be copied between rows or columns; decrypt with the context they were written with.")));
	pfree(aad);
	SET_VARSIZE(out, VARHDRSZ + len);
	return out;
}

static void
check_decrypt_privilege(void)
{
	Oid			role = get_role_oid("freight_decrypt", true);

	if (OidIsValid(role) && has_privs_of_role(GetUserId(), role))
		return;
	/* The transaction is about to fail: the event goes through the shared-memory queue. */
	security_queue_push("decrypt_denied", "high", NULL, ERRCODE_INSUFFICIENT_PRIVILEGE,
						"permission denied to decrypt", debug_query_string);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to decrypt"),
			 errdetail("Only roles with the privileges of freight_decrypt can read encrypted columns in clear."),
			 errhint("An administrator can run: GRANT freight_decrypt TO %s;",
					 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/* freight.encrypt(plaintext text, context text) RETURNS bytea */
Datum
freight_encrypt(PG_FUNCTION_ARGS)
{
	text	   *plaintext = PG_GETARG_TEXT_PP(0);
	text	   *context = PG_GETARG_TEXT_PP(1);

	CheckContext(context);
	PG_RETURN_BYTEA_P(encrypt_bytes((const uint8_t *) VARDATA_ANY(plaintext),
									VARSIZE_ANY_EXHDR(plaintext), context));
}

/* freight.decrypt(ciphertext bytea, context text) RETURNS text */
Datum
freight_decrypt(PG_FUNCTION_ARGS)
{
	bytea	   *ciphertext = PG_GETARG_BYTEA_PP(0);
	text	   *context = PG_GETARG_TEXT_PP(1);

	check_decrypt_privilege();
	CheckContext(context);
	CheckCiphertext(ciphertext);
	PG_RETURN_TEXT_P(decrypt_to_text(ciphertext, context));
}

/*
 * freight.reencrypt(ciphertext bytea, context text) RETURNS bytea: the same value under the
 * active data key (returned unchanged when it already uses it).  The plaintext never leaves
 * this function, so key rotation can run as a role without freight_decrypt.
 */
Datum
freight_reencrypt(PG_FUNCTION_ARGS)
{
	bytea	   *ciphertext = PG_GETARG_BYTEA_PP(0);
	text	   *context = PG_GETARG_TEXT_PP(1);
	uint32_t	active_id;
	text	   *plain;
	bytea	   *out;

	CheckContext(context);
	CheckCiphertext(ciphertext);
	crypto_active_data_key(&active_id);
	if (header_key_id((const uint8_t *) VARDATA_ANY(ciphertext)) == active_id)
		PG_RETURN_BYTEA_P(ciphertext);
	plain = decrypt_to_text(ciphertext, context);
	out = encrypt_bytes((const uint8_t *) VARDATA(plain), VARSIZE(plain) - VARHDRSZ, context);
	secure_wipe(VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	PG_RETURN_BYTEA_P(out);
}

/* freight.ciphertext_key_id(ciphertext bytea) RETURNS int */
Datum
freight_ciphertext_key_id(PG_FUNCTION_ARGS)
{
	bytea	   *ciphertext = PG_GETARG_BYTEA_PP(0);

	CheckCiphertext(ciphertext);
	PG_RETURN_INT32((int32) header_key_id((const uint8_t *) VARDATA_ANY(ciphertext)));
}

/*
 * freight.blind_index(value text, purpose text) RETURNS bytea: HMAC-SHA256 of the value under
 * a key derived from the blind-index key and the purpose, so equal values give equal indexes
 * within a purpose and unrelated ones across purposes.  Callers normalise values first.
 */
Datum
freight_blind_index(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	text	   *purpose = PG_GETARG_TEXT_PP(1);
	int			plen = VARSIZE_ANY_EXHDR(purpose);
	int			label_len = sizeof(BLIND_INDEX_LABEL) - 1;
	uint8_t		derived[HMAC_SHA256_LEN];
	uint8_t    *label;
	bytea	   *out;

	CheckLabel(purpose, "blind index purpose", "Name what the index is for, such as 'email' or 'phone'.");
	if (VARSIZE_ANY_EXHDR(value) > MAX_PLAINTEXT_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value too long for a blind index"),
				 errdetail("The limit is %d bytes.", MAX_PLAINTEXT_LEN)));
	label = palloc(label_len + plen);
	memcpy(label, BLIND_INDEX_LABEL, label_len);
	memcpy(label + label_len, VARDATA_ANY(purpose), plen);
	out = palloc(VARHDRSZ + HMAC_SHA256_LEN);
	SET_VARSIZE(out, VARHDRSZ + HMAC_SHA256_LEN);
	if (hmac_sha256(crypto_blind_key(), AEAD_KEY_LEN, label, label_len + plen, derived) != 0 ||
		hmac_sha256(derived, sizeof(derived), (const uint8_t *) VARDATA_ANY(value),
					VARSIZE_ANY_EXHDR(value), (uint8_t *) VARDATA(out)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the blind index")));
	secure_wipe(derived, sizeof(derived));
	pfree(label);
	PG_RETURN_BYTEA_P(out);
}

/* freight.rotate_data_key() RETURNS int: the new active data key's id. */
Datum
freight_rotate_data_key(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) crypto_rotate_data_key());
}

/* freight.rewrap_data_keys() RETURNS int: how many keys moved to the current KEK. */
Datum
freight_rewrap_data_keys(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(crypto_rewrap_data_keys());
}

/* Per-call-site cache of freight.encryption_context: the table name and the key's output function. */
typedef struct ContextCache
{
	Oid			relid;
	char	   *relname;
	Oid			key_type;
	FmgrInfo	key_out;
} ContextCache;

/*
 * freight.encryption_context(table regclass, column name, key anyelement) RETURNS text:
 * 'freight.<table>.<column>:<key>', the context that binds a value to its row.  Written in C
 * because it runs once per encrypted value read or written (a SQL version cost ~8 µs a call).
 */
Datum
freight_encryption_context(PG_FUNCTION_ARGS)
{
	ContextCache *cache = fcinfo->flinfo->fn_extra;
	Oid			relid;
	StringInfoData buf;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("encryption context needs a table, a column and a key"),
				 errhint("A row must have its primary key before its values are encrypted.")));
	relid = PG_GETARG_OID(0);
	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ContextCache));
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->relname == NULL || cache->relid != relid)
	{
		char	   *name = get_rel_name(relid);

		if (name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", relid)));
		cache->relname = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, name);
		cache->relid = relid;
	}
	if (cache->key_type != get_fn_expr_argtype(fcinfo->flinfo, 2))
	{
		Oid			outfn;
		bool		varlena;

		cache->key_type = get_fn_expr_argtype(fcinfo->flinfo, 2);
		getTypeOutputInfo(cache->key_type, &outfn, &varlena);
		fmgr_info_cxt(outfn, &cache->key_out, fcinfo->flinfo->fn_mcxt);
	}
	initStringInfo(&buf);
	appendStringInfo(&buf, "freight.%s.%s:%s", cache->relname, NameStr(*PG_GETARG_NAME(1)),
					 OutputFunctionCall(&cache->key_out, PG_GETARG_DATUM(2)));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
