#ifndef MXSURVEY_OPENSSL_SHIM_H
#define MXSURVEY_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

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

/* --- SurveyTLS additions --- */
static inline uint64_t mxs_SSL_OP_LEGACY_SERVER_CONNECT(void) { return SSL_OP_LEGACY_SERVER_CONNECT; }
static inline uint64_t mxs_SSL_OP_ALL(void) { return SSL_OP_ALL; }
static inline uint64_t mxs_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t mxs_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t mxs_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline long mxs_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline long mxs_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline long mxs_SSL_MODE_RELEASE_BUFFERS(void) { return SSL_MODE_RELEASE_BUFFERS; }
static inline long mxs_SSL_CTX_add1_chain_cert(SSL_CTX *ctx, X509 *x) { return SSL_CTX_add1_chain_cert(ctx, x); }
static inline long mxs_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return SSL_CTX_set1_groups_list(ctx, list);
}
static inline long mxs_SSL_CTX_set_dh_auto(SSL_CTX *ctx, int onoff) { return SSL_CTX_set_dh_auto(ctx, onoff); }
static inline int mxs_SSL_get_negotiated_group(SSL *s) { return (int)SSL_get_negotiated_group(s); }
/* Returns an owned reference (caller frees with EVP_PKEY_free) or NULL. */
static inline EVP_PKEY *mxs_SSL_get_peer_tmp_key(SSL *s) {
    EVP_PKEY *k = NULL;
    if (SSL_get_peer_tmp_key(s, &k) != 1) return NULL;
    return k;
}
static inline EVP_PKEY *mxs_SSL_get_tmp_key(SSL *s) {
    EVP_PKEY *k = NULL;
    if (SSL_get_tmp_key(s, &k) != 1) return NULL;
    return k;
}

static inline int mxs_sk_X509_num(const STACK_OF(X509) *sk) { return sk_X509_num(sk); }
static inline X509 *mxs_sk_X509_value(const STACK_OF(X509) *sk, int i) { return sk_X509_value(sk, i); }
static inline STACK_OF(X509) *mxs_sk_X509_new_null(void) { return sk_X509_new_null(); }
/* Pushes x (taking an extra reference) onto sk. */
static inline int mxs_sk_X509_push_up_ref(STACK_OF(X509) *sk, X509 *x) {
    if (X509_up_ref(x) != 1) return 0;
    if (sk_X509_push(sk, x) <= 0) { X509_free(x); return 0; }
    return 1;
}
static inline void mxs_sk_X509_pop_free(STACK_OF(X509) *sk) { sk_X509_pop_free(sk, X509_free); }

/* Opaque handle to a decoded subjectAltName; free with mxs_GENERAL_NAMES_free. */
static inline void *mxs_X509_get_san(X509 *x) { return X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL); }
static inline void mxs_GENERAL_NAMES_free(void *names) { GENERAL_NAMES_free((GENERAL_NAMES *)names); }
static inline int mxs_GENERAL_NAMES_num(void *names) { return sk_GENERAL_NAME_num((GENERAL_NAMES *)names); }
/* Returns the dNSName bytes of entry i (length in *len), or NULL when entry i is not a dNSName. */
static inline const unsigned char *mxs_GENERAL_NAMES_dns(void *names, int i, int *len) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value((GENERAL_NAMES *)names, i);
    if (g == NULL || g->type != GEN_DNS || g->d.dNSName == NULL) return NULL;
    *len = ASN1_STRING_length(g->d.dNSName);
    return ASN1_STRING_get0_data(g->d.dNSName);
}

static inline unsigned long mxs_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }
static inline int mxs_MBSTRING_UTF8(void) { return MBSTRING_UTF8; }
static inline long mxs_BIO_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }

/* Adds one X509v3 extension given in OpenSSL config syntax ("critical,CA:TRUE"). */
static inline int mxs_X509_add_ext_conf(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}
#endif
