/* rpc-list.h: a minimal intrusive doubly-linked list for the RPC modules.
 *
 * Circular with a sentinel head, as in OVS and the Linux kernel: embed a
 * 'struct rpc_list' in each element, get the element back with
 * RPC_LIST_ENTRY().  Not thread-safe (nothing in the RPC modules is: see
 * rpc.h). */
#ifndef NOVA_RPC_LIST_H
#define NOVA_RPC_LIST_H 1

#include <stdbool.h>
#include <stddef.h>

struct rpc_list {
    struct rpc_list *prev;
    struct rpc_list *next;
};

#define RPC_LIST_ENTRY(NODE, TYPE, MEMBER) \
    ((TYPE *) (void *) ((char *) (NODE) - offsetof(TYPE, MEMBER)))

static inline void
rpc_list_init(struct rpc_list *list)
{
    list->prev = list->next = list;
}

static inline bool
rpc_list_is_empty(const struct rpc_list *list)
{
    return list->next == list;
}

/* Inserts 'node' before 'pos'. */
static inline void
rpc_list_insert(struct rpc_list *pos, struct rpc_list *node)
{
    node->prev = pos->prev;
    node->next = pos;
    pos->prev->next = node;
    pos->prev = node;
}

static inline void
rpc_list_push_back(struct rpc_list *list, struct rpc_list *node)
{
    rpc_list_insert(list, node);
}

static inline void
rpc_list_push_front(struct rpc_list *list, struct rpc_list *node)
{
    rpc_list_insert(list->next, node);
}

static inline void
rpc_list_remove(struct rpc_list *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = node;
}

/* Removes and returns the first node, or NULL if 'list' is empty. */
static inline struct rpc_list *
rpc_list_pop_front(struct rpc_list *list)
{
    struct rpc_list *node = list->next;

    if (node == list) {
        return NULL;
    }
    rpc_list_remove(node);
    return node;
}

/* Moves every node of 'from' to the end of 'to' (keeping their order) and
 * leaves 'from' empty. */
static inline void
rpc_list_splice_back(struct rpc_list *to, struct rpc_list *from)
{
    if (rpc_list_is_empty(from)) {
        return;
    }
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    rpc_list_init(from);
}

/* Moves every node of 'from' to the front of 'to' (keeping their order). */
static inline void
rpc_list_splice_front(struct rpc_list *to, struct rpc_list *from)
{
    if (rpc_list_is_empty(from)) {
        return;
    }
    from->prev->next = to->next;
    to->next->prev = from->prev;
    from->next->prev = to;
    to->next = from->next;
    rpc_list_init(from);
}

#define RPC_LIST_FOR_EACH_SAFE(NODE, NEXT, LIST)                        \
    for ((NODE) = (LIST)->next, (NEXT) = (NODE)->next;                  \
         (NODE) != (LIST);                                              \
         (NODE) = (NEXT), (NEXT) = (NODE)->next)

#define RPC_LIST_FOR_EACH(NODE, LIST) \
    for ((NODE) = (LIST)->next; (NODE) != (LIST); (NODE) = (NODE)->next)

#endif /* NOVA_RPC_LIST_H */
