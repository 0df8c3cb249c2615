/* Unit tests for the Cookie header reader (src/api/cookie.c): well-formed
 * headers, the odd spacing browsers and proxies produce, and hostile ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/cookie.h"
#include "rd_limits.h"

static cookie_result find(const char *hdr, const char *name, char *out)
{
    const char *v = NULL;
    size_t n = 0;
    cookie_result r = cookie_find(hdr, strlen(hdr), name, &v, &n);
    if (r == COOKIE_FOUND) {
        memcpy(out, v, n);
        out[n] = 0;
    }
    return r;
}

static void finds_a_cookie_among_others(void **state)
{
    char v[256];
    assert_int_equal(find("a=1; sid=abc.def; b=2", "sid", v), COOKIE_FOUND);
    assert_string_equal(v, "abc.def");
    assert_int_equal(find("sid=x", "sid", v), COOKIE_FOUND);
    assert_string_equal(v, "x");
    assert_int_equal(find("a=1;sid=y;b", "sid", v), COOKIE_FOUND); /* no spaces, a bare word */
    assert_string_equal(v, "y");
    assert_int_equal(find("  sid = \"quoted\" ;", "sid", v), COOKIE_FOUND);
    assert_string_equal(v, "quoted");
    assert_int_equal(find("sid=", "sid", v), COOKIE_FOUND); /* empty: the caller refuses it */
    assert_string_equal(v, "");
    assert_int_equal(find("sid=a=b", "sid", v), COOKIE_FOUND); /* '=' inside a value */
    assert_string_equal(v, "a=b");
}

static void names_match_exactly(void **state)
{
    char v[16];
    assert_int_equal(find("SID=1; xsid=2; sid2=3", "sid", v), COOKIE_ABSENT);
    assert_int_equal(find("", "sid", v), COOKIE_ABSENT);
    assert_int_equal(find(";;; ; =x; =; sid", "sid", v), COOKIE_ABSENT);
}

static void a_name_given_twice_is_refused(void **state)
{
    char v[16];
    assert_int_equal(find("sid=1; sid=2", "sid", v), COOKIE_REFUSED);
    assert_int_equal(find("sid=1; a=2; sid=1", "sid", v), COOKIE_REFUSED);
}

static void oversized_headers_are_refused(void **state)
{
    char v[16];
    size_t n = RD_MAX_COOKIE_HEADER + 1;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    memcpy(big, "sid=1;", 6);
    big[n] = 0;
    assert_int_equal(find(big, "sid", v), COOKIE_REFUSED);
    /* many tiny pairs: walking stops at the pair limit */
    size_t m = 0;
    for (int i = 0; i <= RD_MAX_COOKIE_PAIRS; i++)
        big[m++] = ';';
    memcpy(big + m, "sid=1", 6);
    assert_int_equal(find(big, "sid", v), COOKIE_REFUSED);
    free(big);
    const char *val = NULL;
    size_t vl = 0;
    assert_int_equal(cookie_find(NULL, 0, "sid", &val, &vl), COOKIE_REFUSED);
}

static void values_are_slices_not_copies(void **state)
{
    /* no NUL terminator needed: the length bounds the walk */
    const char hdr[] = {'s', 'i', 'd', '=', 'v', 'x'};
    const char *val = NULL;
    size_t vl = 0;
    assert_int_equal(cookie_find(hdr, 5, "sid", &val, &vl), COOKIE_FOUND);
    assert_ptr_equal(val, hdr + 4);
    assert_int_equal(vl, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_a_cookie_among_others),
        cmocka_unit_test(names_match_exactly),
        cmocka_unit_test(a_name_given_twice_is_refused),
        cmocka_unit_test(oversized_headers_are_refused),
        cmocka_unit_test(values_are_slices_not_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
