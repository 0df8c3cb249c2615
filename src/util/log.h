/*
 * Logging: logfmt lines on stderr. The level check happens before any
 * formatting. Request lines are buffered per thread and flushed in whole
 * lines (log_flush, called by each event loop on a short timer and at exit)
 * so a busy server does not pay one write(2) per request.
 */
#ifndef RESTD_LOG_H
#define RESTD_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG__COUNT } log_level;

extern log_level log_threshold; /* set once at start-up, read-only afterwards */

bool log_level_parse(const char *s, log_level *out);
void log_write(log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) (log_threshold >= LOG_ERROR ? log_write(LOG_ERROR, __VA_ARGS__) : (void)0)
#define log_warn(...) (log_threshold >= LOG_WARN ? log_write(LOG_WARN, __VA_ARGS__) : (void)0)
#define log_info(...) (log_threshold >= LOG_INFO ? log_write(LOG_INFO, __VA_ARGS__) : (void)0)
#define log_debug(...) (log_threshold >= LOG_DEBUG ? log_write(LOG_DEBUG, __VA_ARGS__) : (void)0)

/* One request line (info level), buffered in the calling thread. The path
 * is escaped (quotes, control bytes). */
void log_request(const char *method, size_t mlen, const char *path, size_t plen, int status,
                 long long us, size_t bytes);
/* Write out the calling thread's buffered lines. */
void log_flush(void);

#endif
