/*
 * A streaming JSON writer into a bounded buf. It tracks commas and nesting
 * itself, escapes strings (control characters, quotes, backslash, and
 * U+2028/U+2029), and never emits invalid JSON: numbers that JSON cannot hold
 * (NaN, infinities) come out as null. Once the buffer's ceiling is hit or the
 * calls are unbalanced the writer goes sticky-bad and jw_ok reports it.
 */
#ifndef RESTD_JW_H
#define RESTD_JW_H

#include <stdbool.h>
#include <stdint.h>

#include "rd_limits.h"
#include "util/mem.h"

/* Embeddable; all fields private. Level d (0-based) is the d+1'th open
 * container. */
typedef struct jw {
    buf *out;
    int depth;       /* open containers */
    bool err;        /* sticky: ceiling hit or unbalanced calls */
    bool after_key;  /* a key was written; its value comes next */
    bool done;       /* a whole top-level value was written */
    uint64_t in_obj; /* bit d: level d is an object (else an array) */
    bool need_comma[RD_JW_MAX_DEPTH];
} jw;
_Static_assert(RD_JW_MAX_DEPTH <= 64, "jw.in_obj holds one bit per level");

void jw_init(jw *w, buf *out);
void jw_obj_begin(jw *w);
void jw_obj_end(jw *w);
void jw_arr_begin(jw *w);
void jw_arr_end(jw *w);
/* An object key; n bytes of k (need not be NUL-terminated). */
void jw_key(jw *w, const char *k, size_t n);
void jw_keyz(jw *w, const char *k);
/* A string value; s is assumed to be UTF-8 (invalid bytes are replaced by U+FFFD). */
void jw_str(jw *w, const char *s, size_t n);
void jw_strz(jw *w, const char *s);
void jw_null(jw *w);
void jw_bool(jw *w, bool v);
void jw_int(jw *w, int64_t v);
void jw_num(jw *w, double v); /* a short form that reads back exactly; NaN/inf as null */
/* Already-encoded JSON text (trusted: e.g. a json column restd wrote). */
void jw_raw(jw *w, const char *json, size_t n);
/* True when the document so far is well-formed and fit in the buffer.
 * A document holds one top-level value; a second one is an error. */
bool jw_ok(const jw *w);

#endif
