/* identity-base64.c: strict base64 encoding and decoding (RFC 4648).
 *
 * Written out rather than taken from OpenSSL's EVP_EncodeBlock() and
 * EVP_DecodeBlock(), which know only the standard alphabet and whose
 * decoder accepts blanks and non-canonical input. */
#include <config.h>

#include "api-cell/identity-base64.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "shared/xalloc.h"

static const char identity_base64_std_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char identity_base64_url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define IDENTITY_BASE64_PAD '='
/* What identity_base64_value() returns for a character outside the
 * alphabet. */
#define IDENTITY_BASE64_INVALID 0xff

static const char *
identity_base64_chars(enum identity_base64_alphabet alphabet)
{
    return (alphabet == IDENTITY_BASE64_URL ? identity_base64_url_chars
                                            : identity_base64_std_chars);
}

char *
identity_base64_encode(enum identity_base64_alphabet alphabet,
                       const void *data, size_t size)
{
    const char *chars = identity_base64_chars(alphabet);
    const unsigned char *in = data;
    bool pad = alphabet == IDENTITY_BASE64_STD;
    char *out = xmalloc(size / 3 * 4 + 5);
    size_t n = 0;
    size_t i;

    for (i = 0; i + 3 <= size; i += 3) {
        uint32_t v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8)
                     | in[i + 2];

        out[n++] = chars[(v >> 18) & 0x3f];
        out[n++] = chars[(v >> 12) & 0x3f];
        out[n++] = chars[(v >> 6) & 0x3f];
        out[n++] = chars[v & 0x3f];
    }
    if (size - i == 1) {
        uint32_t v = (uint32_t) in[i] << 16;

        out[n++] = chars[(v >> 18) & 0x3f];
        out[n++] = chars[(v >> 12) & 0x3f];
        if (pad) {
            out[n++] = IDENTITY_BASE64_PAD;
            out[n++] = IDENTITY_BASE64_PAD;
        }
    } else if (size - i == 2) {
        uint32_t v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

        out[n++] = chars[(v >> 18) & 0x3f];
        out[n++] = chars[(v >> 12) & 0x3f];
        out[n++] = chars[(v >> 6) & 0x3f];
        if (pad) {
            out[n++] = IDENTITY_BASE64_PAD;
        }
    }
    out[n] = '\0';
    return out;
}

/* Returns the 6-bit value of 'c' in 'alphabet', or
 * IDENTITY_BASE64_INVALID. */
static unsigned int
identity_base64_value(enum identity_base64_alphabet alphabet, char c)
{
    bool url = alphabet == IDENTITY_BASE64_URL;

    if (c >= 'A' && c <= 'Z') {
        return (unsigned int) (c - 'A');
    } else if (c >= 'a' && c <= 'z') {
        return (unsigned int) (c - 'a') + 26;
    } else if (c >= '0' && c <= '9') {
        return (unsigned int) (c - '0') + 52;
    } else if (c == (url ? '-' : '+')) {
        return 62;
    } else if (c == (url ? '_' : '/')) {
        return 63;
    }
    return IDENTITY_BASE64_INVALID;
}

int
identity_base64_decode(enum identity_base64_alphabet alphabet,
                       const char *text, size_t length,
                       void **ret_data, size_t *ret_size)
{
    size_t n_chars = length;    /* Characters that carry data. */
    size_t tail, size, n = 0;
    unsigned char *out;
    uint32_t v = 0;
    int n_bits = 0;

    if (alphabet == IDENTITY_BASE64_STD) {
        /* Padding completes the last group of four, and only when one is
         * needed. */
        if (length % 4) {
            return -EINVAL;
        }
        while (n_chars > 0 && length - n_chars < 2
               && text[n_chars - 1] == IDENTITY_BASE64_PAD) {
            n_chars--;
        }
    }
    tail = n_chars % 4;
    if (tail == 1) {
        return -EINVAL;
    }
    if (alphabet == IDENTITY_BASE64_STD
        && length - n_chars != (tail ? 4 - tail : 0)) {
        return -EINVAL;
    }

    size = n_chars / 4 * 3 + (tail ? tail - 1 : 0);
    out = xmalloc(size + 1);
    for (size_t i = 0; i < n_chars; i++) {
        unsigned int d = identity_base64_value(alphabet, text[i]);

        if (d == IDENTITY_BASE64_INVALID) {
            free(out);
            return -EINVAL;
        }
        v = (v << 6) | d;
        n_bits += 6;
        if (n_bits >= 8) {
            n_bits -= 8;
            out[n++] = (unsigned char) (v >> n_bits);
            v &= (1u << n_bits) - 1;
        }
    }
    /* The bits left over in the last character must be zero. */
    if (v) {
        free(out);
        return -EINVAL;
    }
    out[n] = '\0';
    *ret_data = out;
    *ret_size = n;
    return 0;
}
