/*
 * The adapter between libh2o (evloop flavour) and the API layer.
 *
 * Threads: N loop threads, each an h2o context with its own listener (so the
 * kernel spreads connections), plus the store's writer thread. The main
 * thread waits for a signal and then asks every loop to stop.
 *
 * Request memory: each request gets an arena. A request waiting for a write
 * also lends its arena to the writer thread, so the arena is shared by two
 * owners (h2o's request and the write job) and freed by whichever lets go
 * last; both let go on the loop thread, so a plain counter is enough.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "api/api.h"
#include "api/authn.h"
#include "http/server.h"
#include "util/log.h"

typedef struct worker {
    int idx;
    pthread_t tid;
    int fd; /* listening socket */
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    store_conn *conn;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t done_rx; /* write completions */
    h2o_multithread_receiver_t stop_rx; /* shutdown request */
    h2o_timeout_t tick;
    h2o_timeout_entry_t tick_entry;
    size_t inflight;
    volatile int stopping;
    int started; /* 1 ok, -1 failed */
} worker;

typedef struct handler {
    h2o_handler_t super;
    const app *app;
    store *st;
    const authn *authn;
    struct mfa *mfa;
} handler;

typedef struct reqctx {
    rq r; /* first: the API layer's view */
    h2o_req_t *req; /* NULL once h2o has disposed of the request */
    worker *w;
    int refs;
    bool responded;
    h2o_multithread_message_t msg;
    /* the one piece of work off the loop this request waits for */
    store_write *job;
    void (*cb)(rq *r, store_write *w);
    pwjob *hjob;
    void (*hcb)(rq *r, pwjob *j);
} reqctx;

static h2o_globalconf_t config;
static worker *workers;
static int n_workers;

/* ---- request lifetime ------------------------------------------------ */

static void ctx_unref(reqctx *c)
{
    if (--c->refs == 0) {
        arena_free(c->r.a);
        free(c);
    }
}

static void on_req_dispose(void *p)
{
    reqctx *c = *(reqctx **)p;
    if (!c->responded)
        c->w->inflight--; /* client went away before the answer */
    c->req = NULL;
    ctx_unref(c);
}

void rq_header(rq *r, const char *name, const char *value)
{
    reqctx *c = (reqctx *)r;
    if (!c->req)
        return;
    h2o_add_header_by_str(&c->req->pool, &c->req->res.headers, name, strlen(name), 0, NULL, value,
                          strlen(value));
}

void rq_respond(rq *r, int status, const char *reason, const char *ctype, const buf *body)
{
    static h2o_generator_t generator = {NULL, NULL};
    reqctx *c = (reqctx *)r;
    h2o_req_t *req = c->req;
    if (!req || c->responded)
        return;
    c->responded = true;
    c->w->inflight--;
    req->res.status = status;
    req->res.reason = reason;
    if (ctype)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    if (r->version > 0) {
        char v[16];
        int vl = snprintf(v, sizeof v, "%d", r->version);
        h2o_iovec_t vs = h2o_strdup(&req->pool, v, (size_t)vl);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-api-version"), 0, NULL, vs.base, vs.len);
    }
    h2o_iovec_t iov = h2o_iovec_init(body ? body->data : NULL, body ? body->len : 0);
    req->res.content_length = iov.len;
    if (log_threshold >= LOG_INFO) {
        struct timeval now;
        gettimeofday(&now, NULL);
        long long us = (now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1000000LL +
                       (now.tv_usec - req->timestamps.request_begin_at.tv_usec);
        log_request(req->method.base, req->method.len, req->path_normalized.base,
                    req->path_normalized.len, status, us, iov.len);
    }
    h2o_start_response(req, &generator);
    /* libh2o 2.2 sends whatever body it is given, HEAD or not: a HEAD
     * answer states the length and carries no bytes. */
    bool head = r->method == M_HEAD;
    h2o_send(req, &iov, iov.len && !head ? 1 : 0, H2O_SEND_STATE_FINAL);
}

const char *rq_req_header(const rq *r, const char *name, size_t *len)
{
    const reqctx *c = (const reqctx *)r;
    if (!c->req)
        return NULL;
    ssize_t i = h2o_find_header_by_str(&c->req->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    *len = c->req->headers.entries[i].value.len;
    return c->req->headers.entries[i].value.base;
}

bool rq_tls(const rq *r)
{
    const reqctx *c = (const reqctx *)r;
    return c->req && c->req->input.scheme == &H2O_URL_SCHEME_HTTPS;
}

/* Runs on the writer or a hashing thread: hand the request back to its
 * loop, where on_done_messages continues it. Nothing else may happen here. */
static void post_back(reqctx *c) { h2o_multithread_send_message(&c->w->done_rx, &c->msg); }

static void job_done(store_write *job) { post_back(job->user); }

rd_err rq_write(rq *r, store_write *job, void (*cb)(rq *r, store_write *w))
{
    reqctx *c = (reqctx *)r;
    job->done = job_done;
    job->user = c;
    c->job = job;
    c->cb = cb;
    c->refs++; /* the job holds the arena until it comes back */
    rd_err e = store_submit(r->store, job);
    if (e != RD_OK)
        c->refs--;
    return e;
}

static void hash_done(pwjob *j) { post_back(j->user); }

rd_err rq_hash(rq *r, pwjob *j, void (*cb)(rq *r, pwjob *j))
{
    reqctx *c = (reqctx *)r;
    j->done = hash_done;
    j->user = c;
    c->hjob = j;
    c->hcb = cb;
    c->refs++;
    rd_err e = r->authn ? pwpool_submit(authn_pool(r->authn), j) : RD_INTERNAL;
    if (e != RD_OK) {
        c->refs--;
        c->hjob = NULL;
    }
    return e;
}

static void on_done_messages(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        reqctx *c = H2O_STRUCT_FROM_MEMBER(reqctx, msg, m);
        /* take the job first: the callback may start the next one */
        pwjob *hj = c->hjob;
        store_write *sw = c->job;
        c->hjob = NULL;
        c->job = NULL;
        if (c->req) {
            if (hj)
                c->hcb(&c->r, hj);
            else
                c->cb(&c->r, sw);
        }
        ctx_unref(c);
    }
}

static const struct {
    const char *name;
    size_t len;
    rq_method m;
} methods[] = {
    {"GET", 3, M_GET},     {"HEAD", 4, M_HEAD},     {"POST", 4, M_POST},       {"PUT", 3, M_PUT},
    {"PATCH", 5, M_PATCH}, {"DELETE", 6, M_DELETE}, {"OPTIONS", 7, M_OPTIONS},
};

static rq_method method_of(h2o_iovec_t m)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (m.len == methods[i].len && memcmp(m.base, methods[i].name, m.len) == 0)
            return methods[i].m;
    return M_OTHER;
}

/* The client's address as text, for throttling and logs. */
static const char *peer_text(h2o_req_t *req, arena *a)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    char host[INET6_ADDRSTRLEN] = "";
    if (len && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    else if (len && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    return arena_strdup(a, host);
}

static size_t header_bytes(const h2o_req_t *req)
{
    size_t n = 0;
    for (size_t i = 0; i < req->headers.size; i++)
        n += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return n;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    handler *h = (handler *)self;
    worker *w = H2O_STRUCT_FROM_MEMBER(worker, ctx, req->conn->ctx);
    reqctx *c = xcalloc(1, sizeof *c);
    c->req = req;
    c->w = w;
    c->refs = 1;
    *(reqctx **)h2o_mem_alloc_shared(&req->pool, sizeof(reqctx *), on_req_dispose) = c;
    w->inflight++;

    rq *r = &c->r;
    r->a = arena_new();
    r->app = h->app;
    r->store = h->st;
    r->conn = w->conn;
    r->method = method_of(req->method);
    r->path = req->path_normalized.base;
    r->path_len = req->path_normalized.len;
    if (req->query_at != SIZE_MAX) {
        r->query = req->path.base + req->query_at + 1;
        r->query_len = req->path.len - req->query_at - 1;
    }
    if (req->entity.base) {
        r->body = req->entity.base;
        r->body_len = req->entity.len;
    }
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i >= 0) {
        r->content_type = req->headers.entries[i].value.base;
        r->content_type_len = req->headers.entries[i].value.len;
    }
    i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT, -1);
    if (i >= 0) {
        r->accept = req->headers.entries[i].value.base;
        r->accept_len = req->headers.entries[i].value.len;
    }
    i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i >= 0) {
        r->authorization = req->headers.entries[i].value.base;
        r->authorization_len = req->headers.entries[i].value.len;
    }
    r->authn = h->authn;
    r->mfa = h->mfa;
    r->peer = peer_text(req, r->a);
    i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-api-version"), -1);
    if (i >= 0) {
        r->api_version_hdr = req->headers.entries[i].value.base;
        r->api_version_hdr_len = req->headers.entries[i].value.len;
    }
    if (header_bytes(req) > RD_MAX_HEADER_BYTES) {
        req->http1_is_persistent = 0;
        problem_send(r, RD_HEADERS,
                     arena_printf(r->a, "request headers exceed %d bytes", RD_MAX_HEADER_BYTES), NULL);
        return 0;
    }
    api_handle(r);
    return 0;
}

/* ---- loops ----------------------------------------------------------- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
    worker *w = listener->data;
    if (err)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock)
        h2o_accept(&w->accept_ctx, sock);
}

static void on_stop(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    worker *w = H2O_STRUCT_FROM_MEMBER(worker, stop_rx, rx);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        free(m);
    }
    w->stopping = 1;
}

static void on_tick(h2o_timeout_entry_t *e)
{
    worker *w = H2O_STRUCT_FROM_MEMBER(worker, tick_entry, e);
    log_flush();
    h2o_timeout_link(w->ctx.loop, &w->tick, &w->tick_entry);
}

static int open_listener(const char *host, unsigned short port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    h2o_context_init(&w->ctx, h2o_evloop_create(), &config);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = config.hosts;
    w->queue = h2o_multithread_create_queue(w->ctx.loop);
    h2o_multithread_register_receiver(w->queue, &w->done_rx, on_done_messages);
    h2o_multithread_register_receiver(w->queue, &w->stop_rx, on_stop);
    h2o_timeout_init(w->ctx.loop, &w->tick, 200);
    w->tick_entry.cb = on_tick;
    h2o_timeout_link(w->ctx.loop, &w->tick, &w->tick_entry);
    w->listener = h2o_evloop_socket_create(w->ctx.loop, w->fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);
    __atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);

    while (!w->stopping)
        h2o_evloop_run(w->ctx.loop, INT32_MAX);

    /* Stop accepting, close idle keep-alive connections, and let requests
     * in flight finish, within the grace period. */
    h2o_context_request_shutdown(&w->ctx);
    h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    w->listener = NULL;
    /* A request counts as in flight from the moment its handler runs; one
     * whose head or body is still arriving is invisible to us, so open
     * connections get RD_SHUTDOWN_LINGER_MS to deliver theirs (idle
     * keep-alive connections look the same and would otherwise hold the
     * exit for the whole grace period). */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long ms = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
        bool conns = !h2o_linklist_is_empty(&w->ctx.http1._conns);
        if (!w->inflight && (!conns || ms >= RD_SHUTDOWN_LINGER_MS))
            break;
        if (ms >= RD_SHUTDOWN_GRACE_SEC * 1000LL) {
            log_warn("msg=\"shutdown grace expired\" worker=%d inflight=%zu", w->idx, w->inflight);
            break;
        }
        h2o_evloop_run(w->ctx.loop, 50);
    }
    /* Let the last responses reach their sockets. */
    for (int i = 0; i < 5; i++)
        h2o_evloop_run(w->ctx.loop, 10);
    log_flush();
    arena_spares_release();
    return NULL;
}

int server_run(const server_opts *o, const app *ap, store *st)
{
    h2o_config_init(&config);
    config.max_request_entity_size = ap->max_body;
    config.server_name = h2o_iovec_init(H2O_STRLIT("restd"));
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    handler *h = (handler *)h2o_create_handler(path, sizeof *h);
    h->super.on_req = on_req;
    h->app = ap;
    h->st = st;
    h->authn = o->authn;
    h->mfa = o->mfa;

    n_workers = o->workers;
    workers = xcalloc((size_t)n_workers, sizeof *workers);
    int rc = 0;
    int started = 0;
    for (int i = 0; i < n_workers; i++) {
        worker *w = &workers[i];
        w->idx = i;
        w->fd = open_listener(o->host, o->port);
        w->conn = w->fd >= 0 ? store_conn_open(st) : NULL;
        if (w->fd < 0 || !w->conn) {
            log_error("msg=\"cannot listen\" host=%s port=%u err=\"%s\"", o->host, o->port,
                      w->fd < 0 ? strerror(errno) : "database");
            if (w->fd >= 0)
                close(w->fd);
            rc = 1;
            break;
        }
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            store_conn_close(w->conn);
            close(w->fd);
            rc = 1;
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        while (!__atomic_load_n(&workers[i].started, __ATOMIC_ACQUIRE))
            usleep(1000);
    if (rc == 0) {
        log_info("msg=listening url=http://%s%s%s:%u%s workers=%d", strchr(o->host, ':') ? "[" : "", o->host,
                 strchr(o->host, ':') ? "]" : "", o->port, ap->base_path, n_workers);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        int sig = 0;
        sigwait(&set, &sig);
        log_info("msg=\"shutting down\" signal=%s", sig == SIGTERM ? "TERM" : "INT");
    }
    for (int i = 0; i < started; i++) {
        h2o_multithread_message_t *m = xcalloc(1, sizeof *m);
        h2o_multithread_send_message(&workers[i].stop_rx, m);
    }
    /* The h2o contexts are left as they are: libh2o 2.2 asserts when a
     * context is disposed while connections (closing keep-alives, the
     * graceful-shutdown timer) still hold timeouts, and the process is about
     * to exit anyway. They stay reachable through `workers`. The database
     * side, which matters, is closed properly by the caller. */
    for (int i = 0; i < started; i++) {
        pthread_join(workers[i].tid, NULL);
        store_conn_close(workers[i].conn);
        workers[i].conn = NULL;
    }
    log_flush();
    return rc;
}
