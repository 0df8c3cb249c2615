/* Unit tests for the SMTP sender (src/auth/mail.c): address and subject
 * checks, option checks, and one real delivery to a minimal SMTP
 * responder on loopback run in a thread here, whose captured DATA shows
 * the headers and the CRLF line ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/mail.h"

static void addresses(void **state)
{
    assert_true(mail_address_ok("ann@example.com"));
    assert_true(mail_address_ok("a.b+tag@sub.example.org"));
    assert_false(mail_address_ok(NULL));
    assert_false(mail_address_ok(""));
    assert_false(mail_address_ok("ann"));
    assert_false(mail_address_ok("@example.com"));
    assert_false(mail_address_ok("ann@"));
    assert_false(mail_address_ok("a@b@c"));
    assert_false(mail_address_ok("ann@example.com\r\nBcc: x@example.com"));
    assert_false(mail_address_ok("ann@example.com\n"));
    assert_false(mail_address_ok("ann smith@example.com"));
    assert_false(mail_address_ok("<ann@example.com>"));
    assert_false(mail_address_ok("ann@example.com>,x@y.z"));
    assert_false(mail_address_ok("\"ann\"@example.com"));
    assert_false(mail_address_ok("ann@exämple.com"));
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big + 200, "@example.com", 12);
    big[sizeof big - 1] = '\0';
    assert_false(mail_address_ok(big));
}

static void options(void **state)
{
    char *msg = NULL;
    assert_null(mail_new("http://127.0.0.1:25", "a@example.com", &msg));
    assert_non_null(strstr(msg, "smtp://"));
    free(msg);
    msg = NULL;
    assert_null(mail_new("smtp://127.0.0.1:25\r\nX", "a@example.com", &msg));
    free(msg);
    msg = NULL;
    assert_null(mail_new("smtp://127.0.0.1:25", "not an address", &msg));
    assert_non_null(strstr(msg, "From"));
    free(msg);
    mail_free(NULL);
}

static void refusals_without_a_sender(void **state)
{
    assert_int_equal(mail_send(NULL, "a@example.com", "hi", "body"), RD_UNAVAILABLE);
    assert_int_equal(mail_send(NULL, "a@example.com\r\nBcc: b@example.com", "hi", "body"), RD_BAD_REQUEST);
    assert_int_equal(mail_send(NULL, "a@example.com", "hi\r\nBcc: b@example.com", "body"), RD_BAD_REQUEST);
    assert_int_equal(mail_send(NULL, "a@example.com", "héllo", "body"), RD_BAD_REQUEST);
    char *body = malloc(MAIL_MAX_BODY + 2);
    memset(body, 'x', MAIL_MAX_BODY + 1);
    body[MAIL_MAX_BODY + 1] = '\0';
    assert_int_equal(mail_send(NULL, "a@example.com", "hi", body), RD_BAD_REQUEST);
    free(body);
}

/* ---- a minimal SMTP responder ------------------------------------------ */

typedef struct fake {
    int lfd;
    unsigned short port;
    char data[8192];
    size_t data_len;
    char rcpt[256];
    char from[256];
} fake;

static void say(int fd, const char *s) { (void)!write(fd, s, strlen(s)); }

/* One line (CRLF stripped) into line; false at EOF. */
static bool read_line(int fd, char *line, size_t cap)
{
    size_t n = 0;
    char c;
    while (read(fd, &c, 1) == 1) {
        if (c == '\n') {
            if (n && line[n - 1] == '\r')
                n--;
            line[n] = '\0';
            return true;
        }
        if (n + 1 < cap)
            line[n++] = c;
    }
    return false;
}

static void *serve(void *arg)
{
    fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    say(fd, "220 fake ESMTP\r\n");
    char line[1024];
    while (read_line(fd, line, sizeof line)) {
        if (strncmp(line, "EHLO", 4) == 0 || strncmp(line, "HELO", 4) == 0) {
            say(fd, "250 fake\r\n");
        } else if (strncmp(line, "MAIL FROM:", 10) == 0) {
            snprintf(f->from, sizeof f->from, "%.200s", line + 10);
            say(fd, "250 ok\r\n");
        } else if (strncmp(line, "RCPT TO:", 8) == 0) {
            snprintf(f->rcpt, sizeof f->rcpt, "%.200s", line + 8);
            say(fd, "250 ok\r\n");
        } else if (strcmp(line, "DATA") == 0) {
            say(fd, "354 go on\r\n");
            while (read_line(fd, line, sizeof line) && strcmp(line, ".") != 0) {
                size_t n = strlen(line);
                if (f->data_len + n + 2 < sizeof f->data) {
                    memcpy(f->data + f->data_len, line, n);
                    memcpy(f->data + f->data_len + n, "\r\n", 2);
                    f->data_len += n + 2;
                }
            }
            f->data[f->data_len] = '\0';
            say(fd, "250 queued\r\n");
        } else if (strcmp(line, "QUIT") == 0) {
            say(fd, "221 bye\r\n");
            break;
        } else {
            say(fd, "502 no\r\n");
        }
    }
    close(fd);
    return NULL;
}

static void delivers_one_message(void **state)
{
    fake f = {0};
    f.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(f.lfd, (struct sockaddr *)&sa, &sl);
    assert_int_equal(listen(f.lfd, 1), 0);
    pthread_t th;
    pthread_create(&th, NULL, serve, &f);

    char url[64], *msg = NULL;
    snprintf(url, sizeof url, "smtp://127.0.0.1:%u", ntohs(sa.sin_port));
    mailer *m = mail_new(url, "restd@example.com", &msg);
    assert_non_null(m);
    assert_int_equal(mail_send(m, "ann@example.com", "Your code", "line one\nline two\r\n.dot line\n"), RD_OK);
    mail_free(m); /* sends what is queued first */
    pthread_join(th, NULL);
    close(f.lfd);

    assert_string_equal(f.from, "<restd@example.com>");
    assert_string_equal(f.rcpt, "<ann@example.com>");
    assert_non_null(strstr(f.data, "From: <restd@example.com>\r\n"));
    assert_non_null(strstr(f.data, "To: <ann@example.com>\r\n"));
    assert_non_null(strstr(f.data, "Subject: Your code\r\n"));
    assert_non_null(strstr(f.data, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(f.data, "Message-ID: <"));
    /* bare LF became CRLF; the leading dot is stuffed on the wire (so the
     * responder, which does not unstuff, sees two) */
    assert_non_null(strstr(f.data, "\r\n\r\nline one\r\nline two\r\n..dot line\r\n"));
}

/* A server that takes the connection and never says a word: shutdown
 * still ends within MAIL_DRAIN_SEC, and the unsent mail is counted. */
static void shutdown_is_bounded_by_a_silent_server(void **state)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    assert_int_equal(listen(lfd, 8), 0); /* never accepted: the kernel completes the handshake */
    char url[64], *msg = NULL;
    snprintf(url, sizeof url, "smtp://127.0.0.1:%u", ntohs(sa.sin_port));
    mailer *m = mail_new(url, "restd@example.com", &msg);
    assert_non_null(m);
    for (int i = 0; i < 3; i++)
        assert_int_equal(mail_send(m, "ann@example.com", "code", "123456"), RD_OK);
    /* let the worker take the first mail with its full budget, so the
     * bound must also cut off a delivery already in flight */
    nanosleep(&(struct timespec){.tv_nsec = 500 * 1000 * 1000}, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(mail_sent(m), 0);
    mail_free(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec <= MAIL_DRAIN_SEC + 2);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses),
        cmocka_unit_test(options),
        cmocka_unit_test(refusals_without_a_sender),
        cmocka_unit_test(delivers_one_message),
        cmocka_unit_test(shutdown_is_bounded_by_a_silent_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
