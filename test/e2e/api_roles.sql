-- api_roles.sql — the roles of the small e2e test databases (the daemon is general, so the tests
-- bring their own): authenticator, the NOINHERIT login role freight-api connects as, and the
-- roles it switches to per request, web_anon (no credentials) and web_user (tokens).  Run by
-- api_jwks.sh and api_pipeline.sh (e2e_sql) and included by the *_schema.sql files (\ir).
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE web_anon NOLOGIN;
CREATE ROLE web_user NOLOGIN;
GRANT web_anon, web_user TO authenticator;
