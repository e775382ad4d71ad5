#ifndef MXSURVEY_OPENSSL_SHIM_H
#define MXSURVEY_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

/* Function wrappers for OpenSSL macros that Swift cannot import. */
static inline long mxs_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long mxs_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int v) {
    return SSL_CTX_set_min_proto_version(ctx, v);
}
static inline long mxs_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int v) {
    return SSL_CTX_set_max_proto_version(ctx, v);
}
static inline size_t mxs_BIO_pending(BIO *b) { return BIO_ctrl_pending(b); }
static inline long mxs_BIO_set_mem_eof_return(BIO *b, int v) { return BIO_set_mem_eof_return(b, v); }
#endif
