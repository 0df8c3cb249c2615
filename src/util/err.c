/* The error table behind err.h. */
#include "err.h"

static const rd_err_info infos[] = {
#define X(name, st, ty, ti) [RD_##name] = {.status = st, .type = ty, .title = ti},
    RD_ERRORS(X)
#undef X
};
_Static_assert(sizeof infos / sizeof infos[0] == RD_ERR__COUNT, "one entry per code");

const rd_err_info *rd_err_get(rd_err e)
{
    return (unsigned)e < RD_ERR__COUNT ? &infos[e] : &infos[RD_INTERNAL];
}
