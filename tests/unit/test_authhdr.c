/* Unit tests for the authentication header readers (src/api/authhdr.c):
 * Cookie headers, `credentials u:<login> pwd:<password>` and
 * X-Forwarded-Proto; well-formed values, the odd spacing clients and
 * proxies produce, and hostile ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/authhdr.h"
#include "auth/pwhash.h"
#include "rd_limits.h"

static authhdr_result find(const char *hdr, const char *name, char *out)
{
    const char *v = NULL;
    size_t n = 0;
    authhdr_result r = authhdr_cookie(hdr, strlen(hdr), name, &v, &n);
    if (r == AUTHHDR_FOUND) {
        memcpy(out, v, n);
        out[n] = 0;
    }
    return r;
}

static void finds_a_cookie_among_others(void **state)
{
    char v[256];
    assert_int_equal(find("a=1; sid=abc.def; b=2", "sid", v), AUTHHDR_FOUND);
    assert_string_equal(v, "abc.def");
    assert_int_equal(find("sid=x", "sid", v), AUTHHDR_FOUND);
    assert_string_equal(v, "x");
    assert_int_equal(find("a=1;sid=y;b", "sid", v), AUTHHDR_FOUND); /* no spaces, a bare word */
    assert_string_equal(v, "y");
    assert_int_equal(find("  sid = \"quoted\" ;", "sid", v), AUTHHDR_FOUND);
    assert_string_equal(v, "quoted");
    assert_int_equal(find("sid=", "sid", v), AUTHHDR_FOUND); /* empty: the caller refuses it */
    assert_string_equal(v, "");
    assert_int_equal(find("sid=a=b", "sid", v), AUTHHDR_FOUND); /* '=' inside a value */
    assert_string_equal(v, "a=b");
}

static void names_match_exactly(void **state)
{
    char v[16];
    assert_int_equal(find("SID=1; xsid=2; sid2=3", "sid", v), AUTHHDR_ABSENT);
    assert_int_equal(find("", "sid", v), AUTHHDR_ABSENT);
    assert_int_equal(find(";;; ; =x; =; sid", "sid", v), AUTHHDR_ABSENT);
}

static void a_name_given_twice_is_refused(void **state)
{
    char v[16];
    assert_int_equal(find("sid=1; sid=2", "sid", v), AUTHHDR_REFUSED);
    assert_int_equal(find("sid=1; a=2; sid=1", "sid", v), AUTHHDR_REFUSED);
}

static void oversized_headers_are_refused(void **state)
{
    char v[16];
    size_t n = RD_MAX_COOKIE_HEADER + 1;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    memcpy(big, "sid=1;", 6);
    big[n] = 0;
    assert_int_equal(find(big, "sid", v), AUTHHDR_REFUSED);
    /* many tiny pairs: walking stops at the pair limit */
    size_t m = 0;
    for (int i = 0; i <= RD_MAX_COOKIE_PAIRS; i++)
        big[m++] = ';';
    memcpy(big + m, "sid=1", 6);
    assert_int_equal(find(big, "sid", v), AUTHHDR_REFUSED);
    free(big);
    const char *val = NULL;
    size_t vl = 0;
    assert_int_equal(authhdr_cookie(NULL, 0, "sid", &val, &vl), AUTHHDR_REFUSED);
}

static void values_are_slices_not_copies(void **state)
{
    /* no NUL terminator needed: the length bounds the walk */
    const char hdr[] = {'s', 'i', 'd', '=', 'v', 'x'};
    const char *val = NULL;
    size_t vl = 0;
    assert_int_equal(authhdr_cookie(hdr, 5, "sid", &val, &vl), AUTHHDR_FOUND);
    assert_ptr_equal(val, hdr + 4);
    assert_int_equal(vl, 1);
}

/* login and password of a credentials value, or false */
static bool creds(const char *arg, char *login, char *pw)
{
    const char *l = NULL, *p = NULL;
    size_t ll = 0, pl = 0;
    if (!authhdr_credentials(arg, strlen(arg), 16, 32, &l, &ll, &p, &pl))
        return false;
    memcpy(login, l, ll);
    login[ll] = 0;
    memcpy(pw, p, pl);
    pw[pl] = 0;
    return true;
}

static void credentials_split_login_and_password(void **state)
{
    char l[64], p[64];
    assert_true(creds("u:j.t.kirk pwd:P@$$w0rd", l, p));
    assert_string_equal(l, "j.t.kirk");
    assert_string_equal(p, "P@$$w0rd");
    assert_true(creds("U:ann PWD:x", l, p)); /* the markers in any case */
    assert_string_equal(l, "ann");
    assert_string_equal(p, "x");
    /* the password is the rest as sent: spaces, and " pwd:" itself */
    assert_true(creds("u:ann pwd: a pwd:b ", l, p));
    assert_string_equal(l, "ann");
    assert_string_equal(p, " a pwd:b ");
    /* a login holds no " pwd:", but may hold spaces */
    assert_true(creds("u:Ann Lee pwd:x", l, p));
    assert_string_equal(l, "Ann Lee");
}

static void credentials_refuse_what_they_cannot_read(void **state)
{
    char l[64], p[64];
    static const char *const bad[] = {
        "", "u", "u:", "u:ann", "u:ann pwd:", "u: pwd:x", "pwd:x u:ann", "user:ann pwd:x", "u:ann\tpwd:x",
        "u:annpwd:x", " u:ann pwd:x", "u:ann pwd", "u:0123456789abcdefX pwd:x", /* login over 16 */
        "u:ann pwd:0123456789abcdef0123456789abcdefX",                      /* password over 32 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (creds(bad[i], l, p))
            fail_msg("accepted '%s'", bad[i]);
    const char nul[] = "u:a\0b pwd:x";
    const char *lo = NULL, *pw = NULL;
    size_t ll = 0, pl = 0;
    assert_false(authhdr_credentials(nul, sizeof nul - 1, 16, 32, &lo, &ll, &pw, &pl));
    /* limits are inclusive */
    assert_true(creds("u:0123456789abcdef pwd:0123456789abcdef0123456789abcdef", l, p));
}

static void forwarded_proto_first_hop(void **state)
{
#define FH(s) authhdr_forwarded_https(s, strlen(s))
    assert_true(FH("https"));
    assert_true(FH("HTTPS"));
    assert_true(FH(" https , http"));
    assert_true(FH("https,https"));
    assert_false(FH("http"));
    assert_false(FH("http, https")); /* the client's hop is the first */
    assert_false(FH("httpsx"));
    assert_false(FH(""));
    assert_false(FH(","));
    assert_true(authhdr_forwarded_https("httpsx", 5)); /* n bounds the read */
#undef FH
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_a_cookie_among_others),
        cmocka_unit_test(names_match_exactly),
        cmocka_unit_test(a_name_given_twice_is_refused),
        cmocka_unit_test(oversized_headers_are_refused),
        cmocka_unit_test(values_are_slices_not_copies),
        cmocka_unit_test(credentials_split_login_and_password),
        cmocka_unit_test(credentials_refuse_what_they_cannot_read),
        cmocka_unit_test(forwarded_proto_first_hop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
