/* virt-spec-json.h: an instance spec in JSON.
 *
 * The form in which a build request carries what to build to nova-compute
 * (and the input format of the domain XML golden tests):
 *
 *     {"uuid": "...", "name": "instance-0000002a", "display_name": "web-1",
 *      "created_at": "2024-05-01 12:00:00", "domain_type": "qemu",
 *      "arch": "x86_64", "machine": "pc",
 *      "flavor": {"name": "m1.tiny", "vcpus": 1, "memory_mb": 128,
 *                 "root_gb": 1, "ephemeral_gb": 0, "swap_mb": 0},
 *      "image": {"kernel": "/...", "initrd": "/...", "cmdline": "...",
 *                "disk": "/...", "disk_format": "qcow2"},
 *      "owner": {"user_id": "...", "user_name": "...",
 *                "project_id": "...", "project_name": "..."},
 *      "serial_log": "/.../console.log",
 *      "vnc": {"listen": "127.0.0.1", "port": 5901}}
 *
 * "uuid", "name", "domain_type" and "flavor" (with "name", "vcpus",
 * "memory_mb") are required, everything else optional; unknown keys are
 * rejected.  Decoding checks keys and types only: the values are checked by
 * virt_domain_xml_validate() when the domain is built. */
#ifndef NOVA_VIRT_SPEC_JSON_H
#define NOVA_VIRT_SPEC_JSON_H 1

#include "shared/compiler.h"

struct error;
struct json_object;
struct virt_instance_spec;

/* Decodes 'obj' into '*ret_spec'.  The strings of the spec are borrowed
 * from 'obj', which must outlive it.  ERROR_INVALID names the bad field. */
struct error *virt_spec_json_decode(const struct json_object *obj,
                                    struct virt_instance_spec *ret_spec)
    WARN_UNUSED;

/* Encodes 'spec' as above (absent optional fields are left out).  Returns a
 * new reference owned by the caller. */
struct json_object *virt_spec_json_encode(
    const struct virt_instance_spec *spec);

#endif /* NOVA_VIRT_SPEC_JSON_H */
