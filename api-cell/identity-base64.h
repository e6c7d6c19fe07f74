/* identity-base64.h: the base64 forms of RFC 4648 used by the identity
 * service.
 *
 * Password hashes store their salt and digest in the standard alphabet
 * with padding (section 4); tokens use the URL-safe alphabet without
 * padding (section 5), so that they travel in headers and URLs unchanged.
 *
 * Decoding is strict: only the canonical encoding of some byte string is
 * accepted (no blanks, no missing or extra padding, no non-zero bits left
 * over in the last character), so every byte string has exactly one text
 * form and a token cannot be rewritten into another string that still
 * decodes to the same bytes. */
#ifndef NOVA_IDENTITY_BASE64_H
#define NOVA_IDENTITY_BASE64_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"

enum identity_base64_alphabet {
    IDENTITY_BASE64_STD,        /* A-Z a-z 0-9 + /, '=' padding */
    IDENTITY_BASE64_URL,        /* A-Z a-z 0-9 - _, no padding */
};

/* Returns 'size' bytes at 'data' encoded with 'alphabet', as a new
 * NUL-terminated string that the caller frees. */
char *identity_base64_encode(enum identity_base64_alphabet alphabet,
                             const void *data, size_t size);

/* Decodes the 'length' characters at 'text' (which need not be
 * NUL-terminated) written with 'alphabet'.  On success returns 0 and
 * stores a new buffer, which the caller frees, in '*ret_data' and its size
 * in '*ret_size' (the buffer holds one extra NUL byte after the data).
 * Returns -EINVAL, storing nothing, for anything but a canonical
 * encoding. */
int identity_base64_decode(enum identity_base64_alphabet alphabet,
                           const char *text, size_t length,
                           void **ret_data, size_t *ret_size) WARN_UNUSED;

#endif /* NOVA_IDENTITY_BASE64_H */
