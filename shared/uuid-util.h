/* uuid-util.h: UUID strings and request ids, over libuuid.
 *
 * Every resource the API exposes (servers, cells, hosts, flavors' internal
 * ids) is named by a UUID in its canonical text form, 8-4-4-4-12 lowercase
 * hex digits: that is the form this module produces and the form the
 * databases store.  Input from users is checked with uuid_is_valid() or
 * brought to that form with uuid_normalize().
 *
 * Request ids ("req-<uuid>") follow oslo.middleware: they travel in the
 * X-OpenStack-Request-ID header and in every RPC envelope. */
#ifndef NOVA_UUID_UTIL_H
#define NOVA_UUID_UTIL_H 1

#include <stdbool.h>

/* Bytes needed for a canonical UUID string, including the NUL. */
#define UUID_STRING_SIZE 37

/* Bytes needed for a request id ("req-" + UUID), including the NUL. */
#define REQUEST_ID_SIZE (4 + UUID_STRING_SIZE)

/* Writes a new random (version 4) UUID to 'out' in canonical lowercase
 * form. */
void uuid_generate_string(char out[UUID_STRING_SIZE]);

/* Returns true if 's' is a UUID in canonical 8-4-4-4-12 form: 32 hex digits
 * (either case) with dashes at offsets 8, 13, 18 and 23 and nothing else.
 * Any version and variant is accepted, as Nova does.  NULL is not valid. */
bool uuid_is_valid(const char *s);

/* Brings a UUID written in one of the forms oslo's is_uuid_like() accepts
 * to canonical lowercase form in 'out': canonical form in either case, 32
 * hex digits without dashes, either of those in braces, and with a
 * "urn:uuid:" prefix.  (oslo also accepts dashes in odd places; this does
 * not.)  Returns 0, or -EINVAL without touching 'out'. */
int uuid_normalize(const char *in, char out[UUID_STRING_SIZE]);

/* Returns a new request id "req-<uuid>" with a random UUID.  The caller
 * frees it. */
char *request_id_new(void);

/* Returns true if 's' is a request id as oslo.middleware accepts from a
 * client: "req-" followed by a canonical lowercase UUID. */
bool request_id_is_valid(const char *s);

#endif /* NOVA_UUID_UTIL_H */
