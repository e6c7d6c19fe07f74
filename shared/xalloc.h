/* xalloc.h: allocation that cannot fail.
 *
 * Out of memory is not a condition this software recovers from: the daemon
 * logs and aborts, and a supervisor restarts it.  That keeps every caller
 * free of allocation-failure branches that would never be tested. */
#ifndef NOVA_XALLOC_H
#define NOVA_XALLOC_H 1

#include <stdarg.h>
#include <stddef.h>
#include "shared/compiler.h"

void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Grows an array of 'n' elements of 'size' bytes each to 'new_n' elements,
 * checking the multiplication for overflow. */
void *xreallocarray(void *p, size_t new_n, size_t size);
/* Zero-filled memory for 'n' elements of 'size' bytes, aligned to
 * 'alignment' (a power of two, multiple of sizeof(void *)); free() it. */
void *xzalloc_aligned(size_t alignment, size_t n, size_t size);
char *xstrdup(const char *s);
/* Returns NULL for NULL. */
char *xstrdup_or_null(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_FMT(1, 2);
char *xvasprintf(const char *fmt, va_list) PRINTF_FMT(1, 0);

#endif /* NOVA_XALLOC_H */
