/*
 * crypto_keys.c — key-encryption key loading, data-key storage, caching and rotation.
 *
 * The KEK is read from freight.key_file (64 hex digits, mode 0600, outside the data directory
 * so that a base backup never contains it) or from the output of freight.key_command, in the
 * manner of ssl_passphrase_command, so a KMS or Vault agent can supply it.  During a KEK
 * rotation freight.previous_key_file names the old one: keys still wrapped by it keep working
 * until freight.rewrap_data_keys() has wrapped them under the new KEK.
 *
 * Data keys live in freight.data_keys as nonce || ciphertext || tag, wrapped by the KEK with
 * the key's id and purpose as associated data, next to a fingerprint of the KEK that wrapped
 * them.  Each backend unwraps them once into a private cache; a relcache invalidation of
 * freight.data_keys (sent by rotation, replayed on standbys too) or a reload of the KEK
 * settings drops the cache.  Key material is wiped when the cache is dropped.
 *
 * Reads and writes of freight.data_keys run as the table's owner, so that any role allowed to
 * call freight.encrypt can cause the first key to be created without write access to the
 * table itself.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "crypto_keys.h"
#include "freight.h"

#define KEK_FINGERPRINT_LEN 8

typedef struct DataKey
{
	uint32_t	id;
	bool		blind;			/* purpose 'blind' rather than 'data' */
	bool		active;			/* not retired */
	uint8_t		key[AEAD_KEY_LEN];
} DataKey;

typedef struct Kek
{
	bool		loaded;
	uint8_t		key[AEAD_KEY_LEN];
	uint8_t		fingerprint[KEK_FINGERPRINT_LEN];
} Kek;

/* GUCs */
static char *key_file = NULL;
static char *key_command = NULL;
static char *previous_key_file = NULL;

/* Per-backend cache, rebuilt after invalidation. */
static MemoryContext key_cache_context = NULL;
static DataKey *cached_keys = NULL;
static int	n_cached_keys = 0;
static bool cache_valid = false;
static Oid	key_table_relid = InvalidOid;	/* freight.data_keys, once looked up */
static Kek	current_kek;
static Kek	previous_kek;
static AeadCipher *cipher = NULL;

static void
drop_key_cache(void)
{
	if (cached_keys != NULL)
		secure_wipe(cached_keys, sizeof(DataKey) * n_cached_keys);
	if (key_cache_context != NULL)
		MemoryContextReset(key_cache_context);
	cached_keys = NULL;
	n_cached_keys = 0;
	cache_valid = false;
}

static void
drop_keks(void)
{
	secure_wipe(&current_kek, sizeof(Kek));
	secure_wipe(&previous_kek, sizeof(Kek));
}

static void
data_keys_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == key_table_relid)
		drop_key_cache();
}

static void
kek_setting_assign(const char *newval, void *extra)
{
	drop_keks();
	drop_key_cache();
}

void
crypto_keys_init(void)
{
	DefineCustomStringVariable("freight.key_file",
							   "File holding the key-encryption key (64 hex digits).",
							   "Must be outside the data directory and readable only by the server's OS user.",
							   &key_file, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, kek_setting_assign, NULL);
	DefineCustomStringVariable("freight.key_command",
							   "Command whose standard output is the key-encryption key (64 hex digits).",
							   "Used instead of freight.key_file when set, e.g. to fetch the key from a KMS.",
							   &key_command, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, kek_setting_assign, NULL);
	DefineCustomStringVariable("freight.previous_key_file",
							   "File holding the previous key-encryption key during a KEK rotation.",
							   "Data keys still wrapped by it keep working until freight.rewrap_data_keys() runs.",
							   &previous_key_file, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, kek_setting_assign, NULL);
	CacheRegisterRelcacheCallback(data_keys_relcache_callback, (Datum) 0);
}

/* Parse 64 hex digits (surrounding whitespace allowed) into a key. */
static bool
parse_hex_key(const char *text, uint8_t out[AEAD_KEY_LEN])
{
	int			n = 0;

	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	for (; n < AEAD_KEY_LEN * 2; n++)
		if (!isxdigit((unsigned char) text[n]))
			return false;
	for (int i = 0; i < AEAD_KEY_LEN; i++)
		sscanf(text + 2 * i, "%2hhx", &out[i]);
	text += AEAD_KEY_LEN * 2;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	return *text == '\0';
}

/* Read a key file, refusing files inside the data directory or readable by others. */
static void
read_key_file(const char *path, const char *setting, char *buf, size_t bufsize)
{
	struct stat st;
	FILE	   *f;
	size_t		n;
	char	   *abspath = make_absolute_path(path);

	canonicalize_path(abspath);
	if (path_is_prefix_of_path(DataDir, abspath))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("key file \"%s\" is inside the data directory", path),
				 errdetail("A copy of the data directory, such as a base backup, would then contain the key."),
				 errhint("Move the file outside the data directory and point %s at it.", setting)));
	if (stat(abspath, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read key file \"%s\": %m", path),
				 errhint("Check %s.", setting)));
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("key file \"%s\" has group or world access", path),
				 errhint("Make it readable by the database server's OS user only: chmod 600.")));
	f = AllocateFile(abspath, "r");
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open key file \"%s\": %m", path)));
	n = fread(buf, 1, bufsize - 1, f);
	FreeFile(f);
	buf[n] = '\0';
}

/* Run freight.key_command and capture its output. */
static void
run_key_command(char *buf, size_t bufsize)
{
	FILE	   *fh = OpenPipeStream(key_command, "r");
	size_t		n;
	int			rc;

	if (fh == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not run freight.key_command: %m")));
	n = fread(buf, 1, bufsize - 1, fh);
	buf[n] = '\0';
	rc = ClosePipeStream(fh);
	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("freight.key_command failed: %s", wait_result_to_str(rc))));
}

static void
load_kek(Kek *kek, const char *path, bool use_command, const char *setting)
{
	char		buf[1024];
	static const char label[] = "freight kek fingerprint v1";
	uint8_t		mac[HMAC_SHA256_LEN];

	if (use_command)
		run_key_command(buf, sizeof(buf));
	else
		read_key_file(path, setting, buf, sizeof(buf));
	if (!parse_hex_key(buf, kek->key))
	{
		secure_wipe(buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("key-encryption key from %s is malformed", setting),
				 errdetail("The key must be exactly 64 hexadecimal digits (32 bytes)."),
				 errhint("Generate one with: openssl rand -hex 32")));
	}
	secure_wipe(buf, sizeof(buf));
	hmac_sha256(kek->key, AEAD_KEY_LEN, (const uint8_t *) label, sizeof(label) - 1, mac);
	memcpy(kek->fingerprint, mac, KEK_FINGERPRINT_LEN);
	kek->loaded = true;
}

static void
ensure_keks(void)
{
	if (current_kek.loaded)
		return;
	if (key_command != NULL && key_command[0] != '\0')
		load_kek(&current_kek, NULL, true, "freight.key_command");
	else if (key_file != NULL && key_file[0] != '\0')
		load_kek(&current_kek, key_file, false, "freight.key_file");
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no key-encryption key is configured"),
				 errhint("Set freight.key_file or freight.key_command in postgresql.conf and reload.")));
	if (previous_key_file != NULL && previous_key_file[0] != '\0' && !previous_kek.loaded)
		load_kek(&previous_kek, previous_key_file, false, "freight.previous_key_file");
}

AeadCipher *
crypto_cipher(void)
{
	if (cipher == NULL)
	{
		cipher = aead_cipher_new();
		if (cipher == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not allocate an OpenSSL cipher context")));
	}
	return cipher;
}

/* Associated data of a wrapped key: binds the wrapping to the key's id and purpose. */
static int
wrap_aad(char *buf, size_t size, uint32_t id, bool blind)
{
	return snprintf(buf, size, "freight data key v1:%u:%s", id, blind ? "blind" : "data");
}

static void
unwrap_key(DataKey *dk, bytea *wrapped, bytea *fingerprint)
{
	const uint8_t *w = (const uint8_t *) VARDATA_ANY(wrapped);
	Kek		   *kek = NULL;
	char		aad[64];
	int			aad_len = wrap_aad(aad, sizeof(aad), dk->id, dk->blind);

	if (VARSIZE_ANY_EXHDR(fingerprint) == KEK_FINGERPRINT_LEN)
	{
		if (memcmp(VARDATA_ANY(fingerprint), current_kek.fingerprint, KEK_FINGERPRINT_LEN) == 0)
			kek = &current_kek;
		else if (previous_kek.loaded &&
				 memcmp(VARDATA_ANY(fingerprint), previous_kek.fingerprint, KEK_FINGERPRINT_LEN) == 0)
			kek = &previous_kek;
	}
	if (kek == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("data key %u is wrapped by a key-encryption key that is not configured", dk->id),
				 errhint("Point freight.key_file (or freight.previous_key_file during a rotation) at the key it was created with.")));
	if (VARSIZE_ANY_EXHDR(wrapped) != AEAD_NONCE_LEN + AEAD_KEY_LEN + AEAD_TAG_LEN ||
		aead_open(crypto_cipher(), kek->key, w, (const uint8_t *) aad, aad_len,
				  w + AEAD_NONCE_LEN, AEAD_KEY_LEN, w + AEAD_NONCE_LEN + AEAD_KEY_LEN, dk->key) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("data key %u could not be unwrapped", dk->id),
				 errdetail("The stored key does not authenticate under the configured key-encryption key.")));
}

/* Wrap key under the current KEK into a bytea of nonce || ciphertext || tag. */
static bytea *
wrap_key(const uint8_t key[AEAD_KEY_LEN], uint32_t id, bool blind)
{
	bytea	   *out = palloc(VARHDRSZ + AEAD_NONCE_LEN + AEAD_KEY_LEN + AEAD_TAG_LEN);
	uint8_t    *w = (uint8_t *) VARDATA(out);
	char		aad[64];
	int			aad_len = wrap_aad(aad, sizeof(aad), id, blind);

	SET_VARSIZE(out, VARHDRSZ + AEAD_NONCE_LEN + AEAD_KEY_LEN + AEAD_TAG_LEN);
	if (!pg_strong_random(w, AEAD_NONCE_LEN) ||
		aead_seal(crypto_cipher(), current_kek.key, w, (const uint8_t *) aad, aad_len, key,
				  AEAD_KEY_LEN, w + AEAD_NONCE_LEN, w + AEAD_NONCE_LEN + AEAD_KEY_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not wrap a data key")));
	return out;
}

static bytea *
kek_fingerprint_datum(void)
{
	bytea	   *fp = palloc(VARHDRSZ + KEK_FINGERPRINT_LEN);

	SET_VARSIZE(fp, VARHDRSZ + KEK_FINGERPRINT_LEN);
	memcpy(VARDATA(fp), current_kek.fingerprint, KEK_FINGERPRINT_LEN);
	return fp;
}

static Oid
data_keys_relid(void)
{
	key_table_relid = get_relname_relid("data_keys", get_namespace_oid("freight", false));
	return key_table_relid;
}

/*
 * Run fn with SPI connected, as the owner of freight.data_keys (see the file comment).
 */
typedef void (*KeyTableFn) (void *arg);

static void
with_key_table(KeyTableFn fn, void *arg)
{
	Oid			save_userid;
	int			save_sec_context;
	Oid			relid = data_keys_relid();
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table freight.data_keys does not exist"),
				 errhint("Run CREATE EXTENSION freight in this database.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		fn(arg);
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
}

static void
load_keys_spi(void *arg)
{
	MemoryContext old;

	if (SPI_execute("SELECT id, purpose = 'blind', retired_at IS NULL, wrapped, kek_fingerprint "
					"FROM freight.data_keys ORDER BY id", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read freight.data_keys");

	if (key_cache_context == NULL)
		key_cache_context = AllocSetContextCreate(TopMemoryContext, "freight key cache",
												  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(key_cache_context);
	cached_keys = palloc0(sizeof(DataKey) * Max(SPI_processed, 1));
	MemoryContextSwitchTo(old);
	n_cached_keys = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		DataKey    *dk = &cached_keys[n_cached_keys];

		dk->id = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		dk->blind = DatumGetBool(SPI_getbinval(row, desc, 2, &isnull));
		dk->active = DatumGetBool(SPI_getbinval(row, desc, 3, &isnull));
		unwrap_key(dk, DatumGetByteaPP(SPI_getbinval(row, desc, 4, &isnull)),
				   DatumGetByteaPP(SPI_getbinval(row, desc, 5, &isnull)));
		n_cached_keys++;
	}
}

static void
ensure_key_cache(void)
{
	if (cache_valid)
		return;
	ensure_keks();
	drop_key_cache();
	with_key_table(load_keys_spi, NULL);
	cache_valid = true;
}

static DataKey *
find_key(bool blind, bool active_only, uint32_t id)
{
	for (int i = 0; i < n_cached_keys; i++)
	{
		DataKey    *dk = &cached_keys[i];

		if (dk->blind == blind && (active_only ? dk->active : dk->id == id))
			return dk;
	}
	return NULL;
}


/*
 * Insert a new key of the given purpose (retiring the active one when retire is set).  The
 * table lock serialises concurrent first uses, so exactly one key gets created.
 */
typedef struct NewKeyArgs
{
	bool		blind;
	bool		retire;
	bool		only_if_missing;
	uint32_t	new_id;
} NewKeyArgs;

static void
create_key_spi(void *arg)
{
	NewKeyArgs *args = arg;
	uint8_t		key[AEAD_KEY_LEN];
	Datum		values[4];
	Oid			types[4] = {INT4OID, TEXTOID, BYTEAOID, BYTEAOID};
	const char *purpose = args->blind ? "blind" : "data";
	bool		isnull;

	if (SPI_execute("LOCK TABLE freight.data_keys IN SHARE ROW EXCLUSIVE MODE", false, 0) < 0)
		elog(ERROR, "could not lock freight.data_keys");
	if (args->only_if_missing)
	{
		Datum		p = CStringGetTextDatum(purpose);

		if (SPI_execute_with_args("SELECT 1 FROM freight.data_keys WHERE purpose = $1 AND retired_at IS NULL",
								  1, &types[1], &p, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read freight.data_keys");
		if (SPI_processed > 0)
			return;
	}
	if (args->retire)
	{
		Datum		p = CStringGetTextDatum(purpose);

		if (SPI_execute_with_args("UPDATE freight.data_keys SET retired_at = now() "
								  "WHERE purpose = $1 AND retired_at IS NULL",
								  1, &types[1], &p, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not retire the active data key");
	}
	if (SPI_execute("SELECT nextval('freight.data_keys_id_seq')::int4", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not allocate a data key id");
	args->new_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (args->new_id > CRYPTO_MAX_KEY_ID)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("no data key ids left"),
				 errdetail("Key ids are limited to %d.", CRYPTO_MAX_KEY_ID)));
	if (!pg_strong_random(key, sizeof(key)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random data key")));
	values[0] = Int32GetDatum(args->new_id);
	values[1] = CStringGetTextDatum(purpose);
	values[2] = PointerGetDatum(wrap_key(key, args->new_id, args->blind));
	values[3] = PointerGetDatum(kek_fingerprint_datum());
	secure_wipe(key, sizeof(key));
	if (SPI_execute_with_args("INSERT INTO freight.data_keys (id, purpose, wrapped, kek_fingerprint) "
							  "VALUES ($1, $2, $3, $4)", 4, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store a new data key");
}

static uint32_t
create_key(bool blind, bool retire, bool only_if_missing)
{
	NewKeyArgs	args = {blind, retire, only_if_missing, 0};

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot create data keys on a standby"),
				 errhint("Encrypt on the primary; standbys only decrypt.")));
	ensure_keks();
	with_key_table(create_key_spi, &args);
	/* Other backends (and standbys, through WAL) drop their caches when this commits. */
	CacheInvalidateRelcacheByRelid(data_keys_relid());
	drop_key_cache();
	return args.new_id;
}

const uint8_t *
crypto_active_data_key(uint32_t *key_id)
{
	DataKey    *dk;

	ensure_key_cache();
	dk = find_key(false, true, 0);
	if (dk == NULL)
	{
		create_key(false, false, true);
		ensure_key_cache();
		dk = find_key(false, true, 0);
		if (dk == NULL)
			elog(ERROR, "active data key missing after creation");
	}
	*key_id = dk->id;
	return dk->key;
}

const uint8_t *
crypto_data_key(uint32_t key_id)
{
	DataKey    *dk;

	ensure_key_cache();
	dk = find_key(false, false, key_id);
	if (dk == NULL)
	{
		/* A key created since the cache was filled: look once more before giving up. */
		drop_key_cache();
		ensure_key_cache();
		dk = find_key(false, false, key_id);
	}
	if (dk == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ciphertext refers to unknown data key %u", key_id),
				 errdetail("freight.data_keys has no data key with this id."),
				 errhint("The ciphertext may come from another database, or its key was deleted.")));
	return dk->key;
}

const uint8_t *
crypto_blind_key(void)
{
	DataKey    *dk;

	ensure_key_cache();
	dk = find_key(true, true, 0);
	if (dk == NULL)
	{
		create_key(true, false, true);
		ensure_key_cache();
		dk = find_key(true, true, 0);
		if (dk == NULL)
			elog(ERROR, "blind-index key missing after creation");
	}
	return dk->key;
}

uint32_t
crypto_rotate_data_key(void)
{
	return create_key(false, true, false);
}

static void
rewrap_spi(void *arg)
{
	int		   *count = arg;
	Oid			types[3] = {BYTEAOID, BYTEAOID, INT4OID};
	SPITupleTable *rows;
	uint64		n;

	if (SPI_execute("LOCK TABLE freight.data_keys IN SHARE ROW EXCLUSIVE MODE", false, 0) < 0 ||
		SPI_execute("SELECT id, purpose = 'blind', wrapped, kek_fingerprint FROM freight.data_keys",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read freight.data_keys");
	rows = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		DataKey		dk = {0};
		Datum		values[3];

		dk.id = DatumGetInt32(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
		dk.blind = DatumGetBool(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
		unwrap_key(&dk, DatumGetByteaPP(SPI_getbinval(rows->vals[i], rows->tupdesc, 3, &isnull)),
				   DatumGetByteaPP(SPI_getbinval(rows->vals[i], rows->tupdesc, 4, &isnull)));
		values[0] = PointerGetDatum(wrap_key(dk.key, dk.id, dk.blind));
		values[1] = PointerGetDatum(kek_fingerprint_datum());
		values[2] = Int32GetDatum(dk.id);
		secure_wipe(&dk, sizeof(dk));
		if (SPI_execute_with_args("UPDATE freight.data_keys SET wrapped = $1, kek_fingerprint = $2 "
								  "WHERE id = $3 AND kek_fingerprint <> $2",
								  3, types, values, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not re-wrap a data key");
		*count += (int) SPI_processed;
	}
}

int
crypto_rewrap_data_keys(void)
{
	int			count = 0;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot re-wrap data keys on a standby")));
	ensure_keks();
	with_key_table(rewrap_spi, &count);
	CacheInvalidateRelcacheByRelid(data_keys_relid());
	drop_key_cache();
	return count;
}
