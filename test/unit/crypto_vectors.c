/*
 * crypto_vectors.c — drive extension/crypto_aead.c (the exact code the extension runs) with the
 * Wycheproof AES-GCM and HMAC-SHA256 vectors and the NIST CAVP AES-256-GCM known answers.
 *
 * Every valid case must be reproduced (encrypt gives ct+tag, decrypt gives msg); every invalid
 * case must be rejected.  Prints "N passed, M failed".
 *
 *   crypto_vectors DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto_aead.h"

static int	passed;
static int	failed;

static void
check(int ok, const char *what, long id)
{
	if (ok)
		passed++;
	else
	{
		failed++;
		printf("FAIL %s case %ld\n", what, id);
	}
}

/* Decode hex into a fresh buffer; *len gets the byte count. */
static uint8_t *
unhex(const char *hex, size_t *len)
{
	size_t		n = strlen(hex) / 2;
	uint8_t    *out = malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
	*len = n;
	return out;
}

/* One AEAD case: seal must reproduce a valid case, open must accept it iff valid. */
static void
aead_case(AeadCipher *cipher, const char *src, long id, const char *khex, const char *ivhex,
		  const char *aadhex, const char *msghex, const char *cthex, const char *taghex, int valid)
{
	size_t		klen, ivlen, aadlen, msglen, ctlen, taglen;
	uint8_t    *key = unhex(khex, &klen), *iv = unhex(ivhex, &ivlen), *aad = unhex(aadhex, &aadlen);
	uint8_t    *msg = unhex(msghex, &msglen), *ct = unhex(cthex, &ctlen), *tag = unhex(taghex, &taglen);
	uint8_t    *out = malloc(ctlen + msglen + 1);
	uint8_t		outtag[AEAD_TAG_LEN];

	if (valid)
	{
		int			ok = aead_seal(cipher, key, iv, aad, aadlen, msg, msglen, out, outtag) == 0 &&
			memcmp(out, ct, ctlen) == 0 && memcmp(outtag, tag, AEAD_TAG_LEN) == 0;

		check(ok, src, id);
	}
	if (taglen == AEAD_TAG_LEN)
	{
		int			opened = aead_open(cipher, key, iv, aad, aadlen, ct, ctlen, tag, out) == 0;

		check(valid ? (opened && memcmp(out, msg, msglen) == 0) : !opened, src, id);
	}
	else
		check(!valid, src, id);	/* a tag of another length can only be an invalid case */
	free(key), free(iv), free(aad), free(msg), free(ct), free(tag), free(out);
}

static void
wycheproof_gcm(AeadCipher *cipher, const char *path)
{
	json_error_t err;
	json_t	   *root = json_load_file(path, 0, &err), *groups, *group, *tests, *t;
	size_t		gi, ti;

	if (root == NULL)
	{
		printf("FAIL cannot read %s: %s\n", path, err.text);
		failed++;
		return;
	}
	groups = json_object_get(root, "testGroups");
	json_array_foreach(groups, gi, group)
	{
		/* The column format: AES-256, 96-bit nonce, 128-bit tag. */
		if (json_integer_value(json_object_get(group, "keySize")) != 256 ||
			json_integer_value(json_object_get(group, "ivSize")) != 96)
			continue;
		tests = json_object_get(group, "tests");
		json_array_foreach(tests, ti, t)
		{
			const char *result = json_string_value(json_object_get(t, "result"));

			if (strcmp(result, "acceptable") == 0)
				continue;
			aead_case(cipher, "wycheproof-aes-gcm",
					  (long) json_integer_value(json_object_get(t, "tcId")),
					  json_string_value(json_object_get(t, "key")),
					  json_string_value(json_object_get(t, "iv")),
					  json_string_value(json_object_get(t, "aad")),
					  json_string_value(json_object_get(t, "msg")),
					  json_string_value(json_object_get(t, "ct")),
					  json_string_value(json_object_get(t, "tag")),
					  strcmp(result, "valid") == 0);
		}
	}
	json_decref(root);
}

static void
wycheproof_hmac(const char *path)
{
	json_error_t err;
	json_t	   *root = json_load_file(path, 0, &err), *groups, *group, *tests, *t;
	size_t		gi, ti;

	if (root == NULL)
	{
		printf("FAIL cannot read %s: %s\n", path, err.text);
		failed++;
		return;
	}
	groups = json_object_get(root, "testGroups");
	json_array_foreach(groups, gi, group)
	{
		size_t		tagbytes = json_integer_value(json_object_get(group, "tagSize")) / 8;

		tests = json_object_get(group, "tests");
		json_array_foreach(tests, ti, t)
		{
			const char *result = json_string_value(json_object_get(t, "result"));
			size_t		klen, mlen, tlen;
			uint8_t    *key = unhex(json_string_value(json_object_get(t, "key")), &klen);
			uint8_t    *msg = unhex(json_string_value(json_object_get(t, "msg")), &mlen);
			uint8_t    *tag = unhex(json_string_value(json_object_get(t, "tag")), &tlen);
			uint8_t		mac[HMAC_SHA256_LEN];
			int			match;

			match = hmac_sha256(key, klen, msg, mlen, mac) == 0 && tlen == tagbytes &&
				memcmp(mac, tag, tagbytes) == 0;
			if (strcmp(result, "acceptable") != 0)
				check(strcmp(result, "valid") == 0 ? match : !match, "wycheproof-hmac",
					  (long) json_integer_value(json_object_get(t, "tcId")));
			free(key), free(msg), free(tag);
		}
	}
	json_decref(root);
}

/* NIST CAVP .rsp: blocks of "Name = hex" lines; a decrypt case with a FAIL line must be rejected. */
static void
nist_gcm(AeadCipher *cipher, const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096], key[200] = "", iv[200] = "", pt[2000] = "", aad[2000] = "",
				ct[2000] = "", tag[200] = "";
	long		count = -1;
	int			fail = 0,
				have_pt = 0;

	if (f == NULL)
	{
		printf("FAIL cannot read %s\n", path);
		failed++;
		return;
	}
	while (1)
	{
		char	   *eof = fgets(line, sizeof(line), f);
		char		name[32], value[2000] = "";

		line[strcspn(line, "\r\n")] = '\0';
		if ((eof == NULL || line[0] == '\0') && count >= 0 && tag[0] != '\0')
		{
			aead_case(cipher, path, count, key, iv, aad, have_pt ? pt : "", ct, tag, !fail);
			tag[0] = '\0';
			fail = have_pt = 0;
		}
		if (eof == NULL)
			break;
		if (strcmp(line, "FAIL") == 0)
			fail = 1;
		if (sscanf(line, "%31s = %1999s", name, value) < 1)
			continue;
		if (strcmp(name, "Count") == 0)
			count = atol(value);
		else if (strcmp(name, "Key") == 0)
			strcpy(key, value);
		else if (strcmp(name, "IV") == 0)
			strcpy(iv, value);
		else if (strcmp(name, "PT") == 0)
			strcpy(pt, value), have_pt = 1;
		else if (strcmp(name, "AAD") == 0)
			strcpy(aad, value);
		else if (strcmp(name, "CT") == 0)
			strcpy(ct, value);
		else if (strcmp(name, "Tag") == 0)
			strcpy(tag, value);
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	char		path[4096];
	AeadCipher *cipher = aead_cipher_new();
	const char *dir = argc > 1 ? argv[1] : "test/data/vectors";

	snprintf(path, sizeof(path), "%s/aes_gcm_test.json", dir);
	wycheproof_gcm(cipher, path);
	snprintf(path, sizeof(path), "%s/hmac_sha256_test.json", dir);
	wycheproof_hmac(path);
	snprintf(path, sizeof(path), "%s/gcmEncryptExtIV256_iv96_tag128.rsp", dir);
	nist_gcm(cipher, path);
	snprintf(path, sizeof(path), "%s/gcmDecrypt256_iv96_tag128.rsp", dir);
	nist_gcm(cipher, path);
	aead_cipher_free(cipher);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
