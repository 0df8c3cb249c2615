/*
 * Error documents. The only place an rd_err becomes bytes. The app picks
 * the shape: RFC 9457 problem details (default), Zou's {"error": true,
 * "message": ...}, or problem details with the message also in the reason
 * phrase (iProva v1).
 */
#include <string.h>

#include "api/api.h"
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

static void zou_doc(const rd_err_info *info, const char *detail, const verrs *errs, jw *w)
{
    jw_obj_begin(w);
    jw_keyz(w, "error");
    jw_bool(w, true);
    jw_keyz(w, "message");
    jw_strz(w, detail ? detail : info->title);
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
    const rd_err_info *info = rd_err_get(e);
    jw w;
    jw_init(&w, out);
    *reason = info->title;
    switch (ap->errors) {
    case ES_ZOU:
        *ctype = "application/json";
        zou_doc(info, detail, errs, &w);
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
    rq_respond(r, rd_err_get(e)->status, reason, ctype, out);
}
