/*
 * tls.c — client-certificate verification for mutual TLS (see tls.h).  libmicrohttpd speaks
 * TLS through GnuTLS and asks for a client certificate when a trust store is configured, but
 * leaves the decision to the application: every request on such a daemon is checked here.
 */
#include "tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdio.h>

bool
tls_client_verified(struct MHD_Connection *conn, char *subject, size_t subject_len)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session;
	unsigned int status = 0;
	unsigned int ncerts = 0;
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;

	subject[0] = '\0';
	if (info == NULL || info->tls_session == NULL)
		return false;
	session = (gnutls_session_t) info->tls_session;
	certs = gnutls_certificate_get_peers(session, &ncerts);
	if (certs == NULL || ncerts == 0)
		return false;
	if (gnutls_certificate_verify_peers2(session, &status) != GNUTLS_E_SUCCESS || status != 0)
		return false;
	if (gnutls_x509_crt_init(&crt) == GNUTLS_E_SUCCESS)
	{
		size_t		n = subject_len;

		if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) != GNUTLS_E_SUCCESS ||
			gnutls_x509_crt_get_dn(crt, subject, &n) != GNUTLS_E_SUCCESS)
			subject[0] = '\0';
		gnutls_x509_crt_deinit(crt);
	}
	return true;
}
