/*
 * Query strings: split "a=1&b=x%20y" into decoded name/value pairs.
 * Percent escapes and '+' are decoded; a malformed escape, a NUL byte or
 * invalid UTF-8 after decoding is an error. Pure; all memory from the arena.
 */
#ifndef RESTD_QUERY_H
#define RESTD_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/mem.h"

#define RD_MAX_QUERY_PARAMS 64

typedef struct qparam {
    const char *name;
    const char *value;
    size_t value_len;
} qparam;

/* Returns the number of pairs (>= 0) or -1 on malformed input, with *bad
 * set to a short message. Empty segments ("a=1&&b=2") are skipped; a name
 * without '=' has an empty value. */
int query_parse(const char *q, size_t n, arena *a, qparam *out, size_t cap, const char **bad);

/* A boolean as Python's strtobool reads it, ignoring ASCII case: true for
 * y, yes, t, true, on, 1; false for n, no, f, false, off, 0. gazu sends
 * Python's True/False. False (and *out untouched) for anything else. */
bool query_bool(const char *s, size_t n, bool *out);

/* Strict decimal parse of the whole string into [min, max]. */
bool query_int(const char *s, size_t n, long long min, long long max, long long *out);

#endif
