/*
 * backend.c: BgResult helpers shared by every backend.
 */
#include "backend.h"

#include <stdlib.h>

#include "bg.h"

void bg_result_cleanup(BgResult *r)
{
    json_decref(r->ret);
    json_decref(r->events);
    free(r->err_class);
    free(r->err_desc);
    free(r->out);
    free(r->err_text);
    free(r->io_out);
    free(r->log);
    free(r->unsupported);
    *r = (BgResult){0};
}

void bg_result_set_return(BgResult *r, json_t *take_ret)
{
    r->kind = BG_RES_RETURN;
    json_decref(r->ret);
    r->ret = take_ret;
}

void bg_result_set_error(BgResult *r, const char *cls, const char *desc)
{
    r->kind = BG_RES_ERROR;
    free(r->err_class);
    free(r->err_desc);
    r->err_class = bg_strdup(cls);
    r->err_desc = bg_strdup(desc);
}

void bg_result_set_unsupported(BgResult *r, const char *reason)
{
    r->kind = BG_RES_UNSUPPORTED;
    free(r->unsupported);
    r->unsupported = bg_strdup(reason);
}
