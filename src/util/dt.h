/*
 * Dates and datetimes. Storage is canonical text that sorts correctly:
 * dates "YYYY-MM-DD", datetimes "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC. The
 * wire format follows the app's date_style, on input and output.
 * All functions are pure and thread-safe.
 */
#ifndef RESTD_DT_H
#define RESTD_DT_H

#include <stdbool.h>
#include <stddef.h>

#include "app/app.h"

#define DT_DATE_LEN 10     /* canonical date length */
#define DT_DATETIME_LEN 27 /* canonical datetime length */

/* Wire -> canonical. False for anything malformed or impossible (Feb 30,
 * hour 24, ...). ISO 8601 input accepts 'Z' or +hh:mm/-hh:mm offsets
 * (converted to UTC), a space or 'T' separator and 0-9 fraction digits;
 * naive input (no zone) is taken as UTC. out must hold the canonical length
 * plus a NUL. */
bool dt_parse_date(const char *s, size_t n, date_style ds, char *out);
bool dt_parse_datetime(const char *s, size_t n, date_style ds, char *out);

/* Canonical -> wire. Returns the length written (out holds at least 32
 * bytes, NUL-terminated); 0 when canon is not canonical. */
size_t dt_format_date(const char *canon, size_t n, date_style ds, char *out);
size_t dt_format_datetime(const char *canon, size_t n, date_style ds, char *out);

/* The current time, canonical (microsecond resolution). */
void dt_now(char *out);

/* canonical datetime + secs -> canonical (out: DT_DATETIME_LEN + 1 bytes).
 * False when canon is not canonical or the result leaves years 1-9999. */
bool dt_add_seconds(const char *canon, long long secs, char *out);

#endif
