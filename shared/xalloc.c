/* xalloc.c: allocation that aborts instead of failing (see xalloc.h). */
#include <config.h>
#include "shared/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void NORETURN
xalloc_die(void)
{
    static const char msg[] = "out of memory, aborting\n";

    /* No stdio: it may need memory itself. */
    (void) !write(STDERR_FILENO, msg, sizeof msg - 1);
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p) {
        xalloc_die();
    }
    return p;
}

void *
xzalloc(size_t size)
{
    return xcalloc(1, size);
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p) {
        xalloc_die();
    }
    return p;
}

void *
xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        xalloc_die();
    }
    return p;
}

void *
xreallocarray(void *p, size_t new_n, size_t size)
{
    size_t total;

    if (__builtin_mul_overflow(new_n, size, &total)) {
        xalloc_die();
    }
    return xrealloc(p, total);
}

void *
xzalloc_aligned(size_t alignment, size_t n, size_t size)
{
    size_t total;
    void *p;

    if (__builtin_mul_overflow(n ? n : 1, size ? size : 1, &total)
        || posix_memalign(&p, alignment, total)) {
        xalloc_die();
    }
    memset(p, 0, total);
    return p;
}

char *
xstrdup(const char *s)
{
    char *copy = strdup(s);

    if (!copy) {
        xalloc_die();
    }
    return copy;
}

char *
xstrdup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

char *
xstrndup(const char *s, size_t n)
{
    char *copy = strndup(s, n);

    if (!copy) {
        xalloc_die();
    }
    return copy;
}

char *
xvasprintf(const char *fmt, va_list args)
{
    char *s;

    if (vasprintf(&s, fmt, args) < 0) {
        xalloc_die();
    }
    return s;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list args;
    char *s;

    va_start(args, fmt);
    s = xvasprintf(fmt, args);
    va_end(args);
    return s;
}
