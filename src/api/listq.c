/*
 * List-query parsing; see listq.h and docs/query.md. Tables, not ladders:
 * the operator table says which types each operator fits and whether it
 * takes a list.
 */
#include "api/listq.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/types.h"
#include "json/jin.h"

/* Type masks. */
#define T(x) (1u << (x))
#define T_ALL ((1u << FT__COUNT) - 1)
#define T_SCALAR (T_ALL & ~T(FT_JSON) & ~T(FT_REF_LIST))
#define T_ORDERED (T(FT_INTEGER) | T(FT_NUMBER) | T(FT_DATE) | T(FT_DATETIME) | T(FT_STRING) | T(FT_TEXT) | T(FT_UUID))
#define T_TEXTUAL (T(FT_STRING) | T(FT_TEXT) | T(FT_ENUM) | T(FT_UUID))
/* Types whose values cannot hold a comma: a plain comma list means "any of". */
#define T_COMMA_LIST (T(FT_UUID) | T(FT_REF) | T(FT_INTEGER) | T(FT_ENUM) | T(FT_REF_LIST))

typedef struct op_info {
    const char *name;
    unsigned types;
    bool list;
} op_info;

static const op_info ops[FOP__COUNT] = {
    [FOP_EQ] = {"eq", T_ALL & ~T(FT_JSON), false},
    [FOP_NE] = {"ne", T_SCALAR, false},
    [FOP_LT] = {"lt", T_ORDERED, false},
    [FOP_LE] = {"le", T_ORDERED, false},
    [FOP_GT] = {"gt", T_ORDERED, false},
    [FOP_GE] = {"ge", T_ORDERED, false},
    [FOP_IN] = {"in", T_ALL & ~T(FT_JSON), true},
    [FOP_NIN] = {"nin", T_SCALAR, true},
    [FOP_LIKE] = {"like", T_TEXTUAL, false},
    [FOP_ILIKE] = {"ilike", T_TEXTUAL, false},
    [FOP_NLIKE] = {"nlike", T_TEXTUAL, false},
    [FOP_NULL] = {"null", T_ALL, false},
};

static bool op_by_name(const char *s, size_t n, fop *out)
{
    for (int i = 0; i < FOP__COUNT; i++) {
        if (strlen(ops[i].name) == n && memcmp(ops[i].name, s, n) == 0) {
            *out = (fop)i;
            return true;
        }
    }
    return false;
}

bool listq_visible(const app_field *f, int v)
{
    return (f->since == 0 || v >= f->since) && (f->until == 0 || v < f->until);
}

/* ---- meta fields ---------------------------------------------------- */

static const app_field meta[3] = {
    {.name = "id", .type = FT_UUID},
    {.name = "created_at", .type = FT_DATETIME},
    {.name = "updated_at", .type = FT_DATETIME},
};

const app_field *listq_meta_field(const app *ap, const app_model *m, const char *key, size_t n)
{
    for (int i = 0; i < 3; i++) {
        char k[32];
        if (!app_convert_case(meta[i].name, ap->payload_case, k, sizeof k))
            continue;
        if (strlen(k) == n && memcmp(k, key, n) == 0)
            return &meta[i];
    }
    return NULL;
}

/* A meta field by its column name (app.lists.page_order). */
static const app_field *meta_by_column(const char *column)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(meta[i].name, column) == 0)
            return &meta[i];
    return NULL;
}

static const app_field *find_field(const app *ap, const app_model *m, int version, const char *key, size_t n)
{
    const app_field *f = app_field_by_json(m, key, n);
    if (f)
        return listq_visible(f, version) ? f : NULL;
    return listq_meta_field(ap, m, key, n);
}

/* ---- values ---------------------------------------------------------- */

/* JSON number syntax: -?digits[.digits][(e|E)[+-]digits]. strtod alone
 * would also take hex, "inf", "nan" and leading spaces. */
static bool decimal_syntax(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == d)
        return false;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return false;
    }
    return i == n;
}

/* Text as the JSON value the type's check expects; NULL when it cannot be. */
static json_t *text_json(const app_field *f, const char *s, size_t n)
{
    switch (f->type) {
    case FT_INTEGER: {
        long long v;
        return query_int(s, n, LLONG_MIN, LLONG_MAX, &v) ? json_integer(v) : NULL;
    }
    case FT_NUMBER: {
        if (n == 0 || n > 64 || !decimal_syntax(s, n))
            return NULL;
        char tmp[65];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        return end == tmp + n && isfinite(d) ? json_real(d) : NULL;
    }
    case FT_BOOLEAN: {
        bool b;
        return query_bool(s, n, &b) ? json_boolean(b) : NULL;
    }
    case FT_JSON:
        return NULL;
    default:
        return json_stringn(s, n);
    }
}

/* The type's own check, with ref_list members checked as uuids. */
static const char *check_value(const app *ap, const app_field *f, const json_t *v, arena *a, sqlval *out)
{
    if (f->type == FT_REF_LIST) {
        char *id = arena_alloc(a, TYPE_UUID_LEN + 1);
        if (!json_is_string(v) || !type_uuid_parse(json_string_value(v), json_string_length(v), id))
            return "must be a list of ids";
        *out = (sqlval){.kind = SV_TEXT, .s = id, .n = TYPE_UUID_LEN};
        return NULL;
    }
    const type_desc *d = type_desc_of(f->type);
    return d->check ? d->check(f, v, ap->dates, a, out) : "cannot be filtered on";
}

/* `*` wildcards to a GLOB (case-sensitive) or LIKE (ESCAPE '\') pattern. */
static sqlval like_pattern(const sqlval *in, fop op, arena *a)
{
    char *p = arena_alloc(a, in->n * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < in->n; i++) {
        char c = in->s[i];
        if (c == '*') {
            p[o++] = op == FOP_ILIKE ? '%' : '*';
        } else if (op == FOP_ILIKE && (c == '%' || c == '_' || c == '\\')) {
            p[o++] = '\\';
            p[o++] = c;
        } else if (op != FOP_ILIKE && (c == '?' || c == '[' || c == ']')) {
            p[o++] = '[';
            p[o++] = c;
            p[o++] = ']';
        } else {
            p[o++] = c;
        }
    }
    p[o] = '\0';
    return (sqlval){.kind = SV_TEXT, .s = p, .n = o};
}

/* Split a list on commas; "\," is a literal comma and "\\" a backslash. */
static size_t split_list(const char *s, size_t n, arena *a, const char **items, size_t *lens, size_t cap,
                         bool *too_many)
{
    size_t count = 0;
    char *cur = arena_alloc(a, n + 1);
    size_t cl = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ',') {
            if (count == cap) {
                *too_many = true;
                return count;
            }
            cur[cl] = '\0';
            items[count] = cur;
            lens[count++] = cl;
            cur = arena_alloc(a, n - i + 1);
            cl = 0;
        } else if (s[i] == '\\' && i + 1 < n && (s[i + 1] == ',' || s[i + 1] == '\\')) {
            cur[cl++] = s[++i];
        } else {
            cur[cl++] = s[i];
        }
    }
    return count;
}

/* A bare filter (no operator) on a `filter: ilike` field compares ignoring
 * case, whether it holds one value or a list. */
static void bare_nocase(fterm *t)
{
    t->nocase = t->field->filter == FD_ILIKE && (t->op == FOP_EQ || t->op == FOP_IN);
}

/* Build one term from text (query strings). NULL on success, else a reason. */
static const char *term_from_text(const app *ap, const app_field *f, fop op, bool explicit_op,
                                  const char *s, size_t n, arena *a, fterm *t)
{
    if (!(ops[op].types & T(f->type)))
        return arena_printf(a, "operator '%s' does not apply to %s fields", ops[op].name,
                            app_type_name(f->type));
    t->field = f;
    t->op = op;
    t->nocase = false;
    if (op == FOP_NULL) {
        sqlval *v = arena_alloc(a, sizeof *v);
        if (n == 4 && memcmp(s, "true", 4) == 0)
            *v = (sqlval){.kind = SV_INT, .i = 1};
        else if (n == 5 && memcmp(s, "false", 5) == 0)
            *v = (sqlval){.kind = SV_INT, .i = 0};
        else
            return "must be true or false";
        t->vals = v;
        t->n = 1;
        return NULL;
    }
    bool list = ops[op].list || (op == FOP_EQ && (T(f->type) & T_COMMA_LIST) && memchr(s, ',', n));
    if (list && op == FOP_EQ)
        t->op = op = FOP_IN;
    const char *items[RD_MAX_FILTER_VALUES];
    size_t lens[RD_MAX_FILTER_VALUES];
    size_t k = 1;
    bool too_many = false;
    if (list) {
        k = split_list(s, n, a, items, lens, RD_MAX_FILTER_VALUES, &too_many);
        if (too_many)
            return arena_printf(a, "has more than %d values", RD_MAX_FILTER_VALUES);
    } else {
        items[0] = s;
        lens[0] = n;
    }
    sqlval *vals = arena_alloc(a, sizeof *vals * k);
    for (size_t i = 0; i < k; i++) {
        json_t *j = f->type == FT_REF_LIST || op >= FOP_LIKE ? json_stringn(items[i], lens[i])
                                                             : text_json(f, items[i], lens[i]);
        const char *why = NULL;
        if (!j)
            why = arena_printf(a, "has a value that is not a valid %s", app_type_name(f->type));
        else if (op >= FOP_LIKE && op <= FOP_NLIKE) {
            vals[i] = (sqlval){.kind = SV_TEXT, .s = arena_strndup(a, items[i], lens[i]), .n = lens[i]};
            vals[i] = like_pattern(&vals[i], op, a);
        } else {
            why = check_value(ap, f, j, a, &vals[i]);
        }
        json_decref(j);
        if (why)
            return why;
    }
    t->vals = vals;
    t->n = k;
    if (!explicit_op)
        bare_nocase(t);
    return NULL;
}

/* ---- query parameters ------------------------------------------------ */

static const char *term_from_json(const app *ap, const app_field *f, fop op, const json_t *v, arena *a, fterm *t);

/* lists.json_lists: a value starting with '[' given to a bare filter or to
 * in/nin is a JSON list of values, checked like a stored filter's list. */
static const char *term_from_json_list(const app *ap, const app_field *f, fop op, const char *s, size_t n,
                                       arena *a, fterm *t)
{
    const char *msg = NULL;
    json_t *j = jin_parse(s, n, a, &msg);
    const char *why = NULL;
    if (!j)
        why = arena_printf(a, "is not a JSON list (%s)", msg ? msg : "malformed");
    else if (!json_is_array(j))
        why = "is not a JSON list";
    else
        why = term_from_json(ap, f, op, j, a, t);
    json_decref(j);
    return why;
}

static bool has_param(const qparam *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(params[i].name, name) == 0)
            return true;
    return false;
}

static bool in_list(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

/* Cursor: "start", or the base64url text of a decimal rowid. */
static bool parse_cursor(const char *s, size_t n, long long *out)
{
    if (n == 5 && memcmp(s, "start", 5) == 0) {
        *out = 0;
        return true;
    }
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char dec[32];
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(b64, s[i], 64);
        if (!p || !s[i])
            return false;
        acc = (acc << 6) | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= sizeof dec - 1)
                return false;
            dec[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    return query_int(dec, o, 1, 9223372036854775807LL, out);
}

static void set_error(const char **detail, arena *a, const char *param, const char *why)
{
    *detail = arena_printf(a, "query parameter '%s' %s", param, why);
}

rd_err listq_parse(const app *ap, const app_model *m, int version, const qparam *params, size_t n,
                   const char *const *skip, arena *a, listq *out, const char **detail)
{
    store_query *q = &out->q;
    long long max_limit = ap->max_limit > 0 ? ap->max_limit : RD_MAX_PAGE;
    q->limit = ap->default_limit > 0 ? ap->default_limit : RD_DEFAULT_PAGE;
    if (q->limit > max_limit)
        q->limit = max_limit;
    fterm *terms = arena_alloc(a, sizeof *terms * (RD_MAX_FILTER_TERMS + q->n_terms));
    if (q->n_terms)
        memcpy(terms, q->terms, sizeof *terms * q->n_terms);
    q->terms = terms;
    bool *omit = NULL;
    bool has_offset = false, has_cursor = false, has_limit = false, want_total = true;
    bool lenient = ap->ignore_unknown_params, want_relations = false;
    /* lists.unpaged: whole: without `page`, limit and offset mean nothing */
    bool whole = ap->unpaged_whole && !has_param(params, n, "page");
    for (size_t i = 0; i < n; i++) {
        const qparam *p = &params[i];
        for (size_t k = 0; k < i; k++) {
            if (strcmp(params[k].name, p->name) == 0) {
                set_error(detail, a, p->name, "is given more than once");
                return RD_BAD_REQUEST;
            }
        }
        if (in_list(p->name, skip))
            continue;
        if (whole && (strcmp(p->name, "limit") == 0 || strcmp(p->name, "offset") == 0))
            continue;
        if (strcmp(p->name, "relations") == 0 && ap->relations_on_request) {
            if (!query_bool(p->value, p->value_len, &want_relations)) {
                set_error(detail, a, "relations", "must be true or false");
                return RD_BAD_REQUEST;
            }
        } else if (strcmp(p->name, "limit") == 0) {
            if (!query_int(p->value, p->value_len, 1, max_limit, &q->limit)) {
                set_error(detail, a, "limit", arena_printf(a, "must be an integer from 1 to %lld", max_limit));
                return RD_BAD_REQUEST;
            }
            has_limit = true;
        } else if (strcmp(p->name, "offset") == 0) {
            if (!query_int(p->value, p->value_len, 0, 1LL << 50, &q->offset)) {
                set_error(detail, a, "offset", "must be an integer of 0 or more");
                return RD_BAD_REQUEST;
            }
            has_offset = true;
        } else if (strcmp(p->name, "page") == 0 && ap->paging == PG_PAGE) {
            if (!query_int(p->value, p->value_len, 1, 1LL << 40, &out->page)) {
                set_error(detail, a, "page", "must be an integer of 1 or more");
                return RD_BAD_REQUEST;
            }
        } else if (strcmp(p->name, "total") == 0) {
            if (strcmp(p->value, "true") != 0 && strcmp(p->value, "false") != 0) {
                set_error(detail, a, "total", "must be true or false");
                return RD_BAD_REQUEST;
            }
            want_total = p->value[0] == 't';
        } else if (strcmp(p->name, "envelope") == 0) {
            if (strcmp(p->value, "true") != 0 && strcmp(p->value, "false") != 0) {
                set_error(detail, a, "envelope", "must be true or false");
                return RD_BAD_REQUEST;
            }
            out->envelope = p->value[0] == 't';
        } else if (strcmp(p->name, "cursor") == 0) {
            if (!parse_cursor(p->value, p->value_len, &q->after)) {
                set_error(detail, a, "cursor", "is not a cursor this server gave out");
                return RD_BAD_REQUEST;
            }
            q->keyset = has_cursor = true;
        } else if (strcmp(p->name, "order_by") == 0) {
            const char *items[RD_MAX_SORT_KEYS];
            size_t lens[RD_MAX_SORT_KEYS];
            bool too_many = false;
            size_t k = split_list(p->value, p->value_len, a, items, lens, RD_MAX_SORT_KEYS, &too_many);
            if (too_many) {
                set_error(detail, a, "order_by", arena_printf(a, "has more than %d keys", RD_MAX_SORT_KEYS));
                return RD_BAD_REQUEST;
            }
            sortkey *sk = arena_alloc(a, sizeof *sk * k);
            for (size_t j = 0; j < k; j++) {
                bool desc = lens[j] && items[j][0] == '-';
                const app_field *f = find_field(ap, m, version, items[j] + desc, lens[j] - desc);
                if (!f || f->type == FT_JSON || f->type == FT_REF_LIST) {
                    set_error(detail, a, "order_by",
                              arena_printf(a, "names '%s', which is not a sortable field of %s", items[j], m->name));
                    return RD_BAD_REQUEST;
                }
                sk[j] = (sortkey){.field = f, .desc = desc};
            }
            q->sort = sk;
            q->n_sort = k;
        } else if (strcmp(p->name, "fields") == 0) {
            const char *items[RD_MAX_FIELDS + 3];
            size_t lens[RD_MAX_FIELDS + 3];
            bool too_many = false;
            size_t k = split_list(p->value, p->value_len, a, items, lens, RD_MAX_FIELDS + 3, &too_many);
            omit = omit ? omit : arena_alloc(a, m->n_fields + 2);
            memset(omit, 1, m->n_fields + 2);
            for (size_t j = 0; j < k && !too_many; j++) {
                const app_field *f = find_field(ap, m, version, items[j], lens[j]);
                if (!f && lenient)
                    continue;
                if (!f) {
                    set_error(detail, a, "fields", arena_printf(a, "names '%s', which is not a field of %s", items[j], m->name));
                    return RD_BAD_REQUEST;
                }
                if (f >= m->fields && f < m->fields + m->n_fields)
                    omit[f - m->fields] = false;
                else if (f == &meta[1] || f == &meta[2])
                    omit[m->n_fields + (size_t)(f - &meta[1])] = false;
            }
        } else if (strncmp(p->name, "include_", 8) == 0) {
            const app_field *f = app_field_by_json(m, p->name + 8, strlen(p->name + 8));
            bool known = f && f->expensive && listq_visible(f, version);
            if (!known && lenient)
                continue;
            if (!known) {
                set_error(detail, a, p->name, "does not name an expensive field of this model");
                return RD_BAD_REQUEST;
            }
            if (strcmp(p->value, "true") != 0 && strcmp(p->value, "false") != 0) {
                set_error(detail, a, p->name, "must be true or false");
                return RD_BAD_REQUEST;
            }
        } else {
            /* A filter: field or field[op]. */
            const char *name = p->name;
            size_t nl = strlen(name);
            const char *br = memchr(name, '[', nl);
            fop op = FOP_EQ;
            if (br) {
                if (name[nl - 1] != ']' || !op_by_name(br + 1, (size_t)(name + nl - 1 - br - 1), &op)) {
                    set_error(detail, a, name, "has an unknown operator (see docs/query.md)");
                    return RD_BAD_REQUEST;
                }
                nl = (size_t)(br - name);
            }
            const app_field *f = find_field(ap, m, version, name, nl);
            if (!f && lenient)
                continue; /* Zou filters only on columns and ignores other names */
            if (!f) {
                *detail = arena_printf(a, "unknown query parameter '%s': %s has no such field", name, m->name);
                return RD_BAD_REQUEST;
            }
            if (q->n_terms == RD_MAX_FILTER_TERMS) {
                set_error(detail, a, name, arena_printf(a, "is one filter too many (at most %d)", RD_MAX_FILTER_TERMS));
                return RD_BAD_REQUEST;
            }
            fterm *t = &terms[q->n_terms];
            const char *why;
            if (ap->json_lists && p->value[0] == '[' && (!br || op == FOP_IN || op == FOP_NIN)) {
                why = term_from_json_list(ap, f, op, p->value, p->value_len, a, t);
                if (!why && !br)
                    bare_nocase(t);
            } else {
                why = term_from_text(ap, f, op, br != NULL, p->value, p->value_len, a, t);
            }
            if (why) {
                set_error(detail, a, name, why);
                return RD_BAD_REQUEST;
            }
            q->n_terms++;
        }
    }
    if (has_cursor && (has_offset || q->n_sort || out->page)) {
        set_error(detail, a, "cursor", "cannot be combined with offset, page or order_by");
        return RD_BAD_REQUEST;
    }
    if (out->page) {
        if (!has_limit && ap->default_limit <= 0)
            q->limit = RD_DEFAULT_PAGE;
        q->offset = (out->page - 1) * q->limit;
        if (!q->n_sort && ap->n_page_order) {
            sortkey *sk = arena_alloc(a, sizeof *sk * ap->n_page_order);
            for (size_t i = 0; i < ap->n_page_order; i++)
                sk[i] = (sortkey){.field = meta_by_column(ap->page_order[i].column), .desc = ap->page_order[i].desc};
            q->sort = sk;
            q->n_sort = ap->n_page_order;
        }
    } else if (whole) {
        q->limit = max_limit;
        q->offset = 0;
    }
    /* Expensive fields stay out of lists unless included (or asked for by
     * name in `fields`); so do ref_lists under lists.relations: on_request
     * unless relations=true. */
    const bool *sel = omit; /* fields=, before anything below marks omit */
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        bool hide = !listq_visible(f, version);
        bool named = sel && !sel[i];
        if (!hide && !named && f->type == FT_REF_LIST && ap->relations_on_request && !want_relations)
            hide = true;
        if (f->expensive && !hide && !named) {
            bool inc = false;
            for (size_t k = 0; k < n && !inc; k++)
                inc = strncmp(params[k].name, "include_", 8) == 0 && strcmp(params[k].name + 8, f->json_name) == 0 &&
                      strcmp(params[k].value, "true") == 0;
            hide = !inc;
        }
        if (hide) {
            if (!omit)
                omit = arena_zalloc(a, m->n_fields + 2);
            omit[i] = true;
        }
    }
    q->omit = omit;
    q->count = want_total || out->page;
    return RD_OK;
}

bool *listq_version_omit(const app_model *m, int version, arena *a)
{
    bool *omit = NULL;
    for (size_t i = 0; i < m->n_fields; i++) {
        if (!listq_visible(&m->fields[i], version)) {
            if (!omit)
                omit = arena_zalloc(a, m->n_fields + 2);
            omit[i] = true;
        }
    }
    return omit;
}

/* ---- stored filters -------------------------------------------------- */

/* A JSON value to the text a query string would carry for it. */
static const char *scalar_text(const json_t *v, arena *a, size_t *n)
{
    if (json_is_string(v)) {
        *n = json_string_length(v);
        return json_string_value(v);
    }
    if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        char *r = arena_strdup(a, s ? s : "");
        free(s);
        *n = strlen(r);
        return r;
    }
    return NULL;
}

static const char *term_from_json(const app *ap, const app_field *f, fop op, const json_t *v, arena *a, fterm *t)
{
    if (!(ops[op].types & T(f->type)))
        return arena_printf(a, "operator '%s' does not apply to %s fields", ops[op].name, app_type_name(f->type));
    if (json_is_array(v)) {
        if (op == FOP_EQ)
            op = FOP_IN;
        else if (!ops[op].list)
            return arena_printf(a, "operator '%s' takes one value, not a list", ops[op].name);
        size_t k = json_array_size(v);
        if (k == 0 || k > RD_MAX_FILTER_VALUES)
            return arena_printf(a, "must list 1 to %d values", RD_MAX_FILTER_VALUES);
        sqlval *vals = arena_alloc(a, sizeof *vals * k);
        for (size_t i = 0; i < k; i++) {
            const char *why = check_value(ap, f, json_array_get(v, i), a, &vals[i]);
            if (why)
                return why;
        }
        *t = (fterm){.field = f, .op = op, .vals = vals, .n = k};
        return NULL;
    }
    if (ops[op].list)
        return arena_printf(a, "operator '%s' takes a list", ops[op].name);
    size_t n = 0;
    const char *s = scalar_text(v, a, &n);
    if (!s)
        return "must be a string, number, boolean or a list of them";
    if (op == FOP_EQ && f->type != FT_REF_LIST && f->type != FT_STRING && f->type != FT_TEXT) {
        /* typed scalars check as JSON directly (no comma lists here) */
        sqlval *sv = arena_alloc(a, sizeof *sv);
        const char *why = check_value(ap, f, v, a, sv);
        if (why)
            return why;
        *t = (fterm){.field = f, .op = op, .vals = sv, .n = 1};
        return NULL;
    }
    return term_from_text(ap, f, op, true, s, n, a, t);
}

rd_err listq_from_json(const app *ap, const app_model *m, int version, const json_t *obj, arena *a,
                       listq *out, verrs *errs)
{
    if (!json_is_object(obj)) {
        verrs_add(errs, a, "$", "The filter must be a JSON object.");
        return RD_VALIDATION;
    }
    size_t cap = json_object_size(obj) * FOP__COUNT + out->q.n_terms + 1;
    if (cap > RD_MAX_FILTER_TERMS * 4)
        cap = RD_MAX_FILTER_TERMS * 4;
    fterm *terms = arena_alloc(a, sizeof *terms * cap);
    if (out->q.n_terms)
        memcpy(terms, out->q.terms, sizeof *terms * out->q.n_terms);
    size_t nt = out->q.n_terms;
    const char *jkey;
    json_t *v;
    json_object_foreach((json_t *)obj, jkey, v)
    {
        /* errors outlive the body: keep the key in the arena (a copy; the
         * iteration itself needs jansson's pointer) */
        const char *key = arena_strdup(a, jkey);
        const app_field *f = find_field(ap, m, version, key, strlen(key));
        if (!f) {
            verrs_add(errs, a, key, arena_printf(a, "The field '%s' is not part of %s.", key, m->name));
            continue;
        }
        if (json_is_object(v)) {
            const char *opname;
            json_t *ov;
            json_object_foreach(v, opname, ov)
            {
                fop op;
                const char *why = NULL;
                if (!op_by_name(opname, strlen(opname), &op))
                    why = arena_printf(a, "has an unknown operator '%s'", opname);
                else if (nt == cap || nt == RD_MAX_FILTER_TERMS)
                    why = "has too many operators";
                else if (op == FOP_NULL)
                    why = json_is_boolean(ov) ? term_from_text(ap, f, op, true, json_is_true(ov) ? "true" : "false",
                                                               json_is_true(ov) ? 4 : 5, a, &terms[nt])
                                              : "must be true or false";
                else
                    why = term_from_json(ap, f, op, ov, a, &terms[nt]);
                if (why)
                    verrs_add(errs, a, key, arena_printf(a, "%s %s.", key, why));
                else
                    nt++;
            }
            continue;
        }
        const char *why = nt == cap || nt == RD_MAX_FILTER_TERMS ? "is one filter too many"
                                                                  : term_from_json(ap, f, FOP_EQ, v, a, &terms[nt]);
        if (why) {
            verrs_add(errs, a, key, arena_printf(a, "%s %s.", key, why));
        } else {
            bare_nocase(&terms[nt]);
            nt++;
        }
    }
    out->q.terms = terms;
    out->q.n_terms = nt;
    return errs->n ? RD_VALIDATION : RD_OK;
}
