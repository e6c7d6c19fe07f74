/* test-instance.c: the instance object, its states, its JSON form and the
 * API status mapping. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

#define UUID_A "9f3c1d8e-2b4a-4c6d-8e0f-1a2b3c4d5e6f"

/* A full INSTANCE in the exact form instance_to_json() writes. */
static const char full_json[] =
    "{\"uuid\":\"" UUID_A "\",\"display_name\":\"web-1 \xc3\xa9t\xc3\xa9\","
    "\"project_id\":\"p1\",\"user_id\":\"u1\",\"host\":\"cmp1\","
    "\"node\":\"cmp1.example\","
    "\"flavor\":{\"flavorid\":\"2\",\"name\":\"m1.small\",\"vcpus\":1,"
    "\"memory_mb\":2048,\"root_gb\":20,\"ephemeral_gb\":0,\"swap\":512,"
    "\"extra_specs\":{\"hw:mem_page_size\":\"large\"}},"
    "\"image_ref\":\"img-1\","
    "\"image\":{\"id\":\"img-1\",\"properties\":{\"architecture\":"
    "\"x86_64\",\"hypervisor_type\":\"qemu\"},\"kernel\":\"/boot/vmlinuz\","
    "\"initrd\":\"/boot/initrd\",\"cmdline\":\"console=ttyS0 root=/dev/vda\","
    "\"disk\":\"/var/lib/images/a.qcow2\",\"disk_format\":\"qcow2\"},"
    "\"key_name\":\"k1\",\"key_data\":\"ssh-ed25519 AAAA test\","
    "\"metadata\":{\"env\":\"prod\",\"role\":\"web\"},"
    "\"availability_zone\":\"az1\",\"vm_state\":\"active\","
    "\"task_state\":\"reboot_pending_hard\",\"power_state\":1,"
    "\"launched_at\":\"2024-05-01T12:00:01.250000\","
    "\"terminated_at\":null,"
    "\"created_at\":\"2024-05-01T12:00:00.000000\","
    "\"updated_at\":\"2024-05-01T12:00:02.999000\","
    "\"locked\":true,\"update_seq\":9007199254740992}";

static const char minimal_json[] =
    "{\"uuid\": \"" UUID_A "\", \"project_id\": \"p\", \"user_id\": \"u\","
    " \"vm_state\": \"building\", \"flavor\": {\"flavorid\": \"1\","
    " \"name\": \"t\", \"vcpus\": 1, \"memory_mb\": 64, \"root_gb\": 0}}";

static struct json_object *
parse(const char *text)
{
    struct json_object *doc = NULL;
    struct error *error = json_parse_text(text, strlen(text), 0, 0, &doc);

    if (error) {
        fail_msg("%s: %s", text, error_message(error));
    }
    return doc;
}

static struct instance *
decode(const char *text)
{
    CLEANUP(json_putp) struct json_object *doc = parse(text);
    struct instance *inst = NULL;
    struct error *error = instance_from_json(doc, NULL, &inst);

    if (error) {
        fail_msg("%s", error_message(error));
    }
    return inst;
}

/* ---- JSON ------------------------------------------------------------- */

static void
test_round_trip_full(void **state)
{
    CLEANUP(instance_freep) struct instance *inst = decode(full_json);
    CLEANUP(instance_freep) struct instance *again = NULL;
    CLEANUP(instance_freep) struct instance *copy = NULL;
    CLEANUP(json_putp) struct json_object *json = NULL;
    AUTOFREE char *text = NULL;
    int64_t ms;

    (void) state;
    assert_string_equal(inst->uuid, UUID_A);
    assert_string_equal(inst->display_name, "web-1 \xc3\xa9t\xc3\xa9");
    assert_string_equal(inst->host, "cmp1");
    assert_string_equal(inst->node, "cmp1.example");
    assert_int_equal(inst->flavor->memory_mb, 2048);
    assert_int_equal(inst->flavor->swap, 512);
    assert_string_equal(inst->image->disk, "/var/lib/images/a.qcow2");
    assert_string_equal(instance_image_get_property(inst->image,
                                                    "architecture"),
                        "x86_64");
    assert_string_equal(instance_get_metadata(inst, "role"), "web");
    assert_int_equal(inst->vm_state, INSTANCE_VM_ACTIVE);
    assert_int_equal(inst->task_state, INSTANCE_TASK_REBOOT_PENDING_HARD);
    assert_int_equal(inst->power_state, INSTANCE_POWER_RUNNING);
    assert_int_equal(time_parse_iso8601("2024-05-01T12:00:01.25Z", &ms), 0);
    assert_int_equal(inst->launched_at, ms);
    assert_int_equal(inst->terminated_at, INSTANCE_TIME_NONE);
    assert_true(inst->locked);
    assert_int_equal(inst->update_seq, INSTANCE_MAX_UPDATE_SEQ);

    /* Encoding gives back exactly the input, and decodes to an equal
     * object. */
    json = instance_to_json(inst);
    text = json_to_string_plain(json);
    assert_string_equal(text, full_json);
    assert_null(instance_from_json(json, NULL, &again));
    assert_true(instance_equal(inst, again));

    copy = instance_clone(inst);
    assert_true(instance_equal(inst, copy));
    instance_image_set_property(copy->image, "hypervisor_type", NULL);
    assert_false(instance_equal(inst, copy));
    assert_null(instance_validate(inst, NULL));
}

static void
test_round_trip_minimal(void **state)
{
    CLEANUP(instance_freep) struct instance *inst = decode(minimal_json);
    CLEANUP(instance_freep) struct instance *again = NULL;
    CLEANUP(json_putp) struct json_object *json = NULL;
    AUTOFREE char *text = NULL;

    (void) state;
    assert_null(inst->display_name);
    assert_null(inst->host);
    assert_null(inst->image);
    assert_null(inst->image_ref);
    assert_int_equal(inst->n_metadata, 0);
    assert_int_equal(inst->task_state, INSTANCE_TASK_NONE);
    assert_int_equal(inst->power_state, INSTANCE_POWER_NOSTATE);
    assert_int_equal(inst->created_at, INSTANCE_TIME_NONE);
    assert_false(inst->locked);
    assert_int_equal(inst->update_seq, 0);

    json = instance_to_json(inst);
    text = json_to_string_plain(json);
    assert_string_equal(
        text,
        "{\"uuid\":\"" UUID_A "\",\"display_name\":null,\"project_id\":\"p\","
        "\"user_id\":\"u\",\"host\":null,\"node\":null,\"flavor\":"
        "{\"flavorid\":\"1\",\"name\":\"t\",\"vcpus\":1,\"memory_mb\":64,"
        "\"root_gb\":0,\"ephemeral_gb\":0,\"swap\":0,\"extra_specs\":{}},"
        "\"image_ref\":null,\"image\":null,\"key_name\":null,"
        "\"key_data\":null,\"metadata\":{},\"availability_zone\":null,"
        "\"vm_state\":\"building\",\"task_state\":null,\"power_state\":0,"
        "\"launched_at\":null,\"terminated_at\":null,\"created_at\":null,"
        "\"updated_at\":null,\"locked\":false,\"update_seq\":0}");
    assert_null(instance_from_json(json, NULL, &again));
    assert_true(instance_equal(inst, again));
}

static void
test_uuid_normalised(void **state)
{
    CLEANUP(instance_freep) struct instance *inst = decode(
        "{\"uuid\": \"9F3C1D8E-2B4A-4C6D-8E0F-1A2B3C4D5E6F\","
        " \"project_id\": \"p\", \"user_id\": \"u\","
        " \"vm_state\": \"error\", \"flavor\": {\"flavorid\": \"1\","
        " \"name\": \"t\", \"vcpus\": 1, \"memory_mb\": 64, \"root_gb\": 0},"
        " \"created_at\": \"2024-05-01T14:00:00+02:00\"}");
    int64_t ms;

    (void) state;
    assert_string_equal(inst->uuid, UUID_A);
    assert_int_equal(time_parse_iso8601("2024-05-01T12:00:00Z", &ms), 0);
    assert_int_equal(inst->created_at, ms);
}

/* Replaces the value of "KEY" in the minimal instance: each row of the
 * table below is the minimal instance with one member changed. */
#define MINIMAL_WITH(MEMBERS)                                           \
    "{\"uuid\": \"" UUID_A "\", \"project_id\": \"p\", \"user_id\": \"u\"," \
    " \"vm_state\": \"building\", \"flavor\": {\"flavorid\": \"1\","    \
    " \"name\": \"t\", \"vcpus\": 1, \"memory_mb\": 64, \"root_gb\": 0}," \
    MEMBERS "}"

static void
test_bad_json(void **state)
{
    /* Decoded at path "instances[0]": every message names the field. */
    static const struct {
        const char *json;
        const char *message;
    } cases[] = {
        { "\"x\"", "'instances[0]'. Value: \"x\". \"x\" is not of type "
          "'object'" },
        { "{\"project_id\": \"p\", \"user_id\": \"u\", \"vm_state\":"
          " \"active\", \"flavor\": {}}",
          "'instances[0].uuid' is a required property" },
        { MINIMAL_WITH("\"uuid\": \"not-a-uuid\""),
          "'instances[0].uuid'. Value: \"not-a-uuid\"" },
        { MINIMAL_WITH("\"uuid\": \"" UUID_A "0\""),
          "'instances[0].uuid'" },
        { "{\"uuid\": \"" UUID_A "\", \"user_id\": \"u\", \"vm_state\":"
          " \"active\", \"flavor\": {}}",
          "'instances[0].project_id' is a required property" },
        { MINIMAL_WITH("\"user_id\": \"\""),
          "'instances[0].user_id'. Value: \"\"" },
        { MINIMAL_WITH("\"user_id\": null"),
          "'instances[0].user_id'. Value: null" },
        { "{\"uuid\": \"" UUID_A "\", \"project_id\": \"p\","
          " \"user_id\": \"u\", \"vm_state\": \"active\"}",
          "'instances[0].flavor' is a required property" },
        { MINIMAL_WITH("\"flavor\": null"),
          "'instances[0].flavor'. Value: null" },
        { MINIMAL_WITH("\"flavor\": {\"flavorid\": \"1\", \"name\": \"t\","
                       " \"vcpus\": -1, \"memory_mb\": 64,"
                       " \"root_gb\": 0}"),
          "'instances[0].flavor.vcpus'. Value: -1" },
        { MINIMAL_WITH("\"vm_state\": \"running\""),
          "'instances[0].vm_state'. Value: \"running\". \"running\" is not "
          "a known vm_state" },
        { MINIMAL_WITH("\"vm_state\": \"ACTIVE\""),
          "'instances[0].vm_state'. Value: \"ACTIVE\"" },
        { MINIMAL_WITH("\"vm_state\": null"),
          "'instances[0].vm_state'. Value: null" },
        { MINIMAL_WITH("\"task_state\": \"none\""),
          "'instances[0].task_state'. Value: \"none\"" },
        { MINIMAL_WITH("\"task_state\": \"powering_off\""),
          "'instances[0].task_state'. Value: \"powering_off\"" },
        { MINIMAL_WITH("\"task_state\": 3"),
          "'instances[0].task_state'. Value: 3" },
        { MINIMAL_WITH("\"power_state\": 2"),
          "'instances[0].power_state'. Value: 2. 2 is not a known "
          "power_state" },
        { MINIMAL_WITH("\"power_state\": \"running\""),
          "'instances[0].power_state'. Value: \"running\"" },
        { MINIMAL_WITH("\"power_state\": null"),
          "'instances[0].power_state'. Value: null" },
        { MINIMAL_WITH("\"launched_at\": \"yesterday\""),
          "'instances[0].launched_at'. Value: \"yesterday\"" },
        { MINIMAL_WITH("\"created_at\": 1714564800"),
          "'instances[0].created_at'. Value: 1714564800" },
        { MINIMAL_WITH("\"locked\": \"true\""),
          "'instances[0].locked'. Value: \"true\"" },
        { MINIMAL_WITH("\"update_seq\": -1"),
          "'instances[0].update_seq'. Value: -1" },
        { MINIMAL_WITH("\"update_seq\": 9007199254740993"),
          "'instances[0].update_seq'. Value: 9007199254740993" },
        { MINIMAL_WITH("\"metadata\": {\"k\": 1}"),
          "'instances[0].metadata.k'. Value: 1" },
        { MINIMAL_WITH("\"metadata\": [\"k\"]"),
          "'instances[0].metadata'. Value: [\"k\"]" },
        { MINIMAL_WITH("\"metadata\": {\"\": \"v\"}"),
          "'instances[0].metadata.'. Key length 0" },
        { MINIMAL_WITH("\"image\": []"),
          "'instances[0].image'. Value: []" },
        { MINIMAL_WITH("\"image\": {\"kernel\": 5}"),
          "'instances[0].image.kernel'. Value: 5" },
        { MINIMAL_WITH("\"image\": {\"properties\": {\"a\": true}}"),
          "'instances[0].image.properties.a'. Value: true" },
        { MINIMAL_WITH("\"image\": {\"size\": 5}"),
          "'instances[0].image'. Value: {\"size\":5}. Additional "
          "properties are not allowed ('size' was unexpected)" },
        { MINIMAL_WITH("\"host\": 7"), "'instances[0].host'. Value: 7" },
        { MINIMAL_WITH("\"deleted\": false"),
          "Additional properties are not allowed ('deleted' was "
          "unexpected)" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *doc = parse(cases[i].json);
        struct instance *inst = NULL;
        CLEANUP(error_freep) struct error *error =
            instance_from_json(doc, "instances[0]", &inst);

        if (!error) {
            fail_msg("row %zu was accepted", i);
        }
        assert_null(inst);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), cases[i].message)) {
            fail_msg("row %zu: '%s' does not contain '%s'", i,
                     error_message(error), cases[i].message);
        }
    }
}

static void
test_limits(void **state)
{
    CLEANUP(instance_freep) struct instance *inst = decode(minimal_json);
    CLEANUP(json_putp) struct json_object *json = NULL;
    CLEANUP(error_freep) struct error *error = NULL;
    struct instance *decoded = NULL;
    AUTOFREE char *name = xmalloc(INSTANCE_NAME_MAX_LENGTH + 2);

    (void) state;
    for (int i = 0; i < INSTANCE_MAX_METADATA; i++) {
        AUTOFREE char *key = xasprintf("k%03d", i);
        instance_set_metadata(inst, key, "v");
    }
    /* 255 characters of two bytes each. */
    inst->display_name = xmalloc(2 * INSTANCE_NAME_MAX_LENGTH + 1);
    for (int i = 0; i < INSTANCE_NAME_MAX_LENGTH; i++) {
        memcpy(inst->display_name + 2 * i, "\xc3\xa9", 2);
    }
    inst->display_name[2 * INSTANCE_NAME_MAX_LENGTH] = '\0';
    assert_null(instance_validate(inst, NULL));
    json = instance_to_json(inst);
    assert_null(instance_from_json(json, NULL, &decoded));
    assert_true(instance_equal(inst, decoded));
    instance_free(TAKE_PTR(decoded));

    /* One metadata item too many. */
    instance_set_metadata(inst, "one-more", "v");
    error = instance_validate(inst, "inst");
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'inst.metadata'"));
    error_free(TAKE_PTR(error));
    json_putp(&json);
    json = instance_to_json(inst);
    error = instance_from_json(json, NULL, &decoded);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'metadata'"));
    error_free(TAKE_PTR(error));
    instance_set_metadata(inst, "one-more", NULL);

    /* A name one character too long. */
    memset(name, 'n', INSTANCE_NAME_MAX_LENGTH + 1);
    name[INSTANCE_NAME_MAX_LENGTH + 1] = '\0';
    free(inst->display_name);
    inst->display_name = xstrdup(name);
    error = instance_validate(inst, NULL);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'display_name'"));
    error_free(TAKE_PTR(error));
    json_putp(&json);
    json = instance_to_json(inst);
    error = instance_from_json(json, NULL, &decoded);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'display_name'"));
}

static void
test_validate(void **state)
{
    static const struct {
        const char *what;
        const char *message;
    } cases[] = {
        { "uuid", "'i.uuid'" },
        { "project", "'i.project_id' is a required property" },
        { "flavor", "'i.flavor' is a required property" },
        { "flavor-vcpus", "'i.flavor.vcpus'" },
        { "vm_state", "'i.vm_state'" },
        { "task_state", "'i.task_state'" },
        { "power_state", "'i.power_state'" },
        { "time", "'i.launched_at'" },
        { "seq", "'i.update_seq'" },
        { "image", "'i.image.disk_format'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(instance_freep) struct instance *inst = decode(minimal_json);
        CLEANUP(error_freep) struct error *error = NULL;
        const char *what = cases[i].what;

        if (!strcmp(what, "uuid")) {
            inst->uuid[0] = 'x';
        } else if (!strcmp(what, "project")) {
            free(inst->project_id);
            inst->project_id = NULL;
        } else if (!strcmp(what, "flavor")) {
            instance_set_flavor(inst, NULL);
        } else if (!strcmp(what, "flavor-vcpus")) {
            inst->flavor->vcpus = 0;
        } else if (!strcmp(what, "vm_state")) {
            inst->vm_state = INSTANCE_N_VM_STATES;
        } else if (!strcmp(what, "task_state")) {
            inst->task_state = INSTANCE_N_TASK_STATES;
        } else if (!strcmp(what, "power_state")) {
            inst->power_state = (enum instance_power_state) 5;
        } else if (!strcmp(what, "time")) {
            inst->launched_at = TIME_MAX_MS + 1;
        } else if (!strcmp(what, "seq")) {
            inst->update_seq = -1;
        } else if (!strcmp(what, "image")) {
            AUTOFREE char *format = xmalloc(
                INSTANCE_IMAGE_FORMAT_MAX_LENGTH + 2);

            memset(format, 'q', INSTANCE_IMAGE_FORMAT_MAX_LENGTH + 1);
            format[INSTANCE_IMAGE_FORMAT_MAX_LENGTH + 1] = '\0';
            inst->image = instance_image_new();
            inst->image->disk_format = xstrdup(format);
        }
        error = instance_validate(inst, "i");
        if (!error || !strstr(error_message(error), cases[i].message)) {
            fail_msg("row %s: '%s' does not contain '%s'", what,
                     error ? error_message(error) : "(accepted)",
                     cases[i].message);
        }
    }
}

/* ---- States ----------------------------------------------------------- */

static void
test_vm_states(void **state)
{
    static const char *const nova[] = {
        "active", "building", "paused", "suspended", "stopped", "rescued",
        "resized", "soft-delete", "deleted", "error", "shelved",
        "shelved_offloaded",
    };
    static const char *const unknown[] = {
        "", "ACTIVE", "soft-deleted", "soft_delete", "running", "none",
        "active ",
    };
    enum instance_vm_state vm;

    (void) state;
    assert_int_equal(ARRAY_SIZE(nova), INSTANCE_N_VM_STATES);
    for (size_t i = 0; i < ARRAY_SIZE(nova); i++) {
        assert_int_equal(instance_vm_state_from_string(nova[i], &vm), 0);
        assert_string_equal(instance_vm_state_to_string(vm), nova[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
        vm = INSTANCE_VM_ERROR;
        assert_int_equal(instance_vm_state_from_string(unknown[i], &vm),
                         -EINVAL);
        assert_int_equal(vm, INSTANCE_VM_ERROR);
    }
    assert_int_equal(instance_vm_state_from_string(NULL, &vm), -EINVAL);
    assert_string_equal(instance_vm_state_to_string(INSTANCE_N_VM_STATES),
                        "unknown");
}

static void
test_task_states(void **state)
{
    static const char *const nova[] = {
        "scheduling", "block_device_mapping", "networking", "spawning",
        "image_snapshot", "image_snapshot_pending", "image_pending_upload",
        "image_uploading", "image_backup", "updating_password",
        "resize_prep", "resize_migrating", "resize_migrated",
        "resize_finish", "resize_reverting", "resize_confirming",
        "rebooting", "reboot_pending", "reboot_started", "rebooting_hard",
        "reboot_pending_hard", "reboot_started_hard", "pausing",
        "unpausing", "suspending", "resuming", "powering-off",
        "powering-on", "rescuing", "unrescuing", "rebuilding",
        "rebuild_block_device_mapping", "rebuild_spawning", "migrating",
        "deleting", "soft-deleting", "restoring", "shelving",
        "shelving_image_pending_upload", "shelving_image_uploading",
        "shelving_offloading", "unshelving",
    };
    static const char *const unknown[] = {
        "", "none", "None", "powering_off", "soft_deleting", "REBOOTING",
        "stopping",
    };
    enum instance_task_state task;

    (void) state;
    /* Every Nova task state once, plus "none". */
    assert_int_equal(ARRAY_SIZE(nova) + 1, INSTANCE_N_TASK_STATES);
    for (size_t i = 0; i < ARRAY_SIZE(nova); i++) {
        assert_int_equal(instance_task_state_from_string(nova[i], &task),
                         0);
        assert_int_not_equal(task, INSTANCE_TASK_NONE);
        assert_string_equal(instance_task_state_to_string(task), nova[i]);
        assert_string_equal(instance_task_state_to_nullable(task),
                            nova[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
        task = INSTANCE_TASK_DELETING;
        assert_int_equal(instance_task_state_from_string(unknown[i], &task),
                         -EINVAL);
        assert_int_equal(task, INSTANCE_TASK_DELETING);
    }
    assert_int_equal(instance_task_state_from_string(NULL, &task), 0);
    assert_int_equal(task, INSTANCE_TASK_NONE);
    assert_string_equal(instance_task_state_to_string(INSTANCE_TASK_NONE),
                        "none");
    assert_null(instance_task_state_to_nullable(INSTANCE_TASK_NONE));
    assert_string_equal(
        instance_task_state_to_string(INSTANCE_N_TASK_STATES), "unknown");
}

static void
test_power_states(void **state)
{
    static const struct {
        long long number;
        const char *name;
    } nova[] = {
        { 0, "pending" }, { 1, "running" }, { 3, "paused" },
        { 4, "shutdown" }, { 6, "crashed" }, { 7, "suspended" },
    };
    static const long long bad_numbers[] = { -1, 2, 5, 8, 255 };
    enum instance_power_state power;

    (void) state;
    assert_int_equal(INSTANCE_POWER_NOSTATE, 0);
    assert_int_equal(INSTANCE_POWER_RUNNING, 1);
    assert_int_equal(INSTANCE_POWER_PAUSED, 3);
    assert_int_equal(INSTANCE_POWER_SHUTDOWN, 4);
    assert_int_equal(INSTANCE_POWER_CRASHED, 6);
    assert_int_equal(INSTANCE_POWER_SUSPENDED, 7);
    for (size_t i = 0; i < ARRAY_SIZE(nova); i++) {
        assert_int_equal(instance_power_state_from_int(nova[i].number,
                                                       &power), 0);
        assert_int_equal(power, nova[i].number);
        assert_string_equal(instance_power_state_to_string(power),
                            nova[i].name);
        assert_int_equal(instance_power_state_from_string(nova[i].name,
                                                          &power), 0);
        assert_int_equal(power, nova[i].number);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad_numbers); i++) {
        power = INSTANCE_POWER_CRASHED;
        assert_int_equal(instance_power_state_from_int(bad_numbers[i],
                                                       &power), -EINVAL);
        assert_int_equal(power, INSTANCE_POWER_CRASHED);
    }
    assert_int_equal(instance_power_state_from_string("RUNNING", &power),
                     -EINVAL);
    assert_int_equal(instance_power_state_from_string(NULL, &power),
                     -EINVAL);
    assert_string_equal(
        instance_power_state_to_string((enum instance_power_state) 2),
        "unknown");
}

static void
test_api_status(void **state)
{
    static const struct {
        enum instance_vm_state vm;
        enum instance_task_state task;
        const char *status;
    } cases[] = {
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, "ACTIVE" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBOOTING, "REBOOT" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBOOT_PENDING, "REBOOT" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBOOT_STARTED, "REBOOT" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBOOTING_HARD, "HARD_REBOOT" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBOOT_PENDING_HARD,
          "HARD_REBOOT" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBOOT_STARTED_HARD,
          "HARD_REBOOT" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_UPDATING_PASSWORD, "PASSWORD" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBUILDING, "REBUILD" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBUILD_SPAWNING, "REBUILD" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_MIGRATING, "MIGRATING" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_RESIZE_PREP, "RESIZE" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_RESIZE_FINISH, "RESIZE" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_POWERING_OFF, "ACTIVE" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_PAUSING, "ACTIVE" },
        { INSTANCE_VM_ACTIVE, INSTANCE_TASK_DELETING, "ACTIVE" },
        { INSTANCE_VM_BUILDING, INSTANCE_TASK_SCHEDULING, "BUILD" },
        { INSTANCE_VM_BUILDING, INSTANCE_TASK_NONE, "BUILD" },
        { INSTANCE_VM_BUILDING, INSTANCE_TASK_DELETING, "BUILD" },
        { INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE, "SHUTOFF" },
        { INSTANCE_VM_STOPPED, INSTANCE_TASK_POWERING_ON, "SHUTOFF" },
        { INSTANCE_VM_STOPPED, INSTANCE_TASK_REBOOTING_HARD, "SHUTOFF" },
        { INSTANCE_VM_STOPPED, INSTANCE_TASK_RESIZE_MIGRATED, "RESIZE" },
        { INSTANCE_VM_STOPPED, INSTANCE_TASK_REBUILDING, "REBUILD" },
        { INSTANCE_VM_STOPPED, INSTANCE_TASK_MIGRATING, "SHUTOFF" },
        { INSTANCE_VM_RESIZED, INSTANCE_TASK_NONE, "VERIFY_RESIZE" },
        { INSTANCE_VM_RESIZED, INSTANCE_TASK_RESIZE_CONFIRMING,
          "VERIFY_RESIZE" },
        { INSTANCE_VM_RESIZED, INSTANCE_TASK_RESIZE_REVERTING,
          "REVERT_RESIZE" },
        { INSTANCE_VM_PAUSED, INSTANCE_TASK_NONE, "PAUSED" },
        { INSTANCE_VM_PAUSED, INSTANCE_TASK_UNPAUSING, "PAUSED" },
        { INSTANCE_VM_PAUSED, INSTANCE_TASK_MIGRATING, "MIGRATING" },
        { INSTANCE_VM_SUSPENDED, INSTANCE_TASK_RESUMING, "SUSPENDED" },
        { INSTANCE_VM_RESCUED, INSTANCE_TASK_NONE, "RESCUE" },
        { INSTANCE_VM_ERROR, INSTANCE_TASK_NONE, "ERROR" },
        { INSTANCE_VM_ERROR, INSTANCE_TASK_DELETING, "ERROR" },
        { INSTANCE_VM_ERROR, INSTANCE_TASK_REBOOTING_HARD, "ERROR" },
        { INSTANCE_VM_ERROR, INSTANCE_TASK_REBUILDING, "REBUILD" },
        { INSTANCE_VM_ERROR, INSTANCE_TASK_REBUILD_BLOCK_DEVICE_MAPPING,
          "REBUILD" },
        { INSTANCE_VM_DELETED, INSTANCE_TASK_NONE, "DELETED" },
        { INSTANCE_VM_SOFT_DELETED, INSTANCE_TASK_RESTORING,
          "SOFT_DELETED" },
        { INSTANCE_VM_SHELVED, INSTANCE_TASK_UNSHELVING, "SHELVED" },
        { INSTANCE_VM_SHELVED_OFFLOADED, INSTANCE_TASK_NONE,
          "SHELVED_OFFLOADED" },
        { INSTANCE_N_VM_STATES, INSTANCE_TASK_NONE, "UNKNOWN" },
        { (enum instance_vm_state) -1, INSTANCE_TASK_REBOOTING, "UNKNOWN" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *status = instance_api_status(cases[i].vm,
                                                 cases[i].task);

        if (strcmp(status, cases[i].status)) {
            fail_msg("row %zu: (%s, %s) gave %s, not %s", i,
                     instance_vm_state_to_string(cases[i].vm),
                     instance_task_state_to_string(cases[i].task), status,
                     cases[i].status);
        }
    }
}

/* ---- Helpers ---------------------------------------------------------- */

static void
test_metadata_and_image(void **state)
{
    CLEANUP(instance_freep) struct instance *inst = instance_new(UUID_A);
    CLEANUP(instance_image_freep) struct instance_image *image =
        instance_image_new();
    CLEANUP(instance_image_freep) struct instance_image *copy = NULL;
    CLEANUP(instance_image_freep) struct instance_image *decoded = NULL;
    CLEANUP(json_putp) struct json_object *json = NULL;

    (void) state;
    assert_int_equal(inst->vm_state, INSTANCE_VM_BUILDING);
    assert_int_equal(inst->task_state, INSTANCE_TASK_NONE);
    assert_int_equal(inst->launched_at, INSTANCE_TIME_NONE);
    instance_set_metadata(inst, "z", "1");
    instance_set_metadata(inst, "a", "2");
    instance_set_metadata(inst, "m", "3");
    instance_set_metadata(inst, "z", "26");
    assert_int_equal(inst->n_metadata, 3);
    assert_string_equal(inst->metadata[0].key, "a");
    assert_string_equal(inst->metadata[2].value, "26");
    instance_set_metadata(inst, "a", NULL);
    assert_null(instance_get_metadata(inst, "a"));
    assert_string_equal(instance_get_metadata(inst, "m"), "3");
    assert_int_equal(inst->n_metadata, 2);

    assert_null(instance_image_get_property(NULL, "architecture"));
    instance_image_set_property(image, "hw_disk_bus", "virtio");
    instance_image_set_property(image, "architecture", "aarch64");
    image->disk = xstrdup("/images/x.raw");
    copy = instance_image_clone(image);
    assert_true(instance_image_equal(image, copy));
    instance_image_set_property(copy, "architecture", "x86_64");
    assert_false(instance_image_equal(image, copy));

    json = instance_image_to_json(image);
    assert_null(instance_image_from_json(json, "img", &decoded));
    assert_true(instance_image_equal(image, decoded));
    assert_string_equal(instance_image_get_property(decoded,
                                                    "architecture"),
                        "aarch64");
    assert_null(decoded->kernel);
    assert_true(instance_image_equal(NULL, NULL));
    assert_false(instance_image_equal(image, NULL));
    instance_image_free(NULL);
    instance_free(NULL);
    assert_null(instance_clone(NULL));
}

static void
test_list(void **state)
{
    CLEANUP(instance_list_freep) struct instance_list *list =
        instance_list_new();
    CLEANUP(json_putp) struct json_object *json = NULL;

    (void) state;
    for (int i = 0; i < 9; i++) {
        struct instance *inst = decode(minimal_json);

        inst->update_seq = i;
        instance_list_push(list, inst);
    }
    assert_int_equal(list->n, 9);
    assert_int_equal(list->items[8]->update_seq, 8);
    json = instance_list_to_json(list);
    assert_int_equal(json_object_array_length(json), 9);
    assert_int_equal(json_object_get_int64(json_object_object_get(
                         json_object_array_get_idx(json, 4), "update_seq")),
                     4);
    instance_list_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_full),
        cmocka_unit_test(test_round_trip_minimal),
        cmocka_unit_test(test_uuid_normalised),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_vm_states),
        cmocka_unit_test(test_task_states),
        cmocka_unit_test(test_power_states),
        cmocka_unit_test(test_api_status),
        cmocka_unit_test(test_metadata_and_image),
        cmocka_unit_test(test_list),
    };

    return cmocka_run_group_tests_name("instance", tests, NULL, NULL);
}
