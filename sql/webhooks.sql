-- Webhooks: registration, URL safety, event-type filters, secrets, fan-out, test messages,
-- replay and bad input (the dispatcher itself is tested in test/t/050_webhooks.pl).
CREATE EXTENSION IF NOT EXISTS freight CASCADE;
SET search_path = freight, public;
\set SHOW_CONTEXT never
-- Everything runs in one transaction that is rolled back (psql puts each statement in a
-- savepoint, so the expected errors do not abort it): no endpoint or delivery is ever committed,
-- so no dispatcher could try to reach the public test addresses used below.
\set ON_ERROR_ROLLBACK on
BEGIN;
SELECT count(*) AS endpoints_before FROM webhook_endpoints \gset

-- URLs: only http/https, absolute, no credentials, no fragment, and only public addresses.
SELECT webhook_check_url('https://93.184.216.34/hooks/freight?x=1');
SELECT webhook_check_url('ftp://93.184.216.34/');
SELECT webhook_check_url('file:///etc/passwd');
SELECT webhook_check_url('not a url');
SELECT webhook_check_url('93.184.216.34/hook');
SELECT webhook_check_url('https://user:secret@93.184.216.34/');
SELECT webhook_check_url('https://93.184.216.34/#frag');
SELECT webhook_check_url('https://' || repeat('a', 2100) || '.example/');
SELECT webhook_check_url('http://127.0.0.1:8080/hook');
SELECT webhook_check_url('http://10.1.2.3/hook');
SELECT webhook_check_url('http://192.168.0.10/hook');
SELECT webhook_check_url('http://169.254.169.254/latest/meta-data');
SELECT webhook_check_url('http://[::1]/hook');
SELECT webhook_check_url('http://[::ffff:10.0.0.1]/hook');
SELECT webhook_check_url('http://[fe80::1]/hook');
SELECT webhook_check_url('http://0.0.0.0/hook');
\set VERBOSITY terse
SELECT webhook_check_url('http://localhost:3000/hook');
SELECT webhook_check_url('https://no-such-host.invalid/hook');
\set VERBOSITY default

-- Event-type filters: exact types, prefixes and '*', checked against webhook_event_types.
SELECT type FROM webhook_event_types WHERE type LIKE 'shipment.%' ORDER BY type;
SELECT webhook_check_event_types('{shipment.*,invoice.disputed,shipment.created,shipment.*}');
SELECT webhook_check_event_types('{*}');
SELECT webhook_check_event_types('{shipment.teleported}');
SELECT webhook_check_event_types('{spaceship.*}');
SELECT webhook_check_event_types('{}');
SELECT webhook_check_event_types('{shipment.created,NULL}');
SELECT webhook_check_event_types(array_fill('*'::text, ARRAY[101]));
SELECT f AS filter, t AS type, webhook_type_matches(t, f) AS matches
FROM (VALUES ('{shipment.*}'::text[], 'shipment.created'), ('{shipment.*}', 'shipment_event.created'),
			 ('{shipment.*}', 'invoice.created'), ('{*}', 'invoice.created'),
			 ('{invoice.paid,shipment.delivered}', 'shipment.delivered'),
			 ('{invoice.paid}', 'invoice.paid.late')) AS v(f, t);

-- Registration: the secret is shown once, stored only as ciphertext bound to the row.
SELECT id AS ep1, secret AS secret1
FROM register_webhook('https://93.184.216.34/hooks/a', '{shipment.*}') \gset
SELECT :'secret1' ~ '^whsec_[A-Za-z0-9+/]{43}=$' AS secret_shape;
SELECT url, event_types, active, octet_length(secret) > 32 AS ciphertext,
	   position(convert_to(:'secret1', 'UTF8') IN secret) = 0 AS no_plaintext,
	   decrypt(secret, encryption_context('freight.webhook_endpoints', 'secret', id)) = :'secret1' AS decrypts
FROM webhook_endpoints WHERE id = :ep1;
SELECT id AS ep2 FROM register_webhook('https://93.184.216.34/hooks/b', '{*}') \gset
SELECT id AS ep3 FROM register_webhook('https://93.184.216.34/hooks/c', '{invoice.disputed}') \gset

-- Bad registrations change nothing.
SELECT count(*) AS endpoints_mid FROM webhook_endpoints \gset
SELECT * FROM register_webhook('http://127.0.0.1/hook', '{*}');
SELECT * FROM register_webhook('https://93.184.216.34/hook', '{shipment.teleported}');
SELECT * FROM register_webhook(NULL, '{*}');
SELECT * FROM register_webhook('https://93.184.216.34/hook', '{*}',
							   client_cert => '-----BEGIN CERTIFICATE-----\nMIIB');
SELECT * FROM register_webhook('https://93.184.216.34/hook', '{*}',
							   client_cert => 'not pem', client_key => '-----BEGIN PRIVATE KEY-----');
SELECT count(*) = :endpoints_mid AS nothing_added FROM webhook_endpoints;

-- With freight.webhook_allow_private (superuser only) loopback targets are accepted (tests).
SET freight.webhook_allow_private = on;
SELECT webhook_check_url('http://127.0.0.1:8080/hook');
RESET freight.webhook_allow_private;

-- Fan-out: each event becomes one delivery per matching active endpoint, with a stable id.
SELECT emit_event('/freight/test', 'shipment.created', 'IFE-1', '{"n": 1}') AS ev1 \gset
SELECT emit_event('/freight/test', 'invoice.disputed', '42', '{"n": 2}') AS ev2 \gset
SELECT emit_event('/freight/test', 'driver.updated', '7', '{"n": 3}') AS ev3 \gset
SELECT CASE endpoint_id WHEN :ep1 THEN 'ep1' WHEN :ep2 THEN 'ep2' WHEN :ep3 THEN 'ep3' END AS endpoint,
	   CASE event_id WHEN :ev1 THEN 'shipment.created' WHEN :ev2 THEN 'invoice.disputed'
					 WHEN :ev3 THEN 'driver.updated' END AS event,
	   webhook_id = 'msg_' || event_id AS stable_id, status, attempts
FROM webhook_deliveries WHERE endpoint_id IN (:ep1, :ep2, :ep3) ORDER BY 1, 2;

-- A disabled endpoint gets no new deliveries.
SELECT active, disabled_reason FROM disable_webhook(:ep2, 'maintenance');
SELECT emit_event('/freight/test', 'shipment.created', 'IFE-2', '{}') AS ev4 \gset
SELECT count(*) AS deliveries_for_disabled FROM webhook_deliveries WHERE endpoint_id = :ep2 AND event_id = :ev4;
SELECT active, disabled_reason FROM enable_webhook(:ep2);
SELECT disable_webhook(:ep2, '');

-- Test messages: known type, bounded size (freight.webhook_max_payload), enabled endpoint.
SELECT status, body::jsonb ->> 'type' AS type, body::jsonb ->> 'specversion' AS specversion,
	   body::jsonb -> 'data' AS data, webhook_id ~ '^msg_t[0-9]+$' AS id_shape
FROM send_webhook(:ep1, 'webhook.test', '{"hello": "partner"}');
SELECT send_webhook(:ep1, 'webhook.teleported', '{}');
SELECT send_webhook(:ep1, 'webhook.test', NULL);
SELECT send_webhook(:ep1, 'webhook.test', jsonb_build_object('blob', repeat('x', 70000)));
SELECT send_webhook(-1, 'webhook.test', '{}');

-- Replay: one delivery, or a time range of an endpoint's events; unknown ids are 404.
UPDATE webhook_deliveries SET status = 'dead', attempts = 8, last_error = 'HTTP 500'
WHERE endpoint_id = :ep1 AND event_id = :ev1 RETURNING id AS d1 \gset
SELECT status, attempts, last_error FROM webhook_replay(:d1);
SELECT webhook_replay(-1);
UPDATE webhook_deliveries SET status = 'delivered' WHERE endpoint_id = :ep1;
SELECT webhook_replay(:ep1, now() - interval '1 hour', now() + interval '1 hour') AS replayed;
SELECT webhook_replay(:ep1, now(), now() - interval '1 hour');
SELECT webhook_replay(-1, now() - interval '1 hour', now());

-- Ordered delivery: one delivery of the endpoint at a time, oldest first.  In flight (busy) or
-- waiting for a retry, the head of line holds the rest back; delivered or dead, it lets the next
-- one go; a replayed delivery is the head again; switched off, all go at once.
SELECT id AS epo FROM register_webhook('https://93.184.216.34/hooks/ordered', '{webhook.test}', ordered => true) \gset
SELECT id AS o1 FROM send_webhook(:epo, 'webhook.test', '{"n": 1}') \gset
SELECT id AS o2 FROM send_webhook(:epo, 'webhook.test', '{"n": 2}') \gset
SELECT id AS o3 FROM send_webhook(:epo, 'webhook.test', '{"n": 3}') \gset
PREPARE ordered_claim(bigint[]) AS
	SELECT string_agg(CASE delivery_id WHEN :o1 THEN 'o1' WHEN :o2 THEN 'o2' WHEN :o3 THEN 'o3' END, ','
					  ORDER BY delivery_id) AS claimable
	FROM webhook_claim(100, $1) WHERE endpoint_id = :epo;
EXECUTE ordered_claim('{}');
EXECUTE ordered_claim(ARRAY[:o1]::bigint[]);
UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = now() + interval '1 hour' WHERE id = :o1;
EXECUTE ordered_claim('{}');
UPDATE webhook_deliveries SET status = 'dead' WHERE id = :o1;
EXECUTE ordered_claim('{}');
UPDATE webhook_deliveries SET status = 'delivered' WHERE id = :o2;
EXECUTE ordered_claim('{}');
SELECT status FROM webhook_replay(:o2);
EXECUTE ordered_claim('{}');
SELECT ordered, config_version FROM set_webhook_ordered(:epo, false);
EXECUTE ordered_claim('{}');
SELECT set_webhook_ordered(:epo, NULL);
SELECT set_webhook_ordered(-1, true);
SELECT * FROM register_webhook('https://93.184.216.34/hooks/ordered2', '{*}', ordered => NULL);
SELECT ordered FROM webhook_endpoints WHERE id = :epo;
DEALLOCATE ordered_claim;

-- Ordered per subject (the CloudEvent subject: a shipment's tracking number, ...): each subject's
-- messages in order, different subjects side by side.  Labels: subject and place in its sequence.
SELECT id AS eps FROM register_webhook('https://93.184.216.34/hooks/by-subject', '{cdc.slot_lag}', ordered => true) \gset
SELECT count(emit_event('/freight/test', 'cdc.slot_lag', s, '{}')) AS emitted
FROM unnest(ARRAY['a', 'b', 'a', 'b', 'c']) s;
CREATE TEMP VIEW subject_labels AS
	SELECT d.id, d.order_key || row_number() OVER (PARTITION BY d.order_key ORDER BY d.id) AS label
	FROM webhook_deliveries d WHERE d.endpoint_id = :eps;
PREPARE subject_claim(bigint[]) AS
	SELECT string_agg(l.label, ',' ORDER BY l.label) AS claimable
	FROM webhook_claim(100, $1) c JOIN subject_labels l ON l.id = c.delivery_id;
EXECUTE subject_claim('{}');
SELECT id AS a1 FROM subject_labels WHERE label = 'a1' \gset
EXECUTE subject_claim(ARRAY[:a1]::bigint[]);
UPDATE webhook_deliveries SET status = 'delivered' WHERE id = :a1;
EXECUTE subject_claim('{}');
UPDATE webhook_deliveries SET status = 'dead' WHERE id IN (SELECT id FROM subject_labels WHERE label IN ('b1', 'c1'));
EXECUTE subject_claim('{}');
DEALLOCATE subject_claim;
DROP VIEW subject_labels;

-- Health per endpoint: what waits, and what happened in the past 24 hours.
UPDATE webhook_deliveries SET last_attempt_at = now() WHERE id = :o1;
SELECT waiting, oldest_waiting_since = now() AS oldest_is_now, next_attempt_at = now() AS due_now,
	   delivered_24h, dead_24h, last_delivered_at IS NULL AS none_delivered
FROM webhook_status WHERE endpoint_id = :epo;

-- Purge: delivered and dead deliveries created and last tried before the cutoff go; waiting ones,
-- and old ones tried lately, stay.
UPDATE webhook_deliveries SET created_at = now() - interval '40 days', last_attempt_at = now() - interval '40 days'
WHERE endpoint_id = :epo;
UPDATE webhook_deliveries SET status = 'delivered', last_attempt_at = now() - interval '1 day' WHERE id = :o3;
SELECT webhook_purge(interval '30 days') AS purged;
SELECT string_agg(CASE id WHEN :o2 THEN 'o2' WHEN :o3 THEN 'o3' END || ':' || status, ',' ORDER BY id) AS kept
FROM webhook_deliveries WHERE endpoint_id = :epo;
SELECT webhook_purge(interval '30 days') AS purged_again;
SELECT webhook_purge(interval '-1 day');
SELECT webhook_purge(interval '1 day', 0);

-- Rotation: a new secret; the old one keeps signing for keep_previous.
SELECT rotate_webhook_secret(:ep1) AS secret2 \gset
SELECT :'secret2' <> :'secret1' AS new_secret,
	   decrypt(previous_secret, encryption_context('freight.webhook_endpoints', 'secret', id)) = :'secret1' AS old_kept,
	   previous_secret_until BETWEEN now() + interval '23 hours' AND now() + interval '25 hours' AS window_24h,
	   config_version
FROM webhook_endpoints WHERE id = :ep1;
SELECT rotate_webhook_secret(:ep1, interval '-1 hour');
SELECT rotate_webhook_secret(-1);

-- Row-level security: a partner sees only its customer's endpoints and deliveries.
SELECT id AS cust FROM create_customer('Webhook Partner Ltd') \gset
SELECT id AS ep_own FROM register_webhook('https://93.184.216.34/hooks/own', '{*}', :cust) \gset
SET ROLE freight_partner;
SELECT set_config('request.jwt.claims', json_build_object('customer_id', :cust)::text, false) IS NOT NULL AS claims_set;
SELECT count(*) AS visible, bool_and(id = :ep_own) AS only_own FROM webhook_endpoints;
SELECT count(*) AS status_visible, bool_and(endpoint_id = :ep_own) AS only_own FROM webhook_status;
SELECT count(*) AS visible_deliveries FROM webhook_deliveries WHERE endpoint_id <> :ep_own;
SELECT id AS ep_partner, secret ~ '^whsec_' AS got_secret
FROM register_webhook('https://93.184.216.34/hooks/partner', '{shipment.delivered}') \gset
SELECT :'got_secret' AS got_secret, customer_id = :cust AS owned_by_claim FROM webhook_endpoints WHERE id = :ep_partner;
SELECT disable_webhook(:ep1);
SELECT webhook_claim(10, '{}');
RESET ROLE;
SELECT set_config('request.jwt.claims', '', false) = '' AS claims_cleared;
-- Security events and forecast alerts are subscribable like table changes.
SELECT type FROM webhook_event_types WHERE type IN ('demand.high_predicted', 'security.decrypt_denied') ORDER BY 1;
SELECT id IS NOT NULL AS subscribed FROM register_webhook('https://93.184.216.34/hooks/ops', '{security.*,demand.high_predicted}');
ROLLBACK;
