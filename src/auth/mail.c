/*
 * SMTP sender: a bounded queue and one worker thread driving libcurl's
 * SMTP client. See mail.h.
 */
#include "auth/mail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/log.h"
#include "util/mem.h"
#include "util/workq.h"

/* One queued message: the full text (headers and body, CRLF lines) and
 * the recipient, in one heap block the worker frees. */
typedef struct mail_msg {
    workq_link link;
    char to[MAIL_MAX_ADDRESS + 1];
    size_t len, sent; /* bytes of text; bytes handed to curl so far */
    char text[];
} mail_msg;

struct mailer {
    char *url, *from;
    workq q;
    pthread_t thread;
    bool started;
    atomic_ulong ok, failed;
    atomic_llong deadline; /* 0, or when shutting down: drop what is not sent by then */
};

bool mail_address_ok(const char *s)
{
    size_t n = s ? strnlen(s, MAIL_MAX_ADDRESS + 1) : 0;
    if (n < 3 || n > MAIL_MAX_ADDRESS)
        return false;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@'))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* visible ASCII only, and none of the characters that delimit or
         * group addresses in a header or an SMTP command */
        if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\\\"", c))
            return false;
    }
    return true;
}

/* A subject is ASCII text on one line (no encoded words needed). */
static bool subject_ok(const char *s)
{
    size_t n = strnlen(s, MAIL_MAX_SUBJECT + 1);
    if (n > MAIL_MAX_SUBJECT)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
    mail_msg *m = ud;
    size_t room = size * nmemb, left = m->len - m->sent;
    size_t n = left < room ? left : room;
    memcpy(dst, m->text + m->sent, n);
    m->sent += n;
    return n;
}

/* libcurl calls this about once a second even while a transfer waits on a
 * silent server: a delivery that began before shutdown is cut off at the
 * drain deadline too, so MAIL_DRAIN_SEC bounds mail_free whatever is in
 * flight (the per-message budget covers only messages taken later). */
static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    long long end = atomic_load(&((const mailer *)ud)->deadline);
    return end && (long long)time(NULL) >= end;
}

static void deliver(mailer *ml, mail_msg *m, long budget)
{
    CURL *c = curl_easy_init();
    if (!c) {
        atomic_fetch_add(&ml->failed, 1);
        log_error("msg=\"mail not sent\" reason=\"curl_easy_init failed\"");
        return;
    }
    char rcpt_addr[MAIL_MAX_ADDRESS + 3];
    snprintf(rcpt_addr, sizeof rcpt_addr, "<%s>", m->to);
    struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_addr);
    char from_addr[MAIL_MAX_ADDRESS + 3];
    snprintf(from_addr, sizeof from_addr, "<%s>", ml->from);
    curl_easy_setopt(c, CURLOPT_URL, ml->url);
    /* only SMTP: a URL that somehow names another scheme goes nowhere */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_addr);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, m);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, budget);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, budget < 10 ? budget : 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, ml);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    /* STARTTLS when the server offers it; smtps:// is TLS from the start */
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        atomic_fetch_add(&ml->ok, 1);
        log_info("msg=\"mail sent\" bytes=%zu", m->len);
    } else {
        atomic_fetch_add(&ml->failed, 1);
        /* the recipient is personal data: log the reason only */
        log_warn("msg=\"mail not sent\" reason=\"%s\"", curl_easy_strerror(rc));
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
}

static void *worker(void *arg)
{
    mailer *ml = arg;
    workq_link *l;
    while ((l = workq_take(&ml->q, 1))) {
        mail_msg *m = (mail_msg *)l;
        long budget = MAIL_TIMEOUT_SEC;
        long long end = atomic_load(&ml->deadline);
        if (end) { /* shutting down: what cannot go in time is dropped */
            long long left = end - (long long)time(NULL);
            budget = left < budget ? (long)left : budget;
        }
        if (budget > 0) {
            deliver(ml, m, budget);
        } else {
            atomic_fetch_add(&ml->failed, 1);
            log_warn("msg=\"mail not sent\" reason=\"shutting down\"");
        }
        sodium_memzero(m->text, m->len); /* it carries a code or a token */
        free(m);
        workq_done(&ml->q, 1);
    }
    return NULL;
}

mailer *mail_new(const char *smtp_url, const char *from, char **msg)
{
    if (!smtp_url || (strncasecmp(smtp_url, "smtp://", 7) != 0 && strncasecmp(smtp_url, "smtps://", 8) != 0) ||
        strlen(smtp_url) > 1024) {
        *msg = xstrdup("the SMTP URL must start with smtp:// or smtps:// (at most 1024 bytes)");
        return NULL;
    }
    for (const char *p = smtp_url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            *msg = xstrdup("the SMTP URL must be visible ASCII without spaces");
            return NULL;
        }
    if (!mail_address_ok(from)) {
        *msg = xstrdup("the mail From address must be a plain address like restd@example.com");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        *msg = xstrdup("cannot initialise libcurl");
        return NULL;
    }
    mailer *ml = xcalloc(1, sizeof *ml);
    ml->url = xstrdup(smtp_url);
    ml->from = xstrdup(from);
    workq_init(&ml->q, MAIL_MAX_QUEUE);
    if (pthread_create(&ml->thread, NULL, worker, ml) != 0) {
        mail_free(ml);
        *msg = xstrdup("cannot start the mail thread");
        return NULL;
    }
    ml->started = true;
    return ml;
}

void mail_free(mailer *m)
{
    if (!m)
        return;
    atomic_store(&m->deadline, (long long)time(NULL) + MAIL_DRAIN_SEC);
    workq_stop(&m->q);
    if (m->started)
        pthread_join(m->thread, NULL);
    workq_fini(&m->q);
    free(m->url);
    free(m->from);
    free(m);
    curl_global_cleanup();
}

/* Append s to the message, turning bare \n into \r\n (SMTP lines end in
 * CRLF); a lone \r is dropped. */
static bool put_lines(buf *b, const char *s)
{
    bool ok = true;
    for (; *s && ok; s++) {
        if (*s == '\r')
            continue;
        ok = *s == '\n' ? buf_puts(b, "\r\n") : buf_putc(b, *s);
    }
    return ok;
}

rd_err mail_send(mailer *ml, const char *to, const char *subject, const char *body)
{
    if (!mail_address_ok(to) || !subject_ok(subject) || strnlen(body, MAIL_MAX_BODY + 1) > MAIL_MAX_BODY)
        return RD_BAD_REQUEST;
    if (!ml)
        return RD_UNAVAILABLE;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    char mid[33];
    sodium_bin2hex(mid, sizeof mid, rnd, sizeof rnd);
    const char *domain = strchr(ml->from, '@') + 1;

    buf b;
    buf_init(&b, NULL, MAIL_MAX_BODY * 2 + 2048);
    bool ok = buf_printf(&b,
                         "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@%s>\r\n"
                         "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: 8bit\r\n\r\n",
                         date, ml->from, to, subject, mid, domain) &&
              put_lines(&b, body) && buf_puts(&b, "\r\n");
    if (!ok) {
        buf_fini(&b);
        return RD_BAD_REQUEST;
    }
    mail_msg *m = xmalloc(sizeof *m + b.len);
    memset(m, 0, sizeof *m);
    memcpy(m->text, b.data, b.len);
    m->len = b.len;
    snprintf(m->to, sizeof m->to, "%s", to);
    sodium_memzero(b.data, b.len);
    buf_fini(&b);
    if (!workq_push(&ml->q, &m->link)) {
        sodium_memzero(m->text, m->len);
        free(m);
        return RD_UNAVAILABLE;
    }
    return RD_OK;
}

unsigned long mail_sent(mailer *m) { return m ? atomic_load(&m->ok) : 0; }
unsigned long mail_failed(mailer *m) { return m ? atomic_load(&m->failed) : 0; }
