/*
 * Login throttling: failures counted per key (an account's login, a client
 * address) in a window; past the limit the key is locked for a while and
 * the caller answers 429 with Retry-After. Keys are hashed (a login is
 * never kept) into a fixed table, so memory is bounded whatever the
 * traffic; a new key takes the less valuable of its two candidate slots
 * (empty or stale first, then the fewer failures; a running lock is kept
 * over any count). Thread-safe (one mutex; only sign-ins touch it).
 */
#ifndef RESTD_THROTTLE_H
#define RESTD_THROTTLE_H

#include <stddef.h>
#include <time.h>

typedef struct throttle throttle;

typedef struct throttle_rule {
    int max_fails;  /* failures within window before a lock */
    int window_sec; /* how long failures are remembered */
    int lock_sec;   /* how long a lock lasts */
} throttle_rule;

throttle *throttle_new(size_t slots);
void throttle_free(throttle *t);
/* Seconds until key may try again; 0 when it may now. */
long throttle_wait(throttle *t, const char *key, size_t n, time_t now);
/* Count a failure; returns the seconds of a lock it starts (0: none). */
long throttle_fail(throttle *t, const char *key, size_t n, const throttle_rule *r, time_t now);
/* A success forgets the key's failures. */
void throttle_clear(throttle *t, const char *key, size_t n);

#endif
