/*
 * model_options.c: lookup over the shared option tables (common/options.def).
 *
 * What this is: the model's read-only view of the specification rows: which
 * drivers exist, which options each has, in which order, and how reopen
 * treats them.  What it is not: validation or reopen behaviour (model_qapi.c,
 * model_reopen.c).  Mirrors qapi/block-core.json and the BlockDriver tables
 * of QEMU 7.2.0.
 */
#include <string.h>

#include "model.h"

static const ModelDriver drivers[] = {
#define BG_DRIVER(NAME, KIND, FLAGS) { NAME, KIND, FLAGS },
#include "options.def"
#undef BG_DRIVER
};

static const char *const driver_enum[] = {
#define BG_DRIVER_ENUM(NAME) NAME,
#include "options.def"
#undef BG_DRIVER_ENUM
};

static const ModelOpt opts[] = {
#define BG_OPT(DRV, NAME, TYPE, FLAGS, REOPEN, ENUMS, DFLT) { DRV, NAME, TYPE, FLAGS, REOPEN, ENUMS, DFLT },
#include "options.def"
#undef BG_OPT
};

const ModelDriver *model_driver_find(const char *name)
{
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (strcmp(drivers[i].name, name) == 0)
            return &drivers[i];
    return NULL;
}

bool model_driver_in_enum(const char *name)
{
    for (size_t i = 0; i < sizeof(driver_enum) / sizeof(driver_enum[0]); i++)
        if (strcmp(driver_enum[i], name) == 0)
            return true;
    return false;
}

size_t model_opt_count(void)
{
    return sizeof(opts) / sizeof(opts[0]);
}

const ModelOpt *model_opt_at(size_t i)
{
    return i < model_opt_count() ? &opts[i] : NULL;
}

const ModelOpt *model_opt_find(const char *driver, const char *key)
{
    for (size_t i = 0; i < model_opt_count(); i++)
        if ((opts[i].driver[0] == '\0' || strcmp(opts[i].driver, driver) == 0) &&
            strcmp(opts[i].name, key) == 0)
            return &opts[i];
    return NULL;
}

bool model_enum_has(const char *enums, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = enums; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, value, n) == 0)
            return true;
        p += len + (bar ? 1 : 0);
    }
    return false;
}

bool model_opt_enum_has(const ModelOpt *o, const char *value)
{
    if (strcmp(o->name, "driver") == 0 && o->driver[0] == '\0')
        return model_driver_in_enum(value);
    return o->enums && model_enum_has(o->enums, value);
}
