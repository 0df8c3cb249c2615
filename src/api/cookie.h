/*
 * Reading one cookie out of a Cookie request header (RFC 6265 §5.4: pairs
 * "name=value" separated by ";" and optional spaces). The header is hostile
 * input: it is read only up to RD_MAX_COOKIE_HEADER bytes and
 * RD_MAX_COOKIE_PAIRS pairs, nothing is copied, and a malformed pair
 * (no '=', empty name) is skipped rather than trusted.
 */
#ifndef RESTD_COOKIE_H
#define RESTD_COOKIE_H

#include <stddef.h>

typedef enum cookie_result {
    COOKIE_ABSENT,  /* no pair with that name */
    COOKIE_FOUND,   /* *val / *vlen: the value, a slice of hdr (surrounding DQUOTEs dropped) */
    COOKIE_REFUSED, /* the header is over the limits, or the name is given twice (a sibling
                       site may have planted the second one, so neither is believed) */
} cookie_result;

/* Find the cookie named name (exact, case-sensitive) in hdr (n bytes, not
 * NUL-terminated). val and vlen are OUT, set only on COOKIE_FOUND. Pure. */
cookie_result cookie_find(const char *hdr, size_t n, const char *name, const char **val, size_t *vlen);

#endif
