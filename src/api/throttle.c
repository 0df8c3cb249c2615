/* Login throttling; see throttle.h. */
#include "api/throttle.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/mem.h"

typedef struct slot {
    uint64_t key; /* 0: empty */
    int fails;
    time_t first; /* start of the counting window */
    time_t locked_until;
} slot;

struct throttle {
    pthread_mutex_t mu;
    size_t n;
    slot *slots;
    uint64_t seed;
};

static uint64_t hash(const throttle *t, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ t->seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h ? h : 1;
}

throttle *throttle_new(size_t slots)
{
    throttle *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->n = slots ? slots : 1;
    t->slots = xcalloc(t->n, sizeof *t->slots);
    /* a per-process seed, so slot collisions cannot be planned offline */
    t->seed = ((uint64_t)(uintptr_t)t << 17) ^ (uint64_t)time(NULL);
    return t;
}

void throttle_free(throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->slots);
    free(t);
}

/* Each key has two candidate slots (from the two halves of its hash). A
 * key that is counted stays where it is; a new key takes the candidate
 * that matters least, so a stream of one-off keys (sprayed logins or
 * addresses) cannot push out the count or lock of a key under attack. */
static void candidates(const throttle *t, uint64_t k, slot **a, slot **b)
{
    size_t i = k % t->n, j = (k >> 32 ^ k * 0x9E3779B97F4A7C15ULL) % t->n;
    if (j == i) /* two distinct places whenever the table has them */
        j = (i + 1) % t->n;
    *a = &t->slots[i];
    *b = &t->slots[j];
}

static slot *find(const throttle *t, uint64_t k)
{
    slot *a, *b;
    candidates(t, k, &a, &b);
    return a->key == k ? a : b->key == k ? b : NULL;
}

/* How much a slot is worth keeping at now: nothing when empty or stale,
 * then by its failures; a running lock above everything. */
static long long worth(const slot *s, const throttle_rule *r, time_t now)
{
    if (s->key == 0)
        return -1;
    if (s->locked_until > now)
        return (long long)1 << 40 | (long long)(s->locked_until - now);
    return now - s->first >= r->window_sec ? -1 : s->fails;
}

long throttle_wait(throttle *t, const char *key, size_t n, time_t now)
{
    uint64_t k = hash(t, key, n);
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, k);
    long wait = s && s->locked_until > now ? (long)(s->locked_until - now) : 0;
    pthread_mutex_unlock(&t->mu);
    return wait;
}

long throttle_fail(throttle *t, const char *key, size_t n, const throttle_rule *r, time_t now)
{
    uint64_t k = hash(t, key, n);
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, k);
    if (!s) {
        slot *a, *b;
        candidates(t, k, &a, &b);
        s = worth(b, r, now) < worth(a, r, now) ? b : a;
    }
    if (s->key != k || now - s->first >= r->window_sec)
        *s = (slot){.key = k, .first = now};
    long lock = 0;
    if (++s->fails >= r->max_fails) {
        s->locked_until = now + r->lock_sec;
        s->fails = 0;
        s->first = now;
        lock = r->lock_sec;
    }
    pthread_mutex_unlock(&t->mu);
    return lock;
}

void throttle_clear(throttle *t, const char *key, size_t n)
{
    uint64_t k = hash(t, key, n);
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, k);
    if (s && s->locked_until == 0)
        *s = (slot){0};
    else if (s)
        s->fails = 0;
    pthread_mutex_unlock(&t->mu);
}
