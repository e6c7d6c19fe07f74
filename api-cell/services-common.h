/* services-common.h: what os-services and os-hypervisors share: ids that
 * are unique across the tree, and requests that wait for one call to the
 * API cell's nova-cells.
 *
 * Ids.  Services and compute nodes are rows of the leaves' cell
 * databases, numbered per leaf.  The API shows them under one number
 * that names the leaf too:
 *
 *     api id = cell id * SERVICES_COMMON_ID_FACTOR + leaf row id
 *
 * where the cell id is the leaf's 'cell_mappings.id' in the API database
 * (stable for the life of the cell) and the leaf row id is below
 * SERVICES_COMMON_ID_FACTOR.  A row whose id does not fit, or whose cell
 * the API database does not know, cannot be named and is left out of
 * lists (with a warning).  Decoding reverses the sum.
 *
 * Deferred calls.  A handler checks policy and its input, then hands the
 * request to services_common_call(), which parks it
 * (http_request_defer()) and calls nova-cells through the cells client;
 * the reply runs the handler's 'done' function on the client's thread,
 * which fills the response, and the request is completed.  A 'done'
 * function may instead start a further call with the same request (a
 * lookup before an update). */
#ifndef NOVA_SERVICES_COMMON_H
#define NOVA_SERVICES_COMMON_H 1

#include <stdbool.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct compute_api;
struct error;
struct http_request;
struct http_response;
struct json_object;

#define SERVICES_COMMON_ID_FACTOR INT64_C(1000000)

/* The cells of the API database, by id and path. */
struct services_common_cells;

/* Reads the cells of 'compute''s API database (on the calling thread's
 * connection) into '*ret', freed with services_common_cells_free(). */
struct error *services_common_cells_load(struct compute_api *compute,
                                         struct services_common_cells **ret)
    WARN_UNUSED;
void services_common_cells_free(struct services_common_cells *);
DEFINE_FREEP(struct services_common_cells, services_common_cells_free)

/* The api id of row 'row_id' of the leaf 'cell_path', or -1 when it has
 * none (unknown cell, row id out of range). */
int64_t services_common_encode_id(const struct services_common_cells *,
                                  const char *cell_path, int64_t row_id);

/* Decodes the api id 'text' (decimal digits).  Returns true and stores
 * the leaf's path (owned by the map) and the leaf row id, or false for
 * anything that names no known cell. */
bool services_common_decode_id(const struct services_common_cells *,
                               const char *text, const char **ret_cell_path,
                               int64_t *ret_row_id);

/* Returns the ERROR_UNAVAILABLE error to answer when 'compute' has no
 * cells client, else NULL. */
struct error *services_common_require_cells(const struct compute_api *)
    WARN_UNUSED;

/* Handles the reply 'result' (borrowed) of a call started by
 * services_common_call() for 'req': fills 'resp' and returns NULL, or
 * returns the error to answer.  Setting '*ret_pending' to true means the
 * function started another services_common_call() for 'req' with the same
 * 'aux', which then belongs to that call: the request is not completed. */
typedef struct error *services_common_done_fn(struct json_object *result,
                                              struct http_request *req,
                                              struct http_response *resp,
                                              void *aux, bool *ret_pending);

/* Defers 'req' (unless it already is) and calls 'method' with 'args'
 * (taken) on 'compute''s cells client, with the request's context and the
 * configured call timeout.  'done' then runs with 'aux' on the client's
 * thread, and the request is completed with what it returns; a failed
 * call completes the request with the call's error.  'aux' is freed with
 * 'aux_free' (if not NULL) once the request is completed.  The caller,
 * a handler, returns NULL afterwards.  'compute->cells' must not be
 * NULL. */
void services_common_call(struct http_request *req,
                          struct http_response *resp,
                          struct compute_api *compute, const char *method,
                          struct json_object *args,
                          services_common_done_fn *done, void *aux,
                          void (*aux_free)(void *));

/* Logs the cells the 'result' of a list call names as "missing" (they
 * did not answer and are left out). */
void services_common_log_missing(const struct http_request *req,
                                 const struct json_object *result);

/* Gets the string 'field' of 'obj' (NULL when absent, null or not a
 * string), for reading the replies of nova-cells. */
const char *services_common_get_string(const struct json_object *obj,
                                       const char *field);
/* The same for an integer (0 when absent) and a boolean (false). */
int64_t services_common_get_int(const struct json_object *obj,
                                const char *field);
bool services_common_get_bool(const struct json_object *obj,
                              const char *field);

#endif /* NOVA_SERVICES_COMMON_H */
