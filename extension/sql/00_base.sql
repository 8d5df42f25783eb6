-- freight install script, part 00: guard, roles and schemas.
-- The install script freight--X.Y.sql is the concatenation of extension/sql/*.sql in name order.

\echo Use "CREATE EXTENSION freight CASCADE" to load this file. \quit

-- Roles are cluster-wide, so a second database reuses them.  freight_decrypt is the grant that
-- lets a role read plaintext of encrypted columns (see crypto.c); it is never granted to
-- freight_anon or freight_partner.
DO $roles$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['freight_admin', 'freight_app', 'freight_customer', 'freight_driver',
							 'freight_partner', 'freight_anon', 'freight_decrypt']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$roles$;

GRANT freight_decrypt TO freight_admin, freight_app, freight_customer, freight_driver;
GRANT freight_app TO freight_admin;

-- Schema api holds the views and functions the HTTP API exposes.
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA freight, api TO freight_admin, freight_app, freight_customer, freight_driver,
	freight_partner, freight_anon;
