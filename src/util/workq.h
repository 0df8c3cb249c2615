/*
 * A bounded hand-off queue between threads: producers push intrusive
 * links, worker threads take them (one, or a batch) and report when they
 * are finished with them. Used by the store's writer thread (batches for
 * group commit) and the password-hashing pool (one job at a time).
 *
 * The bound counts every item pushed and not yet reported done, so it
 * limits memory held by work in progress, not just the waiting line.
 * Embeddable; fields are private.
 */
#ifndef RESTD_WORKQ_H
#define RESTD_WORKQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct workq_link {
    struct workq_link *next;
} workq_link;

typedef struct workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    workq_link *head, *tail;
    size_t held; /* pushed, not yet done */
    size_t cap;
    bool stopping;
} workq;

void workq_init(workq *q, size_t cap);
void workq_fini(workq *q);
/* Queue l. False (and nothing queued) when full or stopping. */
bool workq_push(workq *q, workq_link *l);
/* Block until there is work or the queue stops; detach up to max items
 * as a NULL-terminated chain in push order. NULL: stopped and drained. */
workq_link *workq_take(workq *q, size_t max);
/* Report n taken items finished, freeing their places. */
void workq_done(workq *q, size_t n);
/* Refuse new items and wake every taker; items already queued are still
 * handed out. */
void workq_stop(workq *q);
size_t workq_held(workq *q);

#endif
