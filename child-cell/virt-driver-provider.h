/* virt-driver-provider.h: what a hypervisor driver implements.
 *
 * Callers use virt-driver.h only; an implementation embeds 'struct
 * virt_driver' as the first member of its own state and points it at a
 * constant 'struct virt_driver_class' whose members implement the
 * operations with the semantics documented in virt-driver.h.  The public
 * virt_driver_*() functions check arguments that every implementation would
 * check (uuid syntax) before dispatching, so implementations may rely on a
 * well-formed uuid.  A member left NULL makes the operation fail with
 * "... is not supported by the '<name>' driver". */
#ifndef NOVA_VIRT_DRIVER_PROVIDER_H
#define NOVA_VIRT_DRIVER_PROVIDER_H 1

#include "child-cell/virt-driver.h"

typedef void virt_driver_free_func(struct virt_driver *);
typedef struct error *virt_driver_host_func(struct virt_driver *);
typedef struct error *virt_driver_spawn_func(
    struct virt_driver *, const struct virt_instance_spec *);
typedef struct error *virt_driver_instance_func(struct virt_driver *,
                                                const char *uuid);
typedef struct error *virt_driver_reboot_func(
    struct virt_driver *, const char *uuid, enum virt_reboot_type,
    enum virt_reboot_type *ret_performed);
typedef struct error *virt_driver_power_off_func(struct virt_driver *,
                                                 const char *uuid,
                                                 unsigned int timeout_ms);
typedef struct error *virt_driver_get_info_func(
    struct virt_driver *, const char *uuid, struct virt_instance_info *);
typedef struct error *virt_driver_list_func(struct virt_driver *,
                                            struct virt_instance_list **);
typedef struct error *virt_driver_console_func(struct virt_driver *,
                                               const char *uuid,
                                               size_t max_size,
                                               char **ret_output,
                                               size_t *ret_size);
typedef struct error *virt_driver_resource_func(struct virt_driver *,
                                                struct virt_inventory **);
typedef struct error *virt_driver_event_func(struct virt_driver *,
                                             virt_event_func *cb, void *aux);

struct virt_driver_class {
    const char *name;

    virt_driver_free_func *free;
    virt_driver_host_func *init_host;
    virt_driver_spawn_func *spawn;
    virt_driver_instance_func *destroy;
    virt_driver_reboot_func *reboot;
    virt_driver_power_off_func *power_off;
    virt_driver_instance_func *power_on;
    virt_driver_instance_func *pause;
    virt_driver_instance_func *unpause;
    virt_driver_instance_func *suspend;
    virt_driver_instance_func *resume;
    virt_driver_get_info_func *get_info;
    virt_driver_list_func *list_instances;
    virt_driver_console_func *get_console_output;
    virt_driver_resource_func *get_available_resource;
    virt_driver_event_func *set_event_callback;
};

/* The common part of every driver; embedded first in the implementation's
 * state so that a 'struct virt_driver *' converts to it. */
struct virt_driver {
    const struct virt_driver_class *class;
};

#endif /* NOVA_VIRT_DRIVER_PROVIDER_H */
