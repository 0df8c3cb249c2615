/* The bounded hand-off queue; see workq.h. */
#include "util/workq.h"

void workq_init(workq *q, size_t cap)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = q->tail = NULL;
    q->held = 0;
    q->cap = cap;
    q->stopping = false;
}

void workq_fini(workq *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

bool workq_push(workq *q, workq_link *l)
{
    l->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->stopping || q->held >= q->cap) {
        pthread_mutex_unlock(&q->mu);
        return false;
    }
    if (q->tail)
        q->tail->next = l;
    else
        q->head = l;
    q->tail = l;
    q->held++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return true;
}

workq_link *workq_take(workq *q, size_t max)
{
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->stopping)
        pthread_cond_wait(&q->cv, &q->mu);
    workq_link *first = q->head;
    if (first) {
        workq_link *last = first;
        for (size_t n = 1; last->next && n < max; n++)
            last = last->next;
        q->head = last->next;
        if (!q->head)
            q->tail = NULL;
        last->next = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    return first;
}

void workq_done(workq *q, size_t n)
{
    pthread_mutex_lock(&q->mu);
    q->held -= n;
    pthread_mutex_unlock(&q->mu);
}

void workq_stop(workq *q)
{
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

size_t workq_held(workq *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->held;
    pthread_mutex_unlock(&q->mu);
    return n;
}
