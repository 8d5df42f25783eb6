-- Rate limits: exact allowance per tier, overrides, live tier changes, bad input.
SET search_path = freight, public;

-- The default tiers.
SELECT tier, requests, "window", burst FROM rate_limit_tiers ORDER BY requests;

-- A fresh key (no API key, no override) is in the default tier, free: exactly 100 per hour.
SELECT allowed, "limit", remaining, retry_after, reset_after = interval '36 seconds' AS one_interval
FROM rate_limit('rl:free');
SELECT count(*) FILTER (WHERE a) AS allowed, count(*) FILTER (WHERE NOT a) AS denied
FROM (SELECT (rate_limit('rl:free')).allowed AS a FROM generate_series(1, 150)) d;
SELECT allowed, "limit", remaining,
	   retry_after BETWEEN interval '35 seconds' AND interval '36 seconds' AS retry_in_36s,
	   reset_after BETWEEN interval '59 minutes' AND interval '1 hour' AS reset_in_1h
FROM rate_limit('rl:free');

-- pro and enterprise through overrides naming a tier: their burst at once, then nothing.
INSERT INTO rate_limit_overrides (key, tier) VALUES ('rl:pro', 'pro'), ('rl:ent', 'enterprise');
SELECT count(*) FILTER (WHERE a) AS allowed
FROM (SELECT (rate_limit('rl:pro')).allowed AS a FROM generate_series(1, 100)) d;
SELECT allowed, "limit", remaining FROM rate_limit('rl:pro', 9900);
SELECT allowed, remaining FROM rate_limit('rl:pro', 2);
SELECT allowed, "limit" FROM rate_limit('rl:ent', 1000000);
SELECT allowed, "limit" FROM rate_limit('rl:ent', 1000);

-- Costs: a request may cost up to the burst.
SELECT allowed, remaining FROM rate_limit('rl:cost', 40);
SELECT allowed, remaining FROM rate_limit('rl:cost', 60);
SELECT allowed, remaining FROM rate_limit('rl:cost', 1);

-- An override with its own numbers; a change applies live (at commit), keeping the used share.
INSERT INTO rate_limit_overrides (key, requests, "window", burst) VALUES ('rl:own', 10, '1 minute', 4);
SELECT array_agg(a) AS decisions FROM (SELECT (rate_limit('rl:own')).allowed AS a FROM generate_series(1, 6)) d;
INSERT INTO rate_limit_overrides (key, requests, "window", burst) VALUES ('rl:half', 10, '1 minute', 4);
SELECT "limit", remaining FROM rate_limit('rl:half', 2);
UPDATE rate_limit_overrides SET requests = 100, burst = 40 WHERE key = 'rl:half';
SELECT allowed, "limit", remaining FROM rate_limit('rl:half');	-- 50% used: 20 + 1 of 40
BEGIN;
UPDATE rate_limit_tiers SET burst = 200, requests = 200 WHERE tier = 'free';
COMMIT;
SELECT "limit", remaining FROM rate_limit('rl:free2');
SELECT "limit", remaining FROM rate_limit('rl:free');	-- exhausted stays exhausted
BEGIN;
UPDATE rate_limit_tiers SET burst = 5 WHERE tier = 'free';
SELECT "limit" FROM rate_limit('rl:free3');	-- sees its own uncommitted change
ROLLBACK;
SELECT "limit" FROM rate_limit('rl:free3');	-- ... which is forgotten on rollback
SELECT "limit" FROM rate_limit('rl:free2');
UPDATE rate_limit_tiers SET burst = 100, requests = 100 WHERE tier = 'free';

-- An API key's prefix resolves to its customer's tier.
SELECT id AS cust FROM create_customer('Rate Limit AG', 'pro') \gset
SELECT prefix FROM create_api_key(:cust) \gset
SELECT "limit" FROM rate_limit(:'prefix');
SELECT "limit" FROM rate_limit('ifk_' || :'prefix');
UPDATE customers SET tier = 'enterprise' WHERE id = :cust;
SELECT "limit" FROM rate_limit(:'prefix');

-- The state in shared memory.
SELECT key, tat > now() AS owes, denied > 0 AS denied
FROM rate_limit_state() WHERE key LIKE 'rl:%' ORDER BY key;

-- Bad input: clear errors, nothing changes.
SELECT * FROM rate_limit(NULL);
SELECT * FROM rate_limit('');
SELECT * FROM rate_limit(repeat('k', 129));
SELECT * FROM rate_limit('rl:bad', 0);
SELECT * FROM rate_limit('rl:bad', -3);
SELECT * FROM rate_limit('rl:bad', NULL);
SELECT * FROM rate_limit('rl:bad', 101);
SET freight.rate_limit_default_tier = 'gold';	-- server-wide only (see the TAP test)
SELECT count(*) FROM rate_limit_state() WHERE key = 'rl:bad';
INSERT INTO rate_limit_tiers VALUES ('Bad Name', 1, '1 hour', 1);
INSERT INTO rate_limit_tiers VALUES ('zero', 0, '1 hour', 1);
INSERT INTO rate_limit_tiers VALUES ('toofast', 2000, '1 millisecond', 1);
INSERT INTO rate_limit_overrides (key, tier) VALUES ('rl:x', 'gold');
INSERT INTO rate_limit_overrides (key, tier, burst) VALUES ('rl:x', 'free', 3);
DELETE FROM rate_limit_tiers WHERE tier = 'pro';
SELECT rate_limit_selftest(0);

-- The C path: well under a microsecond per decision.
SELECT cpu_ns < 1000 AS sub_microsecond FROM rate_limit_selftest(200000);
