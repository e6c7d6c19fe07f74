/* compiler.h: attribute shorthands used across the project.
 *
 * GCC and Clang only (like libvirt and systemd): the cleanup attribute in
 * cleanup.h needs them anyway. */
#ifndef NOVA_COMPILER_H
#define NOVA_COMPILER_H 1

#define PRINTF_FMT(fmt_idx, arg_idx) \
    __attribute__((format(printf, fmt_idx, arg_idx)))
#define WARN_UNUSED __attribute__((warn_unused_result))
#define NORETURN __attribute__((noreturn))
#define UNUSED __attribute__((unused))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof (a) / sizeof (a)[0])

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#endif /* NOVA_COMPILER_H */
