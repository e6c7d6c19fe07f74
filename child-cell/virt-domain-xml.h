/* virt-domain-xml.h: the libvirt domain XML of an instance.
 *
 * virt_domain_xml_build() turns a 'struct virt_instance_spec' into the XML
 * that virt-libvirt.c defines: a TCG/KVM guest booted from a kernel (and
 * initrd) or a disk, with a serial console logged to a file, a VNC screen
 * on a local address and Nova's <metadata> (nova:name, nova:flavor,
 * nova:owner under Nova's 1.1 namespace), so tools that read Nova's domain
 * metadata work unchanged.  The same XML with type='test' is accepted by
 * libvirt's test driver, which simulated hosts use.
 *
 * Every value that comes from a user or an operator (names, paths, the
 * kernel command line, owner names) is checked first and escaped when
 * written; numbers are written by the builder itself.  The output is
 * deterministic, so tests compare it with golden files. */
#ifndef NOVA_VIRT_DOMAIN_XML_H
#define NOVA_VIRT_DOMAIN_XML_H 1

#include "shared/compiler.h"

struct error;
struct virt_instance_spec;

/* Limits of a spec, in characters. */
#define VIRT_DOMAIN_NAME_MAX_LENGTH 255     /* Domain and server names. */
#define VIRT_LABEL_MAX_LENGTH 255           /* Flavor and owner names, ids. */
#define VIRT_CMDLINE_MAX_LENGTH 2048        /* x86 COMMAND_LINE_SIZE. */
#define VIRT_PATH_MAX_LENGTH 4095
#define VIRT_TOKEN_MAX_LENGTH 64            /* arch, machine, created_at */

/* Limits of a flavor. */
#define VIRT_VCPUS_MAX 1024u
#define VIRT_MEMORY_MB_MAX (16u * 1024 * 1024)     /* 16 TiB */

/* An explicit VNC port must be in this range (libvirt's VNC ports). */
#define VIRT_VNC_PORT_MIN 5900u
#define VIRT_VNC_PORT_MAX 65535u

#define VIRT_DEFAULT_ARCH "x86_64"
#define VIRT_DEFAULT_VNC_LISTEN "127.0.0.1"
#define VIRT_DEFAULT_DISK_FORMAT "raw"

/* Nova's libvirt metadata namespace (prefix "nova"). */
#define VIRT_NOVA_XMLNS "http://openstack.org/xmlns/libvirt/nova/1.1"

/* Checks every field of 'spec' against the limits above.  Returns NULL if
 * it can be built, else an ERROR_INVALID error naming the field. */
struct error *virt_domain_xml_validate(const struct virt_instance_spec *spec)
    WARN_UNUSED;

/* Validates 'spec' and builds its domain XML into '*ret_xml' (owned by the
 * caller). */
struct error *virt_domain_xml_build(const struct virt_instance_spec *spec,
                                    char **ret_xml) WARN_UNUSED;

/* Returns 's' with &, <, >, ' and " replaced by XML entities, for text and
 * for attribute values in either quote.  The caller owns the result. */
char *virt_domain_xml_escape(const char *s);

#endif /* NOVA_VIRT_DOMAIN_XML_H */
