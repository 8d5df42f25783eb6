-- Encrypted columns: round trip, context binding, key rotation, blind indexes, bad input.
SET search_path = freight, public;

-- Round trip; 32 bytes of overhead; a fresh nonce each time.
SELECT decrypt(encrypt('Hauptstrasse 1, Bern', 'freight.t.c:1'), 'freight.t.c:1') AS plain;
SELECT octet_length(encrypt('0123456789', 'freight.t.c:1')) - 10 AS overhead;
SELECT encrypt('same', 'freight.t.c:1') <> encrypt('same', 'freight.t.c:1') AS nonces_differ;
SELECT decrypt(encrypt('', 'freight.t.c:1'), 'freight.t.c:1') = '' AS empty_ok;
SELECT decrypt(encrypt(repeat('x', 100000), 'freight.t.c:1'), 'freight.t.c:1') = repeat('x', 100000) AS long_ok;
SELECT decrypt(encrypt('Zürich – Genève ✓', 'freight.t.c:1'), 'freight.t.c:1') AS utf8;
SELECT encrypt(NULL, 'freight.t.c:1') IS NULL AS null_in_null_out,
       decrypt(NULL, 'freight.t.c:1') IS NULL AS null_decrypt;

-- A ciphertext is bound to its table, column and row.
CREATE TEMP TABLE ct AS SELECT encrypt('secret', 'freight.t.c:1') AS v;
SELECT decrypt(v, 'freight.t.c:2') FROM ct;
SELECT decrypt(v, 'freight.t.other:1') FROM ct;

-- Tampering, truncation, foreign formats and unknown keys are refused, never garbage.
SELECT decrypt(set_byte(v, 20, get_byte(v, 20) # 1), 'freight.t.c:1') FROM ct;
SELECT decrypt(set_byte(v, octet_length(v) - 1, get_byte(v, octet_length(v) - 1) # 1), 'freight.t.c:1') FROM ct;
SELECT decrypt(substr(v, 1, 20), 'freight.t.c:1') FROM ct;
SELECT decrypt('\x00'::bytea, 'freight.t.c:1');
SELECT decrypt(set_byte(v, 0, 2), 'freight.t.c:1') FROM ct;
SELECT decrypt(set_byte(v, 3, 200), 'freight.t.c:1') FROM ct;

-- Bad contexts and sizes.
SELECT encrypt('x', '');
SELECT encrypt('x', repeat('c', 2000));
SELECT encrypt(repeat('x', 1048577), 'freight.t.c:1');
SELECT blind_index('x', '');

-- Blind indexes: deterministic per purpose, different across purposes, 32 bytes.
SELECT blind_index('+41 79 123 45 67', 'phone') = blind_index('+41 79 123 45 67', 'phone') AS deterministic,
       blind_index('a@example.com', 'email') <> blind_index('a@example.com', 'phone') AS per_purpose,
       octet_length(blind_index('a@example.com', 'email')) AS len;

-- Rotation: new writes use the new key, old ciphertexts still decrypt, reencrypt moves them.
SELECT ciphertext_key_id(v) AS old_key FROM ct \gset
SELECT rotate_data_key() AS new_key \gset
SELECT :new_key > :old_key AS rotated;
SELECT ciphertext_key_id(encrypt('y', 'freight.t.c:1')) = :new_key AS new_writes_use_new_key;
SELECT decrypt(v, 'freight.t.c:1') AS old_still_decrypts FROM ct;
SELECT ciphertext_key_id(reencrypt(v, 'freight.t.c:1')) = :new_key AS reencrypted,
       decrypt(reencrypt(v, 'freight.t.c:1'), 'freight.t.c:1') AS same_plaintext FROM ct;
SELECT count(*) FILTER (WHERE active) AS active_keys, count(*) FILTER (WHERE NOT active) AS retired
  FROM key_status WHERE purpose = 'data';

-- Re-wrapping under the same KEK changes nothing.
SELECT rewrap_data_keys() AS rewrapped;

-- reencrypt_all walks the registry in committed batches.
CREATE TABLE public.secrets (id int PRIMARY KEY, s bytea);
INSERT INTO public.secrets SELECT i, encrypt('s' || i, 'freight.secrets.s:' || i) FROM generate_series(1, 25) i;
INSERT INTO encrypted_columns VALUES ('public.secrets', 's', 'id');
SELECT rotate_data_key() AS newest \gset
CALL reencrypt_all(10);
SELECT count(*) FILTER (WHERE ciphertext_key_id(s) = :newest) AS on_new_key,
       count(*) FILTER (WHERE decrypt(s, 'freight.secrets.s:' || id) = 's' || id) AS intact
  FROM public.secrets;
CALL reencrypt_all(0);
DELETE FROM encrypted_columns;
DROP TABLE public.secrets;

-- Without the freight_decrypt grant: ciphertext only.
CREATE ROLE crypto_outsider;
GRANT USAGE ON SCHEMA freight TO crypto_outsider;
GRANT SELECT ON ct TO crypto_outsider;
SET ROLE crypto_outsider;
SELECT octet_length(v) > 32 AS sees_ciphertext FROM ct;
SELECT decrypt(v, 'freight.t.c:1') FROM ct;
SELECT rotate_data_key();
RESET ROLE;
SET ROLE freight_app;
SELECT decrypt(encrypt('app can read', 'freight.t.c:9'), 'freight.t.c:9');
RESET ROLE;
DROP OWNED BY crypto_outsider;
DROP ROLE crypto_outsider;

-- The conventional context string, and a clear error for a missing key.
SELECT encryption_context('pg_class'::regclass, 'relname', 42) AS ctx_int,
       encryption_context('pg_class'::regclass, 'relname', 'abc'::text) AS ctx_text;
SELECT encryption_context('pg_class'::regclass, 'relname', NULL::int);
SELECT encryption_context(0::regclass, 'c', 1);
