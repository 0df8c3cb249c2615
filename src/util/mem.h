/*
 * Memory: the OOM policy, request arenas and bounded byte buffers.
 *
 * OOM policy: every input is bounded (limits.h), so a failed allocation means
 * the machine is truly out of memory. xmalloc and friends abort through one
 * hook; no caller checks for NULL.
 *
 * Arena: a bump allocator for everything a request builds (parsed values,
 * SQL, bind values, the response body). Nothing allocated from it is freed
 * on its own; arena_free releases it all at once. Not thread-safe: one owner
 * at a time (a request hands its arena to the writer thread and back).
 *
 * buf: a growable byte buffer with a ceiling fixed at init (curl dynbuf). An
 * append past the ceiling fails and leaves the buffer unchanged.
 */
#ifndef RESTD_MEM_H
#define RESTD_MEM_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

typedef struct arena arena;

arena *arena_new(void);
/* Releases everything; the thread may keep the arena's first chunk to hand
 * out again from arena_new. */
void arena_free(arena *a);
/* Free the calling thread's spare arenas; call before a thread ends. */
void arena_spares_release(void);
/* Aligned for any type; never NULL. Valid until arena_free. */
void *arena_alloc(arena *a, size_t n);
void *arena_zalloc(arena *a, size_t n);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Embeddable: fields are public for reading (data, len), private otherwise. */
typedef struct buf {
    char *data; /* NUL-terminated when len > 0 or after buf_cstr */
    size_t len;
    size_t cap;
    size_t max; /* private: ceiling */
    arena *a;   /* private: NULL means heap, released by buf_fini */
} buf;

/* a == NULL: heap storage that buf_fini frees. max: the ceiling in bytes. */
void buf_init(buf *b, arena *a, size_t max);
void buf_fini(buf *b);
void buf_reset(buf *b);
/* Return false (and change nothing) when the ceiling would be passed. */
bool buf_append(buf *b, const void *p, size_t n);
bool buf_putc(buf *b, char c);
bool buf_puts(buf *b, const char *s);
bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a C string (empty string when nothing was appended). */
const char *buf_cstr(buf *b);

#endif
