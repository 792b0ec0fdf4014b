/* TLS set-up shared by the HTTP client (libcurl) and the net thread (lws):
 * one OpenSSL initialisation and one choice of trust anchors for both. */
#ifndef AT_CORE_TLS_H
#define AT_CORE_TLS_H

#include <openssl/ssl.h>

/* Initialises OpenSSL once, before curl_global_init() and the lws context
 * (both would otherwise read the system openssl.cnf): the config file is read
 * only when $OPENSSL_CONF names one. Also picks the trust anchors (below).
 * Idempotent and thread-safe. AT_OK or AT_EIO. */
int tls_global_init(void);

/* Where servers' certificates are verified from, the same for curl and lws:
 * a hashed directory ($SSL_CERT_DIR, else /etc/ssl/certs) whose CA files
 * OpenSSL reads one by one as a handshake needs them; without one, a PEM
 * bundle ($SSL_CERT_FILE, else /etc/ssl/certs/ca-certificates.crt), parsed
 * whole. Both NULL: OpenSSL's built-in defaults. At most one is non-NULL.
 * Static strings. */
const char *tls_ca_file(void);
const char *tls_ca_dir(void);

/* A new TLS client context verifying against the anchors above (TLS 1.2 at
 * least); the caller owns it (SSL_CTX_free). NULL on failure (logged). */
SSL_CTX *tls_client_ctx_new(void);

#endif
