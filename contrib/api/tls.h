/*
 * tls.h — mutual TLS: is the client's certificate present and signed by the configured CA?
 */
#ifndef API_TLS_H
#define API_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;

/* true when the connection presented a certificate that verifies against server-tls-client-ca. */
bool		tls_client_verified(struct MHD_Connection *conn, char *subject, size_t subject_len);

#endif
