/*
 * The HTTP server: libh2o's event loop, one loop thread per worker, each
 * with its own listening socket on the shared port (SO_REUSEPORT) and its
 * own read connection to the store. Runs until SIGTERM or SIGINT, then
 * stops accepting, lets in-flight requests finish (bounded wait), and
 * returns.
 */
#ifndef RESTD_SERVER_H
#define RESTD_SERVER_H

#include "app/app.h"
#include "store/store.h"

struct authn;
struct mfa;

typedef struct server_opts {
    const char *host;
    unsigned short port;
    int workers;
    const struct authn *authn; /* NULL when the app has no auth */
    struct mfa *mfa;           /* NULL when the app has no auth */
} server_opts;

/* Returns 0 after a clean shutdown, non-zero if it could not start (the
 * reason is logged). Blocks the calling thread; SIGTERM/SIGINT/SIGPIPE
 * must be blocked by the caller before any thread starts. */
int server_run(const server_opts *o, const app *app, store *st);

#endif
