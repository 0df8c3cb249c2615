/*
 * Request body parsing: a depth prescan, then jansson with restd's flags.
 *
 * jansson's parser recurses once per nesting level, up to its own bound of
 * 2048, so a hostile body could make it work deep before failing. The
 * prescan counts '[' and '{' outside strings in one pass and refuses a body
 * that nests deeper than RD_MAX_JSON_DEPTH before jansson sees it. It does
 * not validate anything else: a malformed body that passes the prescan is
 * rejected by jansson, which reports a line and column.
 *
 * jansson does the rest of restd's rules: invalid UTF-8 and "\u0000" are
 * errors (no JSON_ALLOW_NUL), duplicate keys are errors
 * (JSON_REJECT_DUPLICATES), integers beyond int64 are "too big integer",
 * and anything after the value is "end of file expected".
 */
#include "json/jin.h"

#include <stdbool.h>
#include <string.h>

#include "rd_limits.h"

/* True when data nests deeper than RD_MAX_JSON_DEPTH. */
static bool too_deep(const char *data, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_str) {
            if (c == '\\')
                i++; /* the escaped byte cannot end the string */
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            break;
        case '[':
        case '{':
            if (++depth > RD_MAX_JSON_DEPTH)
                return true;
            break;
        case ']':
        case '}':
            /* Below zero the body is malformed right here, and jansson
             * stops at this byte before any deeper nesting after it. */
            if (--depth < 0)
                return false;
            break;
        default:
            break;
        }
    }
    return false;
}

json_t *jin_parse(const char *data, size_t len, arena *a, const char **msg)
{
    if (len == 0) {
        *msg = "empty body";
        return NULL;
    }
    if (too_deep(data, len)) {
        *msg = arena_printf(a, "nesting deeper than %d levels", RD_MAX_JSON_DEPTH);
        return NULL;
    }
    json_error_t e;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (!v) {
        /* Clients need not know jansson's flag names. */
        const char *text = e.text;
        static const char nul[] = "\\u0000 is not allowed without JSON_ALLOW_NUL";
        if (strncmp(text, nul, sizeof nul - 1) == 0)
            text = arena_printf(a, "\\u0000 is not allowed%s", text + sizeof nul - 1);
        if (e.line > 0)
            *msg = arena_printf(a, "line %d column %d: %s", e.line, e.column, text);
        else
            *msg = arena_strdup(a, text);
    }
    return v;
}
