/*
 * mut_state_int.h: what mut_state.c (reading lines into the state) shares
 * with mut_state_query.c (questions asked of it): the child links of a node
 * definition and the membership test of the state's string vectors.
 */
#ifndef BG_MUT_STATE_INT_H
#define BG_MUT_STATE_INT_H

#include <stdbool.h>
#include <stddef.h>

/* Child links of BlockdevOptions that hold a BlockdevRef (options.def), NULL-terminated. */
extern const char *const mut_state_child_keys[];

/* Is S one of the N strings of V? */
bool mut_state_strv_has(char *const *v, size_t n, const char *s);

#endif
