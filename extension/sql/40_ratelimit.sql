-- freight install script, part 40: tiered rate limits (C: extension/ratelimit*.c, worker:
-- workers/ratelimit_janitor.c).
--
-- freight.rate_limit(key, cost) decides in shared memory with GCRA.  A key's tier comes from, in
-- order: freight.rate_limit_overrides, the tier of the customer whose API key has that prefix
-- (key = the 12-hex-digit prefix, optionally written 'ifk_<prefix>'), the setting
-- freight.rate_limit_default_tier.  Any change to the tables below (or to a customer's tier or
-- an API key) applies to every key as soon as it commits.

CREATE TABLE freight.rate_limit_tiers (
	tier		text PRIMARY KEY CHECK (tier ~ '^[a-z][a-z0-9_]{0,31}$'),
	requests	int NOT NULL CHECK (requests >= 1),
	"window"	interval NOT NULL
		CHECK ("window" BETWEEN interval '1 millisecond' AND interval '366 days'),
	burst		int NOT NULL CHECK (burst >= 1),
	CHECK (extract(epoch FROM "window") * 1000000 >= requests)
);
COMMENT ON TABLE freight.rate_limit_tiers IS
	'Rate-limit tiers: requests per window, and the burst (most requests admitted at once; RateLimit-Limit)';

-- pg_dump keeps the tiers an operator added (the defaults come with CREATE EXTENSION).
SELECT pg_catalog.pg_extension_config_dump('freight.rate_limit_tiers',
	$$WHERE tier NOT IN ('free', 'pro', 'enterprise')$$);
INSERT INTO freight.rate_limit_tiers (tier, requests, "window", burst) VALUES
	('free', 100, interval '1 hour', 100),
	('pro', 10000, interval '1 hour', 10000),
	('enterprise', 1000000, interval '1 hour', 1000000);

CREATE TABLE freight.rate_limit_overrides (
	key			text PRIMARY KEY CHECK (pg_catalog.octet_length(key) BETWEEN 1 AND 128),
	tier		text REFERENCES freight.rate_limit_tiers ON UPDATE CASCADE,
	requests	int CHECK (requests >= 1),
	"window"	interval CHECK ("window" BETWEEN interval '1 millisecond' AND interval '366 days'),
	burst		int CHECK (burst >= 1),
	note		text,
	CHECK ((tier IS NOT NULL AND requests IS NULL AND "window" IS NULL AND burst IS NULL) OR
		   (tier IS NULL AND requests IS NOT NULL AND "window" IS NOT NULL AND burst IS NOT NULL)),
	CHECK (requests IS NULL OR extract(epoch FROM "window") * 1000000 >= requests)
);
SELECT pg_catalog.pg_extension_config_dump('freight.rate_limit_overrides', '');
COMMENT ON TABLE freight.rate_limit_overrides IS
	'Per-key rate limits: either another tier or explicit requests, window and burst';

-- Written by the janitor worker: keys whose budget was not full at the last save.
CREATE TABLE freight.rate_limit_saved (
	key			text PRIMARY KEY,
	tat			timestamptz NOT NULL
);
COMMENT ON TABLE freight.rate_limit_saved IS
	'Rate-limit state saved by the janitor (theoretical arrival time per key), restored at server start';

CREATE FUNCTION freight.rate_limit_resolve(key text, default_tier text)
RETURNS TABLE (requests int, "window" interval, burst int)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	key_prefix text[] := regexp_match(key, '^(?:ifk_)?([0-9a-f]{12})$');
	key_tier text;
BEGIN
	RETURN QUERY
		SELECT coalesce(o.requests, t.requests), coalesce(o."window", t."window"), coalesce(o.burst, t.burst)
		FROM freight.rate_limit_overrides o LEFT JOIN freight.rate_limit_tiers t ON t.tier = o.tier
		WHERE o.key = rate_limit_resolve.key;
	IF FOUND THEN
		RETURN;
	END IF;
	IF key_prefix IS NOT NULL THEN
		SELECT c.tier INTO key_tier
		FROM freight.api_keys k JOIN freight.customers c ON c.id = k.customer_id
		WHERE k.prefix = key_prefix[1] AND k.revoked_at IS NULL;
	END IF;
	key_tier := coalesce(key_tier, default_tier);
	RETURN QUERY
		SELECT t.requests, t."window", t.burst FROM freight.rate_limit_tiers t WHERE t.tier = key_tier;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown rate-limit tier "%"', key_tier
			USING ERRCODE = 'undefined_object',
				  DETAIL = format('Key %L resolves to tier %L, which is not in freight.rate_limit_tiers.', key, key_tier),
				  HINT = 'Known tiers: ' || (SELECT string_agg(t.tier, ', ' ORDER BY t.tier) FROM freight.rate_limit_tiers t)
						 || '.  Check freight.rate_limit_default_tier.';
	END IF;
END
$$;
COMMENT ON FUNCTION freight.rate_limit_resolve(text, text) IS
	'Limit of a rate-limit key: its override, else its API key''s customer tier, else default_tier';

CREATE FUNCTION freight.rate_limit(key text, cost int DEFAULT 1,
	OUT allowed boolean, OUT "limit" int, OUT remaining int,
	OUT reset_after interval, OUT retry_after interval)
RETURNS record
AS 'MODULE_PATHNAME', 'rate_limit'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION freight.rate_limit(text, int) IS
	'Rate-limit decision for one request of the given cost: allowed, limit (burst), remaining, reset_after, retry_after';

CREATE FUNCTION freight.rate_limit_state()
RETURNS TABLE (key text, tat timestamptz, last_seen timestamptz, denied int)
AS 'MODULE_PATHNAME', 'rate_limit_state'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION freight.rate_limit_state() IS
	'Every key tracked in shared memory: theoretical arrival time, last request, denials since the janitor''s last sweep';

CREATE FUNCTION freight.rate_limit_selftest(decisions int, OUT wall_ns float8, OUT cpu_ns float8)
RETURNS record
AS 'MODULE_PATHNAME', 'rate_limit_selftest'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION freight.rate_limit_selftest(int) IS
	'Benchmark: nanoseconds per rate-limit decision in shared memory (elapsed and CPU time), measured in a loop inside the backend';

CREATE FUNCTION freight.rate_limit_tiers_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'rate_limit_tiers_changed'
LANGUAGE C;
COMMENT ON FUNCTION freight.rate_limit_tiers_changed() IS
	'Trigger: every rate-limit key re-resolves its limit once the transaction commits';

CREATE TRIGGER rate_limit_tiers_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON freight.rate_limit_tiers
	FOR EACH STATEMENT EXECUTE FUNCTION freight.rate_limit_tiers_changed();
CREATE TRIGGER rate_limit_tiers_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON freight.rate_limit_overrides
	FOR EACH STATEMENT EXECUTE FUNCTION freight.rate_limit_tiers_changed();
CREATE TRIGGER rate_limit_tiers_changed
	AFTER UPDATE OF tier OR DELETE ON freight.customers
	FOR EACH STATEMENT EXECUTE FUNCTION freight.rate_limit_tiers_changed();
CREATE TRIGGER rate_limit_tiers_changed
	AFTER INSERT OR UPDATE OR DELETE ON freight.api_keys
	FOR EACH STATEMENT EXECUTE FUNCTION freight.rate_limit_tiers_changed();

REVOKE ALL ON FUNCTION freight.rate_limit(text, int), freight.rate_limit_resolve(text, text),
	freight.rate_limit_state(), freight.rate_limit_selftest(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION freight.rate_limit(text, int), freight.rate_limit_resolve(text, text)
	TO freight_app, freight_admin;
GRANT EXECUTE ON FUNCTION freight.rate_limit_state() TO freight_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON freight.rate_limit_tiers, freight.rate_limit_overrides
	TO freight_admin;
GRANT SELECT ON freight.rate_limit_tiers TO freight_app;
