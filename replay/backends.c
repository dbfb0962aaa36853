/*
 * backends.c: the registry of compiled-in backends, in default-preference
 * order (the first one available is the default of every tool).  A new
 * backend adds one line here.
 */
#include <string.h>

#include "backend.h"

extern const BgBackendOps bg_qemu_backend_ops;
extern const BgBackendOps bg_model_backend_ops;
extern const BgBackendOps bg_real_backend_ops;

static const BgBackendOps *const registry[] = {
    &bg_qemu_backend_ops,
    &bg_model_backend_ops,
    &bg_real_backend_ops,
};

#define N_BACKENDS (sizeof(registry) / sizeof(registry[0]))

const BgBackendOps *bg_backend_find(const char *name)
{
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const BgBackendOps *bg_backend_default(void)
{
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (!registry[i]->available || registry[i]->available())
            return registry[i];
    return NULL;
}

const char *bg_backend_names(void)
{
    static char names[256];
    names[0] = '\0';
    for (size_t i = 0; i < N_BACKENDS; i++) {
        if (i)
            strncat(names, ",", sizeof(names) - strlen(names) - 1);
        strncat(names, registry[i]->name, sizeof(names) - strlen(names) - 1);
    }
    return names;
}
