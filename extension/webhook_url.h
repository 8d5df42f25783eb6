/*
 * webhook_url.h — is a webhook URL acceptable, and may we connect to an address?
 *
 * No PostgreSQL dependency (libcurl's URL parser and getaddrinfo only), so the registration
 * check (SQL) and the connect-time check (the dispatcher's open-socket callback) share one
 * definition of "private address", and the unit test can drive it directly.
 */
#ifndef WEBHOOK_URL_H
#define WEBHOOK_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Longest URL accepted at registration. */
#define WEBHOOK_URL_MAX 2048

/*
 * Checks the syntax of url: http or https, a host, no user name or password, no fragment, at
 * most WEBHOOK_URL_MAX bytes.  Returns NULL when acceptable and copies the host name (without
 * IPv6 brackets) into host; otherwise returns a sentence saying what is wrong.
 */
extern const char *webhook_url_syntax_error(const char *url, char *host, size_t host_size);

/*
 * Returns NULL when addr is a public unicast address, else its class ("loopback", "private",
 * "link-local", "unspecified", "multicast", "reserved", "shared address space").  IPv4-mapped
 * and NAT64 IPv6 addresses are judged by the IPv4 address they carry.
 */
extern const char *webhook_address_class(const struct sockaddr *addr);

/*
 * Resolves host and checks every address it resolves to.  Returns NULL when all are public (or
 * allow_private is set and it resolves at all); otherwise a sentence, written into buf.
 */
extern const char *webhook_host_error(const char *host, bool allow_private, char *buf,
									  size_t buf_size);

#endif							/* WEBHOOK_URL_H */
