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

static slot *find(throttle *t, uint64_t k) { return &t->slots[k % t->n]; }

long throttle_wait(throttle *t, const char *key, size_t n, time_t now)
{
    uint64_t k = hash(t, key, n);
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, k);
    long wait = s->key == k && s->locked_until > now ? (long)(s->locked_until - now) : 0;
    pthread_mutex_unlock(&t->mu);
    return wait;
}

long throttle_fail(throttle *t, const char *key, size_t n, const throttle_rule *r, time_t now)
{
    uint64_t k = hash(t, key, n);
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, k);
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
    if (s->key == k && s->locked_until == 0)
        *s = (slot){0};
    else if (s->key == k)
        s->fails = 0;
    pthread_mutex_unlock(&t->mu);
}
