/* keypairs-api.h: the compute API's keypairs (/v2.1/os-keypairs).
 *
 * Nova's os-keypairs API at microversion 2.1:
 *
 *     GET    /v2.1/os-keypairs           the caller's keypairs
 *     POST   /v2.1/os-keypairs           import (with "public_key") or
 *                                        generate (the private key is in
 *                                        the answer, once); 200
 *     GET    /v2.1/os-keypairs/{name}    show
 *     DELETE /v2.1/os-keypairs/{name}    delete; 202
 *
 * Keypairs belong to the caller's user (an admin's ?user_id= comes with
 * microversion 2.10).  The key_pairs quota counts per user.
 *
 * The pure functions below check names and public keys and generate
 * keys; they are thread-safe. */
#ifndef NOVA_KEYPAIRS_API_H
#define NOVA_KEYPAIRS_API_H 1

#include "shared/compiler.h"

struct compute_api;
struct error;
struct http_router;

/* Registers the routes above on 'router', with 'compute' as their aux. */
void keypairs_api_register(struct http_router *router,
                           struct compute_api *compute);

/* Checks a new keypair's name as Nova does: 1 to 255 characters among
 * letters, digits, ' ', '_' and '-'.  Returns NULL or ERROR_INVALID
 * "Keypair data is invalid: Keypair name contains unsafe characters" (or
 * "...: Keypair name must be string and between 1 and 255 characters
 * long"). */
struct error *keypairs_api_check_name(const char *name) WARN_UNUSED;

/* Parses 'public_key', an OpenSSH public key line "TYPE BASE64
 * [COMMENT]" of type ssh-rsa, ssh-dss, ssh-ed25519 or
 * ecdsa-sha2-nistp256/384/521 whose decoded blob is well formed and names
 * the same type, and stores its fingerprint, Nova's MD5 of the blob as
 * colon-separated lowercase hex pairs ("aa:bb:..."), in '*ret' (the
 * caller frees).  Returns NULL or ERROR_INVALID "Keypair data is invalid:
 * failed to generate fingerprint". */
struct error *keypairs_api_fingerprint(const char *public_key, char **ret)
    WARN_UNUSED;

/* Generates a new 2048-bit RSA key: its private key in PEM ("-----BEGIN
 * RSA PRIVATE KEY-----") in '*ret_private' and the OpenSSH public key line
 * "ssh-rsa AAAA... Generated-by-Nova" in '*ret_public' (the caller frees
 * both).  ERROR_INTERNAL if OpenSSL fails. */
struct error *keypairs_api_generate(char **ret_private, char **ret_public)
    WARN_UNUSED;

#endif /* NOVA_KEYPAIRS_API_H */
