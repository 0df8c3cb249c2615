/*
 * Request body parsing on jansson with restd's rules: valid UTF-8 only, no
 * NUL characters, duplicate object keys rejected, nesting capped at
 * RD_MAX_JSON_DEPTH (checked by a prescan before jansson recurses), integers
 * that do not fit in 64 bits rejected, nothing after the value.
 */
#ifndef RESTD_JIN_H
#define RESTD_JIN_H

#include <jansson.h>
#include <stddef.h>

#include "util/mem.h"

/*
 * Parse len bytes of data. Returns a new reference (caller json_decref's)
 * or NULL with *msg set to a one-line English reason allocated from a,
 * e.g. "line 1 column 9: duplicate object key". Thread-safe.
 */
json_t *jin_parse(const char *data, size_t len, arena *a, const char **msg);

#endif
