/*
 * The `models:` section of an app file: models, their fields and indexes.
 *
 * Every model is read in file order into the app's arena. A problem is
 * reported and reading goes on with the next key, so one run shows them all;
 * a field with a problem is still kept (with what could be read) so that the
 * indexes and references naming it do not report again. References to models,
 * nested_under and field defaults are checked once every model has been read,
 * because a field or a model may name a model defined further down the file.
 *
 * What each field key means, and for which types it is allowed, is the
 * field_keys table below; docs/app-format.md describes the same rules. A
 * model's `access:` is read by app__load_access (auth.c), with the auth
 * section; auth.c also asks app__field_sound before checking the fields the
 * auth section names.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_int.h"
#include "app/types.h"
#include "rd_limits.h"

#define T(ft) (1u << (ft))
#define T_EVERY (T(FT__COUNT) - 1u)
_Static_assert(FT__COUNT < 32, "type masks are unsigned bit sets");

enum {
    MK_ROUTE,
    MK_FIELDS,
    MK_INDEXES,
    MK_NESTED_UNDER,
    MK_SINCE,
    MK_UNTIL,
    MK_ACCESS,
    MK_PUT,
    MK_TYPE_NAME,
    MK_HISTORY,
    MK__COUNT
};
static const app__key model_keys[] = {
    [MK_ROUTE] = {"route"},
    [MK_FIELDS] = {"fields", .required = true},
    [MK_INDEXES] = {"indexes"},
    [MK_NESTED_UNDER] = {"nested_under"},
    [MK_SINCE] = {"since"},
    [MK_UNTIL] = {"until"},
    [MK_ACCESS] = {"access"},
    [MK_PUT] = {"put"},
    [MK_TYPE_NAME] = {"type_name"},
    [MK_HISTORY] = {"history"},
};
_Static_assert(sizeof model_keys / sizeof model_keys[0] == MK__COUNT, "one row per model key");

enum {
    FK_TYPE,
    FK_REQUIRED,
    FK_UNIQUE,
    FK_READ_ONLY,
    FK_MAX_LENGTH,
    FK_MIN,
    FK_MAX,
    FK_PATTERN,
    FK_VALUES,
    FK_MODEL,
    FK_DEFAULT,
    FK_JSON_NAME,
    FK_EXPENSIVE,
    FK_SINCE,
    FK_UNTIL,
    FK_CREATE_ONLY,
    FK_COMPUTED,
    FK_FILTER,
    FK__COUNT
};
static const app__key field_keys[] = {
    [FK_TYPE] = {"type", .required = true},
    [FK_REQUIRED] = {"required"},
    [FK_UNIQUE] = {"unique", .types = T_EVERY & ~(T(FT_JSON) | T(FT_REF_LIST))},
    [FK_READ_ONLY] = {"read_only"},
    [FK_MAX_LENGTH] = {"max_length", .types = T(FT_STRING) | T(FT_TEXT)},
    [FK_MIN] = {"min", .types = T(FT_INTEGER) | T(FT_NUMBER)},
    [FK_MAX] = {"max", .types = T(FT_INTEGER) | T(FT_NUMBER)},
    [FK_PATTERN] = {"pattern", .types = T(FT_STRING) | T(FT_TEXT)},
    [FK_VALUES] = {"values", .types = T(FT_ENUM), .need = T(FT_ENUM)},
    [FK_MODEL] = {"model", .types = T(FT_REF) | T(FT_REF_LIST), .need = T(FT_REF) | T(FT_REF_LIST)},
    [FK_DEFAULT] = {"default", .types = T_EVERY & ~T(FT_REF_LIST)},
    [FK_JSON_NAME] = {"json_name"},
    [FK_EXPENSIVE] = {"expensive"},
    [FK_SINCE] = {"since"},
    [FK_UNTIL] = {"until"},
    [FK_CREATE_ONLY] = {"create_only", .types = T_EVERY},
    [FK_COMPUTED] = {"computed", .types = T(FT_STRING) | T(FT_TEXT)},
    [FK_FILTER] = {"filter", .types = T(FT_STRING) | T(FT_TEXT)},
};
_Static_assert(sizeof field_keys / sizeof field_keys[0] == FK__COUNT, "one row per field key");

enum { IK_FIELDS, IK_UNIQUE, IK__COUNT };
static const app__key index_keys[] = {
    [IK_FIELDS] = {"fields", .required = true},
    [IK_UNIQUE] = {"unique"},
};
_Static_assert(sizeof index_keys / sizeof index_keys[0] == IK__COUNT, "one row per index key");

/* What a bare `key=value` filter means (field key `filter`). */
static const char *const filter_names[] = {
    [FD_EQ] = "eq",
    [FD_ILIKE] = "ilike",
};
_Static_assert(sizeof filter_names / sizeof filter_names[0] == FD__COUNT, "one name per filter_default");

/* Columns every table has; a field may not take their names or keys. */
static const char *const reserved_fields[] = {"id", "created_at", "updated_at"};

/* What the loader keeps about a field while the file is read (scratch). */
typedef struct fside {
    yaml_node_t *key;   /* the field's name in the file */
    yaml_node_t *def;   /* `default:` value, checked after references resolve */
    yaml_node_t *model; /* `model:` value, for a dangling reference */
    yaml_node_t *computed; /* `computed:` value, resolved once the model's fields are read */
    bool typed;         /* `type:` was read; f->type is meaningful */
    bool faulty;        /* a problem was reported for this field */
} fside;

typedef struct app__mside {
    yaml_node_t *key;    /* the model's name in the file */
    yaml_node_t *route;  /* `route:` value, or NULL for the default */
    yaml_node_t *nested; /* `nested_under:` value, resolved after every model */
    app_field *rw;       /* the model's fields, writable while loading */
    fside *fields;
} mside;

bool app__field_sound(const app__ctx *c, const app *a, const app_model *m, const app_field *f)
{
    if (!c->msides || m < a->models || m >= a->models + a->n_models || f < m->fields ||
        f >= m->fields + m->n_fields)
        return false;
    const fside *fs = &c->msides[m - a->models].fields[f - m->fields];
    return fs->typed && !fs->faulty;
}

/* ---- names ---------------------------------------------------------------- */

static bool route_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
        return false;
    size_t i = 1;
    for (; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '.' || s[i] == '-'))
            return false;
    return i <= RD_MAX_NAME;
}

/* An explicit payload key: [A-Za-z_][A-Za-z0-9_.-]*, usable in a query string. */
static bool json_name_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    size_t i = 1;
    for (; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return false;
    return i <= RD_MAX_NAME;
}

static const char *converted(app__ctx *c, const char *snake, key_case kc)
{
    char out[RD_MAX_NAME * 2 + 2];
    if (!app_convert_case(snake, kc, out, sizeof out))
        return arena_strdup(c->a, snake); /* not reached: names are short */
    return arena_strdup(c->a, out);
}

/* ---- patterns ------------------------------------------------------------- */

/* Why pattern s must not reach regcomp, or NULL when it may.
 *
 * Patterns run against client input, and glibc's regcomp unrolls bounded
 * repetitions: `a{1,32767}` takes half a minute to compile and nested
 * bounds multiply. So the size of the unrolled pattern is estimated first:
 * an atom counts 1, `{m,n}` multiplies what it follows by its larger bound
 * plus one, `+` doubles it (glibc turns a+ into aa*); past
 * RD_MAX_PATTERN_COST the pattern is refused. Also refused: back-references
 * (matching them is exponential) and a repetition stacked on another
 * (`a**`, `a++++`: undefined in POSIX, and each `+` doubles in glibc). */
static const char *pattern_problem(const char *s)
{
    enum { DEPTH = 64 };
    static const char complex[] = "too complex (its repetition counts unroll into too large an "
                                  "automaton)";
    const uint64_t over = RD_MAX_PATTERN_COST + 1;
    uint64_t sum[DEPTH + 1] = {0}, last = 0;
    int d = 0;
    bool after_rep = false;
    for (const char *p = s; *p;) {
        bool rep = *p == '*' || *p == '+' || *p == '?' ||
                   (*p == '{' && ((p[1] >= '0' && p[1] <= '9') || p[1] == ','));
        if (rep && after_rep)
            return "a repetition (*, +, ? or {m,n}) may not follow another; group the first: (a+)*";
        after_rep = rep;
        if (*p == '(') {
            if (d == DEPTH)
                return "groups nested too deeply";
            sum[++d] = 0;
            last = 0;
            p++;
        } else if (*p == '|' || *p == '^' || *p == '$') {
            last = *p == '|' ? 0 : last;
            p++;
        } else if (*p == '*' || *p == '?') {
            p++; /* a star or an option adds a node, not a copy */
        } else if (rep) {
            uint64_t factor = 2; /* `+` */
            if (*p++ == '{') {
                /* {m}, {m,}, {m,n} and glibc's {,n}: m copies, then n - m
                 * optional ones (or a star). */
                uint64_t lo = 0, hi = 0;
                bool comma = false;
                for (; (*p >= '0' && *p <= '9') || *p == ','; p++) {
                    uint64_t *b = comma ? &hi : &lo;
                    if (*p == ',')
                        comma = true;
                    else if (*b <= over)
                        *b = *b * 10 + (uint64_t)(*p - '0');
                }
                p += *p == '}';
                factor = (lo > hi ? lo : hi) + 1;
            }
            if (factor > over || last * factor > over)
                return complex;
            sum[d] += last * factor - last;
            last *= factor;
        } else {
            uint64_t atom = 1;
            if (*p == ')' && d > 0) {
                atom = sum[d--];
                p++;
            } else if (*p == '\\') {
                if (p[1] >= '1' && p[1] <= '9')
                    return "back-references (\\1 ... \\9) are not allowed";
                p += p[1] ? 2 : 1;
            } else if (*p == '[') {
                p++;
                p += *p == '^';
                p += *p == ']';
                while (*p && *p != ']') {
                    if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                        const char *e = strchr(p + 2, ']');
                        p = e ? e : p + 1;
                    }
                    p++;
                }
                p += *p == ']';
            } else {
                p++;
            }
            sum[d] += atom;
            last = atom;
        }
        if (sum[d] > over)
            return complex;
    }
    uint64_t total = 0;
    for (int i = 0; i <= d; i++)
        total += sum[i];
    return total > over ? complex : NULL;
}

static void compile_pattern(app__ctx *c, app_field *f, const yaml_node_t *n, const char *s)
{
    const char *why;
    if (strlen(s) > RD_MAX_PATTERN) {
        app__err(c, n, "pattern: longer than %d bytes", RD_MAX_PATTERN);
    } else if ((why = pattern_problem(s))) {
        app__err(c, n, "pattern: %s", why);
    } else {
        regex_t *re = arena_alloc(c->a, sizeof *re);
        int rc = regcomp(re, s, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[160];
            regerror(rc, re, msg, sizeof msg);
            app__err(c, n, "pattern: not a valid POSIX extended regular expression: %s", msg);
            return;
        }
        f->re = re; /* regfree'd by app__free_patterns */
        f->pattern = arena_strdup(c->a, s);
    }
}

void app__free_patterns(const app *a)
{
    for (size_t i = 0; i < a->n_models; i++)
        for (size_t k = 0; k < a->models[i].n_fields; k++)
            if (a->models[i].fields[k].re)
                regfree(a->models[i].fields[k].re);
}

/* ---- versions ------------------------------------------------------------- */

/* A `since:` or `until:` value: a version app.versions lists. 0 when absent
 * or not usable. When app.versions itself had a problem the number is taken
 * as it is, so that problem is not reported again here. */
static int read_version(app__ctx *c, const app *a, const yaml_node_t *n, const char *what)
{
    int64_t v;
    if (!n || !app__int(c, n, what, 1, APP_MAX_VERSION, &v))
        return 0;
    if (c->versions_bad)
        return (int)v;
    for (size_t i = 0; i < a->n_versions; i++)
        if (a->versions[i] == v)
            return (int)v;
    buf list;
    buf_init(&list, c->tmp, 1024);
    for (size_t i = 0; i < a->n_versions; i++)
        buf_printf(&list, "%s%d", i ? ", " : "", a->versions[i]);
    app__err(c, n, "%s: %lld is not one of app.versions (%s)", what, (long long)v,
             buf_cstr(&list));
    return 0;
}

/* The versions a model or field (`who`) exists in: from since (0 = the
 * first) up to, not including, until (0 = none). */
static void read_span(app__ctx *c, const app *a, const app__kv *since, const app__kv *until,
                      const char *who, int *since_out, int *until_out)
{
    int s = read_version(c, a, since->val, "since");
    int u = read_version(c, a, until->val, "until");
    if (s && u && s >= u) {
        app__err(c, until->val, "until (%d) must be greater than since (%d)", u, s);
        u = 0;
    } else if (u && !s && !c->versions_bad && u == a->versions[0]) {
        app__err(c, until->val, "until: %d is the first version, so %s would exist in no version",
                 u, who);
        u = 0;
    }
    *since_out = s;
    *until_out = u;
}

/* ---- fields --------------------------------------------------------------- */

static void load_enum(app__ctx *c, app_field *f, yaml_node_t *n)
{
    if (!app__want(c, n, YAML_SEQUENCE_NODE, "values"))
        return;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0) {
        app__err(c, n, "values: at least one value is needed");
        return;
    }
    if (count > RD_MAX_ENUM_VALUES) {
        app__err(c, n, "values: too many (%zu; at most %d)", count, RD_MAX_ENUM_VALUES);
        return;
    }
    const char **vals = arena_alloc(c->a, count * sizeof *vals);
    size_t k = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *s = app__str(c, v, "each of values");
        if (!s)
            continue;
        if (!*s) {
            app__err(c, v, "values: the empty string cannot be a value");
            continue;
        }
        size_t j = 0;
        while (j < k && strcmp(vals[j], s) != 0)
            j++;
        if (j < k) {
            app__err(c, v, "values: '%s' is listed twice", app__q(c, s));
            continue;
        }
        vals[k++] = arena_strdup(c->a, s);
    }
    f->enum_values = vals;
    f->n_enum = k;
}

static void read_flag(app__ctx *c, const app__kv *kv, const char *name, bool *out)
{
    if (kv->val)
        app__bool(c, kv->val, name, out);
}

/* The per-key checks of one field; the mapping has been matched already. */
static void field_attrs(app__ctx *c, const app *a, app_field *f, fside *fs, app__kv *fk)
{
    read_flag(c, &fk[FK_REQUIRED], "required", &f->required);
    read_flag(c, &fk[FK_UNIQUE], "unique", &f->unique);
    read_flag(c, &fk[FK_READ_ONLY], "read_only", &f->read_only);
    read_flag(c, &fk[FK_EXPENSIVE], "expensive", &f->expensive);
    read_flag(c, &fk[FK_CREATE_ONLY], "create_only", &f->create_only);
    if (fk[FK_COMPUTED].val) {
        /* The database computes the value: nothing a client or a default
         * could give it would be kept. */
        fs->computed = fk[FK_COMPUTED].val;
        f->read_only = true;
        static const int clash[] = {FK_DEFAULT, FK_REQUIRED, FK_CREATE_ONLY};
        for (size_t i = 0; i < sizeof clash / sizeof clash[0]; i++)
            if (fk[clash[i]].key)
                app__err(c, fk[clash[i]].key, "%s cannot be given for a computed field",
                         field_keys[clash[i]].name);
    }
    if (fk[FK_MAX_LENGTH].val)
        app__int(c, fk[FK_MAX_LENGTH].val, "max_length", 1, INT64_MAX, &f->max_length);
    else if (fs->typed && f->type == FT_STRING)
        f->max_length = 255;
    if (fk[FK_MIN].val)
        f->has_min = app__num(c, fk[FK_MIN].val, "min", &f->min);
    if (fk[FK_MAX].val)
        f->has_max = app__num(c, fk[FK_MAX].val, "max", &f->max);
    if (f->has_min && f->has_max && f->min > f->max)
        app__err(c, fk[FK_MAX].key, "min (%g) is greater than max (%g)", f->min, f->max);
    const char *s;
    if (fk[FK_PATTERN].val && (s = app__str(c, fk[FK_PATTERN].val, "pattern")))
        compile_pattern(c, f, fk[FK_PATTERN].val, s);
    if (fk[FK_VALUES].val)
        load_enum(c, f, fk[FK_VALUES].val);
    if (fk[FK_MODEL].val && (s = app__str(c, fk[FK_MODEL].val, "model"))) {
        f->ref_name = arena_strdup(c->a, s);
        fs->model = fk[FK_MODEL].val;
    }
    fs->def = fk[FK_DEFAULT].val;
    if (fk[FK_JSON_NAME].val && (s = app__str(c, fk[FK_JSON_NAME].val, "json_name"))) {
        if (json_name_ok(s))
            f->json_name = arena_strdup(c->a, s);
        else
            app__err(c, fk[FK_JSON_NAME].val,
                     "json_name: '%s' must match [A-Za-z_][A-Za-z0-9_.-]* (at most %d characters)",
                     app__q(c, s), RD_MAX_NAME);
    }
    read_span(c, a, &fk[FK_SINCE], &fk[FK_UNTIL], "the field", &f->since, &f->until);
    if (fk[FK_FILTER].val && (s = app__str(c, fk[FK_FILTER].val, "filter"))) {
        size_t i = 0;
        while (i < FD__COUNT && strcmp(filter_names[i], s) != 0)
            i++;
        if (i < FD__COUNT)
            f->filter = (filter_default)i;
        else
            app__err(c, fk[FK_FILTER].val, "filter: must be eq or ilike, not '%s'", app__q(c, s));
    }
    if (f->required && f->read_only && !fk[FK_DEFAULT].key && !fk[FK_COMPUTED].key)
        app__err(c, fs->key,
                 "field '%s': required and read_only together need a default (a client cannot "
                 "send the value)",
                 f->name);
}

/* Payload and error keys. An explicit json_name is the error key too when
 * both use the same case; otherwise the error key follows error_keys. */
static void derive_keys(app__ctx *c, const app *a, app_field *f)
{
    bool explicit = f->json_name != NULL;
    if (!explicit)
        f->json_name = converted(c, f->name, a->payload_case);
    f->error_name = explicit && a->error_case == a->payload_case
                        ? f->json_name
                        : converted(c, f->name, a->error_case);
}

/* The keys of one field, matched against field_keys already. */
static void field_keys_read(app__ctx *c, const app *a, const app_model *m, app_field *f,
                            fside *fs, const yaml_node_t *k, app__kv *fk, const char *what)
{
    const char *s;
    if (fk[FK_TYPE].val && (s = app__str(c, fk[FK_TYPE].val, "type"))) {
        fs->typed = app_type_from_name(s, &f->type);
        if (!fs->typed) {
            buf names;
            buf_init(&names, c->tmp, 1024);
            for (int t = 0; t < FT__COUNT; t++)
                buf_printf(&names, "%s%s", t ? ", " : "", app_type_name((field_type)t));
            app__err(c, fk[FK_TYPE].val, "type: unknown type '%s' (known types: %s)", app__q(c, s),
                     buf_cstr(&names));
        }
    }
    if (fs->typed) {
        const char *tn = app_type_name(f->type);
        for (size_t i = 0; i < FK__COUNT; i++) {
            if (fk[i].key && field_keys[i].types && !(field_keys[i].types & T(f->type))) {
                app__err(c, fk[i].key, "%s is not allowed for type %s", field_keys[i].name, tn);
                fk[i] = (app__kv){NULL, NULL}; /* ignore it from here on */
            }
            if (!fk[i].key && (field_keys[i].need & T(f->type)))
                app__err(c, k, "%s: type %s needs '%s'", what, tn, field_keys[i].name);
        }
        if (f->type == FT_REF_LIST)
            f->link_table = arena_printf(c->a, "%s__%s", m->name, f->name);
    }
    field_attrs(c, a, f, fs, fk);
}

static void load_field(app__ctx *c, const app *a, const app_model *m, app_field *f, fside *fs,
                       yaml_node_t *k, yaml_node_t *v)
{
    f->line = app__line(k);
    fs->key = k;
    const char *what = arena_printf(c->tmp, "field '%s.%s'", m->name, f->name);
    size_t problems = c->n_diags + c->n_dropped;
    app__kv fk[FK__COUNT];
    if (app__map(c, v, k, what, field_keys, FK__COUNT, fk))
        field_keys_read(c, a, m, f, fs, k, fk, what);
    derive_keys(c, a, f);
    /* A field with a problem keeps its default unchecked: the default
     * would only repeat the problem (an enum without its values). */
    fs->faulty = c->n_diags + c->n_dropped != problems;
}

/* Payload keys (or error keys) must be unique within a model, and must not
 * take the key of a column every table has. */
static void check_keys(app__ctx *c, const app_model *m, const fside *fs, key_case kc, bool errors)
{
    const char *kind = errors ? "error key" : "payload key";
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        const char *key = errors ? f->error_name : f->json_name;
        if (!key)
            continue;
        bool clash = false;
        for (size_t r = 0; r < sizeof reserved_fields / sizeof reserved_fields[0]; r++)
            clash |= strcmp(f->name, reserved_fields[r]) == 0; /* reported already */
        for (size_t r = 0; r < sizeof reserved_fields / sizeof reserved_fields[0] && !clash; r++) {
            char rk[RD_MAX_NAME + 1];
            if (app_convert_case(reserved_fields[r], kc, rk, sizeof rk) && strcmp(rk, key) == 0) {
                app__err(c, fs[i].key, "field '%s': %s '%s' is taken by the built-in '%s'",
                         f->name, kind, app__q(c, key), reserved_fields[r]);
                clash = true;
            }
        }
        for (size_t j = 0; j < i && !clash; j++) {
            const app_field *g = &m->fields[j];
            const char *other = errors ? g->error_name : g->json_name;
            if (other && strcmp(other, key) == 0) {
                app__err(c, fs[i].key, "field '%s': %s '%s' is already used by field '%s' (line %u)",
                         f->name, kind, app__q(c, key), g->name, g->line);
                clash = true;
            }
        }
    }
}

static void load_fields(app__ctx *c, const app *a, app_model *m, mside *ms, yaml_node_t *n)
{
    const char *what = arena_printf(c->tmp, "fields of model '%s'", m->name);
    if (!app__want(c, n, YAML_MAPPING_NODE, what))
        return;
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count == 0) {
        app__err(c, n, "model '%s' needs at least one field", m->name);
        return;
    }
    if (count > RD_MAX_FIELDS) {
        app__err(c, n, "model '%s' has too many fields (%zu; at most %d)", m->name, count,
                 RD_MAX_FIELDS);
        return;
    }
    app_field *fields = arena_zalloc(c->a, count * sizeof *fields);
    ms->fields = arena_zalloc(c->tmp, count * sizeof *ms->fields);
    ms->rw = fields;
    m->fields = fields;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = app__node(c, p->key);
        const char *name = app__key_text(c, k, what);
        if (!name)
            continue;
        if (!app__name_ok(name)) {
            app__err(c, k, "field name '%s' must match [a-z][a-z0-9_]* (at most %d characters)",
                     app__q(c, name), RD_MAX_NAME);
            name = app__q(c, name); /* later messages quote it as is */
        }
        for (size_t r = 0; r < sizeof reserved_fields / sizeof reserved_fields[0]; r++)
            if (strcmp(name, reserved_fields[r]) == 0)
                app__err(c, k, "field name '%s' is reserved (every model has it)", name);
        const app_field *prev = app_field_by_name(m, name);
        if (prev) {
            app__err(c, k, "duplicate field '%s' in model '%s' (first at line %u)", app__q(c, name),
                     m->name, prev->line);
            continue;
        }
        app_field *f = &fields[m->n_fields];
        f->name = arena_strdup(c->a, name);
        m->n_fields++;
        load_field(c, a, m, f, &ms->fields[m->n_fields - 1], k, app__node(c, p->value));
    }
    check_keys(c, m, ms->fields, a->payload_case, false);
    if (a->error_case != a->payload_case)
        check_keys(c, m, ms->fields, a->error_case, true);
}

/* ---- indexes -------------------------------------------------------------- */

/* The store makes one index per unique field (ux_<model>__<field>) and per
 * reference (ix_<model>__<field>); a declared index may take such a name
 * only when it is the very same index. */
static const app_field *auto_index_owner(const app_model *m, const mside *ms, const char *name)
{
    char want[2 * RD_MAX_NAME + 8];
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        bool is_ref = ms->fields[i].typed && f->type == FT_REF;
        if (!f->unique && !is_ref)
            continue;
        snprintf(want, sizeof want, "%s_%s__%s", f->unique ? "ux" : "ix", m->name, f->name);
        if (strcmp(want, name) == 0)
            return f;
    }
    return NULL;
}

/* The columns every table has, which an index may name too: a list
 * ordered by `lists.page_order` within a filter (Zou's tasks of a project,
 * newest first) needs (project_id, updated_at, ...) to read one page
 * instead of sorting the whole project. The schema reads only the name. */
static const app_field meta_index_fields[] = {
    {.name = "id", .type = FT_UUID},
    {.name = "created_at", .type = FT_DATETIME},
    {.name = "updated_at", .type = FT_DATETIME},
};

static const app_field *meta_index_field(const char *s)
{
    for (size_t i = 0; i < sizeof meta_index_fields / sizeof meta_index_fields[0]; i++)
        if (strcmp(meta_index_fields[i].name, s) == 0)
            return &meta_index_fields[i];
    return NULL;
}

static bool load_index(app__ctx *c, app_model *m, const mside *ms, app_index *ix, yaml_node_t *n,
                       const char *what)
{
    app__kv ik[IK__COUNT];
    if (!app__map(c, n, NULL, what, index_keys, IK__COUNT, ik) || !ik[IK_FIELDS].val)
        return false;
    ix->line = app__line(n);
    if (ik[IK_UNIQUE].val)
        app__bool(c, ik[IK_UNIQUE].val, "unique", &ix->unique);
    yaml_node_t *fl = ik[IK_FIELDS].val;
    if (!app__want(c, fl, YAML_SEQUENCE_NODE, "fields of an index") || m->n_fields == 0)
        return false; /* a model without fields has had its problem reported */
    size_t count = (size_t)(fl->data.sequence.items.top - fl->data.sequence.items.start);
    if (count == 0 || count > RD_MAX_FIELDS) {
        app__err(c, fl, "fields: an index needs at least one field and at most %d", RD_MAX_FIELDS);
        return false;
    }
    const app_field **fields = arena_alloc(c->a, count * sizeof *fields);
    size_t k = 0;
    bool ok = true;
    for (yaml_node_item_t *it = fl->data.sequence.items.start; it < fl->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *s = app__str(c, v, "each of fields");
        const app_field *f = s ? app_field_by_name(m, s) : NULL;
        bool meta = !f && s && (f = meta_index_field(s)) != NULL;
        if (!f) {
            if (s)
                app__err(c, v, "fields: model '%s' has no field '%s'", m->name, app__q(c, s));
            ok = false;
            continue;
        }
        if (!meta && ms->fields[f - m->fields].typed && f->type == FT_REF_LIST) {
            app__err(c, v, "fields: '%s' is a ref_list (kept in a link table) and cannot be indexed",
                     f->name);
            ok = false;
        }
        for (size_t j = 0; j < k; j++)
            if (fields[j] == f) {
                app__err(c, v, "fields: '%s' is listed twice", f->name);
                ok = false;
            }
        fields[k++] = f;
    }
    if (!ok)
        return false;
    buf name;
    buf_init(&name, c->tmp, 4 * RD_MAX_NAME * (RD_MAX_FIELDS + 1));
    buf_printf(&name, "%s_%s__", ix->unique ? "ux" : "ix", m->name);
    for (size_t j = 0; j < k; j++)
        buf_printf(&name, "%s%s", j ? "_" : "", fields[j]->name);
    for (size_t j = 0; j < m->n_indexes; j++)
        if (strcmp(m->indexes[j].name, buf_cstr(&name)) == 0) {
            app__err(c, n, "index '%s' is declared twice (first at line %u)", buf_cstr(&name),
                     m->indexes[j].line);
            return false;
        }
    const app_field *owner = auto_index_owner(m, ms, buf_cstr(&name));
    if (owner && !(k == 1 && fields[0] == owner)) {
        app__err(c, n, "index name '%s' is taken by the automatic index of field '%s'",
                 buf_cstr(&name), owner->name);
        return false;
    }
    ix->name = arena_strdup(c->a, buf_cstr(&name));
    ix->fields = fields;
    ix->n_fields = k;
    return true;
}

static void load_indexes(app__ctx *c, app_model *m, const mside *ms, yaml_node_t *n)
{
    const char *what = arena_printf(c->tmp, "indexes of model '%s'", m->name);
    if (!app__want(c, n, YAML_SEQUENCE_NODE, what))
        return;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > RD_MAX_INDEXES) {
        app__err(c, n, "model '%s' has too many indexes (%zu; at most %d)", m->name, count,
                 RD_MAX_INDEXES);
        return;
    }
    app_index *ixs = arena_zalloc(c->a, (count ? count : 1) * sizeof *ixs);
    m->indexes = ixs;
    size_t i = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        const char *iwhat = arena_printf(c->tmp, "index %zu of model '%s'", ++i, m->name);
        if (load_index(c, m, ms, &ixs[m->n_indexes], app__node(c, *it), iwhat))
            m->n_indexes++;
    }
}

/* ---- models --------------------------------------------------------------- */

/* A row type name ("TaskStatus"): [A-Za-z][A-Za-z0-9_]*. */
static bool type_name_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    size_t i = 1;
    for (; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_'))
            return false;
    return i <= RD_MAX_NAME;
}

/* m->type_name from `type_name:` (v), else from the model name when the
 * app asks for PascalCase type names. A field keyed "type" would clash with
 * it on every row. */
static void load_type_name(app__ctx *c, const app *a, app_model *m, yaml_node_t *v, const yaml_node_t *at)
{
    const char *s;
    if (v && (s = app__str(c, v, "type_name"))) {
        if (type_name_ok(s))
            m->type_name = arena_strdup(c->a, s);
        else
            app__err(c, v, "type_name: '%s' must match [A-Za-z][A-Za-z0-9_]* (at most %d characters)",
                     app__q(c, s), RD_MAX_NAME);
    } else if (!v && a->type_names) {
        char tn[RD_MAX_NAME + 1];
        if (app_convert_case(m->name, KC_PASCAL, tn, sizeof tn))
            m->type_name = arena_strdup(c->a, tn);
    }
    if (m->type_name && app_field_by_json(m, "type", 4))
        app__err(c, v ? v : at, "model '%s' has a field keyed 'type', which its rows' type name would hide",
                 m->name);
}

static void load_model(app__ctx *c, const app *a, app_model *m, mside *ms, yaml_node_t *v)
{
    const char *what = arena_printf(c->tmp, "model '%s'", m->name);
    app__kv mk[MK__COUNT];
    if (!app__map(c, v, ms->key, what, model_keys, MK__COUNT, mk))
        return;
    m->route = m->name;
    const char *s;
    if (mk[MK_ROUTE].val && (s = app__str(c, mk[MK_ROUTE].val, "route"))) {
        ms->route = mk[MK_ROUTE].val;
        if (route_ok(s))
            m->route = arena_strdup(c->a, s);
        else
            app__err(c, ms->route, "route: '%s' must match [a-z0-9][a-z0-9_.-]* (at most %d "
                                   "characters)",
                     app__q(c, s), RD_MAX_NAME);
    }
    for (const app_model *o = a->models; o < m; o++)
        if (strcmp(o->route, m->route) == 0)
            app__err(c, ms->route ? ms->route : ms->key,
                     "route '%s' of model '%s' is already the route of model '%s' (line %u)",
                     m->route, m->name, o->name, o->line);
    m->put = a->put;
    if (mk[MK_PUT].val)
        app__read_put(c, mk[MK_PUT].val, &m->put);
    if (mk[MK_FIELDS].val)
        load_fields(c, a, m, ms, mk[MK_FIELDS].val);
    if (mk[MK_INDEXES].val)
        load_indexes(c, m, ms, mk[MK_INDEXES].val);
    ms->nested = mk[MK_NESTED_UNDER].val;
    read_span(c, a, &mk[MK_SINCE], &mk[MK_UNTIL], "the model", &m->since, &m->until);
    /* Without an auth section the access lists would mean nothing: say so
     * once, and do not read them. */
    if (mk[MK_ACCESS].key && !c->has_auth)
        app__err(c, mk[MK_ACCESS].key,
                 "access needs an auth section (model '%s' has access, the file has no auth)",
                 m->name);
    else if (mk[MK_ACCESS].val)
        m->has_access = app__load_access(
            c, mk[MK_ACCESS].val, arena_printf(c->tmp, "access of model '%s'", m->name), m, &m->access);
    load_type_name(c, a, m, mk[MK_TYPE_NAME].val, ms->key);
    if (mk[MK_HISTORY].val)
        app__bool(c, mk[MK_HISTORY].val, "history", &m->history);
}

/* ---- nested collections --------------------------------------------------- */

/* The one `ref` field of m whose target is parent p, or NULL with the
 * problem reported at `at`. No problem is reported when a field that may be
 * that reference could not be read (its problem is reported already). */
static const app_field *parent_ref(app__ctx *c, const app_model *m, const mside *ms,
                                   const app_model *p, const yaml_node_t *at)
{
    const app_field *via = NULL;
    size_t hits = 0;
    bool unsure = false;
    buf names;
    buf_init(&names, c->tmp, 512);
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        const fside *fs = &ms->fields[i];
        bool is_ref = fs->typed && f->type == FT_REF;
        if (is_ref && !f->ref_name)
            unsure = true; /* its `model:` had a problem */
        if (!f->ref_name || strcmp(f->ref_name, p->name) != 0)
            continue;
        if (!fs->typed)
            unsure = true; /* its `type:` had a problem */
        if (!is_ref)
            continue;
        buf_printf(&names, "%s%s", hits ? ", " : "", f->name);
        hits++;
        via = f;
    }
    if (hits == 1)
        return via;
    if (hits > 1)
        app__err(c, at,
                 "nested_under: model '%s' has several references to '%s' (%s): nested_under "
                 "needs exactly one",
                 m->name, p->name, buf_cstr(&names));
    else if (!unsure)
        app__err(c, at,
                 "nested_under: model '%s' has no reference to '%s' (a field of type ref with "
                 "model: %s)",
                 m->name, p->name, p->name);
    return NULL;
}

/* A model's nested_under list: names of models in this file, each once,
 * each reached through exactly one `ref` field. Runs once every model and
 * reference has been read. */
static void load_nested(app__ctx *c, const app *a, app_model *m, const mside *ms)
{
    yaml_node_t *n = ms->nested;
    if (!app__want(c, n, YAML_SEQUENCE_NODE, "nested_under"))
        return;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0) {
        app__err(c, n, "nested_under: at least one model is needed (or leave the key out)");
        return;
    }
    if (count > RD_MAX_MODELS) {
        app__err(c, n, "nested_under: too many (%zu; at most %d)", count, RD_MAX_MODELS);
        return;
    }
    const app_model **parents = arena_alloc(c->a, count * sizeof *parents);
    const app_field **via = arena_alloc(c->a, count * sizeof *via);
    const yaml_node_t **seen = arena_alloc(c->tmp, count * sizeof *seen);
    const app_model **seen_model = arena_alloc(c->tmp, count * sizeof *seen_model);
    size_t k = 0, n_seen = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *s = app__str(c, v, "each of nested_under");
        if (!s)
            continue;
        const app_model *p = app_model_by_name(a, s);
        if (!p) {
            app__err(c, v, "nested_under: there is no model '%s' in this file", app__q(c, s));
            continue;
        }
        size_t j = 0;
        while (j < n_seen && seen_model[j] != p)
            j++;
        if (j < n_seen) {
            app__err(c, v, "nested_under: '%s' is listed twice (first at line %u)", p->name,
                     app__line(seen[j]));
            continue;
        }
        seen_model[n_seen] = p;
        seen[n_seen++] = v;
        if (m->n_fields == 0)
            continue; /* the model's fields had a problem, reported already */
        const app_field *f = parent_ref(c, m, ms, p, v);
        if (f) {
            parents[k] = p;
            via[k++] = f;
        }
    }
    m->nested_under = parents;
    m->nested_via = via;
    m->n_nested = k;
}

/* ---- computed fields ------------------------------------------------------ */

/* Most parts one concat may have, and the longest literal. */
#define MAX_CONCAT_PARTS 16
#define MAX_CONCAT_LITERAL 255

/* Types whose stored text reads the same as the served value. */
static const bool concat_types[FT__COUNT] = {
    [FT_STRING] = true, [FT_TEXT] = true, [FT_ENUM] = true,
    [FT_UUID] = true,   [FT_REF] = true,  [FT_INTEGER] = true,
};

/* `computed: {concat: [part, ...]}`: a plain scalar names a field of the
 * same model, a quoted one is a literal. Runs once the model's fields are
 * all read. */
static void load_computed(app__ctx *c, const app_model *m, const mside *ms, app_field *f, yaml_node_t *n)
{
    enum { CC_CONCAT, CC__COUNT };
    static const app__key computed_keys[] = {[CC_CONCAT] = {"concat", .required = true}};
    const char *what = arena_printf(c->tmp, "computed of field '%s.%s'", m->name, f->name);
    app__kv ck[CC__COUNT];
    if (!app__map(c, n, NULL, what, computed_keys, CC__COUNT, ck) || !ck[CC_CONCAT].val)
        return;
    yaml_node_t *seq = ck[CC_CONCAT].val;
    if (!app__want(c, seq, YAML_SEQUENCE_NODE, "concat"))
        return;
    size_t count = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (count == 0 || count > MAX_CONCAT_PARTS) {
        app__err(c, seq, "concat: between 1 and %d parts are needed (%zu given)", MAX_CONCAT_PARTS, count);
        return;
    }
    app_concat_part *parts = arena_zalloc(c->a, count * sizeof *parts);
    size_t k = 0;
    bool ok = true, any_field = false;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *s = app__str(c, v, "each part of concat");
        if (!s) {
            ok = false;
            continue;
        }
        if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
            if (strlen(s) > MAX_CONCAT_LITERAL) { /* app__str refused NUL already */
                app__err(c, v, "concat: a literal must be at most %d bytes", MAX_CONCAT_LITERAL);
                ok = false;
                continue;
            }
            parts[k++].literal = arena_strdup(c->a, s);
            continue;
        }
        const app_field *g = app_field_by_name(m, s);
        if (!g) {
            app__err(c, v, "concat: model '%s' has no field '%s' (quote a literal: \"%s\")", m->name,
                     app__q(c, s), app__q(c, s));
            ok = false;
            continue;
        }
        const fside *gs = &ms->fields[g - m->fields];
        if (!gs->typed) {
            ok = false; /* its type had a problem, reported already */
            continue;
        }
        if (gs->computed || !concat_types[g->type]) {
            app__err(c, v, "concat: field '%s' (%s) cannot be a part: only string, text, enum, uuid, ref "
                           "and integer fields that are not computed themselves",
                     g->name, gs->computed ? "computed" : app_type_name(g->type));
            ok = false;
            continue;
        }
        parts[k++].field = g;
        any_field = true;
    }
    if (ok && !any_field)
        app__err(c, seq, "concat: at least one part must be a field (a constant is a default)");
    else if (ok) {
        f->computed = parts;
        f->n_computed = k;
    }
}

/* ---- defaults ------------------------------------------------------------- */

/* A default's YAML text as the JSON value a client would send. NULL with a
 * message in why when the text is not of the field's type at all. */
typedef json_t *(*default_reader)(const char *s, char *why, size_t cap);

static json_t *default_integer(const char *s, char *why, size_t cap)
{
    int64_t v;
    if (app__parse_int(s, &v))
        return json_integer(v);
    snprintf(why, cap, "must be an integer");
    return NULL;
}

static json_t *default_number(const char *s, char *why, size_t cap)
{
    double v;
    if (app__parse_num(s, &v))
        return json_real(v);
    snprintf(why, cap, "must be a finite decimal number");
    return NULL;
}

static json_t *default_boolean(const char *s, char *why, size_t cap)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
        return json_boolean(s[0] == 't');
    snprintf(why, cap, "must be true or false");
    return NULL;
}

static json_t *default_json(const char *s, char *why, size_t cap)
{
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (!v)
        snprintf(why, cap, "not valid JSON text: %s", e.text);
    return v;
}

static json_t *default_string(const char *s, char *why, size_t cap)
{
    json_t *v = json_string(s);
    if (!v)
        snprintf(why, cap, "must be UTF-8 text");
    return v;
}

static const default_reader default_readers[FT__COUNT] = {
    [FT_UUID] = default_string,       [FT_STRING] = default_string, [FT_TEXT] = default_string,
    [FT_INTEGER] = default_integer,   [FT_NUMBER] = default_number, [FT_BOOLEAN] = default_boolean,
    [FT_DATE] = default_string,       [FT_DATETIME] = default_string, [FT_JSON] = default_json,
    [FT_ENUM] = default_string,       [FT_REF] = default_string,
    [FT_REF_LIST] = NULL, /* no default: the key is not allowed */
};

static void check_default(app__ctx *c, app_field *f, const yaml_node_t *n)
{
    const type_desc *td = type_desc_of(f->type);
    const char *s = app__str(c, n, "default");
    if (!s || !default_readers[f->type] || !td->check)
        return;
    char why[200];
    json_t *v = default_readers[f->type](s, why, sizeof why);
    if (!v) {
        app__err(c, n, "default: %s", why);
        return;
    }
    sqlval sv;
    const char *msg = td->check(f, v, DS_ISO8601, c->tmp, &sv);
    if (msg) {
        app__err(c, n, "default: %s", msg);
    } else {
        char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!txt) {
            fputs("restd: out of memory (json_dumps)\n", stderr);
            abort(); /* the one OOM policy: abort */
        }
        f->default_json = arena_strdup(c->a, txt);
        free(txt);
    }
    json_decref(v);
}

/* ---- the section ---------------------------------------------------------- */

void app__load_models(app__ctx *c, app *a, yaml_node_t *n)
{
    if (!app__want(c, n, YAML_MAPPING_NODE, "models"))
        return;
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count == 0) {
        app__err(c, n, "models: at least one model is needed");
        return;
    }
    if (count > RD_MAX_MODELS) {
        app__err(c, n, "too many models (%zu; at most %d)", count, RD_MAX_MODELS);
        return;
    }
    app_model *models = arena_zalloc(c->a, count * sizeof *models);
    mside *side = arena_zalloc(c->tmp, count * sizeof *side);
    a->models = models;
    c->msides = side;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = app__node(c, p->key);
        const char *name = app__key_text(c, k, "models");
        if (!name)
            continue;
        if (!app__name_ok(name)) {
            app__err(c, k, "model name '%s' must match [a-z][a-z0-9_]* (at most %d characters)",
                     app__q(c, name), RD_MAX_NAME);
            name = app__q(c, name); /* later messages quote it as is */
        } else if (strncmp(name, "sqlite_", 7) == 0 || strstr(name, "__"))
            app__err(c, k, "model name '%s' is reserved (names starting with sqlite_ or holding "
                           "'__' belong to the database and to link tables)",
                     name);
        const app_model *prev = app_model_by_name(a, name);
        if (prev) {
            app__err(c, k, "duplicate model '%s' (first at line %u)", app__q(c, name), prev->line);
            continue;
        }
        app_model *m = &models[a->n_models];
        mside *ms = &side[a->n_models];
        m->name = arena_strdup(c->a, name);
        m->route = m->name;
        m->line = app__line(k);
        ms->key = k;
        a->n_models++;
        load_model(c, a, m, ms, app__node(c, p->value));
    }
    /* Now that every model is known: references, nested_under (which
     * follows them), then defaults (a ref default is checked against its
     * resolved field). */
    for (size_t i = 0; i < a->n_models; i++) {
        for (size_t k = 0; k < models[i].n_fields; k++) {
            app_field *f = &side[i].rw[k];
            const fside *fs = &side[i].fields[k];
            if (fs->model && !(f->ref = app_model_by_name(a, f->ref_name)))
                app__err(c, fs->model, "model: there is no model '%s' in this file",
                         app__q(c, f->ref_name));
        }
    }
    for (size_t i = 0; i < a->n_models; i++)
        if (side[i].nested)
            load_nested(c, a, &models[i], &side[i]);
    for (size_t i = 0; i < a->n_models; i++)
        for (size_t k = 0; k < models[i].n_fields; k++)
            if (side[i].fields[k].computed && side[i].fields[k].typed)
                load_computed(c, &models[i], &side[i], &side[i].rw[k], side[i].fields[k].computed);
    for (size_t i = 0; i < a->n_models; i++) {
        for (size_t k = 0; k < models[i].n_fields; k++) {
            const fside *fs = &side[i].fields[k];
            if (fs->def && fs->typed && !fs->faulty)
                check_default(c, &side[i].rw[k], fs->def);
        }
    }
}
