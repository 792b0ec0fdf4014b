/* TLS set-up shared by libcurl and lws. Most of it is about memory: what a
 * library does at initialisation is paid for in resident pages for the whole
 * run (see README, Benchmarks). */
#include "tls.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include <aitrader/types.h>

#include "log.h"

#define TLS_CA_DIR "/etc/ssl/certs"
#define TLS_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* Debian's libcurl4 links librtmp and libldap, and both link GnuTLS, whose
 * ELF constructor initialises it as soon as it is mapped (about 1 MB of its,
 * p11-kit's and nettle's pages touched, plus heap) although nothing here uses
 * it: curl is limited to http and https, over OpenSSL. This is GnuTLS' own
 * hook for that (GNUTLS_SKIP_GLOBAL_INIT in gnutls.h): the constructor asks
 * the process and skips. A library that does use GnuTLS calls
 * gnutls_global_init() itself (librtmp and libldap do), which still works.
 * Exported from the executable (see CMakeLists.txt). */
__attribute__((visibility("default"))) int _gnutls_global_init_skip(void);
int _gnutls_global_init_skip(void)
{
    return 1;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc = AT_EIO;
static const char *ca_file, *ca_dir;
static char ca_env[4096];

/* A c_rehash'ed directory: at least one "<8 hex digits>.<n>" entry. */
static bool hashed_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        return false;
    }
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        const char *s = e->d_name;
        size_t hex = strspn(s, "0123456789abcdef");
        found = hex == 8 && s[8] == '.' && s[9] && strspn(s + 9, "0123456789") == strlen(s + 9);
    }
    closedir(d);
    return found;
}

/* The system store, as a hashed directory when there is one: OpenSSL then
 * reads the one or two CA files a handshake needs instead of parsing all
 * ~140 of a bundle (about 1 MB of heap and libcrypto pages per stack).
 * Debian's update-ca-certificates keeps the directory and the bundle alike,
 * local CAs included. $SSL_CERT_FILE, which curl never read, is only a
 * fallback; $SSL_CERT_DIR names another hashed directory. */
static void choose_anchors(void)
{
    const char *dir = secure_getenv("SSL_CERT_DIR");
    const char *file = secure_getenv("SSL_CERT_FILE");
    if (dir && *dir && strlen(dir) < sizeof(ca_env) && hashed_dir(dir)) {
        ca_dir = strcpy(ca_env, dir);
    } else if (hashed_dir(TLS_CA_DIR)) {
        ca_dir = TLS_CA_DIR;
    } else if (file && *file && strlen(file) < sizeof(ca_env) && access(file, R_OK) == 0) {
        ca_file = strcpy(ca_env, file);
    } else if (access(TLS_CA_BUNDLE, R_OK) == 0) {
        ca_file = TLS_CA_BUNDLE;
    } else {
        LOG_WARN("tls: no CA certificates in %s or %s; https:// and wss:// use OpenSSL's "
                 "default paths",
                 TLS_CA_DIR, TLS_CA_BUNDLE);
        return;
    }
    LOG_DEBUG("tls: CA certificates from %s", ca_dir ? ca_dir : ca_file);
}

static void init_once(void)
{
    /* Reading openssl.cnf costs about 1 MB of libcrypto pages (its config
     * modules) and Debian's says nothing that applies here; an operator who
     * needs one (providers, a crypto policy) names it in $OPENSSL_CONF. */
    uint64_t opts =
        secure_getenv("OPENSSL_CONF") ? OPENSSL_INIT_LOAD_CONFIG : OPENSSL_INIT_NO_LOAD_CONFIG;
    /* lws asks for the error texts of all of libcrypto's sub-libraries (BIO,
     * X509, ASN1, EVP …): indexing them touches another ~1 MB of its pages.
     * Without them an error still names its library, and TLS failures keep
     * their text (the SSL library's texts are loaded, certificate checks
     * have their own); with debug logging every text is there. */
    opts |= log_enabled(AT_LOG_DEBUG) ? OPENSSL_INIT_LOAD_CRYPTO_STRINGS
                                      : OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS;
    if (OPENSSL_init_ssl(opts, NULL) != 1) {
        LOG_ERROR("tls: OpenSSL initialisation failed");
        return;
    }
    choose_anchors();
    init_rc = AT_OK;
}

int tls_global_init(void)
{
    pthread_once(&once, init_once);
    return init_rc;
}

const char *tls_ca_file(void)
{
    pthread_once(&once, init_once);
    return ca_file;
}

const char *tls_ca_dir(void)
{
    pthread_once(&once, init_once);
    return ca_dir;
}

static const char *ssl_reason(void)
{
    const char *r = ERR_reason_error_string(ERR_get_error());
    return r ? r : "unknown error";
}

SSL_CTX *tls_client_ctx_new(void)
{
    if (tls_global_init() != AT_OK) {
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        LOG_ERROR("tls: cannot create a client context: %s", ssl_reason());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    int ok = ca_file  ? SSL_CTX_load_verify_file(ctx, ca_file)
             : ca_dir ? SSL_CTX_load_verify_dir(ctx, ca_dir)
                      : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        LOG_ERROR("tls: cannot use the CA certificates in %s: %s",
                  ca_file  ? ca_file
                  : ca_dir ? ca_dir
                           : "OpenSSL's default paths",
                  ssl_reason());
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
