/*
 * webhook_url.c — URL syntax and address-class checks for webhook endpoints (see webhook_url.h).
 */
#include "webhook_url.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

/* Fetches one part of the URL into *part, freeing the part fetched before. */
static bool
url_get(CURLU *u, CURLUPart what, char **part)
{
	curl_free(*part);
	*part = NULL;
	return curl_url_get(u, what, part, 0) == CURLUE_OK;
}

const char *
webhook_url_syntax_error(const char *url, char *host, size_t host_size)
{
	CURLU	   *u;
	char	   *part = NULL;
	const char *error = NULL;
	size_t		n;

	if (strlen(url) > WEBHOOK_URL_MAX)
		return "The URL is longer than 2048 bytes.";
	for (const char *p = url; *p; p++)
		if ((unsigned char) *p <= ' ' || *p == 0x7f)
			return "The URL contains a space or a control character.";
	if ((u = curl_url()) == NULL)
		return "Out of memory while parsing the URL.";
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		error = "The URL is not a valid absolute URL.";
	else if (!url_get(u, CURLUPART_SCHEME, &part) ||
			 (strcasecmp(part, "http") != 0 && strcasecmp(part, "https") != 0))
		error = "Only http and https URLs are allowed.";
	else if (url_get(u, CURLUPART_USER, &part) || url_get(u, CURLUPART_PASSWORD, &part))
		error = "The URL must not contain a user name or password.";
	else if (url_get(u, CURLUPART_FRAGMENT, &part))
		error = "The URL must not contain a fragment.";
	else if (!url_get(u, CURLUPART_HOST, &part) || part[0] == '\0')
		error = "The URL has no host.";
	else
	{
		const char *h = part;

		n = strlen(h);
		if (h[0] == '[' && n >= 2)	/* IPv6 literal: drop the brackets */
		{
			h++;
			n -= 2;
		}
		if (n >= host_size)
			error = "The host name is too long.";
		else
		{
			memcpy(host, h, n);
			host[n] = '\0';
		}
	}
	curl_free(part);
	curl_url_cleanup(u);
	return error;
}

static bool
in_v4(uint32_t a, uint32_t net, int bits)
{
	uint32_t	mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);

	return (a & mask) == (net & mask);
}

static const char *
ipv4_class(uint32_t a)
{
	if (in_v4(a, 0x00000000, 8))
		return "unspecified";
	if (in_v4(a, 0x7f000000, 8))
		return "loopback";
	if (in_v4(a, 0x0a000000, 8) || in_v4(a, 0xac100000, 12) || in_v4(a, 0xc0a80000, 16))
		return "private";
	if (in_v4(a, 0x64400000, 10))
		return "shared address space";
	if (in_v4(a, 0xa9fe0000, 16))
		return "link-local";
	if (in_v4(a, 0xe0000000, 4))
		return "multicast";
	if (in_v4(a, 0xf0000000, 4) || in_v4(a, 0xc0000000, 24) || in_v4(a, 0xc0000200, 24) ||
		in_v4(a, 0xc6120000, 15) || in_v4(a, 0xc6336400, 24) || in_v4(a, 0xcb007100, 24))
		return "reserved";
	return NULL;
}

static const char *
ipv6_class(const unsigned char *b)
{
	static const unsigned char zero[16] = {0};
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return ipv4_class((uint32_t) b[12] << 24 | (uint32_t) b[13] << 16 |
						  (uint32_t) b[14] << 8 | b[15]);
	if (memcmp(b, zero, 15) == 0)
		return b[15] == 1 ? "loopback" : b[15] == 0 ? "unspecified" : "reserved";
	if (memcmp(b, zero, 12) == 0)	/* deprecated IPv4-compatible addresses */
		return "reserved";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local";
	if ((b[0] & 0xfe) == 0xfc)
		return "private";
	if (b[0] == 0xff)
		return "multicast";
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return "reserved";
	return NULL;
}

const char *
webhook_address_class(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET)
		return ipv4_class(ntohl(((const struct sockaddr_in *) addr)->sin_addr.s_addr));
	if (addr->sa_family == AF_INET6)
		return ipv6_class(((const struct sockaddr_in6 *) addr)->sin6_addr.s6_addr);
	return "reserved";
}

const char *
webhook_host_error(const char *host, bool allow_private, char *buf, size_t buf_size)
{
	struct addrinfo hints = {0};
	struct addrinfo *res = NULL;
	const char *error = NULL;
	int			rc;

	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0)
	{
		snprintf(buf, buf_size, "The host \"%s\" could not be resolved: %s.", host,
				 gai_strerror(rc));
		return buf;
	}
	for (struct addrinfo *ai = res; ai != NULL && error == NULL && !allow_private; ai = ai->ai_next)
	{
		const char *cls = webhook_address_class(ai->ai_addr);
		char		text[INET6_ADDRSTRLEN] = "?";

		if (cls == NULL)
			continue;
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *) ai->ai_addr)->sin_addr, text, sizeof(text));
		else if (ai->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr, text, sizeof(text));
		snprintf(buf, buf_size, "The host \"%s\" resolves to %s, which is not a public address (%s).",
				 host, text, cls);
		error = buf;
	}
	freeaddrinfo(res);
	return error;
}
