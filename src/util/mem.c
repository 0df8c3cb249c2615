/* Allocation with one OOM policy, the request arena and bounded buffers. */
#include "util/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static void oom(size_t n)
{
    char msg[80];
    int len = snprintf(msg, sizeof msg, "restd: out of memory (%zu bytes)\n", n);
    if (len > 0 && write(2, msg, (size_t)len) < 0) {
        /* nothing left to report with */
    }
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

/* ---- arena ------------------------------------------------------------ */

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char mem[];
} chunk;

struct arena {
    chunk *head;
};

static chunk *chunk_new(size_t size)
{
    chunk *c = xmalloc(sizeof *c + size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    POISON(c->mem, size); /* slack is unaddressable until handed out */
    return c;
}

/* Each thread keeps a few spent arenas (one standard chunk each) to hand
 * out again, so a request costs no malloc for its arena. Arenas are made
 * and released on the same loop thread almost always; one released on
 * another thread simply joins that thread's spares. */
#define ARENA_SPARES 32
static _Thread_local arena *spares[ARENA_SPARES];
static _Thread_local int n_spares;

arena *arena_new(void)
{
    if (n_spares > 0)
        return spares[--n_spares];
    arena *a = xmalloc(sizeof *a);
    a->head = chunk_new(ARENA_CHUNK);
    return a;
}

void arena_free(arena *a)
{
    if (!a)
        return;
    chunk *keep = NULL;
    for (chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        if (!keep && c->size == ARENA_CHUNK && n_spares < ARENA_SPARES) {
            keep = c;
            continue;
        }
        UNPOISON(c->mem, c->size);
        free(c);
    }
    if (!keep) {
        free(a);
        return;
    }
    keep->next = NULL;
    keep->used = 0;
    POISON(keep->mem, keep->size);
    a->head = keep;
    spares[n_spares++] = a;
}

void arena_spares_release(void)
{
    while (n_spares > 0) {
        arena *a = spares[--n_spares];
        UNPOISON(a->head->mem, a->head->size);
        free(a->head);
        free(a);
    }
}

void *arena_alloc(arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n)
        oom(n);
    chunk *c = a->head;
    if (c->size - c->used < need) {
        if (need > ARENA_CHUNK / 4) {
            /* A big block gets a chunk of its own behind the current one,
             * so the current chunk's slack stays usable. */
            chunk *big = chunk_new(need);
            big->next = c->next;
            c->next = big;
            big->used = need;
            UNPOISON(big->mem, n);
            return big->mem;
        }
        c = chunk_new(ARENA_CHUNK);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->mem + c->used;
    c->used += need;
    UNPOISON(p, n);
    return p;
}

void *arena_zalloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return arena_strdup(a, "");
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* ---- buf -------------------------------------------------------------- */

void buf_init(buf *b, arena *a, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->a = a;
}

void buf_fini(buf *b)
{
    if (!b->a)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static bool grow(buf *b, size_t need)
{
    if (need > b->max)
        return false;
    if (need + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need + 1)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    if (b->a) {
        char *p = arena_alloc(b->a, cap);
        if (b->len)
            memcpy(p, b->data, b->len);
        b->data = p;
    } else {
        b->data = xrealloc(b->data, cap);
    }
    b->cap = cap;
    return true;
}

bool buf_append(buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len || !grow(b, b->len + n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool buf_putc(buf *b, char c) { return buf_append(b, &c, 1); }

bool buf_puts(buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

bool buf_printf(buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < sizeof small)
        return buf_append(b, small, (size_t)n);
    if ((size_t)n > b->max - b->len || !grow(b, b->len + (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

const char *buf_cstr(buf *b)
{
    if (!b->data)
        return "";
    return b->data;
}
