/*
 * optab.h: common/options.def as tables the engine can search.
 *
 * What this is: the shared option specification (drivers, their kinds and
 * flags; every option with its type, flags and reopen handling) expanded
 * into two static arrays.  Specification data only: nodedrv.c and qapi.c
 * give it behaviour.
 */
#ifndef REAL_OPTAB_H
#define REAL_OPTAB_H

#include <stddef.h>

/* The vocabulary options.def is written in. */
enum { BG_DRV_FORMAT, BG_DRV_FILTER, BG_DRV_PROTOCOL, BG_DRV_OTHER };
enum { BG_DRVF_BACKING = 1, BG_DRVF_REOPEN = 2, BG_DRVF_INTERNAL = 4 };
enum { BG_OT_STR, BG_OT_BOOL, BG_OT_INT, BG_OT_ENUM, BG_OT_STRUCT, BG_OT_REF,
       BG_OT_REF_NULL, BG_OT_REF_LIST, BG_OT_ANY };
enum { BG_OF_REQUIRED = 1, BG_OF_MUTABLE = 2, BG_OF_STRONG = 4 };
enum { BG_OR_GENERIC = 1, BG_OR_GENERIC_BACK, BG_OR_CONSUMED, BG_OR_DRV_BACK, BG_OR_KEPT,
       BG_OR_CHILD };

typedef struct OptabDriver {
    const char *name;
    int kind;        /* BG_DRV_* */
    int flags;       /* BG_DRVF_* */
} OptabDriver;

typedef struct OptabOpt {
    const char *driver;   /* "" for the union base */
    const char *name;     /* "cache.direct" for a struct member */
    int type;             /* BG_OT_* */
    int flags;            /* BG_OF_* */
    int reopen;           /* BG_OR_* */
    const char *enums;    /* '|'-separated values, or NULL */
    const char *def;      /* documentation only */
} OptabOpt;

extern const OptabDriver optab_drivers[];
extern const size_t optab_n_drivers;
extern const OptabOpt optab_opts[];
extern const size_t optab_n_opts;
extern const char *const optab_driver_enum[];   /* BlockdevDriver values, NULL-terminated */

/* The driver row, or NULL. */
const OptabDriver *optab_driver(const char *name);

#endif
