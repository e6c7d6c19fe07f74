/* virt-driver.c: dispatch of the hypervisor driver interface (see
 * virt-driver.h) and the helpers every implementation shares.
 *
 * The wrappers here are the only callers of a driver class's members: they
 * reject a malformed uuid with ERROR_INVALID before any hypervisor sees it
 * (libvirt's own message for that is a bare "Invalid UUID"), and turn a
 * missing member into a clear error, so implementations stay small. */
#include <config.h>
#include "child-cell/virt-driver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "child-cell/virt-driver-provider.h"
#include "shared/error.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* Nova's instance_name_template. */
#define VIRT_INSTANCE_NAME_FORMAT "instance-%08x"

/* A malformed uuid is quoted in its error only if it is printable ASCII of
 * at most this many bytes: it may be anything a caller sent. */
#define VIRT_SHOWN_UUID_MAX_SIZE 64

static const struct {
    enum virt_power_state state;
    const char *name;
} virt_power_state_names[] = {
#define VIRT_POWER_STATE_NAME(ENUM, NUMBER, NAME) { ENUM, NAME },
    VIRT_POWER_STATES(VIRT_POWER_STATE_NAME)
#undef VIRT_POWER_STATE_NAME
};

static const char *const virt_domain_type_names[] = {
#define VIRT_DOMAIN_TYPE_NAME(ENUM, NAME) [ENUM] = NAME,
    VIRT_DOMAIN_TYPES(VIRT_DOMAIN_TYPE_NAME)
#undef VIRT_DOMAIN_TYPE_NAME
};

static const char *const virt_event_names[] = {
#define VIRT_EVENT_NAME(ENUM, NAME) [ENUM] = NAME,
    VIRT_EVENTS(VIRT_EVENT_NAME)
#undef VIRT_EVENT_NAME
};

const char *
virt_power_state_to_string(enum virt_power_state state)
{
    for (size_t i = 0; i < ARRAY_SIZE(virt_power_state_names); i++) {
        if (virt_power_state_names[i].state == state) {
            return virt_power_state_names[i].name;
        }
    }
    return "unknown";
}

int
virt_power_state_from_string(const char *name,
                             enum virt_power_state *ret_state)
{
    for (size_t i = 0; i < ARRAY_SIZE(virt_power_state_names); i++) {
        if (!strcmp(virt_power_state_names[i].name, name)) {
            *ret_state = virt_power_state_names[i].state;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
virt_domain_type_to_string(enum virt_domain_type type)
{
    if ((unsigned int) type >= ARRAY_SIZE(virt_domain_type_names)) {
        return NULL;
    }
    return virt_domain_type_names[type];
}

int
virt_domain_type_from_string(const char *name,
                             enum virt_domain_type *ret_type)
{
    for (size_t i = 0; i < ARRAY_SIZE(virt_domain_type_names); i++) {
        if (!strcmp(virt_domain_type_names[i], name)) {
            *ret_type = (enum virt_domain_type) i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
virt_event_to_string(enum virt_event event)
{
    if ((unsigned int) event >= ARRAY_SIZE(virt_event_names)) {
        return NULL;
    }
    return virt_event_names[event];
}

char *
virt_driver_instance_name(unsigned int id)
{
    return xasprintf(VIRT_INSTANCE_NAME_FORMAT, id);
}

void
virt_instance_list_free(struct virt_instance_list *list)
{
    if (list) {
        for (size_t i = 0; i < list->n_entries; i++) {
            free(list->entries[i].name);
        }
        free(list->entries);
        free(list);
    }
}

void
virt_inventory_free(struct virt_inventory *inventory)
{
    if (inventory) {
        free(inventory->hypervisor_type);
        free(inventory->hypervisor_hostname);
        free(inventory->cpu_info);
        free(inventory);
    }
}

const char *
virt_driver_name(const struct virt_driver *driver)
{
    return driver->class->name;
}

void
virt_driver_free(struct virt_driver *driver)
{
    if (driver) {
        driver->class->free(driver);
    }
}

static struct error *
virt_driver_unsupported(const struct virt_driver *driver,
                        const char *operation)
{
    return error_new(ERROR_INTERNAL,
                     "Operation '%s' is not supported by the '%s' driver",
                     operation, driver->class->name);
}

struct error *
virt_driver_invalid_uuid_error(const char *uuid)
{
    bool printable = uuid && strlen(uuid) <= VIRT_SHOWN_UUID_MAX_SIZE;

    for (const char *p = uuid; printable && *p; p++) {
        printable = *p >= ' ' && *p <= '~';
    }
    if (!printable) {
        return error_new(ERROR_INVALID, "Invalid instance uuid");
    }
    return error_new(ERROR_INVALID, "Invalid instance uuid '%s'", uuid);
}

/* Returns an error if 'uuid' cannot name an instance. */
static struct error *
virt_driver_check_uuid(const char *uuid)
{
    if (!uuid_is_valid(uuid)) {
        return virt_driver_invalid_uuid_error(uuid);
    }
    return NULL;
}

/* Dispatches an operation that takes only a uuid to 'fn', the driver's
 * member for 'operation' (which may be NULL). */
static struct error *
virt_driver_dispatch(struct virt_driver *driver, const char *uuid,
                     virt_driver_instance_func *fn, const char *operation)
{
    struct error *error = virt_driver_check_uuid(uuid);

    if (error) {
        return error;
    }
    if (!fn) {
        return virt_driver_unsupported(driver, operation);
    }
    return fn(driver, uuid);
}

struct error *
virt_driver_destroy(struct virt_driver *driver, const char *uuid)
{
    return virt_driver_dispatch(driver, uuid, driver->class->destroy,
                                "destroy");
}

struct error *
virt_driver_power_on(struct virt_driver *driver, const char *uuid)
{
    return virt_driver_dispatch(driver, uuid, driver->class->power_on,
                                "power_on");
}

struct error *
virt_driver_pause(struct virt_driver *driver, const char *uuid)
{
    return virt_driver_dispatch(driver, uuid, driver->class->pause,
                                "pause");
}

struct error *
virt_driver_unpause(struct virt_driver *driver, const char *uuid)
{
    return virt_driver_dispatch(driver, uuid, driver->class->unpause,
                                "unpause");
}

struct error *
virt_driver_suspend(struct virt_driver *driver, const char *uuid)
{
    return virt_driver_dispatch(driver, uuid, driver->class->suspend,
                                "suspend");
}

struct error *
virt_driver_resume(struct virt_driver *driver, const char *uuid)
{
    return virt_driver_dispatch(driver, uuid, driver->class->resume,
                                "resume");
}

struct error *
virt_driver_init_host(struct virt_driver *driver)
{
    if (!driver->class->init_host) {
        return NULL;
    }
    return driver->class->init_host(driver);
}

struct error *
virt_driver_spawn(struct virt_driver *driver,
                  const struct virt_instance_spec *spec)
{
    if (!driver->class->spawn) {
        return virt_driver_unsupported(driver, "spawn");
    }
    return driver->class->spawn(driver, spec);
}

struct error *
virt_driver_reboot(struct virt_driver *driver, const char *uuid,
                   enum virt_reboot_type type,
                   enum virt_reboot_type *ret_performed)
{
    struct error *error = virt_driver_check_uuid(uuid);

    if (error) {
        return error;
    }
    if (type != VIRT_REBOOT_SOFT && type != VIRT_REBOOT_HARD) {
        return error_new(ERROR_INVALID, "Invalid reboot type %d",
                         (int) type);
    }
    if (!driver->class->reboot) {
        return virt_driver_unsupported(driver, "reboot");
    }
    return driver->class->reboot(driver, uuid, type, ret_performed);
}

struct error *
virt_driver_power_off(struct virt_driver *driver, const char *uuid,
                      unsigned int timeout_ms)
{
    struct error *error = virt_driver_check_uuid(uuid);

    if (error) {
        return error;
    }
    if (!driver->class->power_off) {
        return virt_driver_unsupported(driver, "power_off");
    }
    return driver->class->power_off(driver, uuid, timeout_ms);
}

struct error *
virt_driver_get_info(struct virt_driver *driver, const char *uuid,
                     struct virt_instance_info *ret_info)
{
    struct error *error = virt_driver_check_uuid(uuid);

    if (error) {
        return error;
    }
    if (!driver->class->get_info) {
        return virt_driver_unsupported(driver, "get_info");
    }
    return driver->class->get_info(driver, uuid, ret_info);
}

struct error *
virt_driver_list_instances(struct virt_driver *driver,
                           struct virt_instance_list **ret_list)
{
    if (!driver->class->list_instances) {
        return virt_driver_unsupported(driver, "list_instances");
    }
    return driver->class->list_instances(driver, ret_list);
}

struct error *
virt_driver_get_console_output(struct virt_driver *driver, const char *uuid,
                               size_t max_size, char **ret_output,
                               size_t *ret_size)
{
    struct error *error = virt_driver_check_uuid(uuid);

    if (error) {
        return error;
    }
    if (!driver->class->get_console_output) {
        return virt_driver_unsupported(driver, "get_console_output");
    }
    if (max_size > VIRT_CONSOLE_OUTPUT_MAX_SIZE) {
        max_size = VIRT_CONSOLE_OUTPUT_MAX_SIZE;
    }
    return driver->class->get_console_output(driver, uuid, max_size,
                                             ret_output, ret_size);
}

struct error *
virt_driver_get_available_resource(struct virt_driver *driver,
                                   struct virt_inventory **ret_inventory)
{
    if (!driver->class->get_available_resource) {
        return virt_driver_unsupported(driver, "get_available_resource");
    }
    return driver->class->get_available_resource(driver, ret_inventory);
}

struct error *
virt_driver_set_event_callback(struct virt_driver *driver,
                               virt_event_func *cb, void *aux)
{
    if (!driver->class->set_event_callback) {
        return virt_driver_unsupported(driver, "set_event_callback");
    }
    return driver->class->set_event_callback(driver, cb, aux);
}
