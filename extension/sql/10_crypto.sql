-- freight install script, part 10: encrypted columns (extension/crypto*.c).

-- Data keys, each wrapped (AES-256-GCM) by the key-encryption key, which never enters the
-- database.  Dumped with the data (pg_extension_config_dump): a restore needs them, and they are
-- useless without the KEK.
CREATE SEQUENCE freight.data_keys_id_seq MAXVALUE 16777215;
CREATE TABLE freight.data_keys (
	id				int PRIMARY KEY CHECK (id BETWEEN 1 AND 16777215),
	purpose			text NOT NULL CHECK (purpose IN ('data', 'blind')),
	wrapped			bytea NOT NULL CHECK (octet_length(wrapped) = 60),
	kek_fingerprint	bytea NOT NULL CHECK (octet_length(kek_fingerprint) = 8),
	created_at		timestamptz NOT NULL DEFAULT now(),
	retired_at		timestamptz
);
CREATE UNIQUE INDEX data_keys_one_active ON freight.data_keys (purpose) WHERE retired_at IS NULL;
COMMENT ON TABLE freight.data_keys IS
	'Data keys wrapped by the key-encryption key (freight.key_file / freight.key_command); one active key per purpose';
SELECT pg_catalog.pg_extension_config_dump('freight.data_keys', '');
SELECT pg_catalog.pg_extension_config_dump('freight.data_keys_id_seq', '');
REVOKE ALL ON freight.data_keys FROM PUBLIC;
GRANT SELECT ON freight.data_keys TO freight_admin;

CREATE FUNCTION freight.encrypt(plaintext text, context text) RETURNS bytea
	AS 'MODULE_PATHNAME', 'freight_encrypt' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION freight.encrypt(text, text) IS
	'AES-256-GCM encryption under the active data key, bound to context (freight.<table>.<column>:<primary key>)';

-- COST 100: a decryption costs about a microsecond, a hundred times an operator, so the planner
-- evaluates it after a sort and a LIMIT (only the rows returned are decrypted) instead of for
-- every row the scan reads.
CREATE FUNCTION freight.decrypt(ciphertext bytea, context text) RETURNS text
	AS 'MODULE_PATHNAME', 'freight_decrypt' LANGUAGE C STRICT STABLE PARALLEL SAFE COST 100;
COMMENT ON FUNCTION freight.decrypt(bytea, text) IS
	'Plaintext of a freight ciphertext written with the same context; needs the privileges of freight_decrypt';

CREATE FUNCTION freight.reencrypt(ciphertext bytea, context text) RETURNS bytea
	AS 'MODULE_PATHNAME', 'freight_reencrypt' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION freight.reencrypt(bytea, text) IS
	'The same value under the active data key; plaintext never leaves the function';

CREATE FUNCTION freight.ciphertext_key_id(ciphertext bytea) RETURNS int
	AS 'MODULE_PATHNAME', 'freight_ciphertext_key_id' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION freight.ciphertext_key_id(bytea) IS 'Id of the data key a ciphertext was written with';

CREATE FUNCTION freight.blind_index(value text, purpose text) RETURNS bytea
	AS 'MODULE_PATHNAME', 'freight_blind_index' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION freight.blind_index(text, text) IS
	'Keyed HMAC-SHA256 of a (normalised) value for equality lookups on encrypted columns';

CREATE FUNCTION freight.rotate_data_key() RETURNS int
	AS 'MODULE_PATHNAME', 'freight_rotate_data_key' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION freight.rotate_data_key() IS
	'Retire the active data key and create a new one for new writes; returns its id';

CREATE FUNCTION freight.rewrap_data_keys() RETURNS int
	AS 'MODULE_PATHNAME', 'freight_rewrap_data_keys' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION freight.rewrap_data_keys() IS
	'Wrap every data key under the current key-encryption key (after a KEK rotation); returns the count';

REVOKE ALL ON FUNCTION freight.rotate_data_key(), freight.rewrap_data_keys(),
	freight.reencrypt(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION freight.rotate_data_key(), freight.rewrap_data_keys(),
	freight.reencrypt(bytea, text) TO freight_admin;

-- Which columns hold ciphertext, and how their context is formed: the registry that
-- freight.reencrypt_all() walks after a rotation.  A feature that adds an encrypted column
-- registers it here (context = 'freight.<table>.<column>:' || <key column>).
CREATE TABLE freight.encrypted_columns (
	table_name	regclass NOT NULL,
	column_name	name NOT NULL,
	key_column	name NOT NULL,
	PRIMARY KEY (table_name, column_name)
);
COMMENT ON TABLE freight.encrypted_columns IS
	'Encrypted columns and the key column their context uses: freight.<table>.<column>:<key>';
GRANT SELECT ON freight.encrypted_columns TO freight_admin, freight_app;
-- pg_dump carries the rows for tables outside schema freight (this script inserts the others).
SELECT pg_catalog.pg_extension_config_dump('freight.encrypted_columns',
	'WHERE (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = table_name) '
	'OPERATOR(pg_catalog.<>) ''freight''::pg_catalog.regnamespace');

-- freight.encryption_context('freight.shipments'::regclass, 'origin', 42) = 'freight.shipments.origin:42'
CREATE FUNCTION freight.encryption_context(table_name regclass, column_name name, key anyelement)
RETURNS text AS 'MODULE_PATHNAME', 'freight_encryption_context' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION freight.encryption_context(regclass, name, anyelement) IS
	'The context string that binds a ciphertext to its table, column and row';

-- Re-encrypt every registered column under the active data key, in batches of batch_size rows,
-- committing after each batch so no lock is held for long.  Run after freight.rotate_data_key().
CREATE PROCEDURE freight.reencrypt_all(batch_size int DEFAULT 1000)
LANGUAGE plpgsql AS $proc$
DECLARE
	col record;
	active int;
	n bigint;
	total bigint := 0;
BEGIN
	IF batch_size IS NULL OR batch_size < 1 OR batch_size > 1000000 THEN
		RAISE EXCEPTION 'batch_size must be between 1 and 1000000'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR col IN SELECT e.table_name, e.column_name, e.key_column, c.relname
			   FROM freight.encrypted_columns e JOIN pg_catalog.pg_class c ON c.oid = e.table_name
			   ORDER BY 1, 2
	LOOP
		LOOP
			SELECT id INTO active FROM freight.data_keys
				WHERE purpose = 'data' AND retired_at IS NULL;
			EXECUTE pg_catalog.format(
				'UPDATE %1$s t SET %2$I = freight.reencrypt(t.%2$I, pg_catalog.format(%4$L, t.%3$I))
				 WHERE t.ctid = ANY (ARRAY(SELECT s.ctid FROM %1$s s
					 WHERE s.%2$I IS NOT NULL AND freight.ciphertext_key_id(s.%2$I) <> $1
					 LIMIT $2 FOR UPDATE SKIP LOCKED))',
				col.table_name, col.column_name, col.key_column,
				'freight.' || col.relname || '.' || col.column_name || ':%s')
				USING active, batch_size;
			GET DIAGNOSTICS n = ROW_COUNT;
			total := total + n;
			COMMIT;
			EXIT WHEN n = 0;
		END LOOP;
	END LOOP;
	RAISE NOTICE 're-encrypted % values', total;
END
$proc$;
COMMENT ON PROCEDURE freight.reencrypt_all(int) IS
	'Re-encrypt registered encrypted columns under the active data key, in committed batches';
REVOKE ALL ON PROCEDURE freight.reencrypt_all(int) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE freight.reencrypt_all(int) TO freight_admin;

-- Status of the key hierarchy, without any key material.
CREATE VIEW freight.key_status AS
	SELECT id, purpose, created_at, retired_at, retired_at IS NULL AS active,
		   pg_catalog.encode(kek_fingerprint, 'hex') AS kek_fingerprint
	FROM freight.data_keys;
GRANT SELECT ON freight.key_status TO freight_admin;
