/*
 * Outgoing mail over SMTP (libcurl), for one-time codes and password-reset
 * tokens.
 *
 * One sender per process, configured at start (--smtp-url / --mail-from).
 * mail_send copies the message into a bounded queue and returns at once; a
 * single worker thread hands each message to the SMTP server. An event loop
 * therefore never waits on the network, and a slow or dead mail server
 * costs at most MAIL_MAX_QUEUE queued messages: past that mail_send refuses
 * and the caller logs the loss (the HTTP answer never depends on it, so an
 * attacker learns nothing from a full queue).
 *
 * Headers are built here from fixed names; every value that reaches a
 * header (recipient, subject) is refused when it holds CR, LF or any other
 * control character, so user data cannot add a header or a recipient.
 *
 * Thread rules: mail_new and mail_free on the main thread (start-up and
 * shutdown); mail_send from any thread.
 */
#ifndef RESTD_AUTH_MAIL_H
#define RESTD_AUTH_MAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Messages waiting or being sent, at most: a few minutes of a busy site's
 * codes; more means the mail server is down and queuing helps no one. */
#define MAIL_MAX_QUEUE 256
/* Longest address (RFC 5321 §4.5.3.1.3 path limit, less the brackets). */
#define MAIL_MAX_ADDRESS 254
#define MAIL_MAX_SUBJECT 200
#define MAIL_MAX_BODY 8192
/* One SMTP exchange, connection included, may take this long. */
#define MAIL_TIMEOUT_SEC 30
/* At shutdown, queued mail gets this long in all; the rest is dropped
 * (logged), so a dead mail server cannot hold a stopping server. */
#define MAIL_DRAIN_SEC 5

typedef struct mailer mailer;

/*
 * A sender for smtp_url ("smtp://host:port", "smtps://...", with optional
 * user:password@) using from as the envelope and From: address. Starts the
 * worker thread. NULL with *msg (heap, caller frees) when the URL is not
 * smtp/smtps, from is not a plain address, or the thread cannot start.
 */
mailer *mail_new(const char *smtp_url, const char *from, char **msg);

/* Send what is queued (within MAIL_DRAIN_SEC in all; the rest is dropped
 * and logged), stop the worker and free. NULL is a no-op. */
void mail_free(mailer *m);

/*
 * Queue one plain-text message (UTF-8 body; lines end in \n or \r\n).
 * Everything is copied. RD_BAD_REQUEST when to is not a plain address or
 * subject holds a control character or non-ASCII byte, or a part is over
 * its limit; RD_UNAVAILABLE when the queue is full or the sender stops.
 * Delivery failures happen later and are only logged.
 */
rd_err mail_send(mailer *m, const char *to, const char *subject, const char *body);

/* Whether s is a plain address fit for an envelope and a header:
 * local@domain, 3..MAIL_MAX_ADDRESS bytes of visible ASCII, one '@', none
 * of  <>()[],;:\"  and no space or control character. */
bool mail_address_ok(const char *s);

/* Messages the worker handed to the server successfully / failed to; for
 * logs and tests. */
unsigned long mail_sent(mailer *m);
unsigned long mail_failed(mailer *m);

#endif
