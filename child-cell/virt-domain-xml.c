/* virt-domain-xml.c: an instance spec as libvirt domain XML (see
 * virt-domain-xml.h).
 *
 * The layout follows the TCG guest that boots on the project machines
 * (RECIPES.md, section 4): kernel/initrd/cmdline or disk boot, ACPI, UTC
 * clock, destroy on power off and crash, restart on reboot, a serial pty
 * whose output also goes to a log file, the console on that serial port, a
 * VNC screen, a VGA card and no balloon.  Nova's metadata sits in
 * <metadata> under Nova's namespace, in the shape Nova writes it
 * (nova/virt/libvirt/config.py, LibvirtConfigGuestMetaNova*).
 *
 * Validation comes first and rejects what escaping cannot make safe: text
 * that is not UTF-8 or holds control characters (XML 1.0 cannot carry most
 * of them), relative paths, '/' in a domain name (libvirt refuses it).  What
 * remains is written through virt_domain_xml_escape(), whatever its
 * content; XML special characters in names are fine. */
#include <config.h>
#include "child-cell/virt-domain-xml.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child-cell/virt-driver.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* The guest's video RAM in KiB and its heads, as RECIPES.md's guest. */
#define VIRT_VIDEO_VRAM_KB 16384
#define VIRT_VIDEO_HEADS 1

/* Room for an IPv6 address in text form with its NUL. */
#define VIRT_ADDRESS_BUFFER_SIZE 16

/* True if the optional string 's' is given: NULL and "" mean absent. */
static bool
has(const char *s)
{
    return s && *s;
}

/* A growing string; allocation cannot fail (xalloc.h). */
struct xml_buf {
    char *data;
    size_t size;                /* Bytes used, without the NUL. */
    size_t allocated;
};

static void
xml_buf_reserve(struct xml_buf *buf, size_t n)
{
    if (buf->size + n + 1 > buf->allocated) {
        size_t want = buf->size + n + 1;
        size_t allocated = buf->allocated ? buf->allocated : 1024;

        while (allocated < want) {
            allocated *= 2;
        }
        buf->data = xrealloc(buf->data, allocated);
        buf->allocated = allocated;
        buf->data[buf->size] = '\0';
    }
}

static void
xml_buf_put_n(struct xml_buf *buf, const char *s, size_t n)
{
    xml_buf_reserve(buf, n);
    memcpy(buf->data + buf->size, s, n);
    buf->size += n;
    buf->data[buf->size] = '\0';
}

static void
xml_buf_put(struct xml_buf *buf, const char *s)
{
    xml_buf_put_n(buf, s, strlen(s));
}

/* Appends formatted text.  Only for our own literals and numbers: values
 * from a spec go through xml_buf_put_escaped(). */
static void PRINTF_FMT(2, 3)
xml_buf_printf(struct xml_buf *buf, const char *fmt, ...)
{
    AUTOFREE char *s = NULL;
    va_list args;

    va_start(args, fmt);
    s = xvasprintf(fmt, args);
    va_end(args);
    xml_buf_put(buf, s);
}

static void
xml_buf_put_escaped(struct xml_buf *buf, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            xml_buf_put(buf, "&amp;");
            break;
        case '<':
            xml_buf_put(buf, "&lt;");
            break;
        case '>':
            xml_buf_put(buf, "&gt;");
            break;
        case '\'':
            xml_buf_put(buf, "&apos;");
            break;
        case '"':
            xml_buf_put(buf, "&quot;");
            break;
        default:
            xml_buf_put_n(buf, p, 1);
            break;
        }
    }
}

/* Appends "<indent><tag>escaped value</tag>\n". */
static void
xml_buf_put_element(struct xml_buf *buf, const char *indent,
                    const char *tag, const char *value)
{
    xml_buf_printf(buf, "%s<%s>", indent, tag);
    xml_buf_put_escaped(buf, value);
    xml_buf_printf(buf, "</%s>\n", tag);
}

/* Appends the <uuid> element with 'uuid' (already validated) in lowercase,
 * the form libvirt reports and Nova stores. */
static void
xml_buf_put_uuid(struct xml_buf *buf, const char *uuid)
{
    char lower[UUID_STRING_SIZE];

    for (size_t i = 0; i < UUID_STRING_SIZE; i++) {
        lower[i] = (char) tolower((unsigned char) uuid[i]);
    }
    xml_buf_printf(buf, "  <uuid>%s</uuid>\n", lower);
}

char *
virt_domain_xml_escape(const char *s)
{
    struct xml_buf buf = { NULL, 0, 0 };

    xml_buf_reserve(&buf, strlen(s));
    xml_buf_put_escaped(&buf, s);
    return buf.data;
}

/* Returns the number of characters of 'value' if it is well-formed UTF-8
 * without control characters, else -1.  Overlong forms, surrogates and
 * code points past U+10FFFF count as malformed. */
static long
virt_domain_xml_text_length(const char *value)
{
    const unsigned char *p = (const unsigned char *) value;
    long length = 0;

    while (*p) {
        unsigned int c = *p;
        unsigned int code_point;
        int n_continuation;

        if (c < 0x20 || c == 0x7f) {
            return -1;
        } else if (c < 0x80) {
            p++;
            length++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            code_point = c & 0x1f;
            n_continuation = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            code_point = c & 0x0f;
            n_continuation = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            code_point = c & 0x07;
            n_continuation = 3;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < n_continuation; i++, p++) {
            if ((*p & 0xc0) != 0x80) {
                return -1;
            }
            code_point = (code_point << 6) | (*p & 0x3f);
        }
        if ((n_continuation == 2 && code_point < 0x800)
            || (n_continuation == 3
                && (code_point < 0x10000 || code_point > 0x10ffff))
            || (code_point >= 0xd800 && code_point <= 0xdfff)
            || (code_point >= 0x80 && code_point <= 0x9f)) {
            return -1;
        }
        length++;
    }
    return length;
}

/* Checks a text field 'what' of instance 'uuid': present when 'required',
 * printable UTF-8 of at most 'max_length' characters. */
static struct error *
virt_domain_xml_check_text(const char *uuid, const char *what,
                           const char *value, bool required,
                           long max_length)
{
    long length;

    if (!has(value)) {
        if (required) {
            return error_new(ERROR_INVALID, "Instance '%s' has no %s",
                             uuid, what);
        }
        return NULL;
    }
    length = virt_domain_xml_text_length(value);
    if (length < 0) {
        return error_new(ERROR_INVALID,
                         "The %s of instance '%s' is not printable UTF-8 "
                         "text", what, uuid);
    }
    if (length > max_length) {
        return error_new(ERROR_INVALID,
                         "The %s of instance '%s' is too long (%ld "
                         "characters, at most %ld)", what, uuid, length,
                         max_length);
    }
    return NULL;
}

static struct error *
virt_domain_xml_check_path(const char *uuid, const char *what,
                           const char *path, bool required)
{
    struct error *error = virt_domain_xml_check_text(uuid, what, path,
                                                     required,
                                                     VIRT_PATH_MAX_LENGTH);

    if (!error && has(path) && path[0] != '/') {
        error = error_new(ERROR_INVALID,
                          "The %s '%s' of instance '%s' is not an absolute "
                          "path", what, path, uuid);
    }
    return error;
}

/* Checks a token made of letters, digits and 'extra' characters. */
static struct error *
virt_domain_xml_check_token(const char *uuid, const char *what,
                            const char *value, const char *extra)
{
    size_t length = strlen(value);

    if (!length || length > VIRT_TOKEN_MAX_LENGTH) {
        return error_new(ERROR_INVALID,
                         "The %s of instance '%s' must have 1 to %d "
                         "characters", what, uuid, VIRT_TOKEN_MAX_LENGTH);
    }
    for (const char *p = value; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || strchr(extra, *p);

        if (!ok) {
            return error_new(ERROR_INVALID,
                             "The %s of instance '%s' may only hold "
                             "letters, digits and '%s'", what, uuid, extra);
        }
    }
    return NULL;
}

static struct error *
virt_domain_xml_check_flavor(const char *uuid,
                             const struct virt_flavor *flavor)
{
    struct error *error = virt_domain_xml_check_text(uuid, "flavor name",
                                                     flavor->name, true,
                                                     VIRT_LABEL_MAX_LENGTH);

    if (error) {
        return error;
    }
    if (!flavor->memory_mb) {
        return error_new(ERROR_INVALID,
                         "Instance '%s' has no memory: flavor '%s' gives "
                         "0 MB", uuid, flavor->name);
    }
    if (flavor->memory_mb > VIRT_MEMORY_MB_MAX) {
        return error_new(ERROR_INVALID,
                         "Flavor '%s' of instance '%s' asks for %u MB of "
                         "memory, more than %u MB", flavor->name, uuid,
                         flavor->memory_mb, VIRT_MEMORY_MB_MAX);
    }
    if (!flavor->vcpus || flavor->vcpus > VIRT_VCPUS_MAX) {
        return error_new(ERROR_INVALID,
                         "Flavor '%s' of instance '%s' asks for %u vCPUs, "
                         "not 1 to %u", flavor->name, uuid, flavor->vcpus,
                         VIRT_VCPUS_MAX);
    }
    return NULL;
}

static struct error *
virt_domain_xml_check_image(const char *uuid, const struct virt_image *image)
{
    struct error *error;

    if (!has(image->kernel_path) && !has(image->disk_path)) {
        return error_new(ERROR_INVALID,
                         "Instance '%s' has no boot source: neither a "
                         "kernel nor a disk image is given", uuid);
    }
    if ((error = virt_domain_xml_check_path(uuid, "kernel",
                                            image->kernel_path, false))
        || (error = virt_domain_xml_check_path(uuid, "initrd",
                                               image->initrd_path, false))
        || (error = virt_domain_xml_check_path(uuid, "disk image",
                                               image->disk_path, false))
        || (error = virt_domain_xml_check_text(uuid, "kernel command line",
                                               image->cmdline, false,
                                               VIRT_CMDLINE_MAX_LENGTH))) {
        return error;
    }
    if ((has(image->initrd_path) || has(image->cmdline))
        && !has(image->kernel_path)) {
        return error_new(ERROR_INVALID,
                         "Instance '%s' has an initrd or a kernel command "
                         "line but no kernel", uuid);
    }
    if (has(image->disk_format)
        && (error = virt_domain_xml_check_text(uuid, "disk format",
                                               image->disk_format, true,
                                               VIRT_TOKEN_MAX_LENGTH))) {
        return error;
    }
    if (has(image->disk_format) && strcmp(image->disk_format, "raw")
        && strcmp(image->disk_format, "qcow2")) {
        return error_new(ERROR_INVALID,
                         "Unknown disk format '%s' for instance '%s' "
                         "(expected raw or qcow2)", image->disk_format, uuid);
    }
    return NULL;
}

static struct error *
virt_domain_xml_check_owner(const char *uuid, const struct virt_owner *owner)
{
    static const struct {
        const char *what;
        size_t offset;
    } fields[] = {
        { "user id", offsetof(struct virt_owner, user_id) },
        { "user name", offsetof(struct virt_owner, user_name) },
        { "project id", offsetof(struct virt_owner, project_id) },
        { "project name", offsetof(struct virt_owner, project_name) },
    };

    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const char *value =
            *(const char *const *) ((const char *) owner + fields[i].offset);
        struct error *error = virt_domain_xml_check_text(
            uuid, fields[i].what, value, false, VIRT_LABEL_MAX_LENGTH);

        if (error) {
            return error;
        }
    }
    return NULL;
}

static struct error *
virt_domain_xml_check_vnc(const char *uuid,
                          const struct virt_instance_spec *spec)
{
    unsigned char address[VIRT_ADDRESS_BUFFER_SIZE];

    if (has(spec->vnc_listen)
        && inet_pton(AF_INET, spec->vnc_listen, address) != 1
        && inet_pton(AF_INET6, spec->vnc_listen, address) != 1) {
        /* Not echoed: it may not be printable. */
        return error_new(ERROR_INVALID,
                         "The VNC listen address of instance '%s' is not "
                         "an IP address", uuid);
    }
    if (spec->vnc_port
        && (spec->vnc_port < VIRT_VNC_PORT_MIN
            || spec->vnc_port > VIRT_VNC_PORT_MAX)) {
        return error_new(ERROR_INVALID,
                         "VNC port %u of instance '%s' is not in %u-%u",
                         spec->vnc_port, uuid, VIRT_VNC_PORT_MIN,
                         VIRT_VNC_PORT_MAX);
    }
    return NULL;
}

struct error *
virt_domain_xml_validate(const struct virt_instance_spec *spec)
{
    const char *uuid = spec->uuid;
    struct error *error;

    if (!uuid_is_valid(uuid)) {
        return virt_driver_invalid_uuid_error(uuid);
    }
    if ((error = virt_domain_xml_check_text(uuid, "name", spec->name, true,
                                            VIRT_DOMAIN_NAME_MAX_LENGTH))) {
        return error;
    }
    if (strchr(spec->name, '/')) {
        return error_new(ERROR_INVALID,
                         "The name '%s' of instance '%s' contains '/'",
                         spec->name, uuid);
    }
    if (!virt_domain_type_to_string(spec->domain_type)) {
        return error_new(ERROR_INVALID,
                         "Unknown domain type %d for instance '%s' "
                         "(expected qemu, kvm or test)",
                         (int) spec->domain_type, uuid);
    }
    if ((error = virt_domain_xml_check_text(uuid, "display name",
                                            spec->display_name, false,
                                            VIRT_DOMAIN_NAME_MAX_LENGTH))
        || (error = virt_domain_xml_check_text(uuid, "creation time",
                                               spec->created_at, false,
                                               VIRT_TOKEN_MAX_LENGTH))
        || (error = virt_domain_xml_check_flavor(uuid, &spec->flavor))
        || (error = virt_domain_xml_check_image(uuid, &spec->image))
        || (error = virt_domain_xml_check_owner(uuid, &spec->owner))
        || (error = virt_domain_xml_check_path(uuid, "serial log",
                                               spec->serial_log_path,
                                               false))
        || (error = virt_domain_xml_check_vnc(uuid, spec))
        || (spec->arch
            && (error = virt_domain_xml_check_token(uuid, "architecture",
                                                    spec->arch, "_")))
        || (spec->machine
            && (error = virt_domain_xml_check_token(uuid, "machine type",
                                                    spec->machine,
                                                    "._-")))) {
        return error;
    }
    return NULL;
}

/* Writes <nova:user> or <nova:project> if either its id or name is set. */
static void
virt_domain_xml_put_owner_item(struct xml_buf *buf, const char *tag,
                               const char *id, const char *name)
{
    xml_buf_printf(buf, "        <nova:%s", tag);
    if (has(id)) {
        xml_buf_put(buf, " uuid='");
        xml_buf_put_escaped(buf, id);
        xml_buf_put(buf, "'");
    }
    xml_buf_put(buf, ">");
    xml_buf_put_escaped(buf, has(name) ? name : "");
    xml_buf_printf(buf, "</nova:%s>\n", tag);
}

static void
virt_domain_xml_put_metadata(struct xml_buf *buf,
                             const struct virt_instance_spec *spec)
{
    const struct virt_flavor *flavor = &spec->flavor;
    const struct virt_owner *owner = &spec->owner;
    bool has_user = has(owner->user_id) || has(owner->user_name);
    bool has_project = has(owner->project_id) || has(owner->project_name);

    xml_buf_put(buf, "  <metadata>\n"
                "    <nova:instance xmlns:nova='" VIRT_NOVA_XMLNS "'>\n");
    xml_buf_put_element(buf, "      ", "nova:name",
                        has(spec->display_name) ? spec->display_name
                                                : spec->name);
    if (has(spec->created_at)) {
        xml_buf_put_element(buf, "      ",
                            "nova:creationTime",
                            spec->created_at);
    }
    xml_buf_put(buf, "      <nova:flavor name='");
    xml_buf_put_escaped(buf, flavor->name);
    xml_buf_put(buf, "'>\n");
    xml_buf_printf(buf,
                   "        <nova:memory>%u</nova:memory>\n"
                   "        <nova:disk>%u</nova:disk>\n"
                   "        <nova:swap>%u</nova:swap>\n"
                   "        <nova:ephemeral>%u</nova:ephemeral>\n"
                   "        <nova:vcpus>%u</nova:vcpus>\n",
                   flavor->memory_mb, flavor->root_gb, flavor->swap_mb,
                   flavor->ephemeral_gb, flavor->vcpus);
    xml_buf_put(buf, "      </nova:flavor>\n");
    if (has_user || has_project) {
        xml_buf_put(buf, "      <nova:owner>\n");
        if (has_user) {
            virt_domain_xml_put_owner_item(buf, "user", owner->user_id,
                                           owner->user_name);
        }
        if (has_project) {
            virt_domain_xml_put_owner_item(buf, "project",
                                           owner->project_id,
                                           owner->project_name);
        }
        xml_buf_put(buf, "      </nova:owner>\n");
    }
    xml_buf_put(buf, "    </nova:instance>\n"
                "  </metadata>\n");
}

static void
virt_domain_xml_put_os(struct xml_buf *buf,
                       const struct virt_instance_spec *spec)
{
    const struct virt_image *image = &spec->image;

    xml_buf_put(buf, "  <os>\n    <type arch='");
    xml_buf_put_escaped(buf, has(spec->arch) ? spec->arch
                                             : VIRT_DEFAULT_ARCH);
    if (has(spec->machine)) {
        xml_buf_put(buf, "' machine='");
        xml_buf_put_escaped(buf, spec->machine);
    }
    xml_buf_put(buf, "'>hvm</type>\n");
    if (has(image->kernel_path)) {
        xml_buf_put_element(buf, "    ", "kernel", image->kernel_path);
        if (has(image->initrd_path)) {
            xml_buf_put_element(buf, "    ", "initrd", image->initrd_path);
        }
        if (has(image->cmdline)) {
            xml_buf_put_element(buf, "    ", "cmdline", image->cmdline);
        }
    } else {
        xml_buf_put(buf, "    <boot dev='hd'/>\n");
    }
    xml_buf_put(buf, "  </os>\n");
}

static void
virt_domain_xml_put_devices(struct xml_buf *buf,
                            const struct virt_instance_spec *spec)
{
    const struct virt_image *image = &spec->image;
    const char *listen = has(spec->vnc_listen) ? spec->vnc_listen
                                               : VIRT_DEFAULT_VNC_LISTEN;

    xml_buf_put(buf, "  <devices>\n");
    if (has(image->disk_path)) {
        xml_buf_put(buf, "    <disk type='file' device='disk'>\n"
                    "      <driver name='qemu' type='");
        xml_buf_put_escaped(buf, has(image->disk_format)
                                 ? image->disk_format
                                 : VIRT_DEFAULT_DISK_FORMAT);
        xml_buf_put(buf, "'/>\n      <source file='");
        xml_buf_put_escaped(buf, image->disk_path);
        /* On a real hypervisor this is the instance's own qcow2 overlay
         * on the cached image (child-cell/compute-image-cache.h), so the
         * guest writes only to its own file and the root disk survives a
         * stop or a hard reboot. */
        xml_buf_put(buf, "'/>\n"
                    "      <target dev='vda' bus='virtio'/>\n"
                    "    </disk>\n");
    }

    xml_buf_put(buf, "    <serial type='pty'>\n");
    if (has(spec->serial_log_path)) {
        xml_buf_put(buf, "      <log file='");
        xml_buf_put_escaped(buf, spec->serial_log_path);
        xml_buf_put(buf, "' append='off'/>\n");
    }
    xml_buf_put(buf, "      <target port='0'/>\n"
                "    </serial>\n"
                "    <console type='pty'>\n"
                "      <target type='serial' port='0'/>\n"
                "    </console>\n");

    if (spec->vnc_port) {
        xml_buf_printf(buf, "    <graphics type='vnc' port='%u' "
                       "autoport='no' listen='", spec->vnc_port);
    } else {
        xml_buf_put(buf, "    <graphics type='vnc' autoport='yes' listen='");
    }
    xml_buf_put_escaped(buf, listen);
    xml_buf_put(buf, "'>\n      <listen type='address' address='");
    xml_buf_put_escaped(buf, listen);
    xml_buf_put(buf, "'/>\n    </graphics>\n");

    xml_buf_printf(buf, "    <video>\n"
                   "      <model type='vga' vram='%d' heads='%d'/>\n"
                   "    </video>\n", VIRT_VIDEO_VRAM_KB, VIRT_VIDEO_HEADS);
    xml_buf_put(buf, "    <memballoon model='none'/>\n"
                "  </devices>\n");
}

struct error *
virt_domain_xml_build(const struct virt_instance_spec *spec, char **ret_xml)
{
    struct xml_buf buf = { NULL, 0, 0 };
    unsigned long long memory_kb;
    struct error *error = virt_domain_xml_validate(spec);

    if (error) {
        return error;
    }
    memory_kb = (unsigned long long) spec->flavor.memory_mb * 1024;

    xml_buf_printf(&buf, "<domain type='%s'>\n",
                   virt_domain_type_to_string(spec->domain_type));
    xml_buf_put_element(&buf, "  ", "name", spec->name);
    xml_buf_put_uuid(&buf, spec->uuid);
    virt_domain_xml_put_metadata(&buf, spec);
    xml_buf_printf(&buf,
                   "  <memory unit='KiB'>%llu</memory>\n"
                   "  <currentMemory unit='KiB'>%llu</currentMemory>\n"
                   "  <vcpu>%u</vcpu>\n",
                   memory_kb, memory_kb, spec->flavor.vcpus);
    virt_domain_xml_put_os(&buf, spec);
    xml_buf_put(&buf, "  <features>\n"
                "    <acpi/>\n"
                "  </features>\n"
                "  <clock offset='utc'/>\n"
                "  <on_poweroff>destroy</on_poweroff>\n"
                "  <on_reboot>restart</on_reboot>\n"
                "  <on_crash>destroy</on_crash>\n");
    virt_domain_xml_put_devices(&buf, spec);
    xml_buf_put(&buf, "</domain>\n");

    *ret_xml = buf.data;
    return NULL;
}
