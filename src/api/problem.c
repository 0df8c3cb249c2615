/*
 * Error documents. The only place an rd_err becomes bytes. The app picks
 * the shape: RFC 9457 problem details (default), Zou's {"error": true,
 * "message": ...}, or problem details with the message also in the reason
 * phrase (iProva v1).
 */
#include <string.h>

#include "api/api.h"
#include "store/store.h"
#include "json/jw.h"

static void problem_doc(const rd_err_info *info, const char *detail, const verrs *errs, jw *w)
{
    jw_obj_begin(w);
    jw_keyz(w, "type");
    jw_strz(w, info->type);
    jw_keyz(w, "title");
    jw_strz(w, info->title);
    jw_keyz(w, "status");
    jw_int(w, info->status);
    if (detail) {
        jw_keyz(w, "detail");
        jw_strz(w, detail);
    }
    if (errs && errs->n) {
        /* Group messages by key, keys in first-seen order. */
        jw_keyz(w, "errors");
        jw_obj_begin(w);
        for (size_t i = 0; i < errs->n; i++) {
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++)
                seen = strcmp(errs->items[k].key, errs->items[i].key) == 0;
            if (seen)
                continue;
            jw_keyz(w, errs->items[i].key);
            jw_arr_begin(w);
            for (size_t k = i; k < errs->n; k++)
                if (strcmp(errs->items[k].key, errs->items[i].key) == 0)
                    jw_strz(w, errs->items[k].msg);
            jw_arr_end(w);
        }
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

/* How Zou answers what restd calls e: gazu raises only on 400, 401, 403,
 * 404, 405, 413, 500 and 502 and takes any other status for success, so a
 * refusal must come as one of those. status 0 keeps the code's own; a
 * message replaces the detail, because Zou words these the same every time. */
typedef struct zou_err {
    int status;
    const char *message;
} zou_err;

static const zou_err zou_errs[RD_ERR__COUNT] = {
    [RD_VALIDATION] = {400, "Validation error."},
    [RD_CONFLICT] = {400, NULL},
    [RD_MEDIA_TYPE] = {400, NULL},
    [RD_NOT_ACCEPTABLE] = {400, NULL},
    [RD_INTERNAL] = {0, "Internal server error."},
};

int problem_status(const app *ap, rd_err e)
{
    if (ap->errors == ES_ZOU && (unsigned)e < RD_ERR__COUNT && zou_errs[e].status)
        return zou_errs[e].status;
    return rd_err_get(e)->status;
}

/* Zou's wording of each kind of conflict; the store's detail follows where
 * it says which field or which referrer. */
static const struct {
    const char *message;
    bool with_detail;
} zou_conflicts[] = {
    [SC_NONE] = {"The write conflicts with stored data.", true},
    [SC_UNIQUE] = {"A record with the same unique values already exists.", false},
    [SC_MISSING] = {"A referenced record does not exist", true},
    [SC_REFERENCED] = {"The record cannot be deleted: other records still refer to it", true},
    [SC_OTHER] = {"The write violates a constraint.", false},
};

const char *problem_write_detail(const app *ap, rd_err e, store_conflict k, const char *detail, arena *a)
{
    if (ap->errors != ES_ZOU || e != RD_CONFLICT || (unsigned)k > SC_OTHER)
        return detail;
    if (zou_conflicts[k].with_detail && detail)
        return arena_printf(a, "%s (%s).", zou_conflicts[k].message, detail);
    if (zou_conflicts[k].with_detail)
        return arena_printf(a, "%s.", zou_conflicts[k].message);
    return zou_conflicts[k].message;
}

static void zou_doc(rd_err e, const rd_err_info *info, const char *detail, const verrs *errs, jw *w)
{
    const char *msg = zou_errs[e].message ? zou_errs[e].message : detail ? detail : info->title;
    jw_obj_begin(w);
    jw_keyz(w, "error");
    jw_bool(w, true);
    jw_keyz(w, "message");
    jw_strz(w, msg);
    if (errs && errs->n) {
        jw_keyz(w, "data");
        jw_obj_begin(w);
        jw_keyz(w, "errors");
        jw_arr_begin(w);
        for (size_t i = 0; i < errs->n; i++) {
            jw_obj_begin(w);
            jw_keyz(w, "field");
            jw_strz(w, errs->items[i].key);
            jw_keyz(w, "message");
            jw_strz(w, errs->items[i].msg);
            jw_obj_end(w);
        }
        jw_arr_end(w);
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

/* A reason phrase may carry only visible ASCII and spaces (RFC 9112). */
static const char *reason_phrase(arena *a, const char *s)
{
    size_t n = strlen(s);
    if (n > 200)
        n = 200;
    char *p = arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        p[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    p[n] = '\0';
    return p;
}

void problem_render(const app *ap, rd_err e, const char *detail, const verrs *errs, arena *a,
                    buf *out, const char **ctype, const char **reason)
{
    if ((unsigned)e >= RD_ERR__COUNT)
        e = RD_INTERNAL;
    const rd_err_info *info = rd_err_get(e);
    jw w;
    jw_init(&w, out);
    *reason = info->title;
    switch (ap->errors) {
    case ES_ZOU:
        *ctype = "application/json";
        if (zou_errs[e].status == 400)
            *reason = "Bad Request";
        zou_doc(e, info, detail, errs, &w);
        break;
    case ES_REASON:
        *reason = reason_phrase(a, detail ? detail : info->title);
        /* the body is still a problem document */
        __attribute__((fallthrough));
    default:
        *ctype = "application/problem+json";
        problem_doc(info, detail, errs, &w);
        break;
    }
}

void problem_send(rq *r, rd_err e, const char *detail, const verrs *errs)
{
    buf *out = arena_alloc(r->a, sizeof *out);
    buf_init(out, r->a, RD_MAX_RESPONSE);
    const char *ctype, *reason;
    problem_render(r->app, e, detail, errs, r->a, out, &ctype, &reason);
    rq_respond(r, problem_status(r->app, e), reason, ctype, out);
}
