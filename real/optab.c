/*
 * optab.c: common/options.def expanded (see optab.h).
 */
#include "optab.h"

#include <string.h>

const OptabDriver optab_drivers[] = {
#define BG_DRIVER(NAME, KIND, FLAGS) { NAME, KIND, FLAGS },
#include "options.def"
#undef BG_DRIVER
};
const size_t optab_n_drivers = sizeof(optab_drivers) / sizeof(optab_drivers[0]);

const OptabOpt optab_opts[] = {
#define BG_OPT(DRIVER, NAME, TYPE, FLAGS, REOPEN, ENUMS, DEFAULT) \
    { DRIVER, NAME, TYPE, FLAGS, REOPEN, ENUMS, DEFAULT },
#include "options.def"
#undef BG_OPT
};
const size_t optab_n_opts = sizeof(optab_opts) / sizeof(optab_opts[0]);

const char *const optab_driver_enum[] = {
#define BG_DRIVER_ENUM(NAME) NAME,
#include "options.def"
#undef BG_DRIVER_ENUM
    NULL
};

const OptabDriver *optab_driver(const char *name)
{
    for (size_t i = 0; i < optab_n_drivers; i++)
        if (strcmp(optab_drivers[i].name, name) == 0)
            return &optab_drivers[i];
    return NULL;
}
