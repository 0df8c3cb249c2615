/*
 * Reading an app file with libyaml, safely, and the diagnostics every later
 * check reports through.
 *
 * The file is read whole (at most RD_MAX_APP_FILE bytes) and parsed twice.
 * The first pass walks the event stream and rejects what the document API
 * would hide or make expensive: anchors and aliases (an alias is invisible
 * once loaded, and a billion-laughs file is made of them), explicit tags,
 * more than one document and nesting deeper than RD_MAX_YAML_DEPTH. Only a
 * stream that passes is loaded with yaml_parser_load, so every node the
 * checks look at carries a line and column. Input must be UTF-8: the
 * encoding is forced, so libyaml rejects a UTF-16 BOM and invalid bytes.
 *
 * Scalars are read by what the key expects, never by YAML 1.1 guessing:
 * `"true"` and `true` are the same, `yes` is not a boolean, `010` is not
 * octal. Plain empty, `~` and `null` scalars are "no value" everywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app_int.h"
#include "rd_limits.h"

/* ---- diagnostics ------------------------------------------------------ */

void app__ctx_init(app__ctx *c, const char *path, arena *model_arena)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->a = model_arena;
    c->tmp = arena_new();
    c->diags = arena_alloc(c->tmp, RD_MAX_APP_DIAGS * sizeof *c->diags);
}

void app__ctx_fini(app__ctx *c)
{
    if (c->have_doc)
        yaml_document_delete(&c->doc);
    c->have_doc = false;
    arena_free(c->tmp);
    c->tmp = NULL;
}

static void vdiag(app__ctx *c, size_t line, size_t col, const char *fmt, va_list ap)
{
    if (c->n_diags == RD_MAX_APP_DIAGS) {
        c->n_dropped++;
        return;
    }
    char msg[1024]; /* user text in messages goes through app__q, so this fits */
    vsnprintf(msg, sizeof msg, fmt, ap);
    c->diags[c->n_diags] = (app__diag){
        .line = line, .col = col, .seq = c->n_diags, .msg = arena_strdup(c->tmp, msg)};
    c->n_diags++;
}

void app__err_at(app__ctx *c, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, line, col, fmt, ap);
    va_end(ap);
}

void app__err(app__ctx *c, const yaml_node_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, at ? at->start_mark.line + 1 : 1, at ? at->start_mark.column + 1 : 1, fmt, ap);
    va_end(ap);
}

static int diag_cmp(const void *pa, const void *pb)
{
    const app__diag *a = pa, *b = pb;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

char *app__report(app__ctx *c)
{
    if (c->n_diags == 0)
        return NULL;
    qsort(c->diags, c->n_diags, sizeof *c->diags, diag_cmp);
    buf b;
    /* At most RD_MAX_APP_DIAGS lines of a path and a bounded message. */
    buf_init(&b, NULL, RD_MAX_APP_DIAGS * (strlen(c->path) + 1100) + 4096);
    for (size_t i = 0; i < c->n_diags; i++)
        buf_printf(&b, "%s:%zu:%zu: %s\n", c->path, c->diags[i].line, c->diags[i].col,
                   c->diags[i].msg);
    if (c->n_dropped)
        buf_printf(&b, "%s:1:1: %zu more problems not shown (only the first %d are listed)\n",
                   c->path, c->n_dropped, RD_MAX_APP_DIAGS);
    return b.data;
}

unsigned app__line(const yaml_node_t *n) { return (unsigned)n->start_mark.line + 1; }

yaml_node_t *app__node(app__ctx *c, int index) { return yaml_document_get_node(&c->doc, index); }

const char *app__q(app__ctx *c, const char *s)
{
    enum { SHOW = 60 }; /* bytes of user text shown before "..." */
    char out[SHOW * 4 + 8];
    size_t o = 0, i = 0;
    for (; s[i] && i < SHOW; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02X", ch);
        else
            out[o++] = (char)ch;
    }
    if (s[i]) {
        /* Do not cut a UTF-8 sequence in half. */
        while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
            o--;
        if (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0xC0)
            o--;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    return arena_strndup(c->tmp, out, o);
}

/* ---- reading and checking the stream ------------------------------------ */

/* Read the whole file into a heap buffer; problems are recorded at 1:1. */
static bool read_file(app__ctx *c, unsigned char **out, size_t *out_n)
{
    int fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        app__err_at(c, 1, 1, "cannot open: %s", strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        app__err_at(c, 1, 1, "not a regular file");
        close(fd);
        return false;
    }
    if (st.st_size > RD_MAX_APP_FILE) {
        app__err_at(c, 1, 1, "file is too large (%lld bytes; at most %d)", (long long)st.st_size,
                    RD_MAX_APP_FILE);
        close(fd);
        return false;
    }
    /* Read one byte past the limit: the file may have grown since fstat. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    unsigned char *p = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > RD_MAX_APP_FILE)
                break;
            cap = cap * 2 > (size_t)RD_MAX_APP_FILE + 1 ? (size_t)RD_MAX_APP_FILE + 1 : cap * 2;
            p = xrealloc(p, cap);
        }
        ssize_t r = read(fd, p + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            app__err_at(c, 1, 1, "cannot read: %s", strerror(errno));
            free(p);
            close(fd);
            return false;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > RD_MAX_APP_FILE) {
        app__err_at(c, 1, 1, "file is too large (more than %d bytes)", RD_MAX_APP_FILE);
        free(p);
        return false;
    }
    *out = p;
    *out_n = n;
    return true;
}

static void syntax_error(app__ctx *c, const yaml_parser_t *p, const unsigned char *s, size_t n)
{
    const char *problem = p->problem ? p->problem : "cannot parse";
    if (p->error == YAML_MEMORY_ERROR) {
        app__err_at(c, 1, 1, "out of memory while parsing");
    } else if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        size_t line = 1, col = 1, off = p->problem_offset < n ? p->problem_offset : n;
        for (size_t i = 0; i < off; i++, col++)
            if (s[i] == '\n')
                line++, col = 0;
        if (p->problem_value >= 0)
            app__err_at(c, line, col, "not valid UTF-8 text: %s (#%X)", problem,
                        (unsigned)p->problem_value);
        else
            app__err_at(c, line, col, "not valid UTF-8 text: %s", problem);
    } else if (p->context) {
        app__err_at(c, p->problem_mark.line + 1, p->problem_mark.column + 1,
                    "syntax error: %s (%s at line %zu)", problem, p->context,
                    p->context_mark.line + 1);
    } else {
        app__err_at(c, p->problem_mark.line + 1, p->problem_mark.column + 1, "syntax error: %s",
                    problem);
    }
}

static void parser_open(yaml_parser_t *p, const unsigned char *s, size_t n)
{
    if (!yaml_parser_initialize(p)) {
        fputs("restd: out of memory (yaml parser)\n", stderr);
        abort(); /* the one OOM policy: abort */
    }
    yaml_parser_set_encoding(p, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(p, s, n);
}

/* Anchor and tag of a node event; NULL for other events. */
static void event_props(const yaml_event_t *ev, const yaml_char_t **anchor, const yaml_char_t **tag)
{
    *anchor = *tag = NULL;
    if (ev->type == YAML_SCALAR_EVENT) {
        *anchor = ev->data.scalar.anchor;
        *tag = ev->data.scalar.tag;
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        *anchor = ev->data.sequence_start.anchor;
        *tag = ev->data.sequence_start.tag;
    } else if (ev->type == YAML_MAPPING_START_EVENT) {
        *anchor = ev->data.mapping_start.anchor;
        *tag = ev->data.mapping_start.tag;
    }
}

/* The first pass over the event stream (see the top of the file). */
static bool check_stream(app__ctx *c, const unsigned char *s, size_t n)
{
    yaml_parser_t p;
    parser_open(&p, s, n);
    size_t before = c->n_diags + c->n_dropped;
    int depth = 0, docs = 0;
    bool done = false;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(c, &p, s, n);
            break;
        }
        size_t line = ev.start_mark.line + 1, col = ev.start_mark.column + 1;
        const yaml_char_t *anchor, *tag;
        event_props(&ev, &anchor, &tag);
        if (anchor)
            app__err_at(c, line, col, "anchors are not allowed (&%s)", app__q(c, (const char *)anchor));
        if (tag)
            app__err_at(c, line, col, "tags are not allowed (%s)", app__q(c, (const char *)tag));
        switch (ev.type) {
        case YAML_ALIAS_EVENT:
            app__err_at(c, line, col, "aliases are not allowed (*%s)",
                        app__q(c, (const char *)ev.data.alias.anchor));
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs == 2)
                app__err_at(c, line, col, "only one YAML document is allowed");
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > RD_MAX_YAML_DEPTH) {
                app__err_at(c, line, col, "nesting deeper than %d levels", RD_MAX_YAML_DEPTH);
                done = true;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (c->n_dropped)
            done = true; /* enough said */
    }
    yaml_parser_delete(&p);
    if (c->n_diags + c->n_dropped == before && docs == 0)
        app__err_at(c, 1, 1, "the file is empty");
    return c->n_diags + c->n_dropped == before;
}

bool app__parse(app__ctx *c)
{
    unsigned char *s;
    size_t n;
    if (!read_file(c, &s, &n))
        return false;
    bool ok = check_stream(c, s, n);
    if (ok) {
        yaml_parser_t p;
        parser_open(&p, s, n);
        if (yaml_parser_load(&p, &c->doc)) {
            c->have_doc = true;
        } else {
            syntax_error(c, &p, s, n); /* not reached after check_stream, but cheap */
            ok = false;
        }
        yaml_parser_delete(&p);
    }
    free(s);
    if (ok && !yaml_document_get_root_node(&c->doc)) {
        app__err_at(c, 1, 1, "the file is empty");
        ok = false;
    }
    return ok;
}

/* ---- nodes ------------------------------------------------------------ */

bool app__is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

static const char *kind_name(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    return app__is_null(n) ? "empty" : "a single value";
}

bool app__want(app__ctx *c, const yaml_node_t *n, yaml_node_type_t kind, const char *what)
{
    if (n->type == kind && !(kind == YAML_SCALAR_NODE && app__is_null(n)))
        return true;
    static const char *const wanted[] = {
        [YAML_SCALAR_NODE] = "a value",
        [YAML_SEQUENCE_NODE] = "a list",
        [YAML_MAPPING_NODE] = "a mapping",
    };
    if (n->type == kind || app__is_null(n))
        app__err(c, n, "%s must be %s, not empty", what, wanted[kind]);
    else
        app__err(c, n, "%s must be %s, not %s", what, wanted[kind], kind_name(n));
    return false;
}

const char *app__key_text(app__ctx *c, const yaml_node_t *k, const char *what)
{
    if (k->type != YAML_SCALAR_NODE || app__is_null(k)) {
        app__err(c, k, "%s: a key must be a plain string, not %s", what, kind_name(k));
        return NULL;
    }
    return app__str(c, k, "a key");
}

bool app__map(app__ctx *c, yaml_node_t *map, const yaml_node_t *owner, const char *what,
              const app__key *keys, size_t n, app__kv *out)
{
    memset(out, 0, n * sizeof *out);
    if (!app__want(c, map, YAML_MAPPING_NODE, what))
        return false;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = app__node(c, p->key), *v = app__node(c, p->value);
        const char *name = app__key_text(c, k, what);
        if (!name)
            continue;
        size_t i = 0;
        while (i < n && strcmp(keys[i].name, name) != 0)
            i++;
        if (i == n) {
            buf known;
            buf_init(&known, c->tmp, 1024);
            for (size_t j = 0; j < n; j++)
                buf_printf(&known, "%s%s", j ? ", " : "", keys[j].name);
            app__err(c, k, "unknown key '%s' in %s (known keys: %s)", app__q(c, name), what,
                     buf_cstr(&known));
        } else if (out[i].key) {
            app__err(c, k, "duplicate key '%s' in %s (first at line %u)", app__q(c, name), what,
                     app__line(out[i].key));
        } else {
            out[i] = (app__kv){k, v};
        }
    }
    for (size_t i = 0; i < n; i++)
        if (keys[i].required && !out[i].key)
            app__err(c, owner ? owner : map, "%s: missing required key '%s'", what, keys[i].name);
    return true;
}

/* ---- scalars ------------------------------------------------------------ */

const char *app__str(app__ctx *c, const yaml_node_t *n, const char *what)
{
    if (!app__want(c, n, YAML_SCALAR_NODE, what))
        return NULL;
    const char *s = (const char *)n->data.scalar.value;
    if (strlen(s) != n->data.scalar.length) {
        app__err(c, n, "%s must not contain a NUL character", what);
        return NULL;
    }
    return s;
}

bool app__bool(app__ctx *c, const yaml_node_t *n, const char *what, bool *out)
{
    const char *s = app__str(c, n, what);
    if (!s)
        return false;
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        *out = s[0] == 't';
        return true;
    }
    app__err(c, n, "%s must be true or false, not '%s'", what, app__q(c, s));
    return false;
}

bool app__parse_int(const char *s, int64_t *out)
{
    const char *d = s + (*s == '-' || *s == '+');
    if (!*d || (d[0] == '0' && d[1])) /* no digits, or a leading zero */
        return false;
    for (const char *p = d; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end)
        return false;
    *out = v;
    return true;
}

/* [-+]?D+(.D+)?([eE][-+]?D+)? — no hex, inf, nan or bare dots. */
static bool number_syntax(const char *s)
{
    const char *p = s + (*s == '-' || *s == '+');
    const char *d = p;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p == d)
        return false;
    if (*p == '.') {
        d = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '-' || *p == '+';
        d = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return false;
    }
    return *p == '\0';
}

bool app__parse_num(const char *s, double *out)
{
    if (!number_syntax(s))
        return false;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool app__int(app__ctx *c, const yaml_node_t *n, const char *what, int64_t lo, int64_t hi,
              int64_t *out)
{
    const char *s = app__str(c, n, what);
    if (!s)
        return false;
    int64_t v;
    if (!app__parse_int(s, &v) || v < lo || v > hi) {
        app__err(c, n, "%s must be an integer from %lld to %lld, not '%s'", what, (long long)lo,
                 (long long)hi, app__q(c, s));
        return false;
    }
    *out = v;
    return true;
}

bool app__num(app__ctx *c, const yaml_node_t *n, const char *what, double *out)
{
    const char *s = app__str(c, n, what);
    if (!s)
        return false;
    if (!app__parse_num(s, out)) {
        app__err(c, n, "%s must be a finite decimal number, not '%s'", what, app__q(c, s));
        return false;
    }
    return true;
}

bool app__name_ok(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    size_t i = 1;
    for (; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return i <= RD_MAX_NAME;
}
