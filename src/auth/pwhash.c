/*
 * argon2id password hashing (libsodium) and the hashing thread pool. See
 * pwhash.h for the parameters and the pool's contract.
 */
#include "auth/pwhash.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "auth/auth_int.h"
#include "util/mem.h"

_Static_assert(PWHASH_STRBYTES == crypto_pwhash_STRBYTES, "PHC string buffer size");

/* A hash with today's parameters of a password nobody knows, for
 * pwhash_dummy_verify. A constant rather than one made at start-up: it
 * costs nothing, and test_pwhash.c fails if the parameters above change
 * without it being regenerated (pwhash_needs_rehash must say false). */
static const char DUMMY_HASH[PWHASH_STRBYTES] =
    "$argon2id$v=19$m=19456,t=2,p=1$H7gMN0stEQYkpmxyprOUQw$dBWzAzzp6ygBsBm3wXmIFsS6xgAUtl5LcOFTqTQT5cE";

const char *pwhash__dummy_hash(void) { return DUMMY_HASH; }

static const char ARGON2ID_PREFIX[] = "$argon2id$";

bool pwhash_hash(const char *password, size_t len, char out[PWHASH_STRBYTES])
{
    out[0] = '\0';
    if (len > PWHASH_MAX_PASSWORD)
        return false;
    auth__init();
    if (crypto_pwhash_str_alg(out, password, len, PWHASH_OPSLIMIT, PWHASH_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        out[0] = '\0';
        return false;
    }
    return true;
}

static bool is_argon2id(const char *hash)
{
    return strncmp(hash, ARGON2ID_PREFIX, sizeof ARGON2ID_PREFIX - 1) == 0 &&
           strnlen(hash, PWHASH_STRBYTES) < PWHASH_STRBYTES;
}

/* Read a decimal after prefix at *s; advance past it. */
static bool param(const char **s, const char *prefix, unsigned long max, unsigned long *out)
{
    size_t n = strlen(prefix);
    if (strncmp(*s, prefix, n) != 0)
        return false;
    const char *c = *s + n;
    unsigned long v = 0;
    if (*c < '0' || *c > '9')
        return false;
    while (*c >= '0' && *c <= '9') {
        v = v * 10 + (unsigned long)(*c++ - '0');
        if (v > max)
            return false;
    }
    *out = v;
    *s = c;
    return true;
}

/* The cost a stored hash asks for stays within reason: a tampered or
 * corrupt row must not make one login allocate gigabytes or spin for
 * minutes. Allows up to 256 MiB, 10 passes and 4 lanes, room for raising
 * today's parameters later. */
static bool params_sane(const char *hash)
{
    const char *s = hash + sizeof ARGON2ID_PREFIX - 1;
    unsigned long v, m, t, par;
    return param(&s, "v=", 19, &v) && v == 19 && param(&s, "$m=", 256ul * 1024, &m) &&
           param(&s, ",t=", 10, &t) && t >= 1 && param(&s, ",p=", 4, &par) && par >= 1 && *s == '$';
}

bool pwhash_verify(const char *hash, const char *password, size_t len)
{
    /* Every refusal costs what a real verify costs, so neither a missing
     * or broken hash nor an overlong password tells an attacker whether
     * the account exists. */
    if (!hash || !is_argon2id(hash) || !params_sane(hash) || len > PWHASH_MAX_PASSWORD) {
        pwhash_dummy_verify(password, len);
        return false;
    }
    auth__init();
    return crypto_pwhash_str_verify(hash, password, len) == 0;
}

void pwhash_dummy_verify(const char *password, size_t len)
{
    if (len > PWHASH_MAX_PASSWORD)
        len = PWHASH_MAX_PASSWORD;
    auth__init();
    if (crypto_pwhash_str_verify(DUMMY_HASH, password, len) == 0) {
        /* Someone typed the dummy password; it still grants nothing. */
    }
}

bool pwhash_needs_rehash(const char *hash)
{
    if (!hash || !is_argon2id(hash))
        return true;
    auth__init();
    return crypto_pwhash_str_needs_rehash(hash, PWHASH_OPSLIMIT, PWHASH_MEMLIMIT) != 0;
}

/* ---- standard jobs ---------------------------------------------------- */

void pwjob_hash(pwjob *j)
{
    j->ok = pwhash_hash(j->password, j->password_len, j->new_hash);
    j->err = j->ok || j->password_len > PWHASH_MAX_PASSWORD ? RD_OK : RD_UNAVAILABLE;
}

void pwjob_verify(pwjob *j)
{
    j->ok = pwhash_verify(j->hash, j->password, j->password_len);
    if (j->ok && pwhash_needs_rehash(j->hash)) {
        j->rehashed = pwhash_hash(j->password, j->password_len, j->new_hash);
    }
}

void pwjob_dummy(pwjob *j)
{
    pwhash_dummy_verify(j->password, j->password_len);
    j->ok = false;
}

/* ---- the pool --------------------------------------------------------- */

struct pwpool {
    workq q; /* waiting + running jobs, at most nthreads + max_queue */
    unsigned nthreads;
    pthread_t threads[PWPOOL_MAX_THREADS];
};

static void *pool_main(void *arg)
{
    pwpool *p = arg;
    workq_link *l;
    while ((l = workq_take(&p->q, 1))) {
        pwjob *j = (pwjob *)((char *)l - offsetof(pwjob, link));
        j->work(j);
        /* Leave the count before done: once done has run the owner may
         * free the job or submit again at once. */
        workq_done(&p->q, 1);
        j->done(j);
    }
    return NULL; /* stopping and drained */
}

pwpool *pwpool_new(unsigned nthreads, unsigned max_queue)
{
    if (nthreads < 1 || nthreads > PWPOOL_MAX_THREADS || max_queue > PWPOOL_MAX_QUEUE)
        return NULL;
    auth__init();
    pwpool *p = xcalloc(1, sizeof *p);
    workq_init(&p->q, nthreads + max_queue);
    for (; p->nthreads < nthreads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, p) != 0) {
            pwpool_free(p);
            return NULL;
        }
    }
    return p;
}

rd_err pwpool_submit(pwpool *p, pwjob *j)
{
    j->err = RD_OK;
    j->ok = false;
    j->rehashed = false;
    j->new_hash[0] = '\0';
    return workq_push(&p->q, &j->link) ? RD_OK : RD_UNAVAILABLE;
}

unsigned pwpool_pending(pwpool *p) { return (unsigned)workq_held(&p->q); }

void pwpool_free(pwpool *p)
{
    if (!p)
        return;
    workq_stop(&p->q);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    workq_fini(&p->q);
    free(p);
}
