/* cleanup.h: scope-bound cleanup of locals, after systemd's _cleanup_.
 *
 *     AUTOFREE char *s = NULL;               freed with free() at scope exit
 *     CLEANUP(json_putp) json_object *o = NULL;
 *     return TAKE_PTR(s);                    moves ownership out, leaves NULL
 *
 * DEFINE_FREEP(type, fn) generates 'fn##p', a helper that takes a pointer to
 * a pointer and calls 'fn' on it when it is not NULL. */
#ifndef NOVA_CLEANUP_H
#define NOVA_CLEANUP_H 1

#include <stdlib.h>

#define CLEANUP(fn) __attribute__((cleanup(fn)))

static inline void
freep(void *p)
{
    free(*(void **) p);
}
#define AUTOFREE CLEANUP(freep)

#define DEFINE_FREEP(type, fn)                  \
    static inline void                          \
    fn##p(type **p)                             \
    {                                           \
        if (*p) {                               \
            fn(*p);                             \
        }                                       \
    }

/* Returns the value of pointer 'p' and sets 'p' to NULL, so that a
 * CLEANUP-marked local gives up ownership. */
#define TAKE_PTR(p)                             \
    ({                                          \
        __typeof__(p) take_ptr_tmp_ = (p);      \
        (p) = NULL;                             \
        take_ptr_tmp_;                          \
    })

#endif /* NOVA_CLEANUP_H */
