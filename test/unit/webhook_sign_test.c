/*
 * webhook_sign_test.c — check extension/webhook_sign.c (the code the dispatcher signs with)
 * against the Standard Webhooks reference vectors, the negative vectors, secret decoding edge
 * cases and rotation headers.  Prints "N passed, M failed".
 *
 *   webhook_sign VECTORS.json
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "webhook_sign.h"

static int	passed;
static int	failed;

static void
check(int ok, const char *what, const char *name)
{
	if (ok)
		passed++;
	else
	{
		failed++;
		printf("FAIL %s (%s)\n", what, name);
	}
}

static void
positive_vector(json_t *v)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *secret = json_string_value(json_object_get(v, "secret"));
	const char *msg_id = json_string_value(json_object_get(v, "msg_id"));
	const char *payload = json_string_value(json_object_get(v, "payload"));
	const char *expected = json_string_value(json_object_get(v, "expected_signature"));
	int64_t		ts = json_integer_value(json_object_get(v, "timestamp"));
	WebhookKey	key;
	char		sig[WEBHOOK_SIGNATURE_LEN + 1] = {0};
	char		rotated[256];

	check(webhook_secret_decode(secret, &key), "decode secret", name);
	check(webhook_sign_v1(&key, msg_id, ts, payload, strlen(payload), sig), "sign", name);
	check(strcmp(sig, expected) == 0, "signature equals the expected value", name);
	check(webhook_verify_v1(&key, msg_id, ts, payload, strlen(payload), expected),
		  "verify the expected value", name);
	check(!webhook_verify_v1(&key, msg_id, ts + 1, payload, strlen(payload), expected),
		  "other timestamp does not verify", name);
	check(!webhook_verify_v1(&key, "msg_other", ts, payload, strlen(payload), expected),
		  "other id does not verify", name);
	/* Rotation: a header with an unknown version, another key's signature and ours verifies. */
	snprintf(rotated, sizeof(rotated), "v1a,AAAA v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU= %s",
			 expected);
	check(webhook_verify_v1(&key, msg_id, ts, payload, strlen(payload), rotated),
		  "rotated header verifies", name);
	/* A truncated signature must not verify. */
	snprintf(rotated, sizeof(rotated), "%.*s", (int) strlen(expected) - 1, expected);
	check(!webhook_verify_v1(&key, msg_id, ts, payload, strlen(payload), rotated),
		  "truncated signature does not verify", name);
}

static void
negative_vector(json_t *v)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *secret = json_string_value(json_object_get(v, "secret"));
	const char *msg_id = json_string_value(json_object_get(v, "msg_id"));
	const char *payload = json_string_value(json_object_get(v, "payload"));
	const char *signature = json_string_value(json_object_get(v, "signature"));
	json_t	   *jts = json_object_get(v, "timestamp");
	WebhookKey	key;

	check(webhook_secret_decode(secret, &key), "decode secret", name);
	if (jts != NULL)
		check(!webhook_verify_v1(&key, msg_id, json_integer_value(jts), payload,
								 strlen(payload), signature), "must not verify", name);
	else
		for (int64_t ts = 1649367500; ts < 1649367600; ts++)
			check(!webhook_verify_v1(&key, msg_id, ts, payload, strlen(payload), signature),
				  "must not verify at any timestamp", name);
}

static void
secret_edge_cases(void)
{
	WebhookKey	key;
	WebhookKey	again;
	char		secret[WEBHOOK_SECRET_TEXT_MAX];
	char		other[WEBHOOK_SECRET_TEXT_MAX];

	check(webhook_secret_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key) && key.len == 24,
		  "prefix is optional", "edge");
	check(webhook_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr", &key) && key.len == 25,
		  "missing padding is tolerated", "edge");
	check(!webhook_secret_decode("whsec_", &key), "empty secret rejected", "edge");
	check(!webhook_secret_decode("whsec_c2hvcnQ=", &key), "5-byte key rejected", "edge");
	check(!webhook_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8I!PZIo2LaLaSw", &key),
		  "non-base64 rejected", "edge");
	check(!webhook_secret_decode("whsec_MfKQ9r8GKY=qrTwjUPD8ILPZIo2LaLaSw", &key),
		  "padding inside rejected", "edge");
	check(webhook_secret_generate(secret) && strncmp(secret, "whsec_", 6) == 0 &&
		  strlen(secret) == 6 + 44, "generated secret shape", "edge");
	check(webhook_secret_decode(secret, &key) && key.len == WEBHOOK_KEY_NEW,
		  "generated secret decodes to 32 bytes", "edge");
	check(webhook_secret_generate(other) && strcmp(secret, other) != 0,
		  "two generated secrets differ", "edge");
	check(webhook_secret_decode(secret, &again) && memcmp(key.bytes, again.bytes, key.len) == 0,
		  "decoding is deterministic", "edge");
	webhook_key_wipe(&key);
	check(key.len == 0, "wipe clears the key", "edge");
}

int
main(int argc, char **argv)
{
	json_error_t err;
	json_t	   *root;
	size_t		i;
	json_t	   *v;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s VECTORS.json\n", argv[0]);
		return 2;
	}
	root = json_load_file(argv[1], 0, &err);
	if (root == NULL)
	{
		fprintf(stderr, "%s: %s\n", argv[1], err.text);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	json_array_foreach(json_object_get(root, "vectors"), i, v)
		positive_vector(v);
	json_array_foreach(json_object_get(root, "negative"), i, v)
		negative_vector(v);
	check(json_array_size(json_object_get(root, "vectors")) == 2, "two positive vectors", "file");
	secret_edge_cases();
	json_decref(root);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
